//! Datetime identifier macros (`@now`, `@todayStart`, …), all evaluated in UTC.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use crate::params::SqlValue;

/// Every macro name, as written in filters (case-sensitive).
pub const MACROS: [&str; 16] = [
    "@now",
    "@yesterday",
    "@tomorrow",
    "@second",
    "@minute",
    "@hour",
    "@day",
    "@month",
    "@weekday",
    "@year",
    "@todayStart",
    "@todayEnd",
    "@monthStart",
    "@monthEnd",
    "@yearStart",
    "@yearEnd",
];

/// Formats an instant in PocketBase's canonical form `YYYY-MM-DD HH:MM:SS.mmmZ`
/// (milliseconds truncated).
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    format_naive(&dt.naive_utc())
}

fn format_naive(dt: &NaiveDateTime) -> String {
    let millis = (dt.nanosecond() / 1_000_000).min(999);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        millis
    )
}

fn at(date: NaiveDate, h: u32, m: u32, s: u32, milli: u32) -> String {
    let t = NaiveTime::from_hms_milli_opt(h, m, s, milli).unwrap_or(NaiveTime::MIN);
    format_naive(&date.and_time(t))
}

/// Returns the value of a macro for the given "now", or `None` if `name` is not a macro.
pub fn macro_value(name: &str, now: &DateTime<Utc>) -> Option<SqlValue> {
    let today = now.date_naive();
    let text = |s: String| Some(SqlValue::Text(s));
    let int = |i: u32| Some(SqlValue::Integer(i64::from(i)));
    match name {
        "@now" => text(format_datetime(now)),
        // in UTC a calendar day is always 24h, so this equals Go's AddDate(0, 0, ±1)
        "@yesterday" => text(format_datetime(
            &now.checked_sub_days(Days::new(1)).unwrap_or(*now),
        )),
        "@tomorrow" => text(format_datetime(
            &now.checked_add_days(Days::new(1)).unwrap_or(*now),
        )),
        "@second" => int(now.second()),
        "@minute" => int(now.minute()),
        "@hour" => int(now.hour()),
        "@day" => int(now.day()),
        "@month" => int(now.month()),
        "@weekday" => int(now.weekday().num_days_from_sunday()),
        "@year" => Some(SqlValue::Integer(i64::from(now.year()))),
        "@todayStart" => text(at(today, 0, 0, 0, 0)),
        "@todayEnd" => text(at(today, 23, 59, 59, 999)),
        "@monthStart" => text(at(today.with_day(1).unwrap_or(today), 0, 0, 0, 0)),
        "@monthEnd" => {
            let first = today.with_day(1).unwrap_or(today);
            let last = first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.checked_sub_days(Days::new(1)))
                .unwrap_or(first);
            text(at(last, 23, 59, 59, 999))
        }
        "@yearStart" => text(at(
            NaiveDate::from_ymd_opt(now.year(), 1, 1).unwrap_or(today),
            0,
            0,
            0,
            0,
        )),
        "@yearEnd" => text(at(
            NaiveDate::from_ymd_opt(now.year(), 12, 31).unwrap_or(today),
            23,
            59,
            59,
            999,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn all_macros() {
        // Sunday 2024-02-11 13:45:07.123456Z (leap year February)
        let now = Utc.with_ymd_and_hms(2024, 2, 11, 13, 45, 7).unwrap()
            + chrono::Duration::microseconds(123_456);
        let t = |s: &str| Some(SqlValue::Text(s.to_string()));
        let i = |v: i64| Some(SqlValue::Integer(v));
        assert_eq!(macro_value("@now", &now), t("2024-02-11 13:45:07.123Z"));
        assert_eq!(
            macro_value("@yesterday", &now),
            t("2024-02-10 13:45:07.123Z")
        );
        assert_eq!(
            macro_value("@tomorrow", &now),
            t("2024-02-12 13:45:07.123Z")
        );
        assert_eq!(macro_value("@second", &now), i(7));
        assert_eq!(macro_value("@minute", &now), i(45));
        assert_eq!(macro_value("@hour", &now), i(13));
        assert_eq!(macro_value("@day", &now), i(11));
        assert_eq!(macro_value("@month", &now), i(2));
        assert_eq!(macro_value("@weekday", &now), i(0));
        assert_eq!(macro_value("@year", &now), i(2024));
        assert_eq!(
            macro_value("@todayStart", &now),
            t("2024-02-11 00:00:00.000Z")
        );
        assert_eq!(
            macro_value("@todayEnd", &now),
            t("2024-02-11 23:59:59.999Z")
        );
        assert_eq!(
            macro_value("@monthStart", &now),
            t("2024-02-01 00:00:00.000Z")
        );
        assert_eq!(
            macro_value("@monthEnd", &now),
            t("2024-02-29 23:59:59.999Z")
        );
        assert_eq!(
            macro_value("@yearStart", &now),
            t("2024-01-01 00:00:00.000Z")
        );
        assert_eq!(macro_value("@yearEnd", &now), t("2024-12-31 23:59:59.999Z"));
        assert_eq!(macro_value("@NOW", &now), None);
        assert_eq!(macro_value("@unknown", &now), None);
        for m in MACROS {
            assert!(macro_value(m, &now).is_some(), "{m}");
        }
    }

    #[test]
    fn month_and_year_edges() {
        let now = Utc.with_ymd_and_hms(2023, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            macro_value("@monthEnd", &now),
            Some(SqlValue::Text("2023-12-31 23:59:59.999Z".into()))
        );
        assert_eq!(
            macro_value("@tomorrow", &now),
            Some(SqlValue::Text("2024-01-01 23:59:59.000Z".into()))
        );
        let now = Utc.with_ymd_and_hms(2023, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            macro_value("@yesterday", &now),
            Some(SqlValue::Text("2023-02-28 00:00:00.000Z".into()))
        );
        assert_eq!(macro_value("@weekday", &now), Some(SqlValue::Integer(3)));
        let now = Utc.with_ymd_and_hms(2023, 4, 15, 0, 0, 0).unwrap();
        assert_eq!(
            macro_value("@monthEnd", &now),
            Some(SqlValue::Text("2023-04-30 23:59:59.999Z".into()))
        );
    }
}
