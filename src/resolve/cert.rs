//! Reads the few X.509 fields a certificate diagnosis names — subject,
//! issuer, validity dates, subjectAltName — from DER. A small bounds-checked
//! walker rather than a full X.509 crate: the verifier (webpki) judges the
//! certificate; this only words what it judged. Any malformed input gives
//! None or empty fields, never a panic.

use crate::diagnose::dns::tls::CertInfo;

/// One DER element: tag, contents, and the rest of the input after it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    Some((tag, input.get(head..end)?, input.get(end..)?))
}

/// The elements inside a constructed element's contents.
fn children(mut input: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !input.is_empty() {
        match element(input) {
            Some((tag, body, rest)) => {
                out.push((tag, body));
                input = rest;
            }
            None => break,
        }
    }
    out
}

/// Short names of the attribute types people read in a DN.
fn attr_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        _ => return None,
    })
}

/// A Name (SEQUENCE OF RDN) as `CN=x, O=y`.
fn dn(body: &[u8]) -> String {
    let mut parts = Vec::new();
    for (_, set) in children(body) {
        for (_, atv) in children(set) {
            let kids = children(atv);
            if let [(0x06, oid), (_, value), ..] = kids.as_slice() {
                if let Some(name) = attr_name(oid) {
                    parts.push(format!("{name}={}", String::from_utf8_lossy(value)));
                }
            }
        }
    }
    parts.join(", ")
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A UTCTime (tag 0x17) or GeneralizedTime (0x18) as seconds since the epoch.
fn time(tag: u8, body: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(body).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = text.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(0..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (mo, d, h, mi) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?);
    let s = num(8..10).unwrap_or(0);
    Some(days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + s)
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_text(secs: i64) -> String {
    crate::timefmt::Utc::from_unix(secs).human()
}

/// The subjectAltName entries (DNS names and IP addresses).
fn alt_names(ext_value: &[u8]) -> Vec<String> {
    let Some((0x30, seq, _)) = element(ext_value) else {
        return Vec::new();
    };
    children(seq)
        .into_iter()
        .filter_map(|(tag, body)| match tag {
            0x82 => Some(String::from_utf8_lossy(body).into_owned()),
            0x87 => match body.len() {
                4 => {
                    let b: [u8; 4] = body.try_into().ok()?;
                    Some(std::net::Ipv4Addr::from(b).to_string())
                }
                16 => {
                    let b: [u8; 16] = body.try_into().ok()?;
                    Some(std::net::Ipv6Addr::from(b).to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The fields of a DER certificate, or None when it does not parse.
pub fn parse(der: &[u8]) -> Option<CertInfo> {
    let (0x30, cert, _) = element(der)? else {
        return None;
    };
    let (0x30, tbs, _) = element(cert)? else {
        return None;
    };
    let mut fields = children(tbs).into_iter().peekable();
    // Optional [0] version.
    if fields.peek().is_some_and(|(t, _)| *t == 0xa0) {
        fields.next();
    }
    let _serial = fields.next()?;
    let _sig = fields.next()?;
    let (_, issuer) = fields.next()?;
    let (_, validity) = fields.next()?;
    let (_, subject) = fields.next()?;
    let _spki = fields.next()?;
    let times = children(validity);
    let (nb, na) = match times.as_slice() {
        [(t1, b1), (t2, b2), ..] => (time(*t1, b1)?, time(*t2, b2)?),
        _ => return None,
    };
    let mut names = Vec::new();
    for (tag, body) in fields {
        if tag != 0xa3 {
            continue;
        }
        let Some((0x30, exts, _)) = element(body) else {
            continue;
        };
        for (_, ext) in children(exts) {
            let kids = children(ext);
            if let Some((0x06, [0x55, 0x1d, 0x11])) = kids.first() {
                if let Some((0x04, value)) = kids.last() {
                    names = alt_names(value);
                }
            }
        }
    }
    let (subject, issuer) = (dn(subject), dn(issuer));
    Some(CertInfo {
        self_signed: subject == issuer,
        subject,
        issuer,
        not_before: utc_text(nb),
        not_after: utc_text(na),
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(time(0x17, b"000229000000Z"), Some(951_782_400));
        assert_eq!(time(0x18, b"20000229000000Z"), Some(951_782_400));
        assert_eq!(time(0x17, b"0002"), None);
    }

    #[test]
    fn garbage_gives_none_not_a_panic() {
        for bytes in [
            &b""[..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x03, 0x30, 0x01],
            &[0x30, 0x80],
        ] {
            assert_eq!(parse(bytes), None);
        }
    }
}
