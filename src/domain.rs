//! Parse, don't validate: raw input becomes these types once, at the boundary, with an error
//! naming the field. Past that point the services never re-check.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Trims `raw` and checks its length in characters and that it holds no control characters.
fn bounded_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    let len = text.chars().count();
    if len < min {
        return Err(AppError::validation(field, tr!(errors.value.not_empty)));
    }
    if len > max {
        return Err(AppError::validation(
            field,
            tr!(errors.value.at_most_chars, max = max),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            tr!(errors.value.no_control_chars),
        ));
    }
    Ok(text.to_string())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        /// Read through [`Self::parse`]: a value that breaks its rules is no value.
        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse("value", &raw).map_err(|e| e.message)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl $name {
            /// Parses `raw` for the request field `field`.
            pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
                bounded_text(field, raw, $min, $max).map(Self)
            }

            /// Parses an optional field: absent or blank is none.
            pub fn parse_optional(field: &str, raw: Option<&str>) -> Result<Option<Self>, AppError> {
                match raw.map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(raw) => Self::parse(field, raw).map(Some),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// An item's stock-keeping unit: 1–64 characters, unique.
    Sku, 1, 64
);
text_type!(
    /// An item's display name: 1–128 characters.
    ItemName, 1, 128
);
text_type!(
    /// Free text describing an item's packaging or size: up to 256 characters.
    ItemSpec, 0, 256
);
text_type!(
    /// The unit an item is counted in, e.g. `pcs`, `box`.
    Unit, 1, 16
);
text_type!(
    /// A location's code as printed on its label, e.g. `A-01-03`: 1–32 characters, unique.
    LocationCode, 1, 32
);
text_type!(
    /// A location's descriptive name: up to 128 characters.
    LocationName, 0, 128
);

text_type!(
    /// A warehouse's code, e.g. `MAIN`, `SH`: 1–32 characters, unique.
    WarehouseCode, 1, 32
);
text_type!(
    /// A warehouse's name, e.g. `主仓 Main`: 1–128 characters.
    WarehouseName, 1, 128
);

text_type!(
    /// A batch (lot) code; `""` for goods received without one.
    BatchCode, 0, 64
);
text_type!(
    /// Why an adjustment was made, in someone's words: 1–500 characters.
    Note, 1, 500
);

/// A movement's reference (order, receipt, transfer number): 1–64 printable characters.
/// A line of a given ref is applied at most once.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ref(String);

/// Read through [`Ref::parse`].
impl TryFrom<String> for Ref {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse("value", &raw).map_err(|e| e.message)
    }
}

impl From<Ref> for String {
    fn from(value: Ref) -> String {
        value.0
    }
}

impl Ref {
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        if raw.chars().any(char::is_control) {
            return Err(AppError::validation(
                field,
                tr!(errors.value.printable_only),
            ));
        }
        bounded_text(field, raw, 1, 64).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest quantity one line may move.
pub const MAX_QTY: i64 = 1_000_000_000;
/// The most lines one movement request may carry.
pub const MAX_LINES: usize = 1000;

/// A quantity a line moves: a whole number in 1..=1 000 000 000.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Qty(i64);

/// Read through [`Qty::parse`].
impl TryFrom<i64> for Qty {
    type Error = String;

    fn try_from(raw: i64) -> Result<Self, String> {
        Self::parse("value", raw).map_err(|e| e.message)
    }
}

impl From<Qty> for i64 {
    fn from(value: Qty) -> i64 {
        value.0
    }
}

impl Qty {
    pub fn parse(field: &str, raw: i64) -> Result<Self, AppError> {
        if (1..=MAX_QTY).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(AppError::validation(
                field,
                tr!(errors.value.whole_number, max = MAX_QTY),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The whole number typed into a form's quantity field, as the request the form becomes
/// carries it: only the text is read here (blank, or not a whole number, is refused); the
/// request's own parse applies the quantity's rules ([`Qty::parse`]), once.
pub fn typed_number(field: &str, raw: &str) -> Result<i64, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::validation(field, tr!(errors.value.required)));
    }
    raw.parse::<i64>()
        .map_err(|_| AppError::validation(field, tr!(errors.value.whole_number, max = MAX_QTY)))
}

/// Checks a request carries 1..=1000 lines.
pub fn check_line_count(count: usize) -> Result<(), AppError> {
    if count == 0 {
        Err(AppError::validation("lines", tr!(errors.value.lines_empty)))
    } else if count > MAX_LINES {
        Err(AppError::validation(
            "lines",
            tr!(errors.value.lines_too_many, max = MAX_LINES, count = count),
        ))
    } else {
        Ok(())
    }
}

/// What a location is for: goods arrive in `receiving`, live in `storage`, leave from `shipping`;
/// returned goods wait in `quarantine` until someone decides what becomes of them (issue 33).
/// (A warehouse's `transit` location is Depot's own, made by transfers; nobody creates one.)
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Receiving,
    Storage,
    Shipping,
    Quarantine,
}

impl LocationKind {
    pub const ALL: [LocationKind; 4] = [
        LocationKind::Receiving,
        LocationKind::Storage,
        LocationKind::Shipping,
        LocationKind::Quarantine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Receiving => "receiving",
            LocationKind::Storage => "storage",
            LocationKind::Shipping => "shipping",
            LocationKind::Quarantine => "quarantine",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw.trim())
            .ok_or_else(|| AppError::validation(field, tr!(errors.value.kind_one_of)))
    }
}

/// The most rows one page of a list returns.
pub const MAX_PAGE_SIZE: i64 = 200;
/// Rows per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// A window into a list: `offset` ≥ 0, `limit` 1..=200.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    pub offset: i64,
    pub limit: i64,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Paging {
    pub fn parse(offset: Option<i64>, limit: Option<i64>) -> Result<Self, AppError> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if offset < 0 {
            return Err(AppError::validation("offset", tr!(errors.value.offset_min)));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(AppError::validation(
                "limit",
                tr!(errors.value.limit_range, max = MAX_PAGE_SIZE),
            ));
        }
        Ok(Self { offset, limit })
    }
}

/// One page of a list, with the total count of rows that match.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: i64,
    /// `total` is an estimate, not a count (only a snapshot search by a long pattern that
    /// most items' text nearly matches, such as `SKU-0`: see `snapshot::service`). Absent when
    /// the total is exact.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_estimated: bool,
    pub offset: i64,
    pub limit: i64,
    pub items: Vec<T>,
    /// Where the next page starts, for lists that page by place as well as by offset (the
    /// snapshot): pass it as `after` (with the next page's `offset`) to read that page at the
    /// cost of the first, however deep. Absent when this page is the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Where this page starts: pass it as `before` to read the page before it the same way.
    /// Absent on the first page (a page read with `before` that came back full keeps it: only
    /// reading on tells whether anything precedes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl<T> Page<T> {
    /// A page of a list that pages by offset only.
    pub fn new(total: i64, offset: i64, limit: i64, items: Vec<T>) -> Self {
        Self {
            total,
            total_estimated: false,
            offset,
            limit,
            items,
            next: None,
            prev: None,
        }
    }
}

/// A search text: trimmed, at most 64 characters, `None` when blank.
pub fn parse_search(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(q) => bounded_text("q", q, 1, 64).map(Some),
    }
}

/// Where an order is in its life (SPEC §10).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Some of it could not be reserved.
    Backordered,
    /// All of what is left to ship is reserved, none of it picked.
    Reserved,
    /// Picking has started.
    Picking,
    /// All of what is reserved is picked.
    Picked,
    /// All of it has left.
    Shipped,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Backordered,
        OrderStatus::Reserved,
        OrderStatus::Picking,
        OrderStatus::Picked,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Backordered => "BACKORDERED",
            OrderStatus::Reserved => "RESERVED",
            OrderStatus::Picking => "PICKING",
            OrderStatus::Picked => "PICKED",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Still to be picked or shipped: not shipped, not cancelled.
    pub fn open(self) -> bool {
        !matches!(self, OrderStatus::Shipped | OrderStatus::Cancelled)
    }

    /// The status of an order that is not cancelled, from its lines' quantities.
    pub fn of_lines(lines: impl IntoIterator<Item = LineQty>) -> Self {
        let (mut qty, mut shipped, mut reserved, mut picked) = (0, 0, 0, 0);
        let mut backordered = false;
        for line in lines {
            qty += line.qty;
            shipped += line.shipped;
            reserved += line.reserved;
            picked += line.picked;
            backordered |= line.shipped + line.reserved < line.qty;
        }
        if shipped >= qty {
            OrderStatus::Shipped
        } else if backordered {
            OrderStatus::Backordered
        } else if picked > 0 && picked >= reserved {
            OrderStatus::Picked
        } else if picked > 0 {
            OrderStatus::Picking
        } else {
            OrderStatus::Reserved
        }
    }
}

/// An order line's quantities, from which its order's status follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineQty {
    pub qty: i64,
    pub reserved: i64,
    pub picked: i64,
    pub shipped: i64,
}

/// What a signed-in person or a token may do; ordered, each role including the ones below it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every page and `GET` endpoint.
    Viewer,
    /// + receive, put away, ship, count lines.
    Clerk,
    /// + adjustments, counts, cancelling orders, items and locations, imports.
    Manager,
    /// + users and API tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Clerk, Role::Manager, Role::Admin];

    /// The role as the database, the JSON API and the command line write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Clerk => "clerk",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The role a text names (`clerk`), if any.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name.trim())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newtype read from JSON keeps its rules: it is parsed, never taken as it comes.
    #[test]
    fn newtypes_deserialize_through_their_parse() {
        let sku: Sku = serde_json::from_str("\"  SKU-1 \"").unwrap();
        assert_eq!(sku.as_str(), "SKU-1");
        assert!(serde_json::from_str::<Sku>(&format!("\"{}\"", "x".repeat(65))).is_err());
        assert!(serde_json::from_str::<Ref>("\"PO\\u0001\"").is_err());
        assert!(serde_json::from_str::<Qty>("0").is_err());
        assert_eq!(serde_json::from_str::<Qty>("7").unwrap().get(), 7);
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"SKU-1\"");
        assert_eq!(
            serde_json::to_string(&Qty::parse("qty", 3).unwrap()).unwrap(),
            "3"
        );
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Sku::parse("sku", "  SKU-1 ").unwrap().as_str(), "SKU-1");
        assert!(Sku::parse("sku", "   ").is_err());
        assert!(Sku::parse("sku", &"x".repeat(65)).is_err());
        assert!(Sku::parse("sku", &"货".repeat(64)).is_ok());
        assert!(Sku::parse("sku", "A\u{0}B").is_err());
        assert!(ItemSpec::parse("spec", "").is_ok());
    }

    #[test]
    fn errors_name_the_field() {
        let error = LocationCode::parse("lines[3].location_code", "").unwrap_err();
        assert_eq!(error.details["field"], "lines[3].location_code");
    }

    #[test]
    fn paging_is_bounded() {
        assert_eq!(Paging::parse(None, None).unwrap(), Paging::default());
        assert!(Paging::parse(Some(-1), None).is_err());
        assert!(Paging::parse(None, Some(0)).is_err());
        assert!(Paging::parse(None, Some(201)).is_err());
        assert!(Paging::parse(Some(50_000), Some(200)).is_ok());
    }

    #[test]
    fn quantities_are_whole_and_bounded() {
        assert!(Qty::parse("qty", 0).is_err());
        assert!(Qty::parse("qty", -3).is_err());
        assert!(Qty::parse("qty", MAX_QTY + 1).is_err());
        assert_eq!(Qty::parse("qty", MAX_QTY).unwrap().get(), MAX_QTY);
        assert_eq!(typed_number("qty", " 12 ").unwrap(), 12);
        assert!(typed_number("qty", "1.5").is_err());
        assert!(typed_number("qty", "").is_err());
    }

    #[test]
    fn refs_are_printable() {
        assert!(Ref::parse("ref", "SO-1001").is_ok());
        assert!(Ref::parse("ref", "SO\n1").is_err());
        assert!(Ref::parse("ref", "").is_err());
        assert!(Ref::parse("ref", &"R".repeat(65)).is_err());
        assert!(check_line_count(0).is_err());
        assert!(check_line_count(1001).is_err());
        assert!(check_line_count(1000).is_ok());
    }

    #[test]
    fn location_kinds_parse() {
        assert_eq!(
            LocationKind::parse("kind", "storage").unwrap(),
            LocationKind::Storage
        );
        assert!(LocationKind::parse("kind", "attic").is_err());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// What `bounded_text` must return for `raw`, said plainly.
        fn expected_text(raw: &str, min: usize, max: usize) -> Option<String> {
            let text = raw.trim();
            let len = text.chars().count();
            (len >= min && len <= max && !text.chars().any(char::is_control)).then(|| text.into())
        }

        proptest! {
            #[test]
            fn text_fields_accept_exactly_trimmed_printable_bounded_text(raw in "\\PC{0,3}[\\x00-\\x20\\u{7f}\\u{a0}\\u{3000}a-z货]{0,70}\\PC{0,3}") {
                prop_assert_eq!(Sku::parse("sku", &raw).ok().map(Sku::into_inner), expected_text(&raw, 1, 64));
                prop_assert_eq!(ItemSpec::parse("spec", &raw).ok().map(ItemSpec::into_inner), expected_text(&raw, 0, 256));
                prop_assert_eq!(LocationCode::parse("code", &raw).ok().map(LocationCode::into_inner), expected_text(&raw, 1, 32));
                let parsed = Ref::parse("ref", &raw);
                prop_assert_eq!(parsed.is_ok(), !raw.chars().any(char::is_control) && expected_text(&raw, 1, 64).is_some());
                if let Ok(r) = parsed {
                    // Parsing what was parsed changes nothing.
                    prop_assert_eq!(Ref::parse("ref", r.as_str()).unwrap(), r);
                }
            }

            #[test]
            fn quantities_are_whole_numbers_from_1_to_max(raw in any::<i64>()) {
                prop_assert_eq!(Qty::parse("qty", raw).is_ok(), (1..=MAX_QTY).contains(&raw));
                prop_assert_eq!(typed_number("qty", &format!(" {raw} ")).ok(), Some(raw));
            }

            #[test]
            fn typed_quantities_never_panic(raw in "\\PC{0,24}") {
                prop_assert_eq!(typed_number("qty", &raw).ok(), raw.trim().parse::<i64>().ok());
            }

            #[test]
            fn paging_accepts_exactly_its_range(offset in proptest::option::of(any::<i64>()), limit in proptest::option::of(-5_i64..300)) {
                let ok = offset.is_none_or(|o| o >= 0) && limit.is_none_or(|l| (1..=MAX_PAGE_SIZE).contains(&l));
                let parsed = Paging::parse(offset, limit);
                prop_assert_eq!(parsed.is_ok(), ok);
                if let Ok(paging) = parsed {
                    prop_assert_eq!(paging.offset, offset.unwrap_or(0));
                    prop_assert_eq!(paging.limit, limit.unwrap_or(DEFAULT_PAGE_SIZE));
                }
            }

            #[test]
            fn a_search_is_absent_or_bounded_printable_text(raw in proptest::option::of("\\PC{0,70}")) {
                match parse_search(raw.as_deref()) {
                    Ok(None) => prop_assert!(raw.as_deref().is_none_or(|r| r.trim().is_empty())),
                    Ok(Some(q)) => prop_assert_eq!(Some(q), expected_text(raw.as_deref().unwrap(), 1, 64)),
                    Err(_) => prop_assert!(expected_text(raw.as_deref().unwrap(), 1, 64).is_none()),
                }
            }
        }
    }
}
