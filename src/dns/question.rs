//! Turns what the user typed into questions: names checked for syntax,
//! addresses turned into reverse (PTR) names, types checked against the
//! ones a person means. Bad input fails here, before any packet is sent.

use crate::error::{AppError, AppResult};
use hickory_proto::rr::{Name, RecordType};
use std::net::IpAddr;
use std::str::FromStr;

/// The types `--all` asks for: the usual "what is at this name" set.
pub const ALL_TYPES: [RecordType; 9] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::NS,
    RecordType::SOA,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::CAA,
];

/// One name to look up, with the types to ask for it.
#[derive(Debug, Clone)]
pub struct Target {
    /// As typed (shown in output).
    pub input: String,
    /// The DNS name (relative unless typed with a trailing dot).
    pub name: Name,
    /// Types to ask.
    pub types: Vec<RecordType>,
}

/// Parses `-t` values; `BOGUS` gets a list of the types that exist.
pub fn parse_type(text: &str) -> AppResult<RecordType> {
    let upper = text.trim().to_ascii_uppercase();
    let bad = || {
        AppError::usage(format!(
            "unknown record type '{text}' (use A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA, or --all)"
        ))
    };
    let rtype = RecordType::from_str(&upper).map_err(|_| bad())?;
    match rtype {
        RecordType::Unknown(_)
        | RecordType::OPT
        | RecordType::AXFR
        | RecordType::IXFR
        | RecordType::ZERO => Err(bad()),
        t => Ok(t),
    }
}

/// Parses a name or an address; an address becomes its in-addr.arpa or
/// ip6.arpa name, like nslookup does.
pub fn parse_target(
    input: &str,
    types: &[RecordType],
    default: &[RecordType],
) -> AppResult<Target> {
    let text = input.trim();
    if let Ok(ip) = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        let types = if types.is_empty() {
            vec![RecordType::PTR]
        } else {
            types.to_vec()
        };
        return Ok(Target {
            input: text.to_string(),
            name: Name::from(ip),
            types,
        });
    }
    let name = parse_name(text)?;
    let types = if types.is_empty() {
        default.to_vec()
    } else {
        types.to_vec()
    };
    Ok(Target {
        input: text.to_string(),
        name,
        types,
    })
}

/// Checks DNS name syntax (letters, digits, hyphens, underscores; labels of
/// at most 63 bytes; 253 in all) and converts international names to
/// their xn-- form.
pub fn parse_name(text: &str) -> AppResult<Name> {
    let bad = |why: &str| AppError::usage(format!("'{text}' is not a valid DNS name: {why}"));
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    let name = if text.is_ascii() {
        Name::from_ascii(text).map_err(|e| bad(&e.to_string()))?
    } else {
        Name::from_utf8(text).map_err(|e| bad(&e.to_string()))?
    };
    let ascii = name.to_ascii();
    let bare = ascii.trim_end_matches('.');
    if bare.is_empty() {
        return Err(bad("it has no labels"));
    }
    if bare.len() > 253 {
        return Err(bad("longer than 253 characters"));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(bad("it has an empty label (two dots in a row)"));
        }
        if label.len() > 63 {
            return Err(bad("a label is longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label starts or ends with a hyphen"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
        {
            return Err(bad(
                "only letters, digits, hyphens and underscores are allowed",
            ));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_and_bogus_is_refused() {
        assert_eq!(parse_type("mx").ok(), Some(RecordType::MX));
        assert_eq!(parse_type("CAA").ok(), Some(RecordType::CAA));
        assert!(parse_type("BOGUS").is_err());
        assert!(parse_type("AXFR").is_err());
    }

    #[test]
    fn addresses_become_reverse_names() {
        let t = match parse_target("198.18.0.10", &[], &[RecordType::A]) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(t.name.to_ascii(), "10.0.18.198.in-addr.arpa.");
        assert_eq!(t.types, vec![RecordType::PTR]);
        let t6 = match parse_target("2001:db8::1", &[], &[]) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!(t6.name.to_ascii().ends_with("8.b.d.0.1.0.0.2.ip6.arpa."));
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "a..b",
            "-x.test",
            "has space.test",
            &"a".repeat(64),
            "x!.test",
        ] {
            assert!(parse_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["www.lab.test", "www.lab.test.", "_sip._udp.lab.test", "foo"] {
            assert!(parse_name(good).is_ok(), "{good:?} refused");
        }
    }
}
