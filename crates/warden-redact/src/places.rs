//! Places named in prose: countries, US states and the world's towns of 15,000
//! people or more (`data/places.tsv`, from GeoNames), and town names built the way
//! English-speaking countries build them (`Jacksonville`, `North Garethbury`: a name
//! and a town ending). A place that is also a person's name (`Florence`, `Jackson`)
//! is taken as a place only where the words before say so (`in`, `from`, `near`).

use std::sync::LazyLock;

use crate::names::{self, Lexicon};

/// Class of a place: 1 a country or US state, 2 a city of a million or more, 3 of
/// 100,000 or more, 4 a smaller town (0: not a place).
static PLACES: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::build(include_str!("../data/places.tsv"), |class| class.trim().parse::<u32>().map_or(0, |c| c + 1))
});

/// The class of the place named by `text` exactly (words separated by one space).
pub fn class(text: &str) -> u8 {
    if text.len() > 40 || text.len() < 3 {
        return 0;
    }
    PLACES.get(names::key(text))
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
/// whole not itself a name (`Preston`, `Ashford` are surnames too).
pub fn town_shaped(word: &str) -> bool {
    if word.len() < 7 || !word.is_ascii() {
        return false;
    }
    let w = word.as_bytes();
    TOWN_ENDINGS.iter().any(|e| {
        w.len() >= e.len() + 3 && w[w.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes()) && {
            let stem = &word[..word.len() - e.len()];
            let f = names::flags(stem);
            let stem_named = f & (1 | 2) != 0;
            stem_named && names::flags(word) == 0
        }
    })
}

/// Town prefixes that belong to the name (`North Jackfurt`, `Port Maxfort`).
pub fn town_prefix(word: &str) -> bool {
    ["north", "south", "east", "west", "new", "lake", "port", "mount", "fort", "east", "upper", "lower", "old"]
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
        assert!(town_shaped("Garethbury"));
        assert!(town_shaped("Kimberlyview"));
        assert!(!town_shaped("Preston"), "a surname");
        assert!(!town_shaped("Tomorrow"));
    }
}
