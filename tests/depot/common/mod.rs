//! Test harness: a fresh database per test on either backend, and the real app served on a
//! loopback port.
//!
//! PostgreSQL tests need a server: `DEPOT_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) names one whose user may create databases.
//! Each test creates its own `depot_test_…` database and drops it afterwards. A missing server
//! fails the test; nothing is skipped.

use std::sync::atomic::{AtomicU32, Ordering};

use depot::config::{Clock, Config};
use depot::db::{Db, PoolSettings};
use depot::state::AppState;
use reqwest::StatusCode;
use serde_json::Value;

pub use depot::db::Backend;

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("DEPOT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The pool settings of a test database unless a test asks for others.
pub fn test_settings() -> PoolSettings {
    PoolSettings {
        max_connections: Some(8),
        ..PoolSettings::default()
    }
}

/// A database of its own for one test; dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "depot_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

impl TestDb {
    /// A new, migrated database.
    pub async fn new(backend: Backend) -> Self {
        Self::new_with(backend, test_settings()).await
    }

    /// A new, migrated database whose pool uses `settings` (e.g. a short SQLite busy timeout).
    pub async fn new_with(backend: Backend, settings: PoolSettings) -> Self {
        let test_db = Self::empty_with(backend, settings).await;
        depot::cli::migrate(&test_db.db)
            .await
            .expect("migrations apply");
        test_db
    }

    /// A new database with no tables yet.
    pub async fn empty(backend: Backend) -> Self {
        Self::empty_with(backend, test_settings()).await
    }

    async fn empty_with(backend: Backend, settings: PoolSettings) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("depot.db").display());
                let db = Db::connect(&url, &settings).await.expect("open SQLite");
                TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = unique_name();
                let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
                let url = format!("{base}/{name}");
                let db = Db::connect(&url, &settings).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required for this test and is not reachable at {admin} \
                         ({e}); start it or set DEPOT_TEST_DATABASE_URL"
                    )
                });
                TestDb {
                    db,
                    url,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let db = self.db.clone();
        // Drop runs outside async: use a thread with its own runtime to remove the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    db.close().await;
                    if let Ok(mut conn) =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url())
                            .await
                    {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    }
                });
            }
        })
        .join();
    }
}

/// The real Depot router served on a loopback port, with its own database.
pub struct TestApp {
    pub base: String,
    /// Sends the admin token of [`TestApp::token`] with every request.
    pub client: reqwest::Client,
    pub test_db: TestDb,
    /// An admin API token on this app's database (SPEC §7: nothing answers without one).
    pub token: String,
}

/// The moment every test server lives at, so no test depends on the real date: noon UTC, when
/// UTC+14 is already on the next date and UTC−11 still on this one.
pub const TEST_NOW: &str = "2026-06-15T12:00:00Z";

/// The default configuration with the clock fixed at [`TEST_NOW`].
pub fn test_config() -> Config {
    Config {
        clock: Clock::Fixed(TEST_NOW.parse().expect("an RFC 3339 time")),
        ..Config::default()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(TestDb::new(backend).await, test_config()).await
    }

    pub async fn spawn_with(test_db: TestDb, config: Config) -> Self {
        // Server logs show in a failing test's output (RUST_LOG to tune; default warnings).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let (_, token) = depot::auth::service::create_token(
            &test_db.db,
            // No English word in it: pages show who is signed in, and a test reads them in
            // Chinese.
            &format!("T-{}", &unique_name()["depot_test_".len()..]),
            depot::auth::Role::Admin,
        )
        .await
        .expect("an admin token");
        let base = serve(test_db.db.clone(), config).await;
        TestApp {
            base,
            client: Self::client_with(&token, reqwest::redirect::Policy::default()),
            test_db,
            token,
        }
    }

    /// A client sending `token` with every request.
    pub fn client_with(token: &str, redirects: reqwest::redirect::Policy) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(redirects)
            .build()
            .unwrap()
    }

    /// A client like a browser's form posts see them: redirects not followed, signed in (the
    /// app's admin token).
    pub fn browser(&self) -> reqwest::Client {
        Self::client_with(&self.token, reqwest::redirect::Policy::none())
    }

    /// Another server on this app's database, e.g. with the clock a day later; returns its
    /// base URL.
    pub async fn serve_again(&self, config: Config) -> String {
        serve(self.db().clone(), config).await
    }

    pub fn db(&self) -> &Db {
        &self.test_db.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        into_json(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        into_json(response).await
    }

    /// POSTs raw bytes with the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        into_json(response).await
    }
}

impl TestApp {
    /// Creates an item and returns its id.
    pub async fn item(&self, sku: &str, name: &str) -> i64 {
        let (status, body) = self
            .post("/items", &serde_json::json!({"sku": sku, "name": name}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a location and returns its id.
    pub async fn location(&self, code: &str, kind: &str) -> i64 {
        let (status, body) = self
            .post(
                "/locations",
                &serde_json::json!({"code": code, "name": code, "kind": kind}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Counts the rows of `table`.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        depot::with_pool!(self.db(), |pool, _backend| sqlx::query_scalar(&sql)
            .fetch_one(pool)
            .await
            .unwrap())
    }

    /// The rows of every table that a refused request must leave untouched.
    pub async fn footprint(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in [
            "stocks",
            "batches",
            "stock_ledger",
            "ledger_batches",
            "movement_anchors",
        ] {
            counts.push(self.count(table).await);
        }
        let sum_sql = "SELECT COALESCE(CAST(SUM(qty) AS BIGINT), 0) FROM stocks";
        let total: i64 = depot::with_pool!(self.db(), |pool, _backend| sqlx::query_scalar(sum_sql)
            .fetch_one(pool)
            .await
            .unwrap());
        counts.push(total);
        counts
    }

    /// The stock qty of (item, location); 0 when there is no row.
    pub async fn stock_qty(&self, item_id: i64, location_id: i64) -> i64 {
        let qty: Option<i64> = depot::with_pool!(self.db(), |pool, _backend| sqlx::query_scalar(
            "SELECT qty FROM stocks WHERE item_id = $1 AND location_id = $2"
        )
        .bind(item_id)
        .bind(location_id)
        .fetch_optional(pool)
        .await
        .unwrap());
        qty.unwrap_or(0)
    }

    /// Asserts SPEC §2 invariants 1–2 hold over the whole database (`depot check`).
    pub async fn assert_consistent(&self) {
        let violations = depot::check::find_violations(self.db()).await.unwrap();
        assert!(violations.is_empty(), "depot check: {violations:?}");
    }
}

/// Serves the real router over `db` on a loopback port; returns its base URL.
async fn serve(db: Db, config: Config) -> String {
    serve_state(app_state(db, config)).await.0
}

/// Serves the real router with `state` on a loopback port: its base URL and the server's task.
pub async fn serve_state(state: AppState) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = depot::server::router(state);
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}"), server)
}

/// One Depot process of several behind a load balancer: a pool of its own on the database at
/// `url` and a state of its own (nothing shared with other nodes but the database), served on a
/// loopback port until [`Node::stop`].
pub struct Node {
    pub base: String,
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
}

impl Node {
    pub async fn start(url: &str, config: Config) -> Self {
        let db = Db::connect(url, &test_settings())
            .await
            .expect("a node connects");
        let state = app_state(db, config);
        let (base, server) = serve_state(state.clone()).await;
        Node {
            base,
            state,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops serving and closes this node's pool: what it kept in memory is gone.
    pub async fn stop(self) {
        let Node { server, state, .. } = self;
        server.abort();
        let _ = server.await;
        state.db.close().await;
    }
}

pub fn app_state(db: Db, config: Config) -> AppState {
    AppState::new(
        depot::cli::site_options().expect("site options"),
        db,
        config,
    )
}

pub async fn into_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("expected JSON, got {status}: {text}"));
    (status, value)
}

/// Asserts `body` is the SPEC §4 error shape with `code`.
#[track_caller]
pub fn assert_error(body: &Value, code: &str) {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error object in {body}"));
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["details"].is_object(), "{body}");
}

/// Declares each listed `async fn name(backend: Backend)` as two tests, `sqlite::name` and
/// `postgres::name`, so every behaviour is proven on both databases.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::common::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::common::Backend::Postgres).await
                }
            )+
        }
    };
}

/// The `depot_session` cookie a response sets, whole (`name=value; attributes`).
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("depot_session="))
        .map(str::to_string)
}

/// Signs in with JSON `{"username", "password"}`: the answer's status and the session cookie it
/// sets (whole), if any.
pub async fn sign_in(app: &TestApp, user: &str, password: &str) -> (StatusCode, Option<String>) {
    let response = reqwest::Client::new()
        .post(app.url("/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    (response.status(), session_cookie(response.headers()))
}

/// A `Set-Cookie` value's `name=value`, as a `Cookie` header sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}
