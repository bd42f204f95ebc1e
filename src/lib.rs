//! netdx as a library: the probe core, every command as a function that
//! returns a typed report, the diagnoses, and the printers. The `netdx`
//! binary is argument parsing plus rendering on top of this crate, and
//! `check` runs its lines through the same functions in-process.
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod diagnose;
pub mod dns;
pub mod error;
pub mod explain;
pub mod generate;
pub mod hops;
pub mod mtr;
pub mod output;
pub mod ping;
pub mod probe;
pub mod resolve;
pub mod sockets;
pub mod stats;
pub mod tcp;
pub mod trace;
