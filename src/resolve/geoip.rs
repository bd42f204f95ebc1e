//! `--geoip FILE`: AS number, AS name and country of hop addresses from an
//! offline MaxMind DB file (GeoLite2/GeoIP2 ASN or Country/City, or
//! IPinfo's free databases), read once into memory; lookups are local and
//! instant, so they never delay a hop line or the exit.

use crate::error::{AppError, AppResult};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

/// Longest name or country code kept from the file (odd data is cut here).
const MAX_TEXT: usize = 64;
/// Largest file read (the biggest GeoLite2 City is about 70 MB).
const MAX_FILE: u64 = 512 * 1024 * 1024;

/// What one address's record says, in whichever schema the file uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoFacts {
    /// Origin AS number.
    pub asn: Option<u32>,
    /// Name of the AS (its organisation).
    pub as_name: Option<String>,
    /// ISO 3166 country code.
    pub country: Option<String>,
}

/// The fields read from a record: MaxMind's (`autonomous_system_number`,
/// `autonomous_system_organization`, `country.iso_code`) and IPinfo's
/// (`asn` as `"AS64500"`, `as_name`, `country_code`).
#[derive(Deserialize, Default)]
struct Record<'a> {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
    country: Option<Country<'a>>,
    asn: Option<&'a str>,
    as_name: Option<&'a str>,
    country_code: Option<&'a str>,
}

/// MaxMind's country object.
#[derive(Deserialize, Default)]
struct Country<'a> {
    iso_code: Option<&'a str>,
}

/// An opened database.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeoDb")
    }
}

impl GeoDb {
    /// Reads and checks `path`; a missing, huge or malformed file is one
    /// line naming it (exit 3), before any probe is sent.
    pub fn open(path: &Path) -> AppResult<GeoDb> {
        let shown = path.display();
        let fail = |why: String| AppError::cannot_run(format!("--geoip {shown}: {why}"));
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > MAX_FILE {
            return Err(fail(format!(
                "{} bytes is larger than any MaxMind DB file ({MAX_FILE} at most)",
                meta.len()
            )));
        }
        let data = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let reader = maxminddb::Reader::from_source(data)
            .map_err(|e| fail(format!("not a MaxMind DB (.mmdb) file: {e}")))?;
        Ok(GeoDb { reader })
    }

    /// The facts the file holds for `addr` (empty when it has none or the
    /// record cannot be read).
    pub fn lookup(&self, addr: IpAddr) -> GeoFacts {
        let Ok(found) = self.reader.lookup(addr) else {
            return GeoFacts::default();
        };
        let Ok(Some(rec)) = found.decode::<Record>() else {
            return GeoFacts::default();
        };
        let asn = rec.autonomous_system_number.or_else(|| {
            rec.asn
                .and_then(|a| a.trim_start_matches("AS").parse::<u32>().ok())
        });
        GeoFacts {
            asn,
            as_name: rec
                .autonomous_system_organization
                .or(rec.as_name)
                .and_then(clean),
            country: rec
                .country
                .and_then(|c| c.iso_code)
                .or(rec.country_code)
                .and_then(clean),
        }
    }
}

/// `text` without control characters, cut at [`MAX_TEXT`]; None if empty.
fn clean(text: &str) -> Option<String> {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_files_are_refused_with_their_name() {
        let dir = std::env::temp_dir().join(format!("netdx-geoip-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        for (name, data) in [
            ("empty.mmdb", Vec::new()),
            ("junk.mmdb", b"\xab\xcd\xefMaxMind.com junk".to_vec()),
            ("zeros.mmdb", vec![0u8; 4096]),
        ] {
            let path = dir.join(name);
            let _ = std::fs::write(&path, &data);
            let err = GeoDb::open(&path).map(|_| ()).unwrap_err();
            assert!(err.message.contains(name), "{}", err.message);
            assert!(!err.message.contains('\n'), "{}", err.message);
        }
        let err = GeoDb::open(&dir.join("missing.mmdb"))
            .map(|_| ())
            .unwrap_err();
        assert!(err.message.contains("missing.mmdb"), "{}", err.message);
        let err = GeoDb::open(&dir).map(|_| ()).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn text_is_cleaned() {
        assert_eq!(clean(" ZZ\u{7} "), Some("ZZ".into()));
        assert_eq!(clean("\n"), None);
        assert_eq!(clean(&"x".repeat(100)).map(|s| s.len()), Some(64));
    }
}
