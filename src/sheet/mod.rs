//! Spreadsheets in and out (SPEC §11): the column vocabulary shared by import and export, in
//! English and Chinese, and the two formats, CSV and XLSX.

use chrono::{DateTime, NaiveDate, Utc};

use crate::i18n::Locale;

pub mod read;
pub mod write;

/// One value of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(date: Option<NaiveDate>) -> Self {
        date.map_or(Cell::Empty, Cell::Date)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Cell::Empty, Cell::Text)
    }
}

/// The file formats Depot reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// The media type of an XLSX workbook.
pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    /// `csv` or `xlsx` (any case); `None` otherwise.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => XLSX_MEDIA_TYPE,
        }
    }
}

/// A column of Depot's sheets: the English header (the field's API name) and the Chinese one
/// that exports write, and further Chinese headers that imports also understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub en: &'static str,
    pub zh: &'static str,
    pub also: &'static [&'static str],
}

impl Column {
    const fn new(en: &'static str, zh: &'static str, also: &'static [&'static str]) -> Self {
        Self { en, zh, also }
    }

    /// The header an export in `locale` writes.
    pub fn header(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::en => self.en,
            _ => self.zh,
        }
    }

    /// Whether `header` (as a sheet has it: any case, spaces around) names this column.
    pub fn is_named(&self, header: &str) -> bool {
        let header = header.trim();
        header.eq_ignore_ascii_case(self.en)
            || header == self.zh
            || self.also.contains(&header)
            // `Location code`, `location-code`: as people write the English names.
            || header
                .chars()
                .map(|c| if c == ' ' || c == '-' { '_' } else { c.to_ascii_lowercase() })
                .eq(self.en.chars())
    }
}

/// The columns of Depot's sheets.
pub mod columns {
    use super::Column;

    pub const SKU: Column = Column::new("sku", "货号", &["商品编码", "商品编号", "SKU"]);
    pub const NAME: Column = Column::new("name", "品名", &["名称", "商品名称"]);
    pub const SPEC: Column = Column::new("spec", "规格", &["规格型号"]);
    pub const UNIT: Column = Column::new("unit", "单位", &["计量单位"]);
    pub const BARCODE: Column = Column::new("barcode", "条码", &["条形码", "商品条码"]);
    pub const LOCATION_CODE: Column = Column::new("location_code", "库位", &["库位编码", "库位号"]);
    pub const WAREHOUSE_CODE: Column = Column::new("warehouse_code", "仓库", &["仓库编码"]);
    pub const LOCATION_NAME: Column = Column::new("location_name", "库位名称", &[]);
    pub const KIND: Column = Column::new("kind", "库位类型", &["类型"]);
    pub const QTY: Column = Column::new("qty", "数量", &["库存数量"]);
    pub const BATCH_CODE: Column = Column::new("batch_code", "批次", &["批号", "批次号"]);
    pub const EXPIRY_DATE: Column =
        Column::new("expiry_date", "效期", &["有效期至", "有效期", "到期日"]);
    pub const PRODUCTION_DATE: Column = Column::new("production_date", "生产日期", &[]);
    pub const RESERVED: Column = Column::new("reserved", "已预留", &[]);
    pub const AVAILABLE: Column = Column::new("available", "可用量", &[]);
    pub const TOTAL_QTY: Column = Column::new("total_qty", "库存总量", &[]);
    pub const RESERVED_QTY: Column = Column::new("reserved_qty", "预留量", &[]);
    pub const AVAILABLE_QTY: Column = Column::new("available_qty", "可用量", &[]);
    pub const EARLIEST_EXPIRY: Column = Column::new("earliest_expiry", "最近效期", &[]);
    pub const ID: Column = Column::new("id", "流水号", &[]);
    pub const OCCURRED_AT: Column = Column::new("occurred_at", "时间（UTC）", &[]);
    pub const REASON: Column = Column::new("reason", "原因", &[]);
    pub const REF: Column = Column::new("ref", "单号", &[]);
    pub const REF_LINE: Column = Column::new("ref_line", "行号", &[]);
    pub const DELTA: Column = Column::new("delta", "变动", &[]);
    pub const AFTER_QTY: Column = Column::new("after_qty", "结存", &[]);
    pub const BATCHES: Column = Column::new("batches", "批次明细", &[]);
    pub const ACTOR: Column = Column::new("actor", "操作人", &[]);
    pub const REASON_CODE: Column = Column::new("reason_code", "调整原因", &[]);
    pub const NOTE: Column = Column::new("note", "备注", &[]);
}

/// A file (an XLSX workbook, a multipart upload) in the document: binary, not a list of bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Binary(Vec<u8>);
