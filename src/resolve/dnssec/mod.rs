//! DNSSEC validation of one answer, the way delv does it: every record
//! of the chain (DNSKEY of each zone, DS from its parent, their RRSIGs,
//! the NSEC/NSEC3 that proves an unsigned delegation) is fetched from the
//! servers asked (the next one when one does not answer), and checked
//! from a trust anchor down to the answer. The DS and DNSKEY sets are
//! fetched once per run and shared by every name validated.

pub mod anchor;
pub mod denial;
pub mod fetch;
pub mod nsec3;
pub mod verify;

use crate::diagnose::dns::dnssec::{Problem, ProblemKind, Security, SigFact, Validation, ZoneLink};
use anchor::Anchor;
use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// One fetched chain record set, shared by the validations waiting for it.
type Slot = Arc<OnceCell<Result<Message, Problem>>>;

/// What every validation of one run shares: the servers (tried in turn
/// when one does not answer), the anchors, and the DS/DNSKEY replies
/// already fetched, so 200 names under one zone fetch its keys once.
pub struct Chain {
    servers: Vec<SocketAddr>,
    deadline: Duration,
    tcp_only: bool,
    anchors: Vec<Anchor>,
    cache: Mutex<HashMap<(Name, RecordType), Slot>>,
    /// The server that answered last: asked first next time, so a dead
    /// first server costs one timeout, not one per query.
    first: AtomicUsize,
}

impl Chain {
    /// A chain fetcher over `servers` (each query bounded by `deadline`,
    /// over TCP only when `tcp_only`) validating from `anchors`.
    pub fn new(
        servers: Vec<SocketAddr>,
        (deadline, tcp_only): (Duration, bool),
        anchors: Vec<Anchor>,
    ) -> Chain {
        Chain {
            servers,
            deadline,
            tcp_only,
            anchors,
            cache: Mutex::new(HashMap::new()),
            first: AtomicUsize::new(0),
        }
    }

    /// Asks the servers in turn, from the one that answered last, until
    /// one gives NOERROR or NXDOMAIN; the answer and who gave it.
    async fn fetch(
        &self,
        name: &Name,
        rtype: RecordType,
    ) -> Result<(Message, SocketAddr), Problem> {
        let n = self.servers.len();
        let start = self.first.load(Ordering::Relaxed);
        let mut errors: Vec<String> = Vec::new();
        for i in 0..n {
            let at = (start + i) % n;
            let server = self.servers[at];
            match fetch::query(server, name, rtype, self.deadline, self.tcp_only).await {
                Ok(msg)
                    if matches!(
                        msg.response_code(),
                        ResponseCode::NoError | ResponseCode::NXDomain
                    ) =>
                {
                    self.first.store(at, Ordering::Relaxed);
                    return Ok((msg, server));
                }
                Ok(msg) => errors.push(format!(
                    "{server} answered {} for {name} {rtype}",
                    msg.response_code()
                )),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            errors.push("no server to ask".into());
        }
        Err(Problem::new(ProblemKind::QueryFailed, errors.join("; ")))
    }

    /// A DS or DNSKEY set: fetched once per run, whoever asks first.
    async fn cached(&self, name: &Name, rtype: RecordType) -> Result<Message, Problem> {
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .entry((name.clone(), rtype))
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        slot.get_or_init(|| async { self.fetch(name, rtype).await.map(|(m, _)| m) })
            .await
            .clone()
    }
}

/// A zone whose keys are trusted.
#[derive(Clone)]
struct Zone {
    name: Name,
    keys: Vec<DNSKEY>,
}

/// Where the walk from the anchor down ended.
enum Walk {
    /// In a signed zone whose keys are trusted.
    Secure(Zone),
    /// At an unsigned delegation (the zone named), proven by its parent.
    Insecure(Name),
    /// A name denied only by an NSEC3 opt-out span: an unsigned
    /// delegation may exist there, so the denial is insecure.
    OptOut(Name),
}

/// The validation under construction.
struct Work<'a> {
    shared: &'a Chain,
    now: u32,
    chain: Vec<ZoneLink>,
    /// Zones already walked: their keys, or None for an unsigned one.
    known: Vec<(Name, Option<Vec<DNSKEY>>)>,
    v: &'a mut Validation,
}

/// Validates `name`/`rtype` as answered by the chain's servers, from the
/// deepest of its anchors covering the name. Never fails: a problem is
/// the verdict.
pub async fn validate(shared: &Chain, name: &Name, rtype: RecordType) -> Validation {
    let anchors = &shared.anchors;
    let mut v = Validation {
        name: name.to_ascii(),
        rtype: rtype.to_string(),
        server: shared
            .servers
            .first()
            .map(SocketAddr::to_string)
            .unwrap_or_default(),
        anchor: String::new(),
        security: Security::Indeterminate,
        problem: None,
        insecure_at: None,
        chain: Vec::new(),
        records: Vec::new(),
        answer_signatures: Vec::new(),
    };
    let Some(anchor) = anchor::covering(anchors, name) else {
        v.problem = Some(Problem::new(
            ProblemKind::NoAnchor,
            format!(
                "no trust anchor covers {name} (give its zone's DS or DNSKEY with --trust-anchor)"
            ),
        ));
        return v;
    };
    v.anchor = format!("{} ({})", anchor.zone, anchor.origin);
    let mut work = Work {
        shared,
        now: verify::now(),
        chain: Vec::new(),
        known: Vec::new(),
        v: &mut v,
    };
    let outcome = work.run(anchor, name, rtype).await;
    let chain = std::mem::take(&mut work.chain);
    v.chain = chain;
    match outcome {
        Ok(Walk::Secure(_)) => v.security = Security::Secure,
        Ok(Walk::Insecure(zone) | Walk::OptOut(zone)) => {
            v.security = Security::Insecure;
            v.insecure_at = Some(zone.to_ascii());
        }
        Err(p) => {
            v.security = p.security();
            v.problem = Some(p);
        }
    }
    v
}

impl Work<'_> {
    /// A chain record set (DS or DNSKEY, from the run's cache).
    async fn ask(&self, name: &Name, rtype: RecordType) -> Result<Message, Problem> {
        self.shared.cached(name, rtype).await
    }

    async fn run(
        &mut self,
        anchor: &Anchor,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Walk, Problem> {
        let (answer, by) = self.shared.fetch(name, rtype).await?;
        self.v.server = by.to_string();
        self.v.records = answer
            .answers()
            .iter()
            .filter(|r| r.record_type() != RecordType::RRSIG)
            .map(|r| {
                let p = crate::resolve::rdata::record_of(r);
                format!("{} {} {} {} {}", p.name, p.ttl, p.class, p.rtype, p.data)
            })
            .collect();
        let negative = !answer.answers().iter().any(|r| r.name() == name);

        // The anchor's own zone: its DNSKEY set, vouched for by the anchor.
        let top = self
            .link(
                &anchor.zone,
                "trust anchor",
                &anchor.ds,
                &anchor.keys,
                Vec::new(),
            )
            .await?;
        self.known.push((top.name.clone(), Some(top.keys.clone())));

        if negative {
            let target = signer_of(&answer, name, true)
                .filter(|s| anchor.zone.zone_of(s) && s.zone_of(name))
                .unwrap_or_else(|| name.clone());
            let zone = match self.walk(&top, &target).await? {
                Walk::Secure(zone) => zone,
                insecure => return Ok(insecure),
            };
            self.check_negative(&answer, name, &zone)?;
            return match denial::proven(&answer, &zone.name, name, rtype)? {
                nsec3::Proof::Denied => Ok(Walk::Secure(zone)),
                nsec3::Proof::OptOut => Ok(Walk::OptOut(name.clone())),
            };
        }

        // Each record set of the answer (a CNAME chain may cross zones)
        // is checked with the keys of the zone that signed it.
        let mut sets: Vec<(Name, RecordType)> = Vec::new();
        for r in answer.answers() {
            let key = (r.name().clone(), r.record_type());
            if r.record_type() != RecordType::RRSIG && !sets.contains(&key) {
                sets.push(key);
            }
        }
        let mut outcome: Option<Walk> = None;
        for (owner, set_type) in sets {
            if !anchor.zone.zone_of(&owner) {
                return Err(Problem::new(
                    ProblemKind::NoAnchor,
                    format!(
                        "{owner} (on the answer's CNAME chain) is outside the anchor's zone {}",
                        anchor.zone
                    ),
                ));
            }
            let sigs = verify::sigs_over(answer.answers(), &owner, set_type);
            let target = sigs
                .iter()
                .map(|s| s.signer_name().clone())
                .find(|s| anchor.zone.zone_of(s) && s.zone_of(&owner))
                .unwrap_or_else(|| owner.clone());
            match self.walk(&top, &target).await? {
                Walk::Secure(zone) => {
                    let set = verify::rrset(answer.answers(), &owner, set_type);
                    let (facts, checked) =
                        verify::check_rrset(&set, &sigs, &zone.name, &zone.keys, self.now);
                    self.v.answer_signatures.extend(facts);
                    checked?;
                    if outcome.is_none() {
                        outcome = Some(Walk::Secure(zone));
                    }
                }
                insecure => {
                    if !matches!(outcome, Some(Walk::Insecure(_))) {
                        outcome = Some(insecure);
                    }
                }
            }
        }
        outcome.ok_or_else(|| {
            Problem::new(
                ProblemKind::MissingSignature,
                format!("the answer for {name} has no record set to check"),
            )
        })
    }

    /// From the anchor's zone down to `target` one label at a time: a
    /// signed DS makes a secure cut (its keys checked in turn), an NSEC
    /// listing NS but no DS an insecure one. Zones already checked for
    /// another record set of the answer are not fetched again.
    async fn walk(&mut self, top: &Zone, target: &Name) -> Result<Walk, Problem> {
        let mut zone = top.clone();
        let depth = usize::from(top.name.num_labels());
        for labels in depth + 1..=usize::from(target.num_labels()) {
            let child = target.trim_to(labels);
            if let Some((_, known)) = self.known.iter().find(|(n, _)| *n == child) {
                match known {
                    Some(keys) => {
                        zone = Zone {
                            name: child,
                            keys: keys.clone(),
                        };
                        continue;
                    }
                    None => return Ok(Walk::Insecure(child)),
                }
            }
            let reply = self.ask(&child, RecordType::DS).await?;
            let ds = verify::ds_of(reply.answers(), &child);
            if !ds.is_empty() {
                let set = verify::rrset(reply.answers(), &child, RecordType::DS);
                let sigs = verify::sigs_over(reply.answers(), &child, RecordType::DS);
                let (facts, checked) =
                    verify::check_rrset(&set, &sigs, &zone.name, &zone.keys, self.now);
                if let Err(p) = checked {
                    self.chain.push(failed_link(&child, &zone.name, facts));
                    return Err(p);
                }
                let parent = zone.name.to_ascii();
                zone = self.link(&child, &parent, &ds, &[], facts).await?;
                self.known.push((child, Some(zone.keys.clone())));
                continue;
            }
            if reply.response_code() == ResponseCode::NXDomain {
                break;
            }
            let section = reply.name_servers();
            let proof: Option<Vec<(Name, RecordType)>> = match unsigned_delegation(section, &child)
            {
                Some(owner) => Some(vec![(owner, RecordType::NSEC)]),
                None => nsec3::unsigned_delegation(section, &zone.name, &child).map(|_| {
                    nsec3::owners(section, &zone.name)
                        .into_iter()
                        .map(|o| (o, RecordType::NSEC3))
                        .collect()
                }),
            };
            if let Some(proof) = proof {
                let mut facts = Vec::new();
                let mut checked = Ok(());
                for (owner, rtype) in proof {
                    let set = verify::rrset(section, &owner, rtype);
                    let sigs = verify::sigs_over(section, &owner, rtype);
                    let (more, result) =
                        verify::check_rrset(&set, &sigs, &zone.name, &zone.keys, self.now);
                    facts.extend(more);
                    if checked.is_ok() {
                        checked = result;
                    }
                }
                let mut link = failed_link(&child, &zone.name, facts);
                link.security = match &checked {
                    Ok(()) => Security::Insecure,
                    Err(p) => p.security(),
                };
                self.chain.push(link);
                checked?;
                self.known.push((child.clone(), None));
                return Ok(Walk::Insecure(child));
            }
        }
        Ok(Walk::Secure(zone))
    }

    /// Fetches `zone`'s DNSKEY set, finds the keys the DS (or anchor)
    /// vouches for, and checks the set's RRSIG with them.
    async fn link(
        &mut self,
        zone: &Name,
        vouched_by: &str,
        ds: &[hickory_proto::dnssec::rdata::DS],
        anchor_keys: &[DNSKEY],
        mut signatures: Vec<SigFact>,
    ) -> Result<Zone, Problem> {
        let reply = self.ask(zone, RecordType::DNSKEY).await?;
        let published = verify::keys_of(reply.answers(), zone);
        let (ds_facts, trusted) = verify::trusted_keys(zone, &published, ds, anchor_keys);
        let mut link = ZoneLink {
            zone: zone.to_ascii(),
            vouched_by: vouched_by.to_string(),
            ds: ds_facts,
            keys: Vec::new(),
            signatures: Vec::new(),
            security: Security::Bogus,
        };
        let result = match trusted {
            Ok(trusted) => {
                link.keys = published
                    .iter()
                    .map(|k| verify::key_fact(k, trusted.contains(k)))
                    .collect();
                let set = verify::rrset(reply.answers(), zone, RecordType::DNSKEY);
                let sigs = verify::sigs_over(reply.answers(), zone, RecordType::DNSKEY);
                let (facts, checked) = verify::check_rrset(&set, &sigs, zone, &trusted, self.now);
                signatures.extend(facts);
                checked
            }
            Err(p) => {
                link.keys = published
                    .iter()
                    .map(|k| verify::key_fact(k, false))
                    .collect();
                if published.is_empty() {
                    Err(Problem::new(
                        ProblemKind::MissingKey,
                        format!("{zone} publishes no DNSKEY, but {vouched_by} says it is signed"),
                    ))
                } else {
                    Err(p)
                }
            }
        };
        link.signatures = signatures;
        match result {
            Ok(()) => {
                link.security = Security::Secure;
                self.chain.push(link);
                Ok(Zone {
                    name: zone.clone(),
                    keys: published,
                })
            }
            Err(p) => {
                link.security = p.security();
                self.chain.push(link);
                Err(p)
            }
        }
    }

    /// Checks the SOA and NSEC/NSEC3 sets of a negative answer's
    /// authority section with the keys of `zone`.
    fn check_negative(
        &mut self,
        answer: &Message,
        name: &Name,
        zone: &Zone,
    ) -> Result<(), Problem> {
        let section = answer.name_servers();
        let mut sets: Vec<(Name, RecordType)> = Vec::new();
        for r in section {
            let key = (r.name().clone(), r.record_type());
            let wanted = zone.name.zone_of(r.name())
                && matches!(
                    r.record_type(),
                    RecordType::SOA | RecordType::NSEC | RecordType::NSEC3
                );
            if wanted && !sets.contains(&key) {
                sets.push(key);
            }
        }
        if sets.is_empty() {
            return Err(Problem::new(
                ProblemKind::MissingSignature,
                format!(
                    "the negative answer for {name} has no SOA or NSEC of zone {} to check",
                    zone.name
                ),
            ));
        }
        for (owner, rtype) in sets {
            let set = verify::rrset(section, &owner, rtype);
            let sigs = verify::sigs_over(section, &owner, rtype);
            let (facts, checked) =
                verify::check_rrset(&set, &sigs, &zone.name, &zone.keys, self.now);
            self.v.answer_signatures.extend(facts);
            checked?;
        }
        Ok(())
    }
}

/// The zone that signed the answer: the signer of the RRSIG over the
/// first record set for `name`, or over the SOA of a negative answer.
fn signer_of(answer: &Message, name: &Name, negative: bool) -> Option<Name> {
    let section = if negative {
        answer.name_servers()
    } else {
        answer.answers()
    };
    section
        .iter()
        .filter(|r| negative || r.name() == name)
        .find_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::RRSIG(s))
                if !negative || s.type_covered() == RecordType::SOA =>
            {
                Some(s.signer_name().clone())
            }
            _ => None,
        })
}

/// The owner of an NSEC proving that `child` is a delegation without DS:
/// the NSEC at `child` lists NS but neither DS nor SOA.
fn unsigned_delegation(authority: &[Record], child: &Name) -> Option<Name> {
    authority.iter().find_map(|r| match r.data() {
        RData::DNSSEC(DNSSECRData::NSEC(nsec)) if r.name() == child => {
            let types: Vec<RecordType> = nsec.type_bit_maps().collect();
            (types.contains(&RecordType::NS)
                && !types.contains(&RecordType::DS)
                && !types.contains(&RecordType::SOA))
            .then(|| r.name().clone())
        }
        _ => None,
    })
}

/// The link of a zone known only from its parent (no keys fetched): a DS
/// set that failed its check, or the NSEC proving it unsigned.
fn failed_link(zone: &Name, parent: &Name, signatures: Vec<SigFact>) -> ZoneLink {
    ZoneLink {
        zone: zone.to_ascii(),
        vouched_by: parent.to_ascii(),
        ds: Vec::new(),
        keys: Vec::new(),
        signatures,
        security: Security::Bogus,
    }
}
