//! Server-sent events from an upstream, parsed line by line in one pass.
//!
//! Bytes are appended to a buffer and the search for the end of a line resumes where
//! it stopped, so a long line costs time in proportion to its length, not its square.
//! An event (its lines together) may be at most `max_event_bytes` long, and the whole
//! stream must end before `deadline`; either failure ends the stream with an error.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde_json::Value;

use crate::{Event, EventStream, LlmError};

/// What one step of parsing found.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A complete event.
    Event(Result<Event, LlmError>),
    /// No complete event yet: feed more bytes.
    NeedMore,
}

/// The parser's state between chunks.
#[derive(Debug)]
pub(crate) struct Parser {
    /// Bytes received and not yet consumed; `buf[line_start..]` is the current line.
    buf: Vec<u8>,
    line_start: usize,
    /// Where the search for the end of the current line resumes.
    searched: usize,
    /// The last line ended with `\r`: a `\n` right after it belongs to that ending.
    after_cr: bool,
    /// The current event's `data` lines, joined with `\n`.
    data: Vec<u8>,
    has_data: bool,
    /// Bytes of the current event's complete lines so far.
    event_bytes: usize,
    max_event_bytes: usize,
}

impl Parser {
    pub(crate) fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: Vec::new(),
            line_start: 0,
            searched: 0,
            after_cr: false,
            data: Vec::new(),
            has_data: false,
            event_bytes: 0,
            max_event_bytes,
        }
    }

    /// Appends a chunk, first dropping the lines already consumed. Only the current
    /// (incomplete) line is moved, and it holds no more than the bytes received since
    /// the last line ended, so the moves add up to at most the bytes received.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if self.line_start > 0 {
            self.buf.drain(..self.line_start);
            self.searched -= self.line_start;
            self.line_start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    fn too_long(&self) -> LlmError {
        LlmError::BadResponse(format!(
            "an event in the provider's stream is longer than {} bytes (the limit `max_event_bytes`); \
             the stream was ended there: raise the limit if the provider really sends events that long",
            self.max_event_bytes
        ))
    }

    /// Parses what has been received up to the next complete event.
    pub(crate) fn next_event(&mut self) -> Parsed {
        loop {
            if self.after_cr && self.line_start < self.buf.len() {
                if self.buf[self.line_start] == b'\n' {
                    self.line_start += 1;
                    self.searched = self.searched.max(self.line_start);
                }
                self.after_cr = false;
            }
            let rest = &self.buf[self.searched..];
            let Some(i) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.searched = self.buf.len();
                if self.event_bytes + (self.buf.len() - self.line_start) > self.max_event_bytes {
                    return Parsed::Event(Err(self.too_long()));
                }
                return Parsed::NeedMore;
            };
            let end = self.searched + i;
            self.after_cr = self.buf[end] == b'\r';
            let (start, next) = (self.line_start, end + 1);
            self.line_start = next;
            self.searched = next;
            self.event_bytes += end - start + 1;
            if self.event_bytes > self.max_event_bytes {
                return Parsed::Event(Err(self.too_long()));
            }
            if start == end {
                // A blank line ends the event.
                self.event_bytes = 0;
                if !std::mem::take(&mut self.has_data) {
                    continue;
                }
                let data = std::mem::take(&mut self.data);
                return Parsed::Event(dispatch(&data));
            }
            let line = &self.buf[start..end];
            // `data: x`, `data:x` and a bare `data` (empty); other fields and comments
            // (lines starting with `:`) are skipped.
            let value = match line.strip_prefix(b"data") {
                Some([]) => Some(&[][..]),
                Some([b':', b' ', v @ ..]) | Some([b':', v @ ..]) => Some(v),
                _ => None,
            };
            if let Some(v) = value {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(v);
                self.has_data = true;
            }
        }
    }

    /// Whether the stream may end here: nothing received beyond complete events but
    /// white space.
    pub(crate) fn at_boundary(&self) -> bool {
        !self.has_data && self.buf[self.line_start..].iter().all(u8::is_ascii_whitespace)
    }
}

fn dispatch(data: &[u8]) -> Result<Event, LlmError> {
    if data.trim_ascii() == b"[DONE]" {
        return Ok(Event::Done);
    }
    let parsed = match std::str::from_utf8(data) {
        Ok(text) => serde_json::from_str::<Value>(text),
        Err(_) => serde_json::from_str::<Value>(&String::from_utf8_lossy(data)),
    };
    parsed.map(Event::Data).map_err(|e| LlmError::BadResponse(format!("an event is not JSON: {e}")))
}

struct State {
    bytes: BoxStream<'static, Result<Bytes, LlmError>>,
    parser: Parser,
    deadline: Option<tokio::time::Instant>,
    finished: bool,
}

/// The events of `bytes`; see the module's documentation.
pub(crate) fn events(
    bytes: BoxStream<'static, Result<Bytes, LlmError>>,
    max_event_bytes: usize,
    deadline: Option<tokio::time::Instant>,
) -> EventStream {
    let state = State { bytes, parser: Parser::new(max_event_bytes), deadline, finished: false };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.finished {
            return None;
        }
        loop {
            if let Parsed::Event(ev) = st.parser.next_event() {
                st.finished = matches!(ev, Ok(Event::Done) | Err(_));
                return Some((ev, st));
            }
            let next = match st.deadline {
                Some(d) => match tokio::time::timeout_at(d, st.bytes.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        st.finished = true;
                        return Some((Err(LlmError::Timeout), st));
                    }
                },
                None => st.bytes.next().await,
            };
            match next {
                Some(Ok(chunk)) => st.parser.feed(&chunk),
                Some(Err(e)) => {
                    st.finished = true;
                    return Some((Err(e), st));
                }
                None if st.parser.at_boundary() => return None,
                None => {
                    st.finished = true;
                    let e = LlmError::BadResponse("the stream ended in the middle of an event".into());
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}
