//! The word lists compiled into the detector, as compact hash tables: the lexicon
//! of given names, surnames and English words (`data/lexicon.tsv`), and the table type
//! the gazetteer uses too.

use std::sync::LazyLock;

/// A given name.
pub const GIVEN: u8 = 1;
/// A surname.
pub const SURNAME: u8 = 2;
/// An English word.
pub const WORD: u8 = 4;
/// One of the thousand commonest English words.
pub const COMMONEST: u8 = 8;

/// A word list as an open-addressing table of 32-bit slots (a 28-bit fingerprint of
/// the word's hash and four bits of value): the lexicon's 176,000 words in 1 MiB, so
/// lookups mostly stay in cache.
pub struct Lexicon {
    slots: Vec<u32>,
    mask: usize,
}

impl Lexicon {
    /// From `word<TAB>value` lines; `value` turns the second column into four bits.
    pub fn build(text: &str, value: impl Fn(&str) -> u32) -> Self {
        let n = text.lines().count().max(1);
        let size = (n * 3 / 2).next_power_of_two();
        let mut lex = Self { slots: vec![0; size], mask: size - 1 };
        for line in text.lines() {
            let Some((word, v)) = line.split_once('\t') else { continue };
            let f = value(v) & 15;
            let h = key(word);
            let mut at = h as usize & lex.mask;
            loop {
                let slot = &mut lex.slots[at];
                if *slot == 0 {
                    *slot = Self::fingerprint(h) | f;
                    break;
                }
                if *slot & !15 == Self::fingerprint(h) {
                    *slot |= f;
                    break;
                }
                at = (at + 1) & lex.mask;
            }
        }
        lex
    }

    fn fingerprint(h: u64) -> u32 {
        ((h >> 36) as u32 | 1 << 27) << 4
    }

    pub fn get(&self, h: u64) -> u8 {
        let fp = Self::fingerprint(h);
        let mut at = h as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return 0;
            }
            if slot & !15 == fp {
                return (slot & 15) as u8;
            }
            at = (at + 1) & self.mask;
        }
    }
}

pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::build(include_str!("../data/lexicon.tsv"), |flags| {
        flags
            .bytes()
            .map(|c| match c {
                b'F' => GIVEN,
                b'L' => SURNAME,
                b'W' => WORD,
                b'C' => COMMONEST,
                _ => 0,
            })
            .fold(0, |a, f| a | u32::from(f))
    })
});

/// The lexicon key of a word: FNV-1a over its lower-case UTF-8.
pub fn key(word: &str) -> u64 {
    if word.is_ascii() {
        return fnv(word.as_bytes());
    }
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut buf = [0u8; 4];
    for c in word.chars().flat_map(char::to_lowercase) {
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

pub fn flags(word: &str) -> u8 {
    if word.len() > 32 {
        return 0;
    }
    LEXICON.get(key(word))
}

/// FNV-1a over lowercase ASCII.
pub fn fnv(word: &[u8]) -> u64 {
    word.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ u64::from(c.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3))
}
