//! Calendar dates (`YYYY-MM-DD`), for exception expiries. A day count is
//! all an expiry needs, so this is a few lines of arithmetic rather than a
//! date crate; "today" is always given by the caller (the command reads the
//! clock once), which keeps the diff pure and the tests on fixed dates.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A day of the proleptic Gregorian calendar, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// `None` unless `day` exists in that month and year.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (ISO 8601's calendar date), the one
    /// spelling that cannot be read two ways.
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("`{text}` is not a date; write it as YYYY-MM-DD (e.g. 2027-03-31)");
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| -> Result<u32, String> {
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (y, m, d) = (num(&text[0..4])?, num(&text[5..7])?, num(&text[8..10])?);
        let year = i32::try_from(y).map_err(|_| bad())?;
        Date::new(year, m, d).ok_or_else(|| format!("`{text}` is not a day of the calendar"))
    }

    /// Today in UTC, from the system clock: only commands call this.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (`civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// The date `n` days later (earlier when negative).
    pub fn plus_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days() - self.days()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_real_days_in_one_spelling() {
        assert_eq!(
            Date::parse("2027-03-31").map(|d| d.to_string()),
            Ok("2027-03-31".into())
        );
        assert!(Date::parse("2028-02-29").is_ok());
        for bad in ["2027-02-29", "2027-13-01", "2027-04-31", "2027-00-10"] {
            let e = Date::parse(bad).unwrap_err();
            assert!(e.contains("not a day of the calendar"), "{bad}: {e}");
        }
        for bad in [
            "27-03-31",
            "2027/03/31",
            "2027-3-31",
            "31.03.2027",
            "2027-03-31T00",
            "+027-03-31",
        ] {
            let e = Date::parse(bad).unwrap_err();
            assert!(e.contains("write it as YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn day_counts_round_trip_and_cross_months_and_leap_years() {
        let epoch = Date::new(1970, 1, 1).expect("date");
        assert_eq!(epoch.days(), 0);
        for n in [-800_000, -1, 0, 59, 365, 10_957, 20_000, 2_000_000] {
            assert_eq!(Date::from_days(n).days(), n, "{n}");
        }
        let d = Date::parse("2028-02-28").expect("date");
        assert_eq!(d.plus_days(1).to_string(), "2028-02-29");
        assert_eq!(d.plus_days(2).to_string(), "2028-03-01");
        assert_eq!(
            Date::parse("2026-12-31")
                .expect("date")
                .plus_days(1)
                .to_string(),
            "2027-01-01"
        );
        assert_eq!(d.days_until(Date::parse("2029-02-28").expect("date")), 366);
        assert_eq!(d.days_until(Date::parse("2028-02-18").expect("date")), -10);
    }

    #[test]
    fn today_is_a_plausible_day() {
        assert!(Date::today() > Date::parse("2024-01-01").expect("date"));
    }

    #[test]
    fn serde_uses_the_written_form() {
        let d: Date = serde_json::from_str("\"2027-01-05\"").expect("date");
        assert_eq!(serde_json::to_string(&d).expect("json"), "\"2027-01-05\"");
        assert!(serde_json::from_str::<Date>("\"2027-1-5\"").is_err());
    }
}
