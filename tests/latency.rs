//! `netdx mtr`'s latency reading against real delay in the test bed. The
//! machine has no netem, so tests/fixtures/delay_forwarder.py is the delay
//! line: a router routes some packets into a TUN device, the forwarder
//! holds each one for a fixed time and sends it on through a raw socket.
//!
//! - A delayed link (the forward direction of router 2's link to router 3):
//!   every probe that has to cross it, TTL ≥ 3, comes back late, so the
//!   round trips step up at hop 3 and stay up → `path.latency_step`.
//! - Router 3's own Time Exceeded messages delayed (and nothing it
//!   forwards): only hop 3 answers late → `path.latency_spike`, not a step.
//! - Both on router 2 (its own answers 80 ms late, its link to router 3
//!   30 ms): the step is named at hop 3, the first hop that shows it
//!   plainly, as lying somewhere after hop 1, and hop 2 is a spike.

mod common;
use common::{can_build_namespaces, must, skip, Lab};
use serde_json::Value;
use std::time::{Duration, Instant};

const FORWARDER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/delay_forwarder.py"
);

/// Delay added by the forwarder, in ms.
const DELAY_MS: f64 = 30.0;
/// A hop is "fast" below this average (a loaded 2-core CI included).
const FAST_MS: f64 = 10.0;
/// A delayed hop's average stays below this even on a loaded machine.
const SLOW_MAX_MS: f64 = 200.0;

/// The mark the forwarder's re-sent packets carry (policy routing keeps
/// them out of the delay line).
const RESENT_MARK: &str = "2";

/// Creates the TUN device `dev` in `ns`, starts the forwarder on it with
/// a delay of `ms` and waits until it has attached (the device has carrier).
fn delay_line(lab: &mut Lab, ns: &str, dev: &str, ms: f64) {
    must(&["ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun"]);
    must(&["ip", "-n", ns, "link", "set", dev, "up"]);
    let delay = format!("{ms}");
    lab.spawn(ns, &["python3", FORWARDER, dev, &delay, RESENT_MARK]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let link = must(&["ip", "-n", ns, "-o", "link", "show", dev]);
        if link.stdout.contains("LOWER_UP") && !link.stdout.contains("NO-CARRIER") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delay forwarder did not attach to {dev}: {}",
            link.stdout
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A 4-router chain whose link 2 (router 2 → router 3) delays everything
/// going towards the server by `DELAY_MS`; the way back is not delayed.
fn delayed_link_lab() -> Lab {
    let mut lab = Lab::chain(4);
    let r2 = lab.router(2).to_string();
    delay_link_into(&mut lab, &r2, "dly0");
    lab
}

/// Sends what router `ns` forwards from its west side towards links 2..n
/// through a delay line on `dev` of `DELAY_MS`. The forwarder's re-sent
/// packets are local output, so they take the main table out of `east`.
fn delay_link_into(lab: &mut Lab, ns: &str, dev: &str) {
    delay_line(lab, ns, dev, DELAY_MS);
    for link in 2..=lab.routers {
        let net = format!("198.18.{link}.0/24");
        must(&[
            "ip", "-n", ns, "route", "add", &net, "dev", dev, "table", "100",
        ]);
    }
    must(&[
        "ip", "-n", ns, "rule", "add", "iif", "west", "lookup", "100", "priority", "100",
    ]);
}

/// Sends the Time Exceeded messages router `ns` generates itself through a
/// delay line on `dev` of `ms`; what it forwards is not delayed.
fn delay_own_icmp(lab: &mut Lab, ns: &str, dev: &str, ms: f64) {
    delay_line(lab, ns, dev, ms);
    lab.nft(
        ns,
        "table ip delay {\n  chain out {\n    type route hook output priority 0;\n    meta mark 0 icmp type time-exceeded meta mark set 1\n  }\n}\n",
    );
    must(&[
        "ip", "-n", ns, "route", "add", "default", "dev", dev, "table", "101",
    ]);
    must(&[
        "ip", "-n", ns, "rule", "add", "fwmark", "1", "lookup", "101", "priority", "90",
    ]);
}

/// A 4-router chain where router 3 answers 30 ms late (slow ICMP).
fn slow_icmp_lab() -> Lab {
    let mut lab = Lab::chain(4);
    let r3 = lab.router(3).to_string();
    delay_own_icmp(&mut lab, &r3, "dly0", DELAY_MS);
    lab
}

/// Per hop: (ttl, first address, loss %, avg ms) from netdx's JSON.
fn hop_rtts(doc: &Value) -> Vec<(u64, String, f64, f64)> {
    doc["hops"]
        .as_array()
        .map(|hops| {
            hops.iter()
                .map(|h| {
                    (
                        h["ttl"].as_u64().unwrap_or(0),
                        h["addresses"][0]["address"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        h["loss_pct"].as_f64().unwrap_or(-1.0),
                        h["rtt"]["avg_ms"].as_f64().unwrap_or(-1.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn codes(doc: &Value) -> Vec<(String, Option<u64>)> {
    doc["diagnosis"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or("").to_string(),
                        d["evidence"]["hop"].as_u64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `netdx --json mtr -c 15 -i 0.1 -n SERVER` in the client.
fn netdx_mtr(lab: &Lab) -> Value {
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &[
            "--json", "mtr", "-r", "-c", "15", "-i", "0.1", "-n", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run.json()
}

/// Per hop of `mtr -r -n -c 15 -i 0.1 SERVER` (mtr-tiny): (hop, host, avg
/// ms); None when mtr cannot run here.
fn reference_mtr(lab: &Lab) -> Option<Vec<(u64, String, f64)>> {
    let run = lab.exec(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "15", "-i", "0.1", &lab.server_v4()],
    );
    if run.code != 0 {
        skip(&format!(
            "mtr -r did not run ({}), side-by-side check skipped: {}",
            run.code, run.stderr
        ));
        return None;
    }
    // `  3.|-- 198.18.2.2   0.0%    15   30.3  30.5  30.3  31.3   0.3`
    let hops: Vec<(u64, String, f64)> = run
        .stdout
        .lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let hop = t.first()?.strip_suffix(".|--")?.parse().ok()?;
            Some((hop, t.get(1)?.to_string(), t.get(5)?.parse().ok()?))
        })
        .collect();
    assert!(!hops.is_empty(), "no hop lines in mtr -r:\n{}", run.stdout);
    Some(hops)
}

/// The router addresses then the server: the hop list a trace must show
/// (the delay line must not change TTL semantics).
fn expected_path(lab: &Lab) -> Vec<String> {
    let mut path: Vec<String> = (1..=lab.routers).map(|k| lab.router_v4(k)).collect();
    path.push(lab.server_v4());
    path
}

#[test]
fn a_delayed_link_is_a_latency_step_at_the_hop_after_it() {
    if !can_build_namespaces("latency_step") {
        return;
    }
    let lab = delayed_link_lab();
    let doc = netdx_mtr(&lab);
    let hops = hop_rtts(&doc);
    let addrs: Vec<String> = hops.iter().map(|h| h.1.clone()).collect();
    assert_eq!(addrs, expected_path(&lab), "{hops:?}");
    for (ttl, _, _, avg) in &hops {
        if *ttl < 3 {
            assert!(*avg >= 0.0 && *avg < FAST_MS, "hop {ttl}: {hops:?}");
        } else {
            assert!(
                *avg >= DELAY_MS - 5.0 && *avg < SLOW_MAX_MS,
                "hop {ttl}: {hops:?}"
            );
        }
    }
    let found = codes(&doc);
    let latency: Vec<&(String, Option<u64>)> = found
        .iter()
        .filter(|(c, _)| c.starts_with("path.latency_"))
        .collect();
    assert_eq!(
        latency,
        [&("path.latency_step".to_string(), Some(3))],
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(c, _)| c == "path.loss_from_hop"),
        "{found:?}"
    );
    let step = doc["diagnosis"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "path.latency_step"))
        .and_then(|d| d["evidence"]["step_ms"].as_f64())
        .unwrap_or(0.0);
    assert!(step >= DELAY_MS - 10.0, "step {step} ms: {found:?}");
}

#[test]
fn mtr_sees_the_same_step_at_the_same_hop() {
    if !can_build_namespaces("latency_step_mtr") {
        return;
    }
    let lab = delayed_link_lab();
    let Some(reference) = reference_mtr(&lab) else {
        return;
    };
    let doc = netdx_mtr(&lab);
    let ours = hop_rtts(&doc);
    let theirs: Vec<(u64, String)> = reference.iter().map(|h| (h.0, h.1.clone())).collect();
    let same: Vec<(u64, String)> = ours.iter().map(|h| (h.0, h.1.clone())).collect();
    assert_eq!(theirs, same, "mtr: {reference:?}\nnetdx: {ours:?}");
    // The first hop where each tool's round trips jump by most of the
    // delay, and stay there.
    let first_slow = |avgs: &[f64]| avgs.iter().position(|a| *a >= DELAY_MS - 5.0);
    let mtr_avgs: Vec<f64> = reference.iter().map(|h| h.2).collect();
    let our_avgs: Vec<f64> = ours.iter().map(|h| h.3).collect();
    assert_eq!(first_slow(&mtr_avgs), Some(2), "mtr: {reference:?}");
    assert_eq!(first_slow(&our_avgs), Some(2), "netdx: {ours:?}");
    for avgs in [&mtr_avgs, &our_avgs] {
        assert!(avgs[..2].iter().all(|a| *a < FAST_MS), "{avgs:?}");
        assert!(
            avgs[2..]
                .iter()
                .all(|a| *a >= DELAY_MS - 5.0 && *a < SLOW_MAX_MS),
            "{avgs:?}"
        );
    }
    assert!(
        codes(&doc).contains(&("path.latency_step".to_string(), Some(3))),
        "{:?}",
        codes(&doc)
    );
}

#[test]
fn slow_icmp_generation_at_one_router_is_a_spike_not_a_step() {
    if !can_build_namespaces("latency_spike") {
        return;
    }
    let lab = slow_icmp_lab();
    let doc = netdx_mtr(&lab);
    let hops = hop_rtts(&doc);
    let addrs: Vec<String> = hops.iter().map(|h| h.1.clone()).collect();
    assert_eq!(addrs, expected_path(&lab), "{hops:?}");
    for (ttl, _, _, avg) in &hops {
        if *ttl == 3 {
            assert!(
                *avg >= DELAY_MS - 5.0 && *avg < SLOW_MAX_MS,
                "hop {ttl}: {hops:?}"
            );
        } else {
            assert!(*avg >= 0.0 && *avg < FAST_MS, "hop {ttl}: {hops:?}");
        }
    }
    let found = codes(&doc);
    let latency: Vec<&(String, Option<u64>)> = found
        .iter()
        .filter(|(c, _)| c.starts_with("path.latency_"))
        .collect();
    assert_eq!(
        latency,
        [&("path.latency_spike".to_string(), Some(3))],
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(c, _)| c == "path.loss_from_hop"),
        "{found:?}"
    );
    // mtr sees the spike at the same hop, and only there.
    if let Some(reference) = reference_mtr(&lab) {
        assert_eq!(reference.len(), 5, "{reference:?}");
        for (hop, _, avg) in &reference {
            if *hop == 3 {
                assert!(*avg >= DELAY_MS - 5.0, "mtr: {reference:?}");
            } else {
                assert!(*avg < FAST_MS, "mtr: {reference:?}");
            }
        }
    }
}

#[test]
fn a_step_behind_a_slow_answering_router_names_the_stretch() {
    if !can_build_namespaces("latency_step_behind_spike") {
        return;
    }
    // Router 2 answers 80 ms late itself and its link to router 3 adds
    // 30 ms: hop 2 reads 80, hops 3.. read 30. Hop 2's own figure cannot
    // say whether the 30 ms are on the link into hop 2 or into hop 3.
    let mut lab = Lab::chain(4);
    let r2 = lab.router(2).to_string();
    delay_link_into(&mut lab, &r2, "dly0");
    delay_own_icmp(&mut lab, &r2, "dly1", 80.0);
    let doc = netdx_mtr(&lab);
    let hops = hop_rtts(&doc);
    let avgs: Vec<f64> = hops.iter().map(|h| h.3).collect();
    assert_eq!(avgs.len(), 5, "{hops:?}");
    assert!(avgs[0] < FAST_MS, "{hops:?}");
    assert!(avgs[1] >= 75.0 && avgs[1] < SLOW_MAX_MS, "{hops:?}");
    assert!(
        avgs[2..]
            .iter()
            .all(|a| *a >= DELAY_MS - 5.0 && *a < avgs[1]),
        "{hops:?}"
    );
    let found = codes(&doc);
    let latency: Vec<&(String, Option<u64>)> = found
        .iter()
        .filter(|(c, _)| c.starts_with("path.latency_"))
        .collect();
    assert_eq!(
        latency,
        [
            &("path.latency_step".to_string(), Some(3)),
            &("path.latency_spike".to_string(), Some(2))
        ],
        "{found:?}"
    );
    let step = doc["diagnosis"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "path.latency_step"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(step["evidence"]["after_hop"].as_u64(), Some(1), "{step}");
}
