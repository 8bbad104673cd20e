//! `depot demo`: fills an empty database with a realistic warehouse, through the real operations
//! (item and location creation, receipts, putaways) — never by writing tables directly.
//!
//! 40 locations of all three kinds; items named, measured and counted in the warehouse's language
//! (`DEPOT_LANGUAGE`: 经典矿泉水, 550毫升×24瓶, 箱 — or Mineral water, Classic, 550ml × 24, case); lots whose
//! expiry runs from a few days away to two years out (some never expire); receipts into the docks
//! spread over the last four weeks, most of each put away onto two storage shelves. Work is
//! grouped into batched transactions so 100 000 items load in well under a minute.

use std::time::Instant;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::Config;
use crate::db::{Backend, Db};
use crate::domain::LocationKind;
use crate::error::AppError;
use crate::inbound::service::Receive;
use crate::inbound::{ReceiveInput, ReceiveLineInput};
use crate::items::service::{create_items_in, NewItem};
use crate::items::NewItemInput;
use crate::lang::Locale;
use crate::locations::service::{create_location_at, NewLocation};
use crate::locations::NewLocationInput;
use crate::movement::pipeline::{apply, Moment};
use crate::putaway::service::Putaway;
use crate::putaway::{PutawayInput, PutawayLineInput};
use crate::with_pool;

/// Items handled per transaction (one receipt and one putaway of up to 500 lines each).
const CHUNK: usize = 250;
/// Items created per transaction before the goods (SQLite): a block of the search index.
const ITEM_CHUNK: usize = crate::search::index::BLOCK_ITEMS as usize;
/// How far back the demo's movements reach.
const HISTORY_DAYS: i64 = 28;

/// One demo product in both languages; a demo warehouse speaks one of them.
struct Product {
    zh: (&'static str, &'static str, &'static str),
    en: (&'static str, &'static str, &'static str),
    /// Whether its lots have an expiry date.
    expires: bool,
}

/// (name, unit, spec) in each language.
const PRODUCTS: &[Product] = &[
    Product {
        zh: ("矿泉水", "箱", "550毫升×24瓶"),
        en: ("Mineral water", "case", "550ml × 24"),
        expires: true,
    },
    Product {
        zh: ("绿茶", "箱", "500毫升×15瓶"),
        en: ("Green tea", "case", "500ml × 15"),
        expires: true,
    },
    Product {
        zh: ("方便面", "箱", "120克×24袋"),
        en: ("Instant noodles", "case", "120g × 24"),
        expires: true,
    },
    Product {
        zh: ("大米", "袋", "5千克"),
        en: ("Rice", "bag", "5kg"),
        expires: true,
    },
    Product {
        zh: ("食用油", "瓶", "5升"),
        en: ("Cooking oil", "bottle", "5L"),
        expires: true,
    },
    Product {
        zh: ("酱油", "瓶", "1.9升"),
        en: ("Soy sauce", "bottle", "1.9L"),
        expires: true,
    },
    Product {
        zh: ("牛奶", "箱", "250毫升×24盒"),
        en: ("Milk", "case", "250ml × 24"),
        expires: true,
    },
    Product {
        zh: ("酸奶", "箱", "200克×12杯"),
        en: ("Yogurt", "case", "200g × 12"),
        expires: true,
    },
    Product {
        zh: ("饼干", "盒", "400克"),
        en: ("Biscuits", "box", "400g"),
        expires: true,
    },
    Product {
        zh: ("巧克力", "盒", "100克×20块"),
        en: ("Chocolate", "box", "100g × 20"),
        expires: true,
    },
    Product {
        zh: ("咖啡豆", "袋", "1千克"),
        en: ("Coffee beans", "bag", "1kg"),
        expires: true,
    },
    Product {
        zh: ("茶叶", "罐", "250克"),
        en: ("Tea leaves", "tin", "250g"),
        expires: true,
    },
    Product {
        zh: ("洗衣液", "瓶", "3千克"),
        en: ("Laundry detergent", "bottle", "3kg"),
        expires: true,
    },
    Product {
        zh: ("洗发水", "瓶", "750毫升"),
        en: ("Shampoo", "bottle", "750ml"),
        expires: true,
    },
    Product {
        zh: ("牙膏", "盒", "120克×3支"),
        en: ("Toothpaste", "box", "120g × 3"),
        expires: true,
    },
    Product {
        zh: ("纸巾", "包", "3层×10包"),
        en: ("Tissues", "pack", "3-ply × 10"),
        expires: false,
    },
    Product {
        zh: ("卫生纸", "包", "10卷"),
        en: ("Toilet paper", "pack", "10 rolls"),
        expires: false,
    },
    Product {
        zh: ("电池", "包", "5号×12节"),
        en: ("AA batteries", "pack", "12 pcs"),
        expires: false,
    },
    Product {
        zh: ("灯泡", "盒", "9瓦 E27"),
        en: ("LED bulb", "box", "9W E27"),
        expires: false,
    },
    Product {
        zh: ("插线板", "个", "6位 1.8米"),
        en: ("Power strip", "pcs", "6 outlets, 1.8m"),
        expires: false,
    },
    Product {
        zh: ("数据线", "个", "1米"),
        en: ("USB-C cable", "pcs", "1m"),
        expires: false,
    },
    Product {
        zh: ("口罩", "盒", "50只"),
        en: ("Face masks", "box", "50 pcs"),
        expires: true,
    },
    Product {
        zh: ("手套", "副", "L码"),
        en: ("Work gloves", "pair", "size L"),
        expires: false,
    },
    Product {
        zh: ("胶带", "卷", "48毫米×100米"),
        en: ("Packing tape", "roll", "48mm × 100m"),
        expires: false,
    },
    Product {
        zh: ("纸箱", "捆", "40×30×30厘米×20个"),
        en: ("Carton boxes", "bundle", "40×30×30cm × 20"),
        expires: false,
    },
    Product {
        zh: ("黄桃罐头", "箱", "425克×12罐"),
        en: ("Canned peaches", "case", "425g × 12"),
        expires: true,
    },
    Product {
        zh: ("蜂蜜", "罐", "500克"),
        en: ("Honey", "jar", "500g"),
        expires: true,
    },
    Product {
        zh: ("面粉", "袋", "2.5千克"),
        en: ("Flour", "bag", "2.5kg"),
        expires: true,
    },
    Product {
        zh: ("白糖", "袋", "1千克"),
        en: ("White sugar", "bag", "1kg"),
        expires: true,
    },
    Product {
        zh: ("香醋", "瓶", "500毫升"),
        en: ("Vinegar", "bottle", "500ml"),
        expires: true,
    },
    Product {
        zh: ("橙汁", "箱", "1升×6瓶"),
        en: ("Orange juice", "case", "1L × 6"),
        expires: true,
    },
    Product {
        zh: ("啤酒", "箱", "330毫升×24罐"),
        en: ("Beer", "case", "330ml × 24"),
        expires: true,
    },
    Product {
        zh: ("猫粮", "袋", "2千克"),
        en: ("Cat food", "bag", "2kg"),
        expires: true,
    },
    Product {
        zh: ("狗粮", "袋", "10千克"),
        en: ("Dog food", "bag", "10kg"),
        expires: true,
    },
    Product {
        zh: ("婴儿奶粉", "罐", "800克"),
        en: ("Infant formula", "tin", "800g"),
        expires: true,
    },
    Product {
        zh: ("维生素C", "瓶", "100片"),
        en: ("Vitamin C tablets", "bottle", "100 tablets"),
        expires: true,
    },
    Product {
        zh: ("洗洁精", "瓶", "1.29千克"),
        en: ("Dish soap", "bottle", "1.29kg"),
        expires: true,
    },
    Product {
        zh: ("垃圾袋", "卷", "45×50厘米×30只"),
        en: ("Trash bags", "roll", "45×50cm × 30"),
        expires: false,
    },
    Product {
        zh: ("保鲜膜", "卷", "30厘米×100米"),
        en: ("Cling film", "roll", "30cm × 100m"),
        expires: false,
    },
    Product {
        zh: ("冷冻水饺", "袋", "1千克"),
        en: ("Frozen dumplings", "bag", "1kg"),
        expires: true,
    },
];

/// Product lines, so 40 products make 200 distinct items.
const LINES: &[(&str, &str)] = &[
    ("经典", "Classic"),
    ("特选", "Select"),
    ("家庭装", "Family pack"),
    ("有机", "Organic"),
    ("便携", "Travel"),
];

/// What the demo loaded and how long it took.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub items: usize,
    pub locations: usize,
    pub receipt_lines: usize,
    pub putaway_lines: usize,
    pub stock_rows: i64,
    pub seconds: f64,
}

/// A small deterministic generator (SplitMix64): the same demo every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }
}

/// Counts the items already in the database.
pub async fn item_count(db: &Db) -> Result<i64, AppError> {
    Ok(with_pool!(db, |pool, _backend| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM items")
            .fetch_one(pool)
            .await?
    }))
}

/// Items in the demo that `--demo-if-empty` loads (as `depot demo`).
pub const DEFAULT_ITEMS: usize = 200;

/// `--demo-if-empty`: loads the demo into a warehouse without items; logs what it did (a
/// failure too: the warehouse then stays empty, nothing else depends on it).
pub async fn load_if_empty(db: &Db, config: &Config, names: Names) {
    match load_demo(db, config, DEFAULT_ITEMS, names).await {
        Ok(summary) => tracing::info!(?names, "{summary}"),
        // It holds items already: nothing to do.
        Err(error) if error.code == crate::error::ErrorCode::Conflict => {}
        Err(error) => tracing::warn!(%error, "the demo warehouse was not loaded"),
    }
}

/// Loads the demo warehouse with `items` items into an empty database.
pub async fn load_demo(
    db: &Db,
    config: &Config,
    items: usize,
    names: Names,
) -> Result<DemoSummary, AppError> {
    let started = Instant::now();
    if item_count(db).await? > 0 {
        return Err(AppError::conflict(
            "the database already holds items; the demo loads into an empty one",
        ));
    }
    let today = config.today();
    let now = config.moment().now;

    let locations = demo_locations(names);
    let mut tx = db.begin_write().await?;
    let site = crate::warehouses::service::one(&mut tx, None, "warehouse_code").await?;
    for (code, name, kind) in &locations {
        let input = NewLocationInput {
            code: code.clone(),
            name: Some(name.clone()),
            kind: kind.as_str().into(),
            ..NewLocationInput::default()
        };
        create_location_at(&mut tx, &site, &NewLocation::parse(&input)?).await?;
    }
    tx.commit().await?;
    let plan = Arc::new(Plan {
        items,
        chunks: items.div_ceil(CHUNK).max(1),
        today,
        now,
        docks: codes_of(&locations, LocationKind::Receiving),
        shelves: codes_of(&locations, LocationKind::Storage),
        language: names,
    });

    // Chunks touch disjoint items and stocks, so PostgreSQL loads two at once (one per core);
    // SQLite has one writer at a time.
    let workers = match db.backend() {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    };

    // The items go into the search index (`search::index`), whose rows hold 1 024 neighbouring
    // items each; a transaction that creates items keeps those rows locked until it commits.
    // SQLite (one writer) creates them first, a block of the index at a time: the fewest index
    // writes. PostgreSQL's two workers create each chunk's items in a short transaction of its
    // own just before the chunk's goods, so a worker that waits on the other's index rows waits
    // for that short transaction only, while the other's goods go on (both receive into the
    // same shards of the count of items in stock, so the goods take turns anyway).
    let items_with_goods = db.backend() == Backend::Postgres;
    if !items_with_goods {
        for first in (0..items).step_by(ITEM_CHUNK) {
            create_demo_items(db, first, (first + ITEM_CHUNK).min(items), names).await?;
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (db, plan) = (db.clone(), plan.clone());
        tasks.spawn(async move {
            let mut lines = (0, 0);
            for chunk in (worker..plan.chunks).step_by(workers) {
                if items_with_goods {
                    let first = chunk * CHUNK;
                    create_demo_items(&db, first, (first + CHUNK).min(plan.items), plan.language)
                        .await?;
                }
                let (receipt, putaway) = load_chunk(&db, &plan, chunk).await?;
                lines = (lines.0 + receipt, lines.1 + putaway);
            }
            Ok::<_, AppError>(lines)
        });
    }
    let (mut receipt_lines, mut putaway_lines) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (receipt, putaway) = done.map_err(|e| AppError::internal(&e))??;
        receipt_lines += receipt;
        putaway_lines += putaway;
    }

    // A bulk load: PostgreSQL's planner needs statistics now, not whenever autovacuum (which
    // may be off) gets to it; without them it plans the first snapshot pages as full scans.
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE").execute(pool).await?;
    }

    let stock_rows = with_pool!(db, |pool, _backend| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM stocks"
    )
    .fetch_one(pool)
    .await?);
    Ok(DemoSummary {
        items,
        locations: locations.len(),
        receipt_lines,
        putaway_lines,
        stock_rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What every chunk of the demo shares.
struct Plan {
    items: usize,
    chunks: usize,
    today: NaiveDate,
    now: DateTime<Utc>,
    docks: Vec<String>,
    shelves: Vec<String>,
    language: Names,
}

/// Creates the demo items `first..last` in one transaction.
async fn create_demo_items(
    db: &Db,
    first: usize,
    last: usize,
    language: Names,
) -> Result<(), AppError> {
    let parsed = (first..last)
        .map(|n| NewItem::parse(&demo_item(n, language)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = db.begin_write().await?;
    create_items_in(&mut tx, &parsed).await?;
    tx.commit().await?;
    Ok(())
}

/// Receives one chunk's items at a dock and puts most of them away, in one transaction;
/// returns (receipt lines, putaway lines).
async fn load_chunk(db: &Db, plan: &Plan, chunk: usize) -> Result<(usize, usize), AppError> {
    let (today, docks, shelves) = (plan.today, &plan.docks, &plan.shelves);
    let first = chunk * CHUNK;
    let last = ((chunk + 1) * CHUNK).min(plan.items);
    if first >= last {
        return Ok((0, 0));
    }
    let mut rng = Rng(0x5EED_DE90 ^ (chunk as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // This chunk's receipt happened this long ago; its putaway two hours later.
    let minutes_ago = HISTORY_DAYS * 24 * 60 * (plan.chunks - chunk) as i64 / plan.chunks as i64;
    let received_at = plan.now - Duration::minutes(minutes_ago);
    let put_away_at = (received_at + Duration::hours(2)).min(plan.now);
    let dock = &docks[chunk % docks.len()];

    let mut tx = db.begin_write().await?;
    let mut receipt = Vec::new();
    let mut moves = Vec::new();
    let chunk_items: Vec<NewItemInput> =
        (first..last).map(|n| demo_item(n, plan.language)).collect();
    for (n, item) in (first..last).zip(&chunk_items) {
        let expires = PRODUCTS[n % PRODUCTS.len()].expires;
        let lots = rng.between(1, 2);
        let mut received = 0;
        for lot in 0..lots {
            let qty = rng.between(2, 60) * 10;
            received += qty;
            receipt.push(ReceiveLineInput {
                sku: Some(item.sku.clone()),
                location_code: Some(dock.clone()),
                qty,
                batch_code: Some(format!("L{}-{:02}", received_at.format("%y%m%d"), lot + 1)),
                expiry_date: expires.then(|| expiry(&mut rng, today)),
                production_date: expires
                    .then(|| today - Duration::days(rng.between(HISTORY_DAYS + 5, 120))),
                ..ReceiveLineInput::default()
            });
        }
        // Most of it goes onto two shelves; the rest waits at the dock.
        let first_shelf = rng.between(0, shelves.len() as i64 - 1) as usize;
        let second_shelf =
            (first_shelf + 1 + rng.between(0, shelves.len() as i64 - 2) as usize) % shelves.len();
        for (shelf, share) in [(first_shelf, 4), (second_shelf, 3)] {
            moves.push(PutawayLineInput {
                sku: Some(item.sku.clone()),
                from_location_code: Some(dock.clone()),
                to_location_code: Some(shelves[shelf].clone()),
                qty: received * share / 10,
                ..PutawayLineInput::default()
            });
        }
    }
    let lines = (receipt.len(), moves.len());
    let receive = Receive::parse(&ReceiveInput {
        warehouse_code: None,
        r#ref: format!("PO-DEMO-{:05}", chunk + 1),
        lines: receipt,
    })?;
    let at = |now| Moment { now, today };
    apply(&mut tx, &receive, at(received_at), Some(DEMO_ACTOR)).await?;
    let putaway = Putaway::parse(&PutawayInput {
        warehouse_code: None,
        r#ref: format!("TR-DEMO-{:05}", chunk + 1),
        lines: moves,
    })?;
    apply(&mut tx, &putaway, at(put_away_at), Some(DEMO_ACTOR)).await?;
    tx.commit().await?;
    Ok(lines)
}

/// Who the demo's movements are recorded as: the `depot demo` command, not a person (people
/// and tokens are `user:NAME` and `token:NAME`).
pub const DEMO_ACTOR: &str = "cli:demo";

/// 4 receiving docks, 32 storage shelves (aisles A–D, bays 01–08), 4 shipping lanes, named in
/// the demo's language.
fn demo_locations(names: Names) -> Vec<(String, String, LocationKind)> {
    let zh = names == Names::In(Locale::zh_CN);
    let mut locations = Vec::new();
    for n in 1..=4 {
        let name = if zh {
            format!("{n} 号收货口")
        } else {
            format!("Dock {n}")
        };
        locations.push((format!("R-{n:02}"), name, LocationKind::Receiving));
    }
    for aisle in ['A', 'B', 'C', 'D'] {
        for bay in 1..=8 {
            let name = if zh {
                format!("{aisle} 区 {bay} 号货架")
            } else {
                format!("Aisle {aisle}, bay {bay}")
            };
            locations.push((format!("{aisle}-{bay:02}"), name, LocationKind::Storage));
        }
    }
    for n in 1..=4 {
        let name = if zh {
            format!("{n} 号发货区")
        } else {
            format!("Shipping lane {n}")
        };
        locations.push((format!("S-{n:02}"), name, LocationKind::Shipping));
    }
    locations
}

fn codes_of(locations: &[(String, String, LocationKind)], kind: LocationKind) -> Vec<String> {
    locations
        .iter()
        .filter(|(_, _, k)| *k == kind)
        .map(|(code, _, _)| code.clone())
        .collect()
}

/// The language the demo's items and places are named in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// The warehouse's language (`DEPOT_LANGUAGE`).
    In(Locale),
    /// Both, as a Chinese importer's catalogue may have ("经典矿泉水 Mineral water, Classic"):
    /// what `make bench` searches in both languages.
    Both,
}

/// The n-th demo item: products × product lines, numbered past the first 200, named in the
/// demo's language ("经典矿泉水", 箱, 550毫升×24瓶; "Mineral water, Classic", case, 550ml × 24).
fn demo_item(n: usize, language: Names) -> NewItemInput {
    let product = &PRODUCTS[n % PRODUCTS.len()];
    let (line_zh, line_en) = LINES[(n / PRODUCTS.len()) % LINES.len()];
    let round = n / (PRODUCTS.len() * LINES.len());
    let suffix = if round == 0 {
        String::new()
    } else {
        format!(" #{}", round + 1)
    };
    let (name, unit, spec) = match language {
        Names::In(Locale::zh_CN) => {
            let (name, unit, spec) = product.zh;
            (format!("{line_zh}{name}{suffix}"), unit, spec)
        }
        Names::In(Locale::en) => {
            let (name, unit, spec) = product.en;
            (format!("{name}, {line_en}{suffix}"), unit, spec)
        }
        Names::Both => {
            let (name, unit, spec) = product.en;
            (
                format!("{line_zh}{} {name}, {line_en}{suffix}", product.zh.0),
                unit,
                spec,
            )
        }
    };
    NewItemInput {
        sku: format!("SKU-{:06}", n + 1),
        name,
        spec: Some(spec.to_string()),
        unit: Some(unit.to_string()),
        // An EAN-13 under a made-up company prefix (690…, GS1 China's range), so scans work.
        barcode: Some(demo_barcode(n)),
    }
}

/// The n-th demo item's EAN-13: `690` + 9 digits of `n` + the check digit.
fn demo_barcode(n: usize) -> String {
    crate::scan::gs1::with_check_digit(&format!("690{:09}", n + 1))
}

/// Expiry dates: one lot in five within a month (near expiry), the rest up to two years out.
fn expiry(rng: &mut Rng, today: NaiveDate) -> NaiveDate {
    let days = if rng.between(1, 5) == 1 {
        rng.between(2, 30)
    } else {
        rng.between(31, 730)
    };
    today + Duration::days(days)
}

/// For logs: "loaded 200 items …".
impl std::fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loaded the demo warehouse: {} items, {} locations, {} receipt lines, {} putaway lines, {} stock rows in {:.1} s",
            self.items, self.locations, self.receipt_lines, self.putaway_lines, self.stock_rows, self.seconds
        )
    }
}
