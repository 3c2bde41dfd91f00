//! Places named in prose: countries, US states and the world's towns of 15,000
//! people or more (`data/places.tsv`, from GeoNames), and town names built the way
//! English-speaking countries build them (`Jacksonville`, `North Garethbury`: a name
//! and a town ending). A place that is also a person's name (`Florence`, `Jackson`)
//! is taken as a place only where the words before say so (`in`, `from`, `near`).

use std::sync::LazyLock;

use crate::lexicon::{self, Lexicon};

/// Class of a place: 1 a country or US state, 2 a city of a million or more, 3 of
/// 100,000 or more, 4 a smaller town (0: not a place).
static PLACES: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::build(include_str!("../data/places.tsv"), |class| class.trim().parse::<u32>().map_or(0, |c| c + 1))
});

/// The first words of places whose names have several (`New` of `New York`): a
/// 65,536-bit filter over their lexicon keys.
static FIRST_WORDS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut bits = vec![0u64; 1024];
    for line in include_str!("../data/places.tsv").lines() {
        if let Some((first, _)) = line.split_once(' ') {
            let h = lexicon::key(first);
            bits[(h >> 6 & 1023) as usize] |= 1 << (h & 63);
        }
    }
    bits
});

/// Whether a place's name of several words may start with the word of this key.
pub fn starts_a_longer_name(key: u64) -> bool {
    FIRST_WORDS[(key >> 6 & 1023) as usize] & (1 << (key & 63)) != 0
}

/// The class of the one-word place whose lexicon key is `key`.
pub fn class_of_key(key: u64) -> u8 {
    PLACES.get(key)
}

/// The class of the place named by `text` exactly (words separated by one space).
pub fn class(text: &str) -> u8 {
    if text.len() > 40 || text.len() < 3 {
        return 0;
    }
    PLACES.get(lexicon::key(text))
}

/// Words after which a capitalised word is a place rather than a person.
pub fn locative(word: &str) -> bool {
    [
        "in", "at", "near", "from", "outside", "visited", "between", "via", "towards", "toward", "around", "across",
        "into",
    ]
    .iter()
    .any(|w| w.eq_ignore_ascii_case(word))
}

/// Endings of English town names.
const TOWN_ENDINGS: &[&str] = &[
    "ville", "burgh", "borough", "bury", "town", "ton", "land", "berg", "view", "port", "mouth", "stad", "furt",
    "chester", "fort", "haven", "side", "shire", "field", "ford", "wood",
];

/// `Garethbury`, `Kimberlyview`: a given name or surname and a town ending, the
/// whole not itself a word the lexicon knows (`Preston`, `Ashford` are surnames
/// too); `flags` are the whole word's lexicon flags.
pub fn town_shaped(word: &str, flags: u8) -> bool {
    if flags != 0 || word.len() < 7 || !word.is_ascii() {
        return false;
    }
    let w = word.as_bytes();
    TOWN_ENDINGS.iter().any(|e| {
        w.len() >= e.len() + 3
            && w[w.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes())
            && lexicon::flags(&word[..word.len() - e.len()]) & (lexicon::GIVEN | lexicon::SURNAME) != 0
    })
}

/// Town prefixes that belong to the name (`North Jackfurt`, `Port Maxfort`).
pub fn town_prefix(word: &str) -> bool {
    ["north", "south", "east", "west", "new", "lake", "port", "mount", "fort", "upper", "lower", "old"]
        .iter()
        .any(|p| p.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_town_shapes() {
        for p in ["Berlin", "new york", "Hanoi", "Świnoujście", "Poland", "Bihar Sharif", "Munich"] {
            assert!(class(p) > 0, "{p}");
        }
        assert_eq!(class("Quarterly"), 0);
        assert_eq!(class("Hospital"), 0);
        let town = |w: &str| town_shaped(w, lexicon::flags(w));
        assert!(town("Garethbury"));
        assert!(town("Kimberlyview"));
        assert!(!town("Preston"), "a surname");
        assert!(!town("Tomorrow"));
    }
}
