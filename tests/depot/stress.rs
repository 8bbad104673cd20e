//! Invariant stress (SPEC §2, §10): many clients mix receives, putaways, outbounds and orders
//! (created, reserved again, picked — sometimes short —, shipped, cancelled) over a few hot
//! items and many cold ones, retrying 30% of their requests with the same ref — half after the
//! answer, half at the same moment. Afterwards the books must be straight and every answer a
//! client saw must agree with the final ledger.
//!
//! Crash safety: the same load against the real `depot` binary, killed with SIGKILL several
//! times and restarted on the same database while clients retry unanswered requests with the
//! same ref.
//!
//! `DEPOT_STRESS_REQUESTS` (default 400) and `DEPOT_STRESS_CRASHES` (default 3) set the size;
//! `make stress` runs far more.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use depot::db::{Backend, Db};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    mixed_load_with_retries_keeps_every_unit,
    transfers_and_shipments_race_for_one_hot_item,
    killed_servers_lose_and_double_nothing,
    sigterm_lets_the_request_in_flight_finish,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_is_503_then_recovers_by_itself() {
    database_outage_is_503_then_recovers_by_itself().await;
}

const CLIENTS: usize = 16;
const HOT_ITEMS: usize = 3;
const COLD_ITEMS: usize = 60;
const DOCKS: [&str; 2] = ["ST-D1", "ST-D2"];
const SHELVES: [&str; 3] = ["ST-S1", "ST-S2", "ST-S3"];
/// Batch codes, each with its own fixed expiry (days from today; `None`: never expires).
const BATCHES: [(&str, Option<u64>); 3] = [("A", Some(100)), ("B", Some(200)), ("C", None)];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Receive,
    Putaway,
    Outbound,
    /// SPEC §10: orders racing the movements for the same hot items.
    OrderCreate,
    OrderReserve,
    OrderPick,
    OrderShip,
    OrderCancel,
}

impl Kind {
    fn reason(self) -> &'static str {
        match self {
            Kind::Receive => "RECEIVE",
            Kind::Putaway => "PUTAWAY",
            _ => "OUTBOUND",
        }
    }

    fn is_order(self) -> bool {
        self >= Kind::OrderCreate
    }
}

/// One request: what it is, where it goes, what it says, and the ref it is about.
#[derive(Debug, Clone)]
struct Req {
    kind: Kind,
    path: String,
    body: Value,
    r#ref: String,
}

impl Req {
    fn movement(kind: Kind, body: Value) -> Self {
        let path = match kind {
            Kind::Receive => "/inbound/receive",
            Kind::Putaway => "/putaway",
            _ => "/outbound/commit",
        };
        Self {
            kind,
            path: path.to_string(),
            r#ref: body["ref"].as_str().unwrap().to_string(),
            body,
        }
    }

    fn order(kind: Kind, r#ref: &str, body: Value) -> Self {
        let action = match kind {
            Kind::OrderReserve => "reserve",
            Kind::OrderPick => "pick",
            Kind::OrderShip => "ship",
            _ => "cancel",
        };
        Self {
            kind,
            path: format!("/orders/{ref}/{action}"),
            body,
            r#ref: r#ref.to_string(),
        }
    }
}

/// One answer a client saw.
#[derive(Debug)]
struct Answer {
    kind: Kind,
    r#ref: String,
    status: StatusCode,
    body: Value,
}

/// The refs of the orders created so far, shared by the clients.
type Orders = Arc<std::sync::Mutex<Vec<String>>>;

pub fn stress_requests() -> usize {
    std::env::var("DEPOT_STRESS_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

fn sku(n: usize) -> String {
    if n < HOT_ITEMS {
        format!("ST-HOT-{n}")
    } else {
        format!("ST-COLD-{n:03}")
    }
}

/// A random item: half the time one of the few hot ones.
fn any_item() -> String {
    if fastrand::bool() {
        sku(fastrand::usize(..HOT_ITEMS))
    } else {
        sku(HOT_ITEMS + fastrand::usize(..COLD_ITEMS))
    }
}

fn pick<T: Copy>(from: &[T]) -> T {
    from[fastrand::usize(..from.len())]
}

/// A random request of a random kind, ready to send (an order action on an order created
/// before; a pick of what its pick list says now, sometimes short); lines within one request
/// never repeat their identity.
async fn random_request(n: usize, target: &Target, orders: &Orders) -> Req {
    let roll = fastrand::u8(..100);
    if roll >= 70 {
        let known = {
            let orders = orders.lock().unwrap();
            (!orders.is_empty()).then(|| orders[fastrand::usize(..orders.len())].clone())
        };
        match (roll, known) {
            (70..82, _) | (_, None) => return new_order(n),
            (82..88, Some(r)) => {
                if let Some(body) = pick_body(target, &r).await {
                    return Req::order(Kind::OrderPick, &r, body);
                }
                return Req::order(Kind::OrderShip, &r, json!({"reserved": true}));
            }
            (88..94, Some(r)) => {
                return Req::order(Kind::OrderShip, &r, json!({"reserved": fastrand::bool()}))
            }
            (94..97, Some(r)) => return Req::order(Kind::OrderReserve, &r, json!({})),
            (_, Some(r)) => return Req::order(Kind::OrderCancel, &r, json!({})),
        }
    }
    let (kind, body) = random_movement(n, roll);
    Req::movement(kind, body)
}

/// A new order of 1–2 hot (sometimes cold) items.
fn new_order(n: usize) -> Req {
    let mut seen = HashSet::new();
    let lines: Vec<Value> = (0..1 + fastrand::usize(..2))
        .filter_map(|_| {
            let item = if fastrand::u8(..4) == 0 {
                any_item()
            } else {
                sku(fastrand::usize(..HOT_ITEMS))
            };
            seen.insert(item.clone())
                .then(|| json!({"sku": item, "qty": fastrand::i64(1..=6)}))
        })
        .collect();
    let policy = if fastrand::bool() {
        "partial"
    } else {
        "all_or_nothing"
    };
    let body = json!({"ref": format!("ST-SO-{n}"), "policy": policy, "lines": lines});
    Req {
        kind: Kind::OrderCreate,
        path: "/orders".to_string(),
        r#ref: format!("ST-SO-{n}"),
        body,
    }
}

/// A pick of everything order `r#ref`'s pick list holds now (a row in five short by one);
/// `None` when it holds nothing (or is gone, closed, or the server is down).
async fn pick_body(target: &Target, r#ref: &str) -> Option<Value> {
    let response = target
        .client
        .get(format!("{}/orders/{ref}/picklist", target.base))
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let list: Value = response.json().await.ok()?;
    let lines: Vec<Value> = list["rows"]
        .as_array()?
        .iter()
        .map(|row| {
            let qty = row["qty"].as_i64().unwrap_or(0);
            let qty = if fastrand::u8(..5) == 0 { qty - 1 } else { qty };
            json!({"location_code": row["location_code"], "sku": row["sku"],
                   "batch_code": row["batch_code"], "qty": qty.max(0)})
        })
        .collect();
    (!lines.is_empty()).then(|| json!({"lines": lines}))
}

/// A random movement: a receipt, a putaway or an outbound commit.
fn random_movement(n: usize, roll: u8) -> (Kind, Value) {
    let today = crate::common::test_config().today();
    let lines = 1 + fastrand::usize(..3);
    let roll = u16::from(roll) * 10 / 7;
    if roll < 35 {
        let mut seen = HashSet::new();
        let lines: Vec<Value> = (0..lines)
            .filter_map(|_| {
                let (item, dock, (batch, days)) = (any_item(), pick(&DOCKS), pick(&BATCHES));
                seen.insert((item.clone(), dock, batch)).then(|| {
                    let expiry = days.map(|d| today + chrono::Days::new(d));
                    json!({"sku": item, "location_code": dock, "qty": fastrand::i64(1..=20),
                           "batch_code": batch, "expiry_date": expiry})
                })
            })
            .collect();
        (
            Kind::Receive,
            json!({"ref": format!("ST-R-{n}"), "lines": lines}),
        )
    } else if roll < 65 {
        let mut seen = HashSet::new();
        let lines: Vec<Value> = (0..lines.min(2))
            .filter_map(|_| {
                let item = any_item();
                let from = if fastrand::u8(..4) == 0 {
                    pick(&SHELVES)
                } else {
                    pick(&DOCKS)
                };
                let to = pick(&SHELVES);
                (from != to && seen.insert((item.clone(), from, to))).then(|| {
                    json!({"sku": item, "from_location_code": from, "to_location_code": to,
                           "qty": fastrand::i64(1..=10)})
                })
            })
            .collect();
        (
            Kind::Putaway,
            json!({"ref": format!("ST-P-{n}"), "lines": lines}),
        )
    } else {
        let mut seen = HashSet::new();
        let lines: Vec<Value> = (0..lines)
            .filter_map(|_| {
                let (item, shelf) = (any_item(), pick(&SHELVES));
                seen.insert((item.clone(), shelf)).then(
                    || json!({"sku": item, "location_code": shelf, "qty": fastrand::i64(1..=8)}),
                )
            })
            .collect();
        let body = json!({"ref": format!("ST-O-{n}"), "atomic": fastrand::bool(), "lines": lines});
        (Kind::Outbound, body)
    }
}

/// Where requests go: the server's base URL and a client.
#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    base: String,
    /// Whether a lost connection is retried (the server is being killed) or a failure.
    retry_lost: bool,
}

impl Target {
    fn of(app: &TestApp) -> Self {
        Self {
            client: app.client.clone(),
            base: app.base.clone(),
            retry_lost: false,
        }
    }
}

/// Sends until answered, like a real client: 503 means "not applied, try again" (SPEC §4),
/// and when the server may die, so does a lost connection — with the same ref, always. An
/// order created is added to `orders`.
async fn send(target: &Target, req: &Req, orders: &Orders) -> (Answer, u32) {
    let (kind, body) = (req.kind, &req.body);
    for retries in 0..600 {
        let sent = target
            .client
            .post(format!("{}{}", target.base, req.path))
            .json(body)
            .send()
            .await;
        let answer = match sent {
            Ok(response) => {
                let status = response.status();
                response.json::<Value>().await.map(|body| (status, body))
            }
            Err(error) => Err(error),
        };
        match answer {
            Ok((status, _)) if status == StatusCode::SERVICE_UNAVAILABLE => {}
            Ok((status, body_out)) => {
                if kind == Kind::OrderCreate && status == StatusCode::CREATED {
                    orders.lock().unwrap().push(req.r#ref.clone());
                }
                let answer = Answer {
                    kind,
                    r#ref: req.r#ref.clone(),
                    status,
                    body: body_out,
                };
                return (answer, retries);
            }
            Err(_) if target.retry_lost => {}
            Err(error) => panic!("{} {}: {error}", req.path, req.r#ref),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{} {} stayed unanswered", req.path, req.r#ref);
}

/// The stress warehouse: docks, shelves, hot and cold items.
async fn set_up(target: &Target) {
    let post = |path: &'static str, body: Value| {
        let target = target.clone();
        async move {
            let response = target
                .client
                .post(format!("{}{path}", target.base))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::CREATED,
                "{}",
                response.text().await.unwrap()
            );
        }
    };
    for code in DOCKS {
        post("/locations", json!({"code": code, "kind": "receiving"})).await;
    }
    for code in SHELVES {
        post("/locations", json!({"code": code, "kind": "storage"})).await;
    }
    for n in 0..HOT_ITEMS + COLD_ITEMS {
        post(
            "/items",
            json!({"sku": sku(n), "name": format!("Stress item {n} 压力测试")}),
        )
        .await;
    }
}

async fn mixed_load_with_retries_keeps_every_unit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let target = Target::of(&app);
    set_up(&target).await;

    let total = stress_requests();
    let next = Arc::new(AtomicUsize::new(0));
    let orders = Orders::default();
    // SPEC §11: a consumer follows the change feed while the load runs.
    let load_done = Arc::new(AtomicBool::new(false));
    let consumer = tokio::spawn(follow_events(target.clone(), load_done.clone()));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (target, next, orders) = (target.clone(), next.clone(), orders.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut retried = 0;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let req = random_request(n, &target, &orders).await;
                match fastrand::u8(..100) {
                    // Retried at the same moment: two sends race.
                    0..15 => {
                        let (a, b) = tokio::join!(
                            send(&target, &req, &orders),
                            send(&target, &req, &orders)
                        );
                        answers.extend([a.0, b.0]);
                        retried += 1;
                    }
                    // Retried after the answer (a lost response, a double click).
                    15..30 => {
                        answers.push(send(&target, &req, &orders).await.0);
                        answers.push(send(&target, &req, &orders).await.0);
                        retried += 1;
                    }
                    _ => answers.push(send(&target, &req, &orders).await.0),
                }
            }
            (answers, retried)
        }));
    }
    let mut answers = Vec::new();
    let mut retried = 0;
    for client in clients {
        let (a, r) = client.await.expect("client finished");
        answers.extend(a);
        retried += r;
    }
    assert!(answers.len() >= total, "every request was answered");
    assert!(retried > 0, "some requests were retried");
    load_done.store(true, Ordering::Relaxed);
    let (followed, polls) = consumer.await.expect("the consumer finished");
    let ledger: Vec<i64> = match app.db() {
        Db::Sqlite(pool, _) => sqlx::query_scalar("SELECT id FROM stock_ledger ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT id FROM stock_ledger ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
    };
    assert!(
        followed == ledger,
        "the change feed gave {} entries in {polls} polls, the ledger holds {}: first difference at {:?}",
        followed.len(),
        ledger.len(),
        followed.iter().zip(&ledger).position(|(a, b)| a != b)
    );
    eprintln!(
        "change feed ({backend:?}): {} entries seen exactly once, in order, in {polls} polls",
        followed.len()
    );

    app.assert_consistent().await;
    let applied = verify_answers_against_ledger(app.db(), &answers).await;
    let mut by_status: BTreeMap<(Kind, u16), usize> = BTreeMap::new();
    for answer in &answers {
        *by_status
            .entry((answer.kind, answer.status.as_u16()))
            .or_default() += 1;
    }
    eprintln!(
        "stress ({backend:?}): {total} requests, {retried} retried, {} answers {by_status:?}, {applied:?} lines applied",
        answers.len()
    );
    for kind in [Kind::Receive, Kind::Putaway, Kind::Outbound] {
        assert!(
            applied.get(&kind) > Some(&0),
            "no {kind:?} line was applied: {applied:?}"
        );
    }
    for kind in [Kind::OrderCreate, Kind::OrderShip] {
        assert!(
            answers
                .iter()
                .any(|a| a.kind == kind && a.status.is_success()),
            "no {kind:?} succeeded: {by_status:?}"
        );
    }
}

/// Issue 33: 100 clients at once, half sending one hot item to another warehouse, half shipping
/// it, all from one shelf holding less than they ask for together (a fifth of them sending
/// their request twice at the same moment): nothing is overdrawn, each unit leaves once — by
/// transfer or by shipment —, every request is wholly applied or wholly refused, and what
/// waits in transit is exactly what the applied transfers sent.
async fn transfers_and_shipments_race_for_one_hot_item(backend: Backend) {
    const RACERS: usize = 100;
    let app = TestApp::spawn(backend).await;
    app.item("HOT", "Hot item 热销").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "R-HOT", "warehouse_code": "MAIN", "lines": [
                {"sku": "HOT", "location_code": "A-01", "qty": 60, "batch_code": "L1", "expiry_date": "2099-01-01"},
                {"sku": "HOT", "location_code": "A-01", "qty": 60, "batch_code": "L2", "expiry_date": "2099-06-01"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stocked = 120;

    let requests: Vec<(bool, String, i64, Value)> = (0..RACERS)
        .map(|n| {
            let qty = 1 + (n % 3) as i64;
            let line = json!([{"sku": "HOT", "location_code": "A-01", "qty": qty}]);
            if n % 2 == 0 {
                let r = format!("T-{n}");
                let body = json!({"ref": r, "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": line});
                (true, r, qty, body)
            } else {
                let r = format!("O-{n}");
                let body = json!({"ref": r, "warehouse_code": "MAIN", "atomic": true, "lines": line});
                (false, r, qty, body)
            }
        })
        .collect();
    let asked: i64 = requests.iter().map(|r| r.2).sum();
    assert!(asked > stocked, "they ask for more than there is");
    // Like a real client: 503 means "not applied, try again" (SPEC §4), with the same ref.
    let send = |transfer: bool, body: &Value| {
        let (app, body) = (&app, body.clone());
        async move {
            let path = if transfer {
                "/transfers"
            } else {
                "/outbound/commit"
            };
            loop {
                let (status, answer) = app.post(path, &body).await;
                if status != StatusCode::SERVICE_UNAVAILABLE {
                    return (status, answer);
                }
                tokio::time::sleep(Duration::from_millis(fastrand::u64(5..50))).await;
            }
        }
    };
    let racers = requests
        .iter()
        .enumerate()
        .map(|(n, (transfer, _, _, body))| {
            let send = &send;
            async move {
                if n % 5 == 0 {
                    let (a, b) = tokio::join!(send(*transfer, body), send(*transfer, body));
                    vec![a, b]
                } else {
                    vec![send(*transfer, body).await]
                }
            }
        });
    let answers = futures_util::future::join_all(racers).await;

    let (mut sent, mut shipped, mut refused) = (0, 0, 0);
    for ((transfer, r, qty, _), answers) in requests.iter().zip(&answers) {
        let applied: Vec<bool> = answers
            .iter()
            .map(|(status, answer)| match *status {
                StatusCode::OK => true,
                StatusCode::CONFLICT => {
                    assert_eq!(
                        answer["error"]["code"], "INSUFFICIENT_STOCK",
                        "{r}: {answer}"
                    );
                    false
                }
                other => panic!("{r}: {other} {answer}"),
            })
            .collect();
        assert!(
            applied.iter().all(|a| *a == applied[0]),
            "{r}: twins disagree: {answers:?}"
        );
        match (applied[0], transfer) {
            (true, true) => sent += qty,
            (true, false) => shipped += qty,
            (false, _) => refused += 1,
        }
    }
    let qty_at = |warehouse: &'static str, location: &'static str| {
        let app = &app;
        async move {
            let (_, stock) = app
                .get(&format!(
                    "/stock/query?sku=HOT&warehouse={warehouse}&location_code={location}"
                ))
                .await;
            stock["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["qty"].as_i64().unwrap())
                .sum::<i64>()
        }
    };
    let left = qty_at("MAIN", "A-01").await;
    assert_eq!(left, stocked - sent - shipped, "each unit left once");
    assert!(
        (0..3).contains(&left),
        "the shelf was drawn down to what no request fits: {left}"
    );
    assert_eq!(
        qty_at("SH", "TRANSIT").await,
        sent,
        "in transit is what was sent"
    );
    assert!(
        sent > 0 && shipped > 0 && refused > 0,
        "{sent} sent, {shipped} shipped, {refused} refused"
    );
    eprintln!(
        "transfer/ship race ({backend:?}): {RACERS} clients, {sent} sent, {shipped} shipped, \
         {refused} refused, {left} left"
    );
    app.assert_consistent().await;
}

/// Follows `GET /events` from the beginning, long-polling, until the load is done and the feed
/// has nothing more; returns the ids seen, in the order seen, and how many requests it took.
async fn follow_events(target: Target, load_done: Arc<AtomicBool>) -> (Vec<i64>, usize) {
    let mut seen = Vec::new();
    let mut after = 0;
    let mut polls = 0;
    loop {
        // Read before asking: an empty answer after the load ended means the feed is drained.
        let done = load_done.load(Ordering::Relaxed);
        let wait = if done { 0 } else { 1 };
        let url = format!("{}/events?after={after}&limit=50&wait={wait}", target.base);
        let response = target
            .client
            .get(url)
            .send()
            .await
            .expect("the feed answers");
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.expect("JSON");
        polls += 1;
        let events = page["events"].as_array().expect("events");
        for event in events {
            let id = event["id"].as_i64().expect("an id");
            assert!(id > after, "entry {id} came after cursor {after}");
            seen.push(id);
        }
        after = page["next"].as_i64().expect("next");
        if done && events.is_empty() {
            return (seen, polls);
        }
    }
}

pub fn crash_count() -> usize {
    std::env::var("DEPOT_STRESS_CRASHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// The real `depot` binary, killed with SIGKILL and restarted on the same database.
struct Server {
    child: Child,
    url: String,
    port: u16,
    /// An admin API token on the server's database (made with `depot token create`).
    token: String,
}

/// A client that sends `token` with every request.
fn authed(builder: reqwest::ClientBuilder, token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    builder.default_headers(headers).build().unwrap()
}

impl Server {
    async fn start(url: &str, port: u16) -> Self {
        let token = Command::new(env!("CARGO_BIN_EXE_depot"))
            .args([
                "token",
                "create",
                "--name",
                // Restarts make one each: the name must differ every time.
                &format!(
                    "stress-{port}-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos()
                ),
                "--role",
                "admin",
            ])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "error")
            .output()
            .expect("depot token create");
        assert!(token.status.success(), "{token:?}");
        let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
        let child = Command::new(env!("CARGO_BIN_EXE_depot"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("DEPOT_CLOCK", crate::common::TEST_NOW)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .expect("start depot");
        let server = Self {
            child,
            url: url.to_string(),
            port,
            token,
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let health = client
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("depot did not come up on port {port}");
    }

    async fn kill_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        *self = Self::start(&self.url.clone(), self.port).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (the OS's pick, released at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Graceful shutdown: SIGTERM while a receive's body is still arriving; the server stops taking
/// connections, answers that request in full, commits it, and exits cleanly.
async fn sigterm_lets_the_request_in_flight_finish(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let test_db = TestDb::new(backend).await;
    let port = free_port();
    let mut server = Server::start(&test_db.url, port).await;
    let target = Target {
        client: authed(reqwest::Client::builder(), &server.token),
        base: format!("http://127.0.0.1:{port}"),
        retry_lost: false,
    };
    set_up(&target).await;

    let body = json!({"ref": "PO-SIGTERM", "lines": [
        {"sku": sku(0), "location_code": DOCKS[0], "qty": 7, "batch_code": "B-TERM"}
    ]})
    .to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "POST /inbound/receive HTTP/1.1\r\nHost: depot\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        server.token,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = server.child.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(signalled.success());
    // Shutting down: no new connections, while the one in flight stays open.
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "a shutting-down server still accepts connections");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );

    stream.write_all(tail.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let json_start = response.find("\r\n\r\n").unwrap() + 4;
    let answer: Value = serde_json::from_str(&response[json_start..]).unwrap();
    assert_eq!(answer["status"], "OK", "{answer}");

    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "depot exited with {exit}");
    let rows: i64 = depot::with_pool!(&test_db.db, |pool, _backend| sqlx::query_scalar(
        "SELECT COUNT(*) FROM stock_ledger WHERE ref = 'PO-SIGTERM' AND delta = 7"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(rows, 1);
}

async fn killed_servers_lose_and_double_nothing(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let port = free_port();
    let mut server = Server::start(&test_db.url, port).await;
    let target = Target {
        client: authed(
            reqwest::Client::builder().timeout(Duration::from_secs(20)),
            &server.token,
        ),
        base: format!("http://127.0.0.1:{port}"),
        retry_lost: true,
    };
    set_up(&target).await;

    // Clients keep sending until the last crash is behind them.
    let crashes = crash_count();
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let orders = Orders::default();
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (target, next, done, orders) =
            (target.clone(), next.clone(), done.clone(), orders.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut retries = 0;
            while !done.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let req = random_request(n, &target, &orders).await;
                let (answer, r) = send(&target, &req, &orders).await;
                answers.push(answer);
                retries += r;
            }
            (answers, retries)
        }));
    }
    for _ in 0..crashes {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(300..900))).await;
        server.kill_and_restart().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    done.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    let mut retries = 0;
    for client in clients {
        let (a, r) = client.await.expect("client finished");
        answers.extend(a);
        retries += r;
    }
    drop(server);

    let violations = depot::check::find_violations(&test_db.db).await.unwrap();
    assert!(
        violations.is_empty(),
        "depot check after {crashes} crashes: {violations:?}"
    );
    let applied = verify_answers_against_ledger(&test_db.db, &answers).await;
    eprintln!(
        "crash ({backend:?}): {crashes} SIGKILLs survived, {} requests answered, {retries} sends retried, {applied:?} lines applied",
        answers.len()
    );
    assert!(retries > 0, "the kills interrupted some requests");
}

/// A ledger entry of the stress refs: (ref, reason, ref_line, sign of delta) → (|delta|, after).
type LedgerKey = (String, String, i64, i64);

/// Returns how many lines of each kind the ledger holds.
async fn verify_answers_against_ledger(db: &Db, answers: &[Answer]) -> BTreeMap<Kind, usize> {
    verify_answered_orders(db, answers).await;
    // Orders' shipments are proven by `depot check` (what allocations shipped is what their
    // OUTBOUND entries took) and by `verify_answered_orders`.
    let rows: Vec<(String, String, i32, i64, i64)> = depot::with_pool!(db, |pool, _backend| {
        sqlx::query_as(
            "SELECT ref, reason, ref_line, delta, after_qty FROM stock_ledger \
             WHERE ref LIKE 'ST-%' AND ref NOT LIKE 'ST-SO-%'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let negatives: i64 = depot::with_pool!(db, |pool, _backend| {
        sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM stocks WHERE qty < 0) + (SELECT COUNT(*) FROM batches WHERE qty < 0)"
    )
    .fetch_one(pool)
    .await
    .unwrap()
    });
    assert_eq!(negatives, 0, "no stock or batch is negative");

    // Every line is in the ledger at most once (a putaway line: once out, once in).
    let mut ledger: HashMap<LedgerKey, (i64, i64)> = HashMap::new();
    for (r, reason, line, delta, after) in rows {
        let key = (r, reason, i64::from(line), delta.signum());
        let previous = ledger.insert(key.clone(), (delta.abs(), after));
        assert!(previous.is_none(), "{key:?} is in the ledger twice");
    }

    // Which lines each ref's answers say were applied, and what they said about them.
    let mut applied: BTreeMap<(String, String), HashSet<i64>> = BTreeMap::new();
    let mut fresh_ok: HashMap<(String, i64), usize> = HashMap::new();
    for answer in answers.iter().filter(|a| !a.kind.is_order()) {
        let reason = answer.kind.reason().to_string();
        let lines_of_ref = applied
            .entry((answer.r#ref.clone(), reason.clone()))
            .or_default();
        if answer.status != StatusCode::OK {
            assert!(
                answer.status.is_client_error(),
                "{:?} {}: {} {}",
                answer.kind,
                answer.r#ref,
                answer.status,
                answer.body
            );
            assert!(answer.body["error"]["code"].is_string(), "{}", answer.body);
            continue;
        }
        for line in answer.body["lines"].as_array().expect("lines") {
            let n = line["ref_line"].as_i64().unwrap();
            let status = line["status"].as_str().unwrap();
            if status == "INSUFFICIENT_STOCK" {
                continue;
            }
            assert!(matches!(status, "OK" | "IDEMPOTENT"), "{line}");
            if status == "OK" {
                *fresh_ok.entry((answer.r#ref.clone(), n)).or_default() += 1;
            }
            lines_of_ref.insert(n);
            let qty = line["qty"].as_i64().unwrap();
            let key = |sign: i64| (answer.r#ref.clone(), reason.clone(), n, sign);
            let check = |sign: i64, after: &Value| {
                let entry = ledger.get(&key(sign));
                assert_eq!(
                    entry,
                    Some(&(qty, after.as_i64().unwrap())),
                    "{} line {n} answered {line}, the ledger holds {entry:?}",
                    answer.r#ref
                );
            };
            match answer.kind {
                Kind::Receive => check(1, &line["after_qty"]),
                Kind::Putaway => {
                    check(-1, &line["from_after_qty"]);
                    check(1, &line["to_after_qty"]);
                }
                _ => check(-1, &line["after_qty"]),
            }
        }
    }
    for (key, count) in fresh_ok {
        assert_eq!(count, 1, "{key:?} was answered OK (applied) {count} times");
    }

    // And nothing is in the ledger that no answer reported.
    let mut lines_applied = BTreeMap::new();
    for (r, reason, line, sign) in ledger.keys() {
        let kind = match reason.as_str() {
            "RECEIVE" => Kind::Receive,
            "PUTAWAY" => Kind::Putaway,
            _ => Kind::Outbound,
        };
        if *sign < 0 || kind == Kind::Receive {
            *lines_applied.entry(kind).or_default() += 1;
        }
        let reported = applied
            .get(&(r.clone(), reason.clone()))
            .is_some_and(|lines| lines.contains(line));
        assert!(
            reported,
            "{r} line {line} ({reason}) is in the ledger but no answer applied it"
        );
    }
    lines_applied
}

/// Every order answered is in the database as the answer said, however the server died after
/// answering: a created order with its lines, a shipped one shipped, a cancelled one
/// cancelled; and every order answer is a success or a clear refusal, never a 500.
async fn verify_answered_orders(db: &Db, answers: &[Answer]) {
    let rows: Vec<(String, String, i64)> = depot::with_pool!(db, |pool, _backend| {
        sqlx::query_as(
            "SELECT o.ref, o.status, CAST(SUM(ol.qty) AS BIGINT) FROM orders o \
             JOIN order_lines ol ON ol.order_id = o.id WHERE o.ref LIKE 'ST-SO-%' GROUP BY o.ref, o.status",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let stored: HashMap<String, (String, i64)> = rows
        .into_iter()
        .map(|(r, status, qty)| (r, (status, qty)))
        .collect();
    for answer in answers.iter().filter(|a| a.kind.is_order()) {
        if !answer.status.is_success() {
            assert!(
                answer.status.is_client_error() && answer.body["error"]["code"].is_string(),
                "{:?} {}: {} {}",
                answer.kind,
                answer.r#ref,
                answer.status,
                answer.body
            );
            continue;
        }
        let order = &answer.body["order"];
        let (status, qty) = stored.get(&answer.r#ref).unwrap_or_else(|| {
            panic!(
                "{} was answered {} but is not stored",
                answer.r#ref, answer.status
            )
        });
        let ordered: i64 = order["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["qty"].as_i64().unwrap())
            .sum();
        assert_eq!(ordered, *qty, "{}: its lines as answered", answer.r#ref);
        for terminal in ["SHIPPED", "CANCELLED"] {
            if order["status"] == terminal {
                assert_eq!(status, terminal, "{} was answered {terminal}", answer.r#ref);
            }
        }
    }
}

/// A PostgreSQL cluster of the test's own (`initdb` + `pg_ctl` on a free port), so stopping it
/// disturbs no other test. As root, the server programs run as the `postgres` user.
struct Cluster {
    dir: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn bin(program: &str) -> std::path::PathBuf {
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server programs under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(program)))
            .filter(|p| p.exists())
            .collect();
        versions.sort();
        versions
            .pop()
            .unwrap_or_else(|| panic!("{program} not found under /usr/lib/postgresql"))
    }

    /// Runs a PostgreSQL program (as `postgres` when we are root: the server refuses root).
    fn run(args: &[OsString]) {
        let is_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let mut command = if is_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&args[0]);
            c
        } else {
            Command::new(&args[0])
        };
        let output = command
            .args(&args[1..])
            .output()
            .expect("run a PostgreSQL program");
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn create() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("depot-outage-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres", dir.to_str().unwrap()])
            .status();
        let data = dir.join("data");
        Self::run(&[
            Self::bin("initdb").into(),
            "-D".into(),
            data.into(),
            "-A".into(),
            "trust".into(),
            "-U".into(),
            "postgres".into(),
        ]);
        let cluster = Self { dir, port };
        cluster.start();
        cluster
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let mut args: Vec<OsString> = vec![
            Self::bin("pg_ctl").into(),
            "-D".into(),
            data.into(),
            "-l".into(),
            log.into(),
            "-o".into(),
            options.into(),
            "-w".into(),
        ];
        args.extend(action.iter().map(OsString::from));
        Self::run(&args);
    }

    fn start(&self) {
        self.pg_ctl(&["start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/depot_outage", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| self.pg_ctl(&["stop", "-m", "immediate"]));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn database_outage_is_503_then_recovers_by_itself() {
    let cluster = Cluster::create();
    let port = free_port();
    let server = Server::start(&cluster.url(), port).await;
    let target = Target {
        client: authed(
            reqwest::Client::builder().timeout(Duration::from_secs(30)),
            &server.token,
        ),
        base: format!("http://127.0.0.1:{port}"),
        retry_lost: false,
    };
    set_up(&target).await;

    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let orders = Orders::default();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (target, next, done, orders) =
            (target.clone(), next.clone(), done.clone(), orders.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut unavailable = 0;
            while !done.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let req = random_request(n, &target, &orders).await;
                let (answer, r) = send(&target, &req, &orders).await;
                answers.push(answer);
                unavailable += r;
            }
            (answers, unavailable)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outage = std::time::Instant::now();
    cluster.stop();

    // While the database is down Depot answers, and answers 503 with Retry-After.
    let mut probes = 0;
    while outage.elapsed() < Duration::from_secs(4) {
        let response = target
            .client
            .get(format!("{}/healthz", target.base))
            .send()
            .await
            .expect("Depot answers");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        let order = json!({"ref": format!("OUTAGE-{probes}"), "lines": [{"sku": sku(0), "location_code": SHELVES[0], "qty": 1}]});
        let response = target
            .client
            .post(format!("{}/outbound/commit", target.base))
            .json(&order)
            .send()
            .await
            .expect("Depot answers");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "UNAVAILABLE", "{body}");
        probes += 1;
    }
    cluster.start();
    let outage_seconds = outage.elapsed().as_secs_f64();

    // Back by itself: no restart of Depot.
    let mut healthy = false;
    for _ in 0..200 {
        let response = target
            .client
            .get(format!("{}/healthz", target.base))
            .send()
            .await
            .unwrap();
        if response.status().is_success() {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healthy, "Depot recovered after the database came back");
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    let mut unavailable = 0;
    for client in clients {
        let (a, r) = client.await.expect("client finished");
        answers.extend(a);
        unavailable += r;
    }
    drop(server);

    let db = Db::connect(&cluster.url(), &depot::db::PoolSettings::default())
        .await
        .unwrap();
    let violations = depot::check::find_violations(&db).await.unwrap();
    assert!(
        violations.is_empty(),
        "depot check after the outage: {violations:?}"
    );
    let applied = verify_answers_against_ledger(&db, &answers).await;
    db.close().await;
    eprintln!(
        "outage: database down {outage_seconds:.1} s, {probes} probes answered 503, {} requests answered, {unavailable} sends answered 503 and retried, {applied:?} lines applied",
        answers.len()
    );
    assert!(unavailable > 0, "the load met the outage");
}
