"""National-scale SYNTHETIC data set for the benchmarks (issue 8), in the real delivery formats.

Run from the project root:

    .venv/bin/python -m bench.generate_national --out /tmp/prestatiemonitor-bench/national
    .venv/bin/python -m bench.generate_national --out DIR --scale 0.01 --gemeenten 10

`--scale 1.0` is the national size; `--scale 0.001` a thousandth of every count (the map, i.e.
gemeenten, wijken, buurten and postcode ranges, stays the same). `--gemeenten N` keeps the first N
gemeenten (by code); every gemeente's data is generated from its own seeded random streams, so the
data of a gemeente is identical whatever N is (the 1 / 10 / 342 scaling table compares like with
like). The same arguments give byte-identical files on every run. Generation is streamed per
gemeente (numpy per gemeente, pyarrow's CSV writer per chunk); nothing holds the whole set.

What is written under DIR (never in the repository; the data is invented, no row is a real object):

    landing/ep_online/v20251101_v4_csv.zip    EP-online v4 total file: ~5.5 M certificates, 42 columns,
                                              UTF-8 with BOM, two preamble lines, ';', decimal comma,
                                              dates jjjjmmdd; several certificates per object over time,
                                              expired ones, a few without BAG id, exact repeats
    landing/ep_online/d20251102_v4.zip        one daily mutation file (renovations, first labels,
                                              corrections of 2025 certificates, other objects)
    landing/bezit/<slug>/bezitslijst_<slug>_<jjjj>-12-31.csv
                                              ~2.3 M corporation VHEs at 31-12-2025 over ~300
                                              corporations, one list per corporation per peildatum
                                              2021..2025, in the template layout (contract names as
                                              headers, ';', decimal comma, dd-mm-jjjj, ja/nee)
    landing/woonservice/toewijzingen_<jjjj>.csv, woningzoekenden_<jjjj>.csv
                                              import template; ~200,000 lettings and ~1 M seekers a
                                              year, 2021..2025 (2025 until 30-09)
    landing/leefbaarometer/Leefbaarometer-scores {buurten,wijken,gemeenten} 2002-2024.csv
                                              ~13,000 buurten x 9 measurement years
    landing/planlijst/planlijst_<GM####>_2025-07-01.csv
                                              one plan list per gemeente
    mappings/bezit/<slug>.yaml                the mapping of every generated corporation
    reference/gemeenten.csv, corporaties.csv  the 342 gemeenten and the generated corporations,
                                              plus copies of the project's other reference tables
    manifest.json                             arguments and row counts per file (written last: a
                                              folder without it is an interrupted generation)

Formats follow data/generate_sample.py and data/generate_ep_mutaties.py (the bundled sample). The 42
EP-online columns are the 38 of the sample plus the four `Eis*` requirement columns the reader knows
(filled for NTA 8800 new-build certificates only) at the end. ASSUMPTION: the position of the `Eis*`
columns in RVO's real file is not known; the reader matches columns by name.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import time
import zipfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data import generate_sample as sample

SEED = 20260108
FORMAT_VERSION = 1
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MARKER = ".prestatiemonitor-national"  # written first: only folders holding it are ever cleared

# National totals at scale 1.0.
TOTAL_DWELLINGS = 8_100_000  # all dwellings: sizes the gemeenten and their postcode ranges
CORPORATION_UNITS = 2_450_000  # VHEs ever on a stock list 2021-2025: ~2.3 M in exploitation at 31-12-2025
PRIVATE_LABELLED = 1_800_000  # other dwellings with at least one certificate
UTILITY_OBJECTS = 255_000  # utility buildings with a certificate
BUURTEN = 13_000
CORPORATIES = 300
LETTINGS_PER_YEAR = 200_000
SEEKERS_PER_YEAR = 1_000_000
MUTATIONS = 6_000  # rows of the daily mutation file
MAX_SCALE = 2.0  # postcode ranges leave room for twice the national size

GEMEENTEN = 342
# The project's reference gemeenten keep their code and name and get roughly their real size.
KNOWN_DWELLINGS = {
    "GM0050": 9_000, "GM0230": 10_000, "GM0233": 12_000, "GM0243": 21_000, "GM0267": 18_000,
    "GM0269": 10_000, "GM0273": 10_000, "GM0302": 12_000, "GM0363": 460_000, "GM0377": 10_000,
    "GM0392": 76_000, "GM0394": 65_000, "GM0397": 12_000, "GM0453": 31_000, "GM0473": 9_000,
    "GM0484": 52_000, "GM0546": 61_000, "GM0569": 12_000, "GM0638": 4_000, "GM1884": 11_000,
    "GM1901": 14_000,
}

YEARS = (2021, 2022, 2023, 2024, 2025)  # stock lists at 31-12 of each year, lettings per year
EP_PUBLICATIEDATUM = (2025, 11, 1)
EP_LAST_REGISTRATION = (2025, 10, 31)
EP_MUTATIEVOLGNUMMER = 19345219
EP_NAME = "v20251101_v4_csv"
MUTATION_DAY = (2025, 11, 2)
MUTATION_NAME = "d20251102_v4"
WOONSERVICE_END = (2025, 9, 30)
PLANLIJST_PEILDATUM = "2025-07-01"
LEEFBAAROMETER_YEARS = (2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024)
FIXED_ZIP_TIME = (2025, 11, 1, 6, 0, 0)

EP_COLUMNS: tuple[str, ...] = (
    *sample.EP_COLUMNS,
    "EisEnergiebehoefte", "EisPrimaireFossieleEnergie", "EisAandeelHernieuwbareEnergie", "EisTemperatuuroverschrijding",
)
assert len(EP_COLUMNS) == 42

BEZIT_COLUMNS = (
    "vhe_id", "complex_id", "bag_vbo_id", "postcode", "huisnummer", "huisletter", "huisnummertoevoeging",
    "gemeente_code", "wijk_code", "buurt_code", "eenheidsoort", "woningtype", "bouwjaar", "kamers",
    "oppervlakte_m2", "wws_punten", "netto_kale_huur", "daeb", "monument", "vve", "sloop_renovatie_gepland",
    "energielabel", "zonnepanelen_aantal", "zonnepanelen_wp", "in_exploitatie_datum", "uit_exploitatie_datum",
    "uit_exploitatie_reden", "herkomst",
)
TOEWIJZINGEN_COLUMNS = sample.TOEWIJZINGEN_COLUMNS
WONINGZOEKENDEN_COLUMNS = sample.WONINGZOEKENDEN_COLUMNS
LEEFBAAROMETER_HEADERS = {"buurten": ("bu_code", "bu_naam"), "wijken": ("wk_code", "wk_naam"),
                          "gemeenten": ("gm_code", "gm_naam")}
PLANLIJST_COLUMNS = (
    "project_id", "projectnaam", "gemeente_code", "wijk_code", "fase", "opleverjaar_verwacht",
    "opleverjaar_gerealiseerd", "sociale_huur", "middenhuur", "middeldure_koop", "vrije_sector_huur",
    "vrije_sector_koop", "huur_sociaal_gemiddeld", "m2_gemiddeld", "aantal_sociaal_onder_aftoppingsgrens",
)

# Energy classes, best first, as the reader's ENERGIEKLASSEN.
LABELS = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
L = {label: i for i, label in enumerate(LABELS)}
# NTA 8800 PrimaireFossieleEnergie range per class (kWh/m2.yr), DESIGN.md section 3.1.
PFE_LOW = np.array([-80, -40, 0, 50, 75, 105, 160, 190, 250, 290, 335, 380], dtype="float64")
PFE_HIGH = np.array([-40, 0, 50, 75, 105, 160, 190, 250, 290, 335, 380, 520], dtype="float64")
EI_LOW = np.array([0.3, 0.3, 0.3, *(sample.OLD_EI_RANGE[label][0] for label in LABELS[3:])])
EI_HIGH = np.array([0.5, 0.5, 0.5, *(sample.OLD_EI_RANGE[label][1] for label in LABELS[3:])])

# Registration years of certificates (2008 = the first year of labels), relative weights.
CORP_YEAR_WEIGHTS = {2008: 4, 2009: 6, 2010: 6, 2011: 3, 2012: 3, 2013: 3, 2014: 4, 2015: 5, 2016: 4,
                     2017: 3, 2018: 4, 2019: 5, 2020: 6, 2021: 5, 2022: 5, 2023: 6, 2024: 6, 2025: 5}
PRIVATE_YEAR_WEIGHTS = {2008: 2, 2009: 2, 2010: 2, 2011: 2, 2012: 2, 2013: 2, 2014: 3, 2015: 14, 2016: 9,
                        2017: 4, 2018: 5, 2019: 6, 2020: 6, 2021: 7, 2022: 8, 2023: 8, 2024: 8, 2025: 7}
CERTS_PER_CORP_DWELLING = ((0, 1, 2, 3), (0.04, 0.52, 0.34, 0.10))
CERTS_PER_PRIVATE_DWELLING = ((1, 2, 3), (0.78, 0.20, 0.02))
IMPROVEMENT = ((0, 1, 2, 3), (0.45, 0.30, 0.15, 0.10))  # classes gained by each next certificate
UTILITY_CLASSES = (0.01, 0.02, 0.04, 0.08, 0.12, 0.25, 0.12, 0.12, 0.08, 0.06, 0.05, 0.05)
NEW_BUILD_CLASSES = {"A+++": 0.2, "A++": 0.45, "A+": 0.35}
SHARE_WITHOUT_BAG = 0.01  # certificates delivered without BAG id (matched on the address)
SHARE_REPEATED = 0.001  # certificates written twice in the total file

EGW_SUBTYPES = (("Tussenwoning", 0.55), ("Hoekwoning", 0.3), ("2 onder 1 kap", 0.1), ("Vrijstaande woning", 0.05))
MGW_SUBTYPES = (("Galerijwoning", 0.3), ("Portiekwoning", 0.35), ("Flatwoning (overig)", 0.15),
                ("Maisonnettewoning", 0.1), ("Bovenwoning", 0.1))
OLD_METHODS = ("ISSO 82.3", "NEN 7120", "Vereenvoudigd")
# Building periods of complexes (upper year, share) and their years.
BUILD_PERIODS = ((1900, 1945, 0.15), (1945, 1975, 0.35), (1975, 1990, 0.25), (1990, 2005, 0.15), (2005, 2021, 0.10))
NEW_BUILD_SHARE = 0.07
LEAVE_SHARE = 0.06  # of existing units, over the five years
LEAVE_REASONS = (("verkoop", 0.55), ("sloop", 0.35), ("samenvoeging", 0.05), ("overig", 0.05))
RENT_GROWTH = {2021: 1.0, 2022: 1.023, 2023: 1.033, 2024: 1.055, 2025: 1.05}
SOLAR_SHARE = {2020: 0.11, 2021: 0.15, 2022: 0.20, 2023: 0.25, 2024: 0.30, 2025: 0.35}

ADDRESSES_PER_PC6 = 24
LETTER_PAIRS = sample.POSTCODE_LETTERS
WIJK_WORDS = ("Centrum", "Noord", "Oost", "Zuid", "West", "Buitengebied", "Haven", "Park", "Dorp", "Veld")
BUURT_WORDS = ("Kerkbuurt", "Molenwijk", "Bloemenbuurt", "Vogelbuurt", "Schildersbuurt", "Stationsbuurt",
               "Dijkzone", "Bomenbuurt", "Landgoed", "Havenkwartier", "Tuindorp", "Componistenbuurt")
NAME_ROOTS = ("Aal", "Bre", "Dal", "Eem", "Gel", "Hol", "Ker", "Lin", "Mar", "Ned", "Ool", "Ren", "Sta", "Ter",
              "Vel", "Wes", "Zwa", "Bor", "Dron", "Hasse", "Lem", "Mep", "Rij", "Swi", "Ach", "Bus", "Ede",
              "Gra", "Heu", "Kol", "Lo", "Mid", "Ooster", "Wester", "Sint-", "Nieuw-", "Oud-")
NAME_STEMS = ("wold", "veen", "dam", "dijk", "horst", "broek", "zand", "meer", "berg", "hoven", "wijk", "rade",
              "lo", "hem", "werd", "zijl", "donk", "sum", "hout", "kamp", "burg", "voort", "beek", "heide")
CORP_PATTERNS = ("Woonstichting {}", "{} Wonen", "Woningcorporatie {}", "Woongoed {}",
                 "Stichting Volkshuisvesting {}", "Wooncompagnie {}")
CERTIFIER_A = ("Energie", "Label", "EPA ", "Duurzaam ", "Bouwfysica ", "Woonlabel ", "Klimaat", "Isolatie")
CERTIFIER_B = ("advies", "bureau", "groep", "check", "punt", "partners")
CERTIFIER_C = ("Noord", "Zuid", "Oost", "West", "Midden", "Delta", "Veluwe", "Rijnmond", "Twente", "Kempen")
CERTIFIER_D = (" B.V.", "", " V.O.F.")
FASEN = ("initiatief", "planvorming", "vergunning", "in aanbouw", "opgeleverd")


# --------------------------------------------------------------------------------------------------
# dates (int days since 1970-01-01) and text columns (pyarrow)
# --------------------------------------------------------------------------------------------------

def day_number(year: int, month: int, day: int) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype("int64"))


def year_start(years: np.ndarray | int) -> np.ndarray:
    return (np.asarray(years, dtype="int64") - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype("int64")


def ymd_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("int64") // 12 + 1970
    month = months.astype("int64") % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype("int64") + 1
    return year, month, day


def random_days(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """A uniform day in each of `years`."""
    start = year_start(years)
    length = year_start(np.asarray(years) + 1) - start
    return start + (rng.random(len(start)) * length).astype("int64")


def draw(rng: np.random.Generator, options: Sequence[tuple[object, float]] | dict, n: int) -> np.ndarray:
    """Indices into `options` ((value, weight) pairs or {value: weight}) drawn by weight."""
    weights = np.array(list(options.values()) if isinstance(options, dict) else [w for _, w in options], dtype="float64")
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _null_where(array: pa.Array, mask: np.ndarray | None) -> pa.Array:
    if mask is None or not np.any(mask):
        return array
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), pa.scalar(None, pa.string()), array)


def t_int(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return _null_where(pc.cast(pa.array(np.asarray(values, dtype="int64")), pa.string()), mask)


def t_pick(options: Sequence[str | None], codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """options[codes] as text; None options and masked rows are empty."""
    return _null_where(pc.take(pa.array(list(options), pa.string()), pa.array(np.asarray(codes, dtype="int64"))), mask)


def t_const(value: str | None, n: int) -> pa.Array:
    return pa.nulls(n, pa.string()) if value is None else pa.array(np.full(n, value, dtype=object), pa.string())


def t_fixed(values: np.ndarray, decimals: int, *, decimal: str = ",", mask: np.ndarray | None = None) -> pa.Array:
    """Numbers with a fixed number of decimals ('12,50', '-3,2')."""
    factor = 10**decimals
    scaled = np.rint(np.asarray(values, dtype="float64") * factor).astype("int64")
    absolute = np.abs(scaled)
    text = pc.cast(pa.array(absolute // factor), pa.string())
    if decimals:
        fraction = pc.utf8_lpad(pc.cast(pa.array(absolute % factor), pa.string()), width=decimals, padding="0")
        text = pc.binary_join_element_wise(text, fraction, decimal)
    negative = scaled < 0
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    return _null_where(text, mask)


def _two(values: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=2, padding="0")


def t_dmy(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """dd-mm-jjjj."""
    year, month, day = ymd_parts(days)
    return _null_where(pc.binary_join_element_wise(_two(day), _two(month), t_int(year), "-"), mask)


def t_ymd(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """jjjjmmdd."""
    year, month, day = ymd_parts(days)
    return t_int(year * 10_000 + month * 100 + day, mask)


def t_join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def csv_body(columns: Sequence[str], arrays: Sequence[pa.Array], separator: str) -> bytes:
    """Rows without header; values are never quoted (generated values hold no separator or quote)."""
    table = pa.table(list(arrays), names=[f"c{i}" for i in range(len(columns))])
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, delimiter=separator, quoting_style="none"))
    return sink.getvalue().to_pybytes()


def header_line(columns: Sequence[str], separator: str) -> bytes:
    return (separator.join(columns) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------------
# the map: gemeenten, wijken, buurten, postcode ranges, corporations (independent of scale)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Corporatie:
    index: int
    slug: str
    naam: str
    certifier: int  # the usual certificaathouder


@dataclass(frozen=True)
class Gemeente:
    index: int
    code: str
    naam: str
    dwellings: int
    corporation_units: int  # at scale 1
    private: int
    utility: int
    buurten_per_wijk: tuple[int, ...]
    pc4_start: int
    corporaties: tuple[int, ...]
    corporatie_weights: tuple[float, ...]

    @property
    def digits(self) -> int:
        return int(self.code[2:])

    @property
    def buurten(self) -> int:
        return sum(self.buurten_per_wijk)

    def buurt_wijk(self) -> np.ndarray:
        """Wijk number (1-based) of every buurt."""
        return np.repeat(np.arange(1, len(self.buurten_per_wijk) + 1), self.buurten_per_wijk)

    def buurt_number(self) -> np.ndarray:
        return np.concatenate([np.arange(1, n + 1) for n in self.buurten_per_wijk])


@dataclass(frozen=True)
class Geography:
    gemeenten: tuple[Gemeente, ...]
    corporaties: tuple[Corporatie, ...]
    certifiers: tuple[str, ...]


def _place_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    seen = set(taken)
    while len(names) < n:
        root = NAME_ROOTS[int(rng.integers(len(NAME_ROOTS)))]
        stem = NAME_STEMS[int(rng.integers(len(NAME_STEMS)))]
        name = root + (stem.capitalize() if root.endswith("-") else stem)
        if rng.random() < 0.12:
            name = f"{name} en {NAME_ROOTS[int(rng.integers(len(NAME_ROOTS)))].rstrip('-')}{NAME_STEMS[int(rng.integers(len(NAME_STEMS)))]}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def slugify(name: str) -> str:
    text = name.lower().replace("é", "e").replace("ë", "e").replace("ï", "i")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def build_geography() -> Geography:
    """The 342 gemeenten and ~300 corporations; depends only on SEED."""
    rng = np.random.default_rng([SEED, 0])
    known = {row.split(",")[0]: row.split(",")[1] for row in
             (PROJECT_ROOT / "reference" / "gemeenten.csv").read_text(encoding="utf-8").splitlines()[1:] if row}
    taken = {int(code[2:]) for code in known}
    candidates = np.array([n for n in range(3, 2000) if n not in taken])
    synthetic = np.sort(rng.choice(candidates, GEMEENTEN - len(known), replace=False))
    synthetic_names = _place_names(rng, len(synthetic), set(known.values()))
    entries = sorted([(code, name, True) for code, name in known.items()]
                     + [(f"GM{n:04d}", name, False) for n, name in zip(synthetic, synthetic_names, strict=True)])
    sizes = np.exp(rng.normal(np.log(17_000), 0.8, size=len(entries)))
    is_known = np.array([k for _, _, k in entries])
    fixed = np.array([KNOWN_DWELLINGS.get(code, 0) for code, _, _ in entries], dtype="float64")
    sizes[~is_known] *= (TOTAL_DWELLINGS - fixed.sum()) / sizes[~is_known].sum()
    sizes[is_known] = fixed[is_known]
    dwellings = np.maximum(np.rint(sizes), 900).astype("int64")
    share = np.clip(0.27 + 0.05 * np.log(dwellings / 20_000) + rng.normal(0, 0.06, len(entries)), 0.08, 0.5)
    corp_raw = dwellings * share
    corporation_units = np.rint(corp_raw * CORPORATION_UNITS / corp_raw.sum()).astype("int64")
    private = np.rint(dwellings * PRIVATE_LABELLED / dwellings.sum()).astype("int64")
    utility = np.rint(dwellings * UTILITY_OBJECTS / dwellings.sum()).astype("int64")
    buurten = np.maximum(1, np.rint(dwellings * BUURTEN / dwellings.sum())).astype("int64")

    # Corporations: each covers a run of consecutive gemeenten as their main corporation; bigger
    # gemeenten also have neighbouring corporations working there.
    lengths = np.ones(CORPORATIES, dtype="int64")
    np.add.at(lengths, rng.choice(CORPORATIES, GEMEENTEN - CORPORATIES), 1)
    ends = np.cumsum(lengths)
    primary = np.searchsorted(ends, np.arange(GEMEENTEN), side="right")
    certifiers = [f"{a}{b} {c}{d}" for a in CERTIFIER_A for b in CERTIFIER_B for c in CERTIFIER_C for d in CERTIFIER_D]
    certifiers = [certifiers[int(i)] for i in rng.permutation(len(certifiers))[:160]]
    corporaties: list[Corporatie] = []
    slugs: set[str] = set()
    for c in range(CORPORATIES):
        home = entries[int(ends[c] - lengths[c])][1]
        naam = CORP_PATTERNS[int(rng.integers(len(CORP_PATTERNS)))].format(home)
        slug = slugify(naam)
        while slug in slugs:
            slug += "_2"
        slugs.add(slug)
        corporaties.append(Corporatie(c, slug, naam, int(rng.integers(len(certifiers)))))

    gemeenten: list[Gemeente] = []
    pc4 = 1000
    for g, (code, naam, _) in enumerate(entries):
        size = int(dwellings[g])
        extra = min(6, size // 35_000) + int(rng.random() < 0.3)
        near = sorted({int(primary[j]) for j in range(max(0, g - 6), min(GEMEENTEN, g + 7))} - {int(primary[g])})
        others = [near[int(i)] for i in rng.permutation(len(near))[:extra]]
        members = (int(primary[g]), *others)
        weights = (float(rng.uniform(1.0, 2.0)), *(float(rng.uniform(0.1, 0.7)) for _ in others))
        wijken = int(max(1, min(99, math.ceil(buurten[g] / 4))))
        per_wijk = np.full(wijken, buurten[g] // wijken)
        per_wijk[: buurten[g] % wijken] += 1
        capacity = MAX_SCALE * (corporation_units[g] + private[g] + utility[g]) + 2 * ADDRESSES_PER_PC6
        pc4_count = math.ceil(capacity / ADDRESSES_PER_PC6 / len(LETTER_PAIRS)) + 1
        gemeenten.append(Gemeente(
            index=g, code=code, naam=naam, dwellings=size, corporation_units=int(corporation_units[g]),
            private=int(private[g]), utility=int(utility[g]), buurten_per_wijk=tuple(int(n) for n in per_wijk),
            pc4_start=pc4, corporaties=members, corporatie_weights=weights,
        ))
        pc4 += pc4_count + 1
    if pc4 > 9999:
        raise AssertionError(f"postcodes lopen over: {pc4}")
    return Geography(tuple(gemeenten), tuple(corporaties), tuple(certifiers))


# --------------------------------------------------------------------------------------------------
# addresses: address index within a gemeente -> postcode, huisnummer, huisletter, toevoeging, BAG ids
# --------------------------------------------------------------------------------------------------

@dataclass
class Addresses:
    postcode: pa.Array  # '1234AB'
    postcode_spaced: pa.Array  # '1234 AB'
    huisnummer: pa.Array
    huisletter: pa.Array
    toevoeging: pa.Array
    bag: pa.Array  # 16 digits
    pand: pa.Array


def addresses(gemeente: Gemeente, index: np.ndarray) -> Addresses:
    """Unique addresses: 24 per 6-position postcode; the style (plain numbers, letters, floors) is per postcode."""
    index = np.asarray(index, dtype="int64")
    pc6 = index // ADDRESSES_PER_PC6
    slot = index % ADDRESSES_PER_PC6
    style = (pc6 * 2654435761 >> 7) % 10
    base = (pc6 * 37) % 150
    floors = (style == 6) | (style == 7) | (style == 9)
    lettered = style == 8
    number = np.where(floors, base + slot // 4 + 1, np.where(lettered, base + slot // 2 + 1, base + slot + 1))
    letter_code = np.where(lettered, slot % 2, 0)  # 0 none, 1 'A'
    floor_code = np.where(floors, slot % 4 + np.where(style == 9, 4, 0), 0)
    pc4 = gemeente.pc4_start + pc6 // len(LETTER_PAIRS)
    letters = t_pick(LETTER_PAIRS, pc6 % len(LETTER_PAIRS))
    pc4_text = t_int(pc4)
    bag = pc.utf8_lpad(t_int(gemeente.digits * 10**12 + 10**10 + 1_000_000 + index), width=16, padding="0")
    pand = pc.utf8_lpad(t_int(gemeente.digits * 10**12 + 10 * 10**10 + 1_000_000 + index // 12), width=16, padding="0")
    return Addresses(
        postcode=t_join(pc4_text, letters),
        postcode_spaced=t_join(pc4_text, letters, sep=" "),
        huisnummer=t_int(number),
        huisletter=t_pick((None, "A"), letter_code),
        toevoeging=t_pick((None, "1", "2", "3", None, "HS", "1", "2"), floor_code),
        bag=bag,
        pand=pand,
    )


def wijk_codes(gemeente: Gemeente, wijk: np.ndarray) -> pa.Array:
    return t_join(f"WK{gemeente.digits:04d}", _two(wijk))


def buurt_codes(gemeente: Gemeente, wijk: np.ndarray, buurt: np.ndarray) -> pa.Array:
    return t_join(f"BU{gemeente.digits:04d}", _two(wijk), _two(buurt))


# --------------------------------------------------------------------------------------------------
# one gemeente's world
# --------------------------------------------------------------------------------------------------

def _rng(stream: int, gemeente: Gemeente) -> np.random.Generator:
    return np.random.default_rng([SEED, stream, gemeente.index])


def _scaled(value: float, scale: float) -> int:
    return int(round(value * scale))


@dataclass
class Stock:
    """Corporation units of one gemeente (address index = unit index)."""

    n: int
    corp: np.ndarray  # index into Geography.corporaties
    complex_id: np.ndarray
    buurt: np.ndarray  # index into the gemeente's buurten
    woo: np.ndarray
    kind: np.ndarray  # 0 WOO, 1 PP, 2 BOG
    egw: np.ndarray
    bouwjaar: np.ndarray
    kamers: np.ndarray
    m2: np.ndarray
    wws: np.ndarray
    rent: np.ndarray  # 2021 level
    daeb: np.ndarray
    liberalised: np.ndarray  # year from which the unit is niet-DAEB (9999 = never)
    monument: np.ndarray
    vve: np.ndarray
    in_day: np.ndarray
    herkomst: np.ndarray  # 0 bestaand, 1 nieuwbouw, 2 aankoop
    out_day: np.ndarray  # -1 = stays
    out_reason: np.ndarray
    solar_year: np.ndarray  # 9999 = none
    panels: np.ndarray
    has_bag: np.ndarray
    typo: np.ndarray


def build_stock(gemeente: Gemeente, scale: float) -> Stock:
    rng = _rng(1, gemeente)
    n = _scaled(gemeente.corporation_units, scale)
    sizes = np.where(rng.random(n // 8 + 10) < 0.4, rng.integers(6, 60, n // 8 + 10), rng.integers(12, 150, n // 8 + 10))
    ends = np.cumsum(sizes)
    complexes = int(np.searchsorted(ends, n, side="left")) + 1 if n else 0
    sizes = sizes[:complexes].copy()
    if complexes:
        sizes[-1] -= int(ends[complexes - 1] - n)
    weights = np.array(gemeente.corporatie_weights)
    c_corp = np.array(gemeente.corporaties)[rng.choice(len(weights), complexes, p=weights / weights.sum())]
    c_buurt = rng.integers(0, gemeente.buurten, complexes)
    c_egw = rng.random(complexes) < 0.35
    period = draw(rng, [(p, w) for *p, w in BUILD_PERIODS], complexes)
    lows = np.array([p[0] for p in BUILD_PERIODS])
    highs = np.array([p[1] for p in BUILD_PERIODS])
    c_bouwjaar = rng.integers(lows[period], highs[period])
    c_new = rng.random(complexes) < NEW_BUILD_SHARE
    c_bouwjaar = np.where(c_new, rng.integers(2021, 2026, complexes), c_bouwjaar)
    c_daeb = rng.random(complexes) < 0.9
    c_monument = (c_bouwjaar < 1940) & (rng.random(complexes) < 0.15)
    c_vve = ~c_egw & (rng.random(complexes) < 0.15)

    unit_complex = np.repeat(np.arange(complexes), sizes)
    corp = c_corp[unit_complex]
    kind = draw(rng, [(0, 0.955), (1, 0.03), (2, 0.015)], n)
    woo = kind == 0
    egw = c_egw[unit_complex] & woo
    bouwjaar = c_bouwjaar[unit_complex]
    new = c_new[unit_complex]
    kamers = np.clip(np.rint(rng.normal(np.where(egw, 4.2, 2.9), 0.9)), 1, 8).astype("int64")
    m2 = np.round(np.clip(rng.normal(28 + kamers * 16, 9), 25, 220), 1)
    wws = np.clip(np.rint(m2 * 1.6 + rng.normal(40, 18, n) + np.where(new, 30, 0)), 60, 320)
    daeb = c_daeb[unit_complex] & woo
    rent = np.where(woo, np.where(daeb, np.clip(wws * 3.9 + rng.normal(0, 40, n), 330, 850),
                                  np.clip(wws * 5.3 + rng.normal(0, 60, n), 780, 1600)),
                    np.where(kind == 1, rng.uniform(30, 120, n), rng.uniform(450, 2500, n)))
    liberalised = np.where(daeb & (rng.random(n) < 0.02), rng.integers(2021, 2026, n), 9999)

    build_day = random_days(rng, bouwjaar)
    herkomst = np.where(new, 1, 0)
    bought = ~new & (rng.random(n) < 0.01)
    herkomst = np.where(bought, 2, herkomst)
    in_day = np.where(bought, random_days(rng, rng.integers(2021, 2026, n)), build_day)
    leaves = (herkomst == 0) & (rng.random(n) < LEAVE_SHARE)
    out_day = np.where(leaves, random_days(rng, rng.integers(2021, 2026, n)), -1)
    out_reason = draw(rng, LEAVE_REASONS, n)
    solar_draw = rng.random(n)
    solar_year = np.full(n, 9999)
    for year in sorted(SOLAR_SHARE, reverse=True):
        solar_year = np.where(woo & (solar_draw < SOLAR_SHARE[year] * np.where(egw, 1.3, 0.8)), year, solar_year)
    panels = rng.integers(4, 17, n)
    return Stock(
        n=n, corp=corp, complex_id=unit_complex, buurt=c_buurt[unit_complex], woo=woo, kind=kind, egw=egw,
        bouwjaar=bouwjaar, kamers=kamers, m2=m2, wws=wws, rent=rent, daeb=daeb, liberalised=liberalised,
        monument=c_monument[unit_complex], vve=c_vve[unit_complex], in_day=in_day, herkomst=herkomst,
        out_day=out_day, out_reason=out_reason, solar_year=solar_year, panels=panels,
        has_bag=rng.random(n) >= 0.01, typo=rng.random(n) < 0.01,
    )


@dataclass
class Certificates:
    """One row per certificate (arrays); `address` indexes the gemeente's addresses."""

    address: np.ndarray
    unit: np.ndarray  # corporation unit, -1 for other objects
    registratie: np.ndarray
    opname: np.ndarray
    klasse: np.ndarray  # index into LABELS
    nieuwbouw: np.ndarray
    utility: np.ndarray  # index into sample.UTILITY_TYPES, -1 for dwellings
    egw: np.ndarray
    bouwjaar: np.ndarray
    m2: np.ndarray
    certifier: np.ndarray
    bag_missing: np.ndarray

    def __len__(self) -> int:
        return len(self.address)

    @staticmethod
    def concat(parts: Sequence[Certificates]) -> Certificates:
        return Certificates(*(np.concatenate([getattr(p, f) for p in parts]) for f in Certificates.__dataclass_fields__))

    def take(self, index: np.ndarray) -> Certificates:
        return Certificates(*(getattr(self, f)[index] for f in Certificates.__dataclass_fields__))


def _base_class(rng: np.random.Generator, bouwjaar: np.ndarray) -> np.ndarray:
    """Class before any renovation, by building period (the sample's mix)."""
    uppers = np.array([upper for upper, _ in sample.LABEL_MIX_BY_PERIOD])
    table = np.zeros((len(uppers), len(LABELS)))
    for row, (_, mix) in enumerate(sample.LABEL_MIX_BY_PERIOD):
        for label, share in mix.items():
            table[row, L[label]] = share
    cumulative = table.cumsum(axis=1) / table.sum(axis=1, keepdims=True)
    period = np.minimum(np.searchsorted(uppers, bouwjaar, side="left"), len(uppers) - 1)
    return (rng.random(len(bouwjaar))[:, None] > cumulative[period]).sum(axis=1)


def _within_owner(position: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sum of `values` within each run of equal `position` (rows grouped by owner)."""
    if not len(position):
        return values
    first = np.r_[True, position[1:] != position[:-1]]
    total = np.cumsum(values)
    start = np.maximum.accumulate(np.where(first, np.arange(len(position)), 0))
    return total - total[start] + values[start]


def _histories(rng: np.random.Generator, owner: np.ndarray, counts: np.ndarray, year_weights: dict[int, int],
               valid_share: float, earliest: np.ndarray, base: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`counts[i]` certificates for owner i: (owner position, registratiedatum, class), sorted per owner.

    Drawn backwards from the latest certificate: with probability `valid_share` it is still valid on
    31-12-2025 (registered 2016..2025), else it expired (2008..2015); each earlier one lies 2-9 years
    before the next. Certificates before 2008 or before the building was finished are dropped.
    """
    recent = {y: w for y, w in year_weights.items() if y >= 2016}
    old = {y: w for y, w in year_weights.items() if y < 2016}
    valid = rng.random(len(owner)) < valid_share
    last_year = np.where(valid, np.array(list(recent))[draw(rng, recent, len(owner))],
                         np.array(list(old))[draw(rng, old, len(owner))])
    last = np.minimum(random_days(rng, last_year), day_number(*EP_LAST_REGISTRATION))
    position = np.repeat(np.arange(len(owner)), counts)
    gap = rng.integers(2 * 365, 9 * 365, len(position))
    gap[np.r_[True, position[1:] != position[:-1]] if len(position) else np.zeros(0, dtype=bool)] = 0
    registratie = last[position] - _within_owner(position, gap)
    keep = (registratie >= day_number(2008, 1, 1)) & (registratie >= earliest[position] + 10)
    position, registratie = position[keep], registratie[keep]
    order = np.lexsort((registratie, position))
    position, registratie = position[order], registratie[order]
    gain = np.array(IMPROVEMENT[0])[draw(rng, list(zip(*IMPROVEMENT, strict=True)), len(position))]
    if len(position):
        gain[np.r_[True, position[1:] != position[:-1]]] = 0
    klasse = np.maximum(base[position] - _within_owner(position, gain), L["A+++"])
    return position, registratie, klasse


def build_certificates(gemeente: Gemeente, stock: Stock, scale: float, n_certifiers: int,
                       corp_certifier: np.ndarray) -> Certificates:
    rng = _rng(2, gemeente)
    last = day_number(*EP_LAST_REGISTRATION)
    parts: list[Certificates] = []

    # Corporation dwellings: the label history of each unit.
    woo = np.flatnonzero(stock.woo)
    new = stock.herkomst[woo] == 1
    counts = np.array(CERTS_PER_CORP_DWELLING[0])[draw(rng, list(zip(*CERTS_PER_CORP_DWELLING, strict=True)), len(woo))]
    counts = np.where(new, (rng.random(len(woo)) < 0.95).astype("int64"), counts)
    built = year_start(stock.bouwjaar[woo])
    position, registratie, klasse = _histories(rng, woo, counts, CORP_YEAR_WEIGHTS, 0.93, built,
                                               _base_class(rng, stock.bouwjaar[woo]))
    unit = woo[position]
    is_new = stock.herkomst[unit] == 1
    registratie = np.where(is_new, stock.in_day[unit] - rng.integers(0, 60, len(unit)), registratie)
    klasse = np.where(is_new, np.array([L[k] for k in NEW_BUILD_CLASSES])[draw(rng, NEW_BUILD_CLASSES, len(unit))], klasse)
    keep = registratie <= last
    unit, registratie, klasse, is_new = unit[keep], registratie[keep], klasse[keep], is_new[keep]
    own = rng.random(len(unit)) < 0.7
    parts.append(Certificates(
        address=unit, unit=unit, registratie=registratie, opname=registratie - rng.integers(1, 60, len(unit)),
        klasse=klasse, nieuwbouw=is_new, utility=np.full(len(unit), -1), egw=stock.egw[unit],
        bouwjaar=stock.bouwjaar[unit], m2=stock.m2[unit],
        certifier=np.where(own, corp_certifier[stock.corp[unit]], rng.integers(0, n_certifiers, len(unit))),
        bag_missing=rng.random(len(unit)) < SHARE_WITHOUT_BAG,
    ))

    # Private dwellings.
    n_private = _scaled(gemeente.private, scale)
    owner = stock.n + np.arange(n_private)
    counts = np.array(CERTS_PER_PRIVATE_DWELLING[0])[draw(rng, list(zip(*CERTS_PER_PRIVATE_DWELLING, strict=True)), n_private)]
    period = draw(rng, [(p, w) for *p, w in BUILD_PERIODS], n_private)
    bouwjaar = rng.integers(np.array([p[0] for p in BUILD_PERIODS])[period], np.array([p[1] for p in BUILD_PERIODS])[period])
    egw = rng.random(n_private) < 0.65
    m2 = np.round(np.clip(rng.normal(np.where(egw, 120, 75), 25), 25, 400), 1)
    position, registratie, klasse = _histories(rng, owner, counts, PRIVATE_YEAR_WEIGHTS, 0.7, year_start(bouwjaar),
                                               _base_class(rng, bouwjaar))
    keep = registratie <= last
    position, registratie, klasse = position[keep], registratie[keep], klasse[keep]
    parts.append(Certificates(
        address=owner[position], unit=np.full(len(position), -1), registratie=registratie,
        opname=registratie - rng.integers(1, 60, len(position)), klasse=klasse,
        nieuwbouw=(bouwjaar[position] >= 2021), utility=np.full(len(position), -1), egw=egw[position],
        bouwjaar=bouwjaar[position], m2=m2[position], certifier=rng.integers(0, n_certifiers, len(position)),
        bag_missing=rng.random(len(position)) < SHARE_WITHOUT_BAG,
    ))

    # Utility buildings: one certificate each.
    n_utility = _scaled(gemeente.utility, scale)
    registratie = random_days(rng, np.array(list(CORP_YEAR_WEIGHTS))[draw(rng, CORP_YEAR_WEIGHTS, n_utility)])
    registratie = np.minimum(registratie, last)
    parts.append(Certificates(
        address=stock.n + n_private + np.arange(n_utility), unit=np.full(n_utility, -1), registratie=registratie,
        opname=registratie - rng.integers(1, 90, n_utility), klasse=rng.choice(len(LABELS), n_utility, p=UTILITY_CLASSES),
        nieuwbouw=np.zeros(n_utility, dtype=bool), utility=rng.integers(0, len(sample.UTILITY_TYPES), n_utility),
        egw=np.zeros(n_utility, dtype=bool), bouwjaar=rng.integers(1950, 2024, n_utility),
        m2=np.round(rng.uniform(80, 6000, n_utility), 1), certifier=rng.integers(0, n_certifiers, n_utility),
        bag_missing=rng.random(n_utility) < SHARE_WITHOUT_BAG,
    ))
    return Certificates.concat(parts)


def certificate_columns(gemeente: Gemeente, certs: Certificates, certifiers: Sequence[str],
                        rng: np.random.Generator) -> list[pa.Array]:
    """The 42 EP-online v4 columns of `certs`, in EP_COLUMNS order."""
    n = len(certs)
    address = addresses(gemeente, certs.address)
    nta = certs.registratie >= day_number(2021, 1, 1)
    dwelling = certs.utility < 0
    klasse = np.where(~nta & dwelling, np.maximum(certs.klasse, L["A++"]), certs.klasse)
    detail = rng.random(n) < 0.6
    old_year = ymd_parts(certs.registratie)[0]
    old_method = np.where(old_year < 2015, rng.integers(0, 2, n), draw(rng, [(0, 0.2), (1, 0.3), (2, 0.5)], n))
    method = np.where(nta, np.where(detail, 3, 4), old_method)
    pfe = PFE_LOW[klasse] + (PFE_HIGH[klasse] - PFE_LOW[klasse]) * rng.uniform(0.02, 0.98, n)
    ei = EI_LOW[klasse] + (EI_HIGH[klasse] - EI_LOW[klasse]) * rng.uniform(0.0, 1.0, n)
    behoefte = np.maximum(pfe * 0.7, 20) + rng.uniform(0, 25, n)
    emg = nta & (rng.random(n) < 0.4)
    eis = nta & certs.nieuwbouw & dwelling
    subtype_egw = draw(rng, EGW_SUBTYPES, n)
    subtype_mgw = draw(rng, MGW_SUBTYPES, n)
    utility = np.maximum(certs.utility, 0)
    gebouwtype_names = (*("Eengezinswoning", "Appartement"), *(name for name, _ in sample.UTILITY_TYPES))
    gebouwtype = np.where(dwelling, np.where(certs.egw, 0, 1), 2 + utility)
    subtypes = (*(name for name, _ in EGW_SUBTYPES), *(name for name, _ in MGW_SUBTYPES), None)
    subtype = np.where(dwelling, np.where(certs.egw, subtype_egw, len(EGW_SUBTYPES) + subtype_mgw), len(subtypes) - 1)
    project = certs.nieuwbouw & (certs.unit >= 0)
    not_nta = ~nta
    values = {
        "Postcode": address.postcode,
        "Huisnummer": address.huisnummer,
        "Huisletter": address.huisletter,
        "Huisnummertoevoeging": address.toevoeging,
        "BAGVerblijfsobjectID": _null_where(address.bag, certs.bag_missing),
        "BAGPandIDs": address.pand,
        "Opnamedatum": t_ymd(certs.opname),
        "Registratiedatum": t_ymd(certs.registratie),
        "GeldigTot": t_ymd(_plus_ten_years(certs.registratie)),
        "Energieklasse": t_pick(LABELS, klasse),
        "Berekeningstype": t_pick((*OLD_METHODS, sample.NTA_DETAIL, sample.NTA_BASIS), method),
        "SoortOpname": t_pick(("Detailopname", "Basisopname"), np.where(detail, 0, 1), mask=not_nta),
        "Status": t_pick(("Bestaand", "Nieuwbouw"), certs.nieuwbouw.astype("int64")),
        "OpBasisVanReferentiegebouw": t_pick(("Nee", "Ja"), (rng.random(n) < 0.01).astype("int64")),
        "Certificaathouder": t_pick(certifiers, certs.certifier),
        "Gebouwklasse": t_pick(("W", "U"), (~dwelling).astype("int64")),
        "Gebouwtype": t_pick(gebouwtype_names, gebouwtype),
        "Gebouwsubtype": t_pick(subtypes, subtype),
        "SBICode": t_pick(tuple(code for _, code in sample.UTILITY_TYPES), utility, mask=dwelling),
        "Projectnaam": _null_where(t_join(f"Nieuwbouw {gemeente.naam} ", t_int(certs.unit // 40 + 1)), ~project),
        "Projectobject": _null_where(t_join("bouwnummer ", t_int(certs.unit % 40 + 1)), ~project),
        "Bouwjaar": t_int(certs.bouwjaar),
        "GebruiksoppervlakteThermischeZone": t_fixed(certs.m2, 1),
        "Compactheid": t_fixed(rng.uniform(0.8, 2.6, n), 2, mask=not_nta),
        "EnergieIndex": t_fixed(ei, 2, mask=nta),
        "Energiebehoefte": t_fixed(behoefte, 2, mask=not_nta),
        "Warmtebehoefte": t_fixed(behoefte * rng.uniform(0.55, 0.75, n), 2, mask=not_nta),
        "PrimaireFossieleEnergie": t_fixed(pfe, 2, mask=not_nta),
        "PrimaireFossieleEnergieEMGForfaitair": t_fixed(pfe * rng.uniform(1.0, 1.15, n), 2, mask=~emg),
        "AandeelHernieuwbareEnergie": t_fixed(rng.uniform(0, 60, n), 1, mask=not_nta),
        "AandeelHernieuwbareEnergieEMGForfaitair": t_fixed(rng.uniform(0, 45, n), 1, mask=~emg),
        "Temperatuuroverschrijding": t_fixed(rng.uniform(0.3, 2.5, n), 2, mask=not_nta),
        "BerekendeCO2Emissie": t_fixed(np.maximum(pfe, 0) * 0.18, 2, mask=not_nta),
        "BerekendeEnergieverbruik": t_fixed(behoefte * rng.uniform(0.9, 1.2, n), 2, mask=not_nta),
        "EisEnergiebehoefte": t_fixed(rng.uniform(55, 70, n), 2, mask=~eis),
        "EisPrimaireFossieleEnergie": t_fixed(rng.uniform(30, 50, n), 2, mask=~eis),
        "EisAandeelHernieuwbareEnergie": t_fixed(np.full(n, 50.0), 1, mask=~eis),
        "EisTemperatuuroverschrijding": t_fixed(np.full(n, 1.2), 2, mask=~eis),
    }
    empty = pa.nulls(n, pa.string())
    return [values.get(column, empty) for column in EP_COLUMNS]


def _plus_ten_years(days: np.ndarray) -> np.ndarray:
    """Labels are valid ten years: the same day ten years on (29 February -> 28 February)."""
    year, month, day = ymd_parts(days)
    leap_day = (month == 2) & (day == 29)
    dates = np.array([f"{y + 10:04d}-{m:02d}-{d:02d}" for y, m, d in
                      zip(year[leap_day], month[leap_day], np.full(leap_day.sum(), 28), strict=True)],
                     dtype="datetime64[D]")
    out = (np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
           + np.timedelta64(120, "M")).astype("datetime64[D]").astype("int64") + (day - 1)
    out[leap_day] = dates.astype("int64")
    return out


# --------------------------------------------------------------------------------------------------
# stock lists
# --------------------------------------------------------------------------------------------------

def labels_per_year(stock: Stock, certs: Certificates) -> dict[int, np.ndarray]:
    """The corporation's own label at 31-12 of each year: its latest certificate (-1 = none)."""
    corp = certs.unit >= 0
    unit, registratie, klasse = certs.unit[corp], certs.registratie[corp], certs.klasse[corp]
    order = np.lexsort((registratie, unit))
    unit, registratie, klasse = unit[order], registratie[order], klasse[order]
    out: dict[int, np.ndarray] = {}
    for year in YEARS:
        eligible = registratie <= year_start(year + 1) - 1
        latest = np.full(stock.n, -1)
        # sorted by date within unit: the last eligible row of a unit wins
        latest[unit[eligible]] = klasse[eligible]
        out[year] = latest
    return out


def stock_list_columns(gemeente: Gemeente, stock: Stock, year: int, rows: np.ndarray,
                       label: np.ndarray) -> list[pa.Array]:
    rng = np.random.default_rng([SEED, 5, gemeente.index, year])
    address = addresses(gemeente, rows)
    woo = stock.woo[rows]
    wijk = gemeente.buurt_wijk()[stock.buurt[rows]]
    buurt = gemeente.buurt_number()[stock.buurt[rows]]
    growth = float(np.prod([RENT_GROWTH[y] for y in YEARS if y <= year]))
    rent = stock.rent[rows] * growth * np.where(stock.woo[rows], rng.uniform(0.99, 1.01, len(rows)), 1.0)
    daeb = stock.daeb[rows] & (stock.liberalised[rows] > year)
    out_day = stock.out_day[rows]
    leaving = (out_day >= 0) & (out_day < year_start(year + 1))  # left during this year
    out_year = ymd_parts(np.maximum(out_day, 0))[0]
    klasse = label[rows]
    typo = stock.typo[rows] & (klasse >= 0)
    klasse = np.where(typo, np.clip(klasse + 1, L["A+++"], L["G"]), klasse)
    solar = stock.solar_year[rows] <= year
    wp_year = np.clip(stock.solar_year[rows], 2020, 2025)
    wp = np.array([sample.PANEL_WP_BY_YEAR[y][1] for y in range(2020, 2026)])[wp_year - 2020]
    demolished = (out_day >= 0) & (stock.out_reason[rows] == 1) & (out_year <= year + 1)
    planned = demolished | (rng.random(len(rows)) < 0.005)
    return [
        t_join("V", t_int(gemeente.digits * 10**8 + rows)),
        t_join(f"{gemeente.digits:04d}-", t_int(stock.complex_id[rows] + 1)),
        _null_where(address.bag, ~stock.has_bag[rows]),
        address.postcode_spaced,
        address.huisnummer,
        address.huisletter,
        address.toevoeging,
        t_const(gemeente.code, len(rows)),
        wijk_codes(gemeente, wijk),
        buurt_codes(gemeente, wijk, buurt),
        t_pick(("WOO", "PP", "BOG"), stock.kind[rows]),
        t_pick(("MGW", "EGW"), stock.egw[rows].astype("int64"), mask=~woo),
        t_int(stock.bouwjaar[rows]),
        t_int(stock.kamers[rows], mask=~woo),
        t_fixed(stock.m2[rows], 1),
        t_int(stock.wws[rows], mask=~woo),
        t_fixed(rent, 2),
        t_pick(("nee", "ja"), daeb.astype("int64")),
        t_pick(("nee", "ja"), stock.monument[rows].astype("int64")),
        t_pick(("nee", "ja"), stock.vve[rows].astype("int64")),
        t_pick(("nee", "ja"), planned.astype("int64")),
        t_pick(LABELS, np.maximum(klasse, 0), mask=~woo | (klasse < 0)),
        t_int(np.where(solar, stock.panels[rows], 0), mask=~woo),
        t_int(wp, mask=~woo | ~solar),
        t_dmy(stock.in_day[rows]),
        t_dmy(out_day, mask=~leaving),
        t_pick(tuple(reason for reason, _ in LEAVE_REASONS), stock.out_reason[rows], mask=~leaving),
        t_pick(("bestaand", "nieuwbouw", "aankoop"), stock.herkomst[rows]),
    ]


def in_list(stock: Stock, year: int) -> np.ndarray:
    """Units on the list at 31-12-`year`: in exploitation then, or left during that year."""
    end = year_start(year + 1) - 1
    return (stock.in_day <= end) & ((stock.out_day < 0) | (stock.out_day >= year_start(year)))


# --------------------------------------------------------------------------------------------------
# the daily mutation file
# --------------------------------------------------------------------------------------------------

def build_mutations(gemeente: Gemeente, stock: Stock, certs: Certificates, scale: float,
                    n_certifiers: int) -> Certificates:
    """Renovations and first labels of stock dwellings, corrections of 2025 certificates, other objects."""
    rng = _rng(3, gemeente)
    total = math.ceil(MUTATIONS * gemeente.dwellings / TOTAL_DWELLINGS * scale)
    day = day_number(*MUTATION_DAY)
    latest = labels_per_year(stock, certs)[2025]
    poor = np.flatnonzero(stock.woo & (latest >= L["D"]))
    unlabelled = np.flatnonzero(stock.woo & (latest < 0) & (stock.in_day < day))
    n_renovate = min(len(poor), int(total * 0.4))
    n_first = min(len(unlabelled), int(total * 0.1))
    renovate = rng.choice(poor, n_renovate, replace=False)
    first = rng.choice(unlabelled, n_first, replace=False)
    units = np.concatenate([renovate, first])
    klasse = np.concatenate([np.maximum(latest[renovate] - rng.integers(2, 5, n_renovate), L["A+"]),
                             rng.integers(L["A"], L["E"] + 1, n_first)])
    parts = [Certificates(
        address=units, unit=units, registratie=np.full(len(units), day), opname=day - rng.integers(5, 40, len(units)),
        klasse=klasse, nieuwbouw=np.zeros(len(units), dtype=bool), utility=np.full(len(units), -1),
        egw=stock.egw[units], bouwjaar=stock.bouwjaar[units], m2=stock.m2[units],
        certifier=rng.integers(0, n_certifiers, len(units)), bag_missing=rng.random(len(units)) < SHARE_WITHOUT_BAG,
    )]
    recent = np.flatnonzero((certs.unit >= 0) & (certs.registratie >= day_number(2025, 1, 1)))
    corrected = certs.take(rng.choice(recent, min(len(recent), int(total * 0.05)), replace=False))
    step = np.where(corrected.klasse > L["A+"], -1, 1)
    corrected.klasse = corrected.klasse + step
    parts.append(corrected)
    n_private = _scaled(gemeente.private, scale)
    n_other = max(0, total - len(units) - len(corrected))
    other = stock.n + rng.integers(0, max(n_private, 1), n_other)
    parts.append(Certificates(
        address=other, unit=np.full(n_other, -1), registratie=np.full(n_other, day),
        opname=day - rng.integers(3, 30, n_other), klasse=rng.integers(L["A+"], L["F"] + 1, n_other),
        nieuwbouw=np.zeros(n_other, dtype=bool), utility=np.full(n_other, -1), egw=rng.random(n_other) < 0.6,
        bouwjaar=rng.integers(1920, 2020, n_other), m2=np.round(rng.uniform(40, 180, n_other), 1),
        certifier=rng.integers(0, n_certifiers, n_other), bag_missing=np.zeros(n_other, dtype=bool),
    ))
    return Certificates.concat(parts)


# --------------------------------------------------------------------------------------------------
# Woonservice: lettings and seekers
# --------------------------------------------------------------------------------------------------

def _period_end(year: int) -> int:
    return day_number(*WOONSERVICE_END) if year == WOONSERVICE_END[0] else int(year_start(year + 1)) - 1


def woonservice_year(gemeente: Gemeente, geo: Geography, stock: Stock, year: int,
                     scale: float) -> tuple[tuple[bytes, int], tuple[bytes, int]]:
    """(lettings, seekers) CSV bodies of one gemeente and year."""
    rng = np.random.default_rng([SEED, 4, gemeente.index, year])
    begin, end = int(year_start(year)), _period_end(year)
    fraction = (end - begin + 1) / 365
    unit_share = gemeente.corporation_units / CORPORATION_UNITS
    listed = in_list(stock, year) & ((stock.out_day < 0) | (stock.out_day > end))
    eligible = np.flatnonzero(listed & stock.woo & stock.daeb & (stock.liberalised > year) & (stock.in_day < end))
    n_let = min(len(eligible), _scaled(LETTINGS_PER_YEAR * unit_share * fraction, scale))
    pool = max(1, math.ceil(_scaled(SEEKERS_PER_YEAR * gemeente.dwellings / TOTAL_DWELLINGS, scale) * 1.6))
    n_seek = min(pool, max(_scaled(SEEKERS_PER_YEAR * gemeente.dwellings / TOTAL_DWELLINGS, scale), n_let))
    units = np.sort(rng.choice(eligible, n_let, replace=False))

    # Seekers of the period; the first n_let are housed by this year's lettings.
    seeker = rng.choice(pool, n_seek, replace=False)
    household = 1 + draw(rng, [(1, 0.45), (2, 0.25), (3, 0.13), (4, 0.1), (5, 0.07)], n_seek)
    age = np.clip(np.rint(rng.gamma(4.0, 10.0, n_seek) + 18), 18, 95).astype("int64")
    income = np.rint(rng.lognormal(np.log(26_000), 0.45, n_seek) * np.where(household > 1, 1.35, 1.0)
                     * 1.03 ** (year - 2021))
    one = household == 1
    primair = np.where(one, sample.PRIMAIR_INKOMENSGRENS[year][0], sample.PRIMAIR_INKOMENSGRENS[year][1])
    daeb_limit = np.where(one, sample.DAEB_INKOMENSGRENS[year][0], sample.DAEB_INKOMENSGRENS[year][1])
    klasse = np.where(income < primair, 0, np.where(income <= daeb_limit, 1,
                                                    np.where(income <= sample.MIDDEN_INKOMENSGRENS, 2, 3)))
    registered = begin - np.minimum(np.rint(rng.exponential(5 * 365, n_seek)), 30 * 365).astype("int64")
    registered = np.where(rng.random(n_seek) < 0.15, begin + rng.integers(0, max(end - begin, 1), n_seek), registered)
    housed = np.arange(n_seek) < n_let
    registered = np.where(housed, np.minimum(registered, begin - 30), registered)
    elsewhere = rng.random(n_seek) < 0.15
    neighbour = (gemeente.index + np.where(rng.random(n_seek) < 0.5, 1, -1)) % GEMEENTEN
    woongemeente = np.where(elsewhere, neighbour, gemeente.index)
    codes = [g.code for g in geo.gemeenten]
    names = [g.naam for g in geo.gemeenten]
    active = housed | (rng.random(n_seek) < 0.55)
    reacties = np.where(active, 1 + rng.negative_binomial(1.2, 1.2 / (1.2 + 26 * fraction), n_seek), 0)
    own = rng.binomial(reacties, np.where(elsewhere, 0.1, 0.75))

    # Lettings.
    mix = sample.LETTING_MIX
    kind = draw(rng, [(f"{m}|{k}", w) for m, k, w in mix], n_let)
    model = np.array([m for m, _, _ in mix])[kind]
    voorrang_kind = np.array([k for _, k, _ in mix])[kind]
    voorrang = np.where(np.isin(voorrang_kind, ("URG", "STA")), "URG", voorrang_kind)
    detail_urg = np.array(list(sample.URGENTIE_DETAILS))[draw(rng, sample.URGENTIE_DETAILS, n_let)]
    detail = np.where(voorrang_kind == "STA", "STA", np.where(voorrang_kind == "URG", detail_urg, ""))
    via = np.where(model == "DIR", 1, np.where(voorrang == "URG", 3, np.where(model == "LOT", 2, 0)))
    day = begin + rng.integers(0, end - begin + 1, n_let)
    day = np.maximum(day, np.minimum(stock.in_day[units] + 1, end))
    weekday = (day + 3) % 7
    day = day + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    day = np.where(day > end, day - 7, day)
    growth = float(np.prod([RENT_GROWTH[y] for y in YEARS if y <= year]))
    rent = stock.rent[units] * growth
    median = np.array([sample.REACTIES_BY_MODEL.get(m, (0, 0, 0))[0] for m in model], dtype="float64")
    low = np.array([sample.REACTIES_BY_MODEL.get(m, (0, 0, 0))[1] for m in model], dtype="float64")
    high = np.array([sample.REACTIES_BY_MODEL.get(m, (0, 0, 0))[2] for m in model], dtype="float64")
    letting_reacties = np.clip(np.rint(median * rng.lognormal(0, 0.45, n_let)), low, high)
    h = slice(0, n_let)
    aftopping = np.where(household[h] <= 2, sample.AFTOPPINGSGRENZEN[year][0], sample.AFTOPPINGSGRENZEN[year][1])
    passend = np.where(klasse[h] == 0, np.where(rent <= aftopping, 0, 1), 2)
    months = np.maximum((day - registered[h]) // 30, 0)
    address = addresses(gemeente, units)
    wijk = gemeente.buurt_wijk()[stock.buurt[units]]
    buurt = gemeente.buurt_number()[stock.buurt[units]]
    corp_names = [c.naam for c in geo.corporaties]
    seeker_ids = t_join(f"WZ{gemeente.digits:04d}", pc.utf8_lpad(t_int(seeker), width=7, padding="0"))
    lettings = [
        t_join(f"TW{year}-{gemeente.digits:04d}-", pc.utf8_lpad(t_int(np.arange(1, n_let + 1)), width=6, padding="0")),
        t_dmy(day),
        t_const(gemeente.code, n_let),
        t_const(gemeente.naam, n_let),
        wijk_codes(gemeente, wijk),
        buurt_codes(gemeente, wijk, buurt),
        t_pick(corp_names, stock.corp[units]),
        t_join("V", t_int(gemeente.digits * 10**8 + units)),
        _null_where(address.bag, ~stock.has_bag[units]),
        address.postcode,
        address.huisnummer,
        address.huisletter,
        address.toevoeging,
        t_fixed(rent, 2),
        t_pick(("MGW", "EGW"), stock.egw[units].astype("int64")),
        t_int(stock.kamers[units]),
        pa.array(model, pa.string()),
        _null_where(pa.array(voorrang, pa.string()), voorrang == ""),
        _null_where(pa.array(detail, pa.string()), detail == ""),
        t_int(letting_reacties, mask=model == "DIR"),
        t_dmy(registered[h]),
        t_int(np.minimum(np.rint(months * rng.uniform(0.15, 0.8, n_let)), 60)),
        t_int(income[h]),
        t_int(household[h]),
        t_int(age[h]),
        t_pick(codes, woongemeente[h]),
        t_pick(("PAS", "NIE", "NVT"), passend),
        t_pick(("nee", "ja"), (rng.random(n_let) < 0.2).astype("int64")),
        seeker_ids[:n_let] if n_let else pa.array([], pa.string()),
    ]
    via_all = np.full(n_seek, -1)
    via_all[:n_let] = via
    order = np.argsort(seeker, kind="stable")
    seekers = [
        seeker_ids,
        t_dmy(np.full(n_seek, begin)),
        t_dmy(np.full(n_seek, end)),
        t_pick(codes, woongemeente),
        t_pick(names, woongemeente),
        t_pick(("primair", "secundair", "midden", "hoog"), klasse),
        t_int(income),
        t_int(household),
        t_pick([label for _, label in sample.LEEFTIJDSKLASSEN],
               np.searchsorted(np.array([upper for upper, _ in sample.LEEFTIJDSKLASSEN]), age, side="left")),
        t_dmy(registered),
        t_int(reacties),
        t_int(own),
        t_pick(("nee", "ja"), housed.astype("int64")),
        t_pick(("aanbod", "direct", "loting", "urgentie"), np.maximum(via_all, 0), mask=~housed),
        _null_where(t_const(gemeente.code, n_seek), ~housed),
    ]
    seekers = [column.take(pa.array(order)) for column in seekers]
    return ((csv_body(TOEWIJZINGEN_COLUMNS, lettings, ";"), n_let),
            (csv_body(WONINGZOEKENDEN_COLUMNS, seekers, ";"), n_seek))


# --------------------------------------------------------------------------------------------------
# Leefbaarometer and plan lists
# --------------------------------------------------------------------------------------------------

def leefbaarometer(gemeente: Gemeente) -> dict[str, tuple[bytes, int]]:
    """Scores per buurt, wijk and gemeente for the nine measurement years (units of 0.0001)."""
    rng = _rng(6, gemeente)
    wijk = gemeente.buurt_wijk()
    number = gemeente.buurt_number()
    b = len(wijk)
    years = len(LEEFBAAROMETER_YEARS)
    level = rng.normal(0, 0.08, int(wijk.max()))[wijk - 1] + rng.normal(0, 0.06, b)
    profile = rng.normal(0, 0.05, (b, 5))
    trend = rng.normal(0.012, 0.01, b)
    inhabitants = rng.integers(300, 4500, b).astype("float64")
    steps = np.arange(years) - 4
    afw = level[:, None] + trend[:, None] * steps[None, :] + rng.normal(0, 0.015, (b, years))
    parts = profile[:, None, :] + rng.normal(0, 0.01, (b, years, 5))
    parts += (afw - parts.sum(axis=2))[:, :, None] / 5
    parts_int = np.rint(parts * 10_000).astype("int64")  # (buurt, year, dimension)

    def rows(codes: pa.Array, names: pa.Array, scores: np.ndarray) -> tuple[bytes, int]:
        count, _, _ = scores.shape
        flat = scores.reshape(count * years, 5)
        afw_int = flat.sum(axis=1)
        index = np.repeat(np.arange(count), years)
        columns = [
            codes.take(pa.array(index)), names.take(pa.array(index)),
            t_int(np.tile(np.array(LEEFBAAROMETER_YEARS), count)),
            t_fixed((41_000 + afw_int) / 10_000, 4, decimal="."), t_fixed(afw_int / 10_000, 4, decimal="."),
            *(t_fixed(flat[:, i] / 10_000, 4, decimal=".") for i in range(5)),
        ]
        return csv_body(("code", "naam", "jaar", "lbm", "afw", *sample.DIMENSIONS), columns, ","), count * years

    def weighted(groups: np.ndarray, count: int) -> np.ndarray:
        out = np.zeros((count, years, 5))
        np.add.at(out, groups, parts_int * inhabitants[:, None, None])
        total = np.bincount(groups, weights=inhabitants, minlength=count)
        return np.rint(out / total[:, None, None]).astype("int64")

    wijken = int(wijk.max())
    wijk_numbers = np.arange(1, wijken + 1)
    buurt_names = t_join(t_pick(BUURT_WORDS, (number + wijk * 7) % len(BUURT_WORDS)), t_int(number), sep=" ")
    wijk_names = t_join(gemeente.naam, t_pick(WIJK_WORDS, (wijk_numbers - 1) % len(WIJK_WORDS)), t_int(wijk_numbers), sep=" ")
    return {
        "buurten": rows(buurt_codes(gemeente, wijk, number), buurt_names, parts_int),
        "wijken": rows(wijk_codes(gemeente, wijk_numbers), wijk_names, weighted(wijk - 1, wijken)),
        "gemeenten": rows(pa.array([gemeente.code]), pa.array([gemeente.naam]), weighted(np.zeros(b, dtype="int64"), 1)),
    }


def planlijst(gemeente: Gemeente, scale: float) -> tuple[bytes, int]:
    rng = _rng(7, gemeente)
    n = max(1, _scaled(gemeente.dwellings / 4_000, scale))
    fase = rng.integers(0, len(FASEN), n)
    delivered = fase == len(FASEN) - 1
    # not delivered: expected from 2025 (in aanbouw) or 2026 on, later for earlier phases
    verwacht = np.where(delivered, rng.integers(2024, 2026, n),
                        np.maximum(2026 + (3 - fase) + rng.integers(0, 3, n) - 1, 2025))
    segments = rng.integers(0, 60, (n, 5)) * (rng.random((n, 5)) < 0.6)
    segments[segments.sum(axis=1) == 0, 0] = 12
    social = segments[:, 0]
    known = (fase >= 2) & (social > 0)
    wijken = len(gemeente.buurten_per_wijk)
    columns = [
        t_join(f"{gemeente.code}-P", pc.utf8_lpad(t_int(np.arange(1, n + 1)), width=3, padding="0")),
        t_join(f"Plan {gemeente.naam}", t_int(np.arange(1, n + 1)), sep=" "),
        t_const(gemeente.code, n),
        wijk_codes(gemeente, rng.integers(1, wijken + 1, n)),
        t_pick(FASEN, fase),
        t_int(verwacht),
        t_int(verwacht, mask=~delivered),
        *(t_int(segments[:, i]) for i in range(5)),
        t_fixed(rng.uniform(560, 880, n), 2, mask=social == 0),
        t_fixed(rng.uniform(45, 110, n), 2),
        t_int(np.rint(social * rng.uniform(0.5, 1.0, n)), mask=~known),
    ]
    return header_line(PLANLIJST_COLUMNS, ";") + csv_body(PLANLIJST_COLUMNS, columns, ";"), n


# --------------------------------------------------------------------------------------------------
# one gemeente, all outputs (runs in a worker process)
# --------------------------------------------------------------------------------------------------

@dataclass
class GemeenteOutput:
    index: int
    ep: tuple[bytes, int]
    mutations: tuple[bytes, int]
    bezit: dict[tuple[int, int], tuple[bytes, int]] = field(default_factory=dict)  # (corporatie, year)
    toewijzingen: dict[int, tuple[bytes, int]] = field(default_factory=dict)
    woningzoekenden: dict[int, tuple[bytes, int]] = field(default_factory=dict)
    leefbaarometer: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    planlijst: tuple[bytes, int] = (b"", 0)
    corporation_units: int = 0


_GEO: Geography | None = None


def _geography() -> Geography:
    global _GEO
    if _GEO is None:
        _GEO = build_geography()
    return _GEO


def generate_gemeente(index: int, scale: float) -> GemeenteOutput:
    geo = _geography()
    gemeente = geo.gemeenten[index]
    corp_certifier = np.array([c.certifier for c in geo.corporaties])
    stock = build_stock(gemeente, scale)
    certs = build_certificates(gemeente, stock, scale, len(geo.certifiers), corp_certifier)
    rng = _rng(8, gemeente)
    repeated = rng.choice(len(certs), int(round(len(certs) * SHARE_REPEATED)), replace=False) if len(certs) else np.zeros(0, "int64")
    order = rng.permutation(np.concatenate([np.arange(len(certs)), repeated]))
    ep_columns = certificate_columns(gemeente, certs, geo.certifiers, rng)
    ep_columns = [column.take(pa.array(order)) for column in ep_columns]
    mutations = build_mutations(gemeente, stock, certs, scale, len(geo.certifiers))
    mutation_columns = certificate_columns(gemeente, mutations, geo.certifiers, _rng(9, gemeente))
    out = GemeenteOutput(
        index=index,
        ep=(csv_body(EP_COLUMNS, ep_columns, ";"), len(order)),
        mutations=(csv_body(EP_COLUMNS, mutation_columns, ";"), len(mutations)),
    )
    labels = labels_per_year(stock, certs)
    for year in YEARS:
        rows = np.flatnonzero(in_list(stock, year))
        if len(rows):
            columns = stock_list_columns(gemeente, stock, year, rows, labels[year])
            table = pa.table(columns, names=list(BEZIT_COLUMNS))
            corp = stock.corp[rows]
            for c in np.unique(corp):
                subset = table.take(pa.array(np.flatnonzero(corp == c)))
                out.bezit[(int(c), year)] = (csv_body(BEZIT_COLUMNS, subset.columns, ";"), subset.num_rows)
        out.toewijzingen[year], out.woningzoekenden[year] = woonservice_year(gemeente, geo, stock, year, scale)
    out.leefbaarometer = leefbaarometer(gemeente)
    out.planlijst = planlijst(gemeente, scale)
    out.corporation_units = int(in_list(stock, YEARS[-1]).sum() - (stock.out_day >= year_start(YEARS[-1])).sum())
    return out


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------

def _ep_preamble(day: tuple[int, int, int], sequence: int) -> bytes:
    y, m, d = day
    text = f"PublicatieDatum;{d:02d}-{m:02d}-{y:04d}\nLaatstVerwerkteMutatievolgnummer;{sequence}\n"
    return b"\xef\xbb\xbf" + text.encode("utf-8") + header_line(EP_COLUMNS, ";")


class ZipMember:
    """One CSV member of a zip, written in chunks (deterministic: fixed time, attributes, system)."""

    def __init__(self, path: Path, member: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        info = zipfile.ZipInfo(member, date_time=FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o644 << 16
        self.handle = self.archive.open(info, "w", force_zip64=True)

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def close(self) -> None:
        self.handle.close()
        self.archive.close()


def _prepare_output(out: Path) -> None:
    out = out.resolve()
    inside = out == PROJECT_ROOT or PROJECT_ROOT in out.parents
    if inside and not (out == PROJECT_ROOT / "out" or (PROJECT_ROOT / "out") in out.parents):
        raise SystemExit(f"{out}: schrijf de gegenereerde set buiten de repository (of onder out/, dat git negeert)")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SystemExit(f"{out} bestaat en is niet leeg (en is geen eerder gegenereerde set); kies een lege map")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("landing", "mappings", "reference", "cache", "manifest.json"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (out / MARKER).write_text("gegenereerd door bench.generate_national; wordt bij een nieuwe generatie gewist\n")


def _mapping_yaml(corporatie: Corporatie) -> str:
    lines = [
        f"# {corporatie.naam}: generated for the national benchmark (bench/generate_national.py);",
        "# template layout: contract names as headers, ';', decimal comma, dd-mm-jjjj, ja/nee.",
        f"corporatie: {corporatie.naam}",
        f"slug: {corporatie.slug}",
        "bestand:",
        "  formaat: csv",
        '  scheidingsteken: ";"',
        '  decimaal: ","',
        "  duizendtal: null",
        "kolommen:",
        *(f"  {column}: {column}" for column in BEZIT_COLUMNS),
    ]
    return "\n".join(lines) + "\n"


def generate(out: Path, *, scale: float = 1.0, gemeenten: int = GEMEENTEN, workers: int = 2,
             progress: bool = False) -> dict[str, object]:
    """Write the data set under `out`; returns the manifest."""
    if not 0 < scale <= MAX_SCALE:
        raise SystemExit(f"--scale moet tussen 0 en {MAX_SCALE} liggen")
    if not 1 <= gemeenten <= GEMEENTEN:
        raise SystemExit(f"--gemeenten moet tussen 1 en {GEMEENTEN} liggen")
    _prepare_output(out)
    geo = _geography()
    landing = out / "landing"
    for folder in ("ep_online", "bezit", "woonservice", "leefbaarometer", "planlijst"):
        (landing / folder).mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    ep = ZipMember(landing / "ep_online" / f"{EP_NAME}.zip", f"{EP_NAME}.csv")
    ep.write(_ep_preamble(EP_PUBLICATIEDATUM, EP_MUTATIEVOLGNUMMER))
    mutation_parts: list[bytes] = []
    lbm_handles = {
        level: (landing / "leefbaarometer" / f"Leefbaarometer-scores {level} 2002-2024.csv").open("wb")
        for level in LEEFBAAROMETER_HEADERS
    }
    for level, handle in lbm_handles.items():
        handle.write(header_line((*LEEFBAAROMETER_HEADERS[level], "jaar", "lbm", "afw", *sample.DIMENSIONS), ","))
    woonservice: dict[tuple[str, int], BinaryIO] = {}
    stock_files: set[tuple[int, int]] = set()
    started = time.perf_counter()
    try:
        for output in _outputs(scale, gemeenten, workers):
            gemeente = geo.gemeenten[output.index]
            ep.write(output.ep[0])
            _count(counts, "ep_online/v", output.ep[1])
            mutation_parts.append(output.mutations[0])
            _count(counts, "ep_online/d", output.mutations[1])
            for (c, year), (body, rows) in sorted(output.bezit.items()):
                corporatie = geo.corporaties[c]
                path = landing / "bezit" / corporatie.slug / f"bezitslijst_{corporatie.slug}_{year}-12-31.csv"
                if (c, year) not in stock_files:
                    path.parent.mkdir(exist_ok=True)
                    path.write_bytes(header_line(BEZIT_COLUMNS, ";"))
                    stock_files.add((c, year))
                with path.open("ab") as handle:
                    handle.write(body)
                _count(counts, f"bezit/{corporatie.slug}/{path.name}", rows)
            for name, parts in (("toewijzingen", output.toewijzingen), ("woningzoekenden", output.woningzoekenden)):
                for year, (body, rows) in parts.items():
                    if (name, year) not in woonservice:
                        columns = TOEWIJZINGEN_COLUMNS if name == "toewijzingen" else WONINGZOEKENDEN_COLUMNS
                        woonservice[(name, year)] = (landing / "woonservice" / f"{name}_{year}.csv").open("wb")
                        woonservice[(name, year)].write(header_line(columns, ";"))
                    woonservice[(name, year)].write(body)
                    _count(counts, f"woonservice/{name}_{year}.csv", rows)
            for level, (body, rows) in output.leefbaarometer.items():
                lbm_handles[level].write(body)
                _count(counts, f"leefbaarometer/Leefbaarometer-scores {level} 2002-2024.csv", rows)
            plan = landing / "planlijst" / f"planlijst_{gemeente.code}_{PLANLIJST_PEILDATUM}.csv"
            plan.write_bytes(output.planlijst[0])
            _count(counts, f"planlijst/{plan.name}", output.planlijst[1])
            _count(counts, "vhe_in_exploitatie_2025", output.corporation_units)
            if progress and (output.index % 25 == 0 or output.index == gemeenten - 1):
                print(f"  gemeente {output.index + 1}/{gemeenten} ({gemeente.code}) "
                      f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        ep.close()
        for handle in lbm_handles.values():
            handle.close()
        for writer in woonservice.values():
            writer.close()
    for path in (landing / "woonservice").glob("*.csv"):
        if counts.get(f"woonservice/{path.name}", 0) == 0:
            path.unlink()  # the readers refuse a file without rows
    mutation = ZipMember(landing / "ep_online" / f"{MUTATION_NAME}.zip", f"{MUTATION_NAME}.csv")
    mutation.write(_ep_preamble(MUTATION_DAY, EP_MUTATIEVOLGNUMMER + 1_850))
    for part in mutation_parts:
        mutation.write(part)
    mutation.close()

    used = sorted({c for c, _ in stock_files})
    (out / "mappings" / "bezit").mkdir(parents=True, exist_ok=True)
    for c in used:
        corporatie = geo.corporaties[c]
        (out / "mappings" / "bezit" / f"{corporatie.slug}.yaml").write_text(_mapping_yaml(corporatie), encoding="utf-8")
    reference = out / "reference"
    reference.mkdir(exist_ok=True)
    for name in ("huurgrenzen", "inkomensgrenzen", "inkomensklassen", "leefbaarometer_klassen"):
        shutil.copyfile(PROJECT_ROOT / "reference" / f"{name}.csv", reference / f"{name}.csv")
    (reference / "gemeenten.csv").write_text(
        "gemeente_code,gemeente_naam\n" + "".join(f"{g.code},{g.naam}\n" for g in geo.gemeenten), encoding="utf-8")
    (reference / "corporaties.csv").write_text(
        "slug,corporatie\n" + "".join(f"{geo.corporaties[c].slug},{geo.corporaties[c].naam}\n" for c in used),
        encoding="utf-8")
    manifest: dict[str, object] = {
        "generator": "bench.generate_national",
        "format_version": FORMAT_VERSION,
        "seed": SEED,
        "scale": scale,
        "gemeenten": gemeenten,
        "gemeente_codes": [g.code for g in geo.gemeenten[:gemeenten]],
        "corporaties": len(used),
        "ep_online_total": f"landing/ep_online/{EP_NAME}.zip",
        "ep_online_mutation": f"landing/ep_online/{MUTATION_NAME}.zip",
        "stock_peildatum": f"{YEARS[-1]}-12-31",
        "rows": dict(sorted(counts.items())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _count(counts: dict[str, int], key: str, rows: int) -> None:
    counts[key] = counts.get(key, 0) + rows


def _outputs(scale: float, gemeenten: int, workers: int) -> Iterator[GemeenteOutput]:
    """Per gemeente, in order; the work is spread over `workers` processes, a few gemeenten ahead."""
    if workers <= 1:
        for index in range(gemeenten):
            yield generate_gemeente(index, scale)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[GemeenteOutput]] = deque()
        for index in range(gemeenten):
            pending.append(pool.submit(generate_gemeente, index, scale))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="map voor de set (buiten de repository)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = landelijk; 0.001 = een duizendste")
    parser.add_argument("--gemeenten", type=int, default=GEMEENTEN, help="alleen de eerste N gemeenten (op code)")
    parser.add_argument("--workers", type=int, default=2, help="processen (standaard 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate(args.out, scale=args.scale, gemeenten=args.gemeenten, workers=args.workers, progress=True)
    rows = manifest["rows"]
    assert isinstance(rows, dict)
    print(f"{args.out}: {manifest['gemeenten']} gemeenten, {manifest['corporaties']} corporaties, "
          f"{rows.get('ep_online/v', 0):,} EP-online-certificaten, "
          f"{rows.get('vhe_in_exploitatie_2025', 0):,} VHE's in exploitatie op 31-12-2025, "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
