//! Export (SPEC §11): the snapshot, the stock and the ledger as CSV or XLSX, with the filters
//! of their pages and headers in the request's language, streamed a chunk of rows at a time so
//! that memory stays flat at any size.

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::db::Db;
use crate::error::AppError;
use crate::i18n::Locale;
use crate::sheet::write::{csv_headers, csv_rows, Xlsx, BOM};
use crate::sheet::{Cell, Column, Format};

pub mod api;

/// One kind of export: its columns and its rows, a chunk at a time.
pub trait Export: Send + 'static {
    /// The sheet's name, and the file's (`depot-<NAME>-<date>.csv`).
    const NAME: &'static str;

    fn columns() -> &'static [Column];

    /// The next rows; none when the export is complete.
    fn next_chunk(
        &mut self,
        db: &Db,
    ) -> impl Future<Output = Result<Vec<Vec<Cell>>, AppError>> + Send;
}

/// How many chunks may wait between the database and a slow download.
const CHUNKS_IN_FLIGHT: usize = 2;

/// The answer of an export: a file download of `format`, named for `today`. The first chunk is
/// read before answering, so a refused or failing export answers with an error, not a file;
/// a later failure ends the download early (the client sees a broken transfer, never a short
/// file that looks whole) and is logged.
pub async fn download<E: Export>(
    db: Db,
    mut export: E,
    format: Format,
    locale: Locale,
    today: chrono::NaiveDate,
) -> Result<Response, AppError> {
    let first = export.next_chunk(&db).await?;
    let headers: Vec<&'static str> = E::columns().iter().map(|c| c.header(locale)).collect();
    let body = match format {
        Format::Csv => csv_body(db, export, headers, first),
        Format::Xlsx => xlsx_body(db, export, headers, first).await?,
    };
    let filename = format!("depot-{}-{today}.{}", E::NAME, format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn failed(error: &AppError) -> std::io::Error {
    tracing::error!(%error, "export failed part-way; the download is cut short");
    std::io::Error::other("export failed")
}

/// A CSV body fed by a task that reads the next chunk while the last one is sent.
fn csv_body<E: Export>(
    db: Db,
    mut export: E,
    headers: Vec<&'static str>,
    first: Vec<Vec<Cell>>,
) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut head = BOM.to_vec();
        head.extend(csv_headers(&headers));
        head.extend(csv_rows(&first));
        if tx.send(Ok(head.into())).await.is_err() || first.is_empty() {
            return;
        }
        loop {
            let chunk = match export.next_chunk(&db).await {
                Ok(rows) if rows.is_empty() => return,
                Ok(rows) => Ok(Bytes::from(csv_rows(&rows))),
                Err(error) => Err(failed(&error)),
            };
            let stop = chunk.is_err();
            // The client went away: stop reading.
            if tx.send(chunk).await.is_err() || stop {
                return;
            }
        }
    });
    Body::from_stream(receiver_stream(rx))
}

/// An XLSX body: the workbook is written to an unnamed temporary file (its sheet a row at a
/// time, rust_xlsxwriter's constant-memory mode) on a blocking thread fed chunk by chunk, then
/// the file is streamed.
async fn xlsx_body<E: Export>(
    db: Db,
    mut export: E,
    headers: Vec<&'static str>,
    first: Vec<Vec<Cell>>,
) -> Result<Body, AppError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(CHUNKS_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let mut xlsx = Xlsx::new(E::NAME, &headers).map_err(|e| e.to_string())?;
        while let Some(rows) = rx.blocking_recv() {
            xlsx.push(&rows).map_err(|e| e.to_string())?;
        }
        let mut file = tempfile::tempfile().map_err(|e| e.to_string())?;
        xlsx.save_to(&mut file).map_err(|e| e.to_string())?;
        Ok(file)
    });
    let mut rows = first;
    while !rows.is_empty() {
        if tx.send(rows).await.is_err() {
            break;
        }
        rows = export.next_chunk(&db).await?;
    }
    drop(tx);
    let file = writer
        .await
        .map_err(|e| AppError::internal(&e))?
        .map_err(|e| AppError::internal(&std::io::Error::other(e)))?;
    use std::io::Seek;
    let mut file = file;
    file.rewind().map_err(|e| AppError::internal(&e))?;
    let file = tokio::fs::File::from_std(file);
    Ok(Body::from_stream(file_stream(file)))
}

fn receiver_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    // Fused: the compression layer may poll again after the end, which `unfold` forbids.
    futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(file)))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    // Fused: the compression layer may poll again after the end, which `unfold` forbids.
    futures_util::StreamExt::fuse(chunks)
}
