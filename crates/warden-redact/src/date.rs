//! Dates and times in the shapes people write them: `5 April 2023`, `5th of April`,
//! `April 5th, 2023`, `Apr 5`, `April 2023`, `Tuesday, April 5, 2023`, `14:30`,
//! `2:30 pm`, `9am`, and the tail of an ISO date-time (`T14:30:00Z`). Numeric dates
//! (`2023-04-05`, `04/05/2023`, `5.4.23`) are read by the number scanner, which
//! asks [`valid`] whether the day exists.

const MONTHS: &[(&str, u8)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
];

/// Whether the day exists (30 February does not), in years 1900 to 2100.
pub fn valid(year: u32, month: u32, day: u32) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (i32::try_from(year), u8::try_from(month), u8::try_from(day)) else { return false };
    (1900..=2100).contains(&y)
        && time::Month::try_from(m).is_ok_and(|m| time::Date::from_calendar_date(y, m, d).is_ok())
}

fn digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

fn letters(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && b[e].is_ascii_alphabetic() {
        e += 1;
    }
    e
}

/// Whether the word ends at `e` (no letter or digit follows).
fn ends(b: &[u8], e: usize) -> bool {
    !b.get(e).is_some_and(u8::is_ascii_alphanumeric)
}

/// The month whose name starts with these three letters (lower case), if any.
fn month_of(three: [u8; 3]) -> Option<u8> {
    Some(match &three {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

fn three(b: &[u8], i: usize) -> Option<[u8; 3]> {
    let t = b.get(i..i + 3)?;
    Some([t[0].to_ascii_lowercase(), t[1].to_ascii_lowercase(), t[2].to_ascii_lowercase()])
}

/// A month name (any case; `Sept.`) at `i`: its number and end.
pub fn month_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let m = month_of(three(b, i)?)?;
    let e = letters(b, i);
    if !(3..=9).contains(&(e - i)) || !ends(b, e) {
        return None;
    }
    let word = &b[i..e];
    // Not `MAY` or `may` inside a sentence: only capitalised `May` is the month.
    if m == 5 && word != b"May" {
        return None;
    }
    if e - i > 3 && !MONTHS.iter().any(|(name, _)| name.as_bytes().eq_ignore_ascii_case(word)) {
        return None;
    }
    let e = if b.get(e) == Some(&b'.') && e - i <= 4 { e + 1 } else { e };
    Some((m, e))
}

/// Whether `word` names a month (`March`, `Sept`).
pub fn is_month(word: &str) -> bool {
    MONTHS.iter().any(|(m, _)| m.eq_ignore_ascii_case(word))
}

fn weekday_at(b: &[u8], i: usize) -> Option<usize> {
    let t = three(b, i)?;
    if !matches!(&t, b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun") {
        return None;
    }
    let e = letters(b, i);
    if !(3..=9).contains(&(e - i)) || !ends(b, e) {
        return None;
    }
    let word = &b[i..e];
    WEEKDAYS.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(word)).then_some(e)
}

/// A number of one or two digits at `i` (no third follows): its value and end.
fn one_or_two_digits(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut e = i;
    while digit(b, e) && e - i < 2 {
        e += 1;
    }
    if e == i || digit(b, e) {
        return None;
    }
    Some((b[i..e].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')), e))
}

/// A day of the month at `i`: `5`, `05`, `5th`, `21st`; its value and end.
fn day_at(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let (day, mut e) = one_or_two_digits(b, i)?;
    if !(1..=31).contains(&day) {
        return None;
    }
    if let Some(suffix) = b.get(e..e + 2) {
        if matches!(&suffix.to_ascii_lowercase()[..], b"st" | b"nd" | b"rd" | b"th") {
            e += 2;
        }
    }
    ends(b, e).then_some((day, e))
}

/// A four-digit year at `i`, 1900 to 2100.
fn year_at(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let y = b.get(i..i + 4)?;
    if !y.iter().all(u8::is_ascii_digit) || digit(b, i + 4) || b.get(i + 4).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let year = y.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    (1900..=2100).contains(&year).then_some((year, i + 4))
}

/// `, 2023` or ` 2023` after `at`.
fn then_year(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut j = at;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    year_at(b, j + 1)
}

/// `5 April 2023`, `5th of April, 2023`, `05 Mar`, at a digit.
pub fn day_first(b: &[u8], i: usize) -> Option<usize> {
    let (day, e) = day_at(b, i)?;
    let mut j = e;
    if matches!(b.get(j), Some(b'-' | b'/')) {
        // `05-Apr-2023`, `13/Apr/2022:05:21:22 +0000`
        let sep = b[j];
        let (m, me) = month_at(b, j + 1)?;
        if b.get(me) == Some(&sep) {
            let (y, ye) = year_at(b, me + 1)?;
            if !valid(y, u32::from(m), day) {
                return None;
            }
            if sep == b'/' && b.get(ye) == Some(&b':') {
                if let Some(mut te) = time(b, ye + 1, true) {
                    if b.get(te) == Some(&b' ') && matches!(b.get(te + 1), Some(b'+' | b'-')) {
                        let z = te + 2;
                        if b.get(z..z + 4).is_some_and(|x| x.iter().all(u8::is_ascii_digit)) {
                            te = z + 4;
                        }
                    }
                    return Some(te);
                }
            }
            return Some(ye);
        }
        return None;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    j += 1;
    if b[j..].len() > 3 && b[j..j + 3].eq_ignore_ascii_case(b"of ") {
        j += 3;
    }
    let (m, me) = month_at(b, j)?;
    match then_year(b, me) {
        Some((y, ye)) => valid(y, u32::from(m), day).then_some(ye),
        None => valid(2000, u32::from(m), day).then_some(me),
    }
}

/// `April 5th, 2023`, `Apr 5`, `April 2023`, `April of 2023`, at a letter.
pub fn month_first(b: &[u8], i: usize) -> Option<usize> {
    // Most words leave at their first three letters.
    month_of(three(b, i)?)?;
    // A digit or `of` comes soon after a month that starts a date.
    let e = letters(b, i);
    let after = b.get(e + usize::from(b.get(e) == Some(&b'.'))..).unwrap_or(&[]);
    if !(after.first() == Some(&b' ') && after.get(1).is_some_and(|c| c.is_ascii_digit() || *c == b'o')) {
        return None;
    }
    let (m, me) = month_at(b, i)?;
    if b.get(me) != Some(&b' ') {
        return None;
    }
    let j = me + 1;
    if let Some((y, ye)) = year_at(b, j) {
        let _ = y;
        return Some(ye);
    }
    if b[j..].len() > 3 && b[j..j + 3].eq_ignore_ascii_case(b"of ") {
        return year_at(b, j + 3).map(|(_, e)| e);
    }
    let (day, de) = day_at(b, j)?;
    match then_year(b, de) {
        Some((y, ye)) => valid(y, u32::from(m), day).then_some(ye),
        // A bare `May 5` is a date; `May 5` after `in` … is still one.
        None => valid(2000, u32::from(m), day).then_some(de),
    }
}

/// `Tuesday, April 5, 2023`, `Tue 5 April`: a weekday then a date.
pub fn weekday_first(b: &[u8], i: usize) -> Option<usize> {
    let we = weekday_at(b, i)?;
    let mut j = we;
    if b.get(j) == Some(&b'.') {
        j += 1;
    }
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    j += 1;
    if digit(b, j) {
        day_first(b, j)
    } else {
        month_first(b, j)
    }
}

/// A time of day at a digit: `14:30`, `14:30:05`, `2:30 pm`, `9am`, `9 a.m.`.
pub fn time_at(b: &[u8], i: usize) -> Option<usize> {
    time(b, i, false)
}

/// `zoned`: a `Z` or an offset may follow (inside an ISO date-time).
fn time(b: &[u8], i: usize, zoned: bool) -> Option<usize> {
    let (hour, mut e) = one_or_two_digits(b, i)?;
    let mut minutes = false;
    if b.get(e) == Some(&b':') && digit(b, e + 1) && digit(b, e + 2) && !digit(b, e + 3) {
        let m = u32::from(b[e + 1] - b'0') * 10 + u32::from(b[e + 2] - b'0');
        if hour > 23 || m > 59 {
            return None;
        }
        e += 3;
        minutes = true;
        if b.get(e) == Some(&b':') && digit(b, e + 1) && digit(b, e + 2) && !digit(b, e + 3) {
            e += 3;
            // Fractions of a second: `.918`, and `,370` in logs.
            if matches!(b.get(e), Some(b'.' | b',')) && digit(b, e + 1) && digit(b, e + 2) && digit(b, e + 3) {
                e += 1;
                while digit(b, e) {
                    e += 1;
                }
            }
        }
    }
    // am / pm, perhaps after a space, perhaps with dots.
    let mut j = e;
    if b.get(j) == Some(&b' ') {
        j += 1;
    }
    let meridiem = match b.get(j..j + 2).map(<[u8]>::to_ascii_lowercase).as_deref() {
        Some(b"am" | b"pm") if ends(b, j + 2) => Some(j + 2),
        Some(b"a." | b"p.") if b.get(j + 2).is_some_and(|c| c.eq_ignore_ascii_case(&b'm')) => {
            Some(j + 3 + usize::from(b.get(j + 3) == Some(&b'.')))
        }
        _ => None,
    };
    match meridiem {
        Some(end) if (1..=12).contains(&hour) => Some(end),
        _ if minutes && zoned && matches!(b.get(e), Some(b'Z' | b'z' | b'+' | b'-' | b' ')) => Some(e),
        // A time ends a sentence (`at 10:49.`), not `10:49.5` or `10:49:1`.
        _ if minutes
            && ends(b, e)
            && !matches!(b.get(e), Some(b':' | b'/'))
            && !(b.get(e) == Some(&b'.') && digit(b, e + 1)) =>
        {
            Some(e)
        }
        _ => None,
    }
}

/// After a date in words ending at `end`: ` 20:57:13`, `, 1:02 am`, ` at 13:44`.
pub fn time_tail(b: &[u8], end: usize) -> usize {
    let mut j = end;
    if b.get(j) == Some(&b',') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return end;
    }
    j += 1;
    if b.get(j..j + 3).is_some_and(|w| w.eq_ignore_ascii_case(b"at ")) {
        j += 3;
    }
    if !digit(b, j) {
        return end;
    }
    // A bare number after a date is no time (`May 5 2 tablets`): minutes or am/pm.
    match time_at(b, j) {
        Some(e) if b[j..e].contains(&b':') || b[j..e].iter().any(u8::is_ascii_alphabetic) => e,
        _ => end,
    }
}

/// After a numeric date ending at `end`: `T14:30:00Z`, ` 14:30`, `T14:30:00.123+02:00`.
pub fn datetime_tail(b: &[u8], end: usize) -> usize {
    let sep = b.get(end).copied();
    if !matches!(sep, Some(b'T' | b't' | b' ')) || !digit(b, end + 1) {
        return end;
    }
    let Some(mut e) = time(b, end + 1, matches!(sep, Some(b'T' | b't'))) else { return end };
    if matches!(sep, Some(b'T' | b't')) || matches!(b.get(e), Some(b'Z' | b'z')) {
        if matches!(b.get(e), Some(b'Z' | b'z')) {
            e += 1;
        } else if matches!(b.get(e), Some(b'+' | b'-')) && digit(b, e + 1) && digit(b, e + 2) {
            e += 3;
            if b.get(e) == Some(&b':') && digit(b, e + 1) && digit(b, e + 2) {
                e += 3;
            }
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(f: fn(&[u8], usize) -> Option<usize>, t: &str) -> Option<&str> {
        f(t.as_bytes(), 0).map(|e| &t[..e])
    }

    #[test]
    fn dates_in_words() {
        for t in ["5 April 2023", "5th of April, 2023", "05 Mar", "21st June", "05-Apr-2023", "31 December 1999"] {
            assert_eq!(first(day_first, t), Some(t), "{t}");
        }
        for t in ["April 5th, 2023", "Apr 5", "April 2023", "Sept. 30, 2021", "December 31", "april of 2022"] {
            assert_eq!(first(month_first, t), Some(t), "{t}");
        }
        for t in ["Tuesday, April 5, 2023", "Tue 5 April", "Fri, 09 Jun 2023"] {
            assert_eq!(first(weekday_first, t), Some(t), "{t}");
        }
        // Days that do not exist, and words that only look like months.
        for t in ["30 February 2023", "31 April", "32 May", "5 Marching"] {
            assert_eq!(first(day_first, t), None, "{t}");
        }
        for t in ["February 29, 2023", "may 5", "MAY 5", "Mars 2023", "Decembers"] {
            assert_eq!(first(month_first, t), None, "{t}");
        }
        assert_eq!(first(month_first, "February 29, 2024"), Some("February 29, 2024"), "a leap day");
    }

    #[test]
    fn times() {
        for t in ["14:30", "14:30:05", "2:30 pm", "9am", "9 a.m.", "10:15 AM", "23:59:59.250"] {
            assert_eq!(first(time_at, t), Some(t), "{t}");
        }
        for t in ["24:00", "12:60", "13pm", "3:1", "10:30:1", "1.2", "3 amps"] {
            assert_eq!(first(time_at, t), None, "{t}");
        }
        let b = b"2023-04-05T14:30:00Z and";
        assert_eq!(datetime_tail(b, 10), 20);
        assert_eq!(datetime_tail(b"2023-04-05 14:30 ok", 10), 16);
        assert_eq!(datetime_tail(b"2023-04-05T14:30:00+02:00", 10), 25);
        assert_eq!(datetime_tail(b"2023-04-05 was", 10), 10);
        assert_eq!(datetime_tail(b"2022-11-03T07:46:52.918Z INFO", 10), 24);
        assert_eq!(first(day_first, "13/Apr/2022:05:21:22 +0000]"), Some("13/Apr/2022:05:21:22 +0000"));
        assert_eq!(time_tail(b"May 5, 2023 at 13:44 with", 11), 20);
        assert_eq!(time_tail(b"Sep 19 20:57:13 INFO", 6), 15);
        assert_eq!(time_tail(b"May 5 2 tablets", 5), 5);
    }
}
