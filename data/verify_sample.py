"""Read the generated sample landing folder back and check it against the contracts.

Run: `python -m data.verify_sample` after `python -m data.generate_sample`. Independent of the
generator: it knows only docs/data-contracts.md, DESIGN.md and mappings/bezit/*.yaml. Prints the
statistics that describe the simulated world and exits non-zero when a check fails.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
LANDING = ROOT / "data" / "sample" / "landing"
YEARS = (2021, 2022, 2023, 2024, 2025)
EP_COLUMNS_COUNT = 38
NTA_UPPER = (("A++++", 0), ("A+++", 50), ("A++", 75), ("A+", 105), ("A", 160), ("B", 190), ("C", 250),
             ("D", 290), ("E", 335), ("F", 380), ("G", float("inf")))
LIBERALISATIEGRENS = {2022: 763.47, 2023: 808.06, 2024: 879.66, 2025: 900.07}
FAILURES: list[str] = []


def check(condition: bool, message: str) -> None:
    print(("  ok   " if condition else "  FAIL ") + message)
    if not condition:
        FAILURES.append(message)


def nl_float(series: pd.Series) -> pd.Series:
    text = series.where(series != "", None).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text)


# -- stock lists -------------------------------------------------------------------------------------

def read_stock_list(slug: str, year: int) -> pd.DataFrame:
    mapping = yaml.safe_load((ROOT / "mappings" / "bezit" / f"{slug}.yaml").read_text(encoding="utf-8"))
    columns = mapping["kolommen"]
    fmt = mapping["bestand"]
    path = LANDING / "bezit" / slug / f"bezitslijst_{slug}_{year}-12-31.{fmt['formaat']}"
    if fmt["formaat"] == "xlsx":
        raw = pd.read_excel(path, dtype=object)
    else:
        raw_bytes = path.read_bytes()
        encoding = "utf-8-sig" if raw_bytes.startswith(b"\xef\xbb\xbf") else "cp1252"
        raw = pd.read_csv(io.BytesIO(raw_bytes), sep=fmt["scheidingsteken"], encoding=encoding, dtype=str,
                          keep_default_na=False)
    expected = set(columns.values())
    check(set(raw.columns) == expected, f"{path.name}: header is exactly the mapping's columns")
    frame = raw.rename(columns={v: k for k, v in columns.items()})
    for column, values in mapping.get("waarden", {}).items():
        present = {str(v) for v in frame[column].dropna() if str(v) != ""}
        unknown = present - {str(k) for k in values}
        check(not unknown, f"{path.name}: {column} codes within mapping ({sorted(present)[:6]})")
        frame[column] = frame[column].map(lambda v, m=values: m.get(v, v) if v not in ("", None) else None)
    frame["_fmt"] = fmt["formaat"]
    frame["_decimal"] = fmt.get("decimaal", ".")
    return normalise_stock(frame, slug)


def normalise_stock(frame: pd.DataFrame, slug: str) -> pd.DataFrame:
    out = pd.DataFrame({"vhe_id": frame["vhe_id"].astype(str), "corp": slug})
    out["bag"] = frame["bag_vbo_id"].fillna("").astype(str)
    decimal = frame["_decimal"].iloc[0]

    def number(column: str) -> pd.Series:
        if frame["_fmt"].iloc[0] == "xlsx":
            return pd.to_numeric(frame[column])
        series = frame[column].astype(str)
        return nl_float(series) if decimal == "," else pd.to_numeric(series.replace("", None))

    def date(column: str) -> pd.Series:
        if frame["_fmt"].iloc[0] == "xlsx":
            return pd.to_datetime(frame[column])
        text = frame[column].replace("", None)
        return pd.to_datetime(text, format="%d-%m-%Y" if decimal == "," else "%Y-%m-%d")

    def flag(column: str) -> pd.Series:
        return frame[column].astype(str).str.lower().isin(["ja", "j", "1", "true"])

    out["eenheidsoort"] = frame["eenheidsoort"]
    out["woningtype"] = frame["woningtype"].replace("", None)
    out["gemeente"] = frame["gemeente_code"]
    out["buurt"] = frame["buurt_code"]
    out["rent"] = number("netto_kale_huur")
    out["daeb"] = flag("daeb")
    out["monument"] = flag("monument")
    out["vve"] = flag("vve")
    out["gepland"] = flag("sloop_renovatie_gepland")
    out["label"] = frame["energielabel"].replace("", None)
    out["in"] = date("in_exploitatie_datum")
    out["uit"] = date("uit_exploitatie_datum")
    out["reden"] = frame["uit_exploitatie_reden"]
    out["herkomst"] = frame["herkomst"]
    if "zonnepanelen_kwp" in frame:
        out["kwp"] = pd.to_numeric(frame["zonnepanelen_kwp"])
    else:
        panels = number("zonnepanelen_aantal").fillna(0)
        out["kwp"] = panels * number("zonnepanelen_wp").fillna(0) / 1000
    if "huisnummer_volledig" in frame:
        out["adres"] = frame["postcode"].astype(str) + "|" + frame["huisnummer_volledig"].astype(str)
    else:
        out["adres"] = (frame["postcode"].astype(str).str.replace(" ", "") + "|" + frame["huisnummer"].astype(str)
                        + frame["huisletter"].astype(str) + "-" + frame["huisnummertoevoeging"].astype(str))
    return out


def verify_stock() -> dict[tuple[str, int], pd.DataFrame]:
    print("Stock lists")
    lists = {(slug, y): read_stock_list(slug, y) for slug in ("elan_wonen", "pre_wonen", "ymere") for y in YEARS}
    for (slug, year), frame in lists.items():
        peil = pd.Timestamp(year, 12, 31)
        start = pd.Timestamp(year - 1, 12, 31)
        check(frame["vhe_id"].is_unique, f"{slug} {year}: vhe ids unique")
        bag = frame.loc[frame["bag"] != "", "bag"]
        check(bag.is_unique, f"{slug} {year}: BAG ids unique")
        check(frame["adres"].is_unique, f"{slug} {year}: addresses unique")
        left = frame["uit"].notna()
        check(bool(((frame.loc[left, "uit"] > start) & (frame.loc[left, "uit"] <= peil)).all()),
              f"{slug} {year}: every uit date falls in the year before the peildatum")
        check(bool((frame["in"] <= peil).all()), f"{slug} {year}: no unit enters after the peildatum")
        check(bool(frame.loc[left, "reden"].notna().all()), f"{slug} {year}: every leaver has a reason")
        woo = frame[(frame["eenheidsoort"] == "WOO") & ~left]
        if slug == "ymere":
            short = (frame["bag"].str.len() == 15).mean()
            missing = (frame["bag"] == "").mean()
            print(f"       ymere {year}: {short:.1%} BAG ids without leading zero, {missing:.1%} without BAG id")
        print(f"       {slug} {year}: rows {len(frame)}, in exploitatie {int((~left).sum())}, "
              f"WOO {len(woo)}, PP {(frame['eenheidsoort'] == 'PP').mean():.1%}, "
              f"BOG {(frame['eenheidsoort'] == 'BOG').mean():.1%}, EGW {(woo['woningtype'] == 'EGW').mean():.0%}, "
              f"DAEB {woo['daeb'].mean():.0%}, monument {woo['monument'].mean():.1%}, VvE {woo['vve'].mean():.0%}, "
              f"EFG {woo['label'].isin(['E', 'F', 'G']).mean():.1%}, no label {woo['label'].isna().mean():.1%}, "
              f"PV {(woo['kwp'] > 0).mean():.0%}, DAEB rent {woo.loc[woo['daeb'], 'rent'].min():.0f}-"
              f"{woo.loc[woo['daeb'], 'rent'].max():.0f}, niet-DAEB rent "
              f"{woo.loc[~woo['daeb'], 'rent'].median():.0f} (median)")
    verify_balance(lists)
    return lists


def verify_balance(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("Balance: previous in exploitation + entered - left - silently dropped = in exploitation")
    for slug in ("elan_wonen", "pre_wonen", "ymere"):
        for year in YEARS[1:]:
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
            liberalised = int((merged["daeb_p"] & ~merged["daeb_c"] & merged["uit_c"].isna()).sum())
            lib_above = merged.loc[merged["daeb_p"] & ~merged["daeb_c"] & merged["uit_c"].isna(), "rent_c"].min()
            check(bool(pd.isna(lib_above) or lib_above > LIBERALISATIEGRENS[year]),
                  f"{slug} {year}: liberalised units rent above the liberalisatiegrens {LIBERALISATIEGRENS[year]}")
            ok = len(prev_in) + len(entered) - len(left) - len(silent) == len(cur_in)
            check(ok and prev_in | entered == cur_in | left | silent,
                  f"{slug} {year}: {len(prev_in)} + {len(entered)} {herkomst} - {len(left)} {reasons} "
                  f"- {len(silent)} silent = {len(cur_in)}; liberalised {liberalised} (min rent {lib_above})")
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
    check(bool((reg[nta] >= "2021-01-01").all() and (reg[~nta] < "2021-01-01").all()), "regime follows the date")
    stock_bag = set().union(*(set(f["bag"].str.zfill(16)) for f in lists.values())) - {"0" * 16}
    in_stock = bag.isin(stock_bag)
    same_day = ep[in_stock].groupby(["BAGVerblijfsobjectID", "Registratiedatum"]).size()
    woo_2025 = pd.concat([lists[(s, 2025)] for s in ("elan_wonen", "pre_wonen", "ymere")])
    woo_2025 = woo_2025[(woo_2025["eenheidsoort"] == "WOO") & woo_2025["uit"].isna() & (woo_2025["bag"] != "")]
    covered = woo_2025["bag"].str.zfill(16).isin(set(bag))
    print(f"       rows {len(ep)}: W {dwelling.sum()}, U {(~dwelling).sum()}, stock rows {in_stock.sum()}, "
          f"noise {(~in_stock & dwelling).sum()}, empty BAG {(bag == '').sum()}, NTA {nta.sum()}, "
          f"same-day pairs {(same_day > 1).sum()}, expired before 2025 {(geldig < '2025-01-01').sum()}")
    print(f"       WOO in exploitation 31-12-2025 with a certificate by BAG id: {covered.mean():.1%}; "
          f"gemeente prefixes {bag.str[:4].value_counts().to_dict()}")
    print(f"       classes {ep.loc[dwelling, 'Energieklasse'].value_counts().to_dict()}")
    certs = pd.DataFrame({"bag": bag, "reg": reg, "geldig": geldig, "klasse": ep["Energieklasse"]})[dwelling & (bag != "")]
    for year in YEARS:
        peil = pd.Timestamp(year, 12, 31)
        valid = certs[(certs["reg"] <= peil) & (certs["geldig"] >= peil)].sort_values("reg").groupby("bag").last()
        woo = pd.concat([lists[(s, year)] for s in ("elan_wonen", "pre_wonen", "ymere")])
        woo = woo[(woo["eenheidsoort"] == "WOO") & woo["uit"].isna()].copy()
        woo["ep"] = woo["bag"].str.zfill(16).map(valid["klasse"])
        efg = woo["ep"].isin(["E", "F", "G"])
        mismatch = (woo["ep"].notna() & woo["label"].notna() & (woo["ep"] != woo["label"])).mean()
        print(f"       31-12-{year}: EP label E/F/G {efg.mean():.1%} ({efg.sum()}, of which monument "
              f"{(efg & woo['monument']).sum()}), no valid EP label {woo['ep'].isna().mean():.1%}, "
              f"stock-list label differs from EP {mismatch:.1%}")


# -- Leefbaarometer ----------------------------------------------------------------------------------

def verify_leefbaarometer() -> None:
    print("Leefbaarometer")
    for level, key in (("buurten", "bu"), ("wijken", "wk"), ("gemeenten", "gm")):
        path = LANDING / "leefbaarometer" / f"Leefbaarometer-scores {level} 2002-2024.csv"
        frame = pd.read_csv(path, dtype={f"{key}_code": str})
        check(list(frame.columns) == [f"{key}_code", f"{key}_naam", "jaar", "lbm", "afw", "won", "fys", "vrz",
                                      "soc", "onv"], f"{level}: header")
        parts = frame[["won", "fys", "vrz", "soc", "onv"]].sum(axis=1).round(4)
        check(bool((parts == frame["afw"].round(4)).all()), f"{level}: dimensions add up to afw")
        check(bool(((frame["lbm"] - frame["afw"]).round(4) == 4.1).all()), f"{level}: afw = lbm - 4.1")
        padded = (frame[f"{key}_code"] != frame[f"{key}_code"].str.strip()).sum()
        print(f"       {level}: rows {len(frame)}, years {sorted(frame['jaar'].unique())}, lbm "
              f"{frame['lbm'].min():.3f}-{frame['lbm'].max():.3f}, codes with trailing spaces {padded}")


# -- Woonservice -------------------------------------------------------------------------------------

def verify_woonservice(lists: dict[tuple[str, int], pd.DataFrame]) -> None:
    print("Woonservice")
    folder = LANDING / "woonservice"
    tw = pd.read_csv(folder / "toewijzingen_2021-2025.csv", sep=";", dtype=str, keep_default_na=False)
    wz = pd.read_csv(folder / "woningzoekenden_2021-2025.csv", sep=";", dtype=str, keep_default_na=False)
    tw["datum"] = pd.to_datetime(tw["toewijzingsdatum"], format="%d-%m-%Y")
    tw["jaar"] = tw["datum"].dt.year
    tw["huur"] = nl_float(tw["netto_kale_huur"])
    check(tw["toewijzing_id"].is_unique, "letting ids unique")
    check(bool((tw["datum"] >= "2021-01-01").all() and (tw["datum"] <= "2025-09-30").all()), "letting dates in range")
    names = {"elan_wonen": "Elan Wonen", "pre_wonen": "Pré Wonen", "ymere": "Ymere"}
    stock = pd.concat([lists[k].assign(jaar=k[1], corporatie=names[k[0]]) for k in lists])
    joined = tw.merge(stock, left_on=["corporatie", "vhe_id", "jaar"], right_on=["corporatie", "vhe_id", "jaar"],
                      how="left")
    check(bool(joined["eenheidsoort"].eq("WOO").all()), "every letting is a WOO unit in that year's stock list")
    check(bool(joined["daeb"].all()), "every let unit is DAEB in that year's list")
    check(bool((joined["huur"] - joined["rent"]).abs().max() < 0.005), "letting rent equals the stock-list rent")
    check(bool((joined["buurt_code"] == joined["buurt"]).all()), "letting buurt equals the stock-list buurt")
    bag_match = (joined["bag"] == "") | (joined["bag"].str.zfill(16) == joined["bag_vbo_id"])
    check(bool(bag_match.all()), "letting BAG id equals the stock list's (where it has one)")
    per_year = tw.groupby(["jaar", "gemeente_code"]).size().unstack()
    print(f"       lettings per year:\n{per_year.to_string()}")
    print("       publicatiemodel", tw["publicatiemodel"].value_counts(normalize=True).round(3).to_dict())
    print("       voorrang", tw["voorrang"].value_counts(normalize=True).round(3).to_dict(),
          "detail", tw["voorrang_detail"].value_counts().to_dict())
    print("       passendheid", tw["passendheid"].value_counts(normalize=True).round(3).to_dict(),
          "doorstromer", tw["doorstromer"].value_counts(normalize=True).round(3).to_dict())
    inkomen = pd.to_numeric(tw["huishoudinkomen"])
    print(f"       income {inkomen.min()}-{inkomen.max()} (median {inkomen.median()}), woongemeente same "
          f"{(tw['woongemeente_code'] == tw['gemeente_code']).mean():.0%}")
    tw["hh"] = pd.to_numeric(tw["huishoudgrootte"])
    daeb_limit = {2021: (40024, 44196), 2022: (40765, 45014), 2023: (44035, 48625), 2024: (47699, 52671),
                  2025: (48569, 53632)}
    limit = [daeb_limit[y][0 if h == 1 else 1] for y, h in zip(tw["jaar"], tw["hh"], strict=True)]
    print(f"       lettings below DAEB income limit {(inkomen <= limit).mean():.1%}; primair (< 24k/32k) "
          f"{(inkomen < np.where(tw['hh'] == 1, 24_000, 32_500)).mean():.1%}; kamers "
          f"{tw['kamers'].value_counts().sort_index().to_dict()}")
    aan = tw[tw["publicatiemodel"] == "AAN"]
    duur = (aan["datum"] - pd.to_datetime(aan["inschrijfdatum"], format="%d-%m-%Y")).dt.days / 365.25
    reacties = pd.to_numeric(tw["aantal_reacties"].replace("", None))
    print(f"       AAN median inschrijfduur {duur.median():.1f} yr; reacties {reacties.min():.0f}-{reacties.max():.0f} "
          f"(median {reacties.median():.0f})")
    wz["periode"] = wz["periode_begin"].str[-4:].astype(int)
    wz["reacties"] = pd.to_numeric(wz["aantal_reacties"])
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
        print(f"       period {period}: seekers {len(group)}, active {(group['reacties'] > 0).mean():.0%}, "
              f"housed {(group['gehuisvest'] == 'ja').sum()}, direct with 0 reacties {direct_zero}, "
              f"klassen {group['inkomensklasse'].value_counts(normalize=True).round(2).to_dict()}")


def main() -> None:
    lists = verify_stock()
    verify_ep_online(lists)
    verify_leefbaarometer()
    verify_woonservice(lists)
    print(f"\n{len(FAILURES)} failed checks" if FAILURES else "\nall checks passed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
