//! Origin AS numbers of hop addresses over DNS TXT, the scheme `mtr -z`
//! uses: the address's reversed octets (nibbles for IPv6) under a zone
//! (`origin.asn.cymru.com`, `origin6.asn.cymru.com`), answered with
//! `"64500 | 198.18.0.0/15 | ZZ | registry | date"`. Lookups run as tasks,
//! at most [`MAX_LOOKUPS`] at once, cached per address; a slow or silent
//! server costs a bounded wait per hop line and never holds the exit.
//! Once an address's AS is known, its name is asked the same way
//! (`AS64500.asn.cymru.com` TXT, `"64500 | ZZ | registry | date | NAME"`),
//! once per AS.

use super::wire::{self, Outcome, WireOpts};
use hickory_proto::rr::{Name, RData, RecordType};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// At most this many AS lookups are in flight at once.
pub const MAX_LOOKUPS: usize = 8;
/// The IPv4 zone mtr -z asks by default.
pub const DEFAULT_ZONE4: &str = "origin.asn.cymru.com";
/// The IPv6 zone mtr -z asks by default.
pub const DEFAULT_ZONE6: &str = "origin6.asn.cymru.com";
/// The zone AS names are asked under by default (`AS<n>.asn.cymru.com`).
pub const DEFAULT_NAME_ZONE: &str = "asn.cymru.com";
/// Longest AS name kept (hostile or odd TXT answers are cut here).
const MAX_NAME: usize = 64;
/// Time limit of one lookup, both tries included.
const DEADLINE: Duration = Duration::from_secs(3);

/// Where one address's lookup stands.
#[derive(Clone, Copy)]
enum State {
    /// Asked for at this instant.
    Pending(Instant),
    /// Finished: the origin AS, if the zone knows one.
    Done(Option<u32>),
}

/// Where one AS's name lookup stands.
#[derive(Clone)]
enum NameState {
    /// Asked for at this instant.
    Pending(Instant),
    /// Finished: the name, if the zone knows one.
    Done(Option<String>),
}

/// What the lookups have found so far.
#[derive(Default)]
struct Found {
    origins: HashMap<IpAddr, State>,
    names: HashMap<u32, NameState>,
}

/// The AS cache: one lookup per address and one name lookup per AS,
/// answers kept for the run.
#[derive(Clone)]
pub struct Asns {
    server: SocketAddr,
    zone4: String,
    zone6: String,
    name_zone: String,
    state: Arc<Mutex<Found>>,
    slots: Arc<Semaphore>,
}

/// Checks a `--asn-zone` before anything is sent: labels of 1 to 63
/// letters, digits, hyphens (or `_`), the whole name short enough for the
/// 64 labels of an IPv6 nibble name in front of it. Returns the zone
/// without its trailing dot.
pub fn check_zone(zone: &str) -> Result<&str, String> {
    let bare = zone.strip_suffix('.').unwrap_or(zone);
    let bad = |why: &str| Err(format!("--asn-zone {zone:?}: {why}"));
    if bare.is_empty() {
        return bad("the zone is empty; give a domain name such as origin.asn.cymru.com");
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return bad("empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return bad(&format!(
                "{c:?} is not allowed in a domain name (letters, digits, hyphens)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with a hyphen");
        }
    }
    // 32 nibbles of an IPv6 name take 64 bytes; a name is at most 255
    // bytes on the wire (253 as text without the root dot).
    if bare.len() + 64 > 253 {
        return bad("too long: with an IPv6 address in front it exceeds 253 characters");
    }
    Ok(bare)
}

/// The zone AS names live under, for an origin zone: mtr's zones
/// `origin.asn.cymru.com` / `origin6.…` drop their first label
/// (`asn.cymru.com`); any other zone (a test zone) is used as it is.
pub fn name_zone(zone: &str) -> String {
    let bare = zone.trim_end_matches('.');
    for prefix in ["origin.", "origin6."] {
        if let Some(rest) = bare.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    bare.to_string()
}

impl Asns {
    /// Lookups against `server`, under `zone` for both families when given
    /// (a test zone), else under mtr's two default zones.
    pub fn new(server: SocketAddr, zone: Option<&str>) -> Asns {
        let (zone4, zone6, name_zone) = match zone {
            Some(z) => (z.to_string(), z.to_string(), self::name_zone(z)),
            None => (
                DEFAULT_ZONE4.to_string(),
                DEFAULT_ZONE6.to_string(),
                DEFAULT_NAME_ZONE.to_string(),
            ),
        };
        Asns {
            server,
            zone4,
            zone6,
            name_zone,
            state: Arc::default(),
            slots: Arc::new(Semaphore::new(MAX_LOOKUPS)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Found> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the lookup of `addr` if it is new (needs a tokio runtime).
    pub fn want(&self, addr: IpAddr) {
        {
            let mut st = self.lock();
            if st.origins.contains_key(&addr) {
                return;
            }
            st.origins.insert(addr, State::Pending(Instant::now()));
        }
        let zone = if addr.is_ipv6() {
            &self.zone6
        } else {
            &self.zone4
        };
        let (name, me) = (query_name(addr, zone), self.clone());
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.lock().origins.insert(addr, State::Done(None));
            return;
        };
        handle.spawn(async move {
            let found = {
                let _slot = me.slots.acquire().await;
                match name {
                    Some(name) => origin(me.server, &name).await,
                    None => None,
                }
            };
            // The name lookup starts before the origin is published, so a
            // hop line that waits for the origin also waits for the name.
            let ask = found.filter(|asn| me.claim_name(*asn));
            me.lock().origins.insert(addr, State::Done(found));
            if let Some(asn) = ask {
                let _slot = me.slots.acquire().await;
                let owner = Name::from_ascii(format!("AS{asn}.{}.", me.name_zone)).ok();
                let text = match owner {
                    Some(owner) => txt(me.server, &owner).await,
                    None => None,
                };
                let name = text.and_then(|t| parse_name_txt(&t, asn));
                me.lock().names.insert(asn, NameState::Done(name));
            }
        });
    }

    /// Marks the name of `asn` as asked for; false when it already was.
    fn claim_name(&self, asn: u32) -> bool {
        let mut st = self.lock();
        if st.names.contains_key(&asn) {
            return false;
        }
        st.names.insert(asn, NameState::Pending(Instant::now()));
        true
    }

    /// The name of AS `asn`, once its lookup has found one.
    pub fn name(&self, asn: u32) -> Option<String> {
        match self.lock().names.get(&asn) {
            Some(NameState::Done(name)) => name.clone(),
            _ => None,
        }
    }

    /// The origin AS of `addr`, once its lookup has found one.
    pub fn get(&self, addr: IpAddr) -> Option<u32> {
        match self.lock().origins.get(&addr) {
            Some(State::Done(asn)) => *asn,
            _ => None,
        }
    }

    /// True when every address of `addrs` is looked up or has waited
    /// `limit` since it was asked for.
    pub fn settled(&self, addrs: &[IpAddr], limit: Duration) -> bool {
        let st = self.lock();
        addrs.iter().all(|a| match st.origins.get(a) {
            Some(State::Pending(since)) => since.elapsed() >= limit,
            Some(State::Done(Some(asn))) => match st.names.get(asn) {
                Some(NameState::Pending(since)) => since.elapsed() >= limit,
                _ => true,
            },
            _ => true,
        })
    }
}

/// `2.0.18.198.ZONE` for 198.18.0.2; the 32 reversed nibbles for IPv6.
pub fn query_name(addr: IpAddr, zone: &str) -> Option<Name> {
    let reversed: Vec<String> = match addr {
        IpAddr::V4(a) => a.octets().iter().rev().map(u8::to_string).collect(),
        IpAddr::V6(a) => a
            .octets()
            .iter()
            .rev()
            .flat_map(|b| [b & 0x0f, b >> 4])
            .map(|n| format!("{n:x}"))
            .collect(),
    };
    let text = format!("{}.{}.", reversed.join("."), zone.trim_end_matches('.'));
    Name::from_ascii(text).ok()
}

/// The first AS number of a TXT answer (`"64500 64501 | prefix | …"`
/// lists several origins; mtr shows the first).
pub fn parse_txt(text: &str) -> Option<u32> {
    let first = text.split('|').next()?.split_whitespace().next()?;
    first.trim_start_matches("AS").parse().ok()
}

/// The AS name of an `AS<n>` TXT answer, `"64500 | ZZ | registry | date |
/// NAME"` (the last field), when the answer is about `asn`; control
/// characters are dropped and the name is cut at [`MAX_NAME`] characters.
pub fn parse_name_txt(text: &str, asn: u32) -> Option<String> {
    let mut fields = text.split('|').map(str::trim);
    let number = fields.next()?.trim_start_matches("AS");
    if number.parse::<u32>().ok()? != asn {
        return None;
    }
    let last = fields.next_back()?;
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let clean = clean.trim().to_string();
    (!clean.is_empty()).then_some(clean)
}

/// Asks `server` for the TXT of `name`; the first parsable answer wins.
async fn origin(server: SocketAddr, name: &Name) -> Option<u32> {
    txt_answers(server, name)
        .await
        .into_iter()
        .find_map(|text| parse_txt(&text))
}

/// The first TXT string `server` answers for `name`.
async fn txt(server: SocketAddr, name: &Name) -> Option<String> {
    txt_answers(server, name).await.into_iter().next()
}

/// Every TXT answer of `server` for `name` (each record's strings joined).
async fn txt_answers(server: SocketAddr, name: &Name) -> Vec<String> {
    let opts = WireOpts {
        tcp_only: false,
        edns: Some(1232),
        deadline: DEADLINE,
        attempts: 2,
    };
    let Ok(Outcome::Complete(exchange)) = wire::exchange(server, name, RecordType::TXT, opts).await
    else {
        return Vec::new();
    };
    exchange
        .message
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::TXT(txt) => Some(
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_reversed_under_the_zone() {
        let v4 = query_name(IpAddr::from([198, 18, 0, 2]), "asn.lab.test");
        assert_eq!(
            v4.map(|n| n.to_ascii()),
            Some("2.0.18.198.asn.lab.test.".into())
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0; 16]));
        let name = query_name(v6, DEFAULT_ZONE6)
            .map(|n| n.to_ascii())
            .unwrap_or_default();
        assert!(name.starts_with("1.0.0.0.0.0.0.0."), "{name}");
        assert!(
            name.ends_with("8.b.d.0.1.0.0.2.origin6.asn.cymru.com."),
            "{name}"
        );
    }

    #[test]
    fn txt_answers_give_the_first_origin() {
        assert_eq!(
            parse_txt("64500 | 198.18.0.0/15 | ZZ | test | 2024-01-01"),
            Some(64500)
        );
        assert_eq!(parse_txt("64500 64501 | 198.18.0.0/15 | ZZ"), Some(64500));
        assert_eq!(parse_txt("NA | garbage"), None);
        assert_eq!(parse_txt(""), None);
        assert_eq!(parse_txt("99999999999999 | x"), None);
    }

    #[test]
    fn name_answers_give_the_last_field_of_the_right_as() {
        let t = "23028 | US | arin | 2002-01-04 | TEAMCYMRU - SAI, US";
        assert_eq!(
            parse_name_txt(t, 23028).as_deref(),
            Some("TEAMCYMRU - SAI, US")
        );
        assert_eq!(parse_name_txt(t, 64500), None);
        assert_eq!(parse_name_txt("64500 | ZZ | x | y | ", 64500), None);
        assert_eq!(parse_name_txt("garbage", 64500), None);
        let long = format!("64500 | ZZ | a | b | {}\x07", "N".repeat(300));
        assert_eq!(parse_name_txt(&long, 64500).map(|n| n.len()), Some(64));
    }

    #[test]
    fn zones_are_checked_and_names_live_one_label_up() {
        assert_eq!(
            check_zone("origin.asn.cymru.com."),
            Ok("origin.asn.cymru.com")
        );
        assert_eq!(check_zone("asn.lab.test"), Ok("asn.lab.test"));
        for bad in [
            "",
            ".",
            "..",
            "a..b",
            ".a",
            "a b",
            "a/b",
            "-a.b",
            "\u{e9}.test",
        ] {
            assert!(check_zone(bad).is_err(), "{bad:?}");
        }
        assert!(check_zone(&format!("{}.test", "x".repeat(64))).is_err());
        assert!(check_zone(&vec!["abcdefghi"; 20].join(".")).is_err());
        assert_eq!(name_zone("origin.asn.cymru.com"), "asn.cymru.com");
        assert_eq!(name_zone("origin6.asn.cymru.com."), "asn.cymru.com");
        assert_eq!(name_zone("asn.lab.test"), "asn.lab.test");
    }
}
