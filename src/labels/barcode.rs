//! Barcode and QR code labels as inline SVG.
//!
//! Every function returns an `<svg>` element as a string, ready to be put into an HTML
//! page: no XML declaration, a `viewBox` in modules (1 unit = 1 module), black bars on a
//! white background that includes the quiet zone, and `shape-rendering="crispEdges"`.
//! The size is left to CSS (a Code 128 symbol stretches to any width and height).
//!
//! * [`code128_svg`] — Code 128 of printable ASCII, with an optimal choice of code sets
//!   (code set C packs runs of digits two per symbol).
//! * [`gs1_128_svg`] — GS1-128: Code 128 starting with FNC1, ASCII GS (0x1D) in the input
//!   is encoded as FNC1 (the separator after a variable-length element).
//! * [`qr_svg`] — QR code, error correction level M, UTF-8 bytes for non-ASCII text.
//!
//! The bar patterns of Code 128 come from the `barcoders` crate, the QR matrix from the
//! `qrcode` crate; the SVG markup is written here.

use std::fmt::Write as _;

use barcoders::sym::code128::Code128;
use chrono::{Datelike, NaiveDate};
use qrcode::{types::QrError, Color, EcLevel, QrCode};

use crate::scan::gs1::check_digit_ok;

/// Quiet zone on each side of a Code 128 / GS1-128 symbol, in modules.
pub const CODE128_QUIET_ZONE: usize = 10;
/// Quiet zone around a QR code, in modules.
pub const QR_QUIET_ZONE: usize = 4;
/// Longest data accepted by [`code128_svg`], in characters.
pub const MAX_CODE128_LEN: usize = 80;
/// Longest element string accepted by [`gs1_128_svg`] (GS1 limit: 48 characters,
/// counting each GS separator as one).
pub const MAX_GS1_128_LEN: usize = 48;
/// ASCII group separator: marks the end of a variable-length GS1 element.
pub const GS: char = '\u{1D}';

/// Why data could not be turned into a barcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("barcode data is empty")]
    Empty,
    #[error(
        "character {ch:?} at position {pos} cannot be encoded in Code 128 \
         (only printable ASCII characters, space to '~', are allowed)"
    )]
    InvalidCharacter { ch: char, pos: usize },
    #[error("barcode data is too long: {len} characters, at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("data is too long for a QR code: {len} bytes")]
    QrTooLong { len: usize },
    #[error("invalid GS1 element string: {0}")]
    InvalidGs1(String),
    #[error("barcode encoder failed: {0}")]
    Encoder(String),
}

/// Code 128 of printable ASCII data such as `A-01-02` or `SKU-00042`.
pub fn code128_svg(data: &str) -> Result<String, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if let Some((i, ch)) = data
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c))
    {
        return Err(BarcodeError::InvalidCharacter { ch, pos: i + 1 });
    }
    if data.len() > MAX_CODE128_LEN {
        return Err(BarcodeError::TooLong {
            len: data.len(),
            max: MAX_CODE128_LEN,
        });
    }
    let tokens: Vec<Tok> = data.bytes().map(Tok::Char).collect();
    Ok(linear_svg(
        &encode_code128(&tokens)?,
        &format!("Code 128: {data}"),
    ))
}

/// GS1-128 of a raw element string: AIs and values concatenated, with ASCII GS (0x1D)
/// after each variable-length element that is followed by another element, e.g.
/// `"0109501101020917" + "17190508" + "10ABCD1234"` (see [`gs1_element_string`]).
/// The symbol starts with FNC1 and every GS is encoded as FNC1.
pub fn gs1_128_svg(element_string: &str) -> Result<String, BarcodeError> {
    validate_gs1(element_string)?;
    let mut tokens = vec![Tok::Fnc1];
    tokens.extend(element_string.bytes().map(|b| {
        if b == GS as u8 {
            Tok::Fnc1
        } else {
            Tok::Char(b)
        }
    }));
    let label = format!("GS1-128: {}", element_string.replace(GS, " "));
    Ok(linear_svg(&encode_code128(&tokens)?, &label))
}

/// Raw GS1 element string (01) GTIN-14, (17) expiry date YYMMDD, (10) batch/lot — in that
/// order, so that only the last element, the variable-length batch, ends the string and no
/// GS separator is needed. `gtin14` is taken as given (14 digits including the check digit,
/// see [`check_digit_ok`]); an empty batch is left out.
pub fn gs1_element_string(gtin14: &str, expiry: Option<NaiveDate>, batch: Option<&str>) -> String {
    gs1_elements(gtin14, expiry, batch)
        .iter()
        .map(|(ai, v)| format!("{ai}{v}"))
        .collect()
}

/// Human-readable interpretation of the same elements as [`gs1_element_string`], to print
/// under the bars: `(01)09501101020917(17)190508(10)ABCD1234`.
pub fn gs1_human_readable(gtin14: &str, expiry: Option<NaiveDate>, batch: Option<&str>) -> String {
    gs1_elements(gtin14, expiry, batch)
        .iter()
        .map(|(ai, v)| format!("({ai}){v}"))
        .collect()
}

fn gs1_elements(
    gtin14: &str,
    expiry: Option<NaiveDate>,
    batch: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = vec![("01", gtin14.to_string())];
    if let Some(d) = expiry {
        out.push((
            "17",
            format!(
                "{:02}{:02}{:02}",
                d.year().rem_euclid(100),
                d.month(),
                d.day()
            ),
        ));
    }
    if let Some(b) = batch.filter(|b| !b.is_empty()) {
        out.push(("10", b.to_string()));
    }
    out
}

fn validate_gs1(es: &str) -> Result<(), BarcodeError> {
    let err = |m: String| Err(BarcodeError::InvalidGs1(m));
    if es.is_empty() {
        return Err(BarcodeError::Empty);
    }
    for (i, ch) in es.chars().enumerate() {
        // GS1 character set 82: printable ASCII without space and # $ @ [ \ ] ^ ` { | } ~
        let ok = ch == GS || (ch.is_ascii_graphic() && !"#$@[\\]^`{|}~".contains(ch));
        if !ok {
            return err(format!(
                "character {ch:?} at position {} is not allowed",
                i + 1
            ));
        }
    }
    let len = es.chars().count();
    if len > MAX_GS1_128_LEN {
        return Err(BarcodeError::TooLong {
            len,
            max: MAX_GS1_128_LEN,
        });
    }
    if es.ends_with(GS) || es.contains("\u{1D}\u{1D}") {
        return err("a GS separator must stand between two elements".into());
    }
    for element in es.split(GS) {
        if !element.bytes().take(2).all(|b| b.is_ascii_digit()) || element.len() < 3 {
            return err(format!(
                "element {element:?} does not start with an application identifier"
            ));
        }
    }
    if let Some(rest) = es.strip_prefix("01") {
        let gtin = rest.get(..14).unwrap_or(rest);
        if gtin.len() != 14 || !check_digit_ok(gtin) {
            return err(format!(
                "(01) needs a 14-digit GTIN with a valid check digit, got {gtin:?}"
            ));
        }
    }
    Ok(())
}

/// One Code 128 data item: an ASCII byte or the FNC1 function character.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    Char(u8),
    Fnc1,
}

const SET_B: usize = 0;
const SET_C: usize = 1;

/// Chooses code sets B and C so that the number of symbol characters is minimal (set A is
/// only needed for control characters, which are not accepted) and writes the result in
/// the input syntax of `barcoders`: `Ɓ`/`Ć` start or switch to set B/C, `Ź` is FNC1.
fn plan_code128(toks: &[Tok]) -> String {
    let n = toks.len();
    let digit = |i: usize| matches!(toks.get(i), Some(Tok::Char(b)) if b.is_ascii_digit());
    // cost[i][s]: symbols needed for toks[i..] when set s is active; switch[i][s]: whether
    // the best way is to switch to the other set before encoding toks[i].
    let mut cost = vec![[0usize; 2]; n + 1];
    let mut switch = vec![[false; 2]; n + 1];
    let direct = |cost: &[[usize; 2]], i: usize, s: usize| -> usize {
        match (s, toks[i]) {
            (SET_B, _) => 1 + cost[i + 1][SET_B],
            (_, Tok::Fnc1) => 1 + cost[i + 1][SET_C],
            _ if digit(i) && digit(i + 1) => 1 + cost[i + 2][SET_C],
            _ => usize::MAX / 2,
        }
    };
    for i in (0..n).rev() {
        let d = [direct(&cost, i, SET_B), direct(&cost, i, SET_C)];
        for s in [SET_B, SET_C] {
            let via_other = d[1 - s] + 1;
            switch[i][s] = via_other < d[s];
            cost[i][s] = d[s].min(via_other);
        }
    }
    let set_char = |s: usize| if s == SET_C { 'Ć' } else { 'Ɓ' };
    let mut s = if n > 0 && direct(&cost, 0, SET_C) < direct(&cost, 0, SET_B) {
        SET_C
    } else {
        SET_B
    };
    let mut out = String::from(set_char(s));
    let mut i = 0;
    while i < n {
        if switch[i][s] {
            s = 1 - s;
            out.push(set_char(s));
        }
        match (s, toks[i]) {
            (_, Tok::Fnc1) => out.push('Ź'),
            (SET_C, Tok::Char(a)) => {
                out.push(a as char);
                if let Tok::Char(b) = toks[i + 1] {
                    out.push(b as char); // second digit of the pair
                }
                i += 1;
            }
            (_, Tok::Char(a)) => out.push(a as char),
        }
        i += 1;
    }
    out
}

/// Modules of the whole symbol (start, data, check character, stop), `1` = bar.
fn encode_code128(toks: &[Tok]) -> Result<Vec<u8>, BarcodeError> {
    let plan = plan_code128(toks);
    let symbol =
        Code128::new(&plan).map_err(|e| BarcodeError::Encoder(format!("{e} ({plan:?})")))?;
    Ok(symbol.encode())
}

/// The bars' height in modules; `preserveAspectRatio="none"` lets CSS give any height.
const BAR_HEIGHT: usize = 50;

fn linear_svg(modules: &[u8], label: &str) -> String {
    let (q, h) = (CODE128_QUIET_ZONE, BAR_HEIGHT);
    let mut path = String::new();
    for (x, w) in dark_runs(modules.len(), |x| modules[x] == 1) {
        let _ = write!(path, "M{} 0h{w}v{h}h-{w}z", x + q);
    }
    svg_document(modules.len() + 2 * q, h, true, &path, label)
}

/// QR code (error correction level M) of `data`; non-ASCII text is encoded as UTF-8 bytes.
pub fn qr_svg(data: &str) -> Result<String, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let code =
        QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|e| match e {
            QrError::DataTooLong => BarcodeError::QrTooLong { len: data.len() },
            other => BarcodeError::Encoder(other.to_string()),
        })?;
    let (n, q) = (code.width(), QR_QUIET_ZONE);
    let mut path = String::new();
    for y in 0..n {
        for (x, w) in dark_runs(n, |x| code[(x, y)] == Color::Dark) {
            let _ = write!(path, "M{} {}h{w}v1h-{w}z", x + q, y + q);
        }
    }
    Ok(svg_document(
        n + 2 * q,
        n + 2 * q,
        false,
        &path,
        &format!("QR code: {data}"),
    ))
}

/// Runs of consecutive dark modules among `0..n`, as (start, length).
fn dark_runs(n: usize, dark: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let (mut runs, mut x) = (Vec::new(), 0);
    while x < n {
        let start = x;
        while x < n && dark(x) {
            x += 1;
        }
        if x > start {
            runs.push((start, x - start));
        } else {
            x += 1;
        }
    }
    runs
}

fn svg_document(w: usize, h: usize, stretch: bool, path: &str, label: &str) -> String {
    let mut svg = String::with_capacity(path.len() + 320);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}""#
    );
    if stretch {
        svg.push_str(r#" preserveAspectRatio="none""#);
    }
    let _ = write!(
        svg,
        r##" shape-rendering="crispEdges" role="img" aria-label="{}"><rect width="{w}" height="{h}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##,
        escape_attr(label)
    );
    svg
}

fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(s: &str) -> String {
        plan_code128(&s.bytes().map(Tok::Char).collect::<Vec<_>>())
    }

    #[test]
    fn code_sets_are_chosen_for_the_shortest_symbol() {
        assert_eq!(plan("A-01-02"), "ƁA-01-02");
        assert_eq!(plan("SKU-00042"), "ƁSKU-0Ć0042");
        assert_eq!(plan("12345678901234"), "Ć12345678901234");
        assert_eq!(plan("123"), "Ɓ123");
        assert_eq!(plan("1234567"), "Ɓ1Ć234567"); // ties keep set B
        assert_eq!(plan("bin-a1"), "Ɓbin-a1");
        let gs1 = [
            Tok::Fnc1,
            Tok::Char(b'1'),
            Tok::Char(b'0'),
            Tok::Char(b'A'),
            Tok::Fnc1,
            Tok::Char(b'0'),
            Tok::Char(b'1'),
        ];
        assert_eq!(
            plan_code128(&gs1),
            "ƁŹ10AŹ01" /* 7 symbols, as "ĆŹ10ƁAŹ01" */
        );
    }

    #[test]
    fn bad_data_is_refused_in_words() {
        assert_eq!(code128_svg(""), Err(BarcodeError::Empty));
        assert_eq!(
            code128_svg("A-01-ä"),
            Err(BarcodeError::InvalidCharacter { ch: 'ä', pos: 6 })
        );
        assert_eq!(
            code128_svg(&"9".repeat(81)),
            Err(BarcodeError::TooLong { len: 81, max: 80 })
        );
        let message = code128_svg("库位").unwrap_err().to_string();
        assert!(
            message.contains("'库'") && message.contains("position 1"),
            "{message}"
        );
        // A wrong GTIN check digit, a separator at an end, a space, no AI, too long.
        for bad in [
            "0109501101020918",
            "10AB\u{1D}",
            "\u{1D}10AB",
            "10A B",
            "AB12",
        ] {
            assert!(
                matches!(gs1_128_svg(bad), Err(BarcodeError::InvalidGs1(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            gs1_128_svg(&format!("10{}", "X".repeat(47))),
            Err(BarcodeError::TooLong { len: 49, max: 48 })
        ));
        assert_eq!(qr_svg(""), Err(BarcodeError::Empty));
        assert_eq!(
            qr_svg(&"x".repeat(3000)),
            Err(BarcodeError::QrTooLong { len: 3000 })
        );
    }

    #[test]
    fn element_strings_put_the_batch_last() {
        let day = NaiveDate::from_ymd_opt(2019, 5, 8);
        assert_eq!(
            gs1_element_string("09501101020917", day, Some("ABCD1234")),
            "01095011010209171719050810ABCD1234"
        );
        assert_eq!(
            gs1_human_readable("09501101020917", day, Some("ABCD1234")),
            "(01)09501101020917(17)190508(10)ABCD1234"
        );
        assert_eq!(
            gs1_human_readable("09501101020917", None, Some("")),
            "(01)09501101020917"
        );
    }

    #[test]
    fn svg_is_inline_markup_sized_by_css() {
        let svg = code128_svg("A-01-02").unwrap();
        // Start, 7 data and check symbols of 11 modules, stop 13, quiet zones 2 × 10.
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 132 50" preserveAspectRatio="none""#), "{svg}");
        assert!(
            svg.contains("M10 0h2v50h-2z"),
            "first bar after the quiet zone: {svg}"
        );
        let qr = qr_svg("a\"<&").unwrap();
        let open_tag = &qr[..qr.find('>').unwrap()];
        assert!(
            !open_tag.contains("width=") && !open_tag.contains("preserveAspectRatio"),
            "{qr}"
        );
        assert!(
            qr.contains(r#"aria-label="QR code: a&quot;&lt;&amp;""#),
            "{qr}"
        );
    }
}
