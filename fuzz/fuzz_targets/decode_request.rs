//! Request decoding under arbitrary bytes: every JSON body Depot accepts, every query string and
//! every page form's body (as a browser posts it without JavaScript), every uploaded sheet, through the same decoders
//! and parsers the handlers and server functions use. Whatever comes in, decoding either
//! yields a value that survives a round trip or a refusal a client can act on (400, 413 or 422,
//! with a message), and never panics.

#![no_main]

use depot::domain::{parse_search, Paging};
use depot::error::{AppError, Problems};
use depot::extract::{decode_json, decode_query};
use depot::inbound::page::{form_date, ReceiveGoodsForm};
use depot::lines::form_qty;
use depot::inbound::{service::Receive, ReceiveInput};
use depot::items::page::CreateItemForm;
use depot::items::{service::NewItem, NewItemInput};
use depot::ledger::LedgerFilter;
use depot::locations::page::CreateLocationForm;
use depot::locations::{service::NewLocation, NewLocationInput};
use depot::orders::{service as orders, NewOrder, OrderFilter, PickInput, ShipInput};
use depot::outbound::page::ShipOrder;
use depot::outbound::{service::Outbound, OutboundInput};
use depot::putaway::page::PutAwayForm;
use depot::putaway::{service::Putaway, PutawayInput};
use depot::sheet::read;
use depot::snapshot::SnapshotQuery;
use depot::stock::StockFilter;
use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let outcome = match selector % 18 {
        0 => body::<ReceiveInput>(input).and_then(|r| Receive::parse(&r).map(drop)),
        1 => body::<OutboundInput>(input).and_then(|r| Outbound::parse(&r, true).map(drop)),
        2 => body::<PutawayInput>(input).and_then(|r| Putaway::parse(&r).map(drop)),
        3 => body::<NewItemInput>(input).and_then(|r| NewItem::parse(&r).map(drop)),
        4 => body::<NewLocationInput>(input).and_then(|r| NewLocation::parse(&r).map(drop)),
        5 => query::<SnapshotQuery>(input).and_then(|q| {
            let paging = Paging::parse(q.offset, q.limit)?;
            q.start(paging.offset)?;
            parse_search(q.q.as_deref()).map(drop)
        }),
        6 => query::<StockFilter>(input).map(drop),
        7 => query::<LedgerFilter>(input).map(drop),
        8 => {
            form::<ShipOrder>(input).and_then(|f| lines_qty(f.lines.iter().map(|l| l.qty.as_str())))
        }
        9 => form::<ReceiveGoodsForm>(input).and_then(|f| {
            for line in &f.lines {
                form_date("expiry_date".into(), &line.expiry_date)?;
                form_date("production_date".into(), &line.production_date)?;
            }
            lines_qty(f.lines.iter().map(|l| l.qty.as_str()))
        }),
        10 => form::<PutAwayForm>(input)
            .and_then(|f| lines_qty(f.lines.iter().map(|l| l.qty.as_str()))),
        11 => form::<CreateItemForm>(input).map(drop),
        12 => form::<CreateLocationForm>(input).map(drop),
        13 => body::<NewOrder>(input).and_then(|o| orders::validate_order(&o)),
        14 => body::<PickInput>(input).and_then(|p| orders::validate_picks(&p)),
        15 => body::<ShipInput>(input).map(drop),
        16 => query::<OrderFilter>(input).and_then(|f| {
            Paging::parse(f.offset, f.limit)?;
            parse_search(f.q.as_deref()).map(drop)
        }),
        // An uploaded sheet (SPEC §11): read whole, or refused with a reason; never a panic.
        _ => {
            let sheet = read::read(input, read::sniff(input));
            if let Ok(sheet) = sheet {
                assert!(sheet.rows.len() <= read::MAX_ROWS);
                assert!(sheet.rows.iter().all(|row| row.number >= 2));
            }
            Ok(())
        }
    };
    if let Err(error) = outcome {
        assert!(
            matches!(error.status(), 400 | 413 | 422),
            "{} for {:?}",
            error.status(),
            String::from_utf8_lossy(input)
        );
        assert!(!error.message.is_empty());
    }
});

/// Decodes a body; what decodes must encode and decode back to itself.
fn body<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
) -> Result<T, AppError> {
    let value = decode_json::<T>(bytes)?;
    let again = decode_json::<T>(&serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(again, value);
    Ok(value)
}

/// Decodes a query string as a URI would carry it (ASCII only; anything else is not a URI).
fn query<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => decode_query(text),
        _ => Err(AppError::malformed("not a URI query")),
    }
}

/// Decodes a form body as a server function does (`serde_qs`, depth 5, brackets percent-encoded
/// or not); a body that is not UTF-8 never reaches the decoder.
fn form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let text = std::str::from_utf8(bytes).map_err(|_| AppError::malformed("not UTF-8"))?;
    serde_qs::Config::new(5, false)
        .deserialize_str::<T>(text)
        .map_err(|e| AppError::malformed(e.to_string()))
}

/// Every line's quantity through the form's parser.
fn lines_qty<'a>(quantities: impl Iterator<Item = &'a str>) -> Result<(), AppError> {
    let mut problems = Problems::default();
    for (i, qty) in quantities.enumerate() {
        form_qty(&mut problems, i, qty);
    }
    problems.finish()
}
