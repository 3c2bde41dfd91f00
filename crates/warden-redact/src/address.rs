//! Postal addresses, on one line or several. An address is anchored on its street
//! line, which has a shape no sentence has: a house number then words ending in a
//! street word (`221B Baker Street`, `12, rue de Rivoli`), or a street word or
//! ending then a number (`Via Roma 1`, `Schleichstraße 19`). From there the lines
//! or comma-separated parts that follow are taken while they read as address parts:
//! a unit (`Apt. 4B`), a town, a state or county code, a postcode. Postcodes with a
//! shape of their own (the UK's, `NV 67261` after a state code) are found alone.

/// Street words that end a street name after a house number (compared in lower
/// case, with or without a trailing `.`): USPS suffixes and their abbreviations,
/// and the British, Irish and Australian ones.
#[rustfmt::skip]
const SUFFIXES: &[&str] = &[
    "street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "drive", "dr", "boulevard", "blvd", "way",
    "court", "ct", "place", "pl", "square", "sq", "terrace", "ter", "terr", "crescent", "cres", "close", "circle",
    "cir", "parkway", "pkwy", "highway", "hwy", "route", "rte", "trail", "trl", "path", "alley", "row", "mews",
    "gardens", "gdns", "grove", "heights", "hill", "hills", "park", "plaza", "point", "pike", "loop", "run", "walk",
    "ridge", "view", "vista", "crossing", "landing", "meadow", "meadows", "valley", "village", "ferry", "ford",
    "forks", "fort", "harbor", "harbour", "haven", "isle", "junction", "knoll", "lake", "lakes", "manor", "mill",
    "mills", "orchard", "pass", "pines", "port", "ranch", "shore", "shores", "spring", "springs", "station",
    "stravenue", "stream", "summit", "trace", "track", "tunnel", "turnpike", "viaduct", "wall", "well", "wells",
    "brook", "brooks", "burg", "burgs", "bypass", "camp", "canyon", "cape", "causeway", "center", "centre",
    "cliff", "cliffs", "club", "common", "corner", "corners", "course", "courts", "cove", "coves", "creek",
    "crest", "curve", "dale", "dam", "divide", "estate", "estates", "expressway", "extension", "fall", "falls",
    "field", "fields", "flat", "flats", "forest", "forge", "fork", "freeway", "garden", "gateway", "glen", "glens",
    "green", "greens", "groves", "hollow", "inlet", "island", "islands", "key", "keys", "knolls", "light",
    "lights", "lock", "locks", "lodge", "mall", "manors", "mission", "motorway", "mount", "mountain", "mountains",
    "neck", "oval", "overpass", "parks", "passage", "plain", "plains", "points", "ports", "prairie", "ramp",
    "rapid", "rapids", "rest", "river", "roads", "skyway", "spur", "squares", "streets", "throughway",
    "trafficway", "underpass", "union", "unions", "valleys", "views", "villages", "ville", "walks", "ways",
    "wynd", "broadway", "parade", "esplanade", "embankment", "quay", "wharf", "approach", "rise", "chase",
    "drove", "gate", "copse", "strand", "pathway", "circuit", "promenade", "bridge", "bridges", "end", "side",
    "yard", "fold", "market", "green",
];

/// Street words that come first, before the name and then the number (`Via Roma
/// 1`, `Calle Mayor 3`, `rue de Rivoli`).
#[rustfmt::skip]
const PREFIXES: &[&str] = &[
    "rue", "avenue", "boulevard", "bd", "chemin", "impasse", "allée", "allee", "quai", "cours", "place", "route",
    "calle", "avenida", "avda", "paseo", "camino", "cuesta", "ronda", "vial", "rambla", "pasaje", "plaza",
    "glorieta", "callejón", "callejon", "alameda", "travesía", "carrer", "via", "viale", "vicolo", "piazza",
    "piazzale", "strada", "incrocio", "borgo", "contrada", "corso", "largo", "rotonda", "rua", "travessa",
    "praça", "praca", "largo", "conjunto", "quadra", "setor", "rodovia", "estrada", "ulica", "ul", "aleja",
];

/// Endings of German, Dutch and Nordic street names (`Hauptstraße`, `Kerkstraat`).
#[rustfmt::skip]
const ENDINGS: &[&str] = &[
    "straße", "strasse", "str.", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "markt", "chaussee",
    "steig", "pfad", "straat", "laan", "gracht", "plein", "kade", "dreef", "singel", "dijk", "vej", "gade",
    "gatan", "vägen", "väg", "gränd", "veien", "gata",
];

/// Unit words after a street: `Apt. 4B`, `Suite 300`, `Flat 2`.
#[rustfmt::skip]
const UNITS: &[&str] = &[
    "apt", "apartment", "suite", "ste", "unit", "flat", "floor", "fl", "room", "rm", "building", "bldg", "po",
    "box", "appartamento", "piso", "puerta", "etage", "wohnung", "bus",
];

/// US states and territories, Canadian provinces, Australian states.
#[rustfmt::skip]
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP", "AA",
    "AE", "AP", "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT", "ACT", "NSW", "QLD",
    "TAS", "VIC",
];

fn lower_in(list: &[&str], word: &[u8]) -> bool {
    word.len() <= 14 && list.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(word))
}

/// The end of the word of letters (ASCII or not, `-` and `'` inside) at `i`.
fn word(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && (b[e].is_ascii_alphabetic() || b[e] >= 0x80 || (matches!(b[e], b'-' | b'\'') && e > i)) {
        e += 1;
    }
    while e > i && matches!(b[e - 1], b'-' | b'\'') {
        e -= 1;
    }
    e
}

fn digits(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && b[e].is_ascii_digit() {
        e += 1;
    }
    e
}

/// A house number at `i`: `221`, `221B`, `12-14`, `66/9`, `7/1`.
fn house_number(b: &[u8], i: usize) -> Option<usize> {
    let mut e = digits(b, i);
    if e == i || e - i > 6 {
        return None;
    }
    if matches!(b.get(e), Some(b'-' | b'/')) && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
        e = digits(b, e + 1);
    }
    if b.get(e).is_some_and(u8::is_ascii_alphabetic) && !b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric) {
        e += 1;
    }
    (!b.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
}

fn capital(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(|c| c.is_ascii_uppercase() || *c >= 0xC0)
}

/// A street line starting with its house number at `i`: `2328 Figueroa Skyway`,
/// `825, boulevard de François`, `97 Lynda Bridge`. Returns where the street ends.
fn number_first(b: &[u8], i: usize, all_lower: bool) -> Option<usize> {
    let mut j = house_number(b, i)?;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    j += 1;
    let first = j;
    // Up to five words; the street ends at the last street word among them.
    let mut end = None;
    for k in 0..5 {
        let ok_start = capital(b, j) || all_lower || b.get(j).is_some_and(u8::is_ascii_digit);
        let particle = k > 0 && matches!(b.get(j..j + 3), Some(b"de " | b"di " | b"da " | b"du "));
        let lower_first = k == 0 && b.get(j).is_some_and(u8::is_ascii_lowercase);
        if !(ok_start || particle || lower_first) {
            break;
        }
        // `42nd`, `5th`
        let we = if b.get(j).is_some_and(u8::is_ascii_digit) {
            let d = digits(b, j);
            let w = word(b, d);
            if w - d != 2 || k > 0 {
                break;
            }
            w
        } else {
            word(b, j)
        };
        if we == j {
            break;
        }
        let w = &b[j..we];
        // In lower-case text a street's words are no function words (`52 and she has`).
        if all_lower && std::str::from_utf8(w).is_ok_and(crate::names::is_common) && !lower_in(SUFFIXES, w) {
            break;
        }
        let dotted = b.get(we) == Some(&b'.');
        if k == 0 && lower_in(PREFIXES, w) {
            // `825, boulevard de François`: the rest of the name follows.
            end = name_words(b, we, 4).or(Some(we));
            break;
        }
        if k == 0 && !capital(b, j) && !all_lower {
            break;
        }
        if k > 0 && lower_in(SUFFIXES, w) {
            end = Some(we + usize::from(dotted));
            // `Ave NW`
            if b.get(end?) == Some(&b' ') {
                let d = word(b, end? + 1);
                if matches!(&b[end? + 1..d], b"N" | b"S" | b"E" | b"W" | b"NE" | b"NW" | b"SE" | b"SW") {
                    end = Some(d);
                }
            }
            if dotted {
                break;
            }
        } else if end.is_some() {
            break;
        }
        if dotted || b.get(we) != Some(&b' ') {
            break;
        }
        j = we + 1;
    }
    let end = end?;
    (end > first).then_some(end)
}

/// Up to `max` more name words (`de Rivoli`, `Lucie Fernandes`) after `at`.
fn name_words(b: &[u8], at: usize, max: usize) -> Option<usize> {
    let mut end = None;
    let mut j = at;
    for _ in 0..max {
        if b.get(j) != Some(&b' ') {
            break;
        }
        let we = word(b, j + 1);
        if we == j + 1 {
            break;
        }
        let w = &b[j + 1..we];
        let particle =
            matches!(w, b"de" | b"des" | b"du" | b"la" | b"le" | b"di" | b"del" | b"della" | b"da" | b"do" | b"dos");
        if !particle && !capital(b, j + 1) {
            break;
        }
        if !particle {
            end = Some(we);
        }
        j = we;
    }
    end
}

/// A street line starting with its name at `i` and ending with the number:
/// `Via Roma 1`, `Schleichstraße 19`, `Vicolo Sgalambro, 59`. Returns where the
/// number ends.
fn name_first(b: &[u8], i: usize) -> Option<usize> {
    let first = word(b, i);
    if first == i {
        return None;
    }
    let w = &b[i..first];
    let prefix = lower_in(PREFIXES, w);
    let ending = |x: &[u8]| {
        ENDINGS.iter().any(|e| x.len() > e.len() + 2 && x[x.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes()))
    };
    let mut end = if ending(w) {
        first
    } else if w.len() > 5 && w[w.len() - 3..].eq_ignore_ascii_case(b"str") && b.get(first) == Some(&b'.') {
        // `Hauptstr. 5`
        first + 1
    } else if prefix {
        name_words(b, first, 4)?
    } else {
        // `Oda-Preiß-Straße 1`, `Lange Straße 3`: a name then a word with an ending.
        let e = name_words(b, first, 3)?;
        let last = b[..e].iter().rposition(|&c| c == b' ' || c == b'-').map_or(i, |p| p + 1);
        if !ending(&b[last..e]) {
            return None;
        }
        e
    };
    if b.get(end) == Some(&b',') {
        end += 1;
    }
    if b.get(end) != Some(&b' ') {
        return None;
    }
    house_number(b, end + 1)
}

/// After a street ending at `end`: a unit, then town, state, postcode parts on the
/// same line (after `, `) or on up to three more lines.
fn tail(b: &[u8], mut end: usize, all_lower: bool) -> usize {
    // `Apt. 290`, `Suite 102`, `, Flat 2`
    let mut j = end;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) == Some(&b' ') {
        let we = word(b, j + 1);
        if we > j + 1 && lower_in(UNITS, &b[j + 1..we]) {
            let mut k = we + usize::from(b.get(we) == Some(&b'.'));
            if b.get(k) == Some(&b' ') {
                k += 1;
            }
            if b.get(k) == Some(&b'#') {
                k += 1;
            }
            let ue = unit_value(b, k);
            if ue > k {
                end = ue;
            }
        }
    }
    let mut lines = 0;
    loop {
        let mut j = end;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        let newline = match b.get(j) {
            Some(b'\n') => true,
            Some(b',') => false,
            // Without commas (a transcript: `4 johnson road toddfurt wa 2297`), a part
            // is taken only when it ends in a postcode.
            Some(_) if j > end => {
                match part(b, j, all_lower) {
                    Some(e) if b[j..e].iter().filter(|c| c.is_ascii_digit()).count() >= 4 => end = e,
                    _ => {}
                }
                break;
            }
            _ => break,
        };
        j += 1;
        while matches!(b.get(j), Some(b' ' | b'\r')) {
            j += 1;
        }
        if newline {
            lines += 1;
            if lines > 3 {
                break;
            }
        }
        match part(b, j, all_lower) {
            Some(e) => end = e,
            None => break,
        }
    }
    end
}

fn unit_value(b: &[u8], k: usize) -> usize {
    let mut e = k;
    while e < b.len() && b[e].is_ascii_alphanumeric() && e - k < 8 {
        e += 1;
    }
    if e > k && b[k..e].iter().any(u8::is_ascii_digit) && !b.get(e).is_some_and(u8::is_ascii_alphanumeric) {
        e
    } else {
        k
    }
}

/// One address part at `i`, up to the end of its line or the next comma: capitalised
/// words (a town: `Andreaborough`, `Port Maxfort`, `Campagna Lupia (VE)`), a state
/// code, postcodes (`62139`, `W88 6FJ`, `1012 TX`, `95896-935`), `/ BA`.
fn part(b: &[u8], i: usize, all_lower: bool) -> Option<usize> {
    let mut j = i;
    let mut end = None;
    let mut words = 0;
    while j < b.len() && words < 6 {
        let c = b[j];
        let e = if c.is_ascii_digit() {
            let d = digits(b, j);
            let postcode = (4..=8).contains(&(d - j)) || d - j == 3 && b.get(d) == Some(&b' ');
            if !postcode {
                // A number that is no postcode ends the address.
                if d - j <= 3 && end.is_some() {
                    break;
                }
                return end.filter(|_| d - j <= 3);
            }
            // `95896-935`, `1012 TX`, `5907JO`
            let mut d = d;
            if b.get(d) == Some(&b'-') && b.get(d + 1).is_some_and(u8::is_ascii_digit) {
                d = digits(b, d + 1);
            }
            let l = word(b, d);
            if l - d == 2 && b[d..l].iter().all(u8::is_ascii_uppercase) {
                d = l;
            }
            d
        } else if c == b'(' {
            // `(VE)`
            let close = b[j..b.len().min(j + 6)].iter().position(|&x| x == b')')?;
            j + close + 1
        } else if c == b'/' {
            j + 1
        } else if capital(b, j) || (all_lower && c.is_ascii_lowercase()) {
            let we = word(b, j);
            if we == j {
                break;
            }
            if let Some(pe) = uk_postcode(b, j) {
                pe
            } else {
                // A sentence goes on with lower-case words; a town does not.
                we
            }
        } else if c.is_ascii_lowercase() {
            let we = word(b, j);
            if !matches!(
                &b[j..we],
                b"de" | b"da" | b"do" | b"dos" | b"di" | b"del" | b"la" | b"le" | b"sur" | b"am" | b"im"
            ) {
                return end;
            }
            we
        } else {
            break;
        };
        end = Some(e);
        words += 1;
        j = e;
        match b.get(j) {
            Some(b' ') if matches!(b.get(j + 1), Some(b'\n')) => break,
            Some(b' ') => j += 1,
            _ => break,
        }
    }
    // An address part ends its line or meets a comma; a sentence would go on.
    let e = end?;
    let mut k = e;
    while b.get(k) == Some(&b' ') {
        k += 1;
    }
    matches!(b.get(k), None | Some(b'\n' | b',' | b'.' | b';' | b')' | b'\r' | b'"' | b'\'' | b'<' | b']' | b'|'))
        .then_some(e)
}

/// A UK postcode at `i`: `SW1A 1AA`, `NW1 6XE`, `M1 1AE`, `DN55 1PT`, `CR2 6XH`.
pub fn uk_postcode(b: &[u8], i: usize) -> Option<usize> {
    let up = |k: usize| b.get(k).is_some_and(u8::is_ascii_uppercase);
    let dig = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    // Outward code: A9, A99, AA9, AA99, A9A, AA9A.
    let mut j = i;
    if !up(j) {
        return None;
    }
    j += 1;
    if up(j) {
        j += 1;
    }
    if !dig(j) {
        return None;
    }
    j += 1;
    if dig(j) || up(j) {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    // Inward code: 9AA.
    let k = j + 1;
    (dig(k) && up(k + 1) && up(k + 2) && !b.get(k + 3).is_some_and(u8::is_ascii_alphanumeric)).then_some(k + 3)
}

/// `NV 67261`, `CA 94103-1234`: a state code and a ZIP code.
pub fn state_zip(b: &[u8], i: usize) -> Option<usize> {
    let we = word(b, i);
    if !(2..=3).contains(&(we - i)) || !STATES.iter().any(|s| s.as_bytes() == &b[i..we]) {
        return None;
    }
    let mut j = we;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    let d = digits(b, j + 1);
    if d - (j + 1) != 5 && d - (j + 1) != 4 {
        return None;
    }
    let mut e = d;
    if b.get(e) == Some(&b'-') && digits(b, e + 1) == e + 5 {
        e += 5;
    }
    (!b.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
}

/// Whether up to five words from `i` (letters, `-`, `'`, `.` in `Str.`) are followed
/// by a house number, perhaps after a comma.
fn number_after_words(b: &[u8], i: usize) -> bool {
    let mut j = i;
    let mut words = 0;
    while words < 5 {
        while j < b.len() && (b[j].is_ascii_alphabetic() || b[j] >= 0x80 || matches!(b[j], b'-' | b'\'' | b'.')) {
            j += 1;
        }
        words += 1;
        if b.get(j) == Some(&b',') {
            j += 1;
        }
        if b.get(j) != Some(&b' ') {
            return false;
        }
        j += 1;
        match b.get(j) {
            Some(c) if c.is_ascii_digit() => return true,
            // Street names are capitalised but for short particles (`de`, `di`).
            Some(c) if c.is_ascii_uppercase() || *c >= 0x80 => {}
            Some(c) if c.is_ascii_lowercase() && b.get(j + 2).is_some_and(|c| *c == b' ') => {}
            Some(c) if c.is_ascii_lowercase() && b.get(j + 3).is_some_and(|c| *c == b' ') => {}
            _ => return false,
        }
    }
    false
}

/// Where an address found at `i` starts: before a unit that opens it (`Flat 77,
/// Ashleigh Pines`, `Unit 94 388 Evans Street`).
pub fn start_before(b: &[u8], i: usize) -> usize {
    let mut s = i;
    while s > 0 && b[s - 1] == b' ' {
        s -= 1;
    }
    // `Unit 94 388`: a unit number first.
    let mut d = s;
    while d > 0 && b[d - 1].is_ascii_alphanumeric() && s - d < 6 {
        d -= 1;
    }
    let (mut w_end, mut unit_value) = (s, false);
    if d < s && b[d..s].iter().any(u8::is_ascii_digit) && d > 0 && b[d - 1] == b' ' {
        w_end = d - 1;
        unit_value = true;
    }
    let mut w = w_end;
    while w > 0 && b[w - 1].is_ascii_alphabetic() {
        w -= 1;
    }
    let word = &b[w..w_end];
    let unit = lower_in(UNITS, word) || word.eq_ignore_ascii_case(b"studio");
    match (unit, unit_value) {
        (true, true) => w,
        (true, false) if b.get(w_end) == Some(&b' ') && i == w_end + 1 => w,
        _ => i,
    }
}

/// An address starting at `i`: a street line and its tail.
pub fn at(b: &[u8], i: usize, all_lower: bool) -> Option<usize> {
    let street = if b[i].is_ascii_digit() {
        number_first(b, i, all_lower)?
    } else {
        // A street named first ends in its number: the words must be followed by one.
        if !number_after_words(b, i) {
            return None;
        }
        name_first(b, i)?
    };
    Some(tail(b, street, all_lower))
}

/// Where the town before a `, NV 67261` starts (`Andreaborough, NV 67261`), if one
/// does: capitalised words back to the start of the line or a comma.
pub fn town_before(b: &[u8], state: usize) -> usize {
    let mut s = state;
    if s >= 2 && &b[s - 2..s] == b", " {
        s -= 2;
    } else {
        return state;
    }
    let mut start = state;
    let mut k = s;
    for _ in 0..3 {
        let mut w = k;
        while w > 0 && (b[w - 1].is_ascii_alphabetic() || b[w - 1] >= 0x80 || b[w - 1] == b'-') {
            w -= 1;
        }
        if w == k || !capital(b, w) {
            break;
        }
        start = w;
        if w > 0 && b[w - 1] == b' ' && w >= 2 && b[w - 2] != b',' && b[w - 2] != b'\n' {
            k = w - 1;
        } else {
            break;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(t: &str) -> Option<&str> {
        at(t.as_bytes(), 0, false).map(|e| &t[..e])
    }

    #[test]
    fn addresses_on_one_line_and_several() {
        for (t, want) in [
            (
                "9791 Regina Mountains\nAndreaborough, VT 62139 is home",
                "9791 Regina Mountains\nAndreaborough, VT 62139",
            ),
            (
                "2328 Figueroa Skyway Apt. 290\nKimberlyview, NJ 78456",
                "2328 Figueroa Skyway Apt. 290\nKimberlyview, NJ 78456",
            ),
            ("221B Baker Street, London NW1 6XE. Call", "221B Baker Street, London NW1 6XE"),
            ("97 Lynda Bridge\nSmithbury\nW88 6FJ", "97 Lynda Bridge\nSmithbury\nW88 6FJ"),
            ("1600 Pennsylvania Avenue NW, Washington, DC 20500", "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
            ("Schleichstraße 19\n48337 Lichtenfels", "Schleichstraße 19\n48337 Lichtenfels"),
            ("Oda-Preiß-Straße 1\n90404 Sangerhausen", "Oda-Preiß-Straße 1\n90404 Sangerhausen"),
            ("825, boulevard de François\n77113 Poirier-sur-Mer", "825, boulevard de François\n77113 Poirier-sur-Mer"),
            ("Via Roma 1, 00184 Roma", "Via Roma 1, 00184 Roma"),
            ("Vicolo Sgalambro, 59\n30010, Campagna Lupia (VE)", "Vicolo Sgalambro, 59\n30010, Campagna Lupia (VE)"),
            ("Sarastraat 9\n5907JO\nHasselt", "Sarastraat 9\n5907JO\nHasselt"),
            ("12 Main St. in town", "12 Main St."),
        ] {
            assert_eq!(addr(t), Some(want), "{t:?}");
        }
    }

    #[test]
    fn sentences_with_numbers_are_not_addresses() {
        for t in
            ["25 degrees in the Park", "3 Tablets daily", "12 Patients were seen", "2 Factor Authentication", "10 mg"]
        {
            assert_eq!(addr(t), None, "{t}");
        }
        assert_eq!(uk_postcode(b"SW1A 1AA", 0), Some(8));
        assert_eq!(uk_postcode(b"ABC 123", 0), None);
        assert_eq!(state_zip(b"NV 67261,", 0), Some(8));
        assert_eq!(state_zip(b"XX 67261", 0), None);
        let t = b"Andreaborough, VT 62139";
        assert_eq!(town_before(t, 15), 0);
    }
}
