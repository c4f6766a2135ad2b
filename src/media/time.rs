//! Date and time strings as EXIF and `QuickTime` write them.

use chrono::{DateTime, NaiveDateTime};

use super::TakenAt;

/// Seconds from 1904-01-01 (the `QuickTime` epoch) to 1970-01-01.
const QUICKTIME_EPOCH_OFFSET: i64 = 2_082_844_800;

/// Parses an EXIF `YYYY:MM:DD HH:MM:SS` (also with `-` separators, a `T`, or trailing
/// sub-seconds or zone which are ignored). Blank or zero dates (`0000:00:00 ...`) yield `None`.
pub(crate) fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().trim_end_matches('\0');
    let head = s.get(..19)?;
    let normal: String = head
        .char_indices()
        .map(|(i, c)| match (i, c) {
            (4 | 7, '-') => ':',
            (10, 'T') => ' ',
            _ => c,
        })
        .collect();
    NaiveDateTime::parse_from_str(&normal, "%Y:%m:%d %H:%M:%S").ok()
}

/// Parses a UTC offset such as `+02:00`, `-0530`, `+02` or `Z` into seconds east of UTC.
pub(crate) fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim().trim_end_matches('\0');
    if s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = match digits.get(2..) {
        Some("") | None => 0,
        Some(m) => m.parse().ok()?,
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    hours
        .checked_mul(3600)?
        .checked_add(minutes.checked_mul(60)?)?
        .checked_mul(sign)
}

/// Parses an ISO 8601 time with optional offset, as in `com.apple.quicktime.creationdate`
/// (`2023-06-01T12:34:56+0200`).
pub(crate) fn parse_iso(s: &str) -> Option<TakenAt> {
    let s = s.trim();
    let local = parse_local(s)?;
    let tail = s.get(19..).unwrap_or("");
    // Skip fractional seconds before the zone.
    let zone = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    Some(TakenAt {
        local,
        offset_secs: parse_offset(zone),
    })
}

/// A `QuickTime` `mvhd` creation time (seconds since 1904, UTC). Zero means "not set".
pub(crate) fn from_quicktime_secs(secs: u64) -> Option<TakenAt> {
    if secs == 0 {
        return None;
    }
    let unix = i64::try_from(secs)
        .ok()?
        .checked_sub(QUICKTIME_EPOCH_OFFSET)?;
    let utc = DateTime::from_timestamp(unix, 0)?;
    Some(TakenAt {
        local: utc.naive_utc(),
        offset_secs: Some(0),
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn parses_exif_and_iso_forms() {
        let want = NaiveDateTime::parse_from_str("2023-06-01 12:34:56", "%Y-%m-%d %H:%M:%S").ok();
        assert_eq!(parse_local("2023:06:01 12:34:56"), want);
        assert_eq!(parse_local("2023-06-01T12:34:56.123+02:00"), want);
        assert_eq!(parse_local("0000:00:00 00:00:00"), None);
        assert_eq!(parse_local("    :  :     :  :  "), None);
        assert_eq!(parse_local("2023:06"), None);
        let iso = parse_iso("2023-06-01T12:34:56+0200").unwrap();
        assert_eq!((Some(iso.local), iso.offset_secs), (want, Some(7200)));
        assert_eq!(parse_iso("2023-06-01T12:34:56").unwrap().offset_secs, None);
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_offset("+02:00"), Some(7200));
        assert_eq!(parse_offset("-05:30"), Some(-19800));
        assert_eq!(parse_offset("-0530"), Some(-19800));
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("   :  "), None);
        assert_eq!(parse_offset("+9"), None);
    }

    #[test]
    fn converts_quicktime_epoch() {
        let t = from_quicktime_secs(3_206_613_834).unwrap();
        assert_eq!(t.local.to_string(), "2005-08-11 14:03:54");
        assert_eq!(from_quicktime_secs(0), None);
        assert!(from_quicktime_secs(u64::MAX).is_none());
    }
}
