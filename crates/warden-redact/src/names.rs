//! Person names without a language model: evidence from a lexicon of given names,
//! surnames and English words (`data/lexicon.tsv`, built from the US Census name
//! files, Faker's per-locale name lists and Debian's word list), from the shape of
//! the words (capitalised, ALL CAPS, lower case, initials, `Surname, Given`) and
//! from the words around them (`Dr.`, `Mr`, `name:`, `Hi`, `my name is`).
//!
//! A run of capitalised words is split at words that are capitalised for another
//! reason (sentence openers, roles, the vocabulary of banks, hospitals and drug
//! makers, street and organisation words); each piece is kept as a name when its
//! words are likelier names than words. A single word needs more: a title or a cue
//! before it, or being a given name that is no English word. Lower-case names are
//! looked for only after a cue, or in text written wholly in lower case.

use std::sync::LazyLock;

use crate::lexicon::{flags, fnv, key, COMMONEST, GIVEN, LEXICON, SURNAME, WORD};
use crate::{Confidence, Kind};

/// Lowercase words that may sit inside a name.
#[rustfmt::skip]
const PARTICLES: &[&str] =
    &["van", "von", "der", "den", "de", "da", "di", "del", "della", "la", "le", "du", "des", "auch", "ter", "zu", "y",
      "bin", "bint", "al", "el", "dos", "das", "do", "ten", "ben"];

/// Honorifics: context for a name, never part of it.
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "mx", "miss", "mister", "prof", "professor", "sir", "madam", "madame", "dame", "lord",
    "lady", "rev", "reverend", "fr", "father", "sister", "brother", "capt", "captain", "sgt", "sergeant", "lt",
    "col", "gen", "judge", "justice", "hon", "herr", "frau", "mme", "mlle", "monsieur", "señor", "señora", "sr",
    "sra", "doctor", "queen", "king", "prince", "princess", "duke", "duchess", "mayor", "president", "senator",
    "governor", "chancellor", "minister", "dhr", "mevr", "pastor", "rabbi", "imam", "chief", "mlle",
];

/// Words after which a single word, or lower-case words, are taken as a name.
#[rustfmt::skip]
const CUES: &[&str] = &[
    "patient", "customer", "client", "caller", "applicant", "member", "employee", "colleague", "contact",
    "beneficiary", "cardholder", "insured", "claimant", "subject", "resident", "tenant", "guest", "student",
    "nurse", "detective", "inspector", "officer", "agent", "uncle", "aunt", "auntie", "coach", "pharmacist",
    "engineer", "teacher", "bodyguard", "mum", "mom", "dad", "son", "daughter", "wife", "husband", "sister",
    "brother", "friend", "its", "it's", "regards", "thanks", "best",
    "hi", "hello", "dear", "hey", "thanks", "cc", "attn", "by", "with", "named", "called", "signed",
    "regards", "sincerely", "cheers", "mr", "mrs", "ms", "dr", "miss", "prof", "name", "this", "m",
];

/// For each first and last letter of a cue or title, the lengths it comes in: most
/// words are ruled out without hashing.
static CUE_SHAPES: [u16; 26 * 26] = {
    let mut t = [0u16; 26 * 26];
    let lists: [&[&str]; 2] = [CUES, TITLES];
    let mut l = 0;
    while l < lists.len() {
        let mut k = 0;
        while k < lists[l].len() {
            let w = lists[l][k].as_bytes();
            let (f, z) = (w[0], w[w.len() - 1]);
            if f.is_ascii_lowercase() && z.is_ascii_lowercase() && w.len() < 16 {
                t[(f - b'a') as usize * 26 + (z - b'a') as usize] |= 1 << w.len();
            }
            k += 1;
        }
        l += 1;
    }
    t
};

/// Capitalised words that are not names (compared in lowercase). Function words and
/// common sentence openers, then the domain vocabulary Warden's users write in
/// capitals: roles, departments, documents, calendar words, and the words that make
/// a capitalised run a street, a place or an organisation.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    // function words and openers
    "a", "an", "the", "this", "that", "these", "those", "there", "here", "it", "its", "we", "our", "you", "your",
    "he", "she", "they", "them", "his", "her", "their", "i", "my", "me", "us", "in", "on", "at", "for", "from", "to",
    "of", "by", "with", "and", "or", "but", "if", "when", "while", "after", "before", "during", "since", "until",
    "as", "per", "via", "no", "not", "yes", "all", "any", "each", "every", "some", "none", "please", "thank",
    "thanks", "dear", "hello", "hi", "hey", "regards", "best", "kind", "sincerely", "note", "see", "also", "new", "old",
    "total", "final", "next", "last", "first", "second", "third", "other", "another", "same", "only", "more",
    "most", "less", "further", "following", "above", "below", "attached", "today", "tomorrow", "yesterday",
    "is", "was", "are", "were", "be", "been", "has", "have", "had", "do", "does", "did", "will", "would", "can",
    "could", "should", "may", "might", "must", "shall", "what", "who", "whom", "whose", "which", "where", "why",
    "how", "then", "than", "so", "just", "about", "into", "over", "under", "between", "through", "against",
    "ok", "okay", "sure", "great", "good", "morning", "afternoon", "evening", "night", "welcome", "sorry", "ref",
    "re", "fw", "fwd", "subject", "cc", "bcc", "attn", "dob", "id", "no", "nr", "tel", "fax", "mobile", "cell",
    "name", "surname", "given", "full", "signed", "signature", "sent", "received", "dated",
    // calendar
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "may", "july", "september", "october", "november", "december", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "q1", "q2", "q3", "q4", "am", "pm",
    "christmas", "easter", "saint", "san", "santa", "fort", "port",
    // informal writing and speech
    "youre", "thats", "im", "ive", "dont", "cant", "wont", "hes", "shes", "theyre", "whats", "heres", "theres",
    "lets", "isnt", "wasnt", "didnt", "doesnt", "couldnt", "wouldnt", "shouldnt", "aint", "gonna", "wanna", "yeah",
    "yep", "nope", "hmm", "um", "uh", "erm", "ah", "oh",
    // letters after a name
    "md", "phd", "frcp", "mrcp", "mbbs", "rn", "np", "dds", "dmd", "esq", "cpa", "mba", "msc", "bsc", "frcs",
    "facs", "mrcgp", "frcpath", "dnp", "lpn", "ii", "iii", "iv",
    // people by role
    "customer", "client", "patient", "applicant", "beneficiary", "cardholder", "account", "holder", "user",
    "member", "subject", "participant", "investigator", "coordinator", "sponsor", "physician",
    "surgeon", "pharmacist", "manager", "analyst", "admin", "administrator", "owner",
    "reviewer", "approver", "auditor", "contact", "emergency", "guardian", "employee", "staff", "team", "support",
    "department", "dept", "unit", "ward", "clinic", "hospital", "bank", "branch", "site", "lab", "laboratory",
    "pharmacy", "company", "group", "committee", "board", "office", "service", "services", "desk", "center",
    "centre", "inc", "ltd", "llc", "gmbh", "plc", "corp", "corporation", "caller", "operator", "representative",
    // documents, processes and things
    "accounts", "loan", "card", "credit", "debit", "wire", "transfer", "payment", "invoice", "claim",
    "claims", "insurance", "billing", "refund", "refunds", "chargeback", "statement", "balance", "amount",
    "reference", "order", "case", "ticket", "request", "report", "reports", "summary", "discharge", "admission",
    "diagnosis", "dosage", "dose", "batch", "lot", "trial", "study", "protocol", "consent", "enrollment",
    "adverse", "event", "events", "safety", "pharmacovigilance", "login", "password", "email", "phone", "address",
    "date", "birth", "policy", "review", "audit", "risk", "compliance", "model", "version", "release", "data",
    "dataset", "system", "server", "host", "network", "quarterly", "annual", "monthly", "weekly", "daily",
    "results", "result", "test", "tests", "mri", "scan", "lis", "edc", "kyc", "aml", "ssn", "iban", "tax",
    "beneficiaries", "investigators", "patients", "customers", "subjects", "error", "warning", "info", "debug",
    "exception", "traceback", "file", "line", "true", "false", "null", "none", "status", "priority", "issue",
];

/// Words that make the capitalised words before them a street, a place or an
/// organisation.
#[rustfmt::skip]
const PLACES: &[&str] = &[
    "street", "st", "city", "hospital", "clinic", "bank", "pharmacy", "centre", "center", "church", "company",
    "infirmary", "practice", "surgery", "logistics", "ospedale", "hôpital", "hopital", "klinik", "klinikum",
    "krankenhaus", "clínica", "clinica", "hospital's", "general", "memorial", "medical", "cross", "bay",
    "harbour", "airlines", "airways", "motors", "energy", "telecom", "bancorp", "capital", "ventures", "labs",
    "group", "office", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr.", "boulevard", "blvd", "way", "court", "ct",
    "place", "pl", "square", "sq", "park", "parkway", "pkwy", "terrace", "crescent", "close", "highway", "hwy",
    "route", "suite", "apt", "apartment", "floor", "building", "bridge", "hill", "heights", "gardens", "grove",
    "strasse", "straße", "weg", "platz", "rue", "calle", "via", "plaza", "university", "college", "school",
    "academy", "institute", "hospitals", "clinics", "health", "healthcare", "medical", "medicine", "pharma",
    "pharmaceuticals", "therapeutics", "biotech", "labs", "trust", "foundation", "association", "society",
    "council", "agency", "authority", "ministry", "federal", "national", "international", "global", "church",
    "county", "state", "province", "district", "region", "river", "lake", "mount", "mountain", "north", "south",
    "east", "west", "airport", "station", "hotel", "restaurant", "cafe", "museum", "library", "capital",
    "partners", "holdings", "industries", "systems", "solutions", "technologies", "software", "financial",
    "securities", "insurance", "assurance", "mutual", "savings", "credit", "union", "markets", "street's",
];

/// A word list as a filter and an open-addressing table of FNV hashes: most
/// words leave after one bit test, the rest after a probe or two (64-bit hashes of
/// distinct short words do not collide in practice).
struct Filtered {
    bits: [u64; 64],
    slots: Vec<u64>,
}

impl Filtered {
    fn new(lists: &[&[&'static str]]) -> Self {
        let words: Vec<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        let size = (words.len() * 2).next_power_of_two();
        let mut f = Self { bits: [0; 64], slots: vec![0; size] };
        for w in words {
            let h = fnv(w.as_bytes()) | 1;
            f.bits[(h >> 6 & 63) as usize] |= 1 << (h & 63);
            let mut at = (h >> 12) as usize & (size - 1);
            while f.slots[at] != 0 && f.slots[at] != h {
                at = (at + 1) & (size - 1);
            }
            f.slots[at] = h;
        }
        f
    }
}

static COMMON_TABLE: LazyLock<Filtered> = LazyLock::new(|| Filtered::new(&[COMMON, TITLES, PLACES]));
static PLACES_TABLE: LazyLock<Filtered> = LazyLock::new(|| Filtered::new(&[PLACES]));
static TITLES_TABLE: LazyLock<Filtered> = LazyLock::new(|| Filtered::new(&[TITLES]));
static CUES_TABLE: LazyLock<Filtered> = LazyLock::new(|| Filtered::new(&[CUES, TITLES]));
static PARTICLES_TABLE: LazyLock<Filtered> = LazyLock::new(|| Filtered::new(&[PARTICLES]));

fn is_in(list: &Filtered, word: &str) -> bool {
    is_in_key(list, word, fnv(word.as_bytes()))
}

/// `is_in` for a word whose lexicon key is `key`.
fn is_in_key(list: &Filtered, word: &str, key: u64) -> bool {
    if word.len() > 24 || !word.is_ascii() {
        return false;
    }
    let h = key | 1;
    if list.bits[(h >> 6 & 63) as usize] & (1 << (h & 63)) == 0 {
        return false;
    }
    let mask = list.slots.len() - 1;
    let mut at = (h >> 12) as usize & mask;
    loop {
        match list.slots[at] {
            0 => return false,
            x if x == h => return true,
            _ => at = (at + 1) & mask,
        }
    }
}

/// Whether the word `w` of a run is capitalised for another reason than a name.
fn common_word(text: &str, w: &Word) -> bool {
    is_in_key(&COMMON_TABLE, &text[w.start..w.end], w.hash)
}

/// Whether `word` is a capitalised word that is not a name.
pub fn is_common(word: &str) -> bool {
    is_in(&COMMON_TABLE, word)
}

/// How much a capitalised word says "name": negative for plain English words.
fn evidence(f: u8, shape: Shape, word: &str) -> i8 {
    let name = f & (GIVEN | SURNAME) != 0;
    match (name, f & COMMONEST != 0, f & WORD != 0) {
        (true, true, _) => 0,
        // In ALL CAPS a surname that is also a word (`TURNS`) says little.
        (true, false, true) if shape == Shape::Upper && f & GIVEN == 0 => -1,
        (true, false, true) => 1,
        (true, false, false) => 2,
        (false, true, _) | (false, false, true) => -2,
        // Unknown: a capitalised word no list knows reads as a name from elsewhere;
        // an unknown ALL-CAPS word is more often an acronym or a code.
        (false, false, false) if drug_like(word) => -1,
        (false, false, false) => i8::from(shape == Shape::Title),
    }
}

/// Endings of drug and chemical names (INN stems and salts): an unknown capitalised
/// word ending so is a medicine, not a person.
#[rustfmt::skip]
const DRUG_ENDINGS: &[&str] = &[
    "mab", "pril", "sartan", "statin", "olol", "azole", "mycin", "cillin", "cycline", "floxacin", "vir", "tinib",
    "azepam", "oxetine", "triptan", "dipine", "formin", "gliptin", "parin", "chloride", "sulfate", "sulphate",
    "phosphate", "acetate", "citrate", "oxide", "amide", "profen", "caine", "dronate", "lukast", "semide",
    "thiazide", "tidine", "setron", "zepam", "barbital", "terol", "sone", "olone", "vastatin", "xaban", "gatran",
];

fn drug_like(word: &str) -> bool {
    word.len() > 5
        && word.is_ascii()
        && DRUG_ENDINGS.iter().any(|e| word.len() > e.len() + 2 && word[word.len() - e.len()..].eq_ignore_ascii_case(e))
}

// ---------------------------------------------------------------- words

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `Maria`, `McDonald`, `O'Brien`, `Jean-Luc`.
    Title,
    /// `MARIA`.
    Upper,
    /// `maria`.
    Lower,
    /// `J.` inside a name.
    Initial,
}

#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    shape: Shape,
    /// The lexicon key (set for the words of a capitalised run).
    hash: u64,
}

/// The word of letters starting at `i` (`-` and `'` join letters), and its shape.
fn word_at(text: &str, i: usize) -> Option<Word> {
    let b = text.as_bytes();
    let first = *b.get(i)?;
    // Fast path: ASCII letters up to a space or punctuation.
    if first.is_ascii_alphabetic() {
        let mut e = i + 1;
        let mut upper = usize::from(first.is_ascii_uppercase());
        let mut lower = usize::from(first.is_ascii_lowercase());
        while e < b.len() && b[e].is_ascii_alphabetic() {
            upper += usize::from(b[e].is_ascii_uppercase());
            lower += usize::from(b[e].is_ascii_lowercase());
            e += 1;
        }
        let clean = e == b.len() || (b[e] < 0x80 && !b[e].is_ascii_digit() && !matches!(b[e], b'-' | b'\'' | b'_'));
        if clean {
            return shape_of(first.is_ascii_uppercase(), upper, lower, e - i).map(|shape| Word {
                start: i,
                end: e,
                shape,
                hash: 0,
            });
        }
    }
    let mut chars = text[i..].char_indices().peekable();
    let (_, c0) = chars.next()?;
    if !c0.is_alphabetic() {
        return None;
    }
    let mut end = i + c0.len_utf8();
    let (mut upper, mut lower, mut letters) = (usize::from(c0.is_uppercase()), usize::from(c0.is_lowercase()), 1);
    let mut joined_lower = false;
    while let Some(&(off, c)) = chars.peek() {
        if c.is_alphabetic() {
            upper += usize::from(c.is_uppercase());
            lower += usize::from(c.is_lowercase());
            letters += 1;
            end = i + off + c.len_utf8();
            chars.next();
        } else if c == '-' && joined_lower && c0.is_uppercase() {
            // `Right-to-work`: not a name.
            return None;
        } else if c == '-' || c == '\'' || c == '\u{2019}' {
            // Joins only letters on both sides; `'s` ends the word (a possessive).
            let mut look = chars.clone();
            look.next();
            match look.next() {
                // `O'Brien`, `Jean-Luc`: a capital after the joint in a capitalised
                // word (`I'm`, `Right-to-work` are not names); any letter in a
                // lower-case one (`ha-eun`).
                Some((_, n))
                    if n.is_alphabetic() && (n.is_uppercase() || !c0.is_uppercase() || c == '-' && !joined_lower) =>
                {
                    // One lower-case joint (`Ha-eun`, `Hyun-woo`); a second one makes a
                    // phrase (`Right-to-work`).
                    if c == '-' && n.is_lowercase() {
                        joined_lower = true;
                    }
                    let after = look.peek().map(|&(_, x)| x);
                    if c != '-' && (n == 's' || n == 'S') && !after.is_some_and(char::is_alphabetic) {
                        break;
                    }
                    chars.next();
                }
                _ => break,
            }
        } else if c.is_ascii_digit() || c == '_' {
            return None;
        } else {
            break;
        }
    }
    shape_of(c0.is_uppercase(), upper, lower, letters).map(|shape| Word { start: i, end, shape, hash: 0 })
}

fn shape_of(capital: bool, upper: usize, lower: usize, letters: usize) -> Option<Shape> {
    if capital && lower > 0 && upper <= 3 {
        Some(Shape::Title)
    } else if capital && lower == 0 && letters >= 2 {
        Some(Shape::Upper)
    } else if !capital && upper == 0 {
        Some(Shape::Lower)
    } else {
        None
    }
}

/// The word ending just before `at` (skipping spaces and one `.`/`,`/`:`), in ASCII.
pub fn word_before(text: &str, at: usize) -> &str {
    let b = text.as_bytes();
    let mut e = at;
    while e > 0 && matches!(b[e - 1], b' ' | b'\n' | b'\r' | b'\t' | b'(') {
        e -= 1;
    }
    if e > 0 && matches!(b[e - 1], b'.' | b',' | b':') {
        e -= 1;
    }
    let mut s = e;
    while s > 0 && b[s - 1].is_ascii_alphabetic() && e - s < 16 {
        s -= 1;
    }
    if s > 0 && b[s - 1].is_ascii_alphanumeric() {
        return "";
    }
    &text[s..e]
}

/// Whether the name at `at` follows a title (`Dr.`, `Mrs`) or a cue (`patient`,
/// `Hi`, `name:`, `my name is`).
fn cued(text: &str, at: usize) -> bool {
    let before = word_before(text, at);
    if before.is_empty() {
        return false;
    }
    if is_in(&CUES_TABLE, before) && before.len() > 1 {
        return true;
    }
    let b = text.as_bytes();
    let head = &b[at.saturating_sub(12)..at];
    let lower = |s: &[u8], w: &[u8]| s.len() >= w.len() && s[s.len() - w.len()..].eq_ignore_ascii_case(w);
    let trimmed = {
        let mut e = head.len();
        while e > 0 && head[e - 1] == b' ' {
            e -= 1;
        }
        &head[..e]
    };
    lower(trimmed, b"name:")
        || lower(trimmed, b"name is")
        || lower(trimmed, b"name's")
        || lower(trimmed, b"i'm")
        || lower(trimmed, b"i am")
        || lower(trimmed, b"this is")
        || lower(trimmed, b"name -")
}

/// Whether the word `word`, ending at `end`, makes the next word a name's place
/// (`dr`, `patient`, `my name is`).
pub fn is_cue(text: &str, word: &str, end: usize) -> bool {
    let w = word.as_bytes();
    let (Some(&first), Some(&last)) = (w.first(), w.last()) else { return false };
    let slot = usize::from(first.to_ascii_lowercase().wrapping_sub(b'a')) * 26
        + usize::from(last.to_ascii_lowercase().wrapping_sub(b'a'));
    if w.len() > 15 || CUE_SHAPES.get(slot).is_none_or(|lens| lens & (1 << w.len()) == 0) {
        return false;
    }
    if !is_in(&CUES_TABLE, word) {
        return false;
    }
    // `i'm maria`
    if word.len() == 1 {
        let b = text.as_bytes();
        return end >= 3 && b[end - 2] == b'\'' && b[end - 3].eq_ignore_ascii_case(&b'i');
    }
    true
}

/// Whether an honorific (`Dr.`, `Mrs`, `Queen`) comes right before `at`.
fn honorific_before(text: &str, at: usize) -> bool {
    let w = word_before(text, at);
    !w.is_empty() && is_in(&TITLES_TABLE, w)
}

/// `San Raffaele`, `St. Jude`, `Santa Maria`: a saint in a place's name.
fn saint_before(text: &str, at: usize) -> bool {
    let w = word_before(text, at);
    ["san", "santa", "santo", "saint", "st", "sankt", "são", "sao", "ste", "sainte", "santi"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(w))
}

/// Whether `at` opens a sentence or a line.
fn sentence_start(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let mut e = at;
    while e > 0 && matches!(b[e - 1], b' ' | b'"' | b'(' | b'\t') {
        e -= 1;
    }
    e == 0 || matches!(b[e - 1], b'.' | b'!' | b'?' | b'\n' | b':' | b'>' | b'*' | b'-')
}

// ---------------------------------------------------------------- capitalised runs

/// At most this many words are looked at in one run; longer runs are titles.
const RUN: usize = 8;

/// A run of capitalised words starting at `i`, split and judged: pushes the spans
/// of the names found and returns where the run ended, so the caller can skip it.
pub fn names_at(text: &str, i: usize, out: &mut impl FnMut(usize, usize, Kind, Confidence)) -> usize {
    let bytes = text.as_bytes();
    let mut words: [Word; RUN] = [Word { start: 0, end: 0, shape: Shape::Title, hash: 0 }; RUN];
    let mut count = 0;
    let mut pos = i;
    let mut run_end = i;
    loop {
        let initial = bytes.get(pos).is_some_and(u8::is_ascii_uppercase)
            && bytes.get(pos + 1) == Some(&b'.')
            && bytes.get(pos + 2).is_none_or(|c| *c == b' ');
        let w = if initial {
            Word { start: pos, end: pos + 2, shape: Shape::Initial, hash: 0 }
        } else {
            match word_at(text, pos) {
                Some(w) if matches!(w.shape, Shape::Title | Shape::Upper) => w,
                _ => break,
            }
        };
        // A date starts here (`DOB June 01, 1984`): the run ends before it.
        if count > 0
            && bytes.get(w.end) == Some(&b' ')
            && bytes.get(w.end + 1).is_some_and(u8::is_ascii_digit)
            && crate::date::is_month(&text[w.start..w.end])
        {
            break;
        }
        if count == RUN {
            // A long run of capitals (a heading, a line in ALL CAPS): judge the words
            // so far; the scan starts a new run where this one stopped.
            break;
        }
        words[count] = w;
        count += 1;
        run_end = w.end;
        // Next word: one space (or a line break inside a form), then optional
        // particles each followed by one space.
        let mut next = w.end;
        if bytes.get(next) != Some(&b' ') {
            break;
        }
        next += 1;
        loop {
            let mut w_end = next;
            while w_end < bytes.len() && w_end - next <= 5 && bytes[w_end].is_ascii_lowercase() {
                w_end += 1;
            }
            if w_end > next && bytes.get(w_end) == Some(&b' ') && is_in(&PARTICLES_TABLE, &text[next..w_end]) {
                next = w_end + 1;
            } else {
                break;
            }
        }
        if !bytes.get(next).is_some_and(|c| c.is_ascii_uppercase() || *c >= 0x80) {
            break;
        }
        pos = next;
    }
    if count == 0 {
        return i + 1;
    }
    for w in &mut words[..count] {
        w.hash = key(&text[w.start..w.end]);
    }
    let words = &words[..count];
    // `Saint Mary's Hospital`, `Moorfields Eye Hospital`: a place or an organisation.
    if bytes.get(run_end) == Some(&b'\'')
        && bytes.get(run_end + 1) == Some(&b's')
        && bytes.get(run_end + 2) == Some(&b' ')
    {
        if let Some(w) = word_at(text, run_end + 3) {
            if is_in(&PLACES_TABLE, &text[w.start..w.end]) {
                return run_end;
            }
        }
    }
    let mut reach = run_end;
    let mut emit = |s, e, kind, c| {
        reach = reach.max(e);
        out(s, e, kind, c);
    };
    // Places first (`Berlin`, `New York`, `North Garethbury`); the words around
    // them are judged as names.
    let (mut from, mut k) = (0, 0);
    while k < words.len() {
        match place_at(text, words, k) {
            Some(n) => {
                if k > from {
                    judge(text, &words[from..k], &mut |s, e, c| emit(s, e, Kind::Person, c));
                }
                emit(words[k].start, words[k + n - 1].end, Kind::Location, Confidence::Medium);
                k += n;
                from = k;
            }
            None => k += 1,
        }
    }
    if from < words.len() {
        judge(text, &words[from..], &mut |s, e, c| emit(s, e, Kind::Person, c));
    }
    reach
}

/// How many of the words from `k` on name a place, if they do.
fn place_at(text: &str, words: &[Word], k: usize) -> Option<usize> {
    let start = words[k].start;
    // Function words and the domain's capitalised words are no places; most words
    // of a run leave here, before the gazetteer is read.
    if words[k].shape == Shape::Initial || common_word(text, &words[k]) {
        return None;
    }
    let locative = || {
        let before = word_before(text, start);
        !before.is_empty() && crate::places::locative(before)
    };
    let longest = if crate::places::starts_a_longer_name(words[k].hash) { 3 } else { 1 };
    for n in (1..=longest.min(words.len() - k)).rev() {
        let ws = &words[k..k + n];
        if ws.iter().any(|w| w.shape == Shape::Initial) {
            continue;
        }
        let span = &text[start..ws[n - 1].end];
        let class = if n == 1 { crate::places::class_of_key(ws[0].hash) } else { crate::places::class(span) };
        if class == 0 {
            continue;
        }
        if honorific_before(text, start) {
            return None;
        }
        if n >= 2 {
            if class <= 3 || locative() {
                return Some(n);
            }
            continue;
        }
        let f = LEXICON.get(ws[0].hash);
        let person_like = f & GIVEN != 0 || f & SURNAME != 0 && f & WORD == 0;
        let plain_word = f & (WORD | COMMONEST) != 0 && !person_like;
        // `Austin Baker`: a name word followed by another makes a person.
        let next_named = words.get(k + 1).is_some_and(|w| LEXICON.get(w.hash) & (GIVEN | SURNAME) != 0);
        let after_given = k > 0 && LEXICON.get(words[k - 1].hash) & GIVEN != 0 && !common_word(text, &words[k - 1]);
        if person_like && (next_named || class > 3) || after_given {
            continue;
        }
        // `went to Paris`: after `to` only a city of 100,000 or more.
        let to_city = class <= 3 && word_before(text, start).eq_ignore_ascii_case("to");
        if !plain_word && (locative() || to_city)
            || !person_like && !plain_word && class <= 3
            || class <= 2 && f & GIVEN == 0 && !plain_word
        {
            return Some(1);
        }
    }
    // `Garethbury`, `North Jackfurt`
    let w = &text[start..words[k].end];
    if crate::places::town_shaped(w, LEXICON.get(words[k].hash)) {
        return Some(1);
    }
    if crate::places::town_prefix(w) && k + 1 < words.len() {
        let next = &text[words[k + 1].start..words[k + 1].end];
        if crate::places::town_shaped(next, LEXICON.get(words[k + 1].hash)) {
            return Some(2);
        }
    }
    None
}

/// A place in lower-case text after a word such as `in` or `near` (`in hanoi`,
/// `near new york`): where it ends.
pub fn lower_place_at(text: &str, i: usize) -> Option<usize> {
    let before = word_before(text, i);
    if before.is_empty() || !crate::places::locative(before) {
        return None;
    }
    let mut ends = [0usize; 3];
    let mut n = 0;
    let mut j = i;
    while n < 3 {
        let Some(w) = word_at(text, j).filter(|w| w.shape == Shape::Lower) else { break };
        ends[n] = w.end;
        n += 1;
        if text.as_bytes().get(w.end) != Some(&b' ') {
            break;
        }
        j = w.end + 1;
    }
    (0..n).rev().map(|k| ends[k]).find(|&e| {
        let span = &text[i..e];
        let class = crate::places::class(span);
        class > 0 && (class <= 3 || span.contains(' ')) && flags(span) & (WORD | COMMONEST) == 0
    })
}

/// Splits a run at the words that are not names and keeps the pieces that are.
fn judge(text: &str, words: &[Word], out: &mut impl FnMut(usize, usize, Confidence)) {
    let mut from = 0;
    for k in 0..=words.len() {
        let stop = k == words.len() || {
            let w = words[k];
            w.shape != Shape::Initial && common_word(text, &w)
        };
        if stop {
            // `Fiona Ward`, `Josh Lane`, `Thomas May`: a surname that is also a
            // common word, after a given name that is no word.
            if k < words.len() && k > from && surname_after_given(text, words[k - 1], words[k]) {
                piece(text, &words[from..=k], out);
                from = k + 1;
                continue;
            }
            let place = k < words.len() && is_in(&PLACES_TABLE, &text[words[k].start..words[k].end]);
            if k > from && !place {
                piece(text, &words[from..k], out);
            }
            from = k + 1;
        }
    }
}

fn surname_after_given(text: &str, given: Word, surname: Word) -> bool {
    let g = &text[given.start..given.end];
    let gf = flags(g);
    // A given name, or a word no list knows (`Ha-eun Park`, `Min-jun Lee`).
    (gf & GIVEN != 0 || gf == 0)
        && gf & (WORD | COMMONEST) == 0
        && !crate::date::is_month(g)
        && flags(&text[surname.start..surname.end]) & SURNAME != 0
        && ![
            "street",
            "st",
            "road",
            "rd",
            "avenue",
            "ave",
            "boulevard",
            "blvd",
            "crescent",
            "terrace",
            "square",
            "plaza",
        ]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(&text[surname.start..surname.end]))
}

/// `II`, `Jr.`: part of the name before it.
fn suffix(text: &str, end: usize) -> usize {
    let rest = &text.as_bytes()[end..];
    for s in [&b" Jr."[..], b", Jr.", b" Sr.", b", Sr.", b" Jr", b" Sr", b" III", b" II", b" IV"] {
        if rest.starts_with(s) && !rest.get(s.len()).is_some_and(|c| c.is_ascii_alphanumeric()) {
            return end + s.len();
        }
    }
    end
}

fn piece(text: &str, words: &[Word], out: &mut impl FnMut(usize, usize, Confidence)) {
    let mut fl = [0u8; RUN];
    let mut ev = [0i8; RUN];
    for ((f, e), w) in fl.iter_mut().zip(ev.iter_mut()).zip(words) {
        if w.shape != Shape::Initial {
            *f = LEXICON.get(w.hash);
            *e = evidence(*f, w.shape, &text[w.start..w.end]);
        }
    }
    // Trim plain words and initials off the ends (`Sarah Connor Returns`), and at the
    // start the commonest words that are no given names (`Call John Smith`).
    let (mut a, mut z) = (0, words.len());
    let opener = |k: usize| fl[k] & COMMONEST != 0 && fl[k] & GIVEN == 0;
    while a < z && (ev[a] < 0 || opener(a) || words[a].shape == Shape::Initial && a + 1 == z) {
        a += 1;
    }
    while z > a && (ev[z - 1] < 0 || words[z - 1].shape == Shape::Initial) {
        z -= 1;
    }
    if a == z {
        return;
    }
    let (ws, es, fs) = (&words[a..z], &ev[a..z], &fl[a..z]);
    let start = ws[0].start;
    let end = ws[ws.len() - 1].end;
    let real = ws.iter().filter(|w| w.shape != Shape::Initial).count();
    if real >= 2 {
        let mut score: i32 = es.iter().map(|&e| i32::from(e)).sum();
        if fs[0] & GIVEN != 0 && fs[fs.len() - 1] & SURNAME != 0 {
            score += 1;
        }
        let plain = es.iter().filter(|&&e| e < 0).count();
        if score < 3 && cued(text, start) {
            score += 1;
        }
        if score >= 2 && plain * 2 < real {
            out(start, suffix(text, end), Confidence::Medium);
        } else if score >= 1 && plain < real {
            out(start, suffix(text, end), Confidence::Low);
        }
        return;
    }
    // One word (perhaps with initials: `J. Smith`).
    let Some(k) = ws.iter().position(|w| w.shape != Shape::Initial) else { return };
    let (w, f) = (ws[k], fs[k]);
    let word = &text[w.start..w.end];
    if let Some(end) = inverted(text, &w, f) {
        out(start, end, Confidence::Medium);
        return;
    }
    let name = f & (GIVEN | SURNAME) != 0;
    // A given name alone: unless it is also a word and opens a sentence (`Will`,
    // `Grace`), or follows `San` or `St.` (a place).
    let alone = w.shape == Shape::Title
        && f & GIVEN != 0
        && f & COMMONEST == 0
        && !(f & WORD != 0 && sentence_start(text, w.start))
        && !crate::date::is_month(word)
        && !saint_before(text, w.start);
    // After a title any name or unknown word; after another cue (`agent`, `hi`) no
    // plain English word.
    let titled = honorific_before(text, start);
    let cue = titled || cued(text, start);
    let named = if titled { name && f & COMMONEST == 0 } else { name && f & (COMMONEST | WORD) == 0 };
    let accept = alone || (named || f == 0 && w.shape == Shape::Title) && (ws.len() > 1 || cue);
    if accept {
        out(start, end, Confidence::Medium);
    } else if w.shape == Shape::Title
        && f & COMMONEST == 0
        && (f & (GIVEN | SURNAME) != 0 || f == 0)
        && !crate::date::is_month(word)
        && !sentence_start(text, w.start)
    {
        // A capitalised word mid-sentence that is a name or no word at all.
        out(start, end, Confidence::Low);
    }
}

/// `Smith, John` (or `SMITH, JOHN A.`): a surname, a comma, then a given name.
fn inverted(text: &str, w: &Word, f: u8) -> Option<usize> {
    // A surname, or (in a form's capitals: `ONEAL, Carlos`) a word no list knows.
    if !(f & SURNAME != 0 || f == 0 && w.shape == Shape::Upper) || f & COMMONEST != 0 {
        return None;
    }
    let b = text.as_bytes();
    if b.get(w.end) != Some(&b',') || b.get(w.end + 1) != Some(&b' ') {
        return None;
    }
    let g = word_at(text, w.end + 2)?;
    if g.shape == Shape::Lower || g.shape == Shape::Upper && w.shape == Shape::Title {
        return None;
    }
    let gf = flags(&text[g.start..g.end]);
    if gf & GIVEN == 0 || gf & COMMONEST != 0 {
        return None;
    }
    let mut end = g.end;
    // A middle initial or a second given name.
    if b.get(end) == Some(&b' ') {
        if b.get(end + 1).is_some_and(u8::is_ascii_uppercase)
            && b.get(end + 2) == Some(&b'.')
            && !b.get(end + 3).is_some_and(u8::is_ascii_alphanumeric)
        {
            end += 3;
        } else if let Some(m) = word_at(text, end + 1) {
            if m.shape == g.shape && flags(&text[m.start..m.end]) & GIVEN != 0 && !is_common(&text[m.start..m.end]) {
                end = m.end;
            }
        }
    }
    Some(end)
}

// ---------------------------------------------------------------- mentions

/// Once a name is found, its parts name the same person wherever else they stand
/// alone in the text (`Theodore Maillet … Maillet, a former teacher`; `PAMELA
/// SIMMONS … PAMELA`): findings for every whole-word mention not already covered.
/// `known`: names found earlier in the same conversation (a stream's earlier parts).
/// `words`: where the words that may be mentions start (from the scan).
pub fn mentions<'a>(
    text: &'a str,
    found: &[crate::Finding],
    known: &'a [String],
    words: &[u32],
) -> Vec<crate::Finding> {
    let mut parts: Vec<&str> = Vec::new();
    let found_names = found
        .iter()
        .filter(|f| f.kind == Kind::Person && f.confidence >= Confidence::Medium)
        .map(|f| &text[f.start..f.end]);
    for name in found_names.chain(known.iter().map(String::as_str)) {
        for part in name.split(|c: char| c.is_whitespace() || c == ',') {
            let part = part.trim_end_matches('.');
            let letters = part.chars().filter(|c| c.is_alphabetic()).count();
            if letters < 3 || is_common(part) || is_in(&PARTICLES_TABLE, part) || flags(part) & COMMONEST != 0 {
                continue;
            }
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
    }
    if parts.is_empty() {
        return Vec::new();
    }
    let b = text.as_bytes();
    let mut covered = found.iter().map(|f| (f.start, f.end)).collect::<Vec<_>>();
    covered.sort_unstable();
    let mut out = Vec::new();
    let mut first = [false; 256];
    for p in &parts {
        first[usize::from(p.as_bytes()[0])] = true;
    }
    for &s in words {
        let s = s as usize;
        if !first[usize::from(b[s])] {
            continue;
        }
        let Some(part) = parts.iter().find(|p| b[s..].starts_with(p.as_bytes())) else { continue };
        let e = s + part.len();
        let letter = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if letter(text[e..].chars().next()) || b.get(e) == Some(&b'-') {
            continue;
        }
        let at = covered.partition_point(|&(_, end)| end <= s);
        if covered.get(at).is_some_and(|&(start, _)| start < e) {
            continue;
        }
        out.push(crate::Finding { start: s, end: e, kind: Kind::Person, confidence: Confidence::Medium });
    }
    out.sort_by_key(|f| f.start);
    out.dedup_by_key(|f| f.start);
    out
}

// ---------------------------------------------------------------- lower case

/// Lower-case names at `i`: after a cue (`dr patel`, `my name is maria lopez`), or
/// anywhere in text with no capitals at all (`all_lower`). Returns the name's end.
pub fn lower_name_at(text: &str, i: usize, all_lower: bool, cue: bool) -> Option<usize> {
    if !cue && !all_lower {
        return None;
    }
    let b = text.as_bytes();
    let w = word_at(text, i)?;
    let word = &text[w.start..w.end];
    if w.shape != Shape::Lower || w.end - w.start < 3 || is_common(word) || is_in(&PARTICLES_TABLE, word) {
        return None;
    }
    let f = flags(word);
    // After a cue, a name or a word no list knows (`ha-eun`); otherwise a name.
    let is_name = f & (GIVEN | SURNAME) != 0 && f & COMMONEST == 0;
    let first = is_name || cue && f & (COMMONEST | WORD) == 0;
    if !first {
        return None;
    }
    // Up to two more name words (`peace okonkwo`, `dương hoàng vũ`), perhaps with an
    // initial (`cosima g. heintze`).
    let mut end = w.end;
    let mut more = 0;
    let mut strong = f & (GIVEN | SURNAME) != 0 && f & WORD == 0;
    let mut j = w.end;
    while more < 2 && b.get(j) == Some(&b' ') {
        let mut k = j + 1;
        if b.get(k).is_some_and(u8::is_ascii_lowercase) && b.get(k + 1) == Some(&b'.') && b.get(k + 2) == Some(&b' ') {
            k += 3;
        }
        let Some(n) = word_at(text, k).filter(|n| n.shape == Shape::Lower && n.end - n.start >= 2) else { break };
        let nw = &text[n.start..n.end];
        let nf = flags(nw);
        let name = nf & (GIVEN | SURNAME) != 0 && nf & COMMONEST == 0 || cue && nf == 0;
        if is_common(nw) || !name {
            break;
        }
        strong |= nf & (GIVEN | SURNAME) != 0 && nf & WORD == 0;
        end = n.end;
        j = n.end;
        more += 1;
    }
    if cue {
        // One word after a cue must not be an English word.
        return (more > 0 && (strong || f & GIVEN != 0) || f & WORD == 0).then_some(end);
    }
    // Without a cue (text in lower case): two name words, not both English words.
    (more > 0 && f & GIVEN != 0 && strong).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut i = 0;
        let all_lower = !text.bytes().any(|c| c.is_ascii_uppercase());
        while i < text.len() {
            let at_start = i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric();
            let c = text[i..].chars().next().unwrap_or(' ');
            if at_start && c.is_uppercase() {
                i = names_at(text, i, &mut |s, e, k, c| {
                    if c >= Confidence::Medium && k == Kind::Person {
                        out.push(&text[s..e])
                    }
                });
            } else if at_start && c.is_lowercase() {
                let before = word_before(text, i);
                let cue = !before.is_empty() && is_cue(text, before, i - 1)
                    || matches!(before, "is" | "am") && cued(text, i - before.len() - 1);
                if let Some(e) = lower_name_at(text, i, all_lower, cue) {
                    out.push(&text[i..e]);
                    i = e;
                } else {
                    i += c.len_utf8();
                }
            } else {
                i += c.len_utf8();
            }
        }
        out
    }

    #[test]
    fn finds_names_and_skips_capitalised_words() {
        assert_eq!(names("Customer Felicitas Dowerg opened an account."), vec!["Felicitas Dowerg"]);
        assert_eq!(
            names("Dr. Seán O'Brien reviewed the MRI of Marie-Louise van der Berg."),
            vec!["Seán O'Brien", "Marie-Louise van der Berg"]
        );
        assert_eq!(names("Patient José García (DOB 1980-01-02)"), vec!["José García"]);
        assert!(names("The Quarterly Risk Report is attached. Please review it.").is_empty());
        assert!(names("SSN and IBAN were checked by AML Team.").is_empty());
        assert!(names("Monday Morning").is_empty());
        assert_eq!(names("Emergency contact: Hans-Walter Müller at home"), vec!["Hans-Walter Müller"]);
    }

    #[test]
    fn names_in_other_shapes() {
        assert_eq!(names("Seen by Dr. Okafor today."), vec!["Okafor"]);
        assert_eq!(names("Hi Priya, thanks for the update."), vec!["Priya"]);
        assert_eq!(names("PATIENT: JOHN SMITH"), vec!["JOHN SMITH"]);
        assert_eq!(names("Name: Kowalski, Anna M. (self)"), vec!["Kowalski, Anna M."]);
        assert_eq!(names("the caller said her name is maria lopez and"), vec!["maria lopez"]);
        assert_eq!(names("spoke with john smith about the card"), vec!["john smith"]);
        assert_eq!(names("The letter from John Q. Public arrived."), vec!["John Q. Public"]);
        assert_eq!(names("Sarah Connor Returns"), vec!["Sarah Connor"]);
        assert_eq!(names("Please welcome Ha-eun Park today"), vec!["Ha-eun Park"]);
        assert!(names("Subject: Right-to-work check").is_empty());
        assert_eq!(names("Hello, I'm unwell"), Vec::<&str>::new());
    }

    #[test]
    fn capitalised_things_that_are_not_people() {
        for text in [
            "Metformin Hydrochloride was started.",
            "Send it to Baker Street.",
            "Acme Health Partners signed.",
            "Saint Mary's Hospital",
            "See the Annual Report.",
            "ERROR Connection Refused",
            "May I ask you something?",
            "Grace period ends soon.",
        ] {
            assert!(names(text).is_empty(), "{text}: {:?}", names(text));
        }
    }
}
