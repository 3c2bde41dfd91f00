use super::*;

fn kinds(text: &str) -> Vec<(Kind, &str)> {
    Detector::new().find(text).into_iter().map(|f| (f.kind, &text[f.start..f.end])).collect()
}

fn one(text: &str) -> Option<(Kind, &str)> {
    let k = kinds(text);
    assert!(k.len() <= 1, "{text}: {k:?}");
    k.into_iter().next()
}

#[test]
fn emails() {
    assert_eq!(
        one("write to jane.doe+billing@bank.example.com."),
        Some((Kind::Email, "jane.doe+billing@bank.example.com"))
    );
    assert_eq!(one("me@localhost"), None, "needs a dotted domain");
    assert_eq!(one("@handle"), None);
}

#[test]
fn phones() {
    for p in [
        "(646) 803-4557",
        "646-803-4557",
        "646.803.4557",
        "+1 646 803 4557",
        "+1-646-803-4557",
        "+44 20 7946 0958",
        "+49 30 1234567",
    ] {
        assert_eq!(one(&format!("call {p} today")), Some((Kind::Phone, p)), "{p}");
    }
    assert_eq!(one("reference 123-456-7890"), None, "area codes do not start with 1");
    assert_eq!(one("phone 0612345678"), Some((Kind::Phone, "0612345678")), "ten digits next to the word phone");
    assert_eq!(one("order 0612345678"), None, "but not without it");
}

#[test]
fn cards_by_issuer_and_luhn() {
    for c in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "2223 0000 4840 0011",
        "5555555555554444",
        "3782 822463 10005",
        "6011111111111117",
        "3530111333300000",
    ] {
        assert_eq!(one(&format!("card {c}.")), Some((Kind::CreditCard, c)), "{c}");
    }
    assert_eq!(one("card 4111 1111 1111 1112"), None, "fails Luhn");
    assert_eq!(one("card 9111 1111 1111 1113"), None, "no issuer");
}

#[test]
fn ssns_ibans_ips_dates() {
    assert_eq!(one("SSN 123-45-6789"), Some((Kind::UsSsn, "123-45-6789")));
    assert_eq!(one("SSN 123 45 6789"), Some((Kind::UsSsn, "123 45 6789")));
    // Never issued: no SSN; after the word SSN still masked, as an unnamed ID.
    assert_eq!(one("ref 666-45-6789"), None);
    assert_eq!(one("SSN 666-45-6789"), Some((Kind::Identifier, "666-45-6789")));
    assert_eq!(one("social security number 207589370."), Some((Kind::UsSsn, "207589370")));
    assert_eq!(one("ip:10.0.0.7:5432 up"), Some((Kind::IpAddress, "10.0.0.7")));
    assert_eq!(one("allow 192.168.1.0/24"), Some((Kind::IpAddress, "192.168.1.0")));
    assert_eq!(one("IBAN GB82 WEST 1234 5698 7654 32 today"), Some((Kind::Iban, "GB82 WEST 1234 5698 7654 32")));
    assert_eq!(one("IBAN DE89370400440532013000."), Some((Kind::Iban, "DE89370400440532013000")));
    assert_eq!(one("IBAN GB82 WEST 1234 5698 7654 33"), None, "fails mod-97");
    // In lower case (a transcript) the country's length is required as well.
    assert_eq!(one("iban gb82west12345698765432 ok"), Some((Kind::Iban, "gb82west12345698765432")));
    assert_eq!(one("iban gb82west1234569876543 ok"), None, "one short of Britain's 22");
    assert_eq!(one("token ab12cdef3456 ok"), None);
    assert_eq!(one("from 10.0.0.7."), Some((Kind::IpAddress, "10.0.0.7")));
    assert_eq!(one("from 2001:db8::8a2e:370:7334 now"), Some((Kind::IpAddress, "2001:db8::8a2e:370:7334")));
    assert_eq!(one("from fe80::1"), Some((Kind::IpAddress, "fe80::1")));
    assert_eq!(one("version 10.0.0"), None);
    assert_eq!(one("at 999.1.1.1"), None);
    for d in ["2021-03-05", "03/05/2021", "05.03.2021", "March 05, 2021", "Mar 5 2021", "5 March 2021", "Sept. 5, 2021"]
    {
        assert_eq!(one(&format!("on {d}.")), Some((Kind::Date, d)), "{d}");
    }
    assert_eq!(one("DOB 1980-02-29"), Some((Kind::DateOfBirth, "1980-02-29")));
    assert_eq!(one("on 2021-13-05"), None, "no 13th month");
}

#[test]
fn look_alikes_are_left_alone() {
    let text = "Order ORD-832052, claim CLM91030736, lot LOT-4821-A, ICD J45.1, amount EUR 29,266.17, \
                version 3.12.25, dose 250 mg twice daily, case AML-AX12345.";
    assert_eq!(kinds(text), vec![]);
}

#[test]
fn secrets() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    for (text, want) in [
        ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        (&format!("token {jwt}")[..], jwt),
        ("Authorization: Bearer abcdef0123456789abcdef", "abcdef0123456789abcdef"),
        ("use sk-proj-abcdefghijklmnopqrstuvwx", "sk-proj-abcdefghijklmnopqrstuvwx"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ] {
        assert_eq!(one(text), Some((Kind::Secret, want)), "{text}");
    }
    let pem =
        "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----";
    assert_eq!(one(&format!("here: {pem} done")), Some((Kind::Secret, pem)));
}

#[test]
fn names_in_context() {
    let text = "Customer Felicitas Dowerg opened an account; Dr. Seán O'Brien saw José García.";
    let names: Vec<&str> = kinds(text).into_iter().filter(|(k, _)| *k == Kind::Person).map(|(_, v)| v).collect();
    assert_eq!(names, vec!["Felicitas Dowerg", "Seán O'Brien", "José García"]);
}

#[test]
fn custom_patterns() {
    let d = Detector::new().with_pattern("MRN", r"\bMRN-\d{8}\b").unwrap();
    let f = d.find("chart MRN-12345678 for jane@example.org");
    assert_eq!(f.len(), 2);
    assert_eq!(d.label(f[0].kind), "MRN");
    assert!(Detector::new().with_pattern("bad name", "x").is_err());
    assert!(Detector::new().with_pattern("EMPTY", "a*").is_err(), "matches empty text");
    assert!(Detector::new().with_pattern("BROKEN", "(").is_err());
}

#[test]
fn masks_hashes_drops_and_restores() {
    let text = "Mail jane@example.org or jane@example.org, and bob@example.org; card 4111 1111 1111 1111.";
    let mut vault = Vault::default();
    let r = Redactor::new(Detector::new(), Mode::Mask).redact(text, &mut vault);
    assert_eq!(r.text, "Mail [EMAIL_1] or [EMAIL_1], and [EMAIL_2]; card [CARD_1].");
    assert_eq!(r.counts.get("EMAIL"), Some(&3));
    assert_eq!(
        vault.restore("Reply to [EMAIL_2] about [CARD_1] [UNKNOWN_1]"),
        "Reply to bob@example.org about 4111 1111 1111 1111 [UNKNOWN_1]"
    );

    let h = Redactor::new(Detector::new(), Mode::Hash { key: b"k1".to_vec() }).redact(text, &mut Vault::default());
    let h2 = Redactor::new(Detector::new(), Mode::Hash { key: b"k1".to_vec() }).redact(text, &mut Vault::default());
    let other = Redactor::new(Detector::new(), Mode::Hash { key: b"k2".to_vec() }).redact(text, &mut Vault::default());
    assert_eq!(h, h2, "stable under one key");
    assert_ne!(h.text, other.text);
    assert!(!h.text.contains("jane") && h.text.starts_with("Mail [EMAIL:"));

    let d = Redactor::new(Detector::new(), Mode::Drop).redact(text, &mut Vault::default());
    assert_eq!(d.text, "Mail  or , and ; card .");

    let only = Redactor::new(Detector::new(), Mode::Mask).only(&[Kind::CreditCard]).redact(text, &mut Vault::default());
    assert!(only.text.contains("jane@example.org") && only.text.contains("[CARD_1]"));
}

/// `text` redacted as a stream arriving `size` characters at a time: the text sent,
/// and the counts.
fn streamed(
    redactor: &Redactor,
    text: &str,
    size: usize,
    vault: &mut Vault,
) -> (String, std::collections::BTreeMap<String, usize>) {
    let mut s = redactor.stream();
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(size) {
        out.push_str(&s.push(&piece.iter().collect::<String>(), vault));
    }
    let (rest, counts) = s.finish(vault);
    out.push_str(&rest);
    (out, counts)
}

#[test]
fn streams_redact_like_whole_texts_whatever_the_chunking() {
    let text = "Patient Felicitas Dowerg (DOB 1980-02-29) called from +44 20 7946 0958 about card \
                4111 1111 1111 1111 and IBAN GB82 WEST 1234 5698 7654 32; mail felicitas@example.org. "
        .repeat(12);
    let redactor = Redactor::new(Detector::new(), Mode::Mask);
    let whole = redactor.redact(&text, &mut Vault::default());
    for size in [1, 3, 7, 64, 300, 5000] {
        let mut vault = Vault::default();
        let (out, counts) = streamed(&redactor, &text, size, &mut vault);
        assert_eq!(out, whole.text, "chunks of {size}");
        assert_eq!(counts, whole.counts);

        // And the placeholders come back, whatever the chunking.
        let mut r = StreamRestorer::default();
        let mut back = String::new();
        let ochars: Vec<char> = out.chars().collect();
        for piece in ochars.chunks(size) {
            back.push_str(&r.push(&piece.iter().collect::<String>(), &vault));
        }
        back.push_str(&r.finish(&vault));
        assert_eq!(back, text, "restored from chunks of {size}");
    }
}

#[test]
fn a_lower_threshold_adds_what_is_only_plausible() {
    let at = |c: Confidence, t: &'static str| -> Vec<(Kind, &'static str)> {
        Detector::new().with_threshold(c).find(t).into_iter().map(|f| (f.kind, &t[f.start..f.end])).collect()
    };
    // A capitalised word no list knows, mid-sentence: a name only when recall wins.
    let t = "The file was sent to Oluwaseun yesterday.";
    assert_eq!(at(Confidence::Medium, t), vec![]);
    assert_eq!(at(Confidence::Low, t), vec![(Kind::Person, "Oluwaseun")]);
    // A grouped number of a phone's length that no region calls valid.
    let t = "reach her on 00 0000 0000 tomorrow";
    assert_eq!(at(Confidence::Medium, t), vec![]);
    assert_eq!(at(Confidence::Low, t), vec![(Kind::Phone, "00 0000 0000")]);
    // What medium finds, low finds too; high keeps only the checksummed and shaped.
    let t = "Dr. Anna Kowalska, card 4111 1111 1111 1111";
    assert_eq!(at(Confidence::Low, t), at(Confidence::Medium, t));
    assert_eq!(at(Confidence::High, t), vec![(Kind::CreditCard, "4111 1111 1111 1111")]);
}

#[test]
fn a_name_found_once_is_found_again_alone() {
    let t = "Incumbent Theodore Maillet conceded. Maillet, a former teacher, thanked THEODORE's team.";
    assert_eq!(
        kinds(t),
        vec![(Kind::Person, "Theodore Maillet"), (Kind::Person, "Maillet")],
        "another case is another word"
    );
    let caps = "DETECTIVE LUCY KEMP HAS ONE WEEK LEFT. KEMP IS NOT SO SURE.";
    assert_eq!(kinds(caps), vec![(Kind::Person, "LUCY KEMP"), (Kind::Person, "KEMP")]);
}

#[test]
fn places_in_prose_and_towns() {
    assert_eq!(kinds("Election night in Toulouse: turnout was high."), vec![(Kind::Location, "Toulouse")]);
    assert_eq!(kinds("a card used in Bihar Sharif yesterday"), vec![(Kind::Location, "Bihar Sharif")]);
    assert_eq!(kinds("election night in dublin: turnout"), vec![(Kind::Location, "dublin")]);
    // In Title Case every word is capitalised; `In` is no given name before a town.
    assert_eq!(kinds("Discharged To Her Home In Leeds."), vec![(Kind::Location, "Leeds")]);
    // A place that is a given name is a person next to a surname or after a title.
    assert_eq!(kinds("Austin Baker reviewed it."), vec![(Kind::Person, "Austin Baker")]);
    assert_eq!(kinds("Dr. Florence wrote."), vec![(Kind::Person, "Florence")]);
}

#[test]
fn health_and_other_identifiers_in_text() {
    for (t, want) in [
        ("MRN 00482913 admitted", (Kind::MedicalRecord, "00482913")),
        ("Member ID 1NJ3-TT3-XD70\n", (Kind::HealthPlan, "1NJ3-TT3-XD70")),
        ("passport no. C01X00T47 issued", (Kind::Passport, "C01X00T47")),
        ("NHS number 943 476 5919.", (Kind::UkNhs, "943 476 5919")),
        ("vehicle reg QQV 36T, phone", (Kind::LicensePlate, "QQV 36T")),
        ("see https://portal.example.org/p/8842.", (Kind::Url, "https://portal.example.org/p/8842")),
        ("a 93-year-old man", (Kind::Age, "93")),
        ("ITIN 912-78-1234 on file", (Kind::UsItin, "912-78-1234")),
        ("VIN 1HGCM82633A004352 seen", (Kind::Vin, "1HGCM82633A004352")),
        ("DNI 12345678Z", (Kind::EsNif, "12345678Z")),
    ] {
        assert_eq!(one(t), Some(want), "{t}");
    }
    // Look-alikes: a wrong check digit, an order id, a number no word announces.
    // (After `VIN` any code is taken: VINs outside North America carry no check digit.)
    for t in ["code 1HGCM82633A004353 seen", "order ORD-8830121 shipped", "DNI 12345678A", "we sold 00482913 units"] {
        assert!(kinds(t).iter().all(|(k, _)| !matches!(k, Kind::Vin | Kind::EsNif | Kind::MedicalRecord)), "{t}");
    }
}

#[test]
fn a_stream_remembers_the_names_it_has_sent() {
    // The surname alone comes long after the full name, beyond what a stream holds.
    let text = format!(
        "Incumbent Theodore Maillet conceded the seat. {} Maillet, a former teacher, spoke last.",
        "The count went on through the night and the results were read out at dawn. ".repeat(12)
    );
    let redactor = Redactor::new(Detector::new(), Mode::Mask);
    let whole = redactor.redact(&text, &mut Vault::default());
    assert_eq!(whole.counts.get("PERSON"), Some(&2), "{}", whole.text);
    for size in [5, 64, 300] {
        let (out, _) = streamed(&redactor, &text, size, &mut Vault::default());
        assert_eq!(out, whole.text, "chunks of {size}");
        assert!(!out.contains("Maillet"), "chunks of {size}: {out}");
    }
}

#[test]
fn kinds_parse_from_labels_and_presidio_names() {
    for (s, want) in [
        ("DATE_TIME", Kind::Date),
        ("dob", Kind::DateOfBirth),
        ("us_ssn", Kind::UsSsn),
        ("email", Kind::Email),
        ("mrn", Kind::MedicalRecord),
        ("US_BANK_NUMBER", Kind::BankAccount),
        ("address", Kind::Location),
    ] {
        assert_eq!(Kind::parse(s), Some(want), "{s}");
    }
    assert_eq!(Kind::parse("nope"), None);
}

#[test]
fn values_written_with_look_alike_characters_are_found_in_the_text_as_sent() {
    let d = Detector::new();
    for (t, value, kind) in [
        (
            "card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111 ok",
            "4111\u{00A0}1111\u{00A0}1111\u{00A0}1111",
            Kind::CreditCard,
        ),
        (
            "card 4111\u{200B}1111\u{200B}1111\u{200B}1111 ok",
            "4111\u{200B}1111\u{200B}1111\u{200B}1111",
            Kind::CreditCard,
        ),
        ("card ４１１１ １１１１ １１１１ １１１１ ok", "４１１１ １１１１ １１１１ １１１１", Kind::CreditCard),
        ("ssn 078\u{2011}05\u{2011}1120 ok", "078\u{2011}05\u{2011}1120", Kind::UsSsn),
        ("mail j\u{043E}hn@ex\u{0430}mple.com ok", "j\u{043E}hn@ex\u{0430}mple.com", Kind::Email),
        ("mail ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ ok", "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", Kind::Email),
        ("write to john [at] example [dot] com today", "john [at] example [dot] com", Kind::Email),
        ("reach me: maria dot lopez at gmail dot com.", "maria dot lopez at gmail dot com", Kind::Email),
        ("ip 10\u{FF0E}0\u{FF0E}0\u{FF0E}12 ok", "10\u{FF0E}0\u{FF0E}0\u{FF0E}12", Kind::IpAddress),
    ] {
        let found = d.find(t);
        assert!(
            found.iter().any(|f| &t[f.start..f.end] == value && f.kind == kind),
            "{t:?}: {:?}",
            found.iter().map(|f| (&t[f.start..f.end], f.kind)).collect::<Vec<_>>()
        );
    }
}
