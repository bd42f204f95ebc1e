//! pcapng reading: section headers (either byte order), interface
//! descriptions (link type and timestamp resolution per interface),
//! enhanced and simple packet blocks; every other block is skipped.

use super::filter::LinkType;
use super::pcap::{
    link_from_dlt, read_exact_or, read_full, strip_null, FileError, Frame, Next, MAX_SNAPLEN,
};
use std::io::{self, BufReader, Read};

/// Section Header Block type (also the file's magic).
const SHB: u32 = 0x0a0d_0d0a;
/// Interface Description Block.
const IDB: u32 = 1;
/// Simple Packet Block.
const SPB: u32 = 3;
/// Enhanced Packet Block.
const EPB: u32 = 6;
/// Largest block netdx reads into memory (a packet block holds at most
/// MAX_SNAPLEN bytes; interface and section options are small).
const MAX_BLOCK: u32 = MAX_SNAPLEN + 4096;

/// One interface of the current section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    dlt: u32,
    link: LinkType,
    /// Timestamp units: `(base, exponent)` with a unit of base^-exponent s.
    tsresol: (u32, u32),
}

/// A pcapng file.
pub struct PcapngReader<R: Read> {
    inner: BufReader<R>,
    swapped: bool,
    interfaces: Vec<Interface>,
    first: Option<LinkType>,
    /// What the look for the first interface read past, handed out first.
    pending: Option<Next>,
}

impl<R: Read> PcapngReader<R> {
    /// Reads the first section header (its type was the magic already read).
    pub(super) fn open(inner: BufReader<R>) -> Result<Self, FileError> {
        let mut r = PcapngReader {
            inner,
            swapped: false,
            interfaces: Vec::new(),
            first: None,
            pending: None,
        };
        r.section_header()?;
        // The link type a filter is compiled for: the first interface's,
        // which comes before any packet in every file writers produce.
        while r.first.is_none() && r.pending.is_none() {
            r.pending = match r.next_block()? {
                None => Some(Next::End),
                Some(Block::Packet(f)) => Some(Next::Frame(f)),
                Some(Block::Truncated(w)) => Some(Next::Truncated(w)),
                Some(Block::Interface | Block::Other) => None,
            };
        }
        Ok(r)
    }

    /// The link type of the first interface described.
    pub fn first_link(&self) -> LinkType {
        self.first.unwrap_or(LinkType::Ethernet)
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if self.swapped {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    fn u16_at(&self, b: &[u8], i: usize) -> u16 {
        let w = [b[i], b[i + 1]];
        if self.swapped {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        }
    }

    /// After the SHB type: length, byte-order magic, and the rest skipped.
    fn section_header(&mut self) -> Result<(), FileError> {
        let mut head = [0u8; 8];
        read_exact_or(
            &mut self.inner,
            &mut head,
            "truncated pcapng section header",
        )?;
        let bom = [head[4], head[5], head[6], head[7]];
        self.swapped = match u32::from_le_bytes(bom) {
            0x1a2b_3c4d => false,
            0x4d3c_2b1a => true,
            other => {
                return Err(FileError(format!(
                    "bad pcapng byte-order magic 0x{other:08x}"
                )))
            }
        };
        let len = self.u32_at(&head, 0);
        check_length(len, 28)?;
        self.interfaces.clear();
        // 12 bytes of the block are read (type, length, magic); skip the
        // version, section length, options and the trailing length.
        skip(&mut self.inner, u64::from(len - 12))
    }

    /// Reads blocks until a packet; `Ok(None)` at a clean end.
    fn next_block(&mut self) -> Result<Option<Block>, FileError> {
        let mut head = [0u8; 8];
        let got = read_full(&mut self.inner, &mut head)?;
        if got == 0 {
            return Ok(None);
        }
        if got < 8 {
            return Ok(Some(Block::Truncated(format!(
                "truncated dump file; tried to read 8 block header bytes, only got {got}"
            ))));
        }
        let kind = self.u32_at(&head, 0);
        if kind == SHB {
            // Its length is read in the byte order the section declares.
            let mut rest = [0u8; 4];
            read_exact_or(
                &mut self.inner,
                &mut rest,
                "truncated pcapng section header",
            )?;
            self.swapped = match u32::from_le_bytes(rest) {
                0x1a2b_3c4d => false,
                0x4d3c_2b1a => true,
                other => {
                    return Err(FileError(format!(
                        "bad pcapng byte-order magic 0x{other:08x}"
                    )))
                }
            };
            let len = self.u32_at(&head, 4);
            check_length(len, 28)?;
            self.interfaces.clear();
            skip(&mut self.inner, u64::from(len - 12))?;
            return Ok(Some(Block::Other));
        }
        let len = self.u32_at(&head, 4);
        check_length(len, 12)?;
        if !matches!(kind, IDB | SPB | EPB) {
            skip(&mut self.inner, u64::from(len - 8))?;
            return Ok(Some(Block::Other));
        }
        if len > MAX_BLOCK {
            return Err(FileError(format!(
                "bogus pcapng block: length {len} is larger than {MAX_BLOCK}"
            )));
        }
        let mut body = vec![0u8; (len - 8) as usize];
        let got = read_full(&mut self.inner, &mut body)?;
        if got < body.len() {
            return Ok(Some(Block::Truncated(format!(
                "truncated dump file; tried to read a {len}-byte block, only got {}",
                got + 8
            ))));
        }
        let body = &body[..body.len() - 4];
        match kind {
            IDB => {
                self.interface(body)?;
                Ok(Some(Block::Interface))
            }
            EPB => self.enhanced(body).map(Some),
            _ => self.simple(body).map(Some),
        }
    }

    fn interface(&mut self, body: &[u8]) -> Result<(), FileError> {
        if body.len() < 8 {
            return Err(FileError("pcapng interface block too short".into()));
        }
        let dlt = u32::from(self.u16_at(body, 0));
        let link = link_from_dlt(dlt)?;
        let mut tsresol = (10, 6);
        let mut at = 8;
        while at + 4 <= body.len() {
            let code = self.u16_at(body, at);
            let olen = usize::from(self.u16_at(body, at + 2));
            if code == 0 || at + 4 + olen > body.len() {
                break;
            }
            if code == 9 && olen >= 1 {
                let v = body[at + 4];
                tsresol = if v & 0x80 == 0 {
                    (10, u32::from(v))
                } else {
                    (2, u32::from(v & 0x7f))
                };
            }
            at += 4 + olen.div_ceil(4) * 4;
        }
        if self.first.is_none() {
            self.first = Some(link);
        }
        self.interfaces.push(Interface { dlt, link, tsresol });
        Ok(())
    }

    fn iface(&self, id: u32) -> Result<Interface, FileError> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            FileError(format!(
                "pcapng packet names interface {id}, which no interface block described"
            ))
        })
    }

    fn enhanced(&self, body: &[u8]) -> Result<Block, FileError> {
        if body.len() < 20 {
            return Err(FileError("pcapng enhanced packet block too short".into()));
        }
        let iface = self.iface(self.u32_at(body, 0))?;
        let ts = u64::from(self.u32_at(body, 4)) << 32 | u64::from(self.u32_at(body, 8));
        let caplen = self.u32_at(body, 12);
        let wire_len = self.u32_at(body, 16);
        if caplen > MAX_SNAPLEN || 20 + caplen as usize > body.len() {
            return Err(FileError(format!(
                "bogus pcapng packet: captured length {caplen} does not fit its block"
            )));
        }
        let data = body[20..20 + caplen as usize].to_vec();
        Ok(Block::Packet(frame(
            iface,
            to_ns(ts, iface.tsresol),
            data,
            wire_len,
        )))
    }

    fn simple(&self, body: &[u8]) -> Result<Block, FileError> {
        if body.len() < 4 {
            return Err(FileError("pcapng simple packet block too short".into()));
        }
        let iface = self.iface(0)?;
        let wire_len = self.u32_at(body, 0);
        let caplen = (wire_len as usize).min(body.len() - 4);
        let data = body[4..4 + caplen].to_vec();
        Ok(Block::Packet(frame(iface, 0, data, wire_len)))
    }

    /// The next packet, the end, or a named error.
    pub fn next_frame(&mut self) -> Result<Next, FileError> {
        if let Some(next) = self.pending.take() {
            return Ok(next);
        }
        loop {
            match self.next_block()? {
                None => return Ok(Next::End),
                Some(Block::Packet(f)) => return Ok(Next::Frame(f)),
                Some(Block::Truncated(w)) => return Ok(Next::Truncated(w)),
                Some(Block::Interface | Block::Other) => {}
            }
        }
    }
}

/// What one block turned out to be.
enum Block {
    Packet(Frame),
    Interface,
    Other,
    Truncated(String),
}

fn frame(iface: Interface, ts_ns: u64, data: Vec<u8>, wire_len: u32) -> Frame {
    let (data, wire_len) = strip_null(iface.dlt, data, wire_len);
    let wire_len = wire_len.max(data.len() as u32);
    Frame {
        ts_ns,
        link: iface.link,
        wire_len,
        data,
    }
}

/// A block length must hold its own framing and be a multiple of 4.
fn check_length(len: u32, min: u32) -> Result<(), FileError> {
    if len < min {
        return Err(FileError(format!(
            "bogus pcapng block: length {len} is shorter than {min}"
        )));
    }
    if len % 4 != 0 {
        return Err(FileError(format!(
            "bogus pcapng block: length {len} is not a multiple of 4"
        )));
    }
    Ok(())
}

/// Skips `n` bytes; the end of the file inside them is a truncation error.
fn skip<R: Read>(r: &mut R, n: u64) -> Result<(), FileError> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())
        .map_err(|e| FileError(format!("cannot read the capture file: {e}")))?;
    if copied < n {
        return Err(FileError("truncated pcapng block".into()));
    }
    Ok(())
}

/// Timestamp units to nanoseconds.
fn to_ns(ts: u64, (base, exp): (u32, u32)) -> u64 {
    let ts = u128::from(ts);
    let ns = if base == 10 {
        if exp <= 9 {
            ts * 10u128.pow(9 - exp)
        } else {
            ts / 10u128.pow((exp - 9).min(30))
        }
    } else {
        (ts * 1_000_000_000) >> exp.min(100)
    };
    u64::try_from(ns).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::pcap::Reader;
    use super::*;

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut padded = body.to_vec();
        while padded.len() % 4 != 0 {
            padded.push(0);
        }
        let len = (padded.len() + 12) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&padded);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    fn shb() -> Vec<u8> {
        let mut body = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        body.extend_from_slice(&[1, 0, 0, 0]);
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        block(SHB, &body)
    }

    fn idb(dlt: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = dlt.to_le_bytes().to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&65535u32.to_le_bytes());
        if let Some(v) = tsresol {
            body.extend_from_slice(&9u16.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[v, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(IDB, &body)
    }

    fn epb(iface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
        let mut body = iface.to_le_bytes().to_vec();
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(EPB, &body)
    }

    fn frames(bytes: &[u8]) -> Result<(Vec<Frame>, Option<String>), FileError> {
        let mut r = Reader::open(bytes)?;
        let mut out = Vec::new();
        loop {
            match r.next_frame()? {
                Next::Frame(f) => out.push(f),
                Next::End => return Ok((out, None)),
                Next::Truncated(w) => return Ok((out, Some(w))),
            }
        }
    }

    #[test]
    fn interfaces_keep_their_link_type_and_resolution() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(block(0x0bad, &[1, 2, 3]));
        f.extend(idb(101, Some(9)));
        f.extend(epb(0, 1_500_000, &[0xaa; 14]));
        f.extend(epb(1, 2_000_000_001, &[0x45]));
        let (got, warn) = frames(&f).expect("readable");
        assert_eq!(warn, None);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].link, LinkType::Ethernet);
        assert_eq!(got[0].ts_ns, 1_500_000_000);
        assert_eq!(got[1].link, LinkType::RawIp);
        assert_eq!(got[1].ts_ns, 2_000_000_001);
    }

    #[test]
    fn hostile_blocks_give_named_errors() {
        let mut zero = shb();
        zero.extend_from_slice(&1u32.to_le_bytes());
        zero.extend_from_slice(&0u32.to_le_bytes());
        assert!(frames(&zero).unwrap_err().0.contains("shorter than"));
        let mut odd = shb();
        odd.extend_from_slice(&0x77u32.to_le_bytes());
        odd.extend_from_slice(&13u32.to_le_bytes());
        odd.extend_from_slice(&[0; 5]);
        assert!(frames(&odd).unwrap_err().0.contains("multiple of 4"));
        let mut orphan = shb();
        orphan.extend(epb(3, 0, &[1]));
        assert!(frames(&orphan).unwrap_err().0.contains("interface 3"));
    }

    #[test]
    fn a_cut_last_block_keeps_the_packets_before_it() {
        let mut f = shb();
        f.extend(idb(101, None));
        f.extend(epb(0, 1, &[0x45; 20]));
        f.extend(epb(0, 2, &[0x45; 20]));
        f.truncate(f.len() - 6);
        let (got, warn) = frames(&f).expect("readable");
        assert_eq!(got.len(), 1);
        assert!(warn.expect("warning").contains("truncated dump file"));
    }
}
