//! Record data in dig's presentation format, so `--short` output can be
//! compared line for line with `dig +short` and pasted into zone files.

use crate::diagnose::dns::answer::Rec;
use hickory_proto::rr::{RData, Record};

/// Converts a wire record into its presentation form.
pub fn record_of(record: &Record) -> Rec {
    Rec {
        name: record.name().to_ascii(),
        ttl: record.ttl(),
        class: record.dns_class().to_string(),
        rtype: record.record_type().to_string(),
        data: data_text(record.data()),
    }
}

/// dig's text for one record's data.
pub fn data_text(data: &RData) -> String {
    match data {
        RData::TXT(txt) => txt
            .txt_data()
            .iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// A character-string in quotes with dig's escapes: `\"`, `\\`, and
/// `\DDD` for bytes outside printable ASCII.
fn quoted(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::TXT;

    #[test]
    fn txt_strings_are_quoted_like_dig() {
        let txt = TXT::from_bytes(vec![b"v=spf1 -all".as_slice(), b"say \"hi\"\\\x01"]);
        assert_eq!(
            data_text(&RData::TXT(txt)),
            r#""v=spf1 -all" "say \"hi\"\\\001""#
        );
    }
}
