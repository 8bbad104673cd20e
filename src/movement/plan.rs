//! The pure part of a movement (the pipeline's *plan* stage): the stock changes a line makes
//! ([`Leg`]), what a count changes once the stock it counts is known ([`count`]), the waves
//! lines are written in ([`waves`]) and what a take takes ([`take`]), worked out in memory from
//! the stocks and batches as they were read under their locks. Nothing here reads or writes
//! the database, so the rules (first expiry first out, nothing expired or reserved unless the
//! take says so, expired batches first for goods that are gone, a count sets what is there,
//! a take sees what its wave's earlier lines added) are tested on any stock at all.

use chrono::NaiveDate;

use crate::movement::batches::{take_fefo, BatchRow, Plan, Room};

/// How a take chooses the batches it takes from, and how much of each it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// First expiry first out over what is available (SPEC §10: usable and not reserved):
    /// earliest expiry first, no expiry last, then oldest batch.
    Fefo,
    /// Only the batch with this code, what of it is not reserved; `expired_ok` lets an expired
    /// one move (to quarantine), otherwise an expired batch is not available.
    Batch { code: String, expired_ok: bool },
    /// Goods that are not there any more (adjustments): any batch, in FEFO order — so expired
    /// batches (the earliest expiries) go first — reserved or not; what orders held of them
    /// is released.
    Any,
    /// Like [`Pick::Any`], but only the batch with this code (a count or adjustment of a lot).
    Lot { code: String },
    /// What orders reserved of the batch with this code, if it is still usable: an order
    /// shipping its reservation (the order says how much of it is its own).
    Reserved { code: String },
}

impl Pick {
    /// What a line moving goods takes: the batch it names — even expired (e.g. to quarantine,
    /// or on its way to another warehouse) — else first expiry first out over usable ones.
    pub fn named_or_fefo(batch: Option<&str>) -> Pick {
        match batch {
            Some(code) => Pick::Batch {
                code: code.to_string(),
                expired_ok: true,
            },
            None => Pick::Fefo,
        }
    }

    pub fn room(&self, batch: &BatchRow, today: NaiveDate) -> Room {
        let named = |code: &String| batch.batch_code == *code;
        match self {
            Pick::Fefo => Room::Free(batch.available(today)),
            Pick::Batch { code, expired_ok } if named(code) => Room::Free(if *expired_ok {
                batch.qty - batch.reserved
            } else {
                batch.available(today)
            }),
            Pick::Any => Room::Physical,
            Pick::Lot { code } if named(code) => Room::Physical,
            Pick::Reserved { code } if named(code) && batch.usable(today) => {
                Room::Reserved(batch.reserved)
            }
            Pick::Batch { .. } | Pick::Lot { .. } | Pick::Reserved { .. } => Room::Free(0),
        }
    }
}

/// Which lot goods go into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lot {
    /// The lot with this code and dates (created, or topped up when its dates agree).
    Named {
        code: String,
        expiry_date: Option<NaiveDate>,
        production_date: Option<NaiveDate>,
    },
    /// The lots the line's take leg took: batches travel with the goods.
    Taken,
}

/// One stock change of a line: each is one ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leg {
    Take {
        location: i64,
        qty: i64,
        pick: Pick,
    },
    Add {
        location: i64,
        qty: i64,
        lot: Lot,
    },
    /// Sets the stock (or, with `batch`, that batch) to `counted`: once the stock is locked,
    /// a take of what is too much (any batch, expired first) or an addition of what is
    /// missing (into the batch, or the no-batch lot), or nothing when the count is right.
    Set {
        location: i64,
        counted: i64,
        batch: Option<String>,
    },
}

impl Leg {
    /// The two legs of goods moving from `from` to `to`: what `pick` takes there, added here
    /// in the lots it took (batches travel).
    pub fn moving(from: i64, to: i64, qty: i64, pick: Pick) -> Vec<Leg> {
        vec![
            Leg::Take {
                location: from,
                qty,
                pick,
            },
            Leg::Add {
                location: to,
                qty,
                lot: Lot::Taken,
            },
        ]
    }

    pub fn location(&self) -> i64 {
        match self {
            Leg::Take { location, .. } | Leg::Add { location, .. } | Leg::Set { location, .. } => {
                *location
            }
        }
    }
}

/// What a count of `counted` changes at `location`, where `now` is there (of the batch it
/// counts, or of the whole stock): a take of what is too much (that batch, else any batch,
/// expired first), an addition of what is missing (into that batch, else the no-batch lot),
/// or nothing when the count is right.
pub fn count(location: i64, counted: i64, batch: Option<String>, now: i64) -> Option<Leg> {
    let change = counted - now;
    if change < 0 {
        Some(Leg::Take {
            location,
            qty: -change,
            pick: match batch {
                Some(code) => Pick::Lot { code },
                None => Pick::Any,
            },
        })
    } else if change > 0 {
        Some(Leg::Add {
            location,
            qty: change,
            lot: Lot::Named {
                code: batch.unwrap_or_default(),
                expiry_date: None,
                production_date: None,
            },
        })
    } else {
        None
    }
}

/// Splits `lines` (in request order) into the waves they are written in: a line that takes
/// from a stock an earlier line of its wave adds to (`takes_from(i)`, `adds_to(i)`: stock ids)
/// starts the next wave, so it sees those goods. Order is kept; no wave is empty.
pub fn waves(
    lines: &[usize],
    takes_from: impl Fn(usize) -> Vec<i64>,
    adds_to: impl Fn(usize) -> Vec<i64>,
) -> Vec<Vec<usize>> {
    let mut waves: Vec<Vec<usize>> = vec![Vec::new()];
    let mut targets = std::collections::HashSet::new();
    for &i in lines {
        if takes_from(i).iter().any(|stock| targets.contains(stock)) {
            waves.push(Vec::new());
            targets.clear();
        }
        targets.extend(adds_to(i));
        if let Some(wave) = waves.last_mut() {
            wave.push(i);
        }
    }
    waves.retain(|wave| !wave.is_empty());
    waves
}

/// How a reservation orders the batches that expire alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// The oldest batch first, as a take at one stock does.
    Oldest,
    /// The location holding most of the item first (so an order visits the fewest locations),
    /// then the location's code, then the oldest batch.
    FewestLocations,
}

/// A batch a reservation may hold of, wherever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub batch_id: i64,
    pub location_id: i64,
    pub location_code: String,
    pub expiry_date: Option<NaiveDate>,
    /// What of it is free to hold (usable and not reserved).
    pub free: i64,
}

/// Plans a reservation of `qty` over `spots` by FEFO (earliest expiry first, no expiry last,
/// `spread` among those expiring alike): (spot index, qty), in the order taken; less than `qty`
/// in all when the spots hold less.
pub fn reserve(spots: &[Spot], qty: i64, spread: Spread) -> Vec<(usize, i64)> {
    let mut at_location: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for spot in spots.iter().filter(|s| s.free > 0) {
        *at_location.entry(spot.location_id).or_default() += spot.free;
    }
    let mut order: Vec<usize> = (0..spots.len()).filter(|&i| spots[i].free > 0).collect();
    order.sort_by_key(|&i| {
        let spot = &spots[i];
        let (most, code) = match spread {
            Spread::Oldest => (0, ""),
            Spread::FewestLocations => {
                (-at_location[&spot.location_id], spot.location_code.as_str())
            }
        };
        (
            spot.expiry_date.is_none(),
            spot.expiry_date,
            most,
            code,
            spot.batch_id,
        )
    });
    let mut left = qty;
    let mut chosen = Vec::new();
    for i in order {
        if left <= 0 {
            break;
        }
        let take = spots[i].free.min(left);
        left -= take;
        chosen.push((i, take));
    }
    chosen
}

/// The order a take walks a stock's batches in (SPEC §3): earliest expiry first, no expiry
/// last, then the oldest batch.
pub fn fefo_key(batch: &BatchRow) -> (bool, Option<NaiveDate>, i64) {
    (batch.expiry_date.is_none(), batch.expiry_date, batch.id)
}

/// Plans a take of `qty` from `lots` (one stock's batches) as `pick` allows on `today`: the
/// batches taken, in FEFO order, and `lots` left with what remains; or, when they hold less,
/// how much `pick` could have taken (`lots` unchanged).
pub fn take(lots: &mut [BatchRow], qty: i64, pick: &Pick, today: NaiveDate) -> Result<Plan, i64> {
    lots.sort_by_key(fefo_key);
    let room = |b: &BatchRow| pick.room(b, today);
    take_fefo(lots, qty, room).ok_or_else(|| lots.iter().map(|b| room(b).limit(b)).sum())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn today() -> NaiveDate {
        "2026-06-15".parse().unwrap()
    }

    /// Up to eight batches: expiry within ten days either side of today or none, a quantity,
    /// part of it reserved, codes `A`–`C` (so a code can name several).
    fn lots() -> impl Strategy<Value = Vec<BatchRow>> {
        prop::collection::vec(
            (
                prop::option::weighted(0.8, -10i64..10),
                1i64..20,
                0i64..=100,
                0usize..3,
            ),
            0..8,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(n, (days, qty, percent, code))| BatchRow {
                    id: n as i64 + 1,
                    stock_id: 1,
                    batch_code: ["A", "B", "C"][code].to_string(),
                    expiry_date: days.map(|d| today() + chrono::TimeDelta::days(d)),
                    production_date: None,
                    qty,
                    reserved: qty * percent / 100,
                })
                .collect()
        })
    }

    /// What `pick` may take of `batch` (before the take).
    fn room_of(pick: &Pick, batch: &BatchRow) -> i64 {
        pick.room(batch, today()).limit(batch)
    }

    /// The properties every take has (`None`: refused as short): it takes exactly `qty` or nothing; each batch gives at
    /// most its room; batches are walked in FEFO order, each one emptied of its room before a
    /// later one gives anything; a refusal says what was there; what is left adds up.
    fn check(before: &[BatchRow], qty: i64, pick: &Pick) -> Result<Option<Plan>, TestCaseError> {
        let mut lots = before.to_vec();
        let mut sorted = before.to_vec();
        sorted.sort_by_key(fefo_key);
        let there: i64 = sorted.iter().map(|b| room_of(pick, b)).sum();
        match take(&mut lots, qty, pick, today()) {
            Err(available) => {
                prop_assert!(there < qty);
                prop_assert_eq!(available, there);
                prop_assert_eq!(&lots, &sorted, "a refused take changes nothing");
                Ok(None)
            }
            Ok(plan) => {
                prop_assert!(there >= qty);
                prop_assert_eq!(plan.iter().map(|t| t.qty).sum::<i64>(), qty);
                let last = plan.last().map(|t| fefo_key(&t.batch));
                for batch in &sorted {
                    let taken: i64 = plan
                        .iter()
                        .filter(|t| t.batch.id == batch.id)
                        .map(|t| t.qty)
                        .sum();
                    prop_assert!(taken <= room_of(pick, batch), "within its room");
                    if last.is_some_and(|last| fefo_key(batch) < last) {
                        prop_assert_eq!(taken, room_of(pick, batch), "FEFO: earlier ones first");
                    }
                    let after = lots.iter().find(|b| b.id == batch.id).unwrap();
                    prop_assert_eq!(after.qty, batch.qty - taken);
                    prop_assert!(after.reserved <= after.qty, "nobody holds what is gone");
                }
                Ok(Some(plan))
            }
        }
    }

    proptest! {
        #[test]
        fn fefo_ships_only_what_is_usable_and_not_reserved(before in lots(), qty in 1i64..60) {
            if let Some(plan) = check(&before, qty, &Pick::Fefo)? {
                for taken in &plan {
                    prop_assert!(taken.batch.usable(today()), "never an expired batch");
                    prop_assert!(taken.qty <= taken.batch.qty - taken.batch.reserved);
                    prop_assert_eq!(taken.unreserve, 0, "reservations stay");
                }
            }
        }

        #[test]
        fn goods_that_are_gone_go_expired_first(before in lots(), qty in 1i64..60) {
            if let Some(plan) = check(&before, qty, &Pick::Any)? {
                let expired = before.iter().filter(|b| !b.usable(today())).map(|b| b.qty).sum::<i64>();
                let taken = |usable: bool| -> i64 {
                    plan.iter().filter(|t| t.batch.usable(today()) == usable).map(|t| t.qty).sum()
                };
                prop_assert!(
                    taken(true) == 0 || taken(false) == expired,
                    "usable goods go only once the expired are all gone"
                );
            }
        }

        #[test]
        fn a_named_batch_gives_only_itself(before in lots(), qty in 1i64..60, code in 0usize..3) {
            let code = ["A", "B", "C"][code].to_string();
            for pick in [
                Pick::Batch { code: code.clone(), expired_ok: false },
                Pick::Batch { code: code.clone(), expired_ok: true },
                Pick::Lot { code: code.clone() },
                Pick::Reserved { code: code.clone() },
            ] {
                if let Some(plan) = check(&before, qty, &pick)? {
                    prop_assert!(plan.iter().all(|t| t.batch.batch_code == code));
                    if let Pick::Reserved { .. } = pick {
                        for taken in &plan {
                            prop_assert!(taken.batch.usable(today()));
                            prop_assert_eq!(taken.unreserve, taken.qty, "an order ships what it held");
                        }
                    }
                }
            }
        }

        #[test]
        fn a_count_sets_what_is_there(now in 0i64..50, counted in 0i64..50, batch in prop::option::of("[AB]")) {
            let change = match count(7, counted, batch.clone(), now) {
                None => 0,
                Some(Leg::Take { location, qty, pick }) => {
                    prop_assert_eq!(location, 7);
                    let expected = batch.clone().map_or(Pick::Any, |code| Pick::Lot { code });
                    prop_assert_eq!(pick, expected, "a count takes physically: expired first, reserved too");
                    -qty
                }
                Some(Leg::Add { location, qty, lot }) => {
                    prop_assert_eq!(location, 7);
                    let Lot::Named { code, .. } = lot else {
                        return Err(TestCaseError::fail("a count adds into a named lot"));
                    };
                    prop_assert_eq!(code, batch.clone().unwrap_or_default());
                    qty
                }
                Some(other) => return Err(TestCaseError::fail(format!("a count made {other:?}"))),
            };
            prop_assert_eq!(now + change, counted);
        }

        #[test]
        fn waves_keep_order_and_let_takes_see_earlier_additions(
            lines in prop::collection::vec((prop::collection::vec(0i64..4, 0..2), prop::collection::vec(0i64..4, 0..2)), 0..12)
        ) {
            let all: Vec<usize> = (0..lines.len()).collect();
            let waves = waves(&all, |i| lines[i].0.clone(), |i| lines[i].1.clone());
            let flat: Vec<usize> = waves.iter().flatten().copied().collect();
            prop_assert_eq!(&flat, &all, "every line once, in request order");
            for wave in &waves {
                prop_assert!(!wave.is_empty());
                for (n, &i) in wave.iter().enumerate() {
                    for &earlier in &wave[..n] {
                        prop_assert!(
                            lines[i].0.iter().all(|stock| !lines[earlier].1.contains(stock)),
                            "line {} takes from what line {} of its wave adds", i, earlier
                        );
                    }
                }
            }
            // A new wave starts only when it must.
            for pair in waves.windows(2) {
                let first = pair[1][0];
                prop_assert!(pair[0].iter().any(|&earlier| lines[first].0.iter().any(|s| lines[earlier].1.contains(s))));
            }
        }

        #[test]
        fn a_reservation_holds_what_is_free_first_expiry_first(
            spots in prop::collection::vec((prop::option::weighted(0.8, 0i64..4), 0i64..3, 0i64..8), 0..10),
            qty in 1i64..40,
            fewest in any::<bool>(),
        ) {
            let spots: Vec<Spot> = spots.into_iter().enumerate().map(|(i, (expiry, location, free))| Spot {
                batch_id: i as i64,
                location_id: location,
                location_code: format!("L{location}"),
                expiry_date: expiry.map(|d| today() + chrono::Days::new(d as u64)),
                free,
            }).collect();
            let spread = if fewest { Spread::FewestLocations } else { Spread::Oldest };
            let chosen = reserve(&spots, qty, spread);
            let free: i64 = spots.iter().map(|s| s.free).sum();
            prop_assert_eq!(chosen.iter().map(|(_, q)| q).sum::<i64>(), qty.min(free));
            for &(i, q) in &chosen {
                prop_assert!(q > 0 && q <= spots[i].free, "never more than is free");
            }
            // A batch is held from only once every batch expiring earlier is held whole.
            let key = |s: &Spot| (s.expiry_date.is_none(), s.expiry_date);
            for &(i, _) in &chosen {
                for (j, other) in spots.iter().enumerate() {
                    if key(other) < key(&spots[i]) && other.free > 0 {
                        let held = chosen.iter().find(|(k, _)| *k == j).map_or(0, |(_, q)| *q);
                        prop_assert_eq!(held, other.free, "batch {} expires earlier", j);
                    }
                }
            }
        }
    }
}
