//! A folded view of the text for the detectors, so that writing a value with
//! look-alike characters does not hide it, with every offset mapped back to the
//! original: findings redact the characters the sender typed.
//!
//! Folded:
//! - spaces of every width (no-break, thin, figure, ideographic) to a space;
//! - invisible characters (zero-width space and joiners, word joiner, byte-order
//!   mark, soft hyphen) removed: `4111\u{200B}1111…` is a card;
//! - dashes and the minus sign to `-`;
//! - full-width ASCII (`４１１１`, `ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ`) to ASCII;
//! - Cyrillic and Greek letters that look like Latin ones, inside a word that also has
//!   Latin letters (`jоhn@example.com` with a Cyrillic `о`); a word wholly in another
//!   script is left alone;
//! - an e-mail address spelled out: `john [at] example [dot] com`, `john(at)example.com`,
//!   `john dot smith at example dot com` (the last only when it ends in a common
//!   top-level domain).
//!
//! Text with none of these is not copied.

/// The folded text, and for each of its bytes the offset in the original of the
/// character it came from (plus one entry for the end).
pub struct View {
    pub text: String,
    map: Vec<u32>,
}

impl View {
    /// The original offset of the folded offset `at` (a start, or an end: the end of
    /// a value is the start of what follows it).
    pub fn original(&self, at: usize) -> usize {
        self.map[at] as usize
    }
}

/// The folded view of `text`, or `None` when folding changes nothing.
pub fn view(text: &str) -> Option<View> {
    // Texts over 4 GiB keep their offsets in u32 only up to there; they are not folded.
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let chars = if text.is_ascii() { None } else { fold_chars(text) };
    let spelled = spelled_email(chars.as_ref().map_or(text, |v| v.text.as_str()));
    match (chars, spelled) {
        (None, None) => None,
        (Some(v), None) => Some(v),
        (None, Some(s)) => Some(s),
        // Folded twice: the second map's offsets are into the first view.
        (Some(first), Some(mut second)) => {
            for m in &mut second.map {
                *m = first.map[*m as usize];
            }
            Some(second)
        }
    }
}

/// The ASCII letter a Cyrillic or Greek letter is mistaken for.
fn latin_look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'е' => 'e',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'һ' => 'h',
        'ν' => 'v',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'Е' | 'Ε' => 'E',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Н' | 'Η' => 'H',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'С' => 'C',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'І' | 'Ι' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'Ζ' => 'Z',
        'Ν' => 'N',
        _ => return None,
    })
}

enum Fold {
    Keep,
    Drop,
    To(char),
}

fn fold_char(c: char) -> Fold {
    match c {
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Fold::To(' '),
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Fold::Drop,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => Fold::To('-'),
        // Full-width `!` to `~`.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).map_or(Fold::Keep, Fold::To),
        _ => Fold::Keep,
    }
}

/// Lead bytes of the characters that may fold: U+00A0/U+00AD (C2), look-alike
/// letters (C9, CE, CF, D0 to D4), spaces, dashes and invisibles (E2, E3), full-width
/// forms and the byte-order mark (EF). Text without them (ASCII, and most text in
/// Latin scripts) is looked at once and not decoded.
static LEADS: [bool; 256] = {
    let mut t = [false; 256];
    let leads = [0xC2, 0xC9, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xE2, 0xE3, 0xEF];
    let mut k = 0;
    while k < leads.len() {
        t[leads[k]] = true;
        k += 1;
    }
    t
};

/// Whether the word around `at` (letters and digits, invisibles inside) has a Latin
/// letter, and where it ends.
fn latin_word_around(text: &str, at: usize) -> (bool, usize) {
    let inside = |c: char| c.is_alphanumeric() || matches!(fold_char(c), Fold::Drop);
    let start = text[..at].char_indices().rev().take_while(|&(_, c)| inside(c)).last().map_or(at, |(k, _)| k);
    let end = text[at..].find(|c: char| !inside(c)).map_or(text.len(), |k| at + k);
    (text[start..end].bytes().any(|b| b.is_ascii_alphabetic()), end)
}

fn fold_chars(text: &str) -> Option<View> {
    let b = text.as_bytes();
    let mut out: Option<View> = None;
    // Up to where the current word was judged, and whether it mixes scripts.
    let (mut judged_to, mut mixed) = (0, false);
    let mut at = b.iter().position(|&c| LEADS[usize::from(c)])?;
    let mut copied = 0;
    while at < b.len() {
        if !LEADS[usize::from(b[at])] {
            at += 1;
            continue;
        }
        let Some(c) = text[at..].chars().next() else { break };
        let mut fold = fold_char(c);
        if matches!(fold, Fold::Keep) {
            if let Some(latin) = latin_look_alike(c) {
                if at >= judged_to {
                    (mixed, judged_to) = latin_word_around(text, at);
                }
                if mixed {
                    fold = Fold::To(latin);
                }
            }
        }
        let len = c.len_utf8();
        if matches!(fold, Fold::Keep) {
            at += len;
            continue;
        }
        let v = out.get_or_insert_with(|| View {
            text: String::with_capacity(text.len()),
            map: Vec::with_capacity(text.len() + 1),
        });
        v.text.push_str(&text[copied..at]);
        v.map.extend(copied as u32..at as u32);
        if let Fold::To(to) = fold {
            v.text.push(to);
            v.map.extend(std::iter::repeat_n(at as u32, to.len_utf8()));
        }
        at += len;
        copied = at;
    }
    let mut v = out?;
    v.text.push_str(&text[copied..]);
    v.map.extend(copied as u32..=text.len() as u32);
    Some(v)
}

/// A spelled separator: the bytes it spans and the character it stands for.
type Edit = (usize, usize, u8);

/// Top-level domains an address spelled out with bare ` at ` and ` dot ` must end in.
const TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "io", "co", "uk", "de", "fr", "es", "it", "nl", "be", "ch", "at", "se", "pl",
    "ie", "pt", "dk", "no", "fi", "au", "nz", "in", "br", "mx", "jp", "za", "sg", "ca", "us", "eu", "info", "biz",
    "me",
];

/// An e-mail address spelled out (`[at]`, `(dot)`, ` at … dot com`), rewritten with
/// `@` and `.`.
fn spelled_email(text: &str) -> Option<View> {
    let b = text.as_bytes();
    // Where an `at` stands alone (`john at`, `[at]`); an address is looked for only
    // in the 80 bytes before each.
    let standalone = |k: usize| {
        let before = k.checked_sub(1).map(|p| b[p]);
        let after = b.get(k + 2).copied();
        !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    };
    let mut ats: Vec<usize> = memchr::memmem::find_iter(b, b"at")
        .chain(memchr::memmem::find_iter(b, b"AT"))
        .filter(|&k| standalone(k))
        .collect();
    if ats.is_empty() {
        return None;
    }
    ats.sort_unstable();
    let mut edits: Vec<Edit> = Vec::new();
    let mut k = 0;
    for at in ats {
        k = k.max(at.saturating_sub(80));
        while k < at {
            if let Some((end, parts)) = spelled_at(b, k) {
                edits.extend(parts);
                k = end;
            } else {
                k += 1;
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut v = View { text: String::with_capacity(text.len()), map: Vec::with_capacity(text.len() + 1) };
    let mut at = 0;
    for (s, e, c) in edits {
        v.text.push_str(&text[at..s]);
        v.map.extend(at as u32..s as u32);
        v.text.push(char::from(c));
        v.map.push(s as u32);
        at = e;
    }
    v.text.push_str(&text[at..]);
    v.map.extend(at as u32..=text.len() as u32);
    Some(v)
}

/// A spelled-out `@` or `.` separator at `k`: its end and the character it stands
/// for. Bracketed forms (`[at]`, `(dot)`, `{at}`, with or without spaces around) and
/// bare ` at ` / ` dot ` between spaces.
fn separator(b: &[u8], k: usize) -> Option<Edit> {
    let mut s = k;
    while b.get(s) == Some(&b' ') {
        s += 1;
    }
    let open = b.get(s).copied();
    let bracketed = matches!(open, Some(b'[' | b'(' | b'{' | b'<'));
    let w = s + usize::from(bracketed);
    let word = |name: &[u8]| b.len() >= w + name.len() && b[w..w + name.len()].eq_ignore_ascii_case(name);
    let (len, c) = if word(b"at") {
        (2, b'@')
    } else if word(b"dot") {
        (3, b'.')
    } else {
        return None;
    };
    let mut e = w + len;
    if bracketed {
        let close = match open {
            Some(b'[') => b']',
            Some(b'(') => b')',
            Some(b'{') => b'}',
            _ => b'>',
        };
        if b.get(e) != Some(&close) {
            return None;
        }
        e += 1;
    } else if s == k || b.get(e) != Some(&b' ') {
        return None;
    }
    while b.get(e) == Some(&b' ') {
        e += 1;
    }
    Some((k, e, c))
}

/// A label of an address: letters, digits, `-`, `_`, `.`, `+`.
fn label(b: &[u8], k: usize) -> usize {
    let mut e = k;
    while e < b.len() && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'-' | b'_' | b'+' | b'.')) {
        e += 1;
    }
    e
}

/// An address spelled out starting with the local part at `k`.
fn spelled_at(b: &[u8], k: usize) -> Option<(usize, Vec<Edit>)> {
    if k > 0 && (b[k - 1].is_ascii_alphanumeric() || matches!(b[k - 1], b'.' | b'-' | b'_')) {
        return None;
    }
    let mut edits = Vec::new();
    let mut e = label(b, k);
    if e == k {
        return None;
    }
    // The local part, perhaps with spelled dots, then the `at`.
    let mut seen_at = false;
    let mut bare = true;
    for _ in 0..12 {
        let Some((s, se, c)) = separator(b, e) else { break };
        let next = label(b, se);
        if next == se {
            break;
        }
        if c == b'@' {
            if seen_at {
                break;
            }
            seen_at = true;
            bare = b.get(s) == Some(&b' ') && !matches!(b.get(s + 1), Some(b'[' | b'(' | b'{' | b'<'));
        }
        edits.push((s, se, c));
        e = next;
    }
    while e > k && b[e - 1] == b'.' {
        e -= 1;
    }
    // The domain has a dot, spelled or written.
    let p = edits.iter().position(|x| x.2 == b'@')?;
    if !(edits[p + 1..].iter().any(|x| x.2 == b'.') || b[edits[p].1..e].contains(&b'.')) {
        return None;
    }
    // A bare ` at `/` dot ` in prose is an address only when it ends in a known
    // top-level domain.
    if bare {
        let last = b[..e].iter().rposition(|&c| c == b'.').map_or(0, |p| p + 1);
        let last = last.max(edits.last().map_or(0, |x| x.1));
        let tld = std::str::from_utf8(&b[last..e]).ok()?;
        if !TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld)) {
            return None;
        }
    }
    Some((e, edits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(t: &str) -> String {
        view(t).map_or_else(|| t.to_string(), |v| v.text)
    }

    #[test]
    fn look_alike_characters_fold_to_ascii() {
        for (t, want) in [
            ("4111\u{00A0}1111\u{00A0}1111\u{00A0}1111", "4111 1111 1111 1111"),
            ("4111\u{200B}1111\u{200B}1111\u{200B}1111", "4111111111111111"),
            ("card ４１１１ １１１１", "card 4111 1111"),
            ("ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "john@example.com"),
            ("j\u{043E}hn@ex\u{0430}mple.com", "john@example.com"),
            ("078\u{2011}05\u{2011}1120", "078-05-1120"),
            ("Jo\u{00AD}hn", "John"),
        ] {
            assert_eq!(folded(t), want, "{t:?}");
        }
    }

    #[test]
    fn other_scripts_and_plain_text_are_left_alone() {
        for t in
            ["Иван Петров", "Γιώργος Παπαδόπουλος", "Zoë Åström, café", "meet at noon at the office", "plain ascii"]
        {
            assert_eq!(folded(t), t);
        }
        assert!(view("nothing to fold here").is_none());
    }

    #[test]
    fn spelled_out_addresses_become_addresses() {
        for (t, want) in [
            ("write to john [at] example [dot] com today", "write to john@example.com today"),
            ("john(at)example.com", "john@example.com"),
            ("j.smith {at} mail {dot} example {dot} org", "j.smith@mail.example.org"),
            ("john dot smith at gmail dot com please", "john.smith@gmail.com please"),
            ("JOHN AT EXAMPLE DOT COM", "JOHN@EXAMPLE.COM"),
        ] {
            assert_eq!(folded(t), want, "{t:?}");
        }
        // Prose with `at` and `dot` is not an address.
        for t in ["meet me at noon", "look at the dot on the map", "at home dot com"] {
            assert_eq!(folded(t), t, "{t:?}");
        }
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let t = "x ４１\u{200B}１ john [at] example [dot] com";
        let v = view(t).unwrap();
        assert_eq!(v.text, "x 411 john@example.com");
        let s = v.text.find("411").unwrap();
        assert_eq!(&t[v.original(s)..v.original(s + 3)], "４１\u{200B}１");
        let e = v.text.find("john").unwrap();
        assert_eq!(&t[v.original(e)..v.original(v.text.len())], "john [at] example [dot] com");
    }
}
