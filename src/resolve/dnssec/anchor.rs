//! Trust anchors: the built-in root KSK, and `--trust-anchor FILE` with DS
//! or DNSKEY records in zone-file format (what delv's `-a`, unbound's
//! `trust-anchor-file` and ldns-keygen/dnssec-keygen `.key`/`.ds` files
//! hold), so a private tree can be validated from its own apex.

use crate::error::{AppError, AppResult};
use base64::Engine;
use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::dnssec::{Algorithm, DigestType, PublicKeyBuf};
use hickory_proto::rr::Name;
use std::path::Path;

/// The root zone's KSK-2017 (key tag 20326) as IANA publishes it in
/// root-anchors.xml.
const ROOT_DS: &str =
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

/// The records trusted without proof for one zone.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The zone they belong to.
    pub zone: Name,
    /// DS records: a DNSKEY of the zone that matches one is trusted.
    pub ds: Vec<DS>,
    /// DNSKEY records trusted as they are.
    pub keys: Vec<DNSKEY>,
    /// Where they came from, for the report (`built-in root KSK 20326`, a path).
    pub origin: String,
}

/// The built-in anchor: the root KSK.
pub fn root() -> Vec<Anchor> {
    let mut anchors = Vec::new();
    // The constant parses; an error here would be a typo caught by the tests.
    if let Ok(records) = parse_text(ROOT_DS, "built-in root KSK 20326") {
        anchors = records;
    }
    anchors
}

/// Reads an anchor file; any line that is not a DS or DNSKEY record is
/// a usage error naming the file and line.
pub fn load(path: &Path) -> AppResult<Vec<Anchor>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::usage(format!(
            "cannot read trust anchor file {}: {e}",
            path.display()
        ))
    })?;
    parse_text(&text, &path.display().to_string())
        .map_err(|why| AppError::usage(format!("trust anchor file {}: {why}", path.display())))
}

/// Parses zone-file text into anchors grouped by zone.
pub fn parse_text(text: &str, origin: &str) -> Result<Vec<Anchor>, String> {
    let mut anchors: Vec<Anchor> = Vec::new();
    for (line_no, entry) in entries(text)? {
        let (owner, record) =
            parse_entry(&entry).map_err(|why| format!("line {line_no}: {why}"))?;
        let at = match anchors.iter().position(|a| a.zone == owner) {
            Some(i) => i,
            None => {
                anchors.push(Anchor {
                    zone: owner,
                    ds: Vec::new(),
                    keys: Vec::new(),
                    origin: origin.to_string(),
                });
                anchors.len() - 1
            }
        };
        match record {
            Parsed::Ds(ds) => anchors[at].ds.push(ds),
            Parsed::Key(key) => anchors[at].keys.push(key),
        }
    }
    if anchors.is_empty() {
        return Err("no DS or DNSKEY record in it".into());
    }
    Ok(anchors)
}

/// The deepest anchor at or above `name`.
pub fn covering<'a>(anchors: &'a [Anchor], name: &Name) -> Option<&'a Anchor> {
    anchors
        .iter()
        .filter(|a| a.zone.zone_of(name))
        .max_by_key(|a| a.zone.num_labels())
}

enum Parsed {
    Ds(DS),
    Key(DNSKEY),
}

/// Logical records with their first line number: comments dropped,
/// `$` directives skipped, parentheses joined.
fn entries(text: &str) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split(';').next().unwrap_or("");
        if open.is_none() && line.trim_start().starts_with('$') {
            continue;
        }
        let (start, mut acc) = open.take().unwrap_or((i + 1, String::new()));
        acc.push(' ');
        acc.push_str(line);
        let depth = acc.matches('(').count() as isize - acc.matches(')').count() as isize;
        if depth < 0 {
            return Err(format!("line {}: ')' without '('", i + 1));
        }
        if depth > 0 {
            open = Some((start, acc));
            continue;
        }
        let joined = acc.replace(['(', ')'], " ");
        if !joined.trim().is_empty() {
            out.push((start, joined));
        }
    }
    if let Some((start, _)) = open {
        return Err(format!("line {start}: '(' never closed"));
    }
    Ok(out)
}

/// One record: `OWNER [TTL] [CLASS] DS|DNSKEY RDATA`.
fn parse_entry(entry: &str) -> Result<(Name, Parsed), String> {
    let mut tokens = entry.split_whitespace();
    let owner_text = tokens.next().ok_or("empty record")?;
    let owner = Name::from_ascii(owner_text)
        .map_err(|e| format!("owner {owner_text:?} is not a domain name: {e}"))?;
    let owner = if owner.is_fqdn() {
        owner
    } else {
        let mut o = owner;
        o.set_fqdn(true);
        o
    };
    let mut rtype = None;
    for t in tokens.by_ref() {
        if t.chars().all(|c| c.is_ascii_digit()) || t.eq_ignore_ascii_case("IN") {
            continue;
        }
        rtype = Some(t.to_ascii_uppercase());
        break;
    }
    let rtype = rtype.ok_or("no record type")?;
    let rest: Vec<&str> = tokens.collect();
    match rtype.as_str() {
        "DS" => parse_ds(&rest).map(|d| (owner, Parsed::Ds(d))),
        "DNSKEY" => parse_key(&rest).map(|k| (owner, Parsed::Key(k))),
        other => Err(format!(
            "record type {other} is not DS or DNSKEY (a trust anchor is one of those)"
        )),
    }
}

fn number<T: std::str::FromStr>(tokens: &[&str], i: usize, what: &str) -> Result<T, String> {
    let t = tokens.get(i).ok_or(format!("missing {what}"))?;
    t.parse()
        .map_err(|_| format!("{what} {t:?} is not a number in range"))
}

fn parse_ds(tokens: &[&str]) -> Result<DS, String> {
    let tag: u16 = number(tokens, 0, "DS key tag")?;
    let alg: u8 = number(tokens, 1, "DS algorithm")?;
    let digest_type: u8 = number(tokens, 2, "DS digest type")?;
    let hex: String = tokens.get(3..).unwrap_or(&[]).concat();
    if hex.is_empty() {
        return Err("missing DS digest".into());
    }
    let digest = decode_hex(&hex).ok_or(format!("DS digest {hex:?} is not hexadecimal"))?;
    Ok(DS::new(
        tag,
        Algorithm::from_u8(alg),
        DigestType::from(digest_type),
        digest,
    ))
}

fn parse_key(tokens: &[&str]) -> Result<DNSKEY, String> {
    let flags: u16 = number(tokens, 0, "DNSKEY flags")?;
    let protocol: u8 = number(tokens, 1, "DNSKEY protocol")?;
    if protocol != 3 {
        return Err(format!("DNSKEY protocol {protocol} (must be 3)"));
    }
    let alg: u8 = number(tokens, 2, "DNSKEY algorithm")?;
    let b64: String = tokens.get(3..).unwrap_or(&[]).concat();
    if b64.is_empty() {
        return Err("missing DNSKEY public key".into());
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .map_err(|e| format!("DNSKEY public key is not base64: {e}"))?;
    Ok(DNSKEY::with_flags(
        flags,
        PublicKeyBuf::new(key, Algorithm::from_u8(alg)),
    ))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_anchor_is_ksk_20326() {
        let r = root();
        assert_eq!(r.len(), 1);
        assert!(r[0].zone.is_root());
        assert_eq!(r[0].ds[0].key_tag(), 20326);
    }

    #[test]
    fn reads_keygen_files_with_comments_and_parentheses() {
        let text = "; This is a key-signing key, keyid 1234, for test.\n\
                    $TTL 3600\n\
                    test. 3600 IN DNSKEY 257 3 13 (\n  mdsswUyr3DPW132mOi8V9xESWE8jTo0d\n  xCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== ) ; KSK\n\
                    lab.test. IN DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A\n";
        let a = parse_text(text, "f").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].keys.len(), 1);
        assert_eq!(a[0].keys[0].flags(), 257);
        assert_eq!(a[1].ds[0].key_tag(), 60485);
        let name = Name::from_ascii("www.lab.test.").unwrap();
        assert_eq!(covering(&a, &name).unwrap().zone.to_ascii(), "lab.test.");
    }

    #[test]
    fn garbage_is_a_one_line_error() {
        for bad in [
            "hello world",
            "test. IN A 198.18.0.1",
            "test. IN DS 1 2",
            "test. IN DS x 13 2 AB",
            "test. IN DS 1 13 2 XYZ",
            "test. IN DNSKEY 257 3 13 !!!!",
            "test. IN DNSKEY 257 (",
            "\u{0}\u{1}\u{2}",
            "",
        ] {
            let e = parse_text(bad, "f").unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
