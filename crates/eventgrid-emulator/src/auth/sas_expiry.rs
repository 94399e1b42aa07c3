//! The expiry (`e=`) of SAS tokens, in every form the official SDKs write it.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses an expiry, already percent-decoded:
/// - Python: `str(datetime)`, e.g. `2030-01-01 00:00:00+00:00` (also with microseconds, or naive,
///   meaning UTC);
/// - JavaScript: `1/1/2030 12:00:00 AM` (UTC);
/// - .NET: an en-US `DateTimeOffset`, e.g. `1/1/2030 12:00:00 AM +00:00`;
/// - RFC 3339 (`2030-01-01T00:00:00Z`) and Unix seconds, which other clients use.
pub(crate) fn parse_expiry(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        return OffsetDateTime::from_unix_timestamp(text.parse().ok()?).ok();
    }
    if text.contains('/') {
        return parse_us_date_time(text);
    }
    let mut iso = text.replacen(' ', "T", 1);
    if !has_offset(&iso) {
        iso.push('Z');
    }
    OffsetDateTime::parse(&iso, &Rfc3339).ok()
}

fn has_offset(iso: &str) -> bool {
    let Some((_, time)) = iso.split_once('T') else {
        return false;
    };
    time.ends_with(['Z', 'z']) || time.contains('+') || time.contains('-')
}

/// `M/D/YYYY h:mm:ss AM|PM[ ±HH:MM]`.
fn parse_us_date_time(text: &str) -> Option<OffsetDateTime> {
    let mut words = text.split_whitespace();
    let mut date = words.next()?.split('/');
    let month: u8 = date.next()?.parse().ok()?;
    let day: u8 = date.next()?.parse().ok()?;
    let year: i32 = date.next()?.parse().ok()?;
    let mut clock = words.next()?.split(':');
    let hour: u8 = clock.next()?.parse().ok()?;
    let minute: u8 = clock.next()?.parse().ok()?;
    let second: u8 = clock.next().unwrap_or("0").parse().ok()?;
    let hour = match words.next()?.to_ascii_uppercase().as_str() {
        "AM" if (1..=12).contains(&hour) => hour % 12,
        "PM" if (1..=12).contains(&hour) => hour % 12 + 12,
        _ => return None,
    };
    let offset = match words.next() {
        None => UtcOffset::UTC,
        Some(offset) => parse_offset(offset)?,
    };
    if words.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let sign: i8 = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = text[1..].split_once(':')?;
    UtcOffset::from_hms(sign * two_digits(hours)?, sign * two_digits(minutes)?, 0).ok()
}

/// One or two decimal digits, without a sign of their own (so that negating cannot overflow).
fn two_digits(text: &str) -> Option<i8> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn every_sdk_form_of_the_same_instant() {
        let expected = datetime!(2030-01-01 00:00:00 UTC);
        for text in [
            "2030-01-01 00:00:00+00:00",
            "2030-01-01 00:00:00",
            "1/1/2030 12:00:00 AM",
            "1/1/2030 12:00:00 AM +00:00",
            "12/31/2029 7:00:00 PM -05:00",
            "2030-01-01T00:00:00Z",
            "2030-01-01T01:00:00+01:00",
            "1893456000",
        ] {
            assert_eq!(parse_expiry(text), Some(expected), "{text}");
        }
        assert_eq!(
            parse_expiry("2030-01-01 00:00:00.250000+00:00"),
            Some(datetime!(2030-01-01 00:00:00.25 UTC))
        );
        assert_eq!(
            parse_expiry("1/1/2030 12:30:00 PM"),
            Some(datetime!(2030-01-01 12:30:00 UTC))
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for text in [
            "",
            "tomorrow",
            "13/1/2030 1:00:00 AM",
            "1/1/2030 13:00:00 PM",
            "1/1/2030 1:00:00",
            "1/1/2030 12:00:00 AM --128:00",
            "1/1/2030 12:00:00 AM +-1:00",
            "1/1/2030 12:00:00 AM -1:-30",
            "1/1/2030 12:00:00 AM +001:00",
            "1/1/2030 12:00:00 AM +26:00",
        ] {
            assert_eq!(parse_expiry(text), None, "{text}");
        }
    }
}
