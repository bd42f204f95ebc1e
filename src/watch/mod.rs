//! `netdx watch`: capture with tcpdump filters, pcap in and out, and a
//! per-connection view that says what is going wrong with the connections
//! seen. The filter compiler and the flow tracker are pure (no sockets);
//! the capture socket lives in `probe`.

pub mod filter;
pub mod flow;
