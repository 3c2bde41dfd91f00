//! The single pass over the text. Each trigger byte at the start of a token hands off
//! to a small recogniser, which returns where the token ended so the pass skips it.

use crate::{address, check, date, ids, names, phone, Confidence, Finding, Kind};

/// Bytes that belong to words: ASCII letters and digits, `_`, and every byte of a
/// non-ASCII character.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        i += 1;
    }
    t
};

#[inline]
fn is_word(b: u8) -> bool {
    WORD[usize::from(b)]
}

fn digit(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_digit)
}

/// Whether `i` starts a token: not inside a word, and not continuing one through
/// `-`, `.`, `/` or `:` (`ORD-8320`, `v1.2`, `J45.1`).
fn token_start(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = b[i - 1];
    if is_word(p) {
        return false;
    }
    if matches!(p, b'-' | b'.' | b'/' | b'#') && i >= 2 && is_word(b[i - 2]) {
        return false;
    }
    // `card:4111…`, `ip:10.0.0.1` start a value; `12:30`, `a:b:c` go on.
    if p == b':'
        && i >= 2
        && (b[i - 2].is_ascii_digit()
            || b[i - 2].is_ascii_hexdigit() && b[i].is_ascii_hexdigit() && !b[i].is_ascii_digit())
    {
        return false;
    }
    true
}

/// Whether a token ending at `end` really ends there.
fn token_end(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(&c) if is_word(c) => false,
        // `1.2.3.4.5`, `12-34-56-78`: the token goes on.
        Some(b'.' | b'-' | b'/' | b':') => {
            !digit(b.get(end + 1)) && !b.get(end + 1).is_some_and(|x| x.is_ascii_alphabetic())
        }
        _ => true,
    }
}

/// One pass over `text`: the findings, and where the words that could mention a name
/// start (capitalised words; every word in text written in lower case).
pub fn scan(text: &str) -> (Vec<Finding>, Vec<u32>) {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 48);
    let mut words: Vec<u32> = Vec::with_capacity(b.len() / 32);
    // Text with (almost) no capitals: names are looked for among lower-case words.
    let all_lower = {
        let allowed = b.len() / 200;
        let mut seen = 0;
        b.chunks(64).all(|c| {
            seen += c.iter().filter(|c| c.is_ascii_uppercase()).count();
            seen <= allowed
        })
    };
    let mut i = 0;
    // Whether the word before was a cue for a name (`dr`, `patient`, `name is`).
    let mut cue = false;
    // The kind of number the words before announced, and for how many words more.
    let mut pending_id: Option<(Kind, u8)> = None;
    // Where the next digit is (the text's length when there is none).
    let mut next_digit = 0;
    while i < b.len() {
        let c = b[i];
        if is_word(c) {
            let was_cue = std::mem::take(&mut cue);
            // A word: recognisers look at its first byte; then the pass skips it whole.
            let found = out.len();
            let mut next = if token_start(b, i) {
                match c {
                    b'0'..=b'9' => numeric(text, i, all_lower, &mut out),
                    b'A'..=b'Z' => {
                        // Streets, postcodes, dates and national numbers starting
                        // with a capital all have a digit soon after it.
                        if next_digit < i {
                            next_digit = memchr_digit(b, i);
                        }
                        upper(text, i, all_lower, next_digit - i, &mut out)
                    }
                    b'a'..=b'z' => {
                        if next_digit < i {
                            next_digit = memchr_digit(b, i);
                        }
                        lower(text, i, all_lower, was_cue, next_digit - i <= 40, &mut out)
                    }
                    0xC0..=0xFF if text[i..].chars().next().is_some_and(char::is_uppercase) => {
                        person(text, i, &mut out)
                    }
                    _ => None,
                }
            } else {
                None
            };
            // A number announced by the word before (`MRN 00482913`, `passport
            // C01X00T47`), when nothing else claimed it.
            // The cue outweighs a phone or a name guessed from the shape alone; a
            // value another recogniser is sure of (a date, a checksummed number)
            // ends the cue.
            if let Some((kind, left)) = pending_id {
                // A generic `ID` or `patient` does not outweigh a phone's shape.
                let weak = out[found..].iter().all(|f| {
                    matches!(f.kind, Kind::Person | Kind::Location) || f.kind == Kind::Phone && kind != Kind::Identifier
                });
                if weak && token_start(b, i) {
                    let end = match kind {
                        Kind::UkNhs => ids::nhs_at(b, i),
                        Kind::LicensePlate => ids::plate_at(b, i),
                        _ => ids::value_at(b, i),
                    };
                    if let Some(end) = end {
                        // A checksummed kind whose check fails is still someone's number.
                        let checked = matches!(kind, Kind::EsNif | Kind::PlPesel | Kind::FrNir | Kind::DeTaxId);
                        let kind = if checked && ids::checked_at(b, i).is_none_or(|(k, e)| k != kind || e != end)
                            || kind == Kind::UsSsn && !ids::ssn_shaped(&b[i..end])
                        {
                            Kind::Identifier
                        } else {
                            kind
                        };
                        out.truncate(found);
                        out.retain(|f| f.end <= i);
                        out.push(Finding { start: i, end, kind, confidence: Confidence::Medium });
                        next = Some(end);
                        pending_id = None;
                    }
                } else if out.len() > found {
                    pending_id = None;
                }
                if let Some((kind, _)) = pending_id {
                    pending_id = (left > 1).then_some((kind, left - 1));
                }
            }
            let at = i;
            i = match next {
                Some(n) if n > i => n,
                _ => {
                    let mut j = i + 1;
                    while j < b.len() && is_word(b[j]) {
                        j += 1;
                    }
                    j
                }
            };
            // Where words that may name someone start, for the mentions pass: this
            // one, and the capitalised words of a run read with it.
            let capital = |x: u8| x.is_ascii_uppercase() || x >= 0xC0;
            if capital(c) || all_lower && c.is_ascii_lowercase() {
                words.push(at as u32);
                for k in at + 1..i.min(b.len()) {
                    if b[k - 1] == b' ' && (capital(b[k]) || all_lower && b[k].is_ascii_lowercase()) {
                        words.push(k as u32);
                    }
                }
            }
            // Only short ASCII words can be cues; of a run of capitalised words
            // (`Member ID`, `NHS No`), the last that is one.
            let mut w_end = i;
            for _ in 0..3 {
                let mut w0 = w_end;
                while w0 > at && b[w0 - 1].is_ascii_alphabetic() {
                    w0 -= 1;
                }
                if !c.is_ascii_alphabetic() || w0 == w_end || w_end - w0 > 12 {
                    break;
                }
                let word = &text[w0..w_end];
                if w_end == i {
                    // `my name is maria`: the cue carries over `is`.
                    cue = names::is_cue(text, word, i) || was_cue && matches!(word, "is" | "am" | "was" | "IS" | "AM");
                }
                if let Some(kind) = ids::cue(word, || names::word_before(text, w0).to_string()) {
                    pending_id = Some((kind, 3));
                    break;
                }
                if w0 <= at + 1 || b[w0 - 1] != b' ' {
                    break;
                }
                w_end = w0 - 1;
            }
            continue;
        }
        let next = match c {
            b'@' => email(b, i, &mut out),
            b'+' | b'(' if token_start(b, i) => numeric(text, i, all_lower, &mut out),
            b'-' if b.get(i + 1) == Some(&b'-') && b[i..].starts_with(b"-----BEGIN ") => pem(text, i, &mut out),
            _ => None,
        };
        i = match next {
            Some(n) if n > i => n,
            _ => i + 1,
        };
    }
    // Recognisers may end inside a multi-byte character only by returning a char
    // boundary; everything above advances by whole words or ASCII bytes.
    (out, words)
}

fn push(out: &mut Vec<Finding>, start: usize, end: usize, kind: Kind) -> Option<usize> {
    push_at(out, start, end, kind, Confidence::of(kind))
}

fn push_at(out: &mut Vec<Finding>, start: usize, end: usize, kind: Kind, confidence: Confidence) -> Option<usize> {
    out.push(Finding { start, end, kind, confidence });
    Some(end)
}

// ---------------------------------------------------------------- e-mail

fn email(b: &[u8], at: usize, out: &mut Vec<Finding>) -> Option<usize> {
    let local = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'');
    let mut s = at;
    while s > 0 && local(b[s - 1]) {
        s -= 1;
    }
    while s < at && matches!(b[s], b'.' | b'-' | b'\'') {
        s += 1;
    }
    if s == at || (s > 0 && b[s - 1] >= 0x80) {
        return None;
    }
    // Domain: labels of letters, digits and `-`, at least two, the last alphabetic.
    let mut e = at + 1;
    let mut labels = 0;
    let mut last_alpha = false;
    loop {
        let ls = e;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'-') {
            e += 1;
        }
        if e == ls {
            break;
        }
        labels += 1;
        last_alpha = e - ls >= 2 && b[ls..e].iter().all(u8::is_ascii_alphabetic);
        if e + 1 < b.len() && b[e] == b'.' && b[e + 1].is_ascii_alphanumeric() {
            e += 1;
        } else {
            break;
        }
    }
    if labels < 2 || !last_alpha {
        return None;
    }
    // A trailing dot ends the sentence, not the address.
    push(out, s, e, Kind::Email)
}

// ---------------------------------------------------------------- URLs

/// `https://…`, `http://…`, `ftp://…`, `www.…` up to a space, a quote or an angle
/// bracket; a closing bracket or sentence punctuation at the end is not part of it.
fn url(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    let head = [&b"https://"[..], b"http://", b"ftp://", b"www."]
        .into_iter()
        .find(|h| rest.len() > h.len() && rest[..h.len()].eq_ignore_ascii_case(h))?;
    let mut e = i + head.len();
    let mut depth = 0i32;
    while e < b.len() && !b[e].is_ascii_whitespace() && !matches!(b[e], b'"' | b'\'' | b'<' | b'>' | b'`') {
        match b[e] {
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            _ => {}
        }
        e += 1;
    }
    while e > i + head.len() && matches!(b[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        e -= 1;
    }
    (e > i + head.len() + 2).then_some(e)
}

// ---------------------------------------------------------------- numbers

/// Groups of digits and their separators, starting at a digit, `+` or `(`.
struct Digits {
    groups: Small<(usize, usize)>,
    seps: Small<u8>,
    plus: bool,
    paren: bool,
    end: usize,
}

/// Up to 12 items on the stack (numbers are scanned constantly; no allocation).
struct Small<T: Copy + Default> {
    items: [T; 12],
    len: usize,
}

impl<T: Copy + Default> Small<T> {
    fn new() -> Self {
        Self { items: [T::default(); 12], len: 0 }
    }
    fn push(&mut self, x: T) {
        if self.len < 12 {
            self.items[self.len] = x;
            self.len += 1;
        }
    }
    fn len(&self) -> usize {
        self.len
    }
}

impl<T: Copy + Default> std::ops::Deref for Small<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items[..self.len]
    }
}

impl Digits {
    fn lens(&self) -> Small<usize> {
        let mut l = Small::new();
        for (s, e) in self.groups.iter() {
            l.push(e - s);
        }
        l
    }
    fn total(&self) -> usize {
        self.groups.iter().map(|(s, e)| e - s).sum()
    }
    fn same_sep(&self, allowed: &[u8]) -> bool {
        self.seps.first().is_some_and(|f| allowed.contains(f) && self.seps.iter().all(|s| s == f))
    }
    fn digits(&self, b: &[u8]) -> Vec<u8> {
        self.groups.iter().flat_map(|&(s, e)| b[s..e].iter().copied()).collect()
    }
    fn value(&self, b: &[u8], g: usize) -> u32 {
        let (s, e) = self.groups[g];
        b[s..e].iter().fold(0u32, |a, d| a.saturating_mul(10).saturating_add(u32::from(d - b'0')))
    }
}

fn digits_at(b: &[u8], i: usize) -> Option<Digits> {
    let mut j = i;
    let plus = b[j] == b'+';
    if plus {
        j += 1;
    }
    let paren = b.get(j) == Some(&b'(');
    if paren {
        j += 1;
    }
    if !digit(b.get(j)) {
        return None;
    }
    let mut d = Digits { groups: Small::new(), seps: Small::new(), plus, paren, end: j };
    loop {
        let gs = j;
        while digit(b.get(j)) {
            j += 1;
        }
        d.groups.push((gs, j));
        d.end = j;
        if d.groups.len() >= 12 || j - gs > 34 {
            break;
        }
        if paren && d.groups.len() == 1 {
            // `(646) 803-4557`
            if b.get(j) == Some(&b')') {
                j += 1;
                if b.get(j) == Some(&b' ') {
                    j += 1;
                }
                if digit(b.get(j)) {
                    d.seps.push(b')');
                    continue;
                }
            }
            return None;
        }
        match b.get(j) {
            Some(&s @ (b' ' | b'-' | b'.' | b'/')) if digit(b.get(j + 1)) => {
                d.seps.push(s);
                j += 1;
            }
            _ => break,
        }
    }
    Some(d)
}

fn numeric(text: &str, i: usize, all_lower: bool, out: &mut Vec<Finding>) -> Option<usize> {
    let b = text.as_bytes();
    // IPv6 may start with a digit: `2001:db8::1`, `4a21:2290:…` (the digits then run
    // into a colon or a hex letter).
    let mut run = i;
    while digit(b.get(run)) {
        run += 1;
    }
    if b.get(run).is_some_and(|&c| c == b':' || c.is_ascii_hexdigit()) {
        if let Some(end) = ipv6(b, i) {
            return push(out, i, end, Kind::IpAddress);
        }
    }
    // `aged 93`, `a 65-yr-old`
    if b[i].is_ascii_digit() && !digit(b.get(i + 3)) {
        if let Some(end) = ids::age_at(b, i) {
            return push(out, i, end, Kind::Age);
        }
    }
    if b[i].is_ascii_digit() {
        if let Some((kind, end)) = ids::checked_at(b, i) {
            return push(out, i, end, kind);
        }
        if let Some(end) = ids::imei_at(b, i) {
            return push(out, i, end, Kind::DeviceId);
        }
        if let Some(end) = address::at(b, i, all_lower) {
            return push(out, address::start_before(b, i), end, Kind::Location);
        }
    }
    if b[i].is_ascii_digit() && !(digit(b.get(i + 1)) && digit(b.get(i + 2))) {
        if let Some(end) = date::day_first(b, i) {
            return push(out, i, date::time_tail(b, end), date_kind(b, i));
        }
        if let Some(end) = date::time_at(b, i) {
            return push(out, i, end, Kind::Date);
        }
    }
    let Some(d) = digits_at(b, i) else {
        // `+44 (0)20 …`, `(020) 123 4567`: shapes only the phone recogniser reads.
        return phone_at(b, i).map_or(Some(i + 1), |(end, c)| push_at(out, i, end, Kind::Phone, c));
    };
    let skip = Some(d.end.max(i + 1));
    let start = i;
    // `10.0.0.1:5432`, `192.168.1.0/24`: an address with a port or a prefix length.
    let dotted4 = d.groups.len() >= 4 && d.seps[..3].iter().all(|&s| s == b'.');
    let tail = if d.groups.len() == 4 { b.get(d.end).copied() } else { d.seps.get(3).copied() };
    if !d.plus && !d.paren && dotted4 && matches!(tail, Some(b':' | b'/')) && d.groups.len() <= 5 {
        let ip_end = d.groups[3].1;
        let lens = d.lens();
        if lens[..4].iter().all(|&l| l <= 3) && (0..4).all(|g| d.value(b, g) <= 255) && digit(b.get(ip_end + 1)) {
            return push(out, start, ip_end, Kind::IpAddress);
        }
    }
    if !token_end(b, d.end) {
        // `2023-04-05T14:30:00Z`
        if matches!(b.get(d.end), Some(b'T' | b't')) {
            if let Some(end) = numeric_date(b, &d) {
                return push(out, start, end, date_kind(b, start));
            }
        }
        if let Some((end, c)) = phone_at(b, start) {
            return push_at(out, start, end, Kind::Phone, c);
        }
        // Try the longest clean prefix of groups instead (`… 4557.5` is rare; a
        // version or reference number goes on, so nothing is found).
        return skip_token(b, d.end);
    }
    let lens_small = d.lens();
    let lens: &[usize] = &lens_small;
    let n = d.groups.len();
    let total = d.total();
    let plain = !d.plus && !d.paren;

    // IPv4
    if plain && n == 4 && d.same_sep(b".") && lens.iter().all(|&l| l <= 3) && (0..4).all(|g| d.value(b, g) <= 255) {
        return push(out, start, d.end, Kind::IpAddress);
    }
    if let Some(end) = numeric_date(b, &d) {
        return push(out, start, end, date_kind(b, start));
    }
    // `03/2021`
    if plain
        && n == 2
        && lens[0] <= 2
        && lens[1] == 4
        && d.same_sep(b"/")
        && date::valid(d.value(b, 1), d.value(b, 0), 1)
    {
        return push(out, start, d.end, date_kind(b, start));
    }
    // US SSN: 3-2-4 in valid ranges.
    if plain && n == 3 && lens == [3, 2, 4] && d.same_sep(b"- ") {
        let (g0, g1, g2) = (d.groups[0], d.groups[1], d.groups[2]);
        if check::ssn(&b[g0.0..g0.1], &b[g1.0..g1.1], &b[g2.0..g2.1]) {
            return push(out, start, d.end, Kind::UsSsn);
        }
        if check::itin(&b[g0.0..g0.1], &b[g1.0..g1.1]) {
            return push(out, start, d.end, Kind::UsItin);
        }
    }
    // Payment cards: 12-19 digits, in one run or evenly grouped, Luhn and an issuer.
    if plain && (12..=19).contains(&total) {
        let grouped = n == 1
            || (d.same_sep(b" -")
                && (lens[..n - 1].iter().all(|&l| l == 4) && lens[n - 1] <= 4
                    || lens == [4, 6, 5]
                    || lens == [4, 6, 4]));
        let all = d.digits(b);
        if grouped && check::luhn(&all) && check::card_issuer(&all) {
            return push(out, start, d.end, Kind::CreditCard);
        }
    }
    if let Some((end, c)) = phone_at(b, start) {
        return push_at(out, start, end, Kind::Phone, c);
    }
    // `Unit 94 388 Evans Street`: the last group may be a house number.
    if n > 1 {
        let last = d.groups[n - 1].0;
        if let Some(end) = address::at(b, last, all_lower) {
            return push(out, address::start_before(b, last), end, Kind::Location);
        }
    }
    skip
}

/// Numeric dates: Y-M-D, M/D/Y, D.M.Y, D-M-Y, `5/4/23`, `06 05 1980`, with a time
/// after them (`T14:30:00Z`, ` 14:30`).
fn numeric_date(b: &[u8], d: &Digits) -> Option<usize> {
    if d.plus || d.paren || d.groups.len() < 3 || d.seps[0] != d.seps[1] {
        return None;
    }
    let sep = d.seps[0];
    // `2016-02-27 21:24`: the number scanner read on into the time; the date is the
    // first three groups.
    let end = match d.groups.len() {
        3 => d.end,
        _ if sep != b' ' && d.seps[2] == b' ' => d.groups[2].1,
        _ => return None,
    };
    let lens = d.lens();
    let spaced = sep == b' ' && (lens[0] == 4 || lens[2] == 4) && lens[1] == 2;
    if !b"-/.".contains(&sep) && !spaced {
        return None;
    }
    let (v0, v1, v2) = (d.value(b, 0), d.value(b, 1), d.value(b, 2));
    let ymd = lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2 && date::valid(v0, v1, v2);
    let yearlast = lens[0] <= 2 && lens[1] <= 2 && lens[2] == 4 && (date::valid(v2, v0, v1) || date::valid(v2, v1, v0));
    // `5/4/23`: two-digit years only with slashes (`3.7.13` is a version).
    let yy = if v2 <= 40 { 2000 + v2 } else { 1900 + v2 };
    let short = lens[0] <= 2
        && lens[1] <= 2
        && lens[2] == 2
        && sep == b'/'
        && (date::valid(yy, v0, v1) || date::valid(yy, v1, v0));
    (ymd || yearlast || short).then(|| date::datetime_tail(b, end))
}

fn skip_token(b: &[u8], mut j: usize) -> Option<usize> {
    while j < b.len() && (is_word(b[j]) || matches!(b[j], b'.' | b'-' | b'/' | b':')) {
        j += 1;
    }
    Some(j)
}

/// Whether any of `words` (lowercase) occurs, in any case, in the 24 bytes before `at`.
fn context(b: &[u8], at: usize, words: &[&[u8]]) -> bool {
    let raw = &b[at.saturating_sub(24)..at];
    let mut buf = [0u8; 24];
    for (d, s) in buf.iter_mut().zip(raw) {
        *d = s.to_ascii_lowercase();
    }
    let window = &buf[..raw.len()];
    // Words start after a non-letter; only there are the cue words compared.
    (0..window.len()).any(|k| {
        let c = window[k];
        (k == 0 || !window[k - 1].is_ascii_alphanumeric())
            && c.is_ascii_alphanumeric() | (c == b'#')
            && words.iter().any(|w| w[0] == c && window[k..].starts_with(w))
    })
}

/// Words before `at` that say a number is a phone number.
fn phone_context(b: &[u8], at: usize) -> bool {
    context(
        b,
        at,
        &[
            b"phone",
            b"tel",
            b"mobile",
            b"cell",
            b"fax",
            b"call",
            b"whatsapp",
            b"reachable",
            b"contact",
            b"dial",
            b"ring",
            b"sms",
            b"text me",
            b"landline",
            b"number",
            b"handy",
            b"movil",
            b"ph:",
            b"ph.",
            b"mob",
        ],
    )
}

/// A phone number at `i`, by its shape and, where that says too little, its
/// validity ([`phone`]).
fn phone_at(b: &[u8], i: usize) -> Option<(usize, Confidence)> {
    let s = phone::shape(b, i)?;
    if !token_end(b, s.end) || s.digit_count() < 7 {
        return None;
    }
    let said = if phone_context(b, i) {
        phone::Context::Phone
    } else if context(
        b,
        i,
        &[
            b"order",
            b"invoice",
            b"account",
            b"acct",
            b"ref",
            b"policy",
            b"claim",
            b"tracking",
            b"case",
            b"ticket",
            b"member",
            b"mrn",
            b"id ",
            b"id:",
            b"no.",
            b"#",
            b"serial",
            b"iban",
            b"sort code",
            b"routing",
        ],
    ) {
        phone::Context::Other
    } else {
        phone::Context::None
    };
    if phone::is_phone(&s, said) {
        return Some((s.end, Confidence::Medium));
    }
    phone::maybe_phone(&s, said).then_some((s.end, Confidence::Low))
}

/// A date next to words saying it is someone's birth date.
fn date_kind(b: &[u8], at: usize) -> Kind {
    if context(b, at, &[b"dob", b"born", b"birth", b"d.o.b"]) {
        Kind::DateOfBirth
    } else {
        Kind::Date
    }
}

fn ipv6(b: &[u8], i: usize) -> Option<usize> {
    // A group is at most four hex digits: a colon comes within five bytes, or this is
    // not an address (most words and numbers leave here).
    if !b[i..b.len().min(i + 5)].contains(&b':') {
        return None;
    }
    let mut e = i;
    let mut colons = 0;
    while e < b.len() && (b[e].is_ascii_hexdigit() || b[e] == b':' || (b[e] == b'.' && colons >= 2)) {
        if b[e] == b':' {
            colons += 1;
        }
        e += 1;
    }
    if colons < 2 {
        return None;
    }
    // Trailing punctuation belongs to the sentence.
    while e > i && matches!(b[e - 1], b'.' | b':') && !b[..e].ends_with(b"::") {
        e -= 1;
    }
    if e < b.len() && is_word(b[e]) {
        return None;
    }
    let s = std::str::from_utf8(&b[i..e]).ok()?;
    s.parse::<std::net::Ipv6Addr>().ok().map(|_| e)
}

// ---------------------------------------------------------------- capitals

/// The first ASCII digit at or after `i`, or the end of the text.
fn memchr_digit(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(u8::is_ascii_digit).map_or(b.len(), |p| i + p)
}

/// A capitalised word at `i`; the next digit is `digit_in` bytes on.
fn upper(text: &str, i: usize, all_lower: bool, digit_in: usize, out: &mut Vec<Finding>) -> Option<usize> {
    let b = text.as_bytes();
    // A street named first (`Hauptstraße 5`, `Via Roma, 12`) is at most five words
    // before its number.
    if digit_in <= 120 {
        if let Some(end) = address::at(b, i, all_lower) {
            return push(out, i, end, Kind::Location);
        }
    }
    // Postcodes, `NV 67261`, national numbers with letters and dates from a month or
    // a weekday have a digit within their first 40 bytes.
    let near = digit_in <= 40;
    if near && b.get(i + 1).is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        if let Some(end) = address::uk_postcode(b, i) {
            return push(out, i, end, Kind::Location);
        }
        if let Some(end) = address::state_zip(b, i) {
            return push(out, address::town_before(b, i), end, Kind::Location);
        }
    }
    if near {
        if let Some((kind, end)) = ids::checked_at(b, i) {
            return push(out, i, end, kind);
        }
    }
    if matches!(b[i], b'H' | b'F' | b'W') {
        if let Some(end) = url(b, i) {
            return push(out, i, end, Kind::Url);
        }
    }
    if b[i] == b'A' {
        if let Some(end) = secret_upper(b, i) {
            return push(out, i, end, Kind::Secret);
        }
    }
    if b[i] == b'B' && b[i..].starts_with(b"Bearer ") {
        let s = i + 7;
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b"._~+/=-".contains(&b[e])) {
            e += 1;
        }
        if e - s >= 16 {
            return push(out, s, e, Kind::Secret);
        }
    }
    if near {
        if let Some(end) = iban(b, i) {
            return push(out, i, end, Kind::Iban);
        }
    }
    if let Some(end) = ipv6(b, i) {
        return push(out, i, end, Kind::IpAddress);
    }
    if near {
        if let Some(end) = date::month_first(b, i).or_else(|| date::weekday_first(b, i)) {
            return push(out, i, date::time_tail(b, end), date_kind(b, i));
        }
    }
    person(text, i, out)
}

fn person(text: &str, i: usize, out: &mut Vec<Finding>) -> Option<usize> {
    Some(names::names_at(text, i, &mut |start, end, kind, confidence| {
        out.push(Finding { start, end, kind, confidence })
    }))
}

/// AWS access key ids (`AKIA…`, `ASIA…`) and Google API keys (`AIza…`).
fn secret_upper(b: &[u8], i: usize) -> Option<usize> {
    let run = |from: usize, ok: fn(u8) -> bool| {
        let mut e = from;
        while e < b.len() && ok(b[e]) {
            e += 1;
        }
        e
    };
    if b[i..].starts_with(b"AKIA") || b[i..].starts_with(b"ASIA") {
        let e = run(i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if e - i == 20 && !b.get(e).is_some_and(|&c| is_word(c)) {
            return Some(e);
        }
    }
    if b[i..].starts_with(b"AIza") {
        let e = run(i + 4, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if e - i == 39 {
            return Some(e);
        }
    }
    None
}

/// An IBAN: country code, check digits, then the account in one run or in groups
/// of four, passing mod-97.
fn iban(b: &[u8], i: usize) -> Option<usize> {
    let head = b.get(i..i + 4)?;
    let upper = head[0].is_ascii_uppercase();
    if !(head[0].is_ascii_alphabetic()
        && head[1].is_ascii_alphabetic()
        && head[0].is_ascii_uppercase() == head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    // Written in one case: upper, or lower in text typed or spoken in lower case.
    let alnum = move |c: u8| c.is_ascii_digit() || if upper { c.is_ascii_uppercase() } else { c.is_ascii_lowercase() };
    let mut compact: Vec<u8> = head.to_ascii_uppercase();
    let mut e = i + 4;
    if b.get(e) == Some(&b' ') {
        // Grouped: ` XXXX` repeatedly, the last group 1-4 long.
        while b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(|&c| alnum(c)) && compact.len() < 34 {
            let gs = e + 1;
            let mut ge = gs;
            while ge < b.len() && alnum(b[ge]) && ge - gs < 4 {
                ge += 1;
            }
            if ge < b.len() && alnum(b[ge]) {
                break; // a group longer than four: not part of this IBAN
            }
            compact.extend(b[gs..ge].iter().map(u8::to_ascii_uppercase));
            e = ge;
            if ge - gs < 4 {
                break;
            }
        }
    } else {
        while e < b.len() && alnum(b[e]) && compact.len() < 34 {
            compact.push(b[e].to_ascii_uppercase());
            e += 1;
        }
    }
    if b.get(e).is_some_and(|&c| is_word(c)) {
        return None;
    }
    // In lower case the country's own length is required too: a token passes mod 97
    // one time in 97.
    if !upper && check::iban_length(&compact[..2]) != Some(compact.len()) {
        return None;
    }
    check::iban(&compact).then_some(e)
}

// ---------------------------------------------------------------- lowercase starts

/// A word in lower case at `i`; `digit_near`: a digit comes within 40 bytes.
fn lower(text: &str, i: usize, all_lower: bool, cue: bool, digit_near: bool, out: &mut Vec<Finding>) -> Option<usize> {
    let b = text.as_bytes();
    let token = |from: usize, ok: fn(u8) -> bool| {
        let mut e = from;
        while e < b.len() && ok(b[e]) {
            e += 1;
        }
        e
    };
    let key_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    match b[i] {
        b'e' if b.get(i + 1) == Some(&b'y') && b.get(i + 2) == Some(&b'J') => {
            // A JWT: three base64url segments.
            let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
            let e1 = token(i, b64);
            if b.get(e1) == Some(&b'.') {
                let e2 = token(e1 + 1, b64);
                if e2 > e1 + 1 && b.get(e2) == Some(&b'.') {
                    let e3 = token(e2 + 1, b64);
                    if e1 - i >= 10 {
                        return push(out, i, e3, Kind::Secret);
                    }
                }
            }
        }
        b's' | b'r'
            if b.get(i + 1) == Some(&b'k')
                && (b[i..].starts_with(b"sk-")
                    || b[i..].starts_with(b"sk_live_")
                    || b[i..].starts_with(b"rk_live_")) =>
        {
            let e = token(i, key_char);
            if e - i >= 23 {
                return push(out, i, e, Kind::Secret);
            }
        }
        b'g' if b.get(i + 1) == Some(&b'h') && b[i..].starts_with(b"github_pat_")
            || (b[i..].starts_with(b"gh")
                && matches!(b.get(i + 2), Some(b'p' | b'o' | b'u' | b's' | b'r'))
                && b.get(i + 3) == Some(&b'_')) =>
        {
            let e = token(i, key_char);
            if e - i >= 30 {
                return push(out, i, e, Kind::Secret);
            }
        }
        b'x' if b.get(i + 1) == Some(&b'o')
            && b[i..].starts_with(b"xox")
            && matches!(b.get(i + 3), Some(b'a' | b'b' | b'p' | b'r' | b's'))
            && b.get(i + 4) == Some(&b'-') =>
        {
            let e = token(i, key_char);
            if e - i >= 20 {
                return push(out, i, e, Kind::Secret);
            }
        }
        _ => {}
    }
    if b[i].is_ascii_hexdigit() {
        if let Some(end) = ipv6(b, i) {
            return push(out, i, end, Kind::IpAddress);
        }
    }
    if matches!(b[i], b'h' | b'f' | b'w') {
        if let Some(end) = url(b, i) {
            return push(out, i, end, Kind::Url);
        }
    }
    if b.get(i + 2).is_some_and(u8::is_ascii_digit) {
        if let Some(end) = iban(b, i) {
            return push(out, i, end, Kind::Iban);
        }
    }
    if digit_near && matches!(b[i], b'a' | b'd' | b'f' | b'j' | b'm' | b'n' | b'o' | b's' | b't' | b'w') {
        if let Some(end) = date::month_first(b, i).or_else(|| date::weekday_first(b, i)) {
            return push(out, i, date::time_tail(b, end), date_kind(b, i));
        }
    }
    if all_lower {
        if let Some(end) = names::lower_place_at(text, i) {
            return push(out, i, end, Kind::Location);
        }
    }
    if let Some(end) = names::lower_name_at(text, i, all_lower, cue) {
        return push(out, i, end, Kind::Person);
    }
    // Skip the rest of the word.
    Some(token(i, |c| c.is_ascii_alphanumeric()))
}

/// A PEM private-key block, from `-----BEGIN … PRIVATE KEY-----` to its END line (or
/// the end of the text when it was cut off).
fn pem(text: &str, i: usize, out: &mut Vec<Finding>) -> Option<usize> {
    let rest = &text[i..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    if !rest[..line_end].contains("PRIVATE KEY-----") {
        return None;
    }
    let end = match rest.find("-----END ") {
        Some(e) => rest[e + 9..].find("-----").map_or(rest.len(), |x| e + 9 + x + 5),
        None => rest.len(),
    };
    push(out, i, i + end, Kind::Secret)
}
