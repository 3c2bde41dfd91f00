#!/usr/bin/env python3
"""Builds lexicon.tsv, the word list the name detector compiles in: given names,
surnames, and ordinary English words.

Sources (both redistributable):
- the US Census Bureau's 1990 name frequency files (public domain; shipped in the
  MIT-licensed PyPI package `names`): 5,494 given names, 88,799 surnames;
- the person-name lists of the `faker` package (MIT) for its Latin-script locales,
  which widens the dictionary to European, Latin American, African and Asian names
  written in Latin letters.

Each line is `word<TAB>flags`, the word in lower case; flags: `F` given name, `L`
surname, `W` an ordinary English word (Debian's `wamerican` list, its lower-case
entries only), `C` one of the thousand commonest English words (Faker's `lorem`
word list for en_US). A name that is also a word is weak evidence on its own ("Will",
"Grace", "Brown"); a capitalised word that is only a word ("Quarterly") is evidence
against a name.

usage: lexicon.py CENSUS_DIR WORDS_FILE > lexicon.tsv
  CENSUS_DIR: the `names/` folder of `pip download names` (dist.*.first, dist.all.last)
  WORDS_FILE: /usr/share/dict/american-english (apt-get install wamerican)
needs: faker
"""
import importlib
import os
import pkgutil
import sys
import unicodedata

import faker.providers.person as person


def latin(name: str) -> bool:
    for c in name:
        if c in "-' ":
            continue
        if not c.isalpha():
            return False
        if not unicodedata.name(c, "").startswith("LATIN"):
            return False
    return True


def census(path: str) -> list:
    with open(path, encoding="ascii") as f:
        return [line.split()[0].lower() for line in f if line.strip()]


def words_of(attr) -> list:
    if isinstance(attr, dict):
        return list(attr.keys())
    if isinstance(attr, (list, tuple)):
        return list(attr)
    return []


def main():
    census_dir, words_file = sys.argv[1], sys.argv[2]
    flags = {}

    def add(name: str, flag: str):
        name = name.strip().lower()
        # Single words only: compound surnames are found word by word.
        if not name or " " in name or len(name) < 2 or not latin(name):
            return
        flags.setdefault(name, set()).add(flag)

    for f in ("dist.male.first", "dist.female.first"):
        for n in census(os.path.join(census_dir, f)):
            add(n, "F")
    for n in census(os.path.join(census_dir, "dist.all.last")):
        add(n, "L")
    for m in sorted(pkgutil.iter_modules(person.__path__), key=lambda m: m.name):
        if not m.ispkg:
            continue
        provider = importlib.import_module(f"{person.__name__}.{m.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            for n in words_of(getattr(provider, attr, ())):
                add(n, "F")
        for attr in ("last_names", "last_names_male", "last_names_female"):
            for n in words_of(getattr(provider, attr, ())):
                add(n, "L")
    with open(words_file, encoding="utf-8") as f:
        english = {w.strip() for w in f if w.strip() and w.strip().islower() and "'" not in w}
    for w in english:
        flags.setdefault(w, set()).add("W")
    from faker.providers.lorem.en_US import Provider as Lorem
    for w in Lorem.word_list:
        flags.setdefault(w.lower(), set()).add("C")
    order = "FLWC"
    for name in sorted(flags):
        print(f"{name}\t{''.join(c for c in order if c in flags[name])}")


if __name__ == "__main__":
    main()
