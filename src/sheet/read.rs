//! Reading an uploaded sheet: CSV (UTF-8 with or without BOM, or GB18030 as Excel on Chinese
//! Windows saves it) or XLSX, into rows of values, refusing what is not a sheet Depot can read
//! in whole (too many rows, formulas, a workbook that inflates past its limits).

use std::io::Cursor;

use chrono::NaiveDate;

use super::Format;

/// The most data rows an import takes (SPEC §11).
pub const MAX_ROWS: usize = 100_000;

/// What an XLSX may inflate to in all (a 100 000-row sheet of Depot's columns is ~40 MB of
/// XML); a workbook declaring more is refused before it is read.
const MAX_XLSX_INFLATED: u64 = 256 * 1024 * 1024;
/// An XLSX part inflating more than this many times its packed size is a bomb (real sheets
/// compress 5–20 times).
const MAX_XLSX_RATIO: u64 = 200;
const MAX_XLSX_PARTS: usize = 1000;

/// A value as the sheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    /// An XLSX date cell.
    Date(NaiveDate),
    Empty,
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }
}

/// One data row: its number as a spreadsheet program shows it (the header is row 1) and its
/// values, one per header (missing trailing values are [`Value::Empty`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: usize,
    pub values: Vec<Value>,
}

/// A sheet's headers and data rows; rows with no value at all are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// Why a file cannot be read as a sheet at all (a row's problems are the importer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Neither an XLSX workbook nor text (binary data, an image, a PDF, a ZIP of other files).
    NotASheet,
    /// Text that is neither UTF-8 nor GB18030.
    Encoding,
    /// No header row.
    Empty,
    /// More than [`MAX_ROWS`] data rows.
    TooManyRows,
    /// An XLSX cell holding a formula (row, column header).
    Formula { row: usize, column: String },
    /// An XLSX whose parts would inflate past Depot's limits.
    TooLarge,
    /// A CSV line Depot cannot split into values (e.g. an unclosed quote).
    Malformed { row: usize, detail: String },
}

/// The format of `bytes`: an XLSX (a ZIP) by its signature, whatever the request said, else
/// CSV.
pub fn sniff(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else {
        Format::Csv
    }
}

/// Reads `bytes` as a sheet of `format`.
pub fn read(bytes: &[u8], format: Format) -> Result<Sheet, ReadError> {
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

/// The text of a CSV file: UTF-8 (a BOM is dropped), else GB18030; a file with NUL bytes is
/// not text.
fn decode(bytes: &[u8]) -> Result<String, ReadError> {
    if bytes.contains(&0) {
        return Err(ReadError::NotASheet);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ReadError::Encoding);
    }
    Ok(text.into_owned())
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let text = decode(bytes)?;
    // Excel writes `;` or tabs in some regions: the header line says which.
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .filter(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(text.as_bytes());
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let at = error.position().map_or(start, |p| p.byte() as usize);
                return Err(ReadError::Malformed {
                    row: lines.line_at(at),
                    detail: error.to_string(),
                });
            }
        }
        let number = lines.line_at(record.position().map_or(start, |p| p.byte() as usize));
        match &headers {
            None => {
                if record.iter().all(|v| v.trim().is_empty()) {
                    continue;
                }
                headers = Some(record.iter().map(|h| h.trim().to_owned()).collect());
            }
            Some(headers) => {
                if record.iter().all(|v| v.trim().is_empty()) {
                    continue;
                }
                if rows.len() == MAX_ROWS {
                    return Err(ReadError::TooManyRows);
                }
                let mut values: Vec<Value> = record
                    .iter()
                    .map(|v| Value::Text(unescape_formula(v).to_owned()))
                    .collect();
                values.resize(values.len().max(headers.len()), Value::Empty);
                rows.push(Row { number, values });
            }
        }
    }
    let headers = headers.ok_or(ReadError::Empty)?;
    Ok(Sheet { headers, rows })
}

/// Line numbers as an editor counts them: `\n`, `\r\n` and a lone `\r` each end a line. (The
/// csv crate counts `\n` only, so in a file with classic Mac line ends every row was "row 1".)
struct Lines<'a> {
    text: &'a [u8],
    /// Bytes counted so far, and the line the next one is on.
    counted: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            counted: 0,
            line: 1,
        }
    }

    /// The line of the record the csv crate says starts at `offset` (offsets asked in increasing
    /// order). Its offset counts the blank lines it skipped before the record, and the `\n` of
    /// a `\r\n`: the record starts after them.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut end = offset.min(self.text.len());
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        while self.counted < end {
            // A `\r\n` counts once, at its `\r`.
            match self.text[self.counted] {
                b'\r' => self.line += 1,
                b'\n' if self.counted == 0 || self.text[self.counted - 1] != b'\r' => {
                    self.line += 1
                }
                _ => {}
            }
            self.counted += 1;
        }
        self.line
    }
}

/// Depot's exports write a text that a spreadsheet would take for a formula (`=…`, `+…`, `-…`,
/// `@…`) behind a `'`; reading it back drops the `'`.
fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

/// The columns of an XLSX row Depot reads: cells further right are left out (a cell at column
/// XFD would otherwise make every row 16 384 values long).
const MAX_XLSX_COLUMNS: u32 = 256;

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ReadError> {
    use calamine::Reader;
    check_zip(bytes)?;
    let mut workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| ReadError::NotASheet)?;
    let name = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or(ReadError::Empty)?;
    // Cell by cell as the sheet stores them (rows in order), never as one dense range: a
    // sheet's two cells at A1 and XFD1048576 would ask a range for half a terabyte.
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(|_| ReadError::NotASheet)?;
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut current: Option<(u32, Vec<Value>)> = None;
    let finish = |row: Option<(u32, Vec<Value>)>,
                  headers: &mut Option<Vec<String>>,
                  rows: &mut Vec<Row>|
     -> Result<(), ReadError> {
        let Some((index, values)) = row else {
            return Ok(());
        };
        if values.iter().all(Value::is_empty) {
            return Ok(());
        }
        match headers {
            None => *headers = Some(values.iter().map(header_text).collect()),
            Some(_) => {
                if rows.len() == MAX_ROWS {
                    return Err(ReadError::TooManyRows);
                }
                rows.push(Row {
                    number: index as usize + 1,
                    values,
                });
            }
        }
        Ok(())
    };
    while let Some(cell) = cells
        .next_cell_with_formula_metadata()
        .map_err(|_| ReadError::NotASheet)?
    {
        let (row, col) = cell.pos;
        if cell.formula.is_some() {
            // Formulas are refused: their cached values may be stale, and Depot runs none.
            finish(current.take(), &mut headers, &mut rows)?;
            let column = headers
                .as_ref()
                .and_then(|h| h.get(col as usize))
                .filter(|h| !h.is_empty())
                .cloned()
                .unwrap_or_else(|| column_letters(col as usize));
            return Err(ReadError::Formula {
                row: row as usize + 1,
                column,
            });
        }
        if col >= MAX_XLSX_COLUMNS {
            continue;
        }
        if current.as_ref().is_some_and(|(r, _)| *r != row) {
            finish(current.take(), &mut headers, &mut rows)?;
        }
        let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
        let value = value_of(&calamine::Data::from(cell.value));
        if values.len() <= col as usize {
            values.resize(col as usize + 1, Value::Empty);
        }
        values[col as usize] = value;
    }
    finish(current.take(), &mut headers, &mut rows)?;
    let headers = headers.ok_or(ReadError::Empty)?;
    for row in &mut rows {
        if row.values.len() < headers.len() {
            row.values.resize(headers.len(), Value::Empty);
        }
    }
    Ok(Sheet { headers, rows })
}

fn header_text(value: &Value) -> String {
    match value {
        Value::Text(t) => t.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Empty => String::new(),
    }
}

/// Refuses a ZIP whose declared parts would inflate past Depot's limits, before any is read.
fn check_zip(bytes: &[u8]) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ReadError::NotASheet)?;
    if archive.len() > MAX_XLSX_PARTS {
        return Err(ReadError::TooLarge);
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|_| ReadError::NotASheet)?;
        let (packed, inflated) = (part.compressed_size(), part.size());
        total = total.saturating_add(inflated);
        if total > MAX_XLSX_INFLATED || inflated > packed.max(1024).saturating_mul(MAX_XLSX_RATIO) {
            return Err(ReadError::TooLarge);
        }
    }
    // The parts a workbook has: a ZIP of other files is not one.
    let has = |name: &str| archive.index_for_name(name).is_some();
    if !has("xl/workbook.xml") {
        return Err(ReadError::NotASheet);
    }
    Ok(())
}

fn value_of(cell: &calamine::Data) -> Value {
    use calamine::Data;
    match cell {
        Data::Empty => Value::Empty,
        Data::String(s) => Value::Text(s.clone()),
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::Bool(b) => Value::Text(b.to_string()),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map_or(Value::Number(dt.as_f64()), |dt| Value::Date(dt.date())),
        Data::DateTimeIso(s) => Value::Text(s.clone()),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Text(format!("#{e:?}")),
    }
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column index.
pub fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(csv: &str) -> Vec<usize> {
        read_csv(csv.as_bytes())
            .unwrap()
            .rows
            .iter()
            .map(|row| row.number)
            .collect()
    }

    #[test]
    fn rows_are_numbered_by_line_whatever_ends_the_lines() {
        assert_eq!(numbers("sku,name\nA,a\nB,b\n"), [2, 3]);
        assert_eq!(numbers("sku,name\r\nA,a\r\nB,b\r\n"), [2, 3]);
        // Classic Mac line ends: the csv crate reads the records but counted them all as line 1.
        assert_eq!(numbers("sku,name\rA,a\rB,b\r"), [2, 3]);
        // Blank lines keep their numbers, as a spreadsheet shows them.
        assert_eq!(numbers("sku,name\n\nA,a\n\nB,b"), [3, 5]);
        // A quoted cell over two lines: the next row is numbered after it.
        assert_eq!(numbers("sku,name\nA,\"two\nlines\"\nB,b"), [2, 4]);
    }

    #[test]
    fn blank_classic_mac_lines_count_too() {
        let sheet = read_csv(b"sku,name\r\r\rA,a").unwrap();
        assert_eq!(sheet.rows[0].number, 4);
        assert_eq!(numbers("sku,name\r\n\r\nA,a"), [3]);
    }
}
