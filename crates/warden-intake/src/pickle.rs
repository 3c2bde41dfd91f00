//! A pickle opcode walker. It simulates the stack only as far as needed to know which
//! callables a pickle would import, and never builds any object.

use std::collections::HashMap;
use std::io::Read;

/// An import a pickle performs: `module.name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Import {
    pub module: String,
    pub name: String,
}

impl std::fmt::Display for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PickleError {
    #[error("not a pickle: unknown opcode 0x{opcode:02x} at byte {at}")]
    UnknownOpcode { opcode: u8, at: u64 },
    #[error("truncated pickle at byte {0}")]
    Truncated(u64),
    #[error("pickle exceeds the {0}-byte limit")]
    TooLarge(u64),
    #[error("pickle nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("pickle has more than {0} opcodes")]
    TooManyOps(u64),
    #[error("malformed pickle at byte {at}: {what}")]
    Malformed { at: u64, what: &'static str },
    #[error("read error: {0}")]
    Io(String),
}

/// Limits for one pickle.
#[derive(Debug, Clone, Copy)]
pub struct PickleLimits {
    pub max_bytes: u64,
    pub max_depth: usize,
    pub max_ops: u64,
}

impl Default for PickleLimits {
    fn default() -> Self {
        Self { max_bytes: 4 << 30, max_depth: 10_000, max_ops: 50_000_000 }
    }
}

/// What the symbolic stack holds.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Mark,
    Str(String),
    Global(Import),
    Other,
}

struct Reader<R> {
    inner: R,
    pos: u64,
    max: u64,
}

/// Strings longer than this are data, not module names; they are skipped.
const MAX_NAME: u64 = 4096;

impl<R: Read> Reader<R> {
    fn byte(&mut self) -> Result<Option<u8>, PickleError> {
        let mut b = [0u8; 1];
        match self.inner.read(&mut b) {
            Ok(0) => Ok(None),
            Ok(_) => {
                self.pos += 1;
                if self.pos > self.max {
                    return Err(PickleError::TooLarge(self.max));
                }
                Ok(Some(b[0]))
            }
            Err(e) => Err(PickleError::Io(e.to_string())),
        }
    }

    fn need(&mut self) -> Result<u8, PickleError> {
        self.byte()?.ok_or(PickleError::Truncated(self.pos))
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut b = [0u8; N];
        for x in &mut b {
            *x = self.need()?;
        }
        Ok(b)
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let mut out = Vec::new();
        loop {
            let b = self.need()?;
            if b == b'\n' {
                break;
            }
            if (out.len() as u64) < MAX_NAME {
                out.push(b);
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Reads `n` bytes: returned as text when short, skipped otherwise.
    fn payload(&mut self, n: u64) -> Result<Option<String>, PickleError> {
        if self.pos.saturating_add(n) > self.max {
            return Err(PickleError::TooLarge(self.max));
        }
        if n <= MAX_NAME {
            let mut buf = vec![0u8; n as usize];
            self.inner.read_exact(&mut buf).map_err(|_| PickleError::Truncated(self.pos))?;
            self.pos += n;
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        let copied = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())
            .map_err(|e| PickleError::Io(e.to_string()))?;
        self.pos += copied;
        if copied < n {
            return Err(PickleError::Truncated(self.pos));
        }
        Ok(None)
    }
}

/// Every import the pickle would perform, in order, plus whether it used the
/// `copyreg` extension registry (which imports by number).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Walk {
    pub imports: Vec<Import>,
    pub extension_codes: Vec<u32>,
    /// Imports whose module or name could not be resolved to constants.
    pub unresolved: usize,
    pub protocol: u8,
    pub bytes: u64,
}

/// Walks one pickle up to its STOP opcode.
pub fn walk<R: Read>(input: R, limits: PickleLimits) -> Result<Walk, PickleError> {
    let mut r = Reader { inner: input, pos: 0, max: limits.max_bytes };
    let mut stack: Vec<V> = Vec::new();
    let mut memo: HashMap<u64, V> = HashMap::new();
    let mut out = Walk::default();
    let mut ops = 0u64;
    let mut marks = 0usize;
    macro_rules! pop {
        () => {
            stack.pop().ok_or(PickleError::Malformed { at: r.pos, what: "stack underflow" })?
        };
    }
    macro_rules! pop_mark {
        () => {{
            loop {
                match stack.pop() {
                    Some(V::Mark) => break,
                    Some(_) => {}
                    None => return Err(PickleError::Malformed { at: r.pos, what: "no mark on the stack" }),
                }
            }
            marks = marks.saturating_sub(1);
        }};
    }
    loop {
        let at = r.pos;
        let Some(op) = r.byte()? else {
            return Err(PickleError::Truncated(r.pos));
        };
        ops += 1;
        if ops > limits.max_ops {
            return Err(PickleError::TooManyOps(limits.max_ops));
        }
        if stack.len() > limits.max_depth * 4 || marks > limits.max_depth {
            return Err(PickleError::TooDeep(limits.max_depth));
        }
        match op {
            b'.' => break, // STOP
            b'(' => {
                stack.push(V::Mark);
                marks += 1;
            }
            b'0' => {
                pop!();
            }
            b'1' => pop_mark!(),
            b'2' => {
                let top = stack.last().cloned().ok_or(PickleError::Malformed { at, what: "DUP on empty stack" })?;
                stack.push(top);
            }
            // Constants read from a line.
            b'F' | b'I' | b'L' => {
                r.line()?;
                stack.push(V::Other);
            }
            b'S' | b'V' => {
                let s = r.line()?;
                let s = s.trim_matches(|c| c == '\'' || c == '"').to_string();
                stack.push(V::Str(s));
            }
            b'P' => {
                r.line()?;
                stack.push(V::Other);
            }
            b'Q' => {
                pop!();
                stack.push(V::Other);
            }
            // Fixed-size constants.
            b'J' => {
                r.exact::<4>()?;
                stack.push(V::Other);
            }
            b'K' => {
                r.exact::<1>()?;
                stack.push(V::Other);
            }
            b'M' => {
                r.exact::<2>()?;
                stack.push(V::Other);
            }
            b'G' => {
                r.exact::<8>()?;
                stack.push(V::Other);
            }
            b'N' | 0x88 | 0x89 | b'}' | b']' | b')' | 0x8f => stack.push(V::Other),
            // Length-prefixed strings and bytes.
            b'T' | b'X' | b'B' => {
                let n = u32::from_le_bytes(r.exact::<4>()?);
                let s = r.payload(u64::from(n))?;
                stack.push(if op == b'X' { s.map(V::Str).unwrap_or(V::Other) } else { V::Other });
            }
            b'U' | b'C' | 0x8c => {
                let n = r.need()?;
                let s = r.payload(u64::from(n))?;
                stack.push(if op == 0x8c { s.map(V::Str).unwrap_or(V::Other) } else { V::Other });
            }
            0x8d | 0x8e | 0x96 => {
                let n = u64::from_le_bytes(r.exact::<8>()?);
                let s = r.payload(n)?;
                stack.push(if op == 0x8d { s.map(V::Str).unwrap_or(V::Other) } else { V::Other });
            }
            0x8a => {
                let n = r.need()?;
                r.payload(u64::from(n))?;
                stack.push(V::Other);
            }
            0x8b => {
                let n = u32::from_le_bytes(r.exact::<4>()?);
                r.payload(u64::from(n))?;
                stack.push(V::Other);
            }
            // Containers built from a mark.
            b'd' | b'l' | b't' | 0x91 => {
                pop_mark!();
                stack.push(V::Other);
            }
            b'a' => {
                pop!();
            }
            b'e' | b'u' | 0x90 => pop_mark!(),
            b's' => {
                pop!();
                pop!();
            }
            b'b' => {
                pop!();
            }
            0x85 => {
                pop!();
                stack.push(V::Other);
            }
            0x86 => {
                pop!();
                pop!();
                stack.push(V::Other);
            }
            0x87 => {
                pop!();
                pop!();
                pop!();
                stack.push(V::Other);
            }
            // Imports.
            b'c' => {
                let module = r.line()?;
                let name = r.line()?;
                let imp = Import { module, name };
                out.imports.push(imp.clone());
                stack.push(V::Global(imp));
            }
            b'i' => {
                let module = r.line()?;
                let name = r.line()?;
                out.imports.push(Import { module, name });
                pop_mark!();
                stack.push(V::Other);
            }
            0x93 => {
                let name = pop!();
                let module = pop!();
                match (module, name) {
                    (V::Str(module), V::Str(name)) => {
                        let imp = Import { module, name };
                        out.imports.push(imp.clone());
                        stack.push(V::Global(imp));
                    }
                    _ => {
                        out.unresolved += 1;
                        stack.push(V::Other);
                    }
                }
            }
            0x82 => {
                out.extension_codes.push(u32::from(r.need()?));
                stack.push(V::Other);
            }
            0x83 => {
                out.extension_codes.push(u32::from(u16::from_le_bytes(r.exact::<2>()?)));
                stack.push(V::Other);
            }
            0x84 => {
                out.extension_codes.push(u32::from_le_bytes(r.exact::<4>()?));
                stack.push(V::Other);
            }
            // Calls.
            b'R' | 0x81 => {
                pop!();
                pop!();
                stack.push(V::Other);
            }
            0x92 => {
                pop!();
                pop!();
                pop!();
                stack.push(V::Other);
            }
            b'o' => {
                pop_mark!();
                stack.push(V::Other);
            }
            // Memo.
            b'p' => {
                let idx = r
                    .line()?
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| PickleError::Malformed { at, what: "bad PUT index" })?;
                memo.insert(idx, stack.last().cloned().unwrap_or(V::Other));
            }
            b'q' => {
                let idx = u64::from(r.need()?);
                memo.insert(idx, stack.last().cloned().unwrap_or(V::Other));
            }
            b'r' => {
                let idx = u64::from(u32::from_le_bytes(r.exact::<4>()?));
                memo.insert(idx, stack.last().cloned().unwrap_or(V::Other));
            }
            0x94 => {
                let idx = memo.len() as u64;
                memo.insert(idx, stack.last().cloned().unwrap_or(V::Other));
            }
            b'g' => {
                let idx = r
                    .line()?
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| PickleError::Malformed { at, what: "bad GET index" })?;
                stack.push(memo.get(&idx).cloned().unwrap_or(V::Other));
            }
            b'h' => {
                let idx = u64::from(r.need()?);
                stack.push(memo.get(&idx).cloned().unwrap_or(V::Other));
            }
            b'j' => {
                let idx = u64::from(u32::from_le_bytes(r.exact::<4>()?));
                stack.push(memo.get(&idx).cloned().unwrap_or(V::Other));
            }
            // Framing and protocol.
            0x80 => out.protocol = r.need()?,
            0x95 => {
                r.exact::<8>()?;
            }
            0x97 => stack.push(V::Other),
            0x98 => {}
            other => return Err(PickleError::UnknownOpcode { opcode: other, at }),
        }
    }
    out.bytes = r.pos;
    Ok(out)
}
