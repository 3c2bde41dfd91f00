//! Phone numbers: a shape found in one pass (digits in groups, `+`, `00`, `(0)`,
//! brackets around an area code, an `x123` extension), then decided by how much
//! the shape alone says and, where it says too little, by libphonenumber's
//! metadata (the `phonenumber` crate) for the regions Warden's users call.
//!
//! - `+44 20 7946 0958`, `0044 …`: an international number, decided by its length
//!   (8 to 15 digits) and grouping;
//! - `(415) 867-5309`, `415-867-5309`, `1-415-867-5309`: North American shapes;
//! - `020 7946 0958`, `06 12 34 56 78`, `(030) 1234567`: a national number with a
//!   trunk `0`, kept when it is a valid number of one of [`REGIONS`];
//! - anything else of 7 to 15 digits only after a word such as `phone`, `tel` or
//!   `call`, and only when valid somewhere.

use phonenumber::country::Id;

use crate::numbering;

/// Regions a national number (without `+`) is tried against, in order.
pub(crate) const REGIONS: &[Id] = &[
    Id::US,
    Id::GB,
    Id::DE,
    Id::FR,
    Id::ES,
    Id::IT,
    Id::NL,
    Id::BE,
    Id::CH,
    Id::AT,
    Id::SE,
    Id::PL,
    Id::IE,
    Id::PT,
    Id::DK,
    Id::NO,
    Id::FI,
    Id::AU,
    Id::NZ,
    Id::IN,
    Id::BR,
    Id::MX,
    Id::JP,
    Id::ZA,
    Id::SG,
    Id::CA,
];

/// A phone-shaped run of text.
#[derive(Debug)]
pub struct Shape {
    pub end: usize,
    digits: [u8; 20],
    count: usize,
    groups: usize,
    plus: bool,
    /// `00` then a country code.
    idd: bool,
    /// Brackets around the first group: `(415)`, `(030)`.
    area_brackets: bool,
    /// `(0)` after a country code.
    trunk_brackets: bool,
    /// Group lengths, for the North American shapes.
    lens: [u8; 8],
    seps: u8,
    mixed_seps: bool,
}

impl Shape {
    fn digits(&self) -> &[u8] {
        &self.digits[..self.count]
    }

    pub fn digit_count(&self) -> usize {
        self.count
    }
}

/// The phone-shaped run at `i` (a digit, `+` or `(`): digit groups joined by one
/// space, `-`, `.` or `/`, brackets around one group; ends on a digit (or an `x`
/// extension).
pub fn shape(b: &[u8], i: usize) -> Option<Shape> {
    let mut s = Shape {
        end: i,
        digits: [0; 20],
        count: 0,
        groups: 0,
        plus: false,
        idd: false,
        area_brackets: false,
        trunk_brackets: false,
        lens: [0; 8],
        seps: 0,
        mixed_seps: false,
    };
    let mut j = i;
    if b.get(j) == Some(&b'+') {
        s.plus = true;
        j += 1;
    }
    loop {
        // One group, perhaps in brackets.
        let bracket = b.get(j) == Some(&b'(');
        let gs = j + usize::from(bracket);
        let mut ge = gs;
        while ge < b.len() && b[ge].is_ascii_digit() {
            ge += 1;
        }
        if ge == gs || ge - gs > 12 {
            break;
        }
        if bracket {
            if b.get(ge) != Some(&b')') {
                break;
            }
            if &b[gs..ge] == b"0" && s.groups > 0 {
                s.trunk_brackets = true;
            } else if s.groups == 0 || (s.groups == 1 && (s.plus || s.count == 1)) {
                s.area_brackets = true;
            } else {
                break;
            }
        }
        for &d in &b[gs..ge] {
            if s.count == s.digits.len() {
                return None;
            }
            s.digits[s.count] = d;
            s.count += 1;
        }
        if s.groups < s.lens.len() {
            s.lens[s.groups] = (ge - gs) as u8;
        }
        s.groups += 1;
        j = ge + usize::from(bracket);
        s.end = j;
        // A separator, then another group (or a bracket right after a group).
        match b.get(j) {
            Some(&c @ (b' ' | b'-' | b'.' | b'/'))
                if b.get(j + 1).is_some_and(|n| n.is_ascii_digit() || *n == b'(') =>
            {
                if c != b'-' || !bracket {
                    if s.seps != 0 && s.seps != c {
                        s.mixed_seps = true;
                    }
                    s.seps = c;
                }
                j += 1;
            }
            Some(b'(') | Some(b'0'..=b'9') if bracket => {}
            Some(b'(') => {}
            _ => break,
        }
    }
    if s.count == 0 {
        return None;
    }
    if !s.plus && s.digits().starts_with(b"00") && s.digits().get(2).is_some_and(|&c| c != b'0') && s.count > 9 {
        s.idd = true;
    }
    // An extension written straight after: `555-0143x204`.
    if b.get(s.end) == Some(&b'x') && b.get(s.end + 1).is_some_and(u8::is_ascii_digit) {
        let mut e = s.end + 1;
        while e < b.len() && b[e].is_ascii_digit() && e - s.end <= 6 {
            e += 1;
        }
        s.end = e;
    }
    Some(s)
}

/// What the words before a number say of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `phone`, `tel`, `call me at`.
    Phone,
    /// `order`, `invoice`, `account`, `ref`: some other number.
    Other,
    None,
}

/// Whether the run is a phone number.
pub fn is_phone(s: &Shape, said: Context) -> bool {
    if said == Context::Other && !s.plus && !s.area_brackets {
        return false;
    }
    let context = said == Context::Phone;
    let d = s.digits();
    let n = d.len();
    if s.plus || s.idd {
        let n = n - if s.idd { 2 } else { 0 } - usize::from(s.trunk_brackets);
        let country = if s.idd { d.get(2) } else { d.first() };
        return (7..=15).contains(&n) && country.is_some_and(|&c| c != b'0') && (s.groups >= 2 || n >= 10 || context);
    }
    let lens = &s.lens[..s.groups.min(8)];
    // North America: (415) 867-5309, 415-867-5309, 415.867.5309, 1-415-867-5309:
    // area code and exchange start with 2 to 9.
    let nanp_at = |k: usize| d.get(k).is_some_and(|&c| c >= b'2') && d.get(k + 3).is_some_and(|&c| c >= b'2');
    let nanp = match lens {
        [3, 3, 4] => nanp_at(0) && (s.area_brackets || !s.mixed_seps),
        [1, 3, 3, 4] => d[0] == b'1' && nanp_at(1) && (s.area_brackets || !s.mixed_seps),
        [3, 7] => s.area_brackets && nanp_at(0),
        [10] => nanp_at(0) && context,
        _ => false,
    };
    if nanp && (s.seps != b' ' || s.area_brackets || context || valid_in(d, &[Id::US, Id::CA])) {
        return true;
    }
    if !(7..=13).contains(&n) || lens.iter().all(|&l| l == 4) && s.groups >= 3 {
        return false;
    }
    let grouped = s.groups >= 2 || s.area_brackets;
    // A national number with a trunk 0 (`020 7946 0958`, `(0115) 496 0483`,
    // `06 12 34 56 78`), written in groups the way numbers are: its shape is enough.
    if d[0] == b'0' && d.get(1) != Some(&b'0') && (9..=12).contains(&n) && grouped && s.seps != b'/' {
        return true;
    }
    // Anything else (`607 472 780`, `0261563416`) must be a valid number somewhere,
    // and grouped or after a word that says so.
    let reserved = matches!(lens, [3, 3, 4] | [3, 2, 4] | [1, 3, 3, 4]) || s.seps == b'/';
    (grouped && n >= 9 && !reserved || context || d[0] == b'0' && n >= 10) && valid_in(d, REGIONS)
}

/// Whether the run could be a phone number that no region calls valid (`Low`
/// confidence): grouped, of a phone's length, not a shape kept for other numbers.
pub fn maybe_phone(s: &Shape, said: Context) -> bool {
    let lens = &s.lens[..s.groups.min(8)];
    said != Context::Other
        && (8..=13).contains(&s.count)
        && (s.groups >= 2 || s.area_brackets)
        && s.seps != b'/'
        && !matches!(lens, [3, 2, 4])
        && !(lens.iter().all(|&l| l == 4) && s.groups >= 3)
}

fn valid_in(digits: &[u8], regions: &[Id]) -> bool {
    let Ok(national) = std::str::from_utf8(digits) else { return false };
    regions.iter().any(|&r| numbering::valid(r, national))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(t: &str, context: bool) -> Option<&str> {
        let s = shape(t.as_bytes(), 0)?;
        is_phone(&s, if context { Context::Phone } else { Context::None }).then(|| &t[..s.end])
    }

    #[test]
    fn numbers_of_many_countries() {
        for (t, want) in [
            ("+44 20 7946 0958", "+44 20 7946 0958"),
            ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
            ("0044 20 7946 0958", "0044 20 7946 0958"),
            ("020 7946 0958", "020 7946 0958"),
            ("07700 900123", "07700 900123"),
            ("+49 30 1234567", "+49 30 1234567"),
            ("+49 (0)30 12345678", "+49 (0)30 12345678"),
            ("030 12345678", "030 12345678"),
            ("0151 23456789", "0151 23456789"),
            ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
            ("06 12 34 56 78", "06 12 34 56 78"),
            ("01 42 68 53 00", "01 42 68 53 00"),
            ("+34 912 345 678", "+34 912 345 678"),
            ("+39 06 6982 1234", "+39 06 6982 1234"),
            ("+31 20 123 4567", "+31 20 123 4567"),
            ("(020) 123 4567", "(020) 123 4567"),
            ("+41 44 668 18 00", "+41 44 668 18 00"),
            ("+46 8 123 456 78", "+46 8 123 456 78"),
            ("+48 22 123 45 67", "+48 22 123 45 67"),
            ("+353 1 234 5678", "+353 1 234 5678"),
            ("+61 2 9876 5432", "+61 2 9876 5432"),
            ("(02) 9876 5432", "(02) 9876 5432"),
            ("+91 98765 43210", "+91 98765 43210"),
            ("+55 11 91234-5678", "+55 11 91234-5678"),
            ("+52 55 1234 5678", "+52 55 1234 5678"),
            ("+81 3-1234-5678", "+81 3-1234-5678"),
            ("+27 21 123 4567", "+27 21 123 4567"),
            ("(415) 867-5309", "(415) 867-5309"),
            ("415-867-5309", "415-867-5309"),
            ("415.867.5309", "415.867.5309"),
            ("1-415-867-5309", "1-415-867-5309"),
            ("001-415-867-5309x204", "001-415-867-5309x204"),
            ("+1 (415) 867-5309", "+1 (415) 867-5309"),
        ] {
            assert_eq!(phone(t, false), Some(want), "{t}");
        }
    }

    #[test]
    fn numbers_that_are_not_phones() {
        for t in [
            "2023 1234 5678",
            "12345678",
            "1.2.3.4",
            "0000 0000 00",
            "12/34/5678",
            "123 456",
            "123-456-7890",
            "4111 1111 1111",
        ] {
            assert_eq!(phone(t, false), None, "{t}");
        }
        // A bare run is a phone when valid and written with a trunk 0, or after a
        // word that says so; never when invalid.
        assert_eq!(phone("02079460958", false), Some("02079460958"));
        assert_eq!(phone("7946095812", false), None);
        assert_eq!(phone("00000000000", true), None);
        // Faker-style North American and European shapes.
        for t in
            ["(591)341-7776", "206.269.0743x9150", "+44(0)2074960603", "(029)2018683", "+31943-518999", "0494-301-852"]
        {
            assert_eq!(phone(t, false), Some(t), "{t}");
        }
    }
}
