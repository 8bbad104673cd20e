//! GS1 barcodes as a handheld scanner (keyboard wedge) types them: GS1-128, GS1 DataMatrix, GS1 QR
//! Code and GS1 DataBar element strings, and plain GTIN / EAN / UPC numbers.
//!
//! Accepted forms of an element string (see [`parse`]):
//!
//! - an optional symbology identifier `]C1` (GS1-128), `]d2` (DataMatrix), `]Q3` (QR) or `]e0`
//!   (DataBar), then optionally a leading FNC1 sent as GS (0x1D);
//! - human-readable: `(01)09501101020917(17)190508(10)ABCD1234`, where the parentheses delimit the
//!   application identifiers (AIs) and values may not contain parentheses;
//! - raw: AIs concatenated, e.g. `]C110ABCD1234␝0109501101020917` (batch, separator, GTIN); a
//!   variable-length value ends at a separator or at the end of the string. Many wedge scanners
//!   cannot type 0x1D, so three separators are accepted: GS (0x1D), the literal text `<GS>` and
//!   the symbol U+241D (`␝`). A `<GS>` inside a value is therefore always read as a separator.
//!   A redundant separator after a fixed-length element is tolerated;
//! - bare (no identifier, no separators): the raw form in which only the last element may be
//!   variable-length (see [`parse_unbracketed`]).
//!
//! ASCII whitespace around the scan (the Enter a scanner appends) is ignored. Every element is
//! checked against GS1's rules (digits, lengths, check digits, real dates, character set 82);
//! the ones a warehouse uses are kept in [`Gs1`], the others are checked and dropped.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

/// ASCII group separator (0x1D): what FNC1 becomes in the data a scanner transmits.
const GS: char = '\u{1D}';

/// The symbology identifiers of GS1 symbols, stripped from the front of a scan.
const SYMBOLOGY_IDS: [&str; 4] = ["]C1", "]d2", "]Q3", "]e0"];

/// How much of the input an error quotes, so that a huge scan does not become a huge message.
const MAX_ECHO: usize = 100;

/// What a GS1 element string says (only the AIs a warehouse uses are kept; others are checked
/// and skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gs1 {
    /// AI 01 (or 02, the contained trade item): the GTIN as 14 digits, check digit verified.
    pub gtin: Option<String>,
    /// AI 10: batch or lot number (1–20 characters of GS1's character set 82).
    pub batch: Option<String>,
    /// AI 17: expiry date.
    pub expiry: Option<NaiveDate>,
    /// AI 11: production date.
    pub production: Option<NaiveDate>,
    /// AI 30 (variable count) or, failing that, AI 37 (count of trade items): a quantity.
    pub count: Option<i64>,
    /// AI 00: SSCC, 18 digits (a pallet / logistic unit), check digit verified.
    pub sscc: Option<String>,
}

/// Why a scan is not a valid GS1 element string or GTIN. Quoted values are cut to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    /// Not digits where digits are needed, or the wrong number of them.
    #[error("AI ({ai}): {value:?} is not {expected}")]
    BadValue {
        ai: String,
        value: String,
        expected: &'static str,
    },
    /// A GTIN / SSCC whose check digit is wrong.
    #[error("AI ({ai}): check digit of {value} is wrong")]
    CheckDigit { ai: String, value: String },
    /// A date that does not exist (e.g. month 13), YYMMDD.
    #[error("AI ({ai}): {value} is not a date")]
    BadDate { ai: String, value: String },
    /// An application identifier GS1 does not define.
    #[error("unknown application identifier at {rest:?}")]
    UnknownAi { rest: String },
    /// The string ends inside a fixed-length element.
    #[error("AI ({ai}) is cut short")]
    Truncated { ai: String },
    /// The same AI twice with different values.
    #[error("AI ({ai}) given twice")]
    Repeated { ai: String },
    /// Parentheses that do not close, empty element, etc.
    #[error("not a GS1 element string")]
    Malformed,
}

/// How long an element's value is.
#[derive(Debug, Clone, Copy)]
enum Length {
    /// Exactly this many characters; GS1 needs no separator after it.
    Fixed(usize),
    /// From `.0` to `.1` characters, ending at a separator or at the end of the string.
    Var(usize, usize),
}

/// What an element's value must look like.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// Digits only.
    Numeric,
    /// Digits whose last one is a GS1 mod-10 check digit (GTIN, SSCC, GLN, GSIN).
    Checked,
    /// YYMMDD, a real date; DD = 00 means the last day of the month.
    Date,
    /// Characters of GS1's character set 82.
    Cset82,
    /// `.0` digits (ending in a check digit if `.1`), then characters of set 82.
    DigitsThen(usize, bool),
}

/// One row of GS1's table of application identifiers.
#[derive(Debug)]
struct Ai {
    /// The AI's digits; `n` stands for any digit (in measures, the decimal point's position).
    code: &'static str,
    length: Length,
    format: Format,
    /// Says in [`Gs1Error::BadValue`] what the value should have been.
    expected: &'static str,
}

const fn ranged(
    code: &'static str,
    min: usize,
    max: usize,
    format: Format,
    expected: &'static str,
) -> Ai {
    Ai {
        code,
        length: Length::Var(min, max),
        format,
        expected,
    }
}

const fn var(code: &'static str, max: usize, format: Format, expected: &'static str) -> Ai {
    ranged(code, 1, max, format, expected)
}

const fn fixed(code: &'static str, len: usize, format: Format, expected: &'static str) -> Ai {
    Ai {
        code,
        length: Length::Fixed(len),
        format,
        expected,
    }
}

const X20: &str = "1 to 20 characters of GS1 set 82";
const X30: &str = "1 to 30 characters of GS1 set 82";
const X90: &str = "1 to 90 characters of GS1 set 82";
const X28: &str = "1 to 28 characters of GS1 set 82";
const YYMMDD: &str = "6 digits (YYMMDD)";
const GDTI: &str = "13 digits and up to 17 characters of GS1 set 82";
const AMOUNT: &str = "a 3-digit currency code and 1 to 15 digits";
const POSTAL: &str = "a 3-digit country code and 1 to 9 characters of GS1 set 82";

/// The application identifiers this module knows, from the GS1 General Specifications. No code
/// is a prefix of another (GS1 guarantees it for its AIs; a test checks this table).
const AIS: &[Ai] = &[
    fixed("00", 18, Format::Checked, "18 digits"),
    fixed("01", 14, Format::Checked, "14 digits"),
    fixed("02", 14, Format::Checked, "14 digits"),
    fixed("03", 14, Format::Checked, "14 digits"),
    fixed("04", 16, Format::Numeric, "16 digits"),
    var("10", 20, Format::Cset82, X20),
    fixed("11", 6, Format::Date, YYMMDD),
    fixed("12", 6, Format::Date, YYMMDD),
    fixed("13", 6, Format::Date, YYMMDD),
    fixed("15", 6, Format::Date, YYMMDD),
    fixed("16", 6, Format::Date, YYMMDD),
    fixed("17", 6, Format::Date, YYMMDD),
    fixed("20", 2, Format::Numeric, "2 digits"),
    var("21", 20, Format::Cset82, X20),
    var("22", 20, Format::Cset82, X20),
    var("235", 28, Format::Cset82, X28),
    var("240", 30, Format::Cset82, X30),
    var("241", 30, Format::Cset82, X30),
    var("242", 6, Format::Numeric, "1 to 6 digits"),
    var("250", 30, Format::Cset82, X30),
    var("251", 30, Format::Cset82, X30),
    ranged("253", 13, 30, Format::DigitsThen(13, true), GDTI),
    var("254", 20, Format::Cset82, X20),
    var("30", 8, Format::Numeric, "1 to 8 digits"),
    fixed("31nn", 6, Format::Numeric, "6 digits"),
    fixed("32nn", 6, Format::Numeric, "6 digits"),
    fixed("33nn", 6, Format::Numeric, "6 digits"),
    fixed("34nn", 6, Format::Numeric, "6 digits"),
    fixed("35nn", 6, Format::Numeric, "6 digits"),
    fixed("36nn", 6, Format::Numeric, "6 digits"),
    var("37", 8, Format::Numeric, "1 to 8 digits"),
    var("390n", 15, Format::Numeric, "1 to 15 digits"),
    ranged("391n", 4, 18, Format::Numeric, AMOUNT),
    var("392n", 15, Format::Numeric, "1 to 15 digits"),
    ranged("393n", 4, 18, Format::Numeric, AMOUNT),
    var("400", 30, Format::Cset82, X30),
    var("401", 30, Format::Cset82, X30),
    fixed("402", 17, Format::Checked, "17 digits"),
    var("403", 30, Format::Cset82, X30),
    fixed("410", 13, Format::Checked, "13 digits"),
    fixed("411", 13, Format::Checked, "13 digits"),
    fixed("412", 13, Format::Checked, "13 digits"),
    fixed("413", 13, Format::Checked, "13 digits"),
    fixed("414", 13, Format::Checked, "13 digits"),
    fixed("415", 13, Format::Checked, "13 digits"),
    fixed("416", 13, Format::Checked, "13 digits"),
    fixed("417", 13, Format::Checked, "13 digits"),
    var("420", 20, Format::Cset82, X20),
    ranged("421", 4, 12, Format::DigitsThen(3, false), POSTAL),
    fixed("422", 3, Format::Numeric, "3 digits"),
    fixed("7003", 10, Format::Numeric, "10 digits"),
    fixed("8005", 6, Format::Numeric, "6 digits"),
    ranged("8008", 8, 12, Format::Numeric, "8 to 12 digits"),
    var("90", 30, Format::Cset82, X30),
    var("91", 90, Format::Cset82, X90),
    var("92", 90, Format::Cset82, X90),
    var("93", 90, Format::Cset82, X90),
    var("94", 90, Format::Cset82, X90),
    var("95", 90, Format::Cset82, X90),
    var("96", 90, Format::Cset82, X90),
    var("97", 90, Format::Cset82, X90),
    var("98", 90, Format::Cset82, X90),
    var("99", 90, Format::Cset82, X90),
];

/// The row of the AI that `text` starts with, if GS1 defines one and all its digits are there.
fn lookup(text: &[u8]) -> Option<&'static Ai> {
    AIS.iter().find(|ai| {
        ai.code.len() <= text.len()
            && (ai.code.bytes().zip(text))
                .all(|(code, byte)| byte.is_ascii_digit() && (code == b'n' || code == *byte))
    })
}

/// Whether `raw` looks like a GS1 element string at all: a symbology identifier `]C1`, `]d2`,
/// `]Q3`, `]e0`; a leading `(NN)` human-readable form (2 to 4 digits); or a GS (0x1D) character,
/// `<GS>` or U+241D inside. Surrounding ASCII whitespace is ignored.
///
/// Plain digits alone are NOT GS1 by this test (they may be a GTIN, an SKU, a location); see
/// [`parse_unbracketed`] for those.
pub fn looks_like_gs1(raw: &str) -> bool {
    let text = trim_whitespace(raw);
    let bytes = text.as_bytes();
    let bracketed_digits = bytes
        .iter()
        .skip(1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    SYMBOLOGY_IDS.iter().any(|id| text.starts_with(id))
        || text.contains([GS, '\u{241D}'])
        || text.contains("<GS>")
        || (bytes.first() == Some(&b'(')
            && (2..=4).contains(&bracketed_digits)
            && bytes.get(1 + bracketed_digits) == Some(&b')'))
}

/// Parses a GS1 element string in any of the accepted forms (see the module documentation).
///
/// `today` decides the century of YYMMDD dates by the GS1 General Specifications §7.12: the year
/// lies in today's year −49 ..= +50 (with D = YY − today's two-digit year: D ≥ 51 → previous
/// century, D ≤ −50 → next century, otherwise this century). DD = 00 means the last day of that
/// month (GS1 rule).
///
/// After the symbology identifier and a leading GS: a string starting with `(` is read as the
/// human-readable form, anything else as the raw form (which, without separators, is the bare
/// form of [`parse_unbracketed`]). Non-ASCII input (other than U+241D) is [`Gs1Error::Malformed`].
/// With both AI 01 and 02, the GTIN is AI 01's; with both AI 30 and 37, the count is AI 30's.
pub fn parse(raw: &str, today: NaiveDate) -> Result<Gs1, Gs1Error> {
    let text = normalize(raw)?;
    let mut body = text.as_str();
    if let Some(rest) = SYMBOLOGY_IDS.iter().find_map(|id| body.strip_prefix(id)) {
        body = rest;
    }
    let body = body.strip_prefix(GS).unwrap_or(body);
    let body = body.strip_suffix(GS).unwrap_or(body);
    if body.starts_with('(') {
        read_bracketed(body, today)
    } else {
        read_raw(body, today)
    }
}

/// Parses a bare element string with no symbology identifier and no parentheses, starting with
/// an AI, e.g. "010950110102091717190508109876" — what a wedge scanner types when it drops the
/// FNC1s (fixed-length AIs need no separator; a variable-length one must then be last). Meant for
/// a scan that is all digits and longer than 14, or that starts with "01"/"02"/"00" and has the
/// right shape.
///
/// Returns Err(Malformed) if it cannot be read completely as AIs: an unknown AI, or an end inside
/// a fixed-length element. A value that is read but invalid keeps its own error (BadValue,
/// CheckDigit, BadDate, Repeated). A GS character, if present, still ends a variable-length value.
pub fn parse_unbracketed(raw: &str, today: NaiveDate) -> Result<Gs1, Gs1Error> {
    let text = trim_whitespace(raw);
    if !text.is_ascii() {
        return Err(Gs1Error::Malformed);
    }
    read_raw(text, today).map_err(|error| match error {
        Gs1Error::UnknownAi { .. } | Gs1Error::Truncated { .. } => Gs1Error::Malformed,
        other => other,
    })
}

/// A GTIN-8, UPC-A (12), EAN-13 or GTIN-14 with a valid check digit, in its canonical form: the
/// 14-digit form with leading zeros removed, then left-padded with zeros to the shortest of 8, 12,
/// 13, 14 digits that holds it (so "09501101020917" → "9501101020917", "00036000291452" →
/// "036000291452", "00000012345670" → "12345670").
///
/// Spaces and hyphens are not accepted. Err(BadValue) for a wrong length or non-digits,
/// Err(CheckDigit) for a bad check digit, both with ai = "01".
pub fn canonical_gtin(code: &str) -> Result<String, Gs1Error> {
    let full = gtin14(code)?;
    let significant = full.trim_start_matches('0');
    let width = [8, 12, 13]
        .into_iter()
        .find(|w| *w >= significant.len())
        .unwrap_or(14);
    Ok(format!("{significant:0>width$}"))
}

/// The GTIN (canonical) a search names when it is a scanned barcode: a GTIN with its check
/// digit, or a GS1 element string carrying one (AI 01 or 02), bracketed, with its symbology
/// identifier, or run together. `None` for anything else (a sku, a name).
pub fn searched_gtin(q: &str, today: NaiveDate) -> Option<String> {
    let q = q.trim();
    if let Ok(gtin) = canonical_gtin(q) {
        return Some(gtin);
    }
    let parsed = if looks_like_gs1(q) {
        parse(q, today).ok()
    } else if q.len() > 14 && ["01", "02"].iter().any(|ai| q.starts_with(ai)) {
        parse_unbracketed(q, today).ok()
    } else {
        None
    };
    parsed?.gtin.and_then(|gtin| canonical_gtin(&gtin).ok())
}

/// The 14-digit form of a canonical or any valid GTIN (left-padded with zeros); same errors as
/// [`canonical_gtin`].
pub fn gtin14(code: &str) -> Result<String, Gs1Error> {
    let all_digits = code.bytes().all(|b| b.is_ascii_digit());
    if !all_digits || !matches!(code.len(), 8 | 12 | 13 | 14) {
        return Err(Gs1Error::BadValue {
            ai: "01".to_owned(),
            value: echo(code),
            expected: "8, 12, 13 or 14 digits",
        });
    }
    if !check_digit_ok(code) {
        return Err(Gs1Error::CheckDigit {
            ai: "01".to_owned(),
            value: code.to_owned(),
        });
    }
    Ok(format!("{code:0>14}"))
}

/// The GS1 mod-10 check digit is right for this all-digit string (the last digit is the check
/// digit). False for anything shorter than two digits or with a non-digit in it.
pub fn check_digit_ok(digits: &str) -> bool {
    match digits.as_bytes().split_last() {
        Some((&last, body)) if !body.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            check_digit(body) == last - b'0'
        }
        _ => false,
    }
}

/// `digits` (ASCII digits) followed by their GS1 check digit: makes a valid GTIN of a company
/// prefix and item reference (the demo's barcodes, tests).
pub fn with_check_digit(digits: &str) -> String {
    format!("{digits}{}", check_digit(digits.as_bytes()))
}

/// The GS1 mod-10 check digit of `body` (ASCII digits): weights 3, 1, 3, ... from the right.
fn check_digit(body: &[u8]) -> u8 {
    let sum = body.iter().rev().enumerate().fold(0u8, |sum, (i, b)| {
        let weight = if i % 2 == 0 { 3 } else { 1 };
        (sum + b.saturating_sub(b'0') % 10 * weight) % 10
    });
    (10 - sum) % 10
}

fn trim_whitespace(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// Trims whitespace, turns the substitute separators into GS and rejects non-ASCII input, after
/// which every byte offset is a char boundary.
fn normalize(raw: &str) -> Result<String, Gs1Error> {
    let text = trim_whitespace(raw)
        .replace('\u{241D}', "\u{1D}")
        .replace("<GS>", "\u{1D}");
    if text.is_ascii() {
        Ok(text)
    } else {
        Err(Gs1Error::Malformed)
    }
}

/// At most [`MAX_ECHO`] characters of `text`, for an error message.
fn echo(text: &str) -> String {
    text.chars().take(MAX_ECHO).collect()
}

/// Reads the human-readable form `(AI)value(AI)value...`; `body` starts with `(`.
fn read_bracketed(body: &str, today: NaiveDate) -> Result<Gs1, Gs1Error> {
    let mut reader = Reader::default();
    let mut rest = body;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(').ok_or(Gs1Error::Malformed)?;
        let (code, after) = inner.split_once(')').ok_or(Gs1Error::Malformed)?;
        if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Gs1Error::Malformed);
        }
        let ai = lookup(code.as_bytes())
            .filter(|ai| ai.code.len() == code.len())
            .ok_or_else(|| Gs1Error::UnknownAi { rest: echo(rest) })?;
        let (value, next) = after.split_at(after.find('(').unwrap_or(after.len()));
        if value.contains(')') {
            return Err(Gs1Error::Malformed);
        }
        reader.element(ai, code, value, today)?;
        rest = next;
    }
    reader.finish()
}

/// Reads the raw form: AIs concatenated, variable-length values ended by GS or the end of `body`.
fn read_raw(body: &str, today: NaiveDate) -> Result<Gs1, Gs1Error> {
    let mut reader = Reader::default();
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(GS) {
            return Err(Gs1Error::Malformed);
        }
        let ai = lookup(rest.as_bytes()).ok_or_else(|| Gs1Error::UnknownAi { rest: echo(rest) })?;
        let (code, after_code) = split(rest, ai.code.len())?;
        let (value, next) = match ai.length {
            Length::Fixed(len) => {
                let (value, next) = split(after_code, len).map_err(|_| Gs1Error::Truncated {
                    ai: code.to_owned(),
                })?;
                // A separator after a fixed-length value is redundant but harmless.
                (value, next.strip_prefix(GS).unwrap_or(next))
            }
            Length::Var(..) => after_code.split_once(GS).unwrap_or((after_code, "")),
        };
        reader.element(ai, code, value, today)?;
        rest = next;
    }
    reader.finish()
}

/// `text` split after `at` bytes, or Malformed if it is shorter (or `at` is not a char boundary).
fn split(text: &str, at: usize) -> Result<(&str, &str), Gs1Error> {
    let head = text.get(..at).ok_or(Gs1Error::Malformed)?;
    Ok((head, text.get(at..).ok_or(Gs1Error::Malformed)?))
}

/// Collects the elements of one element string.
#[derive(Default)]
struct Reader {
    found: Gs1,
    /// AI 02's GTIN, used when there is no AI 01.
    contained_gtin: Option<String>,
    /// AI 37's count, used when there is no AI 30.
    item_count: Option<i64>,
    /// Every AI read so far with its value, to catch repeats.
    seen: BTreeMap<String, String>,
}

impl Reader {
    /// Checks one element (AI `code`, whose row is `ai`) and keeps it if the warehouse uses it.
    fn element(
        &mut self,
        ai: &Ai,
        code: &str,
        value: &str,
        today: NaiveDate,
    ) -> Result<(), Gs1Error> {
        if value.is_empty() {
            return Err(Gs1Error::Malformed);
        }
        let date = validate(ai, code, value, today)?;
        match self.seen.get(code) {
            Some(earlier) if earlier == value => return Ok(()),
            Some(_) => {
                return Err(Gs1Error::Repeated {
                    ai: code.to_owned(),
                })
            }
            None => self.seen.insert(code.to_owned(), value.to_owned()),
        };
        // Validated as 1 to 8 digits, so this cannot fail.
        let count = value.parse::<i64>().ok();
        match code {
            "00" => self.found.sscc = Some(value.to_owned()),
            "01" => self.found.gtin = Some(value.to_owned()),
            "02" => self.contained_gtin = Some(value.to_owned()),
            "10" => self.found.batch = Some(value.to_owned()),
            "11" => self.found.production = date,
            "17" => self.found.expiry = date,
            "30" => self.found.count = count,
            "37" => self.item_count = count,
            _ => {}
        }
        Ok(())
    }

    /// The result, or Malformed if there was no element at all.
    fn finish(self) -> Result<Gs1, Gs1Error> {
        if self.seen.is_empty() {
            return Err(Gs1Error::Malformed);
        }
        let mut found = self.found;
        found.gtin = found.gtin.or(self.contained_gtin);
        found.count = found.count.or(self.item_count);
        Ok(found)
    }
}

/// Checks `value` against the row `ai` of AI `code`; returns the date if it is a date element.
fn validate(
    ai: &Ai,
    code: &str,
    value: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, Gs1Error> {
    let bad_value = || Gs1Error::BadValue {
        ai: code.to_owned(),
        value: echo(value),
        expected: ai.expected,
    };
    let bad_check_digit = || Gs1Error::CheckDigit {
        ai: code.to_owned(),
        value: echo(value),
    };
    let numeric = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    let cset82 = |text: &str| text.bytes().all(is_cset82);
    let length_ok = match ai.length {
        Length::Fixed(len) => value.len() == len,
        Length::Var(min, max) => (min..=max).contains(&value.len()),
    };
    if !length_ok {
        return Err(bad_value());
    }
    match ai.format {
        Format::Numeric if numeric(value) => Ok(None),
        Format::Cset82 if cset82(value) => Ok(None),
        Format::Checked if numeric(value) => check_digit_ok(value)
            .then_some(None)
            .ok_or_else(bad_check_digit),
        Format::Date if numeric(value) => match gs1_date(value, today) {
            Some(date) => Ok(Some(date)),
            None => Err(Gs1Error::BadDate {
                ai: code.to_owned(),
                value: value.to_owned(),
            }),
        },
        Format::DigitsThen(digits, check) => {
            let (head, tail) = split(value, digits).map_err(|_| bad_value())?;
            if !numeric(head) || !cset82(tail) {
                Err(bad_value())
            } else if check && !check_digit_ok(head) {
                Err(bad_check_digit())
            } else {
                Ok(None)
            }
        }
        _ => Err(bad_value()),
    }
}

/// Whether `byte` is in GS1's character set 82 (the printable ASCII that GS1 values may use).
fn is_cset82(byte: u8) -> bool {
    matches!(byte, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// A YYMMDD date (six ASCII digits) by GS1's rules: the century puts the year within
/// today's year −49 .. +50, and DD = 00 means the last day of the month.
pub fn gs1_date(yymmdd: &str, today: NaiveDate) -> Option<NaiveDate> {
    let number = |at: usize| yymmdd.get(at..at + 2)?.parse::<u32>().ok();
    let (yy, month, day) = (number(0)?, number(2)?, number(4)?);
    let year = gs1_year(i32::try_from(yy).ok()?, today.year());
    if day == 0 {
        (28..=31)
            .rev()
            .find_map(|last| NaiveDate::from_ymd_opt(year, month, last))
    } else {
        NaiveDate::from_ymd_opt(year, month, day)
    }
}

/// GS1 General Specifications §7.12: with D = YY − (current year mod 100), D ≥ 51 means the
/// previous century, D ≤ −50 the next one, anything else the current one.
fn gs1_year(yy: i32, current_year: i32) -> i32 {
    let current_yy = current_year.rem_euclid(100);
    let century = current_year - current_yy;
    match yy - current_yy {
        51.. => century - 100 + yy,
        ..=-50 => century + 100 + yy,
        _ => century + yy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The GS1 General Specifications' example GTIN.
    const GTIN: &str = "09501101020917";

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    fn today() -> NaiveDate {
        date(2024, 6, 1)
    }

    /// `body` with its GS1 check digit appended.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_digit(body.as_bytes()))
    }

    /// What `parse` makes of `raw` on 2024-06-01: the fields found, or the error's message.
    fn show(raw: &str) -> String {
        match parse(raw, today()) {
            Ok(found) => summary(&found),
            Err(error) => error.to_string(),
        }
    }

    /// The fields of `gs1` that are set, as "name value" joined by ", ".
    fn summary(gs1: &Gs1) -> String {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
        let fields = [
            ("gtin", gs1.gtin.clone()),
            ("batch", gs1.batch.clone()),
            ("expiry", date(gs1.expiry)),
            ("production", date(gs1.production)),
            ("count", gs1.count.map(|c| c.to_string())),
            ("sscc", gs1.sscc.clone()),
        ];
        let set = fields
            .iter()
            .filter_map(|(name, value)| Some(format!("{name} {}", value.as_ref()?)));
        set.collect::<Vec<_>>().join(", ")
    }

    #[test]
    fn check_digits_of_published_numbers() {
        let sscc = "106141411234567897";
        for valid in [GTIN, sscc, "036000291452", "12345670", "12345678901231"] {
            assert!(check_digit_ok(valid), "{valid}");
        }
        for invalid in ["09501101020918", "", "7", "1234567a", "１２"] {
            assert!(!check_digit_ok(invalid), "{invalid}");
        }
        assert_eq!(with_check("0950110102091"), GTIN);
    }

    #[test]
    fn canonical_and_14_digit_gtins() {
        let canonical = |code: &str| canonical_gtin(code).unwrap_or_else(|e| e.to_string());
        assert_eq!(canonical(GTIN), "9501101020917");
        assert_eq!(canonical("00036000291452"), "036000291452");
        assert_eq!(canonical("036000291452"), "036000291452");
        assert_eq!(canonical("00000012345670"), "12345670");
        assert_eq!(canonical("0000012345670"), "12345670");
        assert_eq!(canonical("00000000"), "00000000");
        assert_eq!(
            canonical("09501101020918"),
            "AI (01): check digit of 09501101020918 is wrong"
        );
        let hyphen = "AI (01): \"0950-110102091\" is not 8, 12, 13 or 14 digits";
        assert_eq!(canonical("0950-110102091"), hyphen);
        for bad in [
            "",
            "1234567",
            "095011 0102091",
            "1234567890",
            "１２３４５６７０",
        ] {
            assert!(
                matches!(gtin14(bad), Err(Gs1Error::BadValue { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(gtin14("12345670").as_deref(), Ok("00000012345670"));
        assert_eq!(gtin14("9501101020917").as_deref(), Ok(GTIN));
    }

    #[test]
    fn what_looks_like_gs1() {
        let yes = [
            "]C10109501101020917",
            "]d2010950110102091710AB",
            "]Q3010950110102091710AB",
            "]e00109501101020917",
            " (01)09501101020917\r\n",
            "(3103)001250",
            "10ABC\u{1D}17251231",
            "10ABC<GS>17251231",
            "10ABC\u{241D}17251231",
        ];
        assert!(yes.iter().all(|raw| looks_like_gs1(raw)));
        let no = [
            "",
            GTIN,
            "010950110102091717190508",
            "A-01-02",
            "(1)x",
            "(12345)",
            "]E0123",
        ];
        assert!(!no.iter().any(|raw| looks_like_gs1(raw)));
    }

    #[test]
    fn published_examples() {
        let expected = "gtin 09501101020917, batch ABCD1234, expiry 2019-05-08";
        assert_eq!(show("(01)09501101020917(17)190508(10)ABCD1234"), expected);
        assert_eq!(show("]C101095011010209171719050810ABCD1234"), expected);
        assert_eq!(show("(00)106141411234567897"), "sscc 106141411234567897");
        assert_eq!(show("]C100106141411234567897"), "sscc 106141411234567897");
        let gtin = with_check("1234567890123");
        let scan = format!("]d201{gtin}10AB-123\u{1D}17251231");
        assert_eq!(
            show(&scan),
            format!("gtin {gtin}, batch AB-123, expiry 2025-12-31")
        );
    }

    #[test]
    fn separators() {
        let expected = "gtin 09501101020917, batch LOT7, count 12";
        for separator in ["\u{1D}", "<GS>", "\u{241D}"] {
            let scan = format!("]Q310LOT7{separator}3012{separator}01{GTIN}");
            assert_eq!(show(&scan), expected, "{scan:?}");
            // A leading FNC1, a redundant separator after a fixed-length element, a trailing one.
            let scan = format!("{separator}01{GTIN}{separator}10LOT7{separator}3012{separator}");
            assert_eq!(show(&scan), expected, "{scan:?}");
        }
        assert_eq!(show(" (01)09501101020917(10)LOT7(30)12\r\n"), expected);
        let inside_fixed = "AI (17): \"\\u{1d}19050\" is not 6 digits (YYMMDD)";
        assert_eq!(show("010950110102091717\u{1D}190508"), inside_fixed);
        assert_eq!(show("10A\u{1D}\u{1D}3012"), "not a GS1 element string");
    }

    #[test]
    fn dates() {
        let leap = "expiry 2023-02-28, production 2024-02-29";
        assert_eq!(show("(11)240200(17)230200"), leap);
        assert_eq!(show("(17)241100"), "expiry 2024-11-30");
        assert_eq!(show("(17)191308"), "AI (17): 191308 is not a date");
        assert_eq!(show("(11)230229"), "AI (11): 230229 is not a date");
        assert_eq!(show("(15)240631"), "AI (15): 240631 is not a date");
        assert_eq!(show("(12)240630(13)240600(16)240601"), "");
    }

    #[test]
    fn century_rule() {
        let year = |yymmdd: &str, this_year: i32| {
            let found = parse(&format!("(17){yymmdd}"), date(this_year, 7, 15));
            found.ok()?.expiry.map(|d| d.year())
        };
        assert_eq!(year("740101", 2024), Some(2074));
        assert_eq!(year("750101", 2024), Some(1975));
        assert_eq!(year("240101", 2024), Some(2024));
        assert_eq!(year("990101", 2000), Some(1999));
        assert_eq!(year("500101", 2000), Some(2050));
        assert_eq!(year("510101", 2000), Some(1951));
        assert_eq!(year("490101", 2099), Some(2149));
        assert_eq!(year("500101", 2099), Some(2050));
        assert_eq!(year("000101", 1999), Some(2000));
        for this_year in [1950, 1999, 2000, 2024, 2049, 2050, 2051, 2099, 2100] {
            for yy in 0..100 {
                let found = gs1_year(yy, this_year);
                assert!(
                    (this_year - 49..=this_year + 50).contains(&found),
                    "{yy} in {this_year}"
                );
                assert_eq!(found.rem_euclid(100), yy);
            }
        }
    }

    #[test]
    fn counts() {
        assert_eq!(show("(30)12"), "count 12");
        assert_eq!(show("(37)00000048"), "count 48");
        assert_eq!(show("(37)48(30)7"), "count 7");
        assert_eq!(
            show("(02)09501101020917(37)20"),
            "gtin 09501101020917, count 20"
        );
        assert_eq!(
            show("(30)123456789"),
            "AI (30): \"123456789\" is not 1 to 8 digits"
        );
        assert_eq!(show("(37)1A"), "AI (37): \"1A\" is not 1 to 8 digits");
    }

    #[test]
    fn other_ais_are_checked_and_skipped() {
        assert_eq!(
            show("(01)09501101020917(3103)001250"),
            "gtin 09501101020917"
        );
        assert_eq!(
            show("0109501101020917310300125010X"),
            "gtin 09501101020917, batch X"
        );
        assert_eq!(show("(3103)0012"), "AI (3103): \"0012\" is not 6 digits");
        let (gln, gsin) = (with_check("950110153000"), with_check("9501101530001234"));
        let scan = format!(
            "(21)SN-1(22)A(235)B(240)C(241)D(242)7(250)E(251)F(253){gln}GH(254)I(20)01\
             (04)1234567890123456(03)09501101020917(3922)995(3931)978995(400)PO-1(401)J\
             (402){gsin}(403)K(410){gln}(417){gln}(420)L(421)276M(422)276(7003)2406011230\
             (8005)000120(8008)24060112(90)N(91)O(99)P(12)240601(13)240601(16)240601"
        );
        assert_eq!(parse(&scan, today()), Ok(Gs1::default()));
        let wrong_check = (check_digit(b"950110153000") + 1) % 10;
        let bad_gln = format!("(410)950110153000{wrong_check}");
        assert_eq!(
            show(&bad_gln),
            format!("AI (410): check digit of {} is wrong", &bad_gln[5..])
        );
        assert!(show("(253)1234567890123").contains("check digit"));
        assert_eq!(show("(421)27"), format!("AI (421): \"27\" is not {POSTAL}"));
    }

    #[test]
    fn ai_table_is_prefix_free() {
        for (i, first) in AIS.iter().enumerate() {
            for second in AIS.iter().skip(i + 1) {
                let mut pairs = first.code.bytes().zip(second.code.bytes());
                let clash = pairs.all(|(a, b)| a == b || a == b'n' || b == b'n');
                assert!(!clash, "{} and {}", first.code, second.code);
            }
        }
    }

    #[test]
    fn bare_unbracketed_form() {
        let bare = "010950110102091717190508109876";
        assert_eq!(parse_unbracketed(bare, today()), parse(bare, today()));
        assert_eq!(
            show(bare),
            "gtin 09501101020917, batch 9876, expiry 2019-05-08"
        );
        let not_ais = [
            GTIN,
            "01095011010209",
            "(01)09501101020917",
            "]C10109501101020917",
            "01€",
        ];
        for raw in not_ais {
            assert_eq!(
                parse_unbracketed(raw, today()),
                Err(Gs1Error::Malformed),
                "{raw}"
            );
        }
        let wrong = parse_unbracketed("0109501101020918", today());
        assert!(matches!(wrong, Err(Gs1Error::CheckDigit { .. })));
    }

    #[test]
    fn each_error() {
        let short = Gs1Error::BadValue {
            ai: "01".into(),
            value: "12345".into(),
            expected: "14 digits",
        };
        assert_eq!(parse("(01)12345", today()), Err(short));
        assert_eq!(
            show("(10)ABC DEF"),
            "AI (10): \"ABC DEF\" is not 1 to 20 characters of GS1 set 82"
        );
        assert_eq!(
            show("(10)123456789012345678901"),
            show("(10)ABC DEF").replace("ABC DEF", "123456789012345678901")
        );
        assert_eq!(
            show("(00)106141411234567890"),
            "AI (00): check digit of 106141411234567890 is wrong"
        );
        assert_eq!(
            show("(14)123456"),
            "unknown application identifier at \"(14)123456\""
        );
        assert_eq!(
            show("(310)123456"),
            "unknown application identifier at \"(310)123456\""
        );
        assert_eq!(
            show("0109501101020917891"),
            "unknown application identifier at \"891\""
        );
        assert_eq!(show("]C101095011010209"), "AI (01) is cut short");
        assert_eq!(show("(10)A(10)B"), "AI (10) given twice");
        assert_eq!(show("(10)A(10)A"), "batch A");
        assert!(show(&format!("(10){}", "A".repeat(5000))).len() < 200);
        let malformed = [
            "",
            "   ",
            "]C1",
            "]d2\u{1D}",
            "(",
            "(01",
            "()",
            "(01)",
            "(1)2",
            "(0a)1",
            "(10)AB)C",
            "(10)A(",
            "10\u{1D}",
            "(10)Ä",
            "10Ä",
            "]C1(01)",
        ];
        for raw in malformed {
            assert_eq!(parse(raw, today()), Err(Gs1Error::Malformed), "{raw:?}");
        }
    }

    /// Strings made of the characters GS1 parsing cares about, to reach deep into the parser.
    fn gs1ish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("\u{1D}".to_owned()),
            Just("<GS>".to_owned()),
            Just("]C1".to_owned()),
            Just("␝".to_owned()),
            "[0-9]{1,14}",
            "[A-Za-z%/é]{1,3}",
        ];
        prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
    }

    fn arbitrary_input() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            gs1ish(),
            prop::collection::vec(any::<char>(), 0..5000).prop_map(String::from_iter),
            "[0-9]{0,3000}",
        ]
    }

    /// A valid GTIN-8, -12, -13 or -14.
    fn valid_gtin() -> impl Strategy<Value = String> {
        prop_oneof!["[0-9]{7}", "[0-9]{11}", "[0-9]{12}", "[0-9]{13}"]
            .prop_map(|body| with_check(&body))
    }

    /// A random `today` and a `Gs1` whose dates lie within 40 years of it.
    fn today_and_gs1() -> impl Strategy<Value = (NaiveDate, Gs1)> {
        let span: i64 = 40 * 365;
        (0i64..100_000).prop_flat_map(move |offset| {
            let today = date(1950, 1, 1) + chrono::Duration::days(offset);
            let near =
                move || (-span..=span).prop_map(move |days| today + chrono::Duration::days(days));
            let batch = prop::option::of("[!\"%&'*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}");
            let count = prop::option::of(1i64..=99_999_999);
            let parts = (
                "[0-9]{13}",
                batch,
                prop::option::of(near()),
                prop::option::of(near()),
                count,
            );
            parts.prop_map(move |(body, batch, expiry, production, count)| {
                let gtin = Some(with_check(&body));
                (
                    today,
                    Gs1 {
                        gtin,
                        batch,
                        expiry,
                        production,
                        count,
                        sscc: None,
                    },
                )
            })
        })
    }

    /// `gs1`'s elements as (AI, value, variable length).
    fn elements(gs1: &Gs1) -> Vec<(&'static str, String, bool)> {
        let yymmdd = |d: &NaiveDate| d.format("%y%m%d").to_string();
        let mut out = Vec::new();
        out.extend(gs1.gtin.clone().map(|g| ("01", g, false)));
        out.extend(gs1.batch.clone().map(|b| ("10", b, true)));
        out.extend(gs1.expiry.as_ref().map(|d| ("17", yymmdd(d), false)));
        out.extend(gs1.count.map(|c| ("30", c.to_string(), true)));
        out.extend(gs1.production.as_ref().map(|d| ("11", yymmdd(d), false)));
        out
    }

    /// The raw form of `gs1`, with `separator` after each variable-length element but the last.
    fn raw_form(gs1: &Gs1, separator: &str) -> String {
        let parts = elements(gs1);
        let last = parts.len().saturating_sub(1);
        let mut out = String::new();
        for (i, (ai, value, variable)) in parts.into_iter().enumerate() {
            out.push_str(ai);
            out.push_str(&value);
            if variable && i != last {
                out.push_str(separator);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn never_panics(input in arbitrary_input()) {
            let _ = parse(&input, today()).map_err(|e| e.to_string());
            let _ = parse_unbracketed(&input, today());
            let _ = canonical_gtin(&input);
            let _ = gtin14(&input);
            let _ = check_digit_ok(&input);
            let _ = looks_like_gs1(&input);
        }

        #[test]
        fn round_trip((today, gs1) in today_and_gs1(), separator in 0usize..3, id in 0usize..4) {
            prop_assume!(!gs1.batch.as_deref().unwrap_or_default().contains("<GS>"));
            let separator = ["\u{1D}", "<GS>", "\u{241D}"][separator];
            let readable: String =
                elements(&gs1).into_iter().map(|(ai, value, _)| format!("({ai}){value}")).collect();
            let raw = raw_form(&gs1, separator);
            let identified = format!("{}{raw}", SYMBOLOGY_IDS[id]);
            prop_assert_eq!(parse(&readable, today), Ok(gs1.clone()), "{}", readable);
            prop_assert_eq!(parse(&raw, today), Ok(gs1.clone()), "{}", raw);
            prop_assert_eq!(parse(&identified, today), Ok(gs1.clone()), "{}", identified);
            prop_assert!(looks_like_gs1(&readable) && looks_like_gs1(&identified));
        }

        #[test]
        fn canonical_form_is_stable(gtin in valid_gtin()) {
            let canonical = canonical_gtin(&gtin);
            prop_assert!(canonical.is_ok());
            prop_assert_eq!(canonical_gtin(&gtin14(&gtin)?), canonical.clone());
            prop_assert_eq!(gtin14(&canonical?)?, gtin14(&gtin)?);
        }
    }
}
