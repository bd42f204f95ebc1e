//! NSEC3 denial proofs (RFC 5155 §8): names are compared by their
//! iterated SHA-1 hash (hickory's `Nsec3HashAlgorithm::hash`), so a proof
//! is a matching NSEC3 (owner hash = hash of the name) or a covering one
//! (the name's hash falls between owner and next hash). Signatures are
//! checked separately; this is the logic of the proof.

use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC3};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The most hash iterations netdx computes (BIND's limit since RFC 9276;
/// above it BIND calls the answer insecure): a hostile server cannot make
/// each proof cost 65,535 SHA-1 rounds per record and name.
pub const MAX_ITERATIONS: u16 = 150;

/// The highest iteration count among the NSEC3 records of `section`.
pub fn max_iterations(section: &[Record]) -> u16 {
    section
        .iter()
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::NSEC3(n)) => Some(n.iterations()),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// What a set of NSEC3 records proves about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The denial holds.
    Denied,
    /// Only an opt-out span covers the name: an unsigned delegation may
    /// hide there, so the answer is insecure rather than secure.
    OptOut,
}

/// One NSEC3 of the authority section, with its owner hash in base32hex.
struct Entry<'a> {
    owner: String,
    rdata: &'a NSEC3,
}

/// The NSEC3 records of `section` owned directly under `zone`.
fn entries<'a>(section: &'a [Record], zone: &Name) -> Vec<Entry<'a>> {
    section
        .iter()
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::NSEC3(n))
                if r.name().base_name() == *zone && n.iterations() <= MAX_ITERATIONS =>
            {
                let label = r.name().iter().next()?;
                Some(Entry {
                    owner: String::from_utf8_lossy(label).to_ascii_lowercase(),
                    rdata: n,
                })
            }
            _ => None,
        })
        .collect()
}

/// Base32hex without padding, lowercase: the form of an NSEC3 owner
/// label. It sorts like the bytes it encodes, so spans compare as text.
pub fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The hash of `name` with `n`'s parameters, in base32hex (None for an
/// unknown hash algorithm, which then proves nothing).
fn hash_of(n: &NSEC3, name: &Name) -> Option<String> {
    n.hash_algorithm()
        .hash(n.salt(), name, n.iterations())
        .ok()
        .map(|d| base32hex(d.as_ref()))
}

/// The NSEC3 whose owner hash is the hash of `name`.
fn matching<'a>(list: &'a [Entry<'a>], name: &Name) -> Option<&'a NSEC3> {
    list.iter()
        .find(|e| hash_of(e.rdata, name).is_some_and(|h| h == e.owner))
        .map(|e| e.rdata)
}

/// The NSEC3 whose span (owner hash, next hash) strictly contains the
/// hash of `name` (the last span of the zone wraps round).
fn covering<'a>(list: &'a [Entry<'a>], name: &Name) -> Option<&'a NSEC3> {
    list.iter()
        .find(|e| {
            let Some(h) = hash_of(e.rdata, name) else {
                return false;
            };
            let next = base32hex(e.rdata.next_hashed_owner_name());
            let (owner, next, h) = (e.owner.as_str(), next.as_str(), h.as_str());
            if owner < next {
                owner < h && h < next
            } else {
                owner < h || h < next
            }
        })
        .map(|e| e.rdata)
}

/// The closest encloser proof (§8.3): the deepest ancestor of `name` in
/// `zone` with a matching NSEC3, whose child towards `name` (the next
/// closer name) is covered. The encloser and the covering NSEC3.
fn closest_encloser<'a>(
    list: &'a [Entry<'a>],
    zone: &Name,
    name: &Name,
) -> Option<(Name, &'a NSEC3)> {
    let top = usize::from(zone.num_labels());
    let depth = usize::from(name.num_labels());
    (top..depth).rev().find_map(|labels| {
        let encloser = name.trim_to(labels);
        matching(list, &encloser)?;
        let next_closer = name.trim_to(labels + 1);
        covering(list, &next_closer).map(|c| (encloser, c))
    })
}

/// Whether `types` has `t`.
fn has(n: &NSEC3, t: RecordType) -> bool {
    n.type_bit_maps().any(|x| x == t)
}

/// Checks that the NSEC3 records of `section` (zone `zone`) prove the
/// negative answer for `name`/`rtype`: NXDOMAIN (closest encloser, next
/// closer and wildcard covered, opt-out or not, as delv judges it), or NODATA (a matching NSEC3 without the
/// type; for DS, an opt-out span covering the next closer name). The
/// error says which part of the proof is missing.
pub fn prove(
    section: &[Record],
    zone: &Name,
    name: &Name,
    rtype: RecordType,
    nxdomain: bool,
) -> Result<Proof, String> {
    let list = entries(section, zone);
    if list.is_empty() {
        return Err(format!("no NSEC3 record of zone {zone} in the answer"));
    }
    if nxdomain {
        let (encloser, _) = closest_encloser(&list, zone, name).ok_or_else(|| {
            format!(
                "no NSEC3 proves a closest encloser of {name} with its next closer name covered"
            )
        })?;
        let wildcard = Name::from_ascii("*")
            .and_then(|star| star.append_domain(&encloser))
            .map_err(|e| format!("wildcard of {encloser}: {e}"))?;
        if covering(&list, &wildcard).is_none() {
            return Err(format!(
                "no NSEC3 covers the wildcard {wildcard}, so *.{encloser} could have answered"
            ));
        }
        // An opt-out span over the next closer name still proves the
        // NXDOMAIN: delv (BIND) calls it fully validated, and so does netdx.
        return Ok(Proof::Denied);
    }
    if let Some(m) = matching(&list, name) {
        if has(m, rtype) || has(m, RecordType::CNAME) {
            return Err(format!(
                "the NSEC3 matching {name} lists {rtype} (or CNAME): the type exists"
            ));
        }
        if rtype == RecordType::DS && has(m, RecordType::SOA) && *name != *zone {
            return Err(format!(
                "the NSEC3 matching {name} is from the child zone's apex, not from its parent"
            ));
        }
        return Ok(Proof::Denied);
    }
    // No matching NSEC3: for DS, an opt-out span over the next closer name
    // (RFC 5155 §8.6) leaves an unsigned delegation possible.
    if rtype == RecordType::DS {
        if let Some((_, cover)) = closest_encloser(&list, zone, name) {
            if cover.opt_out() {
                return Ok(Proof::OptOut);
            }
        }
    }
    Err(format!("no NSEC3 matches {name}"))
}

/// Whether the NSEC3 records of a DS reply prove `child` an unsigned
/// delegation: a matching NSEC3 with NS but neither DS nor SOA, or an
/// opt-out span over it (§8.6). None when they prove nothing of the kind.
pub fn unsigned_delegation(section: &[Record], parent: &Name, child: &Name) -> Option<Proof> {
    let list = entries(section, parent);
    if list.is_empty() {
        return None;
    }
    match matching(&list, child) {
        Some(m) => (has(m, RecordType::NS) && !has(m, RecordType::DS) && !has(m, RecordType::SOA))
            .then_some(Proof::Denied),
        None => closest_encloser(&list, parent, child)
            .filter(|(_, c)| c.opt_out())
            .map(|_| Proof::OptOut),
    }
}

/// The owners of the NSEC3 records of `section` under `zone`, for
/// checking their signatures.
pub fn owners(section: &[Record], zone: &Name) -> Vec<Name> {
    let mut out: Vec<Name> = Vec::new();
    for r in section {
        if r.record_type() == RecordType::NSEC3
            && r.name().base_name() == *zone
            && !out.contains(r.name())
        {
            out.push(r.name().clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::dnssec::Nsec3HashAlgorithm;

    #[test]
    fn base32hex_matches_rfc4648_vectors() {
        assert_eq!(base32hex(b""), "");
        assert_eq!(base32hex(b"f"), "co");
        assert_eq!(base32hex(b"fo"), "cpng");
        assert_eq!(base32hex(b"foobar"), "cpnmuoj1e8");
    }

    /// RFC 5155 appendix A: example. with salt aabbccdd, 12 iterations.
    #[test]
    fn hash_matches_rfc5155_appendix_a() {
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        let h = |s: &str| {
            let name = Name::from_ascii(s).unwrap_or_default();
            Nsec3HashAlgorithm::SHA1
                .hash(&salt, &name, 12)
                .map(|d| base32hex(d.as_ref()))
                .unwrap_or_default()
        };
        assert_eq!(h("example."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
        assert_eq!(h("a.example."), "35mthgpgcu1qg68fab165klnsnk3dpvl");
        assert_eq!(h("ns1.example."), "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
    }
}
