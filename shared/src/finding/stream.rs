//! Streaming input: the entries of an input of any size, one at a time, so that memory
//! does not grow with the number of findings (a 100,000-finding `get-findings` export is
//! half a gigabyte).
//!
//! The input is buffered ([`super::stream_source`]) and parsed by serde_json: a document
//! up to [`SMALL_DOCUMENT`] whole from the buffer, a larger one through serde_json's reader.
//! What is streamed:
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
pub(super) use super::stream_source::SMALL_DOCUMENT;
use super::stream_source::{Shared, Source, Window, elements};
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// Largest element (one finding, one document) held at once: EventBridge caps events at
/// 256 KB; this is the former bound on a whole input. It is counted on what is read ahead,
/// so it holds to within one read buffer.
pub const MAX_ENTRY: u64 = 16 * 1024 * 1024;

/// The read buffer of the gzip sniffing.
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
    let context = Context::root(test_source, parse_document);
    if is_gzip(head) {
        let gz = flate2::read::MultiGzDecoder::new(reader);
        return documents(gz, context, each).map_err(|e| match e {
            ParseError::Unreadable(why) => ParseError::Gzip(why),
            other => other,
        });
    }
    documents(reader, context, each)
}

/// What the visitors share: where the reader is, and what went wrong there.
struct State<'c, 'e, 'r> {
    context: Context<'c>,
    source: Rc<RefCell<Source<Box<dyn Read + 'r>>>>,
    /// Whether the document is read through serde_json's reader (its lists' elements are
    /// then parsed from the buffer), rather than parsed whole from the buffer.
    through_reader: bool,
    each: &'e mut dyn FnMut(Result<Entry, ParseError>),
    /// The element being read (`Findings[7]`, `[3]`, `document 2`), for an error.
    at: String,
    /// An error the visitors found, more precise than serde_json's message.
    failure: Option<ParseError>,
}

impl State<'_, '_, '_> {
    fn enter(&mut self, at: String) {
        self.at = at;
    }

    /// A failure found here, for serde_json to pass back to [`State::explain`].
    fn fail<E: serde::de::Error>(&mut self, error: ParseError) -> E {
        let message = error.to_string();
        self.failure = Some(error);
        E::custom(message)
    }

    /// What a serde_json error means here.
    fn explain(&mut self, e: serde_json::Error) -> ParseError {
        if let Some(failure) = self.failure.take() {
            return failure;
        }
        let error = if e.is_io() && self.source.borrow().budget == 0 {
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
fn documents<'r>(
    reader: impl Read + 'r,
    context: Context<'_>,
    each: &mut dyn FnMut(Result<Entry, ParseError>),
) -> Result<(), ParseError> {
    let boxed: Box<dyn Read + 'r> = Box::new(reader);
    let mut state = State {
        context,
        source: Rc::new(RefCell::new(Source::new(boxed))),
        through_reader: false,
        each,
        at: String::new(),
        failure: None,
    };
    // The first document's own entries wait until it is known whether a second follows,
    // so that its errors name it only in a stream of documents.
    let mut first: Option<Result<Vec<Entry>, ParseError>> = None;
    let mut number = 0usize;
    loop {
        // A document that is not whole JSON is read through serde_json's reader too, which
        // hands on the entries before the fault and names where it is.
        let window = state.source.borrow_mut().window(SMALL_DOCUMENT);
        let window = match window {
            Err(ParseError::NotJson(_)) if number == 0 && state.source.borrow().is_small_text() => {
                // A whole small input that is not UTF-8: the whole-input parser repairs it.
                let bytes = state.source.borrow().rest().to_vec();
                emit_all(&mut state, parse_document(&bytes, context));
                return Ok(());
            }
            Err(ParseError::NotJson(_)) => Window::Longer,
            other => other.map_err(|e| match number {
                0 => e,
                n => e.within(format!("document {}", n + 1)),
            })?,
        };
        if matches!(window, Window::End) {
            break;
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
        state.source.borrow_mut().budget = MAX_ENTRY;
        let parsed = match window {
            Window::Whole(len) => {
                let bytes = state.source.borrow().rest()[..len].to_vec();
                state.source.borrow_mut().consume(len);
                state.through_reader = false;
                let mut de = serde_json::Deserializer::from_slice(&bytes);
                Document { state: &mut state }.deserialize(&mut de)
            }
            _ => {
                state.through_reader = true;
                let mut de = serde_json::Deserializer::from_reader(Shared(state.source.clone()));
                Document { state: &mut state }.deserialize(&mut de)
            }
        };
        let parsed = parsed.map_err(|e| state.explain(e))?;
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

fn emit_all(state: &mut State<'_, '_, '_>, entries: Result<Vec<Entry>, ParseError>) {
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

struct Document<'s, 'c, 'e, 'r> {
    state: &'s mut State<'c, 'e, 'r>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_, '_, '_> {
    type Value = Parsed;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_, '_, '_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    /// A top-level array: each element is a document.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let state = self.state;
        let prefix = std::mem::take(&mut state.at);
        let label = |index: usize| format!("{prefix}[{index}]");
        let mut count = 0usize;
        let each = |state: &mut State<'_, '_, '_>, text: &str, index: usize| {
            state.enter(label(index));
            let entries = state.context.inner(&state.at, text.as_bytes());
            emit_all(state, entries);
        };
        if state.through_reader {
            let source = state.source.clone();
            count = elements(&source, MAX_ENTRY as usize, &label, &mut |text, i| {
                each(state, text, i)
            })
            .map_err(|e| state.fail(e))?;
        } else {
            while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                each(state, raw.get(), count);
                count += 1;
            }
        }
        if count == 0 {
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
                // The keys after the list have the budget of a document again.
                state.source.borrow_mut().budget = MAX_ENTRY;
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
struct List<'s, 'c, 'e, 'r, 'p> {
    state: &'s mut State<'c, 'e, 'r>,
    prefix: &'p str,
    name: &'p str,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        let (prefix, name) = (self.prefix, self.name);
        let label = |index: usize| match prefix {
            "" => format!("{name}[{index}]"),
            prefix => format!("{prefix}: {name}[{index}]"),
        };
        let each = |state: &mut State<'_, '_, '_>, text: &str, index: usize| {
            state.enter(label(index));
            let entry = streamed_element(name, text, &state.at);
            (state.each)(entry);
        };
        let mut count = 0usize;
        if state.through_reader {
            let source = state.source.clone();
            count = elements(&source, MAX_ENTRY as usize, &label, &mut |text, i| {
                each(state, text, i)
            })
            .map_err(|e| state.fail(e))?;
        } else {
            while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                each(state, raw.get(), count);
                count += 1;
            }
        }
        if count == 0 {
            (state.each)(Err(ParseError::NoFindings));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
