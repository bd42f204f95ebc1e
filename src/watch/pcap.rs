//! Capture files: reads pcap (both byte orders, µs and ns) and pcapng
//! (through [`super::pcapng`]), writes pcap. A hostile file ends in a named
//! one-line error, never a panic or an unbounded allocation; a file cut
//! short inside its last record keeps what was read, as tcpdump does.

use super::filter::LinkType;
use super::pcapng;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Read, Write};

/// Largest record netdx accepts (libpcap's MAXIMUM_SNAPLEN).
pub const MAX_SNAPLEN: u32 = 262_144;

/// One packet out of a file or off the wire, with the link header it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// What the bytes start with.
    pub link: LinkType,
    /// Length on the wire (may exceed `data.len()` when cut by the snaplen).
    pub wire_len: u32,
    /// The captured bytes, link header included.
    pub data: Vec<u8>,
}

impl Frame {
    /// The frame as the decoder reads it.
    pub fn view(&self) -> FrameRef<'_> {
        FrameRef {
            ts_ns: self.ts_ns,
            link: self.link,
            wire_len: self.wire_len,
            data: &self.data,
        }
    }
}

/// A frame whose bytes live elsewhere (the capture socket's buffer).
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// What the bytes start with.
    pub link: LinkType,
    /// Length on the wire.
    pub wire_len: u32,
    /// The captured bytes, link header included.
    pub data: &'a [u8],
}

/// Why a capture file cannot be read: one line naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError(pub String);

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The link type a pcap LINKTYPE number stands for; NULL/loopback frames
/// are turned into raw IP by [`strip_null`].
pub fn link_from_dlt(dlt: u32) -> Result<LinkType, FileError> {
    match dlt {
        1 => Ok(LinkType::Ethernet),
        101 | 12 | 14 => Ok(LinkType::RawIp),
        113 => Ok(LinkType::LinuxSll),
        276 => Ok(LinkType::LinuxSll2),
        0 | 108 => Ok(LinkType::RawIp),
        other => Err(FileError(format!(
            "link type {other} is not supported (Ethernet, raw IP, Linux cooked SLL/SLL2 and loopback are)"
        ))),
    }
}

/// The LINKTYPE number netdx writes for a link type.
pub fn dlt_of(link: LinkType) -> u32 {
    match link {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::RawIp => 101,
        LinkType::LinuxSll2 | LinkType::KernelCooked => 276,
    }
}

/// BSD loopback (DLT_NULL / DLT_LOOP) puts a 4-byte address family before
/// the IP header: drop it so the frame reads as raw IP.
pub fn strip_null(dlt: u32, data: Vec<u8>, wire_len: u32) -> (Vec<u8>, u32) {
    if (dlt == 0 || dlt == 108) && data.len() >= 4 {
        (data[4..].to_vec(), wire_len.saturating_sub(4))
    } else {
        (data, wire_len)
    }
}

/// A capture file being read, record by record.
pub enum Reader<R: Read> {
    /// Classic pcap.
    Pcap(PcapReader<R>),
    /// pcapng.
    Pcapng(pcapng::PcapngReader<R>),
}

/// What reading the next record gave.
#[derive(Debug)]
pub enum Next {
    /// A packet.
    Frame(Frame),
    /// The file ended cleanly.
    End,
    /// The file ended inside a record: what was read stands, with this warning.
    Truncated(String),
}

impl<R: Read> Reader<R> {
    /// Reads the file header and picks the format from its magic number.
    pub fn open(inner: R) -> Result<Self, FileError> {
        let mut inner = BufReader::with_capacity(1 << 16, inner);
        let mut magic = [0u8; 4];
        read_exact_or(
            &mut inner,
            &mut magic,
            "the file is too short for a capture header",
        )?;
        if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            return Ok(Reader::Pcapng(pcapng::PcapngReader::open(inner)?));
        }
        Ok(Reader::Pcap(PcapReader::open(inner, magic)?))
    }

    /// The next record, the end, or a named error.
    pub fn next_frame(&mut self) -> Result<Next, FileError> {
        match self {
            Reader::Pcap(r) => r.next_frame(),
            Reader::Pcapng(r) => r.next_frame(),
        }
    }

    /// The link type of the first interface (what a filter is compiled for).
    pub fn link(&self) -> LinkType {
        match self {
            Reader::Pcap(r) => r.link,
            Reader::Pcapng(r) => r.first_link(),
        }
    }
}

/// Reads exactly `buf.len()` bytes; a short read becomes `why`.
pub(super) fn read_exact_or<R: Read>(
    r: &mut R,
    buf: &mut [u8],
    why: &str,
) -> Result<(), FileError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FileError(why.to_string())
        } else {
            FileError(format!("cannot read the capture file: {e}"))
        }
    })
}

/// Reads up to `buf.len()` bytes; returns how many came before the end.
pub(super) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, FileError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FileError(format!("cannot read the capture file: {e}"))),
        }
    }
    Ok(got)
}

/// A classic pcap file.
pub struct PcapReader<R: Read> {
    inner: BufReader<R>,
    swapped: bool,
    nanos: bool,
    snaplen: u32,
    dlt: u32,
    link: LinkType,
}

impl<R: Read> PcapReader<R> {
    fn open(mut inner: BufReader<R>, magic: [u8; 4]) -> Result<Self, FileError> {
        let (swapped, nanos) = match u32::from_le_bytes(magic) {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            other => {
                return Err(FileError(format!(
                    "not a pcap or pcapng file (bad magic number 0x{other:08x})"
                )))
            }
        };
        let mut rest = [0u8; 20];
        read_exact_or(&mut inner, &mut rest, "truncated pcap file header")?;
        let word = |i: usize| {
            let b = [rest[i], rest[i + 1], rest[i + 2], rest[i + 3]];
            if swapped {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let snaplen = word(12);
        // The upper bits of the link-type word carry FCS flags (pcap-ng
        // style); the type is the low 16 bits.
        let dlt = word(16) & 0xffff;
        let link = link_from_dlt(dlt)?;
        Ok(PcapReader {
            inner,
            swapped,
            nanos,
            snaplen,
            dlt,
            link,
        })
    }

    fn next_frame(&mut self) -> Result<Next, FileError> {
        let mut head = [0u8; 16];
        let got = read_full(&mut self.inner, &mut head)?;
        if got == 0 {
            return Ok(Next::End);
        }
        if got < 16 {
            return Ok(Next::Truncated(format!(
                "truncated dump file; tried to read 16 header bytes, only got {got}"
            )));
        }
        let word = |i: usize| {
            let b = [head[i], head[i + 1], head[i + 2], head[i + 3]];
            if self.swapped {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (secs, frac, caplen, wire_len) = (word(0), word(4), word(8), word(12));
        let limit = MAX_SNAPLEN.max(self.snaplen.min(MAX_SNAPLEN));
        if caplen > limit {
            return Err(FileError(format!(
                "bogus pcap record: captured length {caplen} is larger than {limit}"
            )));
        }
        let mut data = vec![0u8; caplen as usize];
        let got = read_full(&mut self.inner, &mut data)?;
        if got < data.len() {
            return Ok(Next::Truncated(format!(
                "truncated dump file; tried to read {caplen} captured bytes, only got {got}"
            )));
        }
        let frac_ns = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        let ts_ns = u64::from(secs) * 1_000_000_000 + frac_ns;
        let (data, wire_len) = strip_null(self.dlt, data, wire_len.max(caplen));
        Ok(Next::Frame(Frame {
            ts_ns,
            link: self.link,
            wire_len,
            data,
        }))
    }
}

/// Writes pcap (µs timestamps, little-endian), as tcpdump -w does.
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header for frames of `link` cut at `snaplen`.
    pub fn new(out: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let mut head = Vec::with_capacity(24);
        head.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        head.extend_from_slice(&2u16.to_le_bytes());
        head.extend_from_slice(&4u16.to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&snaplen.to_le_bytes());
        head.extend_from_slice(&dlt_of(link).to_le_bytes());
        out.write_all(&head)?;
        Ok(PcapWriter { out })
    }

    /// Appends one record.
    pub fn write(&mut self, ts_ns: u64, data: &[u8], wire_len: u32) -> io::Result<()> {
        let secs = (ts_ns / 1_000_000_000) as u32;
        let usecs = ((ts_ns % 1_000_000_000) / 1000) as u32;
        let caplen = data.len() as u32;
        let mut head = [0u8; 16];
        head[0..4].copy_from_slice(&secs.to_le_bytes());
        head[4..8].copy_from_slice(&usecs.to_le_bytes());
        head[8..12].copy_from_slice(&caplen.to_le_bytes());
        head[12..16].copy_from_slice(&wire_len.max(caplen).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)
    }

    /// Flushes what is buffered (at the end, and on Ctrl-C).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_bytes(records: &[(&[u8], u32)]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), LinkType::RawIp, 65535).expect("header");
        for (i, (data, len)) in records.iter().enumerate() {
            w.write(1_700_000_000_000_000_000 + i as u64 * 1000, data, *len)
                .expect("record");
        }
        w.flush().expect("flush");
        w.out.into_inner().map_err(|_| ()).expect("buffer")
    }

    fn read_all(bytes: &[u8]) -> Result<(Vec<Frame>, Option<String>), FileError> {
        let mut r = Reader::open(bytes)?;
        let mut frames = Vec::new();
        loop {
            match r.next_frame()? {
                Next::Frame(f) => frames.push(f),
                Next::End => return Ok((frames, None)),
                Next::Truncated(w) => return Ok((frames, Some(w))),
            }
        }
    }

    #[test]
    fn written_records_read_back() {
        let bytes = pcap_bytes(&[(&[0x45, 0, 0, 20], 60), (&[1, 2, 3], 3)]);
        let (frames, warn) = read_all(&bytes).expect("readable");
        assert_eq!(warn, None);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, vec![0x45, 0, 0, 20]);
        assert_eq!(frames[0].wire_len, 60);
        assert_eq!(frames[1].ts_ns, 1_700_000_000_000_001_000);
        assert_eq!(frames[0].link, LinkType::RawIp);
    }

    #[test]
    fn big_endian_nanosecond_files_read() {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes());
        b.extend_from_slice(&[0, 2, 0, 4]);
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_be_bytes());
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&5u32.to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&[9, 9]);
        let (frames, _) = read_all(&b).expect("readable");
        assert_eq!(frames[0].ts_ns, 5_000_000_007);
        assert_eq!(frames[0].link, LinkType::Ethernet);
    }

    #[test]
    fn hostile_files_give_named_errors() {
        assert!(read_all(b"").unwrap_err().0.contains("too short"));
        assert!(read_all(b"\x01\x02\x03\x04rest")
            .unwrap_err()
            .0
            .contains("bad magic"));
        let good = pcap_bytes(&[(&[1, 2, 3, 4], 4)]);
        assert!(read_all(&good[..10])
            .unwrap_err()
            .0
            .contains("truncated pcap file header"));
        let mut huge = good.clone();
        huge[24 + 8..24 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(read_all(&huge).unwrap_err().0.contains("bogus pcap record"));
        let mut dlt = good.clone();
        dlt[20..24].copy_from_slice(&999u32.to_le_bytes());
        assert!(read_all(&dlt).unwrap_err().0.contains("link type 999"));
    }

    #[test]
    fn a_truncated_last_record_keeps_the_rest() {
        let good = pcap_bytes(&[(&[1, 2, 3, 4], 4), (&[5, 6, 7, 8], 4)]);
        let (frames, warn) = read_all(&good[..good.len() - 2]).expect("readable");
        assert_eq!(frames.len(), 1);
        assert!(warn.expect("warning").contains("truncated dump file"));
        let (frames, warn) = read_all(&good[..24 + 20 + 5]).expect("readable");
        assert_eq!(frames.len(), 1);
        assert!(warn
            .expect("warning")
            .contains("16 header bytes, only got 5"));
    }
}
