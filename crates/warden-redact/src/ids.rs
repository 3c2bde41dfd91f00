//! Identifiers: the national numbers that carry a checksum (found anywhere), and
//! the record, plan, account, licence, passport, plate and device numbers HIPAA's
//! Safe Harbor lists, which look like any other code and are found after the words
//! that name them (`MRN`, `member ID`, `account no.`, `passport`, `serial`).

use crate::Kind;

fn digits(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && b[e].is_ascii_digit() {
        e += 1;
    }
    e
}

fn num(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |a, d| a.wrapping_mul(10).wrapping_add(u64::from(d - b'0')))
}

fn word_end(b: &[u8], e: usize) -> bool {
    let goes_on = b.get(e).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let joined = matches!(b.get(e), Some(b'-' | b'.' | b'/')) && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric);
    !(goes_on || joined)
}

// ---------------------------------------------------------------- checksums

/// Spain's DNI/NIF: eight digits and the letter of their remainder mod 23.
pub fn es_nif(b: &[u8]) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    b.len() == 9
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8].to_ascii_uppercase() == LETTERS[(num(&b[..8]) % 23) as usize]
}

/// Spain's NIE: X, Y or Z (for 0, 1, 2), seven digits, the NIF letter.
pub fn es_nie(b: &[u8]) -> bool {
    if b.len() != 9 {
        return false;
    }
    let lead = match b[0] {
        b'X' => b'0',
        b'Y' => b'1',
        b'Z' => b'2',
        _ => return false,
    };
    let mut v = [0u8; 9];
    v[0] = lead;
    v[1..].copy_from_slice(&b[1..]);
    es_nif(&v)
}

/// Poland's PESEL: eleven digits, weights 1 3 7 9, and a birth date that exists
/// (the month carries the century: +20 for the 2000s).
pub fn pl_pesel(b: &[u8]) -> bool {
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = b[..10].iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    if (10 - sum % 10) % 10 != u32::from(b[10] - b'0') {
        return false;
    }
    let (yy, mm, dd) = (num(&b[0..2]) as u32, num(&b[2..4]) as u32, num(&b[4..6]) as u32);
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        _ => return false,
    };
    crate::date::valid(century + yy, month, dd)
}

/// France's NIR (INSEE number): sex, year, month, place, order, then a key of
/// 97 minus the first thirteen digits mod 97 (Corsica's 2A/2B count as 19/18).
pub fn fr_nir(b: &[u8]) -> bool {
    if b.len() != 15 || !matches!(b[0], b'1' | b'2') {
        return false;
    }
    let mut body = [0u8; 13];
    body.copy_from_slice(&b[..13]);
    let corsica = match &body[5..7] {
        b"2A" | b"2a" => Some(1_000_000),
        b"2B" | b"2b" => Some(2_000_000),
        _ => None,
    };
    if corsica.is_some() {
        body[5] = b'1';
        body[6] = if b[6].eq_ignore_ascii_case(&b'A') { b'9' } else { b'8' };
    }
    if !body.iter().all(u8::is_ascii_digit) || !b[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = num(&body[3..5]);
    if !((1..=12).contains(&month) || (20..=42).contains(&month) || month >= 50) {
        return false;
    }
    97 - num(&body) % 97 == num(&b[13..15])
}

/// Germany's tax identification number (Steuer-ID): eleven digits, the first not 0,
/// one digit of the first ten repeated (twice or thrice), and an ISO 7064 MOD 11,10
/// check digit.
pub fn de_tax_id(b: &[u8]) -> bool {
    if b.len() != 11 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut counts = [0u8; 10];
    for d in &b[..10] {
        counts[usize::from(d - b'0')] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c > 1).count();
    if repeated != 1 || counts.iter().any(|&c| c > 3) {
        return false;
    }
    let mut product = 10u32;
    for d in &b[..10] {
        let mut sum = (u32::from(d - b'0') + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == u32::from(b[10] - b'0')
}

/// The UK's NHS number: ten digits, weights 10 to 2, mod 11.
pub fn uk_nhs(b: &[u8]) -> bool {
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..9].iter().zip((2..=10).rev()).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == u32::from(b[9] - b'0') && b.iter().any(|&d| d != b[0])
}

/// Italy's codice fiscale: six letters, two digits, a month letter, two digits, a
/// letter and three digits (digits may be swapped for letters on collisions), and a
/// check letter.
pub fn it_fiscal_code(b: &[u8]) -> bool {
    if b.len() != 16 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let u: Vec<u8> = b.iter().map(u8::to_ascii_uppercase).collect();
    let letters_at = [0, 1, 2, 3, 4, 5, 8, 11, 15];
    if !letters_at.iter().all(|&k| u[k].is_ascii_uppercase()) || !b"ABCDEHLMPRST".contains(&u[8]) {
        return false;
    }
    // Digits or their omocodia letters.
    let omocodia = b"LMNPQRSTUV";
    if ![6, 7, 9, 10, 12, 13, 14].iter().all(|&k| u[k].is_ascii_digit() || omocodia.contains(&u[k])) {
        return false;
    }
    const ODD: [u32; 26] =
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
    let value = |c: u8, odd: bool| -> u32 {
        let k = if c.is_ascii_digit() { usize::from(c - b'0') } else { usize::from(c - b'A') };
        if odd {
            ODD[k]
        } else {
            k as u32
        }
    };
    let sum: u32 = u[..15].iter().enumerate().map(|(k, &c)| value(c, k % 2 == 0)).sum();
    u[15] == b'A' + (sum % 26) as u8
}

/// A US DEA registration number: two letters, seven digits, a weighted check digit.
pub fn dea(b: &[u8]) -> bool {
    if b.len() != 9 || !b"ABCDEFGHJKLMPRSTUX".contains(&b[0]) || !(b[1].is_ascii_uppercase() || b[1] == b'9') {
        return false;
    }
    let d = &b[2..];
    if !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v = |k: usize| u32::from(d[k] - b'0');
    (v(0) + v(2) + v(4) + 2 * (v(1) + v(3) + v(5))) % 10 == v(6)
}

/// A vehicle identification number (ISO 3779) with the North American check digit
/// in position 9.
pub fn vin(b: &[u8]) -> bool {
    if b.len() != 17 {
        return false;
    }
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let mut sum = 0;
    let mut letters = 0;
    for (k, &c) in b.iter().enumerate() {
        let v = match c.to_ascii_uppercase() {
            c @ b'0'..=b'9' => u32::from(c - b'0'),
            b'A' | b'J' => 1,
            b'B' | b'K' | b'S' => 2,
            b'C' | b'L' | b'T' => 3,
            b'D' | b'M' | b'U' => 4,
            b'E' | b'N' | b'V' => 5,
            b'F' | b'W' => 6,
            b'G' | b'P' | b'X' => 7,
            b'H' | b'Y' => 8,
            b'R' | b'Z' => 9,
            _ => return false,
        };
        letters += usize::from(c.is_ascii_alphabetic());
        sum += v * W[k];
    }
    let check = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    letters >= 2 && b[8].to_ascii_uppercase() == check
}

// ---------------------------------------------------------------- found anywhere

/// A checksummed identifier starting at `i` (a digit or a capital), with its kind
/// and end.
pub fn checked_at(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    let mut e = i;
    let mut digits = 0;
    while e < b.len() && b[e].is_ascii_alphanumeric() && e - i <= 17 {
        digits += usize::from(b[e].is_ascii_digit());
        e += 1;
    }
    // Every checksummed number has digits; most words leave here.
    if digits == 0 || !matches!(e - i, 1 | 2 | 9 | 11 | 15 | 16 | 17) {
        return None;
    }
    if e - i == 2 {
        return spaced_tax_id(b, i);
    }
    if !word_end(b, e) {
        // `1 84 12 76 451 089 46`: a NIR written in its groups.
        return spaced_nir(b, i);
    }
    let t = &b[i..e];
    let kind = match t.len() {
        9 if es_nif(t) => Kind::EsNif,
        9 if es_nie(t) => Kind::EsNif,
        9 if dea(t) => Kind::MedicalLicense,
        11 if pl_pesel(t) => Kind::PlPesel,
        11 if de_tax_id(t) => Kind::DeTaxId,
        15 if fr_nir(t) => Kind::FrNir,
        16 if it_fiscal_code(t) => Kind::ItFiscalCode,
        17 if vin(t) => Kind::Vin,
        _ => return spaced_nir(b, i),
    };
    Some((kind, e))
}

/// Groups of the given sizes from `i`, joined by one of `seps` (or, when
/// `optional`, by nothing); `ok(k, c)`: whether byte `c` may stand in group `k`.
/// The groups run together, and where the last ends (at a word's end).
fn grouped<const N: usize>(
    b: &[u8],
    i: usize,
    sizes: &[usize],
    seps: &[u8],
    optional: bool,
    ok: impl Fn(usize, u8) -> bool,
) -> Option<([u8; N], usize)> {
    let mut compact = [0u8; N];
    let (mut j, mut n) = (i, 0);
    for (k, &g) in sizes.iter().enumerate() {
        if k > 0 {
            match b.get(j) {
                Some(c) if seps.contains(c) => j += 1,
                _ if optional => {}
                _ => return None,
            }
        }
        let part = b.get(j..j + g)?;
        if !part.iter().all(|&c| ok(k, c)) {
            return None;
        }
        compact.get_mut(n..n + g)?.copy_from_slice(part);
        n += g;
        j += g;
    }
    (n == N && word_end(b, j)).then_some((compact, j))
}

fn digits_only(_: usize, c: u8) -> bool {
    c.is_ascii_digit()
}

/// Germany's Steuer-ID as it is printed: `40 079 862 159`.
fn spaced_tax_id(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    let (compact, end) = grouped::<11>(b, i, &[2, 3, 3, 3], b" ", false, digits_only)?;
    de_tax_id(&compact).then_some((Kind::DeTaxId, end))
}

/// France's NIR as it is printed: `1 84 12 76 451 089 46` (the department may be
/// Corsica's `2A` or `2B`).
fn spaced_nir(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    let department = |k: usize, c: u8| c.is_ascii_digit() || k == 3 && c.is_ascii_alphabetic();
    let (compact, end) = grouped::<15>(b, i, &[1, 2, 2, 2, 3, 3, 2], b" ", false, department)?;
    fr_nir(&compact).then_some((Kind::FrNir, end))
}

/// A UK NHS number at `i` (`943 476 5919`, `943-476-5919`, `9434765919`), kept only
/// after `NHS`.
pub fn nhs_at(b: &[u8], i: usize) -> Option<usize> {
    let (compact, end) = grouped::<10>(b, i, &[3, 3, 4], b" -", true, digits_only)?;
    uk_nhs(&compact).then_some(end)
}

// ---------------------------------------------------------------- after a cue

/// Words that announce a number, and its kind. Some depend on the word before
/// (`medical record`, `driver's license`; `order ID` is not about a person).
const CUES: &[(&str, Kind)] = &[
    ("mrn", Kind::MedicalRecord),
    ("chart", Kind::MedicalRecord),
    ("record", Kind::MedicalRecord),
    ("member", Kind::HealthPlan),
    ("subscriber", Kind::HealthPlan),
    ("medicaid", Kind::HealthPlan),
    ("medicare", Kind::HealthPlan),
    ("beneficiary", Kind::HealthPlan),
    ("account", Kind::BankAccount),
    ("acct", Kind::BankAccount),
    ("licence", Kind::License),
    ("license", Kind::License),
    ("certificate", Kind::License),
    ("npi", Kind::License),
    ("dl", Kind::DriverLicense),
    ("passport", Kind::Passport),
    ("plate", Kind::LicensePlate),
    ("plates", Kind::LicensePlate),
    ("registration", Kind::LicensePlate),
    ("reg", Kind::LicensePlate),
    ("hospital", Kind::MedicalRecord),
    ("serial", Kind::DeviceId),
    ("imei", Kind::DeviceId),
    ("udid", Kind::DeviceId),
    ("sn", Kind::DeviceId),
    ("device", Kind::DeviceId),
    ("vin", Kind::Vin),
    ("chassis", Kind::Vin),
    ("nhs", Kind::UkNhs),
    ("itin", Kind::UsItin),
    ("ssn", Kind::UsSsn),
    ("security", Kind::UsSsn),
    ("ein", Kind::Identifier),
    ("tin", Kind::Identifier),
    ("nino", Kind::Identifier),
    ("dni", Kind::EsNif),
    ("nif", Kind::EsNif),
    ("nie", Kind::EsNif),
    ("pesel", Kind::PlPesel),
    ("insee", Kind::FrNir),
    ("nir", Kind::FrNir),
    ("idnr", Kind::DeTaxId),
    ("steuer", Kind::DeTaxId),
    ("id", Kind::Identifier),
    ("identifier", Kind::Identifier),
    ("employee", Kind::Identifier),
    ("badge", Kind::Identifier),
    ("patient", Kind::Identifier),
];

/// For each first and last letter of a cue, the lengths it comes in.
static SHAPES: [u16; 26 * 26] = {
    let mut t = [0u16; 26 * 26];
    let mut k = 0;
    while k < CUES.len() {
        let w = CUES[k].0.as_bytes();
        t[(w[0] - b'a') as usize * 26 + (w[w.len() - 1] - b'a') as usize] |= 1 << w.len();
        k += 1;
    }
    t
};

/// The kind of number the word `word` (ASCII letters) announces, if any; `before`
/// is the word before it.
pub fn cue(word: &str, before: impl FnOnce() -> String) -> Option<Kind> {
    let w = word.as_bytes();
    let (&first, &last) = (w.first()?, w.last()?);
    let slot = usize::from(first.to_ascii_lowercase().wrapping_sub(b'a')) * 26
        + usize::from(last.to_ascii_lowercase().wrapping_sub(b'a'));
    if w.len() > 15 || SHAPES.get(slot).is_none_or(|lens| lens & (1 << w.len()) == 0) {
        return None;
    }
    let (name, kind) = CUES.iter().find(|(c, _)| c.eq_ignore_ascii_case(word))?;
    let needs_before =
        matches!(*name, "record" | "licence" | "license" | "id" | "patient" | "registration" | "security");
    if !needs_before {
        return Some(*kind);
    }
    let b = before().to_ascii_lowercase();
    match *name {
        "record" => (!matches!(b.as_str(), "criminal" | "track" | "world" | "police" | "sales" | "service" | "off"))
            .then_some(Kind::MedicalRecord),
        "licence" | "license" if matches!(b.as_str(), "driver's" | "drivers" | "driver" | "driving" | "s") => {
            Some(Kind::DriverLicense)
        }
        "registration" if b == "vehicle" || b == "car" => Some(Kind::LicensePlate),
        "registration" => None,
        "security" => (b == "social").then_some(Kind::UsSsn),
        "id" | "patient" if matches!(b.as_str(), "order" | "transaction" | "request" | "session" | "trace") => None,
        "id" if matches!(b.as_str(), "member" | "subscriber" | "plan") => Some(Kind::HealthPlan),
        "id" if b == "patient" => Some(Kind::MedicalRecord),
        _ => Some(*kind),
    }
}

/// The value after a cue: one code of letters and digits (`00482913`,
/// `A-7734021`, `XJH448120033`), with at least two digits.
pub fn value_at(b: &[u8], i: usize) -> Option<usize> {
    let mut e = i;
    let mut digits_seen = 0;
    while e < b.len() && e - i <= 24 {
        let c = b[e];
        if c.is_ascii_alphanumeric() {
            digits_seen += usize::from(c.is_ascii_digit());
            e += 1;
        } else if matches!(c, b'-' | b'/' | b'.') && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric) {
            e += 1;
        } else {
            break;
        }
    }
    (e - i >= 4 && e - i <= 24 && digits_seen >= 2 && word_end(b, e)).then_some(e)
}

/// Nine digits (`207589370`, `207 58 9370`) in the SSA's issued ranges.
pub fn ssn_shaped(t: &[u8]) -> bool {
    let d: Vec<u8> = t.iter().copied().filter(u8::is_ascii_digit).collect();
    d.len() == 9
        && t.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b' '))
        && crate::check::ssn(&d[..3], &d[3..5], &d[5..])
}

/// A licence plate after its cue: one code (`VC03JUM`, `ABC-1234`) or two short
/// groups (`QQV 36T`, `IO72 NKZ`, `oxr 9t08`).
pub fn plate_at(b: &[u8], i: usize) -> Option<usize> {
    let group = |s: usize| {
        let mut e = s;
        while e < b.len() && b[e].is_ascii_alphanumeric() && e - s < 8 {
            e += 1;
        }
        e
    };
    let e1 = group(i);
    if e1 == i {
        return None;
    }
    let mut e = e1;
    if b.get(e1) == Some(&b' ') || b.get(e1) == Some(&b'-') {
        let e2 = group(e1 + 1);
        if e2 > e1 + 1 && e2 - i <= 10 && word_end(b, e2) {
            e = e2;
        }
    }
    let t = &b[i..e];
    let digits = t.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = t.iter().filter(|c| c.is_ascii_alphabetic()).count();
    (e - i >= 4 && digits >= 1 && letters >= 1 && word_end(b, e)).then_some(e)
}

/// An IMEI: fifteen digits passing Luhn, in one run or as `35 588571 546999 0`.
pub fn imei_at(b: &[u8], i: usize) -> Option<usize> {
    let mut compact = [0u8; 15];
    let (mut n, mut j) = (0, i);
    while j < b.len() && n < 15 {
        if b[j].is_ascii_digit() {
            compact[n] = b[j];
            n += 1;
        } else if !(b[j] == b' ' || b[j] == b'-') || !b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            break;
        }
        j += 1;
    }
    (n == 15 && word_end(b, j) && crate::check::luhn(&compact) && !crate::check::card_issuer(&compact)).then_some(j)
}

/// `47` in `aged 47`, `age: 93`, `93-year-old`, `93 years old`, `93 y/o`.
pub fn age_at(b: &[u8], i: usize) -> Option<usize> {
    let e = digits(b, i);
    if e == i || e - i > 3 || num(&b[i..e]) > 120 {
        return None;
    }
    let after = &b[e..];
    let follows = [
        &b"-year-old"[..],
        b" year-old",
        b" years old",
        b" year old",
        b"-years-old",
        b"-yr-old",
        b" yr old",
        b" yrs old",
        b" years of age",
        b" y/o",
        b" yo ",
        b" yo,",
        b"yo ",
        b"yo,",
        b"yo.",
        b"y/o",
        b"-month-old",
        b" months old",
    ]
    .iter()
    .any(|s| after.len() >= s.len() && after[..s.len()].eq_ignore_ascii_case(s));
    let head = &b[..i];
    let precedes = head.last() == Some(&b' ')
        && [&b"aged "[..], b"age ", b"age of ", b"age is ", b"he's ", b"she's ", b"hes ", b"shes "].iter().any(|s| {
            head.len() >= s.len()
                && head[head.len() - s.len()..].eq_ignore_ascii_case(s)
                && !(head.len() > s.len() && head[head.len() - s.len() - 1].is_ascii_alphanumeric())
        })
        || head.ends_with(b"age: ")
        || head.ends_with(b"Age: ");
    (follows || precedes && word_end(b, e)).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_accept_real_numbers_and_refuse_one_digit_off() {
        for (f, good) in [
            (es_nif as fn(&[u8]) -> bool, &b"12345678Z"[..]),
            (es_nie, b"X1234567L"),
            (pl_pesel, b"44051401359"),
            (fr_nir, b"184127645108946"),
            (fr_nir, b"269059913116714"),
            (de_tax_id, b"86095742719"),
            (uk_nhs, b"9434765919"),
            (it_fiscal_code, b"RSSMRA85T10A562S"),
            (dea, b"AB1234563"),
            (vin, b"1HGCM82633A004352"),
            (vin, b"1M8GDM9AXKP042788"),
        ] {
            assert!(f(good), "{}", String::from_utf8_lossy(good));
            // Change one digit (or letter) of the number: the checksum fails.
            let mut bad = good.to_vec();
            let k = bad.iter().rposition(u8::is_ascii_digit).unwrap_or(0);
            bad[k] = if bad[k] == b'9' { b'0' } else { bad[k] + 1 };
            assert!(!f(&bad), "{}", String::from_utf8_lossy(&bad));
        }
    }

    #[test]
    fn identifiers_in_text() {
        fn find(t: &str) -> Option<(Kind, &str)> {
            checked_at(t.as_bytes(), 0).map(|(k, e)| (k, &t[..e]))
        }
        assert_eq!(find("12345678Z is"), Some((Kind::EsNif, "12345678Z")));
        assert_eq!(find("1 84 12 76 451 089 46."), Some((Kind::FrNir, "1 84 12 76 451 089 46")));
        assert_eq!(find("RSSMRA85T10A562S"), Some((Kind::ItFiscalCode, "RSSMRA85T10A562S")));
        assert_eq!(find("12345678A"), None, "wrong NIF letter");
        assert_eq!(find("86 095 742 719,"), Some((Kind::DeTaxId, "86 095 742 719")));
        assert_eq!(find("86 095 742 718,"), None);
        assert_eq!(find("1HGCM82633A004353"), None, "wrong VIN check digit");
        assert_eq!(find("30 February"), None);
        assert_eq!(nhs_at(b"943 476 5919 ok", 0), Some(12));
        assert_eq!(nhs_at(b"943 476 5918", 0), None);
        assert_eq!(value_at(b"00482913 was", 0), Some(8));
        assert_eq!(value_at(b"A-7734021.", 0), Some(9));
        assert_eq!(value_at(b"number", 0), None);
        assert_eq!(value_at(b"12", 0), None);
        assert_eq!(age_at(b"93-year-old", 0), Some(2));
        assert_eq!(age_at(b"aged 47 and", 5), Some(7));
        assert_eq!(age_at(b"47 units", 0), None);
        assert_eq!(age_at(b"triage 14 July", 7), None);
        assert_eq!(age_at(b"a 65-yr-old patient", 2), Some(4));
        assert_eq!(age_at(b"is a 49yo teacher", 5), Some(7));
        assert_eq!(age_at(b"my son hes 80\n", 11), Some(13));
        assert_eq!(age_at(b"130-year-old", 0), None);
    }

    #[test]
    fn cues_name_the_kind() {
        let cue = |w: &str, b: &str| cue(w, || b.to_string());
        assert_eq!(cue("MRN", ""), Some(Kind::MedicalRecord));
        assert_eq!(cue("record", "medical"), Some(Kind::MedicalRecord));
        assert_eq!(cue("record", "criminal"), None);
        assert_eq!(cue("record", "your"), Some(Kind::MedicalRecord));
        assert_eq!(plate_at(b"QQV 36T, phone", 0), Some(7));
        assert_eq!(plate_at(b"VC03JUM\n", 0), Some(7));
        assert_eq!(plate_at(b"and the", 0), None);
        assert_eq!(imei_at(b"35 588571 546999 0\n", 0).is_some(), crate::check::luhn(b"355885715469990"));
        assert_eq!(cue("license", "driver's"), Some(Kind::DriverLicense));
        assert_eq!(cue("license", "medical"), Some(Kind::License));
        assert_eq!(cue("Passport", ""), Some(Kind::Passport));
        assert_eq!(cue("ID", "member"), Some(Kind::HealthPlan));
        assert_eq!(cue("id", "order"), None);
        assert_eq!(cue("the", ""), None);
    }
}
