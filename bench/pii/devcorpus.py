#!/usr/bin/env python3
"""Development corpus generator for the warden-redact PII detector.

Produces synthetic documents -- clinical notes, discharge and referral
letters, bank chats, support tickets, HR e-mails, insurance claim forms,
call-centre transcripts, code/config snippets, logs and stack traces, CSV
extracts, news prose and film/book blurbs -- with character-offset labels, so
the detector can be measured on text deliberately unlike the project's shared
benchmark corpus.

This file was written independently: every template and value format here was
authored for it. It does not use or derive from ../shared/bench/pii/
gen_corpus.py, nor from any third-party PII-evaluation generator
(presidio-research / presidio_evaluator, ai4privacy, ...). Values come from
Faker (many locales) and from hand-written generators whose identifiers carry
correct checksums (Luhn, IBAN mod 97, VIN, NHS, NIF, PESEL, NIR, Steuer-ID,
codice fiscale). Non-PII look-alikes (order ids, tracking numbers, versions,
amounts, ICD codes, bad-checksum numbers, ...) are inserted unlabelled.

Output: JSONL, one document per line:
  {"id": "dev-000001", "domain": "...", "text": "...",
   "spans": [{"start": 10, "end": 22, "type": "PERSON"}]}
Offsets are Python str (code point) offsets, end exclusive, non-overlapping.

Usage: devcorpus.py --out FILE [--docs 3000] [--seed 7]
Deterministic for a given seed. Needs only the standard library and faker.
"""
import argparse
import datetime as dt
import ipaddress
import json
import re
import string
import sys
import unicodedata
import zlib
from collections import Counter
import random

from faker import Faker

# ---------------------------------------------------------------- checksums

def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_digit(partial):
    return next(c for c in string.digits if luhn_ok(partial + c))


def iban_ok(iban):
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", s):
        return False
    n = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(n) % 97 == 1


VIN_MAP = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                   [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def vin_check(vin):
    total = sum((int(c) if c.isdigit() else VIN_MAP[c]) * w for c, w in zip(vin, VIN_WEIGHTS))
    return "X" if total % 11 == 10 else str(total % 11)


def vin_ok(vin):
    v = vin.upper()
    return len(v) == 17 and all(c in VIN_CHARS for c in v) and v[8] == vin_check(v)


def nhs_check(nine):
    c = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
    return None if c == 10 else str(0 if c == 11 else c)


def nhs_ok(v):
    d = re.sub(r"\D", "", v)
    return len(d) == 10 and nhs_check(d[:9]) == d[9]


NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def nif_ok(v):
    m = re.fullmatch(r"(\d{8})-?([A-Z])", v.upper())
    return bool(m) and NIF_LETTERS[int(m.group(1)) % 23] == m.group(2)


def nir_ok(v):
    d = re.sub(r"\s", "", v)
    return bool(re.fullmatch(r"\d{15}", d)) and int(d[13:]) == 97 - int(d[:13]) % 97


def de_tax_check(ten):
    product = 10
    for ch in ten:
        s = (int(ch) + product) % 10 or 10
        product = (s * 2) % 11
    c = 11 - product
    return "0" if c == 10 else str(c)


def de_tax_ok(v):
    d = re.sub(r"\D", "", v)
    if len(d) != 11 or d[0] == "0" or de_tax_check(d[:10]) != d[10]:
        return False
    counts = sorted(Counter(d[:10]).values())
    return counts[-1] in (2, 3) and counts[-2] == 1


def pesel_ok(v):
    if not re.fullmatch(r"\d{11}", v):
        return False
    s = sum(int(a) * w for a, w in zip(v, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]))
    return (10 - s % 10) % 10 == int(v[10])


_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4,
                    18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))


def _cf_even(c):
    return int(c) if c.isdigit() else ord(c) - 65


def it_cf_ok(v):
    v = v.upper()
    if not re.fullmatch(r"[A-Z0-9]{15}[A-Z]", v):
        return False
    s = sum(_CF_ODD[c] if i % 2 == 0 else _cf_even(c) for i, c in enumerate(v[:15]))
    return chr(65 + s % 26) == v[15]


def ssn_ok(v):
    m = re.fullmatch(r"(\d{3})[- ]?(\d{2})[- ]?(\d{4})", v)
    if not m:
        return False
    a, g, s = m.groups()
    return a not in ("000", "666") and a < "900" and g != "00" and s != "0000"


def dea_ok(v):
    d = v[2:]
    return (int(d[0]) + int(d[2]) + int(d[4]) + 2 * (int(d[1]) + int(d[3]) + int(d[5]))) % 10 == int(d[6])


def card_ok(v):
    d = re.sub(r"[ -]", "", v)
    return d.isdigit() and 12 <= len(d) <= 19 and luhn_ok(d)


# Checks applied to every labelled span in a final validation pass.
SPAN_CHECKS = {
    "CREDIT_CARD": card_ok,
    "IBAN_CODE": iban_ok,
    "VIN": vin_ok,
    "UK_NHS": nhs_ok,
    "ES_NIF": nif_ok,
    "FR_NIR": nir_ok,
    "DE_TAX_ID": de_tax_ok,
    "PL_PESEL": pesel_ok,
    "IT_FISCAL_CODE": it_cf_ok,
    "US_SSN": ssn_ok,
}


# ---------------------------------------------------------------- data lists

NAME_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "es_MX", "it_IT", "nl_NL",
                "pl_PL", "pt_BR", "sv_SE", "tr_TR", "en_IN", "vi_VN", "ja_JP", "zh_CN",
                "en_NG", "cs_CZ", "ga_IE", "da_DK", "fi_FI", "ko"]
NAME_WEIGHTS = [6, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]
KO_SURNAMES = ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin"]
KO_GIVEN = ["Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin", "Jae-won", "Ye-jin",
            "Hyun-woo", "Eun-ji", "Sung-min", "Ji-woo", "Tae-yang", "Da-eun"]
PHONE_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_IN", "en_AU",
                 "pt_BR", "ja_JP", "en_CA", "pl_PL", "sv_SE", "de_CH", "de_AT", "en_NZ", "da_DK",
                 "fi_FI", "no_NO", "fr_CH", "cs_CZ", "tr_TR"]
HAND_PHONES = ["+44 20 #### ####", "+44 7### ######", "+1 (###) ###-####", "+1 ###.###.####",
               "+49 30 #######", "+49 151 ########", "+33 6 ## ## ## ##", "+61 4## ### ###",
               "+91 9#### #####", "+81 3-####-####", "+353 1 ### ####", "+353 87 ### ####",
               "+27 21 ### ####", "+65 6### ####", "+52 55 #### ####", "+55 11 9####-####",
               "+34 6## ## ## ##", "+39 3## ### ####", "0044 20 #### ####", "(0161) ### ####",
               "+31 6 ########", "+48 5## ### ###", "+46 70 ### ## ##", "+41 79 ### ## ##"]
IBAN_LOCALES = ["de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_BR", "en_GB", "tr_TR",
                "de_AT", "de_CH", "en_IE", "da_DK", "fi_FI", "no_NO", "cs_CZ", "pt_PT", "nl_BE"]
ADDR_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_AU", "en_CA",
                "en_IE", "pl_PL", "pt_BR", "sv_SE", "de_CH", "de_AT", "en_IN", "da_DK"]
PLATE_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "it_IT", "es_ES", "pl_PL", "pt_BR", "sv_SE"]
REAL_CITIES = ["London", "Manchester", "Leeds", "Glasgow", "Cardiff", "Dublin", "Cork", "Berlin",
               "Hamburg", "Munich", "Lyon", "Marseille", "Toulouse", "Madrid", "Seville", "Valencia",
               "Milan", "Turin", "Naples", "Rotterdam", "Utrecht", "Kraków", "Gdańsk", "Wrocław",
               "São Paulo", "Recife", "Gothenburg", "Malmö", "Istanbul", "Izmir", "Pune", "Chennai",
               "Hanoi", "Osaka", "Busan", "Lagos", "Nairobi", "Toronto", "Calgary", "Melbourne",
               "Perth", "Auckland", "Boston", "Denver", "Phoenix", "Seattle", "Atlanta", "Austin"]
COUNTRIES = ["France", "Germany", "Spain", "Portugal", "Poland", "Ireland", "Italy", "Canada",
             "Brazil", "India", "Japan", "Mexico", "Sweden", "Turkey", "Vietnam", "Nigeria", "Kenya"]
FREE_MAIL = ["gmail.com", "yahoo.co.uk", "outlook.com", "hotmail.com", "web.de", "gmx.de",
             "orange.fr", "libero.it", "wp.pl", "icloud.com", "proton.me", "uol.com.br",
             "yandex.com", "btinternet.com", "free.fr", "telia.se", "aol.com"]
CORP_DOMAINS = ["northwind-logistics.com", "acmehealth.org", "brightpath.io", "helix-bank.eu",
                "stmarys.nhs.uk", "contoso.com", "fabrikam.net", "kestrel-insure.com",
                "bluefin.co", "example.org", "quantaclinic.de", "veridian.fr"]
ORGS = ["Acme Health", "Goldman Sachs", "Saint Mary's Hospital", "Northwind Logistics",
        "Kestrel Insurance", "Helix Bank", "Brightpath Software", "Deutsche Bahn", "Lloyds",
        "Santander", "Mayo Clinic", "Red Cross", "Pfizer", "BlueCross", "Unilever",
        "Royal Free Hospital", "Charité", "Contoso Ltd", "Fabrikam Inc.", "Oakridge Credit Union",
        "Victoria Infirmary", "St. George's", "Banco Popular", "Allianz"]
HOSPITALS = ["Saint Mary's Hospital", "Royal Free Hospital", "Victoria Infirmary",
             "St. George's University Hospital", "Mercy General", "Riverside Medical Centre",
             "Kingsway Clinic", "Lakeside Community Hospital", "Charité Campus Mitte",
             "Hôpital Saint-Louis", "Ospedale San Raffaele", "Mount Sinai West"]
DRUGS = ["Metformin", "Atorvastatin", "Lisinopril", "Amlodipine", "Omeprazole", "Levothyroxine",
         "Sertraline", "Apixaban", "Warfarin", "Salbutamol", "Prednisolone", "Amoxicillin",
         "Ramipril", "Bisoprolol", "Gabapentin", "Insulin glargine", "Furosemide", "Paracetamol"]
DOSES = ["250 mg", "500 mg", "10 mg", "20 mg", "5 mg", "40 mg", "0.5 mL", "2.5 mg", "1 g",
         "100 mcg", "12 units", "75 mg", "850 mg", "1000 mg", "2 puffs"]
ICD = ["E11.9", "I10", "J45.909", "M54.5", "K21.9", "F32.1", "N39.0", "Z79.4", "I48.91",
       "E78.5", "J18.9", "R07.9", "S72.001A", "G43.909", "L40.0", "C50.911"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_TITLES = {"M": ["Mr.", "Mr", "Dr.", "Prof."], "F": ["Ms.", "Mrs.", "Miss", "Dr.", "Ms"]}
LOCAL_TITLES = {"de": ("Herr", "Frau"), "fr": ("M.", "Mme"), "es": ("Sr.", "Sra."),
                "it": ("Sig.", "Sig.ra"), "nl": ("dhr.", "mevr."), "pl": ("Pan", "Pani"),
                "pt": ("Sr.", "Sra.")}
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D",
                      "ı": "i", "æ": "ae", "Æ": "AE", "œ": "oe", "İ": "I"})


def ascii_fold(s):
    s = unicodedata.normalize("NFKD", s.translate(FOLD))
    return "".join(c for c in s if c.isascii() and c.isalnum())


def ordinal(n):
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suf}"


def ampm(h, m, r):
    h12 = h % 12 or 12
    suf = r.choice(["pm", "PM", " p.m.", " pm", " PM"]) if h >= 12 else r.choice(["am", "AM", " a.m.", " am"])
    return (f"{h12}{suf}" if m == 0 and r.random() < 0.5 else f"{h12}:{m:02d}{suf}").replace("  ", " ")


def seed_for(seed, name):
    return seed * 1000003 + zlib.crc32(name.encode())


class Person:
    def __init__(self, first, last, middle, gender, locale, family_first):
        self.first, self.last, self.middle = first, last, middle
        self.gender, self.locale, self.family_first = gender, locale, family_first
        self.cache = {}

    def full(self, style):
        if self.family_first:
            return f"{self.last} {self.middle + ' ' if self.middle else ''}{self.first}"
        if style == "initial" and self.middle:
            return f"{self.first} {self.middle[0]}. {self.last}"
        if style == "middle" and self.middle:
            return f"{self.first} {self.middle} {self.last}"
        return f"{self.first} {self.last}"


# ---------------------------------------------------------------- value generators

class Gen:
    """All random values; one instance per corpus run (deterministic per seed)."""

    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)
        Faker.seed(seed)  # shared generator; each locale instance is also seeded below
        self._fakers = {}

    def fk(self, loc):
        if loc not in self._fakers:
            f = Faker(loc)
            f.seed_instance(seed_for(self.seed, loc))
            self._fakers[loc] = f
        return self._fakers[loc]

    def digits(self, n, lead="0123456789"):
        return self.r.choice(lead) + "".join(self.r.choice(string.digits) for _ in range(n - 1))

    def fill(self, pat):
        r = self.r
        out = []
        for c in pat:
            if c == "#":
                out.append(r.choice(string.digits))
            elif c == "?":
                out.append(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
            elif c == "*":
                out.append(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"))
            else:
                out.append(c)
        return "".join(out)

    # -- people
    def person(self, locale=None, gender=None):
        r = self.r
        loc = locale or r.choices(NAME_LOCALES, NAME_WEIGHTS)[0]
        g = gender or r.choice("FM")
        middle, fam = None, False
        if loc == "ko":
            first, last = r.choice(KO_GIVEN), r.choice(KO_SURNAMES)
        elif loc == "ja_JP":
            f = self.fk(loc)
            first = f.first_romanized_name_female() if g == "F" else f.first_romanized_name_male()
            last = f.last_romanized_name()
        elif loc == "zh_CN":
            f = self.fk(loc)
            first, last, fam = f.first_romanized_name(), f.last_romanized_name(), r.random() < 0.6
        elif loc == "vi_VN":
            f = self.fk(loc)
            first = f.first_name_female() if g == "F" else f.first_name_male()
            last, middle, fam = f.last_name(), f.middle_name(), True
        else:
            f = self.fk(loc)
            first = f.first_name_female() if g == "F" else f.first_name_male()
            last = f.last_name()
            if loc.startswith("es") and r.random() < 0.5:
                last += " " + f.last_name()
            if r.random() < 0.3:
                middle = f.first_name_female() if g == "F" else f.first_name_male()
        p = Person(first.strip(), last.strip(), middle, g, loc, fam)
        p.style = r.choices(["plain", "initial", "middle"], [70, 18, 12])[0]
        return p

    def title(self, p, surname_ok=True):
        r = self.r
        lang = p.locale[:2]
        if lang in LOCAL_TITLES and r.random() < 0.3:
            return LOCAL_TITLES[lang][p.gender == "F"]
        return r.choice(EN_TITLES[p.gender])

    def email_for(self, p):
        r = self.r
        fi = ascii_fold(p.first).lower() or "info"
        la = ascii_fold(p.last).lower() or "mail"
        x = r.random()
        dom = r.choice(FREE_MAIL) if x < 0.5 else r.choice(CORP_DOMAINS) if x < 0.8 \
            else self.fk("en_US").domain_name()
        local = r.choice([f"{fi}.{la}", f"{fi[0]}{la}", f"{fi}{la}", f"{fi}_{la}",
                          f"{fi[0]}.{la}{r.randint(1, 99)}", f"{fi}.{la}{r.randint(60, 99)}",
                          f"{la}.{fi}", f"{fi}{r.randint(1, 999)}", f"{la}-{fi[0]}"])
        return f"{local}@{dom}"

    def role_email(self):
        return f"{self.r.choice(['support', 'billing', 'hr', 'noreply', 'claims', 'it-ops', 'admin'])}" \
               f"@{self.r.choice(CORP_DOMAINS)}"

    # -- contact
    def phone(self):
        r = self.r
        if r.random() < 0.35:
            return self.fill(r.choice(HAND_PHONES))
        p = self.fk(r.choice(PHONE_LOCALES)).phone_number()
        return re.sub(r"\s*(x|ext\.?|#)\s*\d+$", "", p).strip()

    def phone_ext(self):
        segs = [(self.phone(), "PHONE_NUMBER")]
        if self.r.random() < 0.35:
            segs.append((self.r.choice([" ext. ", " ext ", " x", " (ext. "]) + self.digits(3), None))
            if segs[-1][0].startswith(" (") :
                segs[-1] = (segs[-1][0] + ")", None)
        return segs

    def ipv4(self):
        f = self.fk("en_US")
        return f.ipv4_public() if self.r.random() < 0.7 else f.ipv4_private()

    def ipv6(self):
        a = ipaddress.IPv6Address(self.fk("en_US").ipv6())
        if self.r.random() < 0.3:
            a = ipaddress.IPv6Address("2001:db8::%x:%x" % (self.r.randint(1, 65535), self.r.randint(1, 65535)))
        return a.exploded if self.r.random() < 0.2 else str(a)

    def url(self):
        r, f = self.r, self.fk("en_US")
        if r.random() < 0.2:
            return f.url()
        dom = r.choice(CORP_DOMAINS + [f.domain_name(), f.domain_name()])
        path = r.choice(["account/settings", "portal/login", f"patients/{self.digits(6)}/labs",
                         f"claims/{self.digits(8)}", "docs/onboarding.pdf", f"track?id={self.fill('??####')}",
                         "reset-password?token=" + self.fill("************"), f"u/{self.digits(5)}",
                         "api/v2/users", "careers/apply", f"invoice/{self.digits(7)}.pdf", ""])
        return f"{r.choice(['https://', 'https://', 'http://'])}{r.choice(['', 'www.', 'portal.', 'app.'])}{dom}/{path}"


    # -- dates and times
    def date(self, y0=2016, y1=2026):
        a, b = dt.date(y0, 1, 1).toordinal(), dt.date(y1, 12, 31).toordinal()
        return dt.date.fromordinal(self.r.randint(a, b))

    def fmt_date(self, d, kinds):
        M = MONTHS[d.month - 1]
        k = self.r.choice(kinds)
        return {
            "iso": f"{d:%Y-%m-%d}", "us": f"{d.month:02d}/{d.day:02d}/{d.year}",
            "us_short": f"{d.month}/{d.day}/{d.year % 100:02d}", "eu_dot": f"{d.day:02d}.{d.month:02d}.{d.year}",
            "eu_slash": f"{d.day:02d}/{d.month:02d}/{d.year}", "dmy_long": f"{d.day} {M} {d.year}",
            "mdy_ord": f"{M} {ordinal(d.day)}, {d.year}", "ord_of": f"{ordinal(d.day)} of {M} {d.year}",
            "mon_day": f"{M[:3]} {d.day}", "month_year": f"{M} {d.year}",
            "weekday": f"{WEEKDAYS[d.weekday()]}, {M} {d.day}, {d.year}", "mdy": f"{M} {d.day}, {d.year}",
            "dmy_abbr": f"{d.day} {M[:3]} {d.year}", "dd_mon_yyyy": f"{d.day:02d}-{M[:3]}-{d.year}",
        }[k]

    FULL_DATES = ["iso", "us", "us_short", "eu_dot", "eu_slash", "dmy_long", "mdy_ord", "ord_of",
                  "weekday", "mdy", "dmy_abbr", "dd_mon_yyyy"]
    ANY_DATES = FULL_DATES + ["mon_day", "month_year"]

    def any_date(self):
        return self.fmt_date(self.date(), self.ANY_DATES)

    def dob(self):
        return self.fmt_date(self.date(1932, 2007), self.FULL_DATES)

    def time(self):
        r = self.r
        h, m = r.randint(0, 23), r.choice([0, 5, 10, 15, 20, 30, 40, 45, 50, r.randint(0, 59)])
        k = r.randint(0, 2)
        return f"{h:02d}:{m:02d}" if k == 0 else ampm(h, m, r) if k == 1 else f"{h:02d}:{m:02d}:{r.randint(0, 59):02d}"

    def datetime(self):
        r = self.r
        d, h, m, s = self.date(), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
        k = r.randint(0, 3)
        if k == 0:
            return f"{d:%Y-%m-%d}T{h:02d}:{m:02d}:{s:02d}Z"
        if k == 1:
            return f"{d:%Y-%m-%d} {h:02d}:{m:02d}"
        if k == 2:
            return f"{self.fmt_date(d, ['us', 'eu_slash', 'dmy_abbr'])} {ampm(h, m, r)}"
        return f"{self.fmt_date(d, ['mdy', 'dmy_long'])} at {h:02d}:{m:02d}"

    def log_ts(self, k=None):
        r = self.r
        d, h, m, s, ms = self.date(2022, 2026), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999)
        k = r.randint(0, 3) if k is None else k
        if k == 0:
            return f"{d:%Y-%m-%d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z"
        if k == 1:
            return f"{d:%Y-%m-%d} {h:02d}:{m:02d}:{s:02d},{ms:03d}"
        if k == 2:
            return f"{d.day:02d}/{MONTHS[d.month - 1][:3]}/{d.year}:{h:02d}:{m:02d}:{s:02d} +0000"
        return f"{MONTHS[d.month - 1][:3]} {d.day:2d} {h:02d}:{m:02d}:{s:02d}"

    # -- locations
    def address(self, multiline=False):
        a = self.fk(self.r.choice(ADDR_LOCALES)).address()
        lines = [ln.strip(" ,") for ln in a.split("\n") if ln.strip(" ,")]
        return "\n".join(lines) if multiline else ", ".join(lines)

    def street(self):
        return self.fk(self.r.choice(ADDR_LOCALES)).street_address().strip()

    def city(self):
        if self.r.random() < 0.5:
            return self.r.choice(REAL_CITIES)
        loc = self.r.choice(ADDR_LOCALES)
        if loc == "it_IT":
            # Faker's it_IT city list is built from a set, so its order (and the value
            # picked) differs between processes; choose from a sorted copy instead.
            if not hasattr(self, "_it_cities"):
                from faker.providers.address.it_IT import Provider as ItAddress
                self._it_cities = sorted(ItAddress.cities)
            return self.r.choice(self._it_cities)
        return self.fk(loc).city().strip()

    def postcode(self):
        return self.fk(self.r.choice(ADDR_LOCALES)).postcode().strip()

    # -- finance
    def ssn(self):
        r = self.r
        a = r.choice([x for x in range(1, 900) if x != 666])
        sep = r.choices(["-", " ", ""], [70, 22, 8])[0]
        v = f"{a:03d}{sep}{r.randint(1, 99):02d}{sep}{r.randint(1, 9999):04d}"
        assert ssn_ok(v)
        return v

    def card(self):
        r = self.r
        t = r.choice(["visa16", "visa16", "mastercard", "mastercard", "amex", "discover", "jcb16", "diners", "maestro"])
        d = self.fk("en_US").credit_card_number(card_type=t)
        assert luhn_ok(d), d
        sep = r.choice([" ", " ", "-", ""])
        groups = {16: [4, 4, 4, 4], 15: [4, 6, 5], 14: [4, 6, 4]}.get(len(d))
        if not groups or not sep:
            return d
        out, i = [], 0
        for n in groups:
            out.append(d[i:i + n])
            i += n
        return sep.join(out)

    def bad_card(self):
        d = self.fk("en_US").credit_card_number(card_type="visa16")
        d = d[:-1] + str((int(d[-1]) + self.r.randint(1, 9)) % 10)
        assert not luhn_ok(d)
        return d if self.r.random() < 0.6 else " ".join(d[i:i + 4] for i in range(0, 16, 4))

    def iban(self, bad=False):
        v = self.fk(self.r.choice(IBAN_LOCALES)).iban()
        assert iban_ok(v), v
        if bad:
            good = int(v[2:4])
            v = v[:2] + "%02d" % self.r.choice([c for c in range(2, 99) if c != good]) + v[4:]
            assert not iban_ok(v)
        if self.r.random() < 0.5:
            v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
        return v

    def bank_account(self):
        return self.digits(self.r.randint(8, 17), "123456789")

    def aba(self):
        return self.fk("en_US").aba()

    def swift(self):
        return self.fill("????") + self.r.choice(["DE", "GB", "FR", "ES", "IT", "NL", "US"]) + self.fill("**") \
            + self.r.choice(["", "", "XXX", self.fill("###")])


    # -- identifiers
    def mrn(self):
        return self.fill(self.r.choice(["########", "00######", "#######", "##########", "?#######", "###-##-###"]))

    def health_plan(self):
        return self.fill(self.r.choice(["???#########", "?#########", "#??#-??#-??##", "???##########",
                                        "##########??", "???-###-###-###"]))

    def license(self):
        r = self.r
        if r.random() < 0.3:
            return self.dea()
        return self.fill(r.choice(["RN######", "MD######", "C#######", "#######", "LIC-########",
                                   "PE-#####", "CPA ######", "??-#####-??", "G####"]))

    def dea(self):
        six = self.digits(6)
        d = [int(c) for c in six]
        v = self.r.choice("ABFGMPRX") + self.r.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + six \
            + str((d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10)
        assert dea_ok(v)
        return v

    US_DL = {"California": "?#######", "New York": "### ### ###", "Florida": "?###-###-##-###-#",
             "Illinois": "?###-####-####", "Texas": "########", "Pennsylvania": "## ### ###",
             "New Jersey": "?#### ##### #####", "Washington": "WDL*********", "Michigan": "? ### ### ### ###",
             "Ohio": "??######", "Georgia": "#########", "Arizona": "?########"}

    def us_dl(self):
        state = self.r.choice(sorted(self.US_DL))
        return state, self.fill(self.US_DL[state])

    def passport(self):
        r = self.r
        k = r.randint(0, 5)
        if k == 3:
            return r.choice("CFGHJK") + "".join(r.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(8))
        return self.fill(["#########", "?########", "#########", "", "##??#####", "?#######"][k] or "???######")

    WMI = ["1HG", "JHM", "WVW", "1FA", "5YJ", "WBA", "VF1", "ZFA", "SAL", "KMH", "3VW", "YV1", "TMB", "2T1"]

    def vin(self):
        r = self.r
        body = r.choice(self.WMI) + self.fill("*****") + "0" + r.choice("ABCDEFGHJKLMNPRSTVWXY123456789") \
            + self.fill("*") + self.digits(6)
        v = body[:8] + vin_check(body) + body[9:]
        assert vin_ok(v), v
        return v

    def plate(self):
        return self.fk(self.r.choice(PLATE_LOCALES)).license_plate().strip()

    def device(self):
        r = self.r
        k = r.randint(0, 4)
        if k == 0:
            mac = ":".join("%02x" % r.randint(0, 255) for _ in range(6))
            return mac.upper() if r.random() < 0.5 else mac
        if k == 1:
            return "".join(r.choice("0123456789abcdef") for _ in range(16))
        return self.fill(["", "", "C02*********", "5CG#######", "R58M*******"][k] if k > 1 else "")

    def imei(self):
        v = self.r.choice(["35", "86", "01", "99", "49"]) + self.digits(12)
        v += luhn_digit(v)
        assert luhn_ok(v)
        return v if self.r.random() < 0.7 else f"{v[:2]}-{v[2:8]}-{v[8:14]}-{v[14]}"

    def age_num(self, child=False):
        r = self.r
        if child:
            return str(r.randint(1, 15))
        k = r.choices([0, 1, 2], [82, 12, 6])[0]
        return str([r.randint(18, 95), r.randint(1, 17), r.randint(96, 104)][k])

    def age_adj(self, child=False):
        n = self.age_num(child)
        art = "an" if n in ("8", "11", "18") or n.startswith("8") else "a"
        suf = self.r.choice(["-year-old", "-year-old", " year old", "-yr-old", " y/o", "yo", " yo"])
        return [(art + " ", None), (n, "AGE"), (suf, None)]

    def age_phrase(self):
        n = self.age_num()
        pre, suf = self.r.choice([("aged ", ""), ("age ", ""), ("", " years old"), ("", " years of age"),
                                  ("age: ", ""), ("who is ", "")])
        return [(pre, None), (n, "AGE"), (suf, None)]

    # -- national identifiers with checksums
    def nhs(self):
        while True:
            nine = self.digits(9, "4679")
            c = nhs_check(nine)
            if c is not None:
                break
        v = nine + c
        assert nhs_ok(v)
        k = self.r.choices([0, 1, 2], [60, 30, 10])[0]
        return [f"{v[:3]} {v[3:6]} {v[6:]}", v, f"{v[:3]}-{v[3:6]}-{v[6:]}"][k]

    def nif(self):
        n = self.digits(8)
        v = n + ("-" if self.r.random() < 0.15 else "") + NIF_LETTERS[int(n) % 23]
        assert nif_ok(v)
        return v

    def it_cf(self):
        v = self.fk("it_IT").ssn()
        assert it_cf_ok(v)
        return v

    def pesel(self):
        v = self.fk("pl_PL").pesel()
        assert pesel_ok(v)
        return v

    def nir(self):
        r = self.r
        dept = r.choice([x for x in range(1, 96) if x != 20])
        body = f"{r.choice('12')}{r.randint(0, 99):02d}{r.randint(1, 12):02d}{dept:02d}" \
               f"{r.randint(1, 990):03d}{r.randint(1, 999):03d}"
        v = body + "%02d" % (97 - int(body) % 97)
        assert nir_ok(v)
        if r.random() < 0.5:
            return v
        return " ".join([v[0], v[1:3], v[3:5], v[5:7], v[7:10], v[10:13], v[13:]])

    def de_tax(self):
        r = self.r
        while True:
            rep = r.choices([2, 3], [80, 20])[0]
            distinct = r.sample(range(10), 11 - rep)
            ds = distinct + [distinct[0]] * (rep - 1)
            r.shuffle(ds)
            if ds[0] != 0:
                break
        ten = "".join(map(str, ds))
        v = ten + de_tax_check(ten)
        assert de_tax_ok(v), v
        return v if r.random() < 0.6 else f"{v[:2]} {v[2:5]} {v[5:8]} {v[8:]}"

    NATID_KW = {"UK_NHS": ["NHS number ", "NHS no. ", "NHS No: "],
                "ES_NIF": ["NIF ", "DNI/NIF: ", "DNI "],
                "IT_FISCAL_CODE": ["codice fiscale ", "tax code (codice fiscale) ", "CF: "],
                "PL_PESEL": ["PESEL ", "PESEL: "],
                "FR_NIR": ["NIR ", "n° de sécurité sociale ", "numéro INSEE "],
                "DE_TAX_ID": ["Steuer-ID ", "Steuerliche IdNr. ", "tax ID (IdNr) "],
                "US_SSN": ["SSN ", "social security number "]}

    def natid(self):
        t = self.r.choice(sorted(self.NATID_KW))
        fn = {"UK_NHS": self.nhs, "ES_NIF": self.nif, "IT_FISCAL_CODE": self.it_cf, "PL_PESEL": self.pesel,
              "FR_NIR": self.nir, "DE_TAX_ID": self.de_tax, "US_SSN": self.ssn}[t]
        return [(self.r.choice(self.NATID_KW[t]), None), (fn(), t)]

    def id_doc(self):
        r = self.r
        if r.random() < 0.5:
            return [(r.choice(["passport no. ", "passport number ", "Passport: "]), None), (self.passport(), "PASSPORT")]
        state, v = self.us_dl()
        return [(r.choice([f"{state} driver's license ", f"{state} DL# ", f"driver license ({state}) "]), None),
                (v, "US_DRIVER_LICENSE")]


# ---------------------------------------------------------------- placeholder registry

LOOKALIKE_PATTERNS = {
    "ORDER": ["ORD-#######", "SO-######", "PO-2024-#####", "#########"],
    "TRACK": ["1Z******##########", "############", "9400 1### #### #### #### ##"],
    "INVOICE": ["INV-2023-#####", "INV-######", "#####/24"],
    "REF": ["#########", "##########", "REF-######"],
    "TICKET": ["#######", "CS-######", "INC#######"],
    "LOT": ["#?####?", "######-?", "L####"],
    "SKU": ["SKU-#####-???", "??-####"],
    "CLAIMNO": ["CLM-2025-#######", "C-########"],
}
ALL_TYPES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE",
             "IP_ADDRESS", "DATE_TIME", "LOCATION", "URL", "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID",
             "US_BANK_NUMBER", "LICENSE_NUMBER", "US_DRIVER_LICENSE", "PASSPORT", "VIN", "LICENSE_PLATE",
             "DEVICE_ID", "AGE", "UK_NHS", "ES_NIF", "IT_FISCAL_CODE", "PL_PESEL", "FR_NIR", "DE_TAX_ID"]


class Doc:
    """Per-document state: people referred to by tag (``{FIRST@a}``) and cached values."""

    def __init__(self, g, locale=None):
        self.g, self.people, self.cache, self.locale = g, {}, {}, locale

    def new_person(self, tag=None):
        loc = self.locale if self.locale and self.g.r.random() < 0.7 else None
        gender = tag[0].upper() if tag and len(tag) > 1 and tag[0] in "fm" else None
        return self.g.person(loc, gender)

    def person(self, tag):
        if tag is None:
            return self.new_person()
        if tag not in self.people:
            self.people[tag] = self.new_person(tag)
        return self.people[tag]


def _full(g, d, t):
    p = d.person(t)
    return p.full(p.style)


def _short_or_full(g, p):
    return p.last if g.r.random() < 0.6 else p.full(p.style)


def _inverted(g, d, t):
    p = d.person(t)
    last = p.last.upper() if g.r.random() < 0.3 and len(p.last.upper()) == len(p.last) else p.last
    first = f"{p.first} {p.middle[0]}." if p.middle and g.r.random() < 0.4 else p.first
    return f"{last}, {first}"


def _lookalike(key):
    return lambda g, d, t: g.fill(g.r.choice(LOOKALIKE_PATTERNS[key]))


def _ip(g, d, t):
    return g.ipv4() if g.r.random() < 0.75 else g.ipv6()


def _amount(g, d, t):
    r = g.r
    v = r.choice([r.uniform(5, 200), r.uniform(200, 9000), r.uniform(9000, 250000)])
    cur = r.choice(["$", "£", "€", "USD ", "EUR "])
    return f"{cur}{v:,.2f}" if cur != "€" or r.random() < 0.5 else f"{v:,.2f} €"


REGISTRY = {
    # people
    "PERSON": ("PERSON", _full),
    "FIRST": ("PERSON", lambda g, d, t: d.person(t).first),
    "LAST": ("PERSON", lambda g, d, t: d.person(t).last),
    "TITLED": (None, lambda g, d, t: [(g.title(d.person(t)) + " ", None),
                                      (_short_or_full(g, d.person(t)), "PERSON")]),
    "DR": (None, lambda g, d, t: [(g.r.choice(["Dr. ", "Dr ", "Doctor ", "Dr. "]), None),
                                  (_short_or_full(g, d.person(t)), "PERSON")]),
    "DRSIG": (None, lambda g, d, t: [(_full(g, d, t), "PERSON"),
                                     (g.r.choice([", MD", ", MBBS", " FRCP", ", RN", ", DO", ""]), None)]),
    "INV": ("PERSON", _inverted),
    "EMAIL": ("EMAIL_ADDRESS", lambda g, d, t: g.email_for(d.person(t))),
    "ROLEMAIL": ("EMAIL_ADDRESS", lambda g, d, t: g.role_email()),
    # contact, network
    "PHONE": ("PHONE_NUMBER", lambda g, d, t: g.phone_ext()),
    "PHONE0": ("PHONE_NUMBER", lambda g, d, t: g.phone()),
    "IP": ("IP_ADDRESS", _ip),
    "IP4": ("IP_ADDRESS", lambda g, d, t: g.ipv4()),
    "IP6": ("IP_ADDRESS", lambda g, d, t: g.ipv6()),
    "URL": ("URL", lambda g, d, t: g.url()),
    # time
    "DATE": ("DATE_TIME", lambda g, d, t: g.any_date()),
    "DOB": ("DATE_TIME", lambda g, d, t: g.dob()),
    "TIME": ("DATE_TIME", lambda g, d, t: g.time()),
    "DATETIME": ("DATE_TIME", lambda g, d, t: g.datetime()),
    "TS": ("DATE_TIME", lambda g, d, t: g.log_ts()),
    **{f"TS{k}": ("DATE_TIME", (lambda k: lambda g, d, t: g.log_ts(k))(k)) for k in range(4)},
    # places
    "ADDR": ("LOCATION", lambda g, d, t: g.address()),
    "ADDRML": ("LOCATION", lambda g, d, t: g.address(multiline=True)),
    "STREET": ("LOCATION", lambda g, d, t: g.street()),
    "CITY": ("LOCATION", lambda g, d, t: g.city()),
    "POSTCODE": ("LOCATION", lambda g, d, t: g.postcode()),
    "COUNTRY": ("LOCATION", lambda g, d, t: g.r.choice(COUNTRIES)),
    # finance
    "SSN": ("US_SSN", lambda g, d, t: g.ssn()),
    "CARD": ("CREDIT_CARD", lambda g, d, t: g.card()),
    "IBAN": ("IBAN_CODE", lambda g, d, t: g.iban()),
    "ACCT": ("US_BANK_NUMBER", lambda g, d, t: g.bank_account()),
    # ids
    "MRN": ("MEDICAL_RECORD_NUMBER", lambda g, d, t: g.mrn()),
    "HPID": ("HEALTH_PLAN_ID", lambda g, d, t: g.health_plan()),
    "LICENSE": ("LICENSE_NUMBER", lambda g, d, t: g.license()),
    "DEA": ("LICENSE_NUMBER", lambda g, d, t: g.dea()),
    "USDL": ("US_DRIVER_LICENSE", lambda g, d, t: g.us_dl()[1]),
    "PASSPORT": ("PASSPORT", lambda g, d, t: g.passport()),
    "IDDOC": (None, lambda g, d, t: g.id_doc()),
    "VIN": ("VIN", lambda g, d, t: g.vin()),
    "PLATE": ("LICENSE_PLATE", lambda g, d, t: g.plate()),
    "DEVICE": ("DEVICE_ID", lambda g, d, t: g.device()),
    "IMEI": ("DEVICE_ID", lambda g, d, t: g.imei()),
    "AGEA": (None, lambda g, d, t: g.age_adj()),
    "AGEK": (None, lambda g, d, t: g.age_adj(child=True)),
    "AGEP": (None, lambda g, d, t: g.age_phrase()),
    "AGE": ("AGE", lambda g, d, t: g.age_num()),
    "NHS": ("UK_NHS", lambda g, d, t: g.nhs()),
    "NIF": ("ES_NIF", lambda g, d, t: g.nif()),
    "ITCF": ("IT_FISCAL_CODE", lambda g, d, t: g.it_cf()),
    "PESEL": ("PL_PESEL", lambda g, d, t: g.pesel()),
    "NIR": ("FR_NIR", lambda g, d, t: g.nir()),
    "DETAX": ("DE_TAX_ID", lambda g, d, t: g.de_tax()),
    "NATID": (None, lambda g, d, t: g.natid()),
    # unlabelled look-alikes
    "BADCARD": (None, lambda g, d, t: g.bad_card()),
    "BADIBAN": (None, lambda g, d, t: g.iban(bad=True)),
    "ABA": (None, lambda g, d, t: g.aba()),
    "SWIFT": (None, lambda g, d, t: g.swift()),
    "VERSION": (None, lambda g, d, t: f"v{g.r.randint(0, 9)}.{g.r.randint(0, 30)}.{g.r.randint(0, 20)}"),
    "OID": (None, lambda g, d, t: ".".join(str(g.r.randint(1, 40)) for _ in range(g.r.randint(5, 8)))),
    "AMOUNT": (None, _amount),
    "PCT": (None, lambda g, d, t: f"{g.r.uniform(0.1, 99):.{g.r.randint(0, 2)}f}%"),
    "DOSE": (None, lambda g, d, t: g.r.choice(DOSES)),
    "ICD": (None, lambda g, d, t: g.r.choice(ICD)),
    "ROOM": (None, lambda g, d, t: g.fill(g.r.choice(["Room ###", "Bed ##?", "Ward #", "Bay #"]))),
    "DRUG": (None, lambda g, d, t: g.r.choice(DRUGS)),
    "ORG": (None, lambda g, d, t: g.r.choice(ORGS)),
    "HOSP": (None, lambda g, d, t: g.r.choice(HOSPITALS)),
    "SHA": (None, lambda g, d, t: "".join(g.r.choice("0123456789abcdef") for _ in range(g.r.choice([7, 12, 40])))),
    "UUID": (None, lambda g, d, t: "%08x-%04x-4%03x-%04x-%012x" % (
        g.r.getrandbits(32), g.r.getrandbits(16), g.r.getrandbits(12), g.r.getrandbits(16) | 0x8000 & 0xbfff,
        g.r.getrandbits(48))),
    "NUM": (None, lambda g, d, t: str(g.r.randint(2, 60))),
    "PORT": (None, lambda g, d, t: str(g.r.choice([443, 5432, 6379, 8080, 8443, 9200, 3306, 27017]))),
    "MS": (None, lambda g, d, t: str(g.r.randint(3, 4800))),
    "PID": (None, lambda g, d, t: str(g.r.randint(300, 65000))),
}
REGISTRY.update({k: (None, _lookalike(k)) for k in LOOKALIKE_PATTERNS})


# ---------------------------------------------------------------- rendering

PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)(?:@([a-z0-9]+))?\}")


def render(g, tpl, xform=None):
    """Fill placeholders; return (text, spans). Tagged placeholders repeat their value."""
    m = re.match(r"#locale:(\w+)\n", tpl)   # optional hint: most people from this locale
    doc = Doc(g, m and m.group(1))
    tpl = tpl[m.end():] if m else tpl
    parts, spans, pos = [], [], 0

    def emit(s, label):
        nonlocal pos
        if xform:
            s = xform(s, label)
        if not s:
            return
        if label:
            assert s == s.strip(), (label, s)
            spans.append({"start": pos, "end": pos + len(s), "type": label, "_v": s})
        parts.append(s)
        pos += len(s)

    last = 0
    for m in PLACEHOLDER.finditer(tpl):
        emit(tpl[last:m.start()], None)
        key, tag = m.groups()
        label, fn = REGISTRY[key]
        if tag and (key, tag) in doc.cache:
            out = doc.cache[(key, tag)]
        else:
            out = fn(g, doc, tag)
            if tag:
                doc.cache[(key, tag)] = out
        for s, lab in ([(out, label)] if isinstance(out, str) else out):
            emit(s, lab)
        last = m.end()
    emit(tpl[last:], None)
    text = "".join(parts)
    for sp in spans:
        assert text[sp["start"]:sp["end"]] == sp.pop("_v")
    return text, spans


def spoken(s, label):
    """Call-centre transcript style: lower case, no punctuation, spoken e-mail addresses."""
    orig = s = s.lower()
    if label == "EMAIL_ADDRESS":
        s = s.replace("@", " at ").replace(".", " dot ")
    s = re.sub(r"[-/.,:;()+#!?\"'°&]", " ", s.replace("'", ""))
    s = re.sub(r"[^\w\s]", "", s)
    if label:
        return re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"(\d) (\d)", r"\1 point \2", s) if re.search(r"\d\.\d", orig) else s
    return re.sub(r"[ \t]+", " ", s)


def apply_case(text, mode):
    """Whole-document lower/upper casing; None if it would change any offsets."""
    conv = str.lower if mode == "lower" else str.upper
    if any(len(conv(c)) != 1 for c in text):
        return None
    out = conv(text)
    return out if len(out) == len(text) else None


TEMPLATES = {}   # domain -> list of template strings or callables g -> template string
XFORMS = {"call_centre": spoken}


def add(domain, *tpls):
    TEMPLATES.setdefault(domain, []).extend(tpls)


# ---------------------------------------------------------------- templates (one block per domain)

add("clinical_note",
    """Progress note, {DATE}
Patient: {PERSON@ma}, {AGEA} patient, MRN {MRN}, {ROOM}.
S: {FIRST@ma} reports worsening shortness of breath over the past week. Denies chest pain. His daughter can be reached on {PHONE}.
O: BP 142/88, HR 96, SpO2 93% on room air. HbA1c 8.1%.
A: Type 2 diabetes ({ICD}), poorly controlled; possible community-acquired pneumonia.
P: Continue {DRUG} {DOSE} twice daily. Chest X-ray booked for {TIME}. Reviewed with {DR@b}.""",
    """ED triage {DATETIME}. {TITLED@fa} presented via ambulance after a fall at home ({ADDR}). She is {AGEP} and lives alone. Pain 7/10 in the left hip, shortened and externally rotated leg. Allergies: penicillin. Regular meds: {DRUG} {DOSE}, Warfarin 3 mg. INR 2.4. Next of kin {PERSON@c}, tel {PHONE0}. NHS number {NHS}. Plan: analgesia, X-ray, orthopaedic referral to {DR@d}.""",
    """Nursing note - {HOSP}, {ROOM}
{TIME}: Pt {INV@a} (DOB {DOB}, MRN {MRN}) settled overnight. Obs stable, NEWS 2. Insulin glargine 12 units given at {TIME}, lot {LOT}. Wound dressing changed, no signs of infection. {FIRST@a} asked about discharge; explained that {DR@b} will review on the ward round. Wife {FIRST@fc} called at {TIME} and asked to be phoned back on {PHONE0}.""",
    """CLINIC LETTER SUMMARY
Seen: {DATE}   Clinician: {DRSIG@b}
Patient: {PERSON@a}   DOB: {DOB}   Hospital no: {MRN}
Diagnosis: Asthma ({ICD}), obesity.
{FIRST@a} is {AGEA} teacher who uses Salbutamol 2 puffs up to four times a day. Peak flow 310 L/min (68% predicted). We have stepped up to Fostair 100/6 and arranged spirometry at Kingsway Clinic. Insurance member ID {HPID}. Follow-up in 3 months.""",
    """Telephone consultation {DATETIME}
Spoke to {TITLED@a} on {PHONE0} (identity confirmed with date of birth {DOB} and postcode {POSTCODE}). Reports dizziness since starting {DRUG} {DOSE}. BP at home 104/62. Advised to halve the dose and repeat readings for 7 days. Safety-netted. Prescription sent to the pharmacy at {STREET}. Dr code {LICENSE}.""",
    """Pre-op assessment - Day Surgery Unit
Name: {PERSON@a}  Age: {AGE}  MRN: {MRN}
Procedure: laparoscopic cholecystectomy, listed for {DATE} with {DR@b}.
ASA 2. BMI 31.4. Medications: {DRUG} {DOSE} once daily, {DRUG} {DOSE} at night. ICD-10 {ICD}. Device: insulin pump, serial {DEVICE}.
Escort home: {PERSON@c} ({PHONE0}). Consent form signed; copy e-mailed to {EMAIL@a}.""",
    """Discharge planning huddle, Ward 6 ({TIME})
1. {INV@a}, {ROOM}: medically fit, awaiting package of care. Social worker {PERSON@b} chasing.
2. {INV@c}, {ROOM}: IV antibiotics day 3 of 5, CRP falling (112 to 48).
3. {INV@d}, {ROOM}: {AGEA} with delirium; daughter {FIRST@e} visiting at {TIME}.
Pharmacy to reconcile {DRUG} and {DRUG} before discharge. Beds available: 2.""",
    """Paediatric note. {PERSON@ma} is {AGEK} boy brought in by his mother {PERSON@fb} with a barking cough and fever of 38.9 C since {DATE}. Croup score 3. Given dexamethasone 0.15 mg/kg. Observed for 4 hours, discharged home at {TIME}. Health visitor informed. Mother's mobile {PHONE0}; home address {ADDR}.""",
)

add("discharge_letter",
    """{HOSP}
Department of Cardiology

{DATE}

Dear {DR@b},

Re: {PERSON@a}, DOB {DOB}, MRN {MRN}
{ADDRML}

Your patient was admitted on {DATE} with fast atrial fibrillation ({ICD}) and discharged today. Rate control was achieved with Bisoprolol 5 mg and anticoagulation started with {DRUG} {DOSE}. Echo showed an EF of 55%. Please review renal function in two weeks.

Yours sincerely,
{DRSIG@c}
Consultant Cardiologist""",
    """DISCHARGE SUMMARY
Patient: {INV@a}   NHS No: {NHS}   Admitted: {DATE}   Discharged: {DATE}
Consultant: {DR@b}   Ward: {ROOM}
Presenting complaint: {AGEA} patient with right lower quadrant pain.
Procedure: laparoscopic appendicectomy on {DATE}, uncomplicated.
Discharge medication: Paracetamol 1 g QDS, {DRUG} {DOSE} (7 days).
Follow-up: wound check with practice nurse. Any queries: surgical secretaries on {PHONE}.""",
    """Dear {TITLED@a},

Following your stay at {HOSP} between {DATE} and {DATE}, we enclose a copy of your discharge summary. Your record number is {MRN}. If you notice fever, increasing redness or swelling, call the ward on {PHONE0} or visit {URL}. Your next appointment is {DATETIME} with {DR@b}.

Kind regards,
Patient Services""",
    """Discharge letter - Geriatric Medicine

Name: {PERSON@a}
DOB: {DOB} ({AGEP})
Address: {ADDR}
Hospital number: {MRN}     Health plan: {HPID}

Diagnoses: urinary tract infection ({ICD}), acute confusion, resolved. Falls risk.
{FIRST@a} was treated with IV antibiotics and is back to baseline mobility with a frame. Daughter {PERSON@c} ({EMAIL@c}) is aware of discharge. District nurses to visit {STREET} on {DATE}.
Signed {DRSIG@b}""",
    """To: GP practice, {CITY}
From: Renal unit, {HOSP}
Date: {DATE}

{PERSON@a} ({AGEP}, NHS {NHS}) was discharged after an episode of acute kidney injury on a background of CKD stage 3. Creatinine peaked at 312 and is now 148. {DRUG} and Ramipril were held; please restart Ramipril at 2.5 mg if potassium is below 5.0. Bloods on {DATE}. Contact {DR@b} via bleep 4417 or {EMAIL@b} with questions.""",
)

add("referral_letter",
    """{ORG} Medical Group
{ADDRML}
Tel {PHONE0}

{DATE}

Dear {DR@b},

I would be grateful if you could see {PERSON@a} (DOB {DOB}, {NATID}), {AGEA} with a six-month history of progressive dysphagia and 6 kg weight loss. Upper GI endoscopy is requested. Current medication: {DRUG} {DOSE}. {FIRST@a} can be contacted on {PHONE0} or at {EMAIL@a}.

Best wishes,
{DRSIG@c}""",
    """Urgent 2-week-wait referral
Referrer: {DR@c}, GMC {LICENSE}
Patient: {INV@a}   DOB: {DOB}   NHS: {NHS}
Address: {ADDR}
Reason: breast lump, right upper outer quadrant, 2 cm, first noticed {DATE}. Mother had breast cancer aged {AGE}.
Interpreter needed: no. Preferred contact: mobile {PHONE0}.""",
    """Dear colleague,

Re: {TITLED@fa}, born {DOB}
Member ID {HPID}

Thank you for seeing this {AGE}-year-old software engineer with recurrent migraine ({ICD}) despite prophylaxis with Propranolol 80 mg. She has tried {DRUG} without benefit. Her MRI on {DATE} was normal. I'd value your opinion on CGRP therapy. Her husband {PERSON@md} usually accompanies her.

Kind regards,
{DR@b}
{HOSP}""",
    """REFERRAL FORM - PHYSIOTHERAPY
Patient name: {PERSON@a}
Date of birth: {DOB}
Phone: {PHONE}
Email: {EMAIL@a}
Referring clinician: {DRSIG@b} (licence no. {LICENSE})
Problem: chronic low back pain ({ICD}) with left-sided sciatica, 14 weeks. Off work since {DATE}.
Red flags: none. Please see within 4 weeks.""",
    """Referral to Dr {PERSON@b}, dermatology, {HOSP}.
{PERSON@a}, {AGEP}, has a changing pigmented lesion on the left calf, 7 mm, irregular border. Photograph uploaded to {URL} on {DATE}. Past history: basal cell carcinoma excised in {DATE}. Lives at {ADDR}. Mobile {PHONE0}. Referred by {DR@c} (DEA {DEA}).""",
)

add("bank_chat",
    """[{TIME}] Agent ({FIRST@b}): Hello, you're chatting with {ORG}. How can I help today?
[{TIME}] Customer: hi, I think my card was used in {CITY} and I haven't been there
[{TIME}] Agent ({FIRST@b}): I'm sorry to hear that. Can you confirm your full name and date of birth?
[{TIME}] Customer: {PERSON@a}, {DOB}
[{TIME}] Agent ({FIRST@b}): Thank you {FIRST@a}. I can see two payments of {AMOUNT} on the card ending {NUM}. I've blocked it and a replacement will go to {ADDR}.
[{TIME}] Customer: thanks. case number?
[{TIME}] Agent ({FIRST@b}): Your reference is {REF}.""",
    """Agent: Good afternoon, Helix Bank chat, my name is {FIRST@b}.
Customer: hello I need to update my phone number, new one is {PHONE0}
Agent: Of course. For security, what's the email on the account?
Customer: {EMAIL@a}
Agent: Thanks, {TITLED@a}. And the last 4 digits of your account?
Customer: my account is {ACCT} actually, the whole thing
Agent: Please don't share full account numbers in chat! I've updated the number. Anything else?
Customer: no thats all""",
    """Customer: I want to send money to my landlord, IBAN is {IBAN}, is that right?
Agent: Let me check. The IBAN belongs to {ORG}, branch in {CITY}. The name on the account is {PERSON@c}.
Customer: yes thats him
Agent: The transfer of {AMOUNT} is scheduled for {DATE}. Your payment reference is {INVOICE}.
Customer: ok and the card {CARD} should not be charged for fees
Agent: Correct, domestic SEPA transfers are free. Have a good day {FIRST@a}!""",
    """Agent: Welcome back, {FIRST@a}. I see a dispute open for order {ORDER}.
Customer: yes the merchant charged me twice, {AMOUNT} on {DATE}
Agent: Could you confirm the card number on the receipt?
Customer: {CARD}, it's a credit card
Agent: Thank you. I've raised chargeback {REF}. We will write to you at {ADDR} within 10 working days.
Customer: can you email instead? {EMAIL@a}
Agent: Done. Anything else today?""",
    """Agent: Hi, this is {PERSON@b} from the mortgage team.
Customer: Hi, I'm {PERSON@a}. I'm applying jointly with my partner {PERSON@c}.
Agent: Great. I'll need your SSN and your partner's.
Customer: Mine is {SSN}, {FIRST@c}'s is {SSN}.
Agent: Thanks. Routing number for the account you'd like payments from?
Customer: routing {ABA}, account {ACCT}
Agent: Perfect. An advisor will call you on {PHONE0} on {DATE} at {TIME}.""",
    """Customer: my transfer to {BADIBAN} bounced?? it says invalid
Agent: That IBAN fails validation, the check digits look wrong. Could you ask the recipient again?
Customer: ok the correct one is {IBAN}
Agent: That one is valid. It will arrive within 1 working day. Fee: {AMOUNT}.
Customer: thanks, also my new address is {ADDR}
Agent: Updated, {TITLED@a}. You'll receive a confirmation letter.""",
)

add("support_ticket",
    """Ticket {TICKET} | Priority: High | Opened {DATETIME}
Requester: {PERSON@a} <{EMAIL@a}>
Subject: Cannot log in after password reset

I reset my password using the link {URL} but now I get "account locked". My username is the email above and my phone on file is {PHONE0}. I'm on app {VERSION}, Android, IMEI {IMEI}. Please help, I have payroll to run by {TIME}.

-- Assigned to {FIRST@b} (Tier 2)""",
    """#{TICKET} Laptop replacement
Reported by: {INV@a} ({ORG}, floor 3)
Asset tag: AT-{NUM}-{REF}   Serial: {DEVICE}   MAC: {DEVICE}
The battery swells and the trackpad no longer clicks. Purchased {DATE}, still under warranty. Ship replacement to {ADDR}. Contact: {PHONE}.
Status: awaiting vendor RMA {ORDER}.""",
    """Subject: Re: [{TICKET}] Refund not received
Hi {FIRST@b},
I returned order {ORDER} on {DATE} (tracking {TRACK}) and still have not been refunded {AMOUNT}. The card used was {CARD}. You can reach me on {PHONE0} during office hours.
Thanks,
{PERSON@a}
{ADDRML}""",
    """[{TS}] New ticket from web form
name={PERSON@a}
email={EMAIL@a}
phone={PHONE0}
order={ORDER}
message=The courier left my parcel at {STREET} instead of my address. Tracking shows {TRACK}. Invoice {INVOICE}, total {AMOUNT}. Please call me.
ip={IP4}
ua=Mozilla/5.0 (Windows NT 10.0; Win64; x64)""",
    """Ticket {TICKET} - Vehicle telematics unit offline
Customer {TITLED@fa} reports the tracker in her car (VIN {VIN}, plate {PLATE}) stopped reporting on {DATE}. Unit serial {DEVICE}, firmware {VERSION}. Last ping from {IP} at {TIME}. Engineer {PERSON@b} to call on {PHONE0}. Note: SIM ICCID field intentionally blank.""",
    """Hi support,

My account email changed from {EMAIL@c} to {EMAIL@a} and now the two-factor codes go to my old number. New mobile: {PHONE0}. For verification: date of birth {DOB}, postcode {POSTCODE}. The last invoice was {INVOICE} for {AMOUNT}.

Regards,
{PERSON@a}
Sent from my iPhone""",
)

add("hr_email",
    """From: {PERSON@b} <{EMAIL@b}>
To: {PERSON@a} <{EMAIL@a}>
Subject: Your offer from {ORG}
Date: {DATETIME}

Dear {FIRST@a},

We are delighted to offer you the role of Senior Data Analyst starting {DATE}. To complete onboarding please reply with your {NATID}, a scan of your passport (number {PASSPORT}) and your bank details. Your annual salary will be {AMOUNT}, reviewed every year.

Best regards,
{FIRST@b}
People Team""",
    """From: {ROLEMAIL}
To: {EMAIL@a}
Cc: {EMAIL@b}
Subject: Bank details change - {PERSON@a}

Hi {FIRST@a},
We have updated your salary account to IBAN {IBAN} from the {DATE} payroll. If you did not request this change, contact {PERSON@b} on {PHONE} immediately.
Employee no. {REF}
Payroll""",
    """From: {EMAIL@a}
To: {ROLEMAIL}
Subject: sick leave {DATE} - {DATE}

Hello,
I'm unwell and my doctor ({DR@b}) has signed me off for a week; fit note attached. My manager {PERSON@c} knows. I can be reached at {PHONE0} if anything urgent comes up. My cover for the {ORG} account is {FIRST@d}.
Thanks,
{PERSON@a}""",
    """From: {PERSON@b} <{EMAIL@b}>
To: {ROLEMAIL}
Subject: Welcome our new starters!

Please welcome {PERSON@a}, who joins Finance from {ORG} in {CITY}, and {PERSON@c}, our new Head of Security (previously at {ORG}). {FIRST@a} sits on floor 4 and {FIRST@c} on floor 2. Say hello at the coffee morning on {DATE} at {TIME}!""",
    """From: {EMAIL@b}
To: {EMAIL@a}
Subject: Relocation paperwork - {COUNTRY}

Dear {TITLED@a},
For your move to our {CITY} office we need your Steuer-ID {DETAX}, your current address ({ADDR}) and your date of birth ({DOB}). Your visa appointment is on {DATETIME}. Bring passport {PASSPORT}. Our relocation partner {PERSON@c} ({PHONE0}) will meet you at the airport.
Regards, {FIRST@b}""",
    """Subject: Confidential - disciplinary meeting
From: {PERSON@b} <{EMAIL@b}>
To: {PERSON@a} <{EMAIL@a}>

{FIRST@a}, you are invited to a meeting on {DATE} at {TIME} in {ROOM} regarding the expense claims submitted for {AMOUNT}. You may bring a colleague or union representative. {PERSON@c} from HR will take notes. Employee ID {REF}.""",
    """From: {EMAIL@b}
To: {EMAIL@a}
Subject: Right-to-work check - missing documents

Hi {FIRST@a}, thanks for sending your {NATID} and your {IDDOC}. We still need your {NATID} for the pension scheme and proof of address (you gave {ADDR}). Start date remains {DATE}.
{PERSON@b}, HR Operations""",
)

add("insurance_claim",
    """HEALTH INSURANCE CLAIM FORM
Name: {PERSON@a}
DOB: {DOB}
Member ID: {HPID}
Group no.: {REF}
Address: {ADDR}
Phone: {PHONE0}
Provider: {HOSP}, attending {DR@b} (NPI on file)
Date of service: {DATE}
Diagnosis codes: {ICD}, {ICD}
Amount billed: {AMOUNT}
Patient signature: {PERSON@a}   Date: {DATE}""",
    """Motor claim - first notification of loss
Claim no.: {CLAIMNO}
Policyholder: {INV@a}
Date of birth: {DOB}
Driver licence: {USDL} ({CITY})
Vehicle: Skoda Octavia estate, VIN {VIN}, reg {PLATE}
Incident: {DATETIME} at junction of {STREET}
Third party: {PERSON@c}, vehicle reg {PLATE}, phone {PHONE0}
Description: rear-ended while stationary at lights. Estimated repair {AMOUNT}.""",
    """Claimant: {PERSON@a}
Date of birth: {DOB} (age {AGE})
Social Security No.: {SSN}
Policy type: Dental PPO   Subscriber ID: {HPID}
Employer: {ORG}
Treating dentist: {DRSIG@b}, license {LICENSE}
Procedure: crown, tooth 14, on {DATE}
Reimburse to account {ACCT} (routing {ABA})
Email for correspondence: {EMAIL@a}""",
    """Travel insurance claim
Insured: {TITLED@a}
Passport: {PASSPORT}
Home address:
{ADDRML}
Trip: {CITY} to {CITY}, departed {DATE}, returned {DATE}
Claim: lost luggage and medical treatment at {HOSP} ({AMOUNT})
Payment IBAN: {IBAN}
Contact number: {PHONE}
Declaration signed {DATE} by {PERSON@a}""",
    """Home contents claim {CLAIMNO}
Name: {PERSON@a}   Tel: {PHONE0}   E-mail: {EMAIL@a}
Property: {ADDR}
Loss date: {DATE}, approx {TIME}
Stolen: laptop (serial {DEVICE}), phone (IMEI {IMEI}), bicycle frame no. {SKU}
Police crime reference: {REF}
Witness: neighbour {PERSON@c}
Bank for settlement: {IBAN}""",
    """EU CROSS-BORDER CLAIM
Insured person: {PERSON@a}
Nationality: {COUNTRY}
Identification: {NATID}
Second identifier: {NATID}
Date of birth: {DOB}
Hospital: {HOSP}, admission {DATE}
Medical record no: {MRN}
Insurer member number: {HPID}""",
    """Pet insurance claim form
Owner: {PERSON@a}
Address: {ADDR}
Phone: {PHONE0}   Email: {EMAIL@a}
Pet: Biscuit (dog, 6 years), microchip 985 112 004 381 226
Vet: {DRSIG@b}, Riverside Veterinary Practice, {CITY}
Condition: cruciate ligament rupture, treated {DATE}
Invoice {INVOICE}: {AMOUNT}
Pay to card ending {NUM} or IBAN {IBAN}""",
)

add("call_centre",
    """agent thank you for calling {ORG} my name is {FIRST@b} how can i help
caller hi yeah im calling about my claim
agent sure can i take your full name please
caller its {PERSON@a}
agent and your date of birth
caller {DOB}
agent thanks and the first line of your address
caller {STREET}
agent lovely ok i can see the claim here {FIRST@a} its still with the assessor
caller can you call me back on {PHONE0}
agent of course""",
    """agent you are through to the card services team this is {PERSON@b} speaking
caller hello i lost my card yesterday in {CITY}
agent im sorry to hear that can you read me the long number if you have it
caller yeah its {CARD}
agent and your name as it appears on the card
caller {TITLED@a}
agent thank you i have cancelled it a new one will be posted to {ADDR} within five working days
caller great thanks
agent your reference is {REF}""",
    """caller hi its {FIRST@a} again about the internet outage
agent hi {FIRST@a} can you confirm your email address
caller sure its {EMAIL@a}
agent thanks and the account holder
caller thats my husband {PERSON@mc}
agent ok i see the router serial {DEVICE} last checked in on {DATE} at {TIME}
agent ill book an engineer for {DATE} in the morning
caller and they will call {PHONE0} first
agent yes""",
    """agent pharmacy helpline good morning
caller morning my mum {PERSON@fa} is {AGEP} and she has run out of her {DRUG}
agent ok whats her date of birth and nhs number
caller {DOB} and its {NHS}
agent thank you the prescription from {DR@b} is ready it is {DOSE} once a day
caller can it be delivered to {ADDR}
agent yes tomorrow before {TIME}""",
    """agent hello youre speaking with {FIRST@b} at the tax office
caller hi i need to update my bank details for the refund
agent can i have your social security number
caller yes its {SSN}
agent and your full name
caller {PERSON@a}
agent whats the new account number
caller {ACCT} routing {ABA}
agent thank you {TITLED@a} that is updated and the refund of {AMOUNT} should arrive by {DATE}""",
    """agent roadside assistance whats the registration of the vehicle
caller {PLATE}
agent and where are you now
caller on the hard shoulder near {CITY} just past junction 14
agent is anyone injured
caller no its just me {PERSON@a} and my son hes {AGE}
agent ok a patrol will be with you in about 45 minutes and will ring {PHONE0}
caller the vin is {VIN} if you need it""",
)

add("code_config",
    '''# fixtures/customers.py -- DO NOT COMMIT REAL DATA
CUSTOMERS = [
    {"name": "{PERSON@a}", "email": "{EMAIL@a}", "phone": "{PHONE0}", "last_ip": "{IP4}"},
    {"name": "{PERSON@b}", "email": "{EMAIL@b}", "phone": "{PHONE0}", "last_ip": "{IP6}"},
]
API_VERSION = "{VERSION}"
RETRY_BACKOFF = [0.5, 1.0, 2.0]
''',
    '''{
  "customer": {
    "id": "{UUID}",
    "fullName": "{PERSON@a}",
    "dateOfBirth": "{DOB}",
    "contact": {"email": "{EMAIL@a}", "mobile": "{PHONE0}"},
    "address": "{ADDR}",
    "payment": {"pan": "{CARD}", "iban": "{IBAN}"}
  },
  "orderId": "{ORDER}",
  "schemaVersion": "{VERSION}",
  "total": "{AMOUNT}"
}''',
    '''service: billing-api
version: {VERSION}
database:
  host: {IP4}
  port: {PORT}
  user: svc_billing
admin_contact: {EMAIL@a}
oncall:
  - name: {PERSON@b}
    phone: "{PHONE0}"
  - name: {PERSON@c}
    phone: "{PHONE0}"
webhook_url: {URL}
allowed_sources: ["{IP4}/32", "{IP6}/128"]
''',
    '''# .env.staging
APP_ENV=staging
APP_URL={URL}
SMTP_FROM={ROLEMAIL}
ALERT_EMAIL={EMAIL@a}
REDIS_HOST={IP4}
REDIS_PORT={PORT}
BUILD_SHA={SHA}
FEATURE_FLAGS=new_checkout,pii_masking
SUPPORT_PHONE="{PHONE0}"
''',
    '''INSERT INTO patients (mrn, full_name, dob, nhs_number, insurer_id, created_at)
VALUES ('{MRN}', '{PERSON@a}', '{DOB}', '{NHS}', '{HPID}', '{DATETIME}'),
       ('{MRN}', '{PERSON@b}', '{DOB}', '{NHS}', '{HPID}', '{DATETIME}');
-- migration {VERSION}, ticket {TICKET}
UPDATE wards SET capacity = 24 WHERE code = 'W6';''',
    '''def test_masking_keeps_structure():
    c = Customer(
        name="{PERSON@a}",
        ssn="{SSN}",
        card="{CARD}",
        iban="{IBAN}",
        plate="{PLATE}",
    )
    masked = mask(c)
    assert masked.ssn.endswith("{NUM}") is False
    assert masked.name != "{FIRST@a}"
    # order ids are not PII and must survive: {ORDER}
''',
    '''curl -X POST {URL} \\
  -H "Content-Type: application/json" \\
  -H "X-Request-Id: {UUID}" \\
  -d '{"email": "{EMAIL@a}", "name": "{PERSON@a}", "passport": "{PASSPORT}", "client_ip": "{IP}"}'
# expected: 201 Created, build {SHA}''',
    '''[driver]
name = {PERSON@a}
licence = {USDL}
email = {EMAIL@a}

[vehicle]
vin = {VIN}
plate = {PLATE}
telematics_imei = {IMEI}
firmware = {VERSION}
oid = {OID}
''',
    '''const employee = {
  name: "{PERSON@a}",
  taxId: "{DETAX}",
  nationalId: { es: "{NIF}", it: "{ITCF}", pl: "{PESEL}", fr: "{NIR}" },
  homeCity: "{CITY}",
  device: "{DEVICE}",
  lastSeen: "{DATETIME}",
};
module.exports = employee; // v{NUM}''',
)

LOG_LINES = [
    '{IP} - - [{TS}] "GET /api/v2/orders/{ORDER} HTTP/1.1" 200 {MS} "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    '{IP} - - [{TS}] "POST /login HTTP/2.0" 401 {MS} "{URL}" "okhttp/4.12.0"',
    '{TS} INFO  [auth] login ok user={EMAIL@u} ip={IP} session={UUID}',
    '{TS} WARN  [auth] 5 failed logins for {EMAIL@u} from {IP}, account locked',
    '{TS} ERROR [payments] charge failed pan={CARD} order={ORDER} amount={AMOUNT} code=card_declined',
    '{TS} INFO  [payments] refund issued invoice={INVOICE} ref={BADCARD} amount={AMOUNT}',
    '{TS} ERROR [mailer] 550 5.1.1 recipient rejected <{EMAIL}>',
    '{TS} DEBUG [profile] update name="{PERSON@u}" phone="{PHONE0}" by {EMAIL@u}',
    '{TS} web-0{NUM} sshd[{PID}]: Failed password for invalid user admin from {IP4} port {PID} ssh2',
    '{TS} INFO  [deploy] rolled out {VERSION} build {SHA} in {MS} ms',
    '{TS} INFO  [mdm] device enrolled serial={DEVICE} imei={IMEI} owner={EMAIL@u}',
    '{"ts":"{TS}","level":"info","msg":"address changed","user":"{EMAIL@u}","new":"{ADDR}","ip":"{IP}"}',
    '{TS} WARN  [kyc] document mismatch user={UUID} passport={PASSPORT} dob={DOB}',
    '{TS} INFO  [cache] hit ratio {PCT} keys=10432 node={IP4}:{PORT}',
    '{TS} TRACE [ehr] GET /patients/{MRN} by {PERSON@d} from {IP6}',
]

STACKS = [
    '''Traceback (most recent call last):
  File "/srv/app/billing/charge.py", line {PID}, in charge
    resp = gateway.charge(card="{CARD}", amount=amount)
  File "/srv/app/.venv/lib/python3.11/site-packages/gateway/api.py", line 212, in charge
    raise CardError(msg)
gateway.errors.CardError: card declined for customer {EMAIL@u} (ip {IP4})''',
    '''java.lang.IllegalStateException: duplicate MRN {MRN} for patient "{PERSON@u}" (dob {DOB})
    at com.acme.ehr.PatientService.register(PatientService.java:{MS})
    at com.acme.ehr.api.PatientController.create(PatientController.java:88)
    at jdk.internal.reflect.GeneratedMethodAccessor412.invoke(Unknown Source)
Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "patients_mrn_key"''',
    '''panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6f1c2a]
goroutine 87 [running]:
main.(*Session).Refresh(0x0, {0xc000124000, 0x{NUM}})
        /build/auth/session.go:{PID} +0x4a
request from {IP} user={EMAIL@u} at {TS}''',
]


def log_doc(g):
    n = g.r.randint(4, 9)
    lines = [g.r.choice(LOG_LINES) for _ in range(n)]
    if g.r.random() < 0.35:
        lines.insert(g.r.randint(1, n), "{TS} ERROR unhandled exception\n" + g.r.choice(STACKS))
    return "\n".join(lines).replace("{TS}", "{TS%d}" % g.r.randint(0, 3))


add("logs", log_doc, log_doc, log_doc)

def _csv(header, row):
    def build(g):
        n, start = g.r.randint(3, 7), g.r.randint(1000, 90000)
        rows = [row.replace("@r}", "@r%d}" % i).replace("#I#", str(start + i)) for i in range(n)]
        return header + "\n" + "\n".join(rows)
    return build


add("csv",
    _csv("customer_id,full_name,email,phone,city,signup_date",
         '#I#,"{PERSON@r}",{EMAIL@r},"{PHONE0}","{CITY}","{DATE}"'),
    _csv("mrn,patient,dob,age,nhs_number,ward,diagnosis_code",
         '{MRN},"{INV@r}","{DOB}",{AGE},{NHS},"{ROOM}",{ICD}'),
    _csv("#locale:de_DE\nemployee_id,name,iban,steuer_id,gross_eur",
         '#I#,"{PERSON@r}","{IBAN}",{DETAX},"{AMOUNT}"'),
    _csv("#locale:es_ES\nid;nombre;nif;telefono;municipio",
         '#I#;{PERSON@r};{NIF};{PHONE0};{CITY}'),
    _csv("#locale:it_IT\nmatricola;nominativo;codice_fiscale;email;data_assunzione",
         '#I#;{PERSON@r};{ITCF};{EMAIL@r};{DATE}'),
    _csv("#locale:pl_PL\nlp,imie_nazwisko,pesel,nr_dowodu,miasto",
         '#I#,"{PERSON@r}",{PESEL},{PASSPORT},"{CITY}"'),
    _csv("#locale:fr_FR\ndossier,assure,nir,date_naissance,code_postal",
         '#I#,"{PERSON@r}","{NIR}","{DOB}",{POSTCODE}'),
    _csv("vin,plate,driver,dl_number,last_service",
         '{VIN},{PLATE},"{PERSON@r}",{USDL},"{DATE}"'),
    _csv("asset,serial,imei,assigned_to,email,last_ip",
         'AT-{NUM}{NUM},{DEVICE},{IMEI},"{PERSON@r}",{EMAIL@r},{IP}'),
    _csv("date,card_number,amount,merchant,auth_ref,order",
         '"{DATE}","{CARD}","{AMOUNT}","{ORG}",{BADCARD},{ORDER}'),
    _csv("member_id,subscriber,dob,ssn,plan_start",
         '{HPID},"{PERSON@r}","{DOB}",{SSN},"{DATE}"'),
    _csv("account_no,routing,holder,address,opened",
         '{ACCT},{ABA},"{PERSON@r}","{ADDR}","{DATE}"'),
    _csv("prescriber,license_no,dea,drug,dose,lot",
         '"{DR@r}",{LICENSE},{DEA},{DRUG},{DOSE},{LOT}'),
)

add("news",
    """{CITY} - A {AGE}-year-old cyclist was seriously injured on {DATE} after a collision with a delivery van on {STREET}. Police named the driver as {PERSON@a}, {AGEP}, of {CITY}. Witnesses said the van, registration {PLATE}, did not stop. Inspector {PERSON@b} urged anyone with dashcam footage to call {PHONE0}. The victim was taken to {HOSP}, where {FIRST@b} said her condition was stable.""",
    """Shares in {ORG} rose {PCT} on {DATE} after chief executive {PERSON@a} announced a restructuring. "We are simplifying everything," {LAST@a} told analysts. The company, founded in {CITY} four decades ago, will cut 1,200 jobs. Rival {ORG} fell {PCT}. Finance director {PERSON@c}, who joined in {DATE}, will step down next month.""",
    """Obituary: {PERSON@fa}, who has died aged {AGE}, was a nurse at {HOSP} for four decades. Born in {CITY} on {DOB}, {FIRST@fa} trained in {CITY} and in {DATE} became one of the first nurse consultants in the region. Colleagues remember {TITLED@fa} for her humour. She is survived by her husband, {PERSON@mb}, and two children. A memorial will be held at {ADDR} on {DATE}.""",
    """The trial of {PERSON@ma} continued on {DATE} at {CITY} Crown Court. Prosecutors allege that between {DATE} and {DATE} the {AGE}-year-old obtained {AMOUNT} by opening accounts in the names of elderly neighbours. One victim, {PERSON@fb}, told the jury she had never visited {CITY}. Defence counsel {TITLED@c} said his client would give evidence next week.""",
    """Local hero: when fire broke out at a bakery on {STREET} last {DATE}, {PERSON@a} ran in twice to rescue customers. "I didn't think," said the {AGE}-year-old plumber. Mayor {PERSON@b} will present {FIRST@a} with a bravery award on {DATE}. Readers can nominate others at {URL}.""",
    """Election night in {CITY}: turnout reached {PCT}, the highest in two decades. Incumbent {PERSON@a} conceded to {PERSON@b} shortly after {TIME}. {LAST@b}, a former teacher, thanked volunteers and promised to reopen the library. Results were certified by returning officer {TITLED@c}.""",
)

add("blurb",
    """In this luminous debut, {PERSON@fa} is {AGEA} translator living above a laundrette in {CITY}. When a letter arrives addressed to her late sister {FIRST@fb}, {FIRST@fa} sets out for {CITY} to find the sender, a reclusive cellist named {PERSON@c}. Funny, tender and wise, The Quiet Hours is a novel about grief and second chances.""",
    """Detective {PERSON@fa} has one week left before retirement when the body of {PERSON@b} turns up in the harbour. Everyone in town says {FIRST@b} drowned; {LAST@fa} is not so sure. With rookie partner {PERSON@c}, she follows a trail from the docks of {CITY} to a boarding school in the mountains. Winner of the Gold Dagger.""",
    """One long summer, young {FIRST@fa} and her brother {FIRST@mb} are sent to stay with their grandmother {PERSON@fc} on a farm outside {CITY}. There they meet {FIRST@md}, a boy who says he can talk to foxes. A heartwarming family film from the studio behind Lantern Road. Rated PG, runtime 104 minutes.""",
    """{PERSON@a} (Oscar nominee) stars as {PERSON@b}, a disgraced surgeon who takes a job at a rural clinic in {COUNTRY}. When a mysterious illness spreads, {FIRST@b} must work with the village midwife, {FIRST@fc}, played by {PERSON@d}. Directed by {PERSON@e}. In cinemas {DATE}.""",
    """The third book in the Ember Court series. Queen {FIRST@fa} has won the war but lost her crown. Exiled to the northern isles with only her bodyguard {FIRST@b} and the scholar {PERSON@c}, she must gather allies before the Winter Council meets. Fans of fantasy epics will devour it. Over 2 million copies sold.""",
    """Based on a true story, Bright Harbour follows {PERSON@ma}, {AGEA} dockworker who on {DATE} organised the first strike at the port of {CITY}. Screenplay by {PERSON@b}; {PERSON@fc} plays his wife, {FIRST@fd}. Premiering at an autumn film festival on {DATE} before streaming worldwide.""",
)

# ---- extra templates: more look-alikes (SWIFT/BIC, tracking, bad IBANs, lot numbers, versions)
add("bank_chat",
    """Agent: Hi {FIRST@a}, thanks for waiting. For the international transfer I need the beneficiary IBAN and BIC.
Customer: IBAN {IBAN}, BIC {SWIFT}
Agent: Thanks. Beneficiary name?
Customer: {PERSON@c}, {ADDR}
Agent: The fee is {AMOUNT} and the exchange margin is {PCT}. Reference "{INVOICE}" will appear on their statement.
Customer: great, send it on {DATE} please""",
)
add("support_ticket",
    """Ticket {TICKET}: parcel not delivered
Order {ORDER}, tracking {TRACK}, SKU {SKU}. Customer {TITLED@a} says the app ({VERSION}) shows "delivered" at {TIME} but nothing arrived at {ADDR}. Batch {LOT}. Refund of {AMOUNT} approved by {FIRST@b}. Customer prefers contact by email: {EMAIL@a}.""",
)
add("discharge_letter",
    """Dear {TITLED@fa},

You were treated in the Emergency Department on {DATE} for a wrist fracture. Your cast was applied by {PERSON@b} (lot {LOT}). Please attend fracture clinic on {DATETIME}, Outpatients, Level 2. Take Paracetamol 1 g up to four times a day. If your fingers become numb, phone {PHONE} or attend {HOSP}. Hospital number: {MRN}.

Emergency Department""",
)
add("referral_letter",
    """Dear Dr {LAST@b},

Re: {INV@a}, DOB {DOB}, {NATID}

Many thanks for seeing this gentleman, {AGEA}, with newly diagnosed type 2 diabetes ({ICD}), HbA1c 74 mmol/mol. He has not tolerated {DRUG} {DOSE}. Retinal screening is booked for {DATE}. His daughter {PERSON@fc} ({PHONE0}) helps with his medication.

Regards,
{DR@d}
{ORG} Practice, {CITY}""",
)
add("news",
    """Recall notice: {ORG} is recalling batches {LOT} and {LOT} of its {DOSE} {DRUG} tablets after a labelling error. Pharmacist {PERSON@a} of {CITY} said customers should check the lot number on the box. The regulator said there was no risk to health. A helpline is open from {TIME} on {PHONE0}, and details are at {URL}.""",
)
add("blurb",
    """When software engineer {PERSON@fa} finds a bug in version {VERSION} of the app her company sells to hospitals, she tells her manager, {PERSON@mb}. By morning, {LAST@mb} is dead and {FIRST@fa} is the prime suspect. A pulse-pounding thriller set between {CITY} and {CITY}, from the author of Zero Day Summer.""",
)
add("call_centre",
    """agent good afternoon mobile support this is {FIRST@b}
caller hi my phone was stolen this morning in {CITY}
agent sorry about that can you give me the imei from the box
caller yes its {IMEI}
agent and the account holders name and date of birth
caller {PERSON@a} {DOB}
agent ok ive barred the device and the sim a replacement goes to {POSTCODE} tomorrow
caller thank you""",
)

# @@TEMPLATES@@

# ---------------------------------------------------------------- main

def make_doc(g, domain):
    for _ in range(50):
        tpl = g.r.choice(TEMPLATES[domain])
        if callable(tpl):
            tpl = tpl(g)
        text, spans = render(g, tpl, XFORMS.get(domain))
        if 150 <= len(text) <= 1500:
            break
    else:
        raise RuntimeError(f"could not render a {domain} document of 150-1500 chars")
    if domain != "call_centre":
        x = g.r.random()
        mode = "lower" if x < 0.10 else "upper" if x < 0.15 else None
        if mode:
            cased = apply_case(text, mode)
            text = cased if cased is not None else text
    return text, spans


def validate(text, spans):
    prev = 0
    for sp in spans:
        s, e, t = sp["start"], sp["end"], sp["type"]
        assert prev <= s < e <= len(text), sp
        prev = e
        v = text[s:e]
        assert v == v.strip() and v, (t, v)
        check = SPAN_CHECKS.get(t)
        assert check is None or check(v.upper()), (t, v)
        if t == "DEVICE_ID" and re.fullmatch(r"\d{15}", v):
            assert luhn_ok(v), v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    g = Gen(args.seed)
    domains = sorted(TEMPLATES)
    types, doms, lengths = Counter(), Counter(), []
    with open(args.out, "w", encoding="utf-8") as fh:
        for i in range(args.docs):
            domain = g.r.choice(domains)
            text, spans = make_doc(g, domain)
            validate(text, spans)
            types.update(sp["type"] for sp in spans)
            doms[domain] += 1
            lengths.append(len(text))
            fh.write(json.dumps({"id": f"dev-{i + 1:06d}", "domain": domain, "text": text, "spans": spans},
                                ensure_ascii=False) + "\n")
    err = sys.stderr
    print(f"wrote {args.docs} docs to {args.out}; chars min/mean/max "
          f"{min(lengths)}/{sum(lengths) // len(lengths)}/{max(lengths)}", file=err)
    print("domains: " + ", ".join(f"{d}={doms[d]}" for d in domains), file=err)
    for t in ALL_TYPES:
        print(f"  {t:24s} {types[t]:6d}", file=err)
    low = [t for t in ALL_TYPES if types[t] < 40]
    if args.docs >= 3000 and low:
        print("WARNING: fewer than 40 spans for " + ", ".join(low), file=err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
