//! Checksums and number ranges that separate real identifiers from look-alikes.

/// The Luhn check (ISO/IEC 7812-1) over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

fn prefix(digits: &[u8], len: usize) -> u32 {
    digits.iter().take(len).fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// Whether `digits` (12 to 19 of them) start with an issuer identification number
/// assigned to a card scheme, with a length that scheme issues.
pub fn card_issuer(digits: &[u8]) -> bool {
    let n = digits.len();
    let (p1, p2, p3, p4, p6) =
        (prefix(digits, 1), prefix(digits, 2), prefix(digits, 3), prefix(digits, 4), prefix(digits, 6));
    // Visa
    (p1 == 4 && matches!(n, 13 | 16 | 19))
        // Mastercard, including the 2-series
        || ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16
        // American Express
        || matches!(p2, 34 | 37) && n == 15
        // Discover
        || (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
            && (16..=19).contains(&n)
        // JCB (issued from 3528-3589; test and generated numbers use all of 35)
        || p2 == 35 && (16..=19).contains(&n)
        // Diners Club
        || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&n)
        // UnionPay
        || p2 == 62 && (16..=19).contains(&n)
        // Maestro, and the legacy Maestro and Laser ranges (0604, 6304, 6390)
        || (matches!(p2, 50 | 56..=58) || p1 == 6 || p4 == 604) && (12..=19).contains(&n)
        // Mir
        || (2200..=2204).contains(&p4) && (16..=19).contains(&n)
}

/// ISO 13616 IBAN check: letters and digits, country code first, mod 97 = 1.
pub fn iban(compact: &[u8]) -> bool {
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let mut rem = 0u32;
    let rotated = compact.iter().skip(4).chain(compact.iter().take(4));
    for &c in rotated {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// The length of an IBAN of this country (the ISO 13616 registry), where known.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    Some(match country {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" => 30,
        b"MT" => 31,
        _ => return None,
    })
}

/// US Social Security number ranges the SSA has never issued: area 000, 666 and
/// 900-999, group 00, serial 0000.
pub fn ssn(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    let a = prefix(area, 3);
    a != 0 && a != 666 && a < 900 && prefix(group, 2) != 0 && prefix(serial, 4) != 0
}

/// A US individual taxpayer identification number's first two groups: area 9xx,
/// group 50-65, 70-88, 90-92 or 94-99.
pub fn itin(area: &[u8], group: &[u8]) -> bool {
    let g = prefix(group, 2);
    area.first() == Some(&b'9') && matches!(g, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"4111111111111111") && card_issuer(b"4111111111111111"));
        assert!(luhn(b"2223000048400011") && card_issuer(b"2223000048400011"), "Mastercard 2-series");
        assert!(luhn(b"378282246310005") && card_issuer(b"378282246310005"), "Amex");
        assert!(card_issuer(b"6011111111111117") && card_issuer(b"3530111333300000"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!card_issuer(b"9111111111111111"), "no scheme starts with 9");
        assert!(!card_issuer(b"411111111111111"), "Visa is never 15 digits");
    }

    #[test]
    fn ibans_and_ssns() {
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(iban(b"DE89370400440532013000"));
        assert!(!iban(b"GB82WEST12345698765433"));
        assert!(!iban(b"GB82"));
        assert!(ssn(b"123", b"45", b"6789"));
        for (a, g, s) in [("000", "12", "3456"), ("666", "12", "3456"), ("912", "12", "3456"), ("123", "00", "4567")] {
            assert!(!ssn(a.as_bytes(), g.as_bytes(), s.as_bytes()), "{a}-{g}-{s}");
        }
        assert!(!ssn(b"123", b"45", b"0000"));
    }
}
