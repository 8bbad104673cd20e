//! Depot's own settings (SPEC §6), read once at start from flags or the environment.

use chrono::NaiveDate;
use chrono_tz::Tz;
use clap::builder::BoolishValueParser;
use clap::Args;

/// The settings every operation and page shares.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Days ahead within which a batch counts as near expiry (SPEC §3).
    #[arg(long, env = "NEAR_EXPIRY_DAYS", default_value_t = 30, global = true)]
    pub near_expiry_days: u32,

    /// The warehouse time zone (IANA name) that decides what "today" is for expiry.
    #[arg(long, env = "DEPOT_TIMEZONE", default_value = "UTC", value_parser = parse_timezone, global = true)]
    pub timezone: Tz,

    /// Default of `atomic` for outbound commits that do not say.
    #[arg(long, env = "OUTBOUND_ATOMIC", default_value = "false", value_parser = BoolishValueParser::new(), global = true)]
    pub outbound_atomic: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            near_expiry_days: 30,
            timezone: Tz::UTC,
            outbound_atomic: false,
        }
    }
}

impl Config {
    /// Today's date in the warehouse time zone: a batch is expired when its expiry date is before it.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }
}

fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("'{name}' is not an IANA time zone name (e.g. Asia/Shanghai)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezone_names_are_checked() {
        assert_eq!(
            parse_timezone("Asia/Shanghai"),
            Ok(chrono_tz::Asia::Shanghai)
        );
        assert!(parse_timezone("Mars/Olympus").is_err());
    }
}
