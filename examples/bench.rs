//! `make bench`: Depot under load, side by side with what the database alone can do.
//!
//! For each backend it loads the demo warehouse (`depot demo --items N`), starts the release
//! server on a loopback port, drives it over HTTP from concurrent clients, and runs the same
//! work directly against the database (no HTTP, no Leptos, no service code: the statements an
//! outbound or a snapshot page needs, written out by hand) as the ceiling. It prints one table
//! and writes `target/bench/latest.json` and `target/bench/latest.md`.
//!
//! ```sh
//! cargo run --release --features ssr --example bench -- --help
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use clap::Parser;
use depot::db::{Backend, Db, PoolSettings};
use depot::snapshot::service::{push_rank_page, push_rank_start};
use depot::snapshot::{Place, Start};
use depot::with_tx;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

#[derive(Debug, Parser)]
#[command(
    about = "Depot's benchmark: HTTP load against the release server and the database's ceiling"
)]
struct Args {
    /// The release server binary (`cargo leptos build --release`).
    #[arg(long, default_value = "target/release/depot")]
    depot: PathBuf,
    /// The site the server serves (its `pkg/` holds the wasm, JS and CSS).
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
    /// Demo warehouse size (about 3 stock rows per item).
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    /// Measured seconds per scenario (after a warm-up second).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Backends to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    backends: Vec<String>,
    /// A PostgreSQL server and user that may create databases; the bench makes its own.
    #[arg(
        long,
        env = "DEPOT_TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// An earlier release binary to measure beside `--depot` in the same run: the outbound
    /// scenarios run on it too (rows marked "before"), against the same database and ceiling.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Only the outbound scenarios (and the assets): a quicker before/after of the hot path.
    #[arg(long)]
    outbound_only: bool,
    /// Where the report and the scratch SQLite file go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How deep the deep-page scenarios read (items skipped), on a demo big enough.
const DEEP_OFFSET: i64 = 50_000;

#[derive(Debug, Clone, Serialize)]
struct Stats {
    clients: usize,
    requests: u64,
    errors: u64,
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct Scenario {
    name: String,
    depot: Stats,
    ceiling: Option<Stats>,
    /// Depot's throughput over the ceiling's.
    ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
struct BackendReport {
    backend: String,
    demo_load_seconds: f64,
    stock_rows: i64,
    cold_start_ms: f64,
    idle_rss_mb: f64,
    peak_rss_mb: f64,
    scenarios: Vec<Scenario>,
    /// Posting a count ([`COUNT_LINES`] counted lines, each off by one): lines, seconds.
    count_post: Option<(usize, f64)>,
    /// Exports and imports (SPEC §11).
    integration: Vec<Transfer>,
}

/// One export or import: what, how many rows and bytes, how long, and the server's resident
/// memory before and at its peak during it.
#[derive(Debug, Serialize)]
struct Transfer {
    what: String,
    rows: usize,
    bytes: usize,
    seconds: f64,
    rss_before_mb: f64,
    rss_peak_mb: f64,
}

/// How many item rows the import measures (SPEC §11's largest file).
const IMPORT_ROWS: usize = 100_000;

/// Samples the server's resident memory every 10 ms until `done` is set; the highest seen.
fn sample_rss(pid: u32, done: Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !done.load(Ordering::Relaxed) {
            peak = peak.max(rss_mb(pid, "VmRSS").unwrap_or(0.0));
            std::thread::sleep(Duration::from_millis(10));
        }
        peak.max(rss_mb(pid, "VmRSS").unwrap_or(0.0))
    })
}

/// Downloads every stock row as `format`, reading the stream as it comes.
async fn export_stock(
    http: &reqwest::Client,
    base: &str,
    pid: u32,
    format: &str,
) -> Result<Transfer, BoxError> {
    let rss_before_mb = rss_mb(pid, "VmRSS")?;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_rss(pid, done.clone());
    let start = Instant::now();
    let mut response = http
        .get(format!("{base}/export/stock?format={format}"))
        .timeout(Duration::from_secs(600))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("export: {}", response.status()).into());
    }
    let (mut bytes, mut newlines) = (0usize, 0usize);
    let mut first = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len();
        newlines += chunk.iter().filter(|b| **b == b'\n').count();
        if first.len() < 4 {
            first.extend_from_slice(&chunk[..chunk.len().min(4)]);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let rss_peak_mb = sampler.join().map_err(|_| "the sampler panicked")?;
    // A CSV's rows are its lines less the header; an XLSX's are not counted here.
    let rows = if format == "csv" {
        newlines.saturating_sub(1)
    } else {
        0
    };
    Ok(Transfer {
        what: format!("export all stock as {format}"),
        rows,
        bytes,
        seconds,
        rss_before_mb,
        rss_peak_mb,
    })
}

/// Imports [`IMPORT_ROWS`] new items from one CSV: a dry run, then the import.
async fn import_items(
    http: &reqwest::Client,
    base: &str,
    pid: u32,
    run_id: &str,
) -> Result<Vec<Transfer>, BoxError> {
    let mut csv = String::from("sku,name,spec,unit\n");
    for n in 0..IMPORT_ROWS {
        csv.push_str(&format!(
            "IMP-{run_id}-{n:06},导入商品 Imported item {n},500g,box\n"
        ));
    }
    let mut out = Vec::new();
    for dry_run in [true, false] {
        let rss_before_mb = rss_mb(pid, "VmRSS")?;
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = sample_rss(pid, done.clone());
        let start = Instant::now();
        let response = http
            .post(format!("{base}/import/items?dry_run={dry_run}"))
            .header("content-type", "text/csv")
            .body(csv.clone())
            .timeout(Duration::from_secs(600))
            .send()
            .await?;
        let status = response.status();
        let report: Value = response.json().await?;
        let seconds = start.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        let rss_peak_mb = sampler.join().map_err(|_| "the sampler panicked")?;
        if !status.is_success() || report["created"] != IMPORT_ROWS {
            return Err(format!("import: {status}: {report:.300}").into());
        }
        out.push(Transfer {
            what: format!(
                "import {IMPORT_ROWS} new items{}",
                if dry_run { " (dry run)" } else { "" }
            ),
            rows: IMPORT_ROWS,
            bytes: csv.len(),
            seconds,
            rss_before_mb,
            rss_peak_mb,
        });
    }
    Ok(out)
}

/// The size of the count whose posting is measured (issue 17: under 5 s).
const COUNT_LINES: usize = 10_000;

#[derive(Debug, Serialize)]
struct Assets {
    wasm_raw_bytes: u64,
    wasm_gzip_bytes: u64,
    wasm_brotli_bytes: u64,
    /// Everything the first view ([`FIRST_VIEW`]) downloads (HTML, JS, WASM, CSS) as a browser asks for
    /// it (`Accept-Encoding: gzip, br`).
    first_view_bytes: u64,
    first_view_files: Vec<(String, u64)>,
    /// A cold load of the first view on a 4× CPU-throttled Chromium (end2end/bench/cold-load.mjs).
    cold_load: Option<Value>,
}

/// The page a clerk's handheld opens first: its bytes and its cold load are measured.
const FIRST_VIEW: &str = "/outbound";

/// Runs `end2end/bench/cold-load.mjs` (Playwright driving Debian's Chromium) against the server:
/// the median time until the first view is interactive on a 4× slower CPU, and its bytes.
fn cold_load(base: &str, secret: &str) -> Result<Value, BoxError> {
    let output = Command::new("node")
        .args(["end2end/bench/cold-load.mjs", base, FIRST_VIEW, "5"])
        .env("DEPOT_BENCH_TOKEN", secret)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("node end2end/bench/cold-load.mjs: {e} (run `make browser`)"))?;
    if !output.status.success() {
        return Err(format!("the cold-load measurement failed: {}", output.status).into());
    }
    let report: Value = serde_json::from_slice(&output.stdout)?;
    eprintln!("[bench] cold load of {FIRST_VIEW} at 4x CPU throttling: {report}");
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let depot = std::fs::canonicalize(&args.depot).map_err(|e| {
        format!(
            "{}: {e} (run `cargo leptos build --release`)",
            args.depot.display()
        )
    })?;
    let site_root = std::fs::canonicalize(&args.site_root)?;
    let started = Utc::now();

    let mut reports = Vec::new();
    let mut assets = None;
    for backend in &args.backends {
        let report = match backend.as_str() {
            "postgres" => {
                let name = format!("depot_bench_{}", std::process::id());
                let url = replace_database(&args.postgres_url, &name);
                let mut admin = PgConnection::connect(&args.postgres_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                let report = bench_backend(&args, &depot, &site_root, &url, &mut assets).await;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                report?
            }
            "sqlite" => {
                let file = std::fs::canonicalize(&args.out)?
                    .join(format!("bench-{}.db", std::process::id()));
                let url = format!("sqlite://{}", file.display());
                let report = bench_backend(&args, &depot, &site_root, &url, &mut assets).await;
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                report?
            }
            other => return Err(format!("unknown backend {other:?}").into()),
        };
        reports.push(report);
    }

    let assets = assets.ok_or("no backend was measured")?;
    let markdown = render(&reports, &assets, &args);
    println!("\n{markdown}");
    let report = json!({
        "started_at": started.to_rfc3339(),
        "items": args.items,
        "seconds_per_scenario": args.seconds,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "backends": reports,
        "assets": assets,
    });
    std::fs::write(
        args.out.join("latest.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(args.out.join("latest.md"), &markdown)?;
    println!(
        "written: {} and {}",
        args.out.join("latest.json").display(),
        args.out.join("latest.md").display()
    );
    Ok(())
}

async fn bench_backend(
    args: &Args,
    depot: &Path,
    site_root: &Path,
    url: &str,
    assets: &mut Option<Assets>,
) -> Result<BackendReport, BoxError> {
    let backend_name = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    eprintln!("[bench] {backend_name}: loading {} demo items", args.items);
    let load = Instant::now();
    let status = Command::new(depot)
        // Names in both languages: the scenarios search in both.
        .args(["demo", "--bilingual", "--items", &args.items.to_string()])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .status()?;
    if !status.success() {
        return Err(format!("depot demo failed: {status}").into());
    }
    let demo_load_seconds = load.elapsed().as_secs_f64();
    // SPEC §7: every request carries a token, as an ERP's would (a manager: it ships and
    // receives, and starts and posts counts).
    let token = Command::new(depot)
        .args([
            "token",
            "create",
            "--name",
            &format!("bench-{:x}", Utc::now().timestamp_millis()),
            "--role",
            "manager",
        ])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()?;
    if !token.status.success() {
        return Err(format!("depot token create failed: {}", token.status).into());
    }
    let secret = String::from_utf8(token.stdout)?.trim().to_string();
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {secret}").parse()?,
    );

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let spawned = Instant::now();
    let server = Server::start(
        depot,
        url,
        site_root,
        port,
        &args.out.join(format!("server-{backend_name}.log")),
    )?;
    let http = reqwest::Client::builder()
        .default_headers(auth)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let cold_start_ms = wait_healthy(&http, &base, spawned).await? * 1e3;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss_mb = rss_mb(server.0.id(), "VmRSS")?;
    // The baseline binary serves the same database on a port of its own, idle while the
    // other is measured.
    let baseline = match &args.baseline {
        Some(binary) => {
            let port = free_port()?;
            let server = Server::start(
                &std::fs::canonicalize(binary)?,
                url,
                site_root,
                port,
                &args.out.join(format!("server-{backend_name}-baseline.log")),
            )?;
            let base = format!("http://127.0.0.1:{port}");
            wait_healthy(&http, &base, Instant::now()).await?;
            Some((server, base))
        }
        None => None,
    };

    let db = Db::connect(url, &PoolSettings::default()).await?;
    let work = Arc::new(Workload::load(&db).await?);
    eprintln!(
        "[bench] {backend_name}: {} stock rows, {} with stock to ship; idle RSS {idle_rss_mb:.1} MB, cold start {cold_start_ms:.0} ms",
        work.stock_rows,
        work.picks.len()
    );
    let hot = work.picks[0].clone();
    receive_hot(&http, &base, &hot).await?;

    let measure = Duration::from_secs_f64(args.seconds);
    let run_id = format!("{:x}", Utc::now().timestamp_millis());
    let seq = Arc::new(AtomicU64::new(0));
    // The ceiling's pool is sized like the server's.
    let direct = Db::connect(url, &PoolSettings::default()).await?;
    // A warehouse's anchor tables are never empty, and PostgreSQL's autovacuum keeps their
    // statistics. This machine's PostgreSQL runs without autovacuum: a statement first prepared
    // while the anchors' table was empty keeps its sequential scan, cached on its connection,
    // for the whole run — so whichever server shipped first scanned a growing table. Every
    // server and the ceiling start from the same footing: a second of shipments straight to
    // the database, then ANALYZE (what autovacuum would have done).
    run(8, Duration::from_secs(1), {
        let (db, work, seq, run_id) = (direct.clone(), work.clone(), seq.clone(), run_id.clone());
        move || ship_direct(db.clone(), next_ref(&run_id, &seq), work.random_pick())
    })
    .await;
    if let Db::Postgres(pool) = &direct {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    let mut scenarios = Vec::new();

    for clients in [1, 8, 32] {
        let name = format!("outbound, random items, {clients} clients");
        eprintln!("[bench] {backend_name}: {name}");
        let depot_stats = run(
            clients,
            measure,
            ship_random(&http, &base, &work, &seq, &run_id),
        )
        .await;
        let ceiling = run(clients, measure, {
            let (db, work, seq, run_id) =
                (direct.clone(), work.clone(), seq.clone(), run_id.clone());
            move || {
                let pick = work.random_pick();
                ship_direct(db.clone(), next_ref(&run_id, &seq), pick)
            }
        })
        .await;
        if let Some((_, baseline)) = &baseline {
            let before = run(
                clients,
                measure,
                ship_random(&http, baseline, &work, &seq, &run_id),
            )
            .await;
            scenarios.push(Scenario::new(
                format!("{name}, before"),
                before,
                Some(ceiling.clone()),
            ));
        }
        scenarios.push(Scenario::new(name, depot_stats, Some(ceiling)));
    }

    let name = "outbound, one hot item, 8 clients".to_string();
    eprintln!("[bench] {backend_name}: {name}");
    let depot_stats = run(8, measure, {
        let (http, base, seq, run_id, hot) = (
            http.clone(),
            base.clone(),
            seq.clone(),
            run_id.clone(),
            hot.clone(),
        );
        move || {
            ship_http(
                http.clone(),
                base.clone(),
                next_ref(&run_id, &seq),
                hot.clone(),
            )
        }
    })
    .await;
    let ceiling = run(8, measure, {
        let (db, seq, run_id, hot) = (direct.clone(), seq.clone(), run_id.clone(), hot.clone());
        move || ship_direct(db.clone(), next_ref(&run_id, &seq), hot.clone())
    })
    .await;
    scenarios.push(Scenario::new(name, depot_stats, Some(ceiling)));
    drop(baseline);
    if args.outbound_only {
        let peak_rss_mb = rss_mb(server.0.id(), "VmHWM")?;
        if assets.is_none() {
            *assets = Some(measure_assets(&http, &base, site_root).await?);
        }
        drop(server);
        check_consistent(depot, url).await?;
        db.close().await;
        direct.close().await;
        return Ok(BackendReport {
            backend: backend_name.to_string(),
            demo_load_seconds,
            stock_rows: work.stock_rows,
            cold_start_ms,
            idle_rss_mb,
            peak_rss_mb,
            scenarios,
            count_post: None,
            integration: Vec::new(),
        });
    }

    // The snapshot page and its searches (issue 20): what a clerk types, from the first
    // keystroke (`4`, `茶`) to a whole sku, and a deep page of the default order.
    // 50 000 deep, or half-way down a smaller demo (`--items 20000`), so the page has rows.
    let deep = DEEP_OFFSET.min(args.items as i64 / 2 / 50 * 50);
    let deep_page = format!("snapshot, deep page (offset {deep})");
    let pages: [(&str, Option<&str>, i64); 10] = [
        ("snapshot, default page", None, 0),
        (
            "snapshot, search `茶` (tea, one CJK character)",
            Some("茶"),
            0,
        ),
        ("snapshot, search `绿茶` (green tea)", Some("绿茶"), 0),
        (
            "snapshot, search `4` (first keystroke of a sku)",
            Some("4"),
            0,
        ),
        ("snapshot, search `42`", Some("42"), 0),
        ("snapshot, search `420`", Some("420"), 0),
        ("snapshot, search `tea`", Some("tea"), 0),
        ("snapshot, search by name `green tea`", Some("green tea"), 0),
        (
            "snapshot, search by sku prefix `SKU-00042`",
            Some("SKU-00042"),
            0,
        ),
        (&deep_page, None, deep),
    ];
    for (name, q, offset) in pages {
        eprintln!("[bench] {backend_name}: {name}");
        let mut url = format!("{base}/snapshot/inventory?limit=50&offset={offset}");
        if let Some(q) = q {
            let q = percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC);
            url.push_str(&format!("&q={q}"));
        }
        let depot_stats = run(1, measure, {
            let (http, url) = (http.clone(), url.clone());
            move || get_ok(http.clone(), url.clone(), "application/json")
        })
        .await;
        let ceiling = run(1, measure, {
            let (db, q) = (direct.clone(), q.map(str::to_string));
            move || snapshot_direct(db.clone(), q.clone(), offset, None)
        })
        .await;
        scenarios.push(Scenario::new(name.to_string(), depot_stats, Some(ceiling)));
    }
    // The same deep page read by its place, as the homepage's Next link reads it.
    let name = format!("snapshot, deep page by place (after=…, offset {deep})");
    eprintln!("[bench] {backend_name}: {name}");
    let previous: Value = http
        .get(format!(
            "{base}/snapshot/inventory?limit=50&offset={}",
            deep - 50
        ))
        .send()
        .await?
        .json()
        .await?;
    let place = previous["next"]
        .as_str()
        .ok_or("the page before the deep page has no next")?
        .to_string();
    let (total_qty, item_id) = place
        .split_once('-')
        .and_then(|(t, i)| Some((t.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
        .ok_or("next is not <total_qty>-<item_id>")?;
    let depot_stats = run(1, measure, {
        let (http, url) = (
            http.clone(),
            format!("{base}/snapshot/inventory?limit=50&offset={deep}&after={place}"),
        );
        move || get_ok(http.clone(), url.clone(), "application/json")
    })
    .await;
    let ceiling = run(1, measure, {
        let db = direct.clone();
        move || snapshot_direct(db.clone(), None, deep, Some((total_qty, item_id)))
    })
    .await;
    scenarios.push(Scenario::new(name, depot_stats, Some(ceiling)));

    let name = "homepage HTML (/)".to_string();
    eprintln!("[bench] {backend_name}: {name}");
    let depot_stats = run(1, measure, {
        let (http, url) = (http.clone(), format!("{base}/"));
        move || get_ok(http.clone(), url.clone(), "text/html")
    })
    .await;
    let ceiling = run(1, measure, {
        let db = direct.clone();
        move || snapshot_direct(db.clone(), None, 0, None)
    })
    .await;
    scenarios.push(Scenario::new(name, depot_stats, Some(ceiling)));

    // SPEC §10 (issue 18): creating a one-line order (allocation by FEFO over the item's
    // storage stocks, under their locks), then shipping orders' reservations; each against the
    // outbound commit rate of the same run.
    let reserved_orders = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let name = "create order, 1 line, 8 clients".to_string();
    eprintln!("[bench] {backend_name}: {name}");
    let depot_stats = run(8, measure, {
        let (http, base, work, seq, run_id, orders) = (
            http.clone(),
            base.clone(),
            work.clone(),
            seq.clone(),
            run_id.clone(),
            reserved_orders.clone(),
        );
        move || {
            let pick = work.random_pick();
            create_order_http(
                http.clone(),
                base.clone(),
                next_ref(&run_id, &seq),
                pick,
                orders.clone(),
            )
        }
    })
    .await;
    scenarios.push(Scenario::new(name, depot_stats, None));
    let name = "ship reserved order, 8 clients".to_string();
    eprintln!(
        "[bench] {backend_name}: {name} ({} reserved orders to ship)",
        reserved_orders.lock().map(|o| o.len()).unwrap_or(0)
    );
    let depot_stats = run(8, measure, {
        let (http, base, orders) = (http.clone(), base.clone(), reserved_orders.clone());
        move || ship_order_http(http.clone(), base.clone(), orders.clone())
    })
    .await;
    scenarios.push(Scenario::new(name, depot_stats, None));

    // SPEC §11: exporting every stock row (streamed: the server's memory should not grow with
    // the rows), then importing 100 000 new items (goal: under 30 s).
    let mut integration = Vec::new();
    for format in ["csv", "xlsx"] {
        eprintln!("[bench] {backend_name}: export of the stock as {format}");
        integration.push(export_stock(&http, &base, server.0.id(), format).await?);
    }
    eprintln!("[bench] {backend_name}: import of {IMPORT_ROWS} items");
    integration.extend(import_items(&http, &base, server.0.id(), &run_id).await?);

    eprintln!("[bench] {backend_name}: posting a count of {COUNT_LINES} lines");
    let count_post = Some(count_post(&http, &base).await?);

    let peak_rss_mb = rss_mb(server.0.id(), "VmHWM")?;
    if assets.is_none() {
        let mut measured = measure_assets(&http, &base, site_root).await?;
        measured.cold_load = Some(cold_load(&base, &secret)?);
        *assets = Some(measured);
    }
    drop(server);
    let check = Instant::now();
    check_consistent(depot, url).await?;
    eprintln!(
        "[bench] {backend_name}: depot check clean after the load ({:.1} s)",
        check.elapsed().as_secs_f64()
    );
    db.close().await;
    direct.close().await;
    Ok(BackendReport {
        backend: backend_name.to_string(),
        demo_load_seconds,
        stock_rows: work.stock_rows,
        cold_start_ms,
        idle_rss_mb,
        peak_rss_mb,
        scenarios,
        count_post,
        integration,
    })
}

impl Scenario {
    fn new(name: String, depot: Stats, ceiling: Option<Stats>) -> Self {
        let ratio = ceiling
            .as_ref()
            .filter(|c| c.throughput > 0.0)
            .map(|c| depot.throughput / c.throughput);
        Self {
            name,
            depot,
            ceiling,
            ratio,
        }
    }
}

/// Kills the server when the bench ends, however it ends.
struct Server(Child);

impl Server {
    /// Starts `binary` serving `url` on loopback `port`, its output to `log`.
    fn start(
        binary: &Path,
        url: &str,
        site_root: &Path,
        port: u16,
        log: &Path,
    ) -> Result<Self, BoxError> {
        let log = std::fs::File::create(log)?;
        Ok(Server(
            Command::new(binary)
                .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
                .env("DATABASE_URL", url)
                .env("LEPTOS_SITE_ROOT", site_root)
                .stdout(log.try_clone()?)
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()?,
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A stock one unit can be shipped from.
#[derive(Debug, Clone)]
struct Pick {
    sku: String,
    location_code: String,
}

struct Workload {
    stock_rows: i64,
    picks: Vec<Pick>,
}

impl Workload {
    /// Stocks on storage shelves holding a batch with plenty of usable units.
    async fn load(db: &Db) -> Result<Self, BoxError> {
        let usable_after = Utc::now().date_naive() + chrono::Days::new(2);
        let (stock_rows, rows): (i64, Vec<(String, String)>) =
            depot::with_pool!(db, |pool, _backend| {
                let count = sqlx::query_scalar("SELECT COUNT(*) FROM stocks")
                    .fetch_one(pool)
                    .await?;
                let rows = sqlx::query_as(
                    "SELECT DISTINCT i.sku, l.code FROM batches b \
                     JOIN items i ON i.id = b.item_id JOIN locations l ON l.id = b.location_id \
                     WHERE l.kind = 'storage' AND b.qty >= 20 \
                       AND (b.expiry_date IS NULL OR b.expiry_date > $1) \
                     ORDER BY i.sku, l.code",
                )
                .bind(usable_after)
                .fetch_all(pool)
                .await?;
                (count, rows)
            });
        if rows.is_empty() {
            return Err("the demo warehouse has no stock to ship".into());
        }
        Ok(Self {
            stock_rows,
            picks: rows
                .into_iter()
                .map(|(sku, location_code)| Pick { sku, location_code })
                .collect(),
        })
    }

    fn random_pick(&self) -> Pick {
        self.picks[fastrand::usize(..self.picks.len())].clone()
    }
}

/// One outbound of one unit of a random stocked item, through the server at `base`, per call.
fn ship_random(
    http: &reqwest::Client,
    base: &str,
    work: &Arc<Workload>,
    seq: &Arc<AtomicU64>,
    run_id: &str,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let (http, base, work, seq, run_id) = (
        http.clone(),
        base.to_string(),
        work.clone(),
        seq.clone(),
        run_id.to_string(),
    );
    move || {
        let pick = work.random_pick();
        Box::pin(ship_http(
            http.clone(),
            base.clone(),
            next_ref(&run_id, &seq),
            pick,
        ))
    }
}

fn next_ref(run_id: &str, seq: &AtomicU64) -> String {
    format!("BENCH-{run_id}-{}", seq.fetch_add(1, Ordering::Relaxed))
}

/// Runs `op` from `clients` concurrent loops for a warm-up second, then for `measure`.
async fn run<F, Fut>(clients: usize, measure: Duration, op: F) -> Stats
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let warmup = Duration::from_secs(1);
    let start = Instant::now();
    let measured_from = start + warmup;
    let until = measured_from + measure;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let begun = Instant::now();
                if begun >= until {
                    break;
                }
                let result = op().await;
                if begun < measured_from {
                    continue;
                }
                match result {
                    Ok(()) => latencies.push(begun.elapsed()),
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert(error);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        let (l, e, f) = task.await.expect("load client panicked");
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            let index =
                ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[index].as_secs_f64() * 1e3
        }
    };
    Stats {
        clients,
        requests: latencies.len() as u64,
        errors,
        throughput: latencies.len() as f64 / measure.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        first_error,
    }
}

async fn ship_http(
    http: reqwest::Client,
    base: String,
    r#ref: String,
    pick: Pick,
) -> Result<(), String> {
    let response = http
        .post(format!("{base}/outbound/commit"))
        .json(&json!({
            "ref": r#ref,
            "lines": [{"sku": pick.sku, "location_code": pick.location_code, "qty": 1}],
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status.is_success() && body["status"] == "OK" {
        Ok(())
    } else {
        Err(format!("{status}: {body}"))
    }
}

/// Creates a one-line order of one unit of `pick`'s item; a reserved one joins `orders`.
async fn create_order_http(
    http: reqwest::Client,
    base: String,
    r#ref: String,
    pick: Pick,
    orders: Arc<std::sync::Mutex<Vec<String>>>,
) -> Result<(), String> {
    let response = http
        .post(format!("{base}/orders"))
        .json(&json!({"ref": r#ref, "lines": [{"sku": pick.sku, "qty": 1}]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status == reqwest::StatusCode::CREATED && body["order"]["status"] == "RESERVED" {
        if let Ok(mut orders) = orders.lock() {
            orders.push(r#ref);
        }
        Ok(())
    } else {
        Err(format!("{status}: {body}"))
    }
}

/// Ships all that one of `orders` reserved.
async fn ship_order_http(
    http: reqwest::Client,
    base: String,
    orders: Arc<std::sync::Mutex<Vec<String>>>,
) -> Result<(), String> {
    let r#ref = orders
        .lock()
        .map_err(|e| e.to_string())?
        .pop()
        .ok_or("no reserved order left to ship")?;
    let response = http
        .post(format!("{base}/orders/{ref}/ship"))
        .json(&json!({"reserved": true}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status.is_success() && body["order"]["status"] == "SHIPPED" {
        Ok(())
    } else {
        Err(format!("{status}: {body}"))
    }
}

async fn get_ok(http: reqwest::Client, url: String, accept: &'static str) -> Result<(), String> {
    let response = http
        .get(&url)
        .header("accept", accept)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() && !body.is_empty() {
        Ok(())
    } else {
        Err(format!("{url}: {status}"))
    }
}

/// The ceiling of an outbound: the statements one single-line FEFO shipment needs (look up the
/// item and location, lock the stock, check the ref, pick the batch, decrement batch, stock and
/// item total, append the ledger entry with its batch detail, anchor the ref), in one write
/// transaction on a pool configured as the server's.
async fn ship_direct(db: Db, r#ref: String, pick: Pick) -> Result<(), String> {
    ship_direct_inner(&db, &r#ref, &pick)
        .await
        .map_err(|e| e.to_string())
}

async fn ship_direct_inner(db: &Db, r#ref: &str, pick: &Pick) -> Result<(), BoxError> {
    let today = Utc::now().date_naive();
    let now = Utc::now();
    let mut tx = db.begin_write().await?;
    with_tx!(&mut tx, |conn, backend| {
        let item_id: i64 = sqlx::query_scalar("SELECT id FROM items WHERE sku = $1")
            .bind(&pick.sku)
            .fetch_one(&mut *conn)
            .await?;
        let location_id: i64 = sqlx::query_scalar("SELECT id FROM locations WHERE code = $1")
            .bind(&pick.location_code)
            .fetch_one(&mut *conn)
            .await?;
        let lock = if backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let (stock_id, qty): (i64, i64) = sqlx::query_as(&format!(
            "SELECT id, qty FROM stocks WHERE item_id = $1 AND location_id = $2{lock}"
        ))
        .bind(item_id)
        .bind(location_id)
        .fetch_one(&mut *conn)
        .await?;
        let anchored: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM movement_anchors WHERE kind = 'OUTBOUND' AND ref = $1",
        )
        .bind(r#ref)
        .fetch_optional(&mut *conn)
        .await?;
        if anchored.is_some() {
            return Err("ref reused".into());
        }
        type Lot = (i64, Option<NaiveDate>, String, Option<NaiveDate>);
        let batches: Vec<Lot> = sqlx::query_as(
            "SELECT id, expiry_date, batch_code, production_date FROM batches WHERE qty > 0 AND stock_id = $1 \
             ORDER BY expiry_date IS NULL, expiry_date, id",
        )
        .bind(stock_id)
        .fetch_all(&mut *conn)
        .await?;
        let (batch_id, expiry_date, batch_code, production_date) = batches
            .into_iter()
            .find(|(_, expiry, _, _)| expiry.is_none_or(|e| e >= today))
            .ok_or("no usable batch")?;
        sqlx::query("UPDATE batches SET qty = qty - 1 WHERE id = $1")
            .bind(batch_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE stocks SET qty = qty - 1 WHERE id = $1")
            .bind(stock_id)
            .execute(&mut *conn)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "UPDATE item_totals SET total_qty = total_qty - 1 WHERE item_id = $1 RETURNING total_qty",
        )
        .bind(item_id)
        .fetch_one(&mut *conn)
        .await?;
        // The counts of items by total (migration 0012): the item leaves its old total's
        // count for its new one's, in key order.
        let counts = if total > 0 {
            "INSERT INTO item_total_counts (total_qty, shard, items) VALUES ($1, $3, 1), ($2, $3, -1) \
             ON CONFLICT (total_qty, shard) DO UPDATE SET items = item_total_counts.items + excluded.items"
        } else {
            "UPDATE item_total_counts SET items = items - 1 WHERE total_qty = $2 AND shard = $3 AND $1 = 0"
        };
        sqlx::query(counts)
            .bind(total)
            .bind(total + 1)
            .bind(item_id % depot::movement::projections::RANK_SHARDS)
            .execute(&mut *conn)
            .await?;
        let ledger_id: i64 = sqlx::query_scalar(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, occurred_at, reason, ref, ref_line) \
             VALUES ($1, $2, $3, -1, $4, $5, 'OUTBOUND', $6, 1) RETURNING id",
        )
        .bind(stock_id)
        .bind(item_id)
        .bind(location_id)
        .bind(qty - 1)
        .bind(now)
        .bind(r#ref)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code, expiry_date, production_date) \
             VALUES ($1, $2, -1, $3, $4, $5)",
        )
        .bind(ledger_id)
        .bind(batch_id)
        .bind(batch_code)
        .bind(expiry_date)
        .bind(production_date)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO movement_anchors \
             (kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids) \
             VALUES ('OUTBOUND', $1, 1, $2, $3, $4, '{\"qty\":1}', $5)",
        )
        .bind(r#ref)
        .bind(format!("{item_id}@{location_id}"))
        .bind(item_id)
        .bind(location_id)
        .bind(format!("[{ledger_id}]"))
        .execute(&mut *conn)
        .await?;
    });
    tx.commit().await?;
    Ok(())
}

/// The ceiling of a snapshot page: its statements (count, page, top locations, earliest
/// expiry) in one read transaction; a search's statements planned for their pattern, as Depot's.
async fn snapshot_direct(
    db: Db,
    q: Option<String>,
    offset: i64,
    after: Option<(i64, i64)>,
) -> Result<(), String> {
    snapshot_direct_inner(&db, q.as_deref(), offset, after)
        .await
        .map_err(|e| e.to_string())
}

/// `after`: the page starts after this (total_qty, item_id) instead of at `offset`.
async fn snapshot_direct_inner(
    db: &Db,
    q: Option<&str>,
    offset: i64,
    after: Option<(i64, i64)>,
) -> Result<(), BoxError> {
    let mut tx = db.begin_read().await?;
    let rows = with_tx!(&mut tx, |conn, backend| {
        let ids: Vec<i64> = match q {
            None => {
                let _total: i64 = sqlx::query_scalar(
                    "SELECT CAST(SUM(items_in_stock) AS BIGINT) FROM inventory_summary",
                )
                .fetch_one(&mut *conn)
                .await?;
                // A page by offset, or after a place, in Depot's statement (a deep offset
                // skips whole totals by their counts: `push_rank_start`).
                let start = match after {
                    Some((total_qty, item_id)) => Start::After(Place { total_qty, item_id }),
                    None => Start::Offset(offset),
                };
                let mut query = sqlx::QueryBuilder::new("WITH ");
                push_rank_start(&mut query, start);
                query.push("p AS (");
                push_rank_page(&mut query, start, 50);
                query.push(
                    ") SELECT p.item_id, i.sku, i.name, i.spec, p.total_qty FROM p \
                     JOIN items i ON i.id = p.item_id ORDER BY p.total_qty DESC, p.item_id",
                );
                let query = query.build_query_as::<(i64, String, String, String, i64)>();
                let rows = query.fetch_all(&mut *conn).await?;
                rows.into_iter().map(|r| r.0).collect()
            }
            Some(q) => {
                // Depot's statement for a search: the count of items in stock and the
                // bitmaps of those with the pattern's grams (`depot::search::index`), then the
                // page's rows. (Any verification and the walk for the page are Depot's own
                // work, not the database's; the ceiling takes the first 50 matches.)
                let (grams, _exact) = depot::search::index::pattern_grams(&depot::search::fold(q))
                    .unwrap_or_default();
                let sql = depot::search::index::lookup_sql(grams.len());
                let mut lookup = sqlx::query_as::<_, (i64, Option<String>)>(&sql);
                for gram in &grams {
                    lookup = lookup.bind(gram.as_str());
                }
                let _found = lookup.fetch_one(&mut *conn).await?;
                let _ = (offset, backend);
                let rows: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0 \
                     ORDER BY total_qty DESC, item_id LIMIT 50",
                )
                .fetch_all(&mut *conn)
                .await?;
                rows.into_iter().map(|r| r.0).collect()
            }
        };
        if !ids.is_empty() {
            let list = ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let _locations: Vec<(i64, i64, String, i64)> = sqlx::query_as(&format!(
                "SELECT s.item_id, s.location_id, l.code, s.qty \
                 FROM stocks s JOIN locations l ON l.id = s.location_id \
                 WHERE s.qty > 0 AND s.item_id IN ({list}) ORDER BY s.item_id, s.qty DESC, s.location_id"
            ))
            .fetch_all(&mut *conn)
            .await?;
            let _expiries: Vec<(i64, Option<NaiveDate>)> = sqlx::query_as(&format!(
                "SELECT item_id, MIN(expiry_date) FROM batches WHERE qty > 0 AND item_id IN ({list}) GROUP BY item_id"
            ))
            .fetch_all(&mut *conn)
            .await?;
        }
        ids.len()
    });
    tx.commit().await?;
    if rows == 0 {
        return Err("the page is empty".into());
    }
    Ok(())
}

/// Gives the hot item's stock enough units for every hot shipment the bench can make.
/// Starts a count of enough shelves for [`COUNT_LINES`] lines, records that many (each counted
/// one more than expected, so each is a correction), and times `POST /counts/{id}/post`.
async fn count_post(http: &reqwest::Client, base: &str) -> Result<(usize, f64), BoxError> {
    async fn json(response: reqwest::Response) -> Result<Value, BoxError> {
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{status}: {body}").into());
        }
        Ok(body)
    }
    let locations = json(
        http.get(format!("{base}/locations?kind=storage&limit=200"))
            .send()
            .await?,
    )
    .await?;
    let shelves: Vec<String> = locations["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["code"].as_str().map(str::to_string))
        .collect();
    let mut lines = Vec::new();
    let mut id = 0;
    for take in 1..=shelves.len() {
        let count = json(
            http.post(format!("{base}/counts"))
                .json(&serde_json::json!({"location_codes": &shelves[..take]}))
                .send()
                .await?,
        )
        .await?;
        let found = count["lines"].as_array().cloned().unwrap_or_default();
        id = count["id"].as_i64().unwrap_or(0);
        if found.len() >= COUNT_LINES || take == shelves.len() {
            lines = found;
            break;
        }
        json(
            http.post(format!("{base}/counts/{id}/cancel"))
                .send()
                .await?,
        )
        .await?;
    }
    lines.truncate(COUNT_LINES);
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    for chunk in lines.chunks(1000) {
        let mut body = format!("reference={id}");
        for (i, line) in chunk.iter().enumerate() {
            let counted = line["expected_qty"].as_i64().unwrap_or(0) + 1;
            body.push_str(&format!(
                "&lines%5B{i}%5D%5Blocation_code%5D={}&lines%5B{i}%5D%5Bsku%5D={}&lines%5B{i}%5D%5Bbatch_code%5D={}&lines%5B{i}%5D%5Bcounted_qty%5D={counted}",
                encode(line["location_code"].as_str().unwrap_or("")),
                encode(line["sku"].as_str().unwrap_or("")),
                encode(line["batch_code"].as_str().unwrap_or("")),
            ));
        }
        let response = http
            .post(format!("{base}/api/record_counts"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let answer = json(response).await?;
        if answer["result"].get("Err").is_some() {
            return Err(format!("recording counted lines: {answer}").into());
        }
    }
    let posting = Instant::now();
    let posted = json(http.post(format!("{base}/counts/{id}/post")).send().await?).await?;
    let seconds = posting.elapsed().as_secs_f64();
    let adjusted = posted["adjustment"]["lines"].as_array().map_or(0, Vec::len);
    if adjusted != lines.len() {
        return Err(format!(
            "posted {adjusted} corrections for {} counted lines",
            lines.len()
        )
        .into());
    }
    Ok((lines.len(), seconds))
}

async fn receive_hot(http: &reqwest::Client, base: &str, hot: &Pick) -> Result<(), BoxError> {
    let response = http
        .post(format!("{base}/inbound/receive"))
        .json(&json!({
            "ref": format!("BENCH-HOT-{}", Utc::now().timestamp_millis()),
            "lines": [{"sku": hot.sku, "location_code": hot.location_code, "qty": 10_000_000, "batch_code": "BENCH-HOT"}],
        }))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("hot item receipt: {}", response.text().await?).into());
    }
    Ok(())
}

/// What the first view ([`FIRST_VIEW`]) downloads, compressed as a browser asks, and the wasm's sizes.
async fn measure_assets(
    http: &reqwest::Client,
    base: &str,
    site_root: &Path,
) -> Result<Assets, BoxError> {
    let fetch = |path: String, encoding: &'static str| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let response = http
                .get(&url)
                .header("accept", "text/html,*/*")
                .header("accept-encoding", encoding)
                .send()
                .await?
                .error_for_status()?;
            Ok::<_, BoxError>(response.bytes().await?)
        }
    };
    let html_raw = fetch(FIRST_VIEW.into(), "identity").await?;
    let html = String::from_utf8_lossy(&html_raw).into_owned();
    let mut files = vec![(
        FIRST_VIEW.to_string(),
        fetch(FIRST_VIEW.into(), "gzip, br").await?.len() as u64,
    )];
    let mut paths: Vec<String> = Vec::new();
    for attribute in ["href=\"", "src=\"", "import('", "default('"] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let end = rest.find(['"', '\'']).unwrap_or(rest.len());
            let path = &rest[..end];
            if path.starts_with('/')
                && [".js", ".wasm", ".css"]
                    .iter()
                    .any(|ext| path.ends_with(ext))
                && !paths.iter().any(|p| p == path)
            {
                paths.push(path.to_string());
            }
        }
    }
    let mut wasm_path = None;
    for path in paths {
        if path.ends_with(".wasm") {
            wasm_path = Some(path.clone());
        }
        let size = fetch(path.clone(), "gzip, br").await?.len() as u64;
        files.push((path, size));
    }
    let wasm_path = wasm_path.ok_or("the first view references no .wasm")?;
    let wasm_raw_bytes =
        std::fs::metadata(site_root.join(wasm_path.trim_start_matches('/')))?.len();
    Ok(Assets {
        wasm_raw_bytes,
        wasm_gzip_bytes: fetch(wasm_path.clone(), "gzip").await?.len() as u64,
        wasm_brotli_bytes: fetch(wasm_path, "br").await?.len() as u64,
        first_view_bytes: files.iter().map(|(_, n)| n).sum(),
        first_view_files: files,
        cold_load: None,
    })
}

/// The load must leave the books straight: `depot check` after every backend.
async fn check_consistent(depot: &Path, url: &str) -> Result<(), BoxError> {
    let output = Command::new(depot)
        .arg("check")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "depot check failed after the load:\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
        .into());
    }
    Ok(())
}

async fn wait_healthy(http: &reqwest::Client, base: &str, since: Instant) -> Result<f64, BoxError> {
    while since.elapsed() < Duration::from_secs(60) {
        if let Ok(response) = http.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return Ok(since.elapsed().as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Err("the server did not become healthy within 60 s".into())
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A memory figure of `/proc/<pid>/status` (`VmRSS` now, `VmHWM` peak), in MB.
fn rss_mb(pid: u32, field: &str) -> Result<f64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb / 1024.0)
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{name}")
}

fn render(reports: &[BackendReport], assets: &Assets, args: &Args) -> String {
    let mut out = format!(
        "Depot bench: {} demo items, {} s per scenario after 1 s warm-up, {} cores; ceiling = the statements of the same work, written by hand (one per step), sent straight to the database.\n\n",
        args.items,
        args.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    out.push_str("| backend | scenario | clients | Depot req/s | p50 ms | p99 ms | ceiling req/s | ceiling p50 ms | ceiling p99 ms | Depot / ceiling |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for report in reports {
        for s in &report.scenarios {
            let (ct, c50, c99) = s
                .ceiling
                .as_ref()
                .map(|c| {
                    (
                        format!("{:.0}", c.throughput),
                        format!("{:.2}", c.p50_ms),
                        format!("{:.2}", c.p99_ms),
                    )
                })
                .unwrap_or_default();
            let errors = if s.depot.errors > 0 {
                format!(
                    " ({} errors: {})",
                    s.depot.errors,
                    s.depot.first_error.as_deref().unwrap_or("")
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                "| {} | {}{} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} |\n",
                report.backend,
                s.name,
                errors,
                s.depot.clients,
                s.depot.throughput,
                s.depot.p50_ms,
                s.depot.p99_ms,
                ct,
                c50,
                c99,
                s.ratio.map(|r| format!("{r:.2}")).unwrap_or_default()
            ));
        }
    }
    out.push_str("\n| backend | demo load | stock rows | cold start to /healthz | idle RSS | peak RSS under load |\n|---|---:|---:|---:|---:|---:|\n");
    for r in reports {
        out.push_str(&format!(
            "| {} | {:.1} s | {} | {:.0} ms | {:.1} MB | {:.1} MB |\n",
            r.backend,
            r.demo_load_seconds,
            r.stock_rows,
            r.cold_start_ms,
            r.idle_rss_mb,
            r.peak_rss_mb
        ));
    }
    for r in reports {
        let rate = |name: &str| {
            r.scenarios
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.depot.throughput)
        };
        if let Some(outbound) = rate("outbound, random items, 8 clients") {
            for name in [
                "create order, 1 line, 8 clients",
                "ship reserved order, 8 clients",
            ] {
                if let Some(orders) = rate(name) {
                    out.push_str(&format!(
                        "\nOrders on {}: {name} {orders:.0} req/s = {:.2} × the outbound commit rate (8 clients, {outbound:.0} req/s).",
                        r.backend,
                        orders / outbound
                    ));
                }
            }
        }
    }
    for r in reports {
        if let Some((lines, seconds)) = r.count_post {
            out.push_str(&format!(
                "\nPosting a count of {lines} counted lines (each a COUNT_CORRECTION) on {}: {seconds:.2} s.",
                r.backend
            ));
        }
    }
    out.push_str("\n\n| backend | import / export | rows | MB | seconds | server RSS before | peak during |\n|---|---|---:|---:|---:|---:|---:|\n");
    for r in reports {
        for t in &r.integration {
            out.push_str(&format!(
                "| {} | {} | {} | {:.1} | {:.2} | {:.1} MB | {:.1} MB |\n",
                r.backend,
                t.what,
                if t.rows > 0 {
                    t.rows.to_string()
                } else {
                    "-".into()
                },
                t.bytes as f64 / 1e6,
                t.seconds,
                t.rss_before_mb,
                t.rss_peak_mb
            ));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "\nwasm: {:.0} KB raw, {:.0} KB gzip, {:.0} KB brotli. First view of `{FIRST_VIEW}` downloads {:.0} KB compressed: {}.\n",
        assets.wasm_raw_bytes as f64 / 1024.0,
        assets.wasm_gzip_bytes as f64 / 1024.0,
        assets.wasm_brotli_bytes as f64 / 1024.0,
        assets.first_view_bytes as f64 / 1024.0,
        assets
            .first_view_files
            .iter()
            .map(|(path, n)| format!("{path} {:.1} KB", *n as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if let Some(cold) = &assets.cold_load {
        out.push_str(&format!(
            "Cold load of `{FIRST_VIEW}` until interactive (hydrated) on Chromium with {}× CPU throttling, 360 px, empty cache: median {} ms (runs {}), {:.0} KB transferred.\n",
            cold["cpu_throttling"],
            cold["median_ms"],
            cold["runs_ms"],
            cold["bytes"].as_f64().unwrap_or(0.0) / 1024.0,
        ));
    }
    out
}
