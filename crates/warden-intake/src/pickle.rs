//! A pickle opcode walker. It simulates the stack only as far as needed to know which
//! callables a pickle would import and call, and never builds any object.
//!
//! The walker follows CPython's unpickler (`pickle.py` and `_pickle.c`, protocols 0-5)
//! in one important way: it never refuses a stream that CPython would accept. Where
//! the two implementations differ, it accepts what either accepts. It refuses (with an
//! error) only what both refuse, so an error here means CPython would also have stopped
//! there, and every import before that point is still reported ([`walk_partial`]).
//!
//! Every opcode that can import or call is tracked:
//! - imports: `GLOBAL`, `STACK_GLOBAL` (names resolved through the stack and the memo:
//!   `MEMOIZE`, `PUT`, `BINPUT`, `LONG_BINPUT`, `GET`, `BINGET`, `LONG_BINGET`), `INST`,
//!   and `EXT1`/`EXT2`/`EXT4` (the copyreg extension registry, which imports by number);
//! - calls: `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST`, and `BUILD` (which calls
//!   `__setstate__` or sets attributes). A call whose callable is not a resolved import,
//!   and a `BUILD` applied directly to an imported object, are reported.

use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

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

impl Import {
    /// Whether module and name look like what Python code can name: dotted identifiers.
    /// Used to tell a real import from bytes that happen to parse as one.
    pub fn plausible(&self) -> bool {
        dotted_identifier(&self.module) && dotted_identifier(&self.name)
    }
}

/// `a.b.c` where each part is a Python identifier.
pub fn dotted_identifier(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(identifier)
}

/// A Python identifier (letters, digits and `_`, not starting with a digit).
pub fn identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum PickleError {
    #[error("not a pickle: unknown opcode 0x{opcode:02x} at byte {at}")]
    UnknownOpcode { opcode: u8, at: u64 },
    #[error("truncated pickle at byte {0}")]
    Truncated(u64),
    #[error("pickle exceeds the {0}-byte limit")]
    TooLarge(u64),
    #[error("pickle nests deeper than {0} levels (the mark limit)")]
    TooDeep(usize),
    #[error("pickle stack holds more than {0} items (the stack limit)")]
    StackTooLarge(usize),
    #[error("pickle memo holds more than {0} entries (the memo limit)")]
    MemoTooLarge(usize),
    #[error("pickle memo holds more than {0} bytes of strings (the memo size limit)")]
    MemoBytes(u64),
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
    /// Marks open at once (nesting).
    pub max_depth: usize,
    pub max_ops: u64,
    /// Items on the stack at once.
    pub max_stack: usize,
    /// Memo entries.
    pub max_memo: usize,
    /// Bytes of strings kept in the memo.
    pub max_memo_bytes: u64,
}

impl Default for PickleLimits {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 30,
            max_depth: 10_000,
            max_ops: 50_000_000,
            max_stack: 1_000_000,
            max_memo: 4_000_000,
            max_memo_bytes: 256 << 20,
        }
    }
}

/// What the symbolic stack holds.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(Rc<str>),
    Global(Rc<Import>),
    Other,
}

/// A memo key: pickle.py accepts any integer from the text `PUT`/`GET` opcodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Small(u64),
    Big(String),
}

struct Reader<R> {
    inner: R,
    pos: u64,
    max: u64,
}

/// Strings longer than this are data, not module names; they are skipped (and an
/// import built from one counts as unresolved).
const MAX_NAME: u64 = 4096;

/// The highest protocol CPython reads.
const HIGHEST_PROTOCOL: u8 = 5;

impl<R: Read> Reader<R> {
    fn byte(&mut self) -> Result<Option<u8>, PickleError> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    if self.pos > self.max {
                        return Err(PickleError::TooLarge(self.max));
                    }
                    let [x] = b;
                    return Ok(Some(x));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(PickleError::Io(e.to_string())),
            }
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

    /// A line without its `\n`; bytes past [`MAX_NAME`] are read but not kept.
    /// `Err(Truncated)` at the end of input; `Ok((line, false))` only with `allow_eof`.
    fn line_or_eof(&mut self) -> Result<(Vec<u8>, bool), PickleError> {
        let mut out = Vec::new();
        loop {
            let Some(b) = self.byte()? else { return Ok((out, false)) };
            if b == b'\n' {
                return Ok((out, true));
            }
            if (out.len() as u64) < MAX_NAME {
                out.push(b);
            }
        }
    }

    fn line(&mut self) -> Result<Vec<u8>, PickleError> {
        match self.line_or_eof()? {
            (l, true) => Ok(l),
            (_, false) => Err(PickleError::Truncated(self.pos)),
        }
    }

    /// Reads `n` bytes: returned when short, skipped otherwise.
    fn payload(&mut self, n: u64) -> Result<Option<Vec<u8>>, PickleError> {
        if self.pos.saturating_add(n) > self.max {
            return Err(PickleError::TooLarge(self.max));
        }
        if n <= MAX_NAME {
            let mut buf = Vec::with_capacity(n as usize);
            let got = (&mut self.inner).take(n).read_to_end(&mut buf).map_err(|e| PickleError::Io(e.to_string()))?;
            self.pos += got as u64;
            if (got as u64) < n {
                return Err(PickleError::Truncated(self.pos));
            }
            return Ok(Some(buf));
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

/// Every import the pickle would perform, in order, plus what else it calls that
/// cannot be checked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Walk {
    pub imports: Vec<Import>,
    /// Codes looked up in the `copyreg` extension registry (`EXT1`/`EXT2`/`EXT4`), which
    /// imports whatever the loading process registered under that number.
    pub extension_codes: Vec<u32>,
    /// Imports (`STACK_GLOBAL`) whose module or name could not be resolved to constants.
    pub unresolved: usize,
    /// Calls (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`) on something that is not a
    /// resolved import: the callable was computed, so what runs cannot be checked.
    pub unresolved_calls: usize,
    /// Imported objects modified in place by `BUILD` (attributes set on a class or
    /// function, rather than on an instance the pickle built).
    pub builds_on_imports: Vec<Import>,
    /// Opcodes that call something: REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST, BUILD.
    pub calls: u64,
    pub protocol: u8,
    /// Bytes read, up to and including `STOP` (or up to the error).
    pub bytes: u64,
    pub opcodes: u64,
}

impl Walk {
    /// Whether the walk met anything that imports or cannot be resolved.
    pub fn imports_anything(&self) -> bool {
        !self.imports.is_empty() || !self.extension_codes.is_empty() || self.unresolved > 0
    }
}

/// Walks one pickle up to its STOP opcode.
pub fn walk<R: Read>(input: R, limits: PickleLimits) -> Result<Walk, PickleError> {
    match walk_partial(input, limits) {
        (w, None) => Ok(w),
        (_, Some(e)) => Err(e),
    }
}

/// Walks one pickle up to its STOP opcode, and also returns what was found before an
/// error: CPython runs every opcode before the one that fails, so an import found
/// before a parse error is as real as one in a well-formed pickle.
pub fn walk_partial<R: Read>(input: R, limits: PickleLimits) -> (Walk, Option<PickleError>) {
    let mut m = Machine {
        r: Reader { inner: input, pos: 0, max: limits.max_bytes },
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        memo_bytes: 0,
        out: Walk::default(),
        limits,
    };
    let err = m.run().err();
    m.out.bytes = m.r.pos;
    (m.out, err)
}

struct Machine<R> {
    r: Reader<R>,
    stack: Vec<V>,
    /// Stack lengths at each open MARK (the "fence" is the last one).
    marks: Vec<usize>,
    memo: HashMap<Key, V>,
    memo_bytes: u64,
    out: Walk,
    limits: PickleLimits,
}

impl<R: Read> Machine<R> {
    fn malformed(&self, at: u64, what: &'static str) -> PickleError {
        PickleError::Malformed { at, what }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: V) -> Result<(), PickleError> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(PickleError::StackTooLarge(self.limits.max_stack));
        }
        self.stack.push(v);
        Ok(())
    }

    /// Pops above the last mark, as CPython does ("unpickling stack underflow").
    fn pop(&mut self, at: u64) -> Result<V, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(self.malformed(at, "stack underflow"));
        }
        self.stack.pop().ok_or(PickleError::Malformed { at, what: "stack underflow" })
    }

    fn top(&self, at: u64) -> Result<V, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(self.malformed(at, "stack underflow"));
        }
        self.stack.last().cloned().ok_or(PickleError::Malformed { at, what: "stack underflow" })
    }

    /// Removes everything down to the last mark, and the mark; returns the items.
    fn pop_mark(&mut self, at: u64) -> Result<Vec<V>, PickleError> {
        let m = self.marks.pop().ok_or(PickleError::Malformed { at, what: "no mark on the stack" })?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn memo_put(&mut self, key: Key, at: u64) -> Result<(), PickleError> {
        let v = self.top(at)?;
        if let V::Str(s) = &v {
            self.memo_bytes = self.memo_bytes.saturating_add(s.len() as u64);
            if self.memo_bytes > self.limits.max_memo_bytes {
                return Err(PickleError::MemoBytes(self.limits.max_memo_bytes));
            }
        }
        self.memo.insert(key, v);
        if self.memo.len() > self.limits.max_memo {
            return Err(PickleError::MemoTooLarge(self.limits.max_memo));
        }
        Ok(())
    }

    fn memo_get(&mut self, key: &Key, at: u64) -> Result<(), PickleError> {
        let v = self.memo.get(key).cloned().ok_or(PickleError::Malformed { at, what: "memo value not found" })?;
        self.push(v)
    }

    fn import(&mut self, imp: Import) -> Rc<Import> {
        self.out.imports.push(imp.clone());
        Rc::new(imp)
    }

    /// The module and name lines of GLOBAL and INST. Both CPython implementations
    /// refuse a module line that is empty or not UTF-8 before importing anything; an
    /// empty or unterminated name line fails only after pickle.py imported the module.
    fn import_lines(&mut self, at: u64) -> Result<Import, PickleError> {
        let module = self.r.line()?;
        let module = String::from_utf8(module).map_err(|_| self.malformed(at, "module name is not UTF-8"))?;
        if module.is_empty() {
            return Err(self.malformed(at, "empty module name"));
        }
        let (name, complete) = self.r.line_or_eof()?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if !complete {
            self.import(Import { module, name });
            return Err(PickleError::Truncated(self.r.pos));
        }
        Ok(Import { module, name })
    }

    /// A call of `callable`: checked only when it is a resolved import.
    fn call(&mut self, callable: &V) {
        self.out.calls += 1;
        if !matches!(callable, V::Global(_)) {
            self.out.unresolved_calls += 1;
        }
    }

    fn run(&mut self) -> Result<(), PickleError> {
        loop {
            let at = self.r.pos;
            let Some(op) = self.r.byte()? else {
                return Err(PickleError::Truncated(self.r.pos));
            };
            self.out.opcodes += 1;
            if self.out.opcodes > self.limits.max_ops {
                return Err(PickleError::TooManyOps(self.limits.max_ops));
            }
            if self.marks.len() > self.limits.max_depth {
                return Err(PickleError::TooDeep(self.limits.max_depth));
            }
            if self.step(op, at)? {
                return Ok(());
            }
        }
    }

    /// Runs one opcode; `Ok(true)` at STOP.
    fn step(&mut self, op: u8, at: u64) -> Result<bool, PickleError> {
        match op {
            // STOP: the unpickler pops the result, so the stack must not be empty.
            b'.' => {
                self.pop(at)?;
                return Ok(true);
            }
            // MARK
            b'(' => {
                if self.marks.len() >= self.limits.max_depth {
                    return Err(PickleError::TooDeep(self.limits.max_depth));
                }
                self.marks.push(self.stack.len());
            }
            // POP: pops a mark when the stack is empty above it.
            b'0' => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop(at)?;
                }
            }
            // POP_MARK
            b'1' => {
                self.pop_mark(at)?;
            }
            // DUP
            b'2' => {
                let v = self.top(at)?;
                self.push(v)?;
            }
            // INT, LONG, FLOAT: a number on a line.
            b'I' | b'L' => {
                let l = self.r.line()?;
                if !int_line(&l, op == b'L') {
                    return Err(self.malformed(at, "INT/LONG argument is not an integer"));
                }
                self.push(V::Other)?;
            }
            b'F' => {
                let l = self.r.line()?;
                if !float_line(&l) {
                    return Err(self.malformed(at, "FLOAT argument is not a number"));
                }
                self.push(V::Other)?;
            }
            // STRING: a quoted, escaped byte string (decoded to str by Python 3).
            b'S' => {
                let l = self.r.line()?;
                let s = string_line(&l).ok_or(PickleError::Malformed { at, what: "STRING argument is not quoted" })?;
                self.push(V::Str(s.into()))?;
            }
            // UNICODE: raw-unicode-escape text.
            b'V' => {
                let l = self.r.line()?;
                self.push(V::Str(raw_unicode_escape(&l).into()))?;
            }
            // PERSID: an ASCII id handed to persistent_load.
            b'P' => {
                let l = self.r.line()?;
                if !l.is_ascii() {
                    return Err(self.malformed(at, "PERSID argument is not ASCII"));
                }
                self.push(V::Other)?;
            }
            // BINPERSID
            b'Q' => {
                self.pop(at)?;
                self.push(V::Other)?;
            }
            // Fixed-size constants: BININT, BININT1, BININT2, BINFLOAT.
            b'J' => {
                self.r.exact::<4>()?;
                self.push(V::Other)?;
            }
            b'K' => {
                self.r.exact::<1>()?;
                self.push(V::Other)?;
            }
            b'M' => {
                self.r.exact::<2>()?;
                self.push(V::Other)?;
            }
            b'G' => {
                self.r.exact::<8>()?;
                self.push(V::Other)?;
            }
            // NONE, NEWTRUE, NEWFALSE, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, EMPTY_SET,
            // NEXT_BUFFER.
            b'N' | 0x88 | 0x89 | b'}' | b']' | b')' | 0x8f | 0x97 => self.push(V::Other)?,
            // READONLY_BUFFER
            0x98 => {
                self.top(at)?;
            }
            // BINSTRING (signed length), SHORT_BINSTRING: str in Python 3.
            b'T' => {
                let n = i32::from_le_bytes(self.r.exact::<4>()?);
                let n = u64::try_from(n).map_err(|_| self.malformed(at, "BINSTRING has a negative length"))?;
                let s = self.r.payload(n)?;
                self.push_text(s)?;
            }
            b'U' => {
                let n = self.r.need()?;
                let s = self.r.payload(u64::from(n))?;
                self.push_text(s)?;
            }
            // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8: UTF-8 str.
            b'X' => {
                let n = u32::from_le_bytes(self.r.exact::<4>()?);
                let s = self.r.payload(u64::from(n))?;
                self.push_text(s)?;
            }
            0x8c => {
                let n = self.r.need()?;
                let s = self.r.payload(u64::from(n))?;
                self.push_text(s)?;
            }
            0x8d => {
                let n = u64::from_le_bytes(self.r.exact::<8>()?);
                let s = self.r.payload(n)?;
                self.push_text(s)?;
            }
            // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8: bytes, not names.
            b'B' => {
                let n = u32::from_le_bytes(self.r.exact::<4>()?);
                self.r.payload(u64::from(n))?;
                self.push(V::Other)?;
            }
            b'C' => {
                let n = self.r.need()?;
                self.r.payload(u64::from(n))?;
                self.push(V::Other)?;
            }
            0x8e | 0x96 => {
                let n = u64::from_le_bytes(self.r.exact::<8>()?);
                self.r.payload(n)?;
                self.push(V::Other)?;
            }
            // LONG1, LONG4 (signed length).
            0x8a => {
                let n = self.r.need()?;
                self.r.payload(u64::from(n))?;
                self.push(V::Other)?;
            }
            0x8b => {
                let n = i32::from_le_bytes(self.r.exact::<4>()?);
                let n = u64::try_from(n).map_err(|_| self.malformed(at, "LONG4 has a negative length"))?;
                self.r.payload(n)?;
                self.push(V::Other)?;
            }
            // DICT, LIST, TUPLE, FROZENSET: built from the items above a mark.
            b'd' | b'l' | b't' | 0x91 => {
                self.pop_mark(at)?;
                self.push(V::Other)?;
            }
            // APPEND, SETITEM: add to the container below.
            b'a' => {
                self.pop(at)?;
                self.top(at)?;
            }
            b's' => {
                self.pop(at)?;
                self.pop(at)?;
                self.top(at)?;
            }
            // APPENDS, SETITEMS, ADDITEMS
            b'e' | b'u' | 0x90 => {
                self.pop_mark(at)?;
                self.top(at)?;
            }
            // TUPLE1, TUPLE2, TUPLE3
            0x85..=0x87 => {
                for _ in 0..(op - 0x84) {
                    self.pop(at)?;
                }
                self.push(V::Other)?;
            }
            // GLOBAL
            b'c' => {
                let imp = self.import_lines(at)?;
                let g = self.import(imp);
                self.push(V::Global(g))?;
            }
            // INST: import and call with the items above the mark.
            b'i' => {
                let imp = self.import_lines(at)?;
                self.import(imp);
                self.out.calls += 1;
                self.pop_mark(at)?;
                self.push(V::Other)?;
            }
            // STACK_GLOBAL: module and name are the two strings on the stack.
            0x93 => {
                let name = self.pop(at)?;
                let module = self.pop(at)?;
                match (module, name) {
                    (V::Str(module), V::Str(name)) => {
                        let g = self.import(Import { module: module.to_string(), name: name.to_string() });
                        self.push(V::Global(g))?;
                    }
                    _ => {
                        self.out.unresolved += 1;
                        self.push(V::Other)?;
                    }
                }
            }
            // EXT1, EXT2, EXT4
            0x82 => {
                let code = u32::from(self.r.need()?);
                self.extension(code)?;
            }
            0x83 => {
                let code = u32::from(u16::from_le_bytes(self.r.exact::<2>()?));
                self.extension(code)?;
            }
            0x84 => {
                let code = u32::from_le_bytes(self.r.exact::<4>()?);
                self.extension(code)?;
            }
            // REDUCE: callable(*args); NEWOBJ: cls.__new__(cls, *args).
            b'R' | 0x81 => {
                self.pop(at)?;
                let callable = self.pop(at)?;
                self.call(&callable);
                self.push(V::Other)?;
            }
            // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs).
            0x92 => {
                self.pop(at)?;
                self.pop(at)?;
                let cls = self.pop(at)?;
                self.call(&cls);
                self.push(V::Other)?;
            }
            // OBJ: the first item above the mark is the class.
            b'o' => {
                let items = self.pop_mark(at)?;
                let cls = items.into_iter().next().ok_or(PickleError::Malformed { at, what: "OBJ without a class" })?;
                self.call(&cls);
                self.push(V::Other)?;
            }
            // BUILD: obj.__setstate__(state), or attributes set from the state.
            b'b' => {
                self.out.calls += 1;
                self.pop(at)?;
                if let V::Global(g) = self.top(at)? {
                    self.out.builds_on_imports.push(Import::clone(&g));
                }
            }
            // PUT, BINPUT, LONG_BINPUT, MEMOIZE
            b'p' => {
                let l = self.r.line()?;
                let key = memo_key(&l).ok_or(PickleError::Malformed { at, what: "bad PUT index" })?;
                self.memo_put(key, at)?;
            }
            b'q' => {
                let k = u64::from(self.r.need()?);
                self.memo_put(Key::Small(k), at)?;
            }
            b'r' => {
                let k = u64::from(u32::from_le_bytes(self.r.exact::<4>()?));
                self.memo_put(Key::Small(k), at)?;
            }
            0x94 => {
                let k = self.memo.len() as u64;
                self.memo_put(Key::Small(k), at)?;
            }
            // GET, BINGET, LONG_BINGET
            b'g' => {
                let l = self.r.line()?;
                let key = memo_key(&l).ok_or(PickleError::Malformed { at, what: "bad GET index" })?;
                self.memo_get(&key, at)?;
            }
            b'h' => {
                let k = u64::from(self.r.need()?);
                self.memo_get(&Key::Small(k), at)?;
            }
            b'j' => {
                let k = u64::from(u32::from_le_bytes(self.r.exact::<4>()?));
                self.memo_get(&Key::Small(k), at)?;
            }
            // PROTO (anywhere in the stream), FRAME.
            0x80 => {
                let p = self.r.need()?;
                if p > HIGHEST_PROTOCOL {
                    return Err(self.malformed(at, "unsupported pickle protocol"));
                }
                self.out.protocol = p;
            }
            0x95 => {
                self.r.exact::<8>()?;
            }
            other => return Err(PickleError::UnknownOpcode { opcode: other, at }),
        }
        Ok(false)
    }

    fn push_text(&mut self, s: Option<Vec<u8>>) -> Result<(), PickleError> {
        let v = match s {
            Some(b) => V::Str(String::from_utf8_lossy(&b).into()),
            None => V::Other,
        };
        self.push(v)
    }

    fn extension(&mut self, code: u32) -> Result<(), PickleError> {
        self.out.extension_codes.push(code);
        self.push(V::Other)
    }
}

/// Cuts a line at a NUL (where `_pickle.c`'s C string parsing stops) and trims ASCII
/// whitespace.
fn number_text(l: &[u8]) -> &[u8] {
    let l = l.split(|b| *b == 0).next().unwrap_or(&[]);
    l.trim_ascii()
}

/// What `int(x, 0)` or C `strtol` might accept (a superset: never refuse what CPython
/// accepts).
fn int_line(l: &[u8], long: bool) -> bool {
    let mut t = number_text(l);
    if long {
        t = t.strip_suffix(b"L").unwrap_or(t);
    }
    let t = t.strip_prefix(b"+").or_else(|| t.strip_prefix(b"-")).unwrap_or(t);
    !t.is_empty() && t.iter().all(|b| b.is_ascii_hexdigit() || b"xXoObB_".contains(b))
}

/// What Python's `float()` might accept (a superset).
fn float_line(l: &[u8]) -> bool {
    let t = number_text(l);
    let t = t.strip_prefix(b"+").or_else(|| t.strip_prefix(b"-")).unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    matches!(lower.as_slice(), b"inf" | b"infinity" | b"nan")
        || (!t.is_empty() && t.iter().all(|b| b.is_ascii_digit() || b"eE+-._".contains(b)))
}

/// A memo index from a text PUT/GET line: a non-negative integer (any size).
fn memo_key(l: &[u8]) -> Option<Key> {
    let t = number_text(l);
    let t = t.strip_prefix(b"+").unwrap_or(t);
    let digits: Vec<u8> = t.iter().copied().filter(|b| *b != b'_').collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let start = digits.iter().position(|b| *b != b'0').unwrap_or(digits.len());
    let d = String::from_utf8_lossy(digits.get(start..).unwrap_or(&[])).into_owned();
    if d.is_empty() {
        return Some(Key::Small(0));
    }
    Some(d.parse::<u64>().map(Key::Small).unwrap_or(Key::Big(d)))
}

/// The STRING opcode's argument: quoted (both CPython implementations refuse it
/// otherwise), with Python's byte-string escapes decoded.
fn string_line(l: &[u8]) -> Option<String> {
    let (&first, rest) = l.split_first()?;
    let (&last, inner) = rest.split_last()?;
    if first != last || !(first == b'\'' || first == b'"') {
        return None;
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.iter().copied().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(e) = it.next() else {
            out.push(b'\\');
            break;
        };
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match it.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            it.next();
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hi = it.next().and_then(|c| (c as char).to_digit(16));
                let lo = it.next().and_then(|c| (c as char).to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    // Python refuses this; keep something that is no valid name.
                    _ => out.extend_from_slice(b"\\x"),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    // Python 3 decodes with the unpickler's encoding (ASCII by default, often latin-1).
    Some(out.iter().map(|b| char::from(*b)).collect())
}

/// Python's `raw-unicode-escape` codec: bytes are Latin-1 except `\uXXXX` and
/// `\UXXXXXXXX`.
fn raw_unicode_escape(l: &[u8]) -> String {
    let mut out = String::with_capacity(l.len());
    let mut i = 0;
    while let Some(&b) = l.get(i) {
        if b == b'\\' {
            let width = match l.get(i + 1) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            if width > 0 {
                let hex = l.get(i + 2..i + 2 + width).and_then(|h| std::str::from_utf8(h).ok());
                if let Some(c) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) {
                    out.push(c);
                    i += 2 + width;
                    continue;
                }
            }
        }
        out.push(char::from(b));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_escapes_decode_like_python() {
        assert_eq!(string_line(b"'o\\x73'").as_deref(), Some("os"));
        assert_eq!(string_line(b"\"sy\\163tem\"").as_deref(), Some("system"));
        assert_eq!(string_line(b"'a"), None);
        assert_eq!(string_line(b"a"), None);
        assert_eq!(raw_unicode_escape(b"\\u006fs"), "os");
        assert_eq!(raw_unicode_escape(b"\\U00000073ys"), "sys");
    }

    #[test]
    fn numbers_accept_what_python_accepts() {
        for ok in [&b"1"[..], b" -12 ", b"0x1f", b"1_000", b"00", b"01", b"5\0junk"] {
            assert!(int_line(ok, false), "{ok:?}");
        }
        assert!(int_line(b"12L", true));
        for bad in [&b""[..], b"Introduction", b"1 2", b"one"] {
            assert!(!int_line(bad, false), "{bad:?}");
        }
        assert!(float_line(b"1.5e-3") && float_line(b"-inf") && float_line(b"nan"));
        assert!(!float_line(b"rom here"));
        assert_eq!(memo_key(b"007"), Some(Key::Small(7)));
        assert_eq!(memo_key(b"99999999999999999999999"), Some(Key::Big("99999999999999999999999".into())));
        assert_eq!(memo_key(b"-1"), None);
    }

    #[test]
    fn python_identifiers() {
        assert!(dotted_identifier("torch._utils") && identifier("_rebuild_tensor_v2"));
        assert!(!dotted_identifier("a b") && !dotted_identifier("a..b") && !identifier("1x") && !identifier(""));
    }
}
