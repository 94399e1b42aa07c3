//! RFC 3339 date-times (`eventTime`, CloudEvents `time`), as the `time` crate parses them.
//!
//! Nearly every event carries one, in the one shape clients write
//! (`2024-05-01T12:00:00.123456Z`); checking that shape directly costs a tenth of a full parse.
//! Whatever the quick check does not vouch for goes to `time`'s parser, which has the last word.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Whether `text` is an RFC 3339 date-time.
pub(crate) fn is_rfc3339(text: &str) -> bool {
    plainly_valid(text.as_bytes()) || OffsetDateTime::parse(text, &Rfc3339).is_ok()
}

/// Whether `text` is certainly an RFC 3339 date-time; `false` means "ask [`is_rfc3339`]".
pub(crate) fn plainly_rfc3339(text: &[u8]) -> bool {
    plainly_valid(text)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` with every field in range: only what the
/// full parser accepts too (leap seconds and other separators are left to it).
fn plainly_valid(text: &[u8]) -> bool {
    /// The separators in place and every digit a digit, eight bytes at a time: XOR with the
    /// pattern turns digits into 0 to 9 and matching separators into 0.
    fn fields(text: &[u8], at: usize, pattern: &[u8; 8], separators: u64) -> Option<u64> {
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let word = u64::from_le_bytes(text[at..at + 8].try_into().expect("eight bytes"));
        let fields = word ^ u64::from_le_bytes(*pattern);
        let digits_only = (fields | fields.wrapping_add(0x7676_7676_7676_7676)) & HIGHS == 0;
        (digits_only && fields & separators == 0).then_some(fields)
    }
    let Some((_, zone)) = text.split_first_chunk::<19>() else {
        return false;
    };
    let (Some(date), Some(day_hour_minute), Some(time)) = (
        fields(text, 0, b"0000-00-", 0xFF00_00FF_0000_0000),
        fields(text, 8, b"00T00:00", 0x0000_FF00_00FF_0000),
        fields(text, 11, b"00:00:00", 0x0000_FF00_00FF_0000),
    ) else {
        return false;
    };
    let two = |word: u64, at: u32| {
        ((word >> (8 * at)) & 0xFF) as u32 * 10 + ((word >> (8 * at + 8)) & 0xFF) as u32
    };
    let (century, year_of_century, month) = (two(date, 0), two(date, 2), two(date, 5));
    let (day, hour, minute) = (
        two(day_hour_minute, 0),
        two(day_hour_minute, 3),
        two(day_hour_minute, 6),
    );
    let second = two(time, 6);
    if hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let leap_year = if year_of_century == 0 {
        century % 4 == 0
    } else {
        year_of_century % 4 == 0
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap_year => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days_in_month {
        return false;
    }
    let zone = match zone.split_first() {
        Some((b'.', fraction)) => {
            let digits = fraction
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
            if digits == 0 {
                return false;
            }
            &fraction[digits..]
        }
        _ => zone,
    };
    match *zone {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let pair = |tens: u8, ones: u8| {
                let (tens, ones) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
                if tens < 10 && ones < 10 {
                    tens * 10 + ones
                } else {
                    u8::MAX
                }
            };
            pair(h1, h2) <= 23 && pair(m1, m2) <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(text: &str) -> bool {
        OffsetDateTime::parse(text, &Rfc3339).is_ok()
    }

    #[test]
    fn vouches_only_for_what_the_full_parser_accepts() {
        let mut vouched = 0;
        let mut check = |text: &str| {
            if plainly_valid(text.as_bytes()) {
                vouched += 1;
                assert!(parses(text), "{text}");
            }
            assert_eq!(is_rfc3339(text), parses(text), "{text}");
        };
        for year in ["0000", "1900", "2000", "2023", "2024", "2100", "9999"] {
            for month in 0..=13 {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    check(&format!("{year}-{month:02}-{day:02}T12:00:00Z"));
                }
            }
        }
        let base = "2024-05-01T12:34:56.123456789+05:30";
        for at in 0..base.len() {
            for replacement in [
                "", "0", "9", "6", "2", "-", "+", ":", ".", "T", "t", " ", "Z", "z", "x",
            ] {
                check(&format!("{}{replacement}{}", &base[..at], &base[at + 1..]));
                check(&format!("{}{replacement}{}", &base[..at], &base[at..]));
            }
            check(&base[..at]);
        }
        for text in [
            "2024-05-01T23:59:59Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:60:00Z",
            "2024-06-30T23:59:60Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00.1234567891234Z",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00+23:60",
            "2024-05-01T12:00:00-00:00",
            "2024-05-01 12:00:00Z",
            "2024-05-01T12:00:00",
            "yesterday",
        ] {
            check(text);
        }
        assert!(vouched > 500, "{vouched}");
    }
}
