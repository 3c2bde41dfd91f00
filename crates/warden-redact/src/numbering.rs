//! Whether a national number is valid in a region, by libphonenumber's numbering
//! plans (the metadata the `phonenumber` crate ships), with the plans' patterns
//! compiled once and kept.
//!
//! The crate's own `parse` + `is_valid` give the same answers, but keep the compiled
//! patterns in one shared least-recently-used cache of 100 behind a mutex: trying a
//! number against the 26 regions Warden knows touches several hundred patterns, so
//! every try recompiled them (nine tenths of the detector's time on text with many
//! numbers, and a lock every thread waits on). Here each region's patterns are
//! compiled on its first use and never again. The steps are the crate's (0.3), in
//! its order, so the answers agree; a test checks that they do, number by number.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::{Regex, RegexBuilder};

/// libphonenumber's bounds on a national significant number.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;
const MAX_COUNTRY_CODE: usize = 3;

/// A compiled pattern, matched from the start of the text (the crate's
/// `find(..).start() == 0`).
fn anchored(pattern: &str) -> Regex {
    RegexBuilder::new(&format!("^(?:{pattern})"))
        .ignore_whitespace(true)
        .size_limit(1 << 22)
        .build()
        // The metadata's patterns all compile in the crate itself, with the same
        // regex engine and flags; one that did not would be a broken release of it.
        .unwrap_or_else(|e| panic!("libphonenumber pattern does not compile: {e}"))
}

/// A number type's pattern and the lengths it allows; the pattern is compiled the
/// first time a number of one of those lengths meets it (most never do).
struct Desc {
    lengths: Box<[u16]>,
    source: &'static str,
    pattern: OnceLock<Regex>,
}

impl Desc {
    fn new(d: &'static Descriptor) -> Desc {
        Desc { lengths: d.possible_length().into(), source: d.national_number().as_str(), pattern: OnceLock::new() }
    }

    fn is_match(&self, value: &str) -> bool {
        (self.lengths.is_empty() || u16::try_from(value.len()).is_ok_and(|l| self.lengths.contains(&l)))
            && self.pattern.get_or_init(|| anchored(self.source)).is_match(value)
    }
}

/// One region's plan, compiled.
struct Plan {
    /// The international dialling prefix (`00`, `011`).
    idd: Option<Regex>,
    prefix_for_parsing: Option<Regex>,
    general: Desc,
    /// Every type that makes a number valid: premium rate, toll free, shared cost,
    /// VoIP, personal, pager, UAN, voicemail, fixed line, mobile.
    types: Vec<Desc>,
    leading: Option<Regex>,
}

impl Plan {
    fn new(m: &'static Metadata) -> Plan {
        let d = m.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ];
        Plan {
            idd: m.international_prefix().map(|r| anchored(r.as_str())),
            prefix_for_parsing: m.national_prefix_for_parsing().map(|r| anchored(r.as_str())),
            general: Desc::new(d.general()),
            types: types.into_iter().flatten().map(Desc::new).collect(),
            leading: m.leading_digits().map(|r| anchored(r.as_str())),
        }
    }

    /// The crate's `number_type(..) != Unknown`.
    fn has_type(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
    }
}

/// How a length compares with a region's possible lengths (the crate's
/// `validator::length` for the general descriptor).
#[derive(PartialEq)]
enum Length {
    Possible,
    TooShort,
    Other,
}

fn length(m: &Metadata, national: &str) -> Length {
    let general = m.descriptors().general();
    let possible = general.possible_length();
    let Some((&min, &max)) = possible.first().zip(possible.last()) else { return Length::Other };
    let Ok(n) = u16::try_from(national.len()) else { return Length::Other };
    if general.possible_local_length().contains(&n) || n == min {
        Length::Possible
    } else if n < min {
        Length::TooShort
    } else if n > max || !possible.contains(&n) {
        Length::Other
    } else {
        Length::Possible
    }
}

/// Every region of the database, its plan compiled on first use.
struct Plans {
    metas: Vec<&'static Metadata>,
    plans: Vec<OnceLock<Plan>>,
    by_id: HashMap<&'static str, usize>,
    /// The regions of a country calling code, in the database's order; for a
    /// non-geographic code, its one entry.
    by_code: HashMap<u16, Vec<usize>>,
}

static PLANS: LazyLock<Plans> = LazyLock::new(|| {
    let mut metas: Vec<&'static Metadata> = Vec::new();
    let mut seen: HashMap<*const Metadata, usize> = HashMap::new();
    let mut index = |m: &'static Metadata| {
        *seen.entry(std::ptr::from_ref(m)).or_insert_with(|| {
            metas.push(m);
            metas.len() - 1
        })
    };
    let mut by_id = HashMap::new();
    let mut by_code = HashMap::new();
    // Calling codes are one to three digits.
    for code in 1..=999u16 {
        let Some(regions) = DATABASE.region(&code) else { continue };
        let order: Vec<usize> = if regions == ["001"] {
            DATABASE.by_code(&code).and_then(|m| m.first().copied()).map(&mut index).into_iter().collect()
        } else {
            regions
                .iter()
                .filter_map(|&r| {
                    let i = index(DATABASE.by_id(r)?);
                    by_id.insert(r, i);
                    Some(i)
                })
                .collect()
        };
        by_code.insert(code, order);
    }
    Plans { plans: metas.iter().map(|_| OnceLock::new()).collect(), metas, by_id, by_code }
});

impl Plans {
    fn plan(&self, i: usize) -> &Plan {
        self.plans[i].get_or_init(|| Plan::new(self.metas[i]))
    }

    /// The region a number of `code` belongs to (the crate's `source_for`).
    fn source(&self, code: u16, national: &str) -> Option<usize> {
        let regions = self.by_code.get(&code)?;
        if let [only] = regions[..] {
            return Some(only);
        }
        regions.iter().copied().find(|&r| match &self.plan(r).leading {
            Some(leading) => leading.is_match(national),
            None => self.plan(r).has_type(national),
        })
    }
}

/// Strips a national (trunk) prefix and carrier code (the crate's
/// `helper::national_number`).
fn national_number<'a>(m: &Metadata, plan: &Plan, national: Cow<'a, str>) -> Cow<'a, str> {
    let Some(parsing) = &plan.prefix_for_parsing else {
        return match m.national_prefix() {
            Some(p) if national.starts_with(p) => trim(national, p.len()),
            _ => national,
        };
    };
    let Some(caps) = parsing.captures(&national) else { return national };
    let end = caps.get(0).map_or(0, |c| c.end());
    let last = caps.get(caps.len() - 1).is_some();
    let viable = plan.general.is_match(&national);
    match m.national_prefix_transform_rule() {
        Some(rule) if last => {
            let transformed = parsing.replace(&national, rule).into_owned();
            if viable && !plan.general.is_match(&transformed) {
                return national;
            }
            Cow::Owned(transformed)
        }
        // The crate compares the number with itself here, so it always strips.
        _ => trim(national, end),
    }
}

fn trim(s: Cow<'_, str>, n: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(s) => Cow::Borrowed(&s[n..]),
        Cow::Owned(mut s) => {
            s.drain(..n);
            Cow::Owned(s)
        }
    }
}

/// Whether `digits` (ASCII digits, written without `+`) is a valid number when
/// dialled in `region`: `phonenumber::parse(Some(region), digits)` then
/// `phonenumber::is_valid`.
pub fn valid(region: phonenumber::country::Id, digits: &str) -> bool {
    let plans = &*PLANS;
    if digits.len() < MIN_NSN || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(&r) = plans.by_id.get(region.as_ref()) else { return false };
    let (m, plan) = (plans.metas[r], plans.plan(r));
    let mut national = Cow::Borrowed(digits);
    let mut code = m.country_code();
    // Dialled with the region's international prefix: a country code follows.
    let idd_end = plan.idd.as_ref().and_then(|idd| idd.find(digits)).map(|x| x.end());
    match idd_end {
        Some(end) if !digits[end..].starts_with('0') => {
            national = trim(national, end);
            if national.len() <= MIN_NSN {
                return false;
            }
            let found = (1..=MAX_COUNTRY_CODE).find_map(|len| {
                let c: u16 = national[..len].parse().ok()?;
                plans.by_code.contains_key(&c).then_some((len, c))
            });
            let Some((len, c)) = found else { return false };
            national = trim(national, len);
            code = c;
        }
        _ => {
            // The country code written without `+`, where the number is not valid
            // without it removed.
            let cc = code.to_string();
            if national.starts_with(&cc)
                && (!plan.general.is_match(&national) || length(m, &national) != Length::Possible)
            {
                national = trim(national, cc.len());
            }
        }
    }
    // The region's trunk prefix, then its national prefix once more, unless that
    // leaves too few digits.
    let mut potential = national_number(m, plan, national.clone());
    if let Some(p) = m.national_prefix() {
        if potential.starts_with(p) {
            potential = trim(potential, p.len());
        }
    }
    if length(m, &potential) != Length::TooShort {
        national = potential;
    }
    if !(MIN_NSN..=MAX_NSN).contains(&national.len()) {
        return false;
    }
    // Stored as leading zeros and a value below 2^56.
    let rest = national.trim_start_matches('0');
    if rest.parse::<u64>().map_or(true, |v| v >= 1 << 56) {
        return false;
    }
    plans.source(code, &national).is_some_and(|s| plans.plan(s).has_type(&national))
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    /// The crate's answer, the slow way.
    fn crate_says(region: Id, digits: &str) -> bool {
        phonenumber::parse(Some(region), digits).is_ok_and(|p| phonenumber::is_valid(&p))
    }

    #[test]
    fn agrees_with_the_phonenumber_crate() {
        // Warden's regions, and one whose trunk prefix has a transform rule.
        let regions: Vec<Id> = crate::phone::REGIONS.iter().copied().chain([Id::AR]).collect();
        // Every example number of the regions, written as people write them (with
        // the trunk prefix, with the country code, after `00`/`011`), one digit
        // changed, one dropped and one added; and numbers from a fixed generator.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut tried = 0;
        let mut valid_seen = 0;
        for &region in &regions {
            let m = DATABASE.by_id(region.as_ref()).expect("region in the database");
            let d = m.descriptors();
            let examples: Vec<String> = [d.general(), d.fixed_line().unwrap_or(d.general())]
                .into_iter()
                .chain([d.mobile(), d.toll_free(), d.premium_rate(), d.voip(), d.uan()].into_iter().flatten())
                .filter_map(|x| x.example().map(str::to_string))
                .collect();
            let mut numbers = Vec::new();
            for e in &examples {
                let cc = m.country_code();
                numbers.extend([
                    e.clone(),
                    format!("0{e}"),
                    format!("1{e}"),
                    format!("{cc}{e}"),
                    format!("00{cc}{e}"),
                    format!("011{cc}{e}"),
                    format!("{}{}", &e[..e.len() - 1], (next() % 10)),
                    e[..e.len() - 1].to_string(),
                    format!("{e}{}", next() % 10),
                ]);
            }
            for _ in 0..150 {
                let len = 6 + (next() % 9) as usize;
                let mut s: String = (0..len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
                if next() % 3 == 0 {
                    s.replace_range(0..1, "0");
                }
                numbers.push(s);
            }
            for n in &numbers {
                let want = crate_says(region, n);
                assert_eq!(valid(region, n), want, "{n} in {region:?}");
                tried += 1;
                valid_seen += usize::from(want);
            }
        }
        // Both answers occur often, or the comparison says little.
        assert!(tried > 5000 && valid_seen > 500, "{tried} numbers, {valid_seen} valid");
    }

    #[test]
    fn what_is_not_a_number_is_not_valid() {
        for s in ["", "0", "00000000", "12a4567890", "+442079460958", "999999999999999999999"] {
            assert!(!valid(Id::GB, s), "{s}");
        }
        assert!(valid(Id::GB, "02079460958"));
        assert!(valid(Id::US, "4158675309") == crate_says(Id::US, "4158675309"));
    }
}
