//! Writing sheets: CSV a chunk of rows at a time (UTF-8 with a BOM first, so Excel reads
//! Chinese right), and XLSX through a worksheet that keeps only the current row in memory.

use chrono::SecondsFormat;

use super::Cell;

/// The UTF-8 byte order mark: Excel takes a CSV without it for the system's code page.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `rows` as CSV lines.
pub fn csv_rows(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 64));
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row.iter().map(csv_text));
    }
    writer.into_inner().unwrap_or_default()
}

/// A header row of `headers`.
pub fn csv_headers(headers: &[&str]) -> Vec<u8> {
    let row: Vec<Cell> = headers
        .iter()
        .map(|h| Cell::Text((*h).to_owned()))
        .collect();
    csv_rows(&[row])
}

fn csv_text(cell: &Cell) -> String {
    match cell {
        // A text a spreadsheet would run as a formula is written behind a `'` (and read
        // back without it by Depot's import).
        Cell::Text(text) if text.starts_with(['=', '+', '-', '@']) => format!("'{text}"),
        Cell::Text(text) => text.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Date(date) => date.format("%Y-%m-%d").to_string(),
        Cell::Time(time) => time.to_rfc3339_opts(SecondsFormat::Secs, true),
        Cell::Empty => String::new(),
    }
}

/// An XLSX workbook of one sheet, written a chunk of rows at a time.
pub struct Xlsx {
    workbook: rust_xlsxwriter::Workbook,
    next_row: u32,
    date: rust_xlsxwriter::Format,
}

impl Xlsx {
    /// A workbook whose sheet starts with `headers` (bold, frozen).
    pub fn new(sheet_name: &str, headers: &[&str]) -> Result<Self, rust_xlsxwriter::XlsxError> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(sheet_name)?;
        for (col, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *header, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Self {
            workbook,
            next_row: 1,
            date: rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
        })
    }

    pub fn push(&mut self, rows: &[Vec<Cell>]) -> Result<(), rust_xlsxwriter::XlsxError> {
        let sheet = self.workbook.worksheet_from_index(0)?;
        for row in rows {
            for (col, cell) in row.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(text) => {
                        sheet.write_string(self.next_row, col, text)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(self.next_row, col, *n as f64)?;
                    }
                    Cell::Date(date) => {
                        sheet.write_datetime_with_format(self.next_row, col, date, &self.date)?;
                    }
                    Cell::Time(time) => {
                        sheet.write_string(
                            self.next_row,
                            col,
                            time.to_rfc3339_opts(SecondsFormat::Secs, true),
                        )?;
                    }
                    Cell::Empty => {}
                }
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// Writes the workbook to `to`.
    pub fn save_to<W: std::io::Write + std::io::Seek + Send>(
        mut self,
        to: W,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        self.workbook.save_to_writer(to)
    }
}
