//! Streaming input: the entries of an input of any size, one at a time, so that memory
//! does not grow with the number of findings (a 100,000-finding `get-findings` export is
//! half a gigabyte).
//!
//! serde_json reads the input from a reader; what is streamed:
//! - a top-level array: each element is a document of its own (an event, a finding, …);
//! - a `Findings` (get-findings, PascalCase or ASFF) or `findings` (the API) list: each
//!   element is parsed as [`super::input`] parses it;
//! - one document after another (JSON Lines, GuardDuty's S3 export, gzip or not).
//!
//! Any other document (an EventBridge event, an SNS notification, an SQS batch …) is
//! kept whole and handed to [`super::input::parse_document`], exactly as a single input is.
//! Each element is held only while it is parsed, and never more than [`MAX_ENTRY`] bytes of
//! it. An element that cannot be parsed is reported with where it is and the others go
//! on; only input that is not JSON (or too large, or unreadable) stops the stream.

use super::error::ParseError;
use super::input::{Context, Entry, parse_document, streamed_element};
use super::jsonl::is_gzip;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// Largest element (one finding, one document) held at once: EventBridge caps events at
/// 256 KB; this is the former bound on a whole input. It is counted on what is read ahead,
/// so it holds to within one read buffer.
pub const MAX_ENTRY: u64 = 16 * 1024 * 1024;

/// The read buffer: large enough that serde_json's byte-at-a-time reads stay cheap.
const BUFFER: usize = 64 * 1024;

/// Reads every entry of `reader` in order and hands each (or the error that names it) to
/// `each`. `Err` only for what stops the whole stream: nothing to read, input that is not
/// JSON, an element past [`MAX_ENTRY`], a read or gzip failure.
pub fn stream_input<R: Read>(
    reader: R,
    test_source: Option<&str>,
    each: &mut dyn FnMut(Result<Entry, ParseError>),
) -> Result<(), ParseError> {
    let mut reader = BufReader::with_capacity(BUFFER, reader);
    let head = reader
        .fill_buf()
        .map_err(|e| ParseError::Unreadable(e.to_string()))?;
    let context = Context::root(test_source);
    if is_gzip(head) {
        let gz = flate2::read::MultiGzDecoder::new(reader);
        return documents(gz, context, each).map_err(|e| match e {
            ParseError::Unreadable(why) => ParseError::Gzip(why),
            other => other,
        });
    }
    documents(reader, context, each)
}

/// A reader that fails past its budget, which is renewed at each element: it bounds what
/// serde_json buffers for one element without bounding the whole input.
struct Budgeted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(std::io::Error::other("over budget"));
        }
        let room = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..room])?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

/// What the visitors share: where the reader is, and what went wrong there.
struct State<'c, 'e> {
    context: Context<'c>,
    budget: Rc<Cell<u64>>,
    each: &'e mut dyn FnMut(Result<Entry, ParseError>),
    /// The element being read (`Findings[7]`, `[3]`, `document 2`), for an error.
    at: String,
    /// An error the visitors found, more precise than serde_json's message.
    failure: Option<ParseError>,
}

impl State<'_, '_> {
    fn enter(&mut self, at: String) {
        self.budget.set(MAX_ENTRY);
        self.at = at;
    }

    /// What a serde_json error means here.
    fn explain(&mut self, e: serde_json::Error) -> ParseError {
        if let Some(failure) = self.failure.take() {
            return failure;
        }
        let error = if e.is_io() && self.budget.get() == 0 {
            ParseError::EntryTooLarge(MAX_ENTRY)
        } else if e.is_io() {
            ParseError::Unreadable(e.to_string())
        } else {
            ParseError::NotJson(e.to_string())
        };
        match self.at.as_str() {
            "" => error,
            at => error.within(at),
        }
    }
}

/// One top-level JSON document after another.
fn documents(
    reader: impl Read,
    context: Context<'_>,
    each: &mut dyn FnMut(Result<Entry, ParseError>),
) -> Result<(), ParseError> {
    let budget = Rc::new(Cell::new(MAX_ENTRY));
    let reader = BufReader::with_capacity(
        BUFFER,
        Budgeted {
            inner: reader,
            left: budget.clone(),
        },
    );
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut state = State {
        context,
        budget,
        each,
        at: String::new(),
        failure: None,
    };
    // The first document's own entries wait until it is known whether a second follows,
    // so that its errors name it only in a stream of documents.
    let mut first: Option<Result<Vec<Entry>, ParseError>> = None;
    let mut number = 0usize;
    loop {
        state.budget.set(MAX_ENTRY);
        match de.end() {
            Ok(()) => break,
            Err(e) if e.is_io() => return Err(state.explain(e)),
            Err(_more) => {}
        }
        number += 1;
        state.at = if number == 1 {
            String::new()
        } else {
            format!("document {number}")
        };
        if let Some(held) = first.take() {
            emit_all(&mut state, held.map_err(|e| e.within("document 1")));
        }
        let parsed = Document { state: &mut state }
            .deserialize(&mut de)
            .map_err(|e| state.explain(e))?;
        match (parsed, number) {
            (Parsed::Streamed, _) => {}
            (Parsed::Whole(bytes), 1) => first = Some(parse_document(&bytes, context)),
            (Parsed::Whole(bytes), n) => emit_all(
                &mut state,
                parse_document(&bytes, context).map_err(|e| e.within(format!("document {n}"))),
            ),
            (Parsed::NotAnObject(kind), _) => {
                let at = std::mem::take(&mut state.at);
                let error = ParseError::UnknownShape(kind);
                (state.each)(Err(if at.is_empty() {
                    error
                } else {
                    error.within(at)
                }));
            }
        }
    }
    if number == 0 {
        return Err(ParseError::Empty);
    }
    if let Some(held) = first {
        emit_all(&mut state, held);
    }
    Ok(())
}

fn emit_all(state: &mut State<'_, '_>, entries: Result<Vec<Entry>, ParseError>) {
    match entries {
        Ok(list) => list.into_iter().for_each(|e| (state.each)(Ok(e))),
        Err(e) => (state.each)(Err(e)),
    }
}

/// What one top-level document was.
enum Parsed {
    /// Its entries were handed on one by one as they were read.
    Streamed,
    /// A document to parse whole (an event, a wrapper, a bare finding).
    Whole(Vec<u8>),
    NotAnObject(&'static str),
}

struct Document<'s, 'c, 'e> {
    state: &'s mut State<'c, 'e>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_, '_> {
    type Value = Parsed;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_, '_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    /// A top-level array: each element is a document.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let state = self.state;
        let prefix = std::mem::take(&mut state.at);
        let mut index = 0usize;
        loop {
            state.enter(format!("{prefix}[{index}]"));
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            let entries = state.context.inner(&state.at, raw.get().as_bytes());
            drop(raw);
            emit_all(state, entries);
            index += 1;
        }
        if index == 0 {
            let error = ParseError::EmptyList;
            (state.each)(Err(if prefix.is_empty() {
                error
            } else {
                error.within(prefix)
            }));
        }
        Ok(Parsed::Streamed)
    }

    /// An object: its `Findings`/`findings` list is streamed; any other object is kept
    /// whole, key by key, for the general parser.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let state = self.state;
        let prefix = state.at.clone();
        let mut kept: Vec<(String, Box<RawValue>)> = Vec::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if !streamed && (key == "Findings" || key == "findings") {
                let list = List {
                    state: &mut *state,
                    prefix: &prefix,
                    name: &key,
                };
                map.next_value_seed(list)?;
                streamed = true;
                state.at.clone_from(&prefix);
            } else {
                kept.push((key, map.next_value()?));
            }
        }
        if streamed {
            return Ok(Parsed::Streamed);
        }
        let mut whole =
            Vec::with_capacity(kept.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum());
        whole.push(b'{');
        for (i, (key, value)) in kept.iter().enumerate() {
            if i > 0 {
                whole.push(b',');
            }
            serde_json::to_writer(&mut whole, key).map_err(A::Error::custom)?;
            whole.push(b':');
            whole.extend_from_slice(value.get().as_bytes());
        }
        whole.push(b'}');
        Ok(Parsed::Whole(whole))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("a boolean"))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("a number"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("a number"))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("a number"))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("a string"))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Parsed, E> {
        Ok(Parsed::NotAnObject("null"))
    }
}

/// A `Findings`/`findings` list, element by element.
struct List<'s, 'c, 'e, 'p> {
    state: &'s mut State<'c, 'e>,
    prefix: &'p str,
    name: &'p str,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        let mut index = 0usize;
        loop {
            let at = match self.prefix {
                "" => format!("{}[{index}]", self.name),
                prefix => format!("{prefix}: {}[{index}]", self.name),
            };
            state.enter(at);
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            let entry = streamed_element(self.name, raw.get(), &state.at);
            drop(raw);
            (state.each)(entry);
            index += 1;
        }
        if index == 0 {
            (state.each)(Err(ParseError::NoFindings));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.not_a_list()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.not_a_list()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_a_list()
    }
}

impl List<'_, '_, '_, '_> {
    fn not_a_list<E: serde::de::Error>(self) -> Result<(), E> {
        self.state.failure = Some(ParseError::InvalidField {
            path: self.name.to_owned(),
            message: "not a list".into(),
        });
        Err(E::custom("not a list"))
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
