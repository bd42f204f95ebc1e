//! How an mtr table reaches the reader: mtr's report table, the Windows
//! pathping layout, and the live view redrawn in place on a terminal.

use super::table::{AddrRow, HopRow};
use std::net::IpAddr;

/// Width of the host column.
const HOST_WIDTH: usize = 34;

/// The column header of the table: mtr's default columns plus its jitter
/// columns `Jttr` (current: |last − previous|) and `Javg` (mean), with
/// mtr's meanings.
pub fn header(host: &str) -> String {
    format!(
        "HOST: {:<w$} Loss%   Snt   Last    Avg   Best   Wrst  StDev   Jttr   Javg",
        truncate(host, HOST_WIDTH - 2),
        w = HOST_WIDTH - 2
    )
}

/// The table lines, one per hop plus one per extra (ECMP) address.
pub fn rows(hops: &[HopRow]) -> Vec<String> {
    let mut out = Vec::new();
    for hop in hops {
        out.extend(hop_rows(hop));
    }
    out
}

/// Widest AS name shown in the host column (the full name is in JSON).
const AS_NAME_WIDTH: usize = 16;

fn hop_rows(hop: &HopRow) -> Vec<String> {
    let label = |a: &AddrRow| {
        let mut host = a.name.clone().unwrap_or_else(|| a.address.to_string());
        // --geoip: the country after the host, as trace prints it.
        if let Some(cc) = &a.country {
            host = format!("{host} [{cc}]");
        }
        // mtr -z: the origin AS before the host.
        // The AS name only in the room the host leaves (the address
        // matters more); the whole name is in JSON.
        let room =
            (HOST_WIDTH - 8).saturating_sub(format!("AS{}   {host}", a.asn.unwrap_or(0)).len());
        match (a.asn, &a.as_name) {
            (Some(asn), Some(name)) if room >= 4 => {
                format!(
                    "AS{asn} {}  {host}",
                    truncate(name, room.min(AS_NAME_WIDTH))
                )
            }
            (Some(asn), _) => format!("AS{asn}  {host}"),
            _ => host,
        }
    };
    let mut host = match hop.addresses.first() {
        Some(a) => label(a),
        None => "???".to_string(),
    };
    if let Some(mark) = &hop.mark {
        host = format!("{host} {mark}");
    }
    let figures = match hop.rtt {
        Some(s) => format!(
            "{:6.1} {:6.1} {:6.1} {:6.1} {:6.1} {:6.1} {:6.1}",
            s.last_ms, s.avg_ms, s.min_ms, s.max_ms, s.mdev_ms, s.jitter_last_ms, s.jitter_avg_ms
        ),
        None => String::new(),
    };
    let mut lines = vec![format!(
        "{:3}.|-- {:<w$} {:5.1}% {:5} {}",
        hop.ttl,
        truncate(&host, HOST_WIDTH - 8),
        hop.loss_pct,
        hop.sent,
        figures,
        w = HOST_WIDTH - 8
    )
    .trim_end()
    .to_string()];
    for a in hop.addresses.iter().skip(1) {
        lines.push(format!("    |  `-- {}", label(a)));
    }
    // mtr -e: the label stack under the hop.
    for l in &hop.mpls {
        lines.push(format!("    |  {l}"));
    }
    lines
}

/// The columns of `--format csv|markdown`: mtr's report columns, the
/// addresses of the hop (ECMP: several, space-separated) and its labels.
pub const TABLE_HEADER: [&str; 14] = [
    "hop",
    "host",
    "addresses",
    "asn",
    "loss_pct",
    "sent",
    "last_ms",
    "avg_ms",
    "best_ms",
    "worst_ms",
    "stdev_ms",
    "jitter_last_ms",
    "jitter_avg_ms",
    "mpls",
];

/// One hop as a `--format` row (empty RTT cells for a hop that never answered).
pub fn table_row(hop: &HopRow, lookups: crate::hops::Lookups) -> Vec<String> {
    let main = hop.main();
    let host = main
        .map(|a| a.name.clone().unwrap_or_else(|| a.address.to_string()))
        .unwrap_or_else(|| "???".to_string());
    let addrs: Vec<String> = hop
        .addresses
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    let asn = main
        .and_then(|a| a.asn)
        .map(|a| format!("AS{a}"))
        .unwrap_or_default();
    let ms = |f: fn(&crate::mtr::table::HopRtt) -> f64| {
        hop.rtt
            .as_ref()
            .map(|r| format!("{:.3}", f(r)))
            .unwrap_or_default()
    };
    let mpls: Vec<String> = hop.mpls.iter().map(|l| l.to_string()).collect();
    let row = vec![
        hop.ttl.to_string(),
        host,
        addrs.join(" "),
        asn,
        format!("{:.1}", hop.loss_pct),
        hop.sent.to_string(),
        ms(|r| r.last_ms),
        ms(|r| r.avg_ms),
        ms(|r| r.min_ms),
        ms(|r| r.max_ms),
        ms(|r| r.mdev_ms),
        ms(|r| r.jitter_last_ms),
        ms(|r| r.jitter_avg_ms),
        mpls.join(" "),
    ];
    lookups.cells(
        row,
        3,
        main.and_then(|a| a.as_name.as_deref()),
        main.and_then(|a| a.country.as_deref()),
    )
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars().take(width).collect()
    }
}

/// The pathping layout: the route, then per hop RTT, "Source to Here" loss
/// and "This Node/Link" loss, with a `|` line for each link.
pub fn pathping(
    hops: &[HopRow],
    target: IpAddr,
    source: Option<IpAddr>,
    max: u8,
    seconds: f64,
) -> Vec<String> {
    // `name [addr]`, pathping's brackets where trace prints parentheses.
    let who = |hop: &HopRow| match hop.main() {
        Some(AddrRow {
            address,
            name: Some(name),
            ..
        }) => {
            format!("{name} ({address})").replace(&format!("({address})"), &format!("[{address}]"))
        }
        Some(AddrRow { address, .. }) => address.to_string(),
        None => "*".into(),
    };
    let source_text = source.map(|s| s.to_string()).unwrap_or_default();
    let mut out = vec![
        format!("Tracing route to {target} over a maximum of {max} hops"),
        String::new(),
        format!("  0  {source_text}"),
    ];
    for hop in hops {
        out.push(format!("{:3}  {}", hop.ttl, who(hop)));
    }
    out.push(String::new());
    out.push(format!("Computing statistics for {seconds:.0} seconds..."));
    out.push(format!("{:13}{:<18}This Node/Link", "", "Source to Here"));
    out.push(format!(
        "{:<5}{:<8}{:<18}{:<18}Address",
        "Hop", "RTT", "Lost/Sent = Pct", "Lost/Sent = Pct"
    ));
    out.push(format!("  0{:46}{source_text}", ""));
    for hop in hops {
        out.push(format!("{:31}{}   |", "", ratio(hop.link_lost, hop.sent)));
        let rtt = match hop.rtt {
            Some(s) => format!("{:4.0}ms", s.avg_ms),
            None => "   ---".to_string(),
        };
        out.push(format!(
            "{:3}  {rtt}  {}  {}  {}",
            hop.ttl,
            ratio(hop.lost(), hop.sent),
            ratio(hop.node_lost, hop.sent),
            who(hop)
        ));
    }
    out.push(String::new());
    out.push("Trace complete.".into());
    out
}

/// `Lost/Sent = Pct` with pathping's widths.
fn ratio(lost: u64, sent: u64) -> String {
    let pct = if sent == 0 {
        0
    } else {
        ((lost as f64) * 100.0 / sent as f64).round() as u64
    };
    format!("{lost:4}/{sent:4} = {pct:3}%")
}

/// Redraws a block of lines in place: cursor up over the previous block,
/// each line rewritten and cleared to its end, leftovers cleared; one write
/// per frame so the terminal never shows a half-drawn table.
#[derive(Debug, Default)]
pub struct LiveView {
    drawn: usize,
    last: Vec<String>,
}

impl LiveView {
    /// Draws `lines` over the previous frame.
    pub fn draw(&mut self, lines: &[String], sink: &crate::output::Sink) {
        if self.drawn > 0 && self.last == lines {
            return;
        }
        self.last = lines.to_vec();
        let mut frame = String::new();
        if self.drawn > 0 {
            frame.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in lines {
            frame.push('\r');
            frame.push_str(line);
            frame.push_str("\x1b[K\n");
        }
        if lines.len() < self.drawn {
            frame.push_str("\x1b[J");
        }
        self.drawn = lines.len();
        sink.write_raw(&frame);
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::Table;
    use super::*;
    use crate::hops::{HopAnswer, Names};
    use std::time::Duration;

    #[test]
    fn jttr_is_the_current_jitter_and_javg_the_mean() {
        let mut table = Table::new(1, 1);
        let from = IpAddr::from([198, 18, 0, 2]);
        for ms in [1u64, 3, 2] {
            let answer = HopAnswer::Destination { from };
            table.record(1, &answer, Some(Duration::from_millis(ms)));
        }
        assert!(header("h").ends_with("StDev   Jttr   Javg"));
        let rows = rows(&table.rows(&Names::new(false)));
        let cols: Vec<&str> = rows[0].split_whitespace().collect();
        // … Last Avg Best Wrst StDev Jttr Javg: |2 − 3| = 1.0, mean 1.5.
        assert_eq!(cols[cols.len() - 7..cols.len() - 5], ["2.0", "2.0"]);
        assert_eq!(cols[cols.len() - 2..], ["1.0", "1.5"], "{}", rows[0]);
    }
}
