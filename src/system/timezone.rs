//! IANA time-zone names: the list the wizard offers and the system's current zone.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Offered when the system has no zone database (a trimmed appliance image).
const BUILT_IN: &[&str] = &[
    "UTC",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "America/Anchorage",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Chicago",
    "America/Denver",
    "America/Halifax",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/New_York",
    "America/Phoenix",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/St_Johns",
    "America/Toronto",
    "Asia/Bangkok",
    "Asia/Dubai",
    "Asia/Hong_Kong",
    "Asia/Jakarta",
    "Asia/Jerusalem",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Manila",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tehran",
    "Asia/Tokyo",
    "Atlantic/Reykjavik",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Perth",
    "Australia/Sydney",
    "Europe/Amsterdam",
    "Europe/Athens",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Moscow",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Zurich",
    "Pacific/Auckland",
    "Pacific/Honolulu",
];

/// IANA zone names, sorted, always including `"UTC"`.
///
/// Read from `/usr/share/zoneinfo/tzdata.zi` (its `Z` lines: canonical zones), else from
/// `zone1970.tab` or `zone.tab`, else a built-in list of common zones.
pub fn timezones() -> Vec<String> {
    timezones_in(Path::new(ZONEINFO))
}

fn timezones_in(dir: &Path) -> Vec<String> {
    let mut names = BTreeSet::new();
    if let Ok(text) = fs::read_to_string(dir.join("tzdata.zi")) {
        names.extend(zi_names(&text, false));
    }
    for tab in ["zone1970.tab", "zone.tab"] {
        if !names.is_empty() {
            break;
        }
        if let Ok(text) = fs::read_to_string(dir.join(tab)) {
            names.extend(tab_names(&text));
        }
    }
    if names.is_empty() {
        names.extend(BUILT_IN.iter().map(|s| (*s).to_owned()));
    }
    names.insert("UTC".to_owned());
    names.into_iter().collect()
}

/// Zone names of a `tzdata.zi`: `Z <name> …` lines, and with `links` also `L <target> <alias>`.
fn zi_names(text: &str, links: bool) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(move |line| {
        let mut fields = line.split_whitespace();
        match fields.next()? {
            "Z" => fields.next(),
            "L" if links => fields.nth(1),
            _ => None,
        }
        .map(str::to_owned)
    })
}

/// Zone names of a `zone.tab`/`zone1970.tab`: the third tab-separated column.
fn tab_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split('\t').nth(2))
        .map(str::to_owned)
}

/// True when `name` is a zone this system can use: an offered one, a link in `tzdata.zi`, or
/// a file under the zone database.
pub(crate) fn is_known(name: &str) -> bool {
    if name.is_empty() || name.starts_with('/') || name.split('/').any(|part| part == "..") {
        return false;
    }
    let dir = Path::new(ZONEINFO);
    timezones_in(dir).iter().any(|zone| zone == name)
        || fs::read_to_string(dir.join("tzdata.zi"))
            .is_ok_and(|text| zi_names(&text, true).any(|zone| zone == name))
        || dir.join(name).is_file()
}

/// The system's zone: `/etc/timezone`, else the target of the `/etc/localtime` link, else
/// `"UTC"`.
pub(crate) fn system_default() -> String {
    if let Ok(text) = fs::read_to_string("/etc/timezone") {
        let name = text.trim();
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    fs::read_link("/etc/localtime")
        .ok()
        .and_then(|target| {
            let target = target.to_string_lossy().into_owned();
            let (_, name) = target.split_once("zoneinfo/")?;
            (!name.is_empty()).then(|| name.to_owned())
        })
        .unwrap_or_else(|| "UTC".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_list_is_sorted_and_has_utc() {
        let zones = timezones();
        assert!(zones.iter().any(|z| z == "UTC"));
        assert!(zones.windows(2).all(|w| w[0] < w[1]));
        assert!(zones.len() >= 40, "{} zones", zones.len());
    }

    #[test]
    fn built_in_list_when_no_database() {
        let dir = tempfile::tempdir().unwrap();
        let zones = timezones_in(dir.path());
        assert_eq!(zones.len(), BUILT_IN.len());
        assert!(zones.iter().any(|z| z == "Europe/Paris"));
        assert!(zones.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tab_file_parsed_and_utc_added() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("zone1970.tab"),
            "# comment\nFR,MC\t+4852+00220\tEurope/Paris\nJP\t+353916+1394441\tAsia/Tokyo\tnote\n",
        )
        .unwrap();
        assert_eq!(
            timezones_in(dir.path()),
            ["Asia/Tokyo", "Europe/Paris", "UTC"]
        );
    }

    #[test]
    fn zi_zones_and_links() {
        let text = "R d 1916 o - Jun 14 23s 1 S\nZ Europe/Paris 0:9:21 - LMT 1891\nL Etc/UTC UTC\n";
        assert_eq!(zi_names(text, false).collect::<Vec<_>>(), ["Europe/Paris"]);
        assert_eq!(
            zi_names(text, true).collect::<Vec<_>>(),
            ["Europe/Paris", "UTC"]
        );
    }

    #[test]
    fn known_zones() {
        assert!(is_known("UTC"));
        assert!(!is_known("Mars/Olympus_Mons"));
        assert!(!is_known("../../etc/passwd"));
        assert!(!is_known(""));
        assert!(!system_default().is_empty());
    }
}
