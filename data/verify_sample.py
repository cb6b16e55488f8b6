"""Read the generated sample landing folder back and check it against the contracts.

Run: `python -m data.verify_sample` after `python -m data.generate_sample`. Independent of the
generator: it knows only docs/data-contracts.md, DESIGN.md, mappings/bezit/*.yaml and the reference
tables. Prints the statistics that describe the simulated world and exits non-zero when a check fails.

Three regions: Zuid-Kennemerland (Haarlem GM0392, Heemstede GM0397; Elan Wonen, Pré Wonen, Ymere;
peildata 2021-2025), Harderwijk (GM0243; Uwoon, Omnia Wonen; 2020-2024) and Alphen aan den Rijn
(GM0484; Woonforte, Habeko Wonen; 2015-2020).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
LANDING = ROOT / "data" / "sample" / "landing"
STOCK_YEARS = {
    "elan_wonen": (2021, 2022, 2023, 2024, 2025), "pre_wonen": (2021, 2022, 2023, 2024, 2025),
    "ymere": (2021, 2022, 2023, 2024, 2025),
    "uwoon": (2020, 2021, 2022, 2023, 2024), "omnia_wonen": (2020, 2021, 2022, 2023, 2024),
    "woonforte": (2015, 2016, 2017, 2018, 2019, 2020), "habeko_wonen": (2015, 2016, 2017, 2018, 2019, 2020),
}
STOCK_GEMEENTEN = {"elan_wonen": {"GM0392", "GM0397"}, "pre_wonen": {"GM0392", "GM0397"}, "ymere": {"GM0392"},
                   "uwoon": {"GM0243"}, "omnia_wonen": {"GM0243"}, "woonforte": {"GM0484"},
                   "habeko_wonen": {"GM0484"}}
KNOWN_DRIFT = {"uwoon": {"Clusternaam"}, "woonforte": {"BUKRS"}}  # extra columns the mappings document
CBS_PREFIX = {"GM0243": "0243", "GM0484": "0484", "GM0392": "0392", "GM0397": "0397"}
POSTCODE_PC4 = {"GM0243": range(3840, 3850), "GM0484": (*range(2400, 2410), *range(2770, 2780), 2391, 2394, 2396,
                                                        2451, 2471, 2735)}
ALPHEN_KERNEN = {"Aarlanderveen", "Alphen aan den Rijn", "Benthuizen", "Boskoop", "Hazerswoude-Dorp",
                 "Hazerswoude-Rijndijk", "Koudekerk aan den Rijn", "Zwammerdam"}
EP_COLUMNS_COUNT = 38
NTA_UPPER = (("A++++", 0), ("A+++", 50), ("A++", 75), ("A+", 105), ("A", 160), ("B", 190), ("C", 250),
             ("D", 290), ("E", 335), ("F", 380), ("G", float("inf")))
LABELS = {"A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G"}
LIBERALISATIEGRENS = {2015: 710.68, 2016: 710.68, 2017: 710.68, 2018: 710.68, 2019: 720.42, 2020: 737.14,
                      2021: 752.33, 2022: 763.47, 2023: 808.06, 2024: 879.66, 2025: 900.07}
TRUE_WORDS = {"ja", "j", "yes", "y", "true", "waar", "1", "x", "wel"}
FALSE_WORDS = {"nee", "n", "no", "false", "onwaar", "0", "niet", ""}
CODES = {
    "eenheidsoort": {"WOO", "BOG", "MOG", "PP", "ZOG"}, "woningtype": {"EGW", "MGW"},
    "uit_exploitatie_reden": {"verkoop", "sloop", "liberalisatie", "samenvoeging", "overig"},
    "herkomst": {"bestaand", "nieuwbouw", "aankoop", "splitsing", "transformatie"}, "energielabel": LABELS,
}
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y")
HOUSE = re.compile(r"^\s*(\d+)\s*[-/ ]?\s*([A-Za-z](?![A-Za-z]))?\s*[-/ ]?\s*(.*?)\s*$")
ADRES = re.compile(r"^\s*(?P<straat>\S*[^\W\d_][^\s]*(?:\s+\D\S*)*?)\s+(?P<huis>\d.*?)\s*$")
FAILURES: list[str] = []


def check(condition: bool, message: str) -> None:
    print(("  ok   " if condition else "  FAIL ") + message)
    if not condition:
        FAILURES.append(message)


def nl_float(series: pd.Series) -> pd.Series:
    text = series.where(series != "", None).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text)


# -- stock lists -------------------------------------------------------------------------------------

def load_mapping(slug: str) -> dict:
    return yaml.safe_load((ROOT / "mappings" / "bezit" / f"{slug}.yaml").read_text(encoding="utf-8"))


def read_raw(path: Path, fmt: dict) -> pd.DataFrame:
    header_row = int(fmt.get("kopregel", 1))
    if fmt["formaat"] == "xlsx":
        return pd.read_excel(path, sheet_name=fmt.get("werkblad", 0), header=header_row - 1, dtype=object)
    raw_bytes = path.read_bytes()
    if raw_bytes.startswith(b"\xef\xbb\xbf"):
        text = raw_bytes.decode("utf-8-sig")
    else:
        try:
            text = raw_bytes.decode("utf-8")
        except UnicodeDecodeError:
            text = raw_bytes.decode("cp1252")
    raw = pd.read_csv(io.StringIO(text), sep=fmt["scheidingsteken"], dtype=str, keep_default_na=False,
                      skiprows=header_row - 1)
    stray = [c for c in raw.columns if str(c).startswith("Unnamed") and (raw[c] == "").all()]
    return raw.drop(columns=stray)  # a separator at the end of every line


def text_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def apply_values(series: pd.Series, values: dict) -> pd.Series:
    """The mapping's value map, matched case-insensitively; '' maps an empty cell."""
    lookup = {re.sub(r"\s+", " ", str(k).strip()).casefold(): v for k, v in values.items()}

    def one(cell: object) -> object:
        key = re.sub(r"\s+", " ", text_cell(cell)).casefold()
        if key in lookup:
            return lookup[key]
        return cell if text_cell(cell) != "" else None
    return series.map(one)


def read_stock_list(slug: str, year: int) -> pd.DataFrame:
    mapping = load_mapping(slug)
    fmt = mapping["bestand"]
    path = LANDING / "bezit" / slug / f"bezitslijst_{slug}_{year}-12-31.{fmt['formaat']}"
    raw = read_raw(path, fmt)
    columns: dict[str, str] = {}
    for contract, headers in mapping["kolommen"].items():
        options = headers if isinstance(headers, list) else [headers]
        found = [h for h in options if h in raw.columns]
        check(len(found) == 1, f"{path.name}: header {options} present once")
        if found:
            columns[contract] = found[0]
            if found[0] != options[0]:
                print(f"       {path.name}: {contract} under the older header {found[0]!r} (drift 'renamed')")
    extra = set(raw.columns) - set(columns.values())
    check(extra <= KNOWN_DRIFT.get(slug, set()), f"{path.name}: extra columns {sorted(extra)} are known drift")
    frame = raw.rename(columns={v: k for k, v in columns.items()})[list(columns)]
    for column, values in (mapping.get("waarden") or {}).items():
        frame[column] = apply_values(frame[column], values)
    for column, valid in CODES.items():
        present = {text_cell(v) for v in frame[column] if text_cell(v) != ""}
        check(present <= valid, f"{path.name}: {column} codes valid after mapping ({sorted(present)[:8]})")
    for column in ("daeb", "monument", "vve", "sloop_renovatie_gepland"):
        present = {text_cell(v).lower() for v in frame[column]}
        check(present <= TRUE_WORDS | FALSE_WORDS, f"{path.name}: {column} is a yes/no value ({sorted(present)})")
    return normalise_stock(frame, slug, fmt)


def parse_numbers(series: pd.Series, fmt: dict) -> pd.Series:
    decimal = fmt.get("decimaal", ",")
    thousands = fmt.get("duizendtal", "." if decimal == "," else None)

    def one(cell: object) -> float:
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            return float(cell)
        text = text_cell(cell).replace("€", "").strip()
        if text == "":
            return np.nan
        if thousands:
            text = text.replace(thousands, "")
        return float(text.replace(decimal, "."))
    return series.map(one).astype("float64")


def parse_dates(series: pd.Series) -> pd.Series:
    if any(isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year") for v in series.dropna()):
        return pd.to_datetime(series)
    text = series.map(text_cell).replace("", None)
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().sum() == text.notna().sum():
            return parsed
    raise ValueError(f"dates in no known format: {text.dropna().head(3).tolist()}")


def house_parts(text: pd.Series) -> pd.DataFrame:
    parts = text.map(text_cell).str.extract(HOUSE)
    return pd.DataFrame({"nr": parts[0].fillna(""), "letter": parts[1].fillna("").str.upper(),
                         "toev": parts[2].fillna("").str.upper()})


def cbs(series: pd.Series, prefix: str, digits: int) -> pd.Series:
    text = series.map(text_cell).str.upper()
    bare = text.str.fullmatch(rf"\d{{1,{digits}}}")
    return text.where(~bare, prefix + text.str.zfill(digits)).replace("", None)


def normalise_stock(frame: pd.DataFrame, slug: str, fmt: dict) -> pd.DataFrame:
    out = pd.DataFrame({"vhe_id": frame["vhe_id"].map(text_cell), "corp": slug})
    out["bag_raw"] = frame["bag_vbo_id"].map(text_cell)
    out["bag"] = out["bag_raw"].where(out["bag_raw"] == "", out["bag_raw"].str.zfill(16))

    def flag(column: str) -> pd.Series:
        return frame[column].map(lambda v: text_cell(v).lower() in TRUE_WORDS)

    out["eenheidsoort"] = frame["eenheidsoort"].map(text_cell)
    out["woningtype"] = frame["woningtype"].map(text_cell).replace("", None)
    out["gemeente"] = cbs(frame["gemeente_code"], "GM", 4)
    out["wijk"] = cbs(frame["wijk_code"], "WK", 6)
    out["buurt"] = cbs(frame["buurt_code"], "BU", 8)
    out["rent"] = parse_numbers(frame["netto_kale_huur"], fmt)
    out["rent_as_text"] = frame["netto_kale_huur"].map(lambda v: isinstance(v, str)) if fmt["formaat"] == "xlsx" \
        else False
    out["daeb"] = flag("daeb")
    out["monument"] = flag("monument")
    out["vve"] = flag("vve")
    out["gepland"] = flag("sloop_renovatie_gepland")
    out["label"] = frame["energielabel"].map(text_cell).replace("", None)
    out["in"] = parse_dates(frame["in_exploitatie_datum"])
    out["uit"] = parse_dates(frame["uit_exploitatie_datum"])
    out["reden"] = frame["uit_exploitatie_reden"].map(text_cell).replace("", None)
    out["herkomst"] = frame["herkomst"].map(text_cell)
    out["bouwjaar"] = parse_numbers(frame["bouwjaar"], fmt)
    if "zonnepanelen_kwp" in frame:
        out["kwp"] = parse_numbers(frame["zonnepanelen_kwp"], fmt).fillna(0)
    else:
        panels = parse_numbers(frame["zonnepanelen_aantal"], fmt).fillna(0)
        out["kwp"] = panels * parse_numbers(frame["zonnepanelen_wp"], fmt).fillna(0) / 1000
    postcode = frame["postcode"].map(text_cell).str.replace(" ", "").str.upper()
    if "adres_volledig" in frame:
        house = house_parts(frame["adres_volledig"].map(text_cell).str.extract(ADRES)["huis"])
    elif "huisnummer_volledig" in frame:
        house = house_parts(frame["huisnummer_volledig"])
    else:
        house = pd.DataFrame({"nr": frame["huisnummer"].map(text_cell),
                              "letter": frame["huisletter"].map(text_cell).str.upper(),
                              "toev": frame["huisnummertoevoeging"].map(text_cell).str.upper()})
    out["postcode"] = postcode
    out["adres"] = postcode + "|" + house["nr"] + "|" + house["letter"] + "|" + house["toev"]
    out["huisnummer_ok"] = house["nr"] != ""
    return out


def verify_stock() -> dict[tuple[str, int], pd.DataFrame]:
    print("Stock lists")
    for slug, years in STOCK_YEARS.items():
        found = sorted(int(p.stem.rsplit("_", 1)[1][:4]) for p in (LANDING / "bezit" / slug).glob("bezitslijst_*"))
        check(tuple(found) == years, f"{slug}: one list per peildatum 31-12 of {years[0]}-{years[-1]}")
    lists = {(slug, y): read_stock_list(slug, y) for slug, years in STOCK_YEARS.items() for y in years}
    for (slug, year), frame in lists.items():
        peil = pd.Timestamp(year, 12, 31)
        start = pd.Timestamp(year - 1, 12, 31)
        check(frame["vhe_id"].is_unique, f"{slug} {year}: vhe ids unique")
        bag = frame.loc[frame["bag"] != "", "bag"]
        check(bag.is_unique and bool(bag.str.fullmatch(r"\d{16}").all()), f"{slug} {year}: BAG ids unique, 16 digits")
        check(frame["adres"].is_unique and bool(frame["huisnummer_ok"].all()),
              f"{slug} {year}: addresses parse and are unique")
        check(set(frame["gemeente"]) <= STOCK_GEMEENTEN[slug], f"{slug} {year}: gemeenten {sorted(set(frame['gemeente']))}")
        codes_ok = (frame["buurt"].str[2:6] == frame["gemeente"].str[2:6]) | frame["buurt"].isna()
        in_wijk = (frame["buurt"].str[2:8] == frame["wijk"].str[2:8]) | frame["buurt"].isna()
        check(bool(codes_ok.all() and in_wijk.all()), f"{slug} {year}: buurt codes within the gemeente and their wijk")
        for gemeente, pc4s in POSTCODE_PC4.items():
            if gemeente in STOCK_GEMEENTEN[slug]:
                pc4 = frame["postcode"].str[:4].astype(int)
                check(bool(pc4.isin(list(pc4s)).all()), f"{slug} {year}: postcodes in the gemeente's PC4 range")
        for gemeente, prefix in CBS_PREFIX.items():
            if gemeente in STOCK_GEMEENTEN[slug] and slug not in ("elan_wonen", "pre_wonen", "ymere"):
                check(bool(bag.str.startswith(prefix).all()), f"{slug} {year}: BAG ids start with {prefix}")
        left = frame["uit"].notna()
        check(bool(((frame.loc[left, "uit"] > start) & (frame.loc[left, "uit"] <= peil)).all()),
              f"{slug} {year}: every uit date falls in the year before the peildatum")
        check(bool((frame["in"].isna() | (frame["in"] <= peil)).all()), f"{slug} {year}: no unit enters after the peildatum")
        check(bool(frame.loc[left, "reden"].notna().all()), f"{slug} {year}: every leaver has a reason")
        check(bool(frame["bouwjaar"].le(year).all()), f"{slug} {year}: no building year after the peildatum")
        woo = frame[(frame["eenheidsoort"] == "WOO") & ~left]
        quirks = []
        if (frame["bag_raw"].str.len().between(12, 15)).any():
            quirks.append(f"{(frame['bag_raw'].str.len().between(12, 15)).mean():.1%} BAG ids without leading zero")
        if (frame["bag_raw"] == "").any():
            quirks.append(f"{(frame['bag_raw'] == '').mean():.1%} without BAG id")
        if frame["in"].isna().any():
            quirks.append(f"{int(frame['in'].isna().sum())} without in-exploitatie date")
        if bool(np.any(frame["rent_as_text"])):
            quirks.append(f"{int(np.sum(frame['rent_as_text']))} rents typed as text")
        print(f"       {slug} {year}: rows {len(frame)}, in exploitatie {int((~left).sum())}, "
              f"WOO {len(woo)}, PP {(frame['eenheidsoort'] == 'PP').mean():.1%}, "
              f"BOG {(frame['eenheidsoort'] == 'BOG').mean():.1%}, EGW {(woo['woningtype'] == 'EGW').mean():.0%}, "
              f"DAEB {woo['daeb'].mean():.0%}, monument {woo['monument'].mean():.1%}, VvE {woo['vve'].mean():.0%}, "
              f"EFG {woo['label'].isin(['E', 'F', 'G']).mean():.1%}, no label {woo['label'].isna().mean():.1%}, "
              f"PV {(woo['kwp'] > 0).mean():.0%} ({woo['kwp'].sum():.0f} kWp), DAEB rent "
              f"{woo.loc[woo['daeb'], 'rent'].min():.0f}-{woo.loc[woo['daeb'], 'rent'].max():.0f}, niet-DAEB rent "
              f"{woo.loc[~woo['daeb'], 'rent'].median():.0f} (median)" + (f"; {', '.join(quirks)}" if quirks else ""))
    verify_balance(lists)
    return lists


def verify_balance(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("Balance: previous in exploitation + entered - left - silently dropped = in exploitation")
    for slug, years in STOCK_YEARS.items():
        for year in years[1:]:
            prev, cur = lists[(slug, year - 1)], lists[(slug, year)]
            prev_in = set(prev.loc[prev["uit"].isna(), "vhe_id"])
            start = pd.Timestamp(year - 1, 12, 31)
            entered = set(cur.loc[cur["in"] > start, "vhe_id"])
            left = set(cur.loc[cur["uit"].notna(), "vhe_id"])
            silent = prev_in - set(cur["vhe_id"])
            cur_in = set(cur.loc[cur["uit"].isna(), "vhe_id"])
            reasons = cur.loc[cur["uit"].notna(), "reden"].value_counts().to_dict()
            herkomst = cur.loc[cur["in"] > start, "herkomst"].value_counts().to_dict()
            merged = prev.merge(cur, on="vhe_id", suffixes=("_p", "_c"))
            lib = merged["daeb_p"] & ~merged["daeb_c"] & merged["uit_c"].isna()
            lib_above = merged.loc[lib, "rent_c"].min()
            check(bool(pd.isna(lib_above) or lib_above > LIBERALISATIEGRENS[year]),
                  f"{slug} {year}: liberalised units rent above the liberalisatiegrens {LIBERALISATIEGRENS[year]}")
            ok = len(prev_in) + len(entered) - len(left) - len(silent) == len(cur_in)
            check(ok and prev_in | entered == cur_in | left | silent,
                  f"{slug} {year}: {len(prev_in)} + {len(entered)} {herkomst} - {len(left)} {reasons} "
                  f"- {len(silent)} silent = {len(cur_in)}; liberalised {int(lib.sum())} (min rent {lib_above})")
            if slug != "ymere":
                check(not silent, f"{slug} {year}: no silent drops")
            flagged_prev = set(prev.loc[prev["gepland"], "vhe_id"])
            sloop = set(cur.loc[cur["reden"] == "sloop", "vhe_id"])
            if sloop:
                print(f"       sloop {year}: {len(sloop & flagged_prev) / len(sloop):.0%} flagged the year before")


# -- EP-online ---------------------------------------------------------------------------------------

def verify_ep_online(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("EP-online")
    path = LANDING / "ep_online" / "v20251101_v4_csv.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        check(names == ["v20251101_v4_csv.csv"], f"zip has one member {names}")
        raw = archive.read(names[0])
    check(raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM")
    lines = raw.decode("utf-8-sig").split("\n")
    check(lines[0] == "PublicatieDatum;01-11-2025", f"preamble 1: {lines[0]!r}")
    check(lines[1] == "LaatstVerwerkteMutatievolgnummer;19345219", f"preamble 2: {lines[1]!r}")
    check(b"\r\n" not in raw, "LF line endings")
    ep = pd.read_csv(io.BytesIO(raw), sep=";", skiprows=2, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    check(len(ep.columns) == EP_COLUMNS_COUNT, f"{len(ep.columns)} columns")
    reg = pd.to_datetime(ep["Registratiedatum"], format="%Y%m%d")
    geldig = pd.to_datetime(ep["GeldigTot"], format="%Y%m%d")
    check(bool((reg <= "2025-10-31").all()), "Registratiedatum <= 2025-10-31")
    check(bool(((geldig.dt.year - reg.dt.year) == 10).all()), "GeldigTot = Registratiedatum + 10 years")
    bag = ep["BAGVerblijfsobjectID"]
    check(bool(bag[bag != ""].str.fullmatch(r"\d{16}").all()), "BAG ids are 16 digits")
    nta = ep["Berekeningstype"].str.startswith("NTA")
    dwelling = ep["Gebouwklasse"] == "W"
    pfe = nl_float(ep["PrimaireFossieleEnergie"])
    expected = pfe.map(lambda v: next(lbl for lbl, upper in NTA_UPPER if v <= upper) if pd.notna(v) else None)
    check(bool((expected[nta & dwelling] == ep.loc[nta & dwelling, "Energieklasse"]).all()),
          "NTA 8800 dwelling classes follow PrimaireFossieleEnergie")
    check(bool((ep.loc[nta, "EnergieIndex"] == "").all() and (ep.loc[~nta, "PrimaireFossieleEnergie"] == "").all()),
          "EnergieIndex only pre-2021, PrimaireFossieleEnergie only NTA 8800")
    check(bool((ep.loc[~nta, "EnergieIndex"] != "").all()), "every pre-2021 label has an EnergieIndex")
    check(bool((reg[nta] >= "2021-01-01").all() and (reg[~nta] < "2021-01-01").all()), "regime follows the date")
    stock_bag = set().union(*(set(f["bag"]) for f in lists.values())) - {""}
    in_stock = bag.isin(stock_bag)
    same_day = ep[in_stock].groupby(["BAGVerblijfsobjectID", "Registratiedatum"]).size()
    print(f"       rows {len(ep)}: W {dwelling.sum()}, U {(~dwelling).sum()}, stock rows {in_stock.sum()}, "
          f"noise {(~in_stock & dwelling).sum()}, empty BAG {(bag == '').sum()}, NTA {nta.sum()}, "
          f"same-day pairs {(same_day > 1).sum()}, expired before 2025 {(geldig < '2025-01-01').sum()}")
    print(f"       gemeente prefixes {bag.str[:4].value_counts().to_dict()}")
    print(f"       classes {ep.loc[dwelling, 'Energieklasse'].value_counts().to_dict()}")
    certs = pd.DataFrame({"bag": bag, "reg": reg, "geldig": geldig, "klasse": ep["Energieklasse"],
                          "ei": nl_float(ep["EnergieIndex"])})[dwelling & (bag != "")]
    regions = {"Zuid-Kennemerland": ("elan_wonen", "pre_wonen", "ymere"), "Harderwijk": ("uwoon", "omnia_wonen"),
               "Alphen aan den Rijn": ("woonforte", "habeko_wonen")}
    for region, slugs in regions.items():
        years = STOCK_YEARS[slugs[0]]
        last = pd.concat([lists[(s, years[-1])] for s in slugs])
        last = last[(last["eenheidsoort"] == "WOO") & last["uit"].isna() & (last["bag"] != "")]
        covered = last["bag"].isin(set(bag))
        print(f"       {region}: WOO in exploitation 31-12-{years[-1]} with a certificate by BAG id {covered.mean():.1%}")
        index_by_year = {}
        for year in years:
            peil = pd.Timestamp(year, 12, 31)
            valid = certs[(certs["reg"] <= peil) & (certs["geldig"] >= peil)].sort_values("reg").groupby("bag").last()
            woo = pd.concat([lists[(s, year)] for s in slugs])
            woo = woo[(woo["eenheidsoort"] == "WOO") & woo["uit"].isna()].copy()
            woo["ep"] = woo["bag"].map(valid["klasse"])
            woo["ei"] = woo["bag"].map(valid["ei"])
            efg = woo["ep"].isin(["E", "F", "G"])
            mismatch = (woo["ep"].notna() & woo["label"].notna() & (woo["ep"] != woo["label"])).mean()
            index = f", average EnergieIndex {woo['ei'].mean():.3f} ({woo['ei'].notna().mean():.0%} with one)" \
                if woo["ei"].notna().mean() > 0.5 else ""
            index_by_year[year] = woo["ei"].mean()
            print(f"       31-12-{year}: EP label E/F/G {efg.mean():.1%} ({efg.sum()}, of which monument "
                  f"{(efg & woo['monument']).sum()}), no valid EP label {woo['ep'].isna().mean():.1%}, "
                  f"stock-list label differs from EP {mismatch:.1%}{index}")
        if region == "Alphen aan den Rijn":
            check(index_by_year[2015] > index_by_year[2018] > index_by_year[2020],
                  "Alphen: average EnergieIndex falls 2015 -> 2018 -> 2020")
            check(1.15 <= index_by_year[2020] <= 1.35, f"Alphen: average EnergieIndex 2020 near the 1.25 target "
                  f"({index_by_year[2020]:.3f})")


# -- Leefbaarometer ----------------------------------------------------------------------------------

def verify_leefbaarometer(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("Leefbaarometer")
    frames = {}
    for level, key in (("buurten", "bu"), ("wijken", "wk"), ("gemeenten", "gm")):
        path = LANDING / "leefbaarometer" / f"Leefbaarometer-scores {level} 2002-2024.csv"
        frame = pd.read_csv(path, dtype={f"{key}_code": str})
        check(list(frame.columns) == [f"{key}_code", f"{key}_naam", "jaar", "lbm", "afw", "won", "fys", "vrz",
                                      "soc", "onv"], f"{level}: header")
        parts = frame[["won", "fys", "vrz", "soc", "onv"]].sum(axis=1).round(4)
        check(bool((parts == frame["afw"].round(4)).all()), f"{level}: dimensions add up to afw")
        check(bool(((frame["lbm"] - frame["afw"]).round(4) == 4.1).all()), f"{level}: afw = lbm - 4.1")
        frame["code"] = frame[f"{key}_code"].str.strip()
        check(not frame.duplicated(["code", "jaar"]).any(), f"{level}: one row per area and year")
        padded = (frame[f"{key}_code"] != frame["code"]).sum()
        print(f"       {level}: rows {len(frame)}, years {sorted(frame['jaar'].unique())}, lbm "
              f"{frame['lbm'].min():.3f}-{frame['lbm'].max():.3f}, codes with trailing spaces {padded}")
        frames[level] = frame
    years = set(frames["buurten"]["jaar"])
    for level, column in (("buurten", "buurt"), ("wijken", "wijk"), ("gemeenten", "gemeente")):
        codes = set().union(*(set(f[column].dropna()) for f in lists.values()))
        scored = frames[level].groupby("code")["jaar"].apply(set)
        missing = sorted(c for c in codes if scored.get(c, set()) != years)
        check(not missing, f"{level}: every {column} of the stock lists has a score in every year {missing[:5]}")
    bounds = pd.read_csv(ROOT / "reference" / "leefbaarometer_klassen.csv")
    voldoende = float(bounds.loc[bounds["naam"] == "Voldoende", "afw_ondergrens"].iloc[0])
    wijken = frames["wijken"]
    for gemeente in ("GM0392", "GM0397", "GM0243", "GM0484"):
        own = wijken[wijken["code"].str.startswith("WK" + gemeente[2:])]
        below = own[own["afw"] < voldoende].groupby("jaar")["code"].apply(list).to_dict()
        print(f"       {gemeente}: {own['code'].nunique()} wijken, below 'voldoende' per year {below}")
    alphen = wijken[wijken["code"].str.startswith("WK0484") & (wijken["jaar"] == 2020)]
    below_2020 = int((alphen["afw"] < voldoende).sum())
    check(1 <= below_2020 <= 2, f"Alphen: {below_2020} wijk(en) below 'voldoende' in 2020")


# -- Woonservice -------------------------------------------------------------------------------------

def verify_woonservice(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("Woonservice")
    folder = LANDING / "woonservice"
    names = {slug: load_mapping(slug)["corporatie"] for slug in STOCK_YEARS}
    stock = pd.concat([lists[k].assign(jaar=k[1], corporatie=names[k[0]]) for k in lists])
    letting_ids: dict[str, set[str]] = {}
    seeker_ids: dict[str, set[str]] = {}
    files = sorted(folder.glob("toewijzingen_*.csv"))
    check(len(files) == 3, f"three lettings files {[p.name for p in files]}")
    for lettings_path in files:
        seekers_path = folder / lettings_path.name.replace("toewijzingen_", "woningzoekenden_")
        check(seekers_path.exists(), f"{seekers_path.name} next to {lettings_path.name}")
        tw = pd.read_csv(lettings_path, sep=";", dtype=str, keep_default_na=False)
        wz = pd.read_csv(seekers_path, sep=";", dtype=str, keep_default_na=False)
        verify_woonservice_pair(lettings_path.name, tw, wz, stock)
        letting_ids[lettings_path.name] = set(tw["toewijzing_id"])
        seeker_ids[seekers_path.name] = set(wz["woningzoekende_id"])
    for ids, what in ((letting_ids, "toewijzing_id"), (seeker_ids, "woningzoekende_id")):
        total = sum(len(v) for v in ids.values())
        check(len(set().union(*ids.values())) == total, f"{what} values never collide between files")


def verify_woonservice_pair(name: str, tw: pd.DataFrame, wz: pd.DataFrame, stock: pd.DataFrame) -> None:
    print(f"    {name}")
    tw["datum"] = pd.to_datetime(tw["toewijzingsdatum"], format="%d-%m-%Y")
    tw["jaar"] = tw["datum"].dt.year
    tw["huur"] = nl_float(tw["netto_kale_huur"])
    wz["begin"] = pd.to_datetime(wz["periode_begin"], format="%d-%m-%Y")
    wz["einde"] = pd.to_datetime(wz["periode_einde"], format="%d-%m-%Y")
    gemeenten = sorted(tw["gemeente_code"].unique())
    check(tw["toewijzing_id"].is_unique, "letting ids unique")
    check(bool((tw["datum"] >= wz["begin"].min()).all() and (tw["datum"] <= wz["einde"].max()).all()),
          f"letting dates within the seekers' periods {wz['begin'].min():%d-%m-%Y} .. {wz['einde'].max():%d-%m-%Y}")
    joined = tw.merge(stock, on=["corporatie", "vhe_id", "jaar"], how="left")
    check(bool(joined["eenheidsoort"].eq("WOO").all()), "every letting is a WOO unit in that year's stock list")
    check(bool(joined["daeb"].all()), "every let unit is DAEB in that year's list")
    check(bool((joined["huur"] - joined["rent"]).abs().max() < 0.005), "letting rent equals the stock-list rent")
    check(bool((joined["buurt_code"] == joined["buurt"]).all()), "letting buurt equals the stock-list buurt")
    check(bool((joined["gemeente_code"] == joined["gemeente"]).all()), "letting gemeente equals the stock-list gemeente")
    bag_match = (joined["bag"] == "") | (joined["bag"] == joined["bag_vbo_id"])
    check(bool(bag_match.all()), "letting BAG id equals the stock list's (where it has one)")
    check(bool((tw["kern"] != "").all()), f"every letting has a kern {sorted(tw['kern'].unique())}")
    if "GM0484" in gemeenten:
        check(set(tw["kern"]) <= ALPHEN_KERNEN, "Alphen: lettings' kern is one of the eight kernen")
        own = wz[wz["woongemeente_code"] == "GM0484"]
        check(set(own["woonkern"]) <= ALPHEN_KERNEN, "Alphen: seekers' woonkern is one of the eight kernen")
    check(bool((wz["woonkern"] != "").all()), "every seeker has a woonkern")
    per_year = tw.groupby(["jaar", "gemeente_code"]).size().unstack()
    print(f"       lettings per year: {per_year.to_dict()}")
    print("       publicatiemodel", tw["publicatiemodel"].value_counts(normalize=True).round(3).to_dict())
    print("       voorrang", tw["voorrang"].value_counts(normalize=True).round(3).to_dict(),
          "detail", tw["voorrang_detail"].value_counts().to_dict())
    print("       passendheid", tw["passendheid"].value_counts(normalize=True).round(3).to_dict(),
          "doorstromer", tw["doorstromer"].value_counts(normalize=True).round(3).to_dict())
    inkomen = pd.to_numeric(tw["huishoudinkomen"])
    print(f"       income {inkomen.min()}-{inkomen.max()} (median {inkomen.median()}), woongemeente same "
          f"{(tw['woongemeente_code'] == tw['gemeente_code']).mean():.0%}; kamers "
          f"{tw['kamers'].value_counts().sort_index().to_dict()}")
    aan = tw[tw["publicatiemodel"] == "AAN"]
    duur = (aan["datum"] - pd.to_datetime(aan["inschrijfdatum"], format="%d-%m-%Y")).dt.days / 365.25
    reacties = pd.to_numeric(tw["aantal_reacties"].replace("", None))
    print(f"       AAN median inschrijfduur {duur.median():.1f} yr; reacties {reacties.min():.0f}-{reacties.max():.0f} "
          f"(median {reacties.median():.0f})")
    wz["periode"] = wz["begin"].dt.year
    wz["reacties"] = pd.to_numeric(wz["aantal_reacties"])
    check(bool((wz["aantal_reacties_woongemeente"] != "").all()), "aantal_reacties_woongemeente filled")
    wz["eigen"] = pd.to_numeric(wz["aantal_reacties_woongemeente"])
    check(bool((wz["eigen"] <= wz["reacties"]).all()), "reacties in woongemeente <= reacties")
    check(not wz.duplicated(["woningzoekende_id", "periode_begin"]).any(), "one row per seeker per period")
    housed = wz[wz["gehuisvest"] == "ja"]
    linked = tw.merge(housed, left_on=["woningzoekende_id", "jaar"], right_on=["woningzoekende_id", "periode"],
                      how="left")
    check(bool(linked["gehuisvest"].eq("ja").all()), "every letting's seeker is housed in that period")
    check(len(housed) == len(tw), f"housed seekers ({len(housed)}) = lettings ({len(tw)})")
    check(bool((linked["gehuisvest_gemeente_code"] == linked["gemeente_code"]).all()), "housed gemeente = letting's")
    via_expected = np.where(linked["publicatiemodel"] == "DIR", "direct",
                            np.where(linked["voorrang"] == "URG", "urgentie",
                                     np.where(linked["publicatiemodel"] == "LOT", "loting", "aanbod")))
    check(bool((linked["gehuisvest_via"] == via_expected).all()), "gehuisvest_via follows the letting")
    advert = linked["publicatiemodel"] != "DIR"
    check(bool((linked.loc[advert, "reacties"] >= 1).all()), "seekers housed through an advert responded")
    for period, group in wz.groupby("periode"):
        direct_zero = ((group["gehuisvest_via"] == "direct") & (group["reacties"] == 0)).sum()
        local = []
        for gemeente in gemeenten:
            own = group[group["woongemeente_code"] == gemeente]
            responded = own[own["eigen"] >= 1]
            hit = (responded["gehuisvest"] == "ja") & (responded["gehuisvest_gemeente_code"] == gemeente)
            daeb = responded["inkomensklasse"].isin(["primair", "secundair"])
            lokaal = hit.mean() * 100
            local.append(f"{gemeente} lokaal {lokaal:.0f}% (DAEB-doelgroep {hit[daeb].mean() * 100:.0f}%, "
                         f"n={len(responded)})")
            if gemeente == "GM0484":
                check(15 <= lokaal <= 35, f"Alphen {period}: lokaal slaagkans {lokaal:.1f}% plausible (15-35%)")
        print(f"       period {period}: seekers {len(group)}, active {(group['reacties'] > 0).mean():.0%}, "
              f"housed {(group['gehuisvest'] == 'ja').sum()}, direct with 0 reacties {direct_zero}, "
              f"klassen {group['inkomensklasse'].value_counts(normalize=True).round(2).to_dict()}; {'; '.join(local)}")


def main() -> None:
    lists = verify_stock()
    verify_ep_online(lists)
    verify_leefbaarometer(lists)
    verify_woonservice(lists)
    print(f"\n{len(FAILURES)} failed checks" if FAILURES else "\nall checks passed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
