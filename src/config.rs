//! Depot's own settings (SPEC §6), read once at start from flags or the environment.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clap::builder::BoolishValueParser;
use clap::Args;

/// The settings every operation and page shares.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Days ahead within which a batch counts as near expiry (SPEC §3).
    #[arg(long, env = "NEAR_EXPIRY_DAYS", default_value_t = 30, global = true)]
    pub near_expiry_days: u32,

    /// The warehouse time zone (IANA name) that decides what "today" is for expiry and how
    /// pages write moments; unset, the machine's (`TZ`, else `/etc/localtime`), else UTC.
    #[arg(long, env = "DEPOT_TIMEZONE", default_value_t = machine_timezone().0, value_parser = parse_timezone, global = true)]
    pub timezone: Tz,

    /// Default of `atomic` for outbound commits that do not say.
    #[arg(long, env = "OUTBOUND_ATOMIC", default_value = "false", value_parser = BoolishValueParser::new(), global = true)]
    pub outbound_atomic: bool,

    /// Seconds a request may take before it is abandoned (its transaction rolls back) and
    /// answered 503 `UNAVAILABLE`; a retry with the same ref is safe either way.
    #[arg(long = "request-timeout", env = "DEPOT_REQUEST_TIMEOUT", default_value = "15", value_parser = parse_seconds, global = true)]
    pub request_timeout: Duration,

    /// The language of pages and error messages when neither the `depot_lang` cookie nor the
    /// request's `Accept-Language` decides (SPEC §8): `en` or `zh-CN`.
    #[arg(long = "language", env = "DEPOT_LANGUAGE", default_value = "en", value_parser = crate::lang::parse_language, global = true)]
    pub language: crate::lang::Locale,

    /// Minutes a session may go unused before it ends (SPEC §7: one shift).
    #[arg(long = "session-idle-minutes", env = "DEPOT_SESSION_IDLE_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub session_idle_minutes: u32,

    /// Mark the session cookie `Secure` (set it when Depot is served over HTTPS).
    #[arg(long = "secure-cookies", env = "DEPOT_SECURE_COOKIES", default_value = "false", value_parser = BoolishValueParser::new(), global = true)]
    pub secure_cookies: bool,

    /// Reverse proxies whose `X-Forwarded-For`, `-Host` and `-Proto` are believed: addresses or
    /// networks, comma-separated (`127.0.0.1,10.0.0.0/8`); none by default.
    #[arg(long = "trusted-proxies", env = "DEPOT_TRUSTED_PROXIES", default_value = "", value_parser = crate::proxy::TrustedProxies::parse, global = true)]
    pub trusted_proxies: crate::proxy::TrustedProxies,

    /// `serve`: an empty warehouse gets the demo (`depot demo`'s 200 items): when the first
    /// admin is set up, named in the language of that browser; at start when people exist but
    /// no items. What `make run` does.
    #[arg(long = "demo-if-empty", env = "DEPOT_DEMO_IF_EMPTY", default_value = "false", value_parser = BoolishValueParser::new(), global = true)]
    pub demo_if_empty: bool,

    /// Where the time comes from: `system`, or a fixed RFC 3339 moment for tests, which
    /// choose "today" instead of depending on the real date.
    #[arg(long = "clock", env = "DEPOT_CLOCK", default_value = "system", value_parser = parse_clock, hide = true, global = true)]
    pub clock: Clock,
}

/// The source of "now" for ledger timestamps and of "today" for expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    /// Always this moment.
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            near_expiry_days: 30,
            timezone: Tz::UTC,
            outbound_atomic: false,
            request_timeout: Duration::from_secs(15),
            language: crate::lang::Locale::en,
            session_idle_minutes: 480,
            secure_cookies: false,
            trusted_proxies: crate::proxy::TrustedProxies::default(),
            demo_if_empty: false,
            clock: Clock::System,
        }
    }
}

/// When a movement happens: the ledger's timestamp, and the warehouse date deciding expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Moment {
    /// The same moment with "today" taken in `zone` (a warehouse's own), or as it is without.
    pub fn in_zone(self, zone: Option<Tz>) -> Moment {
        match zone {
            Some(zone) => Moment {
                now: self.now,
                today: self.now.with_timezone(&zone).date_naive(),
            },
            None => self,
        }
    }

    /// [`Moment::in_zone`] for a zone by its IANA name (as `warehouses.timezone` keeps it).
    pub fn in_zone_named(self, zone: Option<&str>) -> Moment {
        self.in_zone(zone.and_then(|name| name.parse().ok()))
    }
}

impl Config {
    /// Today's date in the warehouse time zone: a batch is expired when its expiry date is before it.
    pub fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.timezone).date_naive()
    }

    /// Now, and today in the warehouse time zone: when a movement happens.
    pub fn moment(&self) -> Moment {
        let now = self.clock.now();
        Moment {
            now,
            today: now.with_timezone(&self.timezone).date_naive(),
        }
    }
}

/// The machine's time zone and where it was found: `TZ` (an IANA name, `:` allowed before
/// it), else the system's setting (`/etc/localtime`), else UTC.
pub fn machine_timezone() -> (Tz, &'static str) {
    let from_env = std::env::var("TZ")
        .ok()
        .and_then(|tz| tz.trim_start_matches(':').parse::<Tz>().ok());
    if let Some(zone) = from_env {
        return (zone, "TZ");
    }
    match iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse::<Tz>().ok())
    {
        Some(zone) => (zone, "/etc/localtime"),
        None => (Tz::UTC, "no zone found on the machine"),
    }
}

/// Where the warehouse time zone came from, to say at start.
pub fn timezone_source() -> &'static str {
    let flagged = std::env::args().any(|arg| arg == "--timezone" || arg.starts_with("--timezone="));
    if flagged {
        "--timezone"
    } else if std::env::var_os("DEPOT_TIMEZONE").is_some() {
        "DEPOT_TIMEZONE"
    } else {
        machine_timezone().1
    }
}

fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("'{name}' is not an IANA time zone name (e.g. Asia/Shanghai)"))
}

fn parse_clock(raw: &str) -> Result<Clock, String> {
    if raw.trim() == "system" {
        return Ok(Clock::System);
    }
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|at| Clock::Fixed(at.with_timezone(&Utc)))
        .map_err(|_| format!("'{raw}' is neither 'system' nor an RFC 3339 time"))
}

fn parse_seconds(raw: &str) -> Result<Duration, String> {
    match raw.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "'{raw}' is not a number of seconds from 0 to 3600 (e.g. 15 or 0.5)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_seconds("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "abc", "", "1e9", "NaN"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_clock_is_the_system_or_a_fixed_moment() {
        assert_eq!(parse_clock("system"), Ok(Clock::System));
        let fixed = parse_clock("2026-06-15T23:30:00-02:00").unwrap();
        assert_eq!(fixed.now().to_rfc3339(), "2026-06-16T01:30:00+00:00");
        assert!(parse_clock("tomorrow").is_err());
        let config = Config {
            clock: fixed,
            timezone: chrono_tz::Asia::Shanghai,
            ..Config::default()
        };
        assert_eq!(config.today().to_string(), "2026-06-16");
        assert_eq!(config.moment().today, config.today());
    }

    #[test]
    fn timezone_names_are_checked() {
        assert_eq!(
            parse_timezone("Asia/Shanghai"),
            Ok(chrono_tz::Asia::Shanghai)
        );
        assert!(parse_timezone("Mars/Olympus").is_err());
    }
}
