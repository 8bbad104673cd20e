//! Issue 31: with `DEPOT_TIMEZONE` unset, the warehouse runs on the machine's time zone (`TZ`,
//! else `/etc/localtime`) and says so at start.

use std::process::{Command, Stdio};

use depot::db::Backend;

use crate::common::TestDb;
use crate::on_both_backends;

on_both_backends!(the_machines_time_zone_is_the_default_and_is_said_at_start);

/// Starts `depot serve` with `env`, waits for it to answer, stops it; returns its log.
async fn start_log(test_db: &TestDb, env: &[(&str, &str)]) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = std::env::temp_dir().join(format!("depot-tz-{port}.txt"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_depot"));
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &test_db.url)
        .env("RUST_LOG", "info")
        .env_remove("DEPOT_TIMEZONE")
        .env_remove("TZ")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut server = command.spawn().unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .stdout(Stdio::null())
        .status();
    server.wait().unwrap();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    text
}

/// The line of the log that names the warehouse time zone.
fn zone_line(log: &str) -> &str {
    log.lines()
        .find(|line| line.contains("warehouse time zone"))
        .unwrap_or_else(|| panic!("no time zone said at start: {log}"))
}

async fn the_machines_time_zone_is_the_default_and_is_said_at_start(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    // TZ names the machine's zone: taken, and said where it came from.
    let log = start_log(&test_db, &[("TZ", "Asia/Shanghai")]).await;
    assert!(
        zone_line(&log).contains("warehouse time zone Asia/Shanghai (from TZ;"),
        "{log}"
    );
    // `:Area/City` is POSIX's way of writing it.
    let log = start_log(&test_db, &[("TZ", ":Europe/Berlin")]).await;
    assert!(
        zone_line(&log).contains("warehouse time zone Europe/Berlin (from TZ;"),
        "{log}"
    );
    // DEPOT_TIMEZONE wins over the machine's.
    let log = start_log(
        &test_db,
        &[
            ("TZ", "Asia/Shanghai"),
            ("DEPOT_TIMEZONE", "America/Chicago"),
        ],
    )
    .await;
    assert!(
        zone_line(&log).contains("warehouse time zone America/Chicago (from DEPOT_TIMEZONE;"),
        "{log}"
    );
    // No TZ: the system's setting (`/etc/localtime`), whatever this machine's is; UTC when it
    // has none Depot knows.
    let expected = match iana_time_zone::get_timezone()
        .ok()
        .filter(|name| name.parse::<chrono_tz::Tz>().is_ok())
    {
        Some(name) => format!("warehouse time zone {name} (from /etc/localtime;"),
        None => "warehouse time zone UTC (from no zone found on the machine;".to_string(),
    };
    let log = start_log(&test_db, &[]).await;
    assert!(zone_line(&log).contains(&expected), "{expected}: {log}");
}
