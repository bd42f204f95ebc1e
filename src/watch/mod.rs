//! `netdx watch`: capture with tcpdump filters, pcap in and out, and a
//! per-connection view that says what is going wrong with the connections
//! seen. The filter compiler and the flow tracker are pure (no sockets);
//! the capture socket lives in `probe`.

pub mod command;
pub mod decode;
pub mod filter;
pub mod flow;
pub mod pcap;
pub mod pcapng;

pub use command::{run, watch, WatchReport};
