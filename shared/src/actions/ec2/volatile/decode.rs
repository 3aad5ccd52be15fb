//! Pure: what one command's output (`GetCommandInvocation`'s `StandardOutputContent`)
//! decodes to.
//!
//! The contained instance writes that output, so the attacker controls every byte of it:
//! this reads it as data, bounded. The decoded artefact is at most [`MAX_DECODED`] bytes
//! however small the stream (a gzip bomb is cut there), and the caller gives every
//! artefact of a capture [`MAX_DECODED_TOTAL`] together; more than SSM ever returns is not
//! decoded at all, and nothing here names an object or reaches an outcome: the caller
//! stores the result under the artefact's own name and reports only which case it was.

use super::script::{GZIP_BASE64, HEADER, PLAIN, PLAIN_BYTES};
use base64::Engine as _;
use std::io::Read as _;

/// At most this many bytes of one artefact are kept once decompressed (1 MiB): gzip packs
/// up to ~1,000 times, so 17,400 bytes of stream could otherwise claim 17 MB.
pub const MAX_DECODED: usize = 1 << 20;

/// At most this many bytes for all the artefacts of one capture (16 MiB): with 64 PIDs,
/// 68 bombs of 1 MiB would otherwise weigh on a function of 256 MB.
pub const MAX_DECODED_TOTAL: usize = 16 << 20;

/// More received text than this is not decoded (`GetCommandInvocation` returns at most
/// 24,000 characters of output: more did not come from SSM as documented).
pub const MAX_RECEIVED: usize = 96 * 1024;

/// What the received output became.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The whole gzip stream, decompressed.
    Complete(Vec<u8>),
    /// The decoded start of the artefact only.
    Cut { bytes: Vec<u8>, why: Cut },
    /// gzip or base64 is missing on the instance: the output as it came, after the header.
    Plain { bytes: Vec<u8>, cut: bool },
    /// Not what the script writes: the caller keeps the received text as it is.
    Undecodable(&'static str),
    /// No output at all.
    Empty,
}

/// Why a decoded artefact is only a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The gzip stream ends early: the instance cut it at `GZIP_BYTES` (or SSM cut the text).
    StreamEnds,
    /// It decompresses to more than the limit it was decoded within (at most
    /// [`MAX_DECODED`]).
    TooLarge(usize),
}

impl Decoded {
    /// The case, for the record and the outcome (the responder's words only).
    pub fn state(&self) -> &'static str {
        match self {
            Decoded::Complete(_) => "complete",
            Decoded::Cut { .. } => "cut",
            Decoded::Plain { cut: false, .. } => "plain",
            Decoded::Plain { cut: true, .. } => "plain, cut",
            Decoded::Undecodable(_) => "undecodable",
            Decoded::Empty => "empty",
        }
    }

    /// Why it is not whole, when it is not (the responder's words only).
    pub fn note(&self) -> Option<String> {
        match self {
            Decoded::Complete(_) | Decoded::Empty => None,
            Decoded::Cut {
                why: Cut::StreamEnds,
                ..
            } => Some("cut: the gzip stream ends early (output limit); the decoded start".into()),
            Decoded::Cut {
                why: Cut::TooLarge(limit),
                ..
            } => Some(format!(
                "cut: decodes to more than {limit} bytes (the limit: {MAX_DECODED} per \
                 artefact, {MAX_DECODED_TOTAL} per capture); the first {limit}"
            )),
            Decoded::Plain { cut, .. } => Some(format!(
                "not compressed (gzip or base64 missing on the instance){}",
                if *cut {
                    format!("; cut at {PLAIN_BYTES} bytes")
                } else {
                    String::new()
                }
            )),
            Decoded::Undecodable(why) => Some(format!("not decodable: {why}")),
        }
    }

    /// The artefact's bytes, when there are any to store as the artefact.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Decoded::Complete(b)
            | Decoded::Cut { bytes: b, .. }
            | Decoded::Plain { bytes: b, .. } => Some(b),
            Decoded::Undecodable(_) | Decoded::Empty => None,
        }
    }
}

/// Decodes one command's output: the header line, then base64 of a gzip stream (or the
/// output itself, `plain`), at most [`MAX_DECODED`] bytes of it.
pub fn decode(received: &str) -> Decoded {
    decode_within(received, MAX_DECODED)
}

/// [`decode`], at most `limit` bytes (and never more than [`MAX_DECODED`]).
pub fn decode_within(received: &str, limit: usize) -> Decoded {
    let limit = limit.min(MAX_DECODED);
    if received.is_empty() {
        return Decoded::Empty;
    }
    if received.len() > MAX_RECEIVED {
        return Decoded::Undecodable("longer than SSM returns");
    }
    let Some((header, rest)) = received.split_once('\n') else {
        return Decoded::Undecodable("no header line");
    };
    let Some(encoding) = header
        .strip_prefix(HEADER)
        .and_then(|e| e.strip_prefix(' '))
    else {
        return Decoded::Undecodable("not the expected header line");
    };
    match encoding {
        GZIP_BASE64 => gzip_base64(rest, limit),
        PLAIN if rest.len() > limit => Decoded::Cut {
            bytes: rest.as_bytes()[..limit].to_vec(),
            why: Cut::TooLarge(limit),
        },
        PLAIN => Decoded::Plain {
            bytes: rest.as_bytes().to_vec(),
            cut: rest.len() >= PLAIN_BYTES,
        },
        _ => Decoded::Undecodable("an unknown encoding"),
    }
}

/// What the script writes for a gzip `stream`: the header line, then the stream in base64
/// on one line (the inverse of [`decode`]'s main case; tests build the instance's output
/// with it).
pub fn as_written(stream: &[u8]) -> String {
    format!(
        "{HEADER} {GZIP_BASE64}\n{}",
        base64::engine::general_purpose::STANDARD.encode(stream)
    )
}

fn gzip_base64(text: &str, limit: usize) -> Decoded {
    let text = text.trim_end_matches(['\n', '\r']);
    // Text cut by SSM (not a multiple of 4) decodes up to its last whole group.
    let whole = text.len() - text.len() % 4;
    let ssm_cut = whole != text.len();
    let Ok(stream) = base64::engine::general_purpose::STANDARD.decode(&text[..whole]) else {
        return Decoded::Undecodable("not base64");
    };
    if stream.is_empty() {
        return Decoded::Undecodable("no gzip stream");
    }
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(stream.as_slice()).take(limit as u64 + 1);
    match reader.read_to_end(&mut out) {
        Ok(_) if out.len() > limit => {
            out.truncate(limit);
            Decoded::Cut {
                bytes: out,
                why: Cut::TooLarge(limit),
            }
        }
        Ok(_) if ssm_cut => Decoded::Cut {
            bytes: out,
            why: Cut::StreamEnds,
        },
        Ok(_) => Decoded::Complete(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Decoded::Cut {
            bytes: out,
            why: Cut::StreamEnds,
        },
        Err(_) => Decoded::Undecodable("not a valid gzip stream"),
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
