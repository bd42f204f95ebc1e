//! International host names (UTS #46): `bücher.example` is asked for as
//! `xn--bcher-kva.example`, as iputils and dig do, and shown in both forms.

/// The ASCII (A-label) form of `host`; ASCII input is returned unchanged,
/// so case and underscores survive. Err carries why the name is invalid.
pub fn to_ascii(host: &str) -> Result<String, String> {
    if host.is_ascii() {
        return Ok(host.to_string());
    }
    idna::domain_to_ascii(host).map_err(|e| format!("not a valid international name ({e:?})"))
}

/// The Unicode form of `host` when it has A-labels (`xn--…`), for showing
/// beside the ASCII one; None when both forms are the same.
pub fn unicode_form(host: &str) -> Option<String> {
    if !host.to_ascii_lowercase().contains("xn--") {
        return None;
    }
    let (unicode, result) = idna::domain_to_unicode(host);
    (result.is_ok() && unicode != host).then_some(unicode)
}

/// `bücher.example (xn--bcher-kva.example)` or the other way round: the
/// name as typed, with its other form when it has one.
pub fn both_forms(typed: &str) -> String {
    if !typed.is_ascii() {
        if let Ok(ascii) = to_ascii(typed) {
            return format!("{typed} ({ascii})");
        }
    }
    match unicode_form(typed) {
        Some(u) => format!("{typed} ({u})"),
        None => typed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_names_become_a_labels_and_back() {
        assert_eq!(
            to_ascii("bücher.example").as_deref(),
            Ok("xn--bcher-kva.example")
        );
        assert_eq!(
            to_ascii("Bücher.Example.").as_deref(),
            Ok("xn--bcher-kva.example.")
        );
        assert_eq!(
            to_ascii("_sip._udp.Lab.test").as_deref(),
            Ok("_sip._udp.Lab.test")
        );
        assert_eq!(
            unicode_form("xn--bcher-kva.example").as_deref(),
            Some("bücher.example")
        );
        assert_eq!(unicode_form("web.lab.test"), None);
        assert_eq!(
            both_forms("bücher.example"),
            "bücher.example (xn--bcher-kva.example)"
        );
        assert_eq!(
            both_forms("xn--bcher-kva.example"),
            "xn--bcher-kva.example (bücher.example)"
        );
        // Whatever UTS #46 lets through, the host-name check still refuses.
        let bad = to_ascii("bü cher.example").unwrap_or_default();
        assert!(!crate::resolve::valid_hostname(&bad), "{bad}");
    }
}
