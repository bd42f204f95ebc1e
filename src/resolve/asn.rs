//! Origin AS numbers of hop addresses over DNS TXT, the scheme `mtr -z`
//! uses: the address's reversed octets (nibbles for IPv6) under a zone
//! (`origin.asn.cymru.com`, `origin6.asn.cymru.com`), answered with
//! `"64500 | 198.18.0.0/15 | ZZ | registry | date"`. Lookups run as tasks,
//! at most [`MAX_LOOKUPS`] at once, cached per address; a slow or silent
//! server costs a bounded wait per hop line and never holds the exit.

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

/// The AS cache: one lookup per address, answers kept for the run.
#[derive(Clone)]
pub struct Asns {
    server: SocketAddr,
    zone4: String,
    zone6: String,
    state: Arc<Mutex<HashMap<IpAddr, State>>>,
    slots: Arc<Semaphore>,
}

impl Asns {
    /// Lookups against `server`, under `zone` for both families when given
    /// (a test zone), else under mtr's two default zones.
    pub fn new(server: SocketAddr, zone: Option<&str>) -> Asns {
        let (zone4, zone6) = match zone {
            Some(z) => (z.to_string(), z.to_string()),
            None => (DEFAULT_ZONE4.to_string(), DEFAULT_ZONE6.to_string()),
        };
        Asns {
            server,
            zone4,
            zone6,
            state: Arc::default(),
            slots: Arc::new(Semaphore::new(MAX_LOOKUPS)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, State>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the lookup of `addr` if it is new (needs a tokio runtime).
    pub fn want(&self, addr: IpAddr) {
        {
            let mut st = self.lock();
            if st.contains_key(&addr) {
                return;
            }
            st.insert(addr, State::Pending(Instant::now()));
        }
        let zone = if addr.is_ipv6() {
            &self.zone6
        } else {
            &self.zone4
        };
        let (name, me) = (query_name(addr, zone), self.clone());
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.lock().insert(addr, State::Done(None));
            return;
        };
        handle.spawn(async move {
            let _slot = me.slots.acquire().await;
            let found = match name {
                Some(name) => origin(me.server, &name).await,
                None => None,
            };
            me.lock().insert(addr, State::Done(found));
        });
    }

    /// The origin AS of `addr`, once its lookup has found one.
    pub fn get(&self, addr: IpAddr) -> Option<u32> {
        match self.lock().get(&addr) {
            Some(State::Done(asn)) => *asn,
            _ => None,
        }
    }

    /// True when every address of `addrs` is looked up or has waited
    /// `limit` since it was asked for.
    pub fn settled(&self, addrs: &[IpAddr], limit: Duration) -> bool {
        let st = self.lock();
        addrs.iter().all(|a| match st.get(a) {
            Some(State::Pending(since)) => since.elapsed() >= limit,
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

/// Asks `server` for the TXT of `name`; the first parsable answer wins.
async fn origin(server: SocketAddr, name: &Name) -> Option<u32> {
    let opts = WireOpts {
        tcp_only: false,
        edns: Some(1232),
        deadline: DEADLINE,
        attempts: 2,
    };
    let Ok(Outcome::Complete(exchange)) = wire::exchange(server, name, RecordType::TXT, opts).await
    else {
        return None;
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
        .find_map(|text| parse_txt(&text))
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
}
