//! Human rendering of the per-connection view: one line per event as it
//! happens, and the closing table of connections. The command prints what
//! these return; the words live next to the tracker that finds them.

use super::{FlowEvent, FlowSummary};
use std::fmt::Write;

/// `HH:MM:SS.uuuuuu` (UTC) of a capture time, as `tcpdump -n` prints it.
pub fn time_of_day(ts_us: u64) -> String {
    let secs = ts_us / 1_000_000;
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        ts_us % 1_000_000
    )
}

/// One event as a line: time, client → server, kind, what happened.
pub fn event_line(e: &FlowEvent) -> String {
    format!(
        "{} {} > {} {}: {}",
        time_of_day(e.ts_us),
        e.client,
        e.server,
        e.kind,
        e.text
    )
}

fn ms_cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// The closing table: one row per connection (client → server, the two
/// handshake legs, bytes and retransmissions each way, how it ended), then
/// what was left out.
pub fn table(summary: &FlowSummary) -> String {
    let mut rows: Vec<[String; 8]> = vec![[
        "client".into(),
        "server".into(),
        "syn>synack ms".into(),
        "synack>ack ms".into(),
        "bytes >".into(),
        "bytes <".into(),
        "retrans >/<".into(),
        "ended".into(),
    ]];
    for f in &summary.flows {
        rows.push([
            format!("{}{}", f.client, if f.sides_inferred { "?" } else { "" }),
            f.server.to_string(),
            ms_cell(f.syn_to_synack_ms),
            ms_cell(f.synack_to_ack_ms),
            f.bytes_to_server.to_string(),
            f.bytes_to_client.to_string(),
            format!(
                "{}/{}",
                f.retransmitted_to_server, f.retransmitted_to_client
            ),
            f.ended.clone(),
        ]);
    }
    let mut widths = [0usize; 8];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            let numeric = (2..=6).contains(&i);
            if i > 0 {
                line.push_str("  ");
            }
            if i == 7 {
                line.push_str(cell);
            } else if numeric {
                let _ = write!(line, "{cell:>w$}");
            } else {
                let _ = write!(line, "{cell:<w$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if summary.flows.iter().any(|f| f.sides_inferred) {
        out.push_str("? capture started mid-flow: client and server guessed from the ports\n");
    }
    if summary.flows_omitted > 0 {
        let _ = writeln!(
            out,
            "{} more connection(s) not listed",
            summary.flows_omitted
        );
    }
    if summary.untracked_flows > 0 || summary.untracked_segments > 0 {
        let _ = writeln!(
            out,
            "{} new flow(s) and {} segment(s) not followed: the flow table was full",
            summary.untracked_flows, summary.untracked_segments
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_is_utc_with_microseconds() {
        assert_eq!(time_of_day(1_700_000_000_123_456), "22:13:20.123456");
    }
}
