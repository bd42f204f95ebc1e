//! `netdx explain` against the `libc` crate's errno constants (never a
//! copied list of numbers), the eleven TCP states, the ICMP types the probe
//! core receives, and TCP flags. No namespaces or root needed.

mod common;
use common::Run;
use serde_json::Value;

/// Every Linux errno name `libc` defines, paired with libc's value.
macro_rules! errnos {
    ($($name:ident),* $(,)?) => { &[$((stringify!($name), libc::$name)),*] };
}

const ERRNOS: &[(&str, i32)] = errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
    EWOULDBLOCK,
    EDEADLOCK,
    ENOTSUP,
);

fn netdx(args: &[&str]) -> Run {
    common::netdx_here(args)
}

fn explain_json(words: &[&str]) -> Vec<Value> {
    let mut args = vec!["--json", "explain"];
    args.extend_from_slice(words);
    let run = netdx(&args);
    assert_eq!(run.code, 0, "{words:?}: {}", run.stderr);
    run.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn libc_names_cover_every_number_from_1_to_133_but_the_gaps() {
    for n in 1..=133 {
        let named = ERRNOS.iter().any(|(_, v)| *v == n);
        assert_eq!(named, n != 41 && n != 58, "errno {n}");
    }
}

#[test]
fn every_errno_by_name_has_libcs_number() {
    let names: Vec<&str> = ERRNOS.iter().map(|(n, _)| *n).collect();
    let results = explain_json(&names);
    assert_eq!(results.len(), ERRNOS.len());
    for ((name, number), r) in ERRNOS.iter().zip(&results) {
        assert_eq!(r["kind"], "errno", "{name}: {r}");
        assert_eq!(r["number"], *number, "{name}: {r}");
        let canonical = r["name"] == *name;
        let alias = r["aliases"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == name));
        assert!(canonical || alias, "{name}: {r}");
        assert!(!r["message"].as_str().unwrap_or("").is_empty(), "{name}");
    }
    // Lower case works too.
    assert_eq!(explain_json(&["econnreset"])[0]["number"], libc::ECONNRESET);
}

#[test]
fn every_errno_by_number_from_1_to_133() {
    let numbers: Vec<String> = (1..=133).map(|n: i32| n.to_string()).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let results = explain_json(&refs);
    assert_eq!(results.len(), 133);
    for (n, r) in (1..=133).zip(&results) {
        assert_eq!(r["number"], n, "{r}");
        if n == 41 || n == 58 {
            assert!(r["name"].is_null(), "{r}");
            continue;
        }
        let name = r["name"].as_str().unwrap_or("");
        let libc_value = ERRNOS.iter().find(|(e, _)| *e == name).map(|(_, v)| *v);
        assert_eq!(
            libc_value,
            Some(n),
            "errno {n} is called {name} but libc disagrees"
        );
    }
}

#[test]
fn socket_errnos_say_when_and_what_to_check() {
    for (name, code) in [
        ("ECONNREFUSED", "tcp.refused"),
        ("ETIMEDOUT", "tcp.timeout"),
        ("EHOSTUNREACH", "tcp.host_unreachable"),
        ("ENETUNREACH", "tcp.net_unreachable"),
        ("ECONNRESET", "tcp.reset"),
        ("EADDRNOTAVAIL", "tcp.no_local_port"),
        ("EMFILE", "tcp.too_many_files"),
        ("ENFILE", "tcp.too_many_files"),
        ("EACCES", "tcp.local_firewall"),
        ("EPERM", "tcp.local_firewall"),
    ] {
        let r = &explain_json(&[name])[0];
        assert_eq!(r["diagnosis"], code, "{r}");
        assert!(!r["client"].as_str().unwrap_or("").is_empty(), "{r}");
        assert!(!r["check"].as_str().unwrap_or("").is_empty(), "{r}");
    }
    let human = netdx(&["explain", "104"]);
    assert!(
        human.stdout.starts_with("ECONNRESET — errno 104"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("tcp.reset"), "{}", human.stdout);
    let alias = netdx(&["explain", "EWOULDBLOCK"]);
    assert!(
        alias.stdout.starts_with("EAGAIN (also EWOULDBLOCK)"),
        "{}",
        alias.stdout
    );
}

#[test]
fn all_eleven_tcp_states() {
    // Numbers from include/net/tcp_states.h (libc does not export them).
    let states = [
        ("ESTABLISHED", 1),
        ("SYN_SENT", 2),
        ("SYN_RECV", 3),
        ("FIN_WAIT1", 4),
        ("FIN_WAIT2", 5),
        ("TIME_WAIT", 6),
        ("CLOSE", 7),
        ("CLOSE_WAIT", 8),
        ("LAST_ACK", 9),
        ("LISTEN", 10),
        ("CLOSING", 11),
    ];
    let names: Vec<&str> = states.iter().map(|(n, _)| *n).collect();
    for ((name, number), r) in states.iter().zip(explain_json(&names)) {
        assert_eq!(r["kind"], "tcp_state", "{r}");
        assert_eq!(r["name"], *name);
        assert_eq!(r["number"], *number);
        assert!(!r["pile"].as_str().unwrap_or("").is_empty(), "{r}");
    }
    let rfc = explain_json(&["close-wait", "SYN-RECEIVED", "FIN-WAIT-2", "CLOSED"]);
    let got: Vec<&str> = rfc.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(got, ["CLOSE_WAIT", "SYN_RECV", "FIN_WAIT2", "CLOSE"]);
    let tw = netdx(&["explain", "TIME_WAIT"]);
    assert!(tw.stdout.contains("tcp_tw_recycle"), "{}", tw.stdout);
    assert!(tw.stdout.contains("4.12"), "{}", tw.stdout);
    assert!(tw.stdout.contains("NAT"), "{}", tw.stdout);
    let cw = netdx(&["explain", "CLOSE_WAIT"]);
    assert!(cw.stdout.contains("does not close"), "{}", cw.stdout);
}

#[test]
fn icmp_types_the_probe_core_receives() {
    let v4 = [
        "0/0", "3/0", "3/1", "3/2", "3/3", "3/4", "3/5", "3/6", "3/7", "3/9", "3/10", "3/11",
        "3/12", "3/13", "3/14", "3/15", "11/0", "11/1", "12/0",
    ];
    let v6 = [
        "1/0", "1/1", "1/2", "1/3", "1/4", "1/5", "1/6", "2/0", "3/0", "3/1", "4/0", "4/1", "129/0",
    ];
    for (family, list) in [("icmp", &v4[..]), ("icmp6", &v6[..])] {
        for tc in list {
            let r = &explain_json(&[family, tc])[0];
            let (t, c) = tc.split_once('/').unwrap_or(("", ""));
            assert_eq!(r["entries"][0]["type"].to_string(), t, "{family} {tc}: {r}");
            assert_eq!(r["entries"][0]["code"].to_string(), c, "{family} {tc}: {r}");
            assert!(!r["entries"][0]["meaning"].as_str().unwrap_or("").is_empty());
        }
    }
    let human = netdx(&["explain", "icmp 3/13"]);
    assert!(
        human
            .stdout
            .contains("Communication Administratively Prohibited"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("!X"), "{}", human.stdout);
    let all_codes = explain_json(&["icmp", "3"]);
    assert!(all_codes[0]["entries"]
        .as_array()
        .is_some_and(|e| e.len() >= 15));
}

#[test]
fn tcp_flags_and_combinations() {
    let flags = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
    let mut bits = 0u64;
    for r in explain_json(&flags) {
        assert_eq!(r["kind"], "tcp_flags", "{r}");
        bits |= r["bits"].as_u64().unwrap_or(0);
    }
    assert_eq!(bits, 0xff);
    let rst = netdx(&["explain", "RST"]);
    assert!(rst.stdout.contains("ECONNREFUSED"), "{}", rst.stdout);
    let synack = &explain_json(&["SYN+ACK"])[0];
    assert_eq!(synack["bits"], 0x12);
    assert!(
        synack["together"].as_str().unwrap_or("").contains("open"),
        "{synack}"
    );
}

#[test]
fn unknown_input_names_the_closest_matches_and_exits_2() {
    for (word, near) in [
        ("ECONNRESTE", "ECONNRESET"),
        ("CLOSE_WIAT", "CLOSE_WAIT"),
        ("ETIMEOUT", "ETIMEDOUT"),
        ("SYNN", "SYN"),
    ] {
        let run = netdx(&["explain", word]);
        assert_eq!(run.code, 2, "{word}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("don't know '{word}'")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(near), "{word}: {}", run.stderr);
    }
    for bad in [
        &["explain", "xyzzy-plugh"][..],
        &["explain", "200"],
        &["explain", "icmp", "3/99"],
        &["explain", "icmp"],
    ] {
        let run = netdx(bad);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{bad:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("netdx: "), "{}", run.stderr);
    }
}

#[test]
fn icmp_rejects_say_what_to_check_on_the_sender() {
    let run = netdx(&["--json", "explain", "icmp", "3/13"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let check = doc["results"][0]["entries"][0]["check"]
        .as_str()
        .unwrap_or("");
    assert!(check.contains("reject rule"), "{check}");
    let text = netdx(&["explain", "icmp6", "1/1"]);
    assert!(
        text.stdout.contains("check, on the machine that sent it:"),
        "{}",
        text.stdout
    );
}
