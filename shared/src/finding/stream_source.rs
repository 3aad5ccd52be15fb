//! The input of [`super::stream`], buffered so that most of it is parsed from slices.
//!
//! serde_json parses a reader a byte at a time (`IoRead`), which cost about half of a
//! streamed replay; from a slice it skips through strings a word at a time. So each small
//! document, and each element of a large list, is parsed from this buffer as a slice; only
//! the outer structure of a document too large to hold (a `get-findings` export) goes
//! through serde_json's reader, which reads this same buffer through [`Shared`].

use super::error::ParseError;
use serde_json::value::RawValue;
use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

/// A document up to this size is parsed whole from the buffer; a larger one (an export)
/// is read through serde_json's reader, its list elements from the buffer.
pub(super) const SMALL_DOCUMENT: usize = 1024 * 1024;

/// Bytes read from the input at a time.
const CHUNK: usize = 64 * 1024;

pub struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// What serde_json's reader may still take before the element it reads is too large.
    pub budget: u64,
}

/// Where one JSON value lies in the buffer, once it is whole there.
pub enum Window {
    /// It is `len` bytes from the current position.
    Whole(usize),
    /// It is longer than the limit asked for (nothing is consumed).
    Longer,
    /// The input ended: nothing but whitespace was left.
    End,
}

impl<R: Read> Source<R> {
    pub fn new(inner: R) -> Source<R> {
        Source {
            inner,
            buf: Vec::with_capacity(CHUNK),
            pos: 0,
            eof: false,
            budget: u64::MAX,
        }
    }

    /// The buffered bytes not yet consumed.
    pub fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Whether the whole input is buffered, small, and not UTF-8 (serde_json rejects it;
    /// the whole-input parser repairs it).
    pub fn is_small_text(&self) -> bool {
        self.eof && self.buf.len() <= SMALL_DOCUMENT && std::str::from_utf8(&self.buf).is_err()
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// Reads more input behind what is buffered: at least as much again (up to the end of
    /// the input), however little each read returns, so that a long value is re-scanned a
    /// logarithmic number of times; `false` when nothing more was read.
    fn fill_more(&mut self) -> Result<bool, ParseError> {
        if self.eof {
            return Ok(false);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let start = self.buf.len();
        let target = start + CHUNK.max(start);
        self.buf.resize(target, 0);
        let mut filled = start;
        while filled < target {
            match self.inner.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(ParseError::Unreadable(e.to_string()));
                }
            }
        }
        self.buf.truncate(filled);
        Ok(filled > start)
    }

    /// The next byte that is not whitespace (consuming the whitespace), `None` at the end.
    pub fn next_significant(&mut self) -> Result<Option<u8>, ParseError> {
        loop {
            let rest = self.rest();
            match rest.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(at) => {
                    self.pos += at;
                    return Ok(Some(self.buf[self.pos]));
                }
                None => {
                    self.pos = self.buf.len();
                    if !self.fill_more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Buffers the JSON value at the current position until it is whole (serde_json says
    /// where it ends) or longer than `limit`.
    pub fn window(&mut self, limit: usize) -> Result<Window, ParseError> {
        if self.next_significant()?.is_none() {
            return Ok(Window::End);
        }
        // Where the last error was: an error that stays put when more is read is real; one
        // at the end of what was buffered (a number cut in two) may not be.
        let mut last_error = None;
        loop {
            let rest = self.rest();
            let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<&RawValue>();
            let outcome = values.next();
            let end = values.byte_offset();
            let whole = match outcome {
                // A value that ends where the buffer does may go on (a number): read on.
                Some(Ok(_)) => end < rest.len() || self.eof,
                Some(Err(e)) if self.eof || last_error == Some((e.line(), e.column())) => {
                    return Err(ParseError::NotJson(e.to_string()));
                }
                Some(Err(e)) => {
                    last_error = (!e.is_eof()).then(|| (e.line(), e.column()));
                    false
                }
                None => return Ok(Window::End),
            };
            if whole && end <= limit {
                return Ok(Window::Whole(end));
            }
            if whole || rest.len() > limit {
                return Ok(Window::Longer);
            }
            self.fill_more()?;
        }
    }
}

/// The source shared between serde_json's reader and the element reader.
pub struct Shared<R>(pub Rc<RefCell<Source<R>>>);

impl<R: Read> Read for Shared<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut source = self.0.borrow_mut();
        if source.budget == 0 {
            return Err(std::io::Error::other("over budget"));
        }
        if source.rest().is_empty() && !source.fill_more().map_err(std::io::Error::other)? {
            return Ok(0);
        }
        let n = out
            .len()
            .min(source.rest().len())
            .min(usize::try_from(source.budget).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&source.rest()[..n]);
        source.consume(n);
        source.budget -= n as u64;
        Ok(n)
    }
}

/// Reads the elements of a list whose `[` serde_json has just read, each parsed from the
/// buffer, up to (not including) its `]`, which serde_json then reads. `each` gets every
/// element's text and index; `label` names an element for an error.
pub fn elements<R: Read>(
    source: &RefCell<Source<R>>,
    limit: usize,
    label: &dyn Fn(usize) -> String,
    each: &mut dyn FnMut(&str, usize),
) -> Result<usize, ParseError> {
    let mut source = source.borrow_mut();
    let mut index = 0;
    loop {
        let unexpected = |what: &str| ParseError::NotJson(format!("{what} in the list"));
        match source.next_significant()? {
            None => return Err(unexpected("the input ends").within(label(index))),
            Some(b']') => return Ok(index),
            Some(b',') if index > 0 => source.consume(1),
            Some(_) if index == 0 => {}
            Some(_) => return Err(unexpected("a value without a comma").within(label(index))),
        }
        let len = match source.window(limit).map_err(|e| e.within(label(index)))? {
            Window::Whole(len) => len,
            Window::Longer => {
                return Err(ParseError::EntryTooLarge(limit as u64).within(label(index)));
            }
            Window::End => return Err(unexpected("the input ends").within(label(index))),
        };
        // serde_json checked it is UTF-8 when it took it as a `RawValue`.
        let text = std::str::from_utf8(&source.rest()[..len])
            .map_err(|e| ParseError::NotJson(e.to_string()).within(label(index)))?;
        each(text, index);
        source.consume(len);
        index += 1;
    }
}
