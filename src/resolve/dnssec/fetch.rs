//! Questions for DNSSEC validation: EDNS0 with DO=1 (so RRSIGs, DNSKEYs
//! and NSEC proofs come back) and CD=1 (so a validating resolver hands
//! over bogus data too, for netdx to judge), UDP first, TCP on truncation.

use crate::probe::dnsio::{TcpPeer, UdpPeer};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// EDNS buffer size advertised (the DNS flag day 2020 value).
const BUFSIZE: u16 = 1232;

/// Asks `server` for `name`/`rtype` with DO and CD set, over TCP only
/// when `tcp_only`; the error is a sentence for the report.
pub async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    deadline: Duration,
    tcp_only: bool,
) -> Result<Message, String> {
    let until = Instant::now() + deadline;
    if !tcp_only {
        let udp = over_udp(server, name, rtype, until).await?;
        if !udp.truncated() {
            return Ok(udp);
        }
    }
    let left = until.saturating_duration_since(Instant::now());
    tokio::time::timeout(left, over_tcp(server, name, rtype))
        .await
        .map_err(|_| format!("{name} {rtype}: no answer over TCP from {server} in time"))?
}

fn build(name: &Name, rtype: RecordType) -> (u16, Vec<u8>) {
    let mut id = [0u8; 2];
    // SAFETY: getrandom writes at most id.len() bytes into id.
    let n = unsafe { libc::getrandom(id.as_mut_ptr().cast(), id.len(), 0) };
    let id = if n == 2 {
        u16::from_ne_bytes(id)
    } else {
        std::process::id() as u16
    };
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .set_checking_disabled(true)
        .add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(BUFSIZE).set_dnssec_ok(true);
    msg.set_edns(edns);
    (id, msg.to_vec().unwrap_or_default())
}

/// Whether `msg` answers our question (id, QR, question echoed).
fn ours(msg: &Message, id: u16, name: &Name, rtype: RecordType) -> bool {
    msg.id() == id
        && msg.message_type() == MessageType::Response
        && msg
            .query()
            .is_none_or(|q| q.name() == name && q.query_type() == rtype)
}

async fn over_udp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    until: Instant,
) -> Result<Message, String> {
    let fail = |e: String| format!("{name} {rtype} to {server}: {e}");
    let socket = UdpPeer::connect(server)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let (id, bytes) = build(name, rtype);
    let mut buf = vec![0u8; 65535];
    let mut bad: Option<String> = None;
    for attempt in 0..2u32 {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let try_until = (now + until.saturating_duration_since(now) / (2 - attempt)).min(until);
        socket
            .send(&bytes)
            .await
            .map_err(|e| fail(format!("{e:?}")))?;
        while let Some(n) = socket
            .recv_until(try_until, &mut buf)
            .await
            .map_err(|e| fail(format!("{e:?}")))?
        {
            match Message::from_vec(&buf[..n]) {
                Ok(msg) if ours(&msg, id, name, rtype) => return Ok(msg),
                Ok(_) => bad = Some("a reply that does not match the question".into()),
                Err(e) => bad = Some(format!("a reply that does not parse: {e}")),
            }
        }
    }
    Err(fail(bad.unwrap_or_else(|| "no answer (timeout)".into())))
}

async fn over_tcp(server: SocketAddr, name: &Name, rtype: RecordType) -> Result<Message, String> {
    let fail = |e: String| format!("{name} {rtype} over TCP to {server}: {e}");
    let mut stream = TcpPeer::connect(server)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let (id, bytes) = build(name, rtype);
    let len = u16::try_from(bytes.len()).map_err(|_| fail("query too long".into()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream
        .send(&framed)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut head = [0u8; 2];
    stream
        .recv_exact(&mut head)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
    stream
        .recv_exact(&mut body)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let msg = Message::from_vec(&body).map_err(|e| fail(format!("reply does not parse: {e}")))?;
    if ours(&msg, id, name, rtype) {
        Ok(msg)
    } else {
        Err(fail("reply does not match the question".into()))
    }
}
