//! Person names without a language model: runs of capitalised words (two or more,
//! with name particles such as `van` or `de` between them), minus words that are
//! capitalised for another reason: sentence openers, titles, and the vocabulary of
//! banks, hospitals and pharmaceutical companies that appears in capitals.

/// Lowercase words that may sit inside a name.
#[rustfmt::skip]
const PARTICLES: &[&str] =
    &["van", "von", "der", "den", "de", "da", "di", "del", "della", "la", "le", "du", "des", "auch", "ter", "zu", "y"];

/// Honorifics: context for a name, never part of it.
#[rustfmt::skip]
const TITLES: &[&str] = &["dr", "mr", "mrs", "ms", "miss", "prof", "sir", "madam", "dame", "rev", "fr", "sr", "jr"];

/// Capitalised words that are not names (compared in lowercase). Function words and
/// common sentence openers, then the domain vocabulary Warden's users write in
/// capitals: roles, departments, documents, and calendar words.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    // function words and openers
    "a", "an", "the", "this", "that", "these", "those", "there", "here", "it", "its", "we", "our", "you", "your",
    "he", "she", "they", "them", "his", "her", "their", "i", "my", "me", "us", "in", "on", "at", "for", "from", "to",
    "of", "by", "with", "and", "or", "but", "if", "when", "while", "after", "before", "during", "since", "until",
    "as", "per", "via", "no", "not", "yes", "all", "any", "each", "every", "some", "none", "please", "thank",
    "thanks", "dear", "hello", "hi", "regards", "best", "kind", "sincerely", "note", "see", "also", "new", "old",
    "total", "final", "next", "last", "first", "second", "third", "other", "another", "same", "only", "more",
    "most", "less", "further", "following", "above", "below", "attached", "today", "tomorrow", "yesterday",
    // calendar
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "q1", "q2", "q3", "q4",
    // people by role
    "customer", "client", "patient", "applicant", "beneficiary", "cardholder", "account", "holder", "user",
    "member", "subject", "participant", "investigator", "coordinator", "sponsor", "doctor", "nurse", "physician",
    "surgeon", "pharmacist", "manager", "officer", "analyst", "agent", "admin", "administrator", "owner",
    "reviewer", "approver", "auditor", "contact", "emergency", "guardian", "employee", "staff", "team", "support",
    "department", "dept", "unit", "ward", "clinic", "hospital", "bank", "branch", "site", "lab", "laboratory",
    "pharmacy", "company", "group", "committee", "board", "office", "service", "services", "desk", "center",
    "centre", "inc", "ltd", "llc", "gmbh", "plc", "corp", "corporation",
    // documents, processes and things
    "account", "accounts", "loan", "card", "credit", "debit", "wire", "transfer", "payment", "invoice", "claim",
    "claims", "insurance", "billing", "refund", "refunds", "chargeback", "statement", "balance", "amount",
    "reference", "order", "case", "ticket", "request", "report", "reports", "summary", "discharge", "admission",
    "diagnosis", "dosage", "dose", "batch", "lot", "trial", "study", "protocol", "consent", "enrollment",
    "adverse", "event", "events", "safety", "pharmacovigilance", "login", "password", "email", "phone", "address",
    "date", "birth", "policy", "review", "audit", "risk", "compliance", "model", "version", "release", "data",
    "dataset", "system", "server", "host", "network", "quarterly", "annual", "monthly", "weekly", "daily",
    "results", "result", "test", "tests", "mri", "scan", "lis", "edc", "kyc", "aml", "ssn", "iban", "tax",
    "beneficiaries", "investigators", "patients", "customers", "subjects",
];

/// FNV-1a over lowercase ASCII: list lookups compare integers, then one string.
fn fnv(word: &[u8]) -> u64 {
    word.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ u64::from(c.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3))
}

type Table = Vec<(u64, &'static str)>;

fn table(lists: &[&[&'static str]]) -> Table {
    let mut v: Table = lists.iter().flat_map(|l| l.iter().map(|w| (fnv(w.as_bytes()), *w))).collect();
    v.sort_unstable();
    v.dedup();
    v
}

static COMMON_TABLE: std::sync::LazyLock<Filtered> =
    std::sync::LazyLock::new(|| Filtered::new(table(&[COMMON, TITLES])));
static TITLES_TABLE: std::sync::LazyLock<Filtered> = std::sync::LazyLock::new(|| Filtered::new(table(&[TITLES])));
static PARTICLES_TABLE: std::sync::LazyLock<Filtered> = std::sync::LazyLock::new(|| Filtered::new(table(&[PARTICLES])));

/// A 4,096-bit filter over a table's hashes: most words are in no list, and leave
/// after one bit test.
struct Filtered {
    bits: [u64; 64],
    table: Table,
}

impl Filtered {
    fn new(table: Table) -> Self {
        let mut bits = [0u64; 64];
        for (h, _) in &table {
            bits[(*h >> 6 & 63) as usize] |= 1 << (h & 63);
        }
        Self { bits, table }
    }
}

fn is_in(list: &Filtered, word: &str) -> bool {
    if word.len() > 24 || !word.is_ascii() {
        return false;
    }
    let h = fnv(word.as_bytes());
    if list.bits[(h >> 6 & 63) as usize] & (1 << (h & 63)) == 0 {
        return false;
    }
    let list = &list.table;
    let at = list.partition_point(|(x, _)| *x < h);
    list[at..].iter().take_while(|(x, _)| *x == h).any(|(_, w)| w.eq_ignore_ascii_case(word))
}

/// Whether `word` is a capitalised word that is not a name.
pub fn is_common(word: &str) -> bool {
    is_in(&COMMON_TABLE, word)
}

pub fn is_title(word: &str) -> bool {
    is_in(&TITLES_TABLE, word)
}

/// The end of a capitalised word starting at `i` (an uppercase letter): letters, with
/// `-` or `'` joining capitalised parts (`Jean-Luc`, `O'Brien`). `None` unless the
/// word has at least one lowercase letter after its capital (`SSN` is not a name).
fn word_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    match b.get(i) {
        None => return None,
        Some(c) if c.is_ascii() && !c.is_ascii_uppercase() => return None,
        _ => {}
    }
    // Fast path: an ASCII capital, then ASCII lowercase up to a space or punctuation.
    if b.get(i).is_some_and(u8::is_ascii_uppercase) {
        let mut e = i + 1;
        while e < b.len() && b[e].is_ascii_lowercase() {
            e += 1;
        }
        let clean_end = e == b.len() || (b[e] < 0x80 && !b[e].is_ascii_alphanumeric() && !matches!(b[e], b'-' | b'\''));
        if e > i + 1 && clean_end {
            return Some(e);
        }
    }
    let mut chars = text[i..].char_indices().peekable();
    let (_, first) = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let mut end = i + first.len_utf8();
    let mut lower = 0;
    while let Some(&(off, c)) = chars.peek() {
        if c.is_lowercase() {
            lower += 1;
            end = i + off + c.len_utf8();
            chars.next();
        } else if c == '-' || c == '\'' || c == '\u{2019}' {
            // Joins only a capitalised continuation.
            let mut look = chars.clone();
            look.next();
            match look.peek() {
                Some(&(_, n)) if n.is_uppercase() => {
                    chars.next();
                    let (off2, n) = chars.next()?;
                    end = i + off2 + n.len_utf8();
                }
                _ => break,
            }
        } else if c.is_uppercase() && lower == 0 && c.is_alphabetic() {
            // `McDonald`-style capitals inside are fine once a lowercase letter came;
            // two capitals in a row at the start are an acronym.
            return None;
        } else if c.is_uppercase() {
            end = i + off + c.len_utf8();
            chars.next();
        } else {
            break;
        }
    }
    (lower > 0).then_some(end)
}

/// A run of name words starting at `i`: returns the span of the name (without leading
/// common words or titles) and where the run ended, so the caller can skip past it.
pub fn name_at(text: &str, i: usize) -> (Option<(usize, usize)>, usize) {
    let bytes = text.as_bytes();
    // At most eight words are looked at; longer runs of capitals are not names.
    let mut words: [(usize, usize); 8] = [(0, 0); 8];
    let mut count = 0;
    let mut pos = i;
    let mut run_end = i;
    while let Some(end) = word_end(text, pos) {
        if count == words.len() {
            return (None, end);
        }
        words[count] = (pos, end);
        count += 1;
        run_end = end;
        // Next word: one space, then optional particles each followed by one space.
        let mut next = end;
        if bytes.get(next) != Some(&b' ') {
            break;
        }
        next += 1;
        loop {
            // Particles are short ASCII words; anything else ends the check at once.
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
        if word_end(text, next).is_none() {
            break;
        }
        pos = next;
    }
    let words = &words[..count];
    if words.is_empty() {
        return (None, i + 1);
    }
    // A word followed by `.` is an abbreviation or ends a sentence: a title such as
    // `Dr.` stays context; otherwise the name may still end there.
    let titled = words.len() == 1 && is_title(&text[words[0].0..words[0].1]) && bytes.get(run_end) == Some(&b'.');
    if titled || words.len() < 2 {
        return (None, run_end.max(i + 1));
    }
    // Drop leading common words and titles, then require two words none of which is
    // common.
    let mut common = [false; 8];
    for (c, &(s, e)) in common.iter_mut().zip(words) {
        *c = is_common(&text[s..e]);
    }
    let common = &common[..words.len()];
    let first_name = common.iter().position(|c| !c).unwrap_or(words.len());
    if words.len() - first_name < 2 || common[first_name..].iter().any(|c| *c) {
        return (None, run_end.max(i + 1));
    }
    (Some((words[first_name].0, run_end)), run_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let at_start = i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric();
            if at_start && text[i..].chars().next().is_some_and(|c| c.is_uppercase()) {
                let (found, next) = name_at(text, i);
                if let Some((s, e)) = found {
                    out.push(&text[s..e]);
                }
                i = next;
            } else {
                i += text[i..].chars().next().map_or(1, |c| c.len_utf8());
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
}
