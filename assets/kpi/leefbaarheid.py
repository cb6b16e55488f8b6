"""KPI leefbaarheid: Leefbaarometer 3.0 score and class per gebied and meetjaar, changes between
measurement years, and the wijken below 'voldoende' per gemeente (DESIGN.md §3.2, §5).

Definition `leefbaarheid` v1, from stg_leefbaarometer, for the levels gemeente, wijk and buurt
(dimension columns niveau, gebied_code, gebied_naam; gemeente_code/-naam of the area; corporatie
'alle'). Indicators:
- Stand per gebied x meetjaar (`jaar`), as the Leefbaarometer gives it: `lbm` (total score), `afw`
  (deviation from the national reference), the five dimension contributions `won`, `fys`, `vrz`,
  `soc`, `onv` (they add up to afw), unit 'score'; and `klasse` (value = class 1..9, unit 'klasse')
  with its name in `klasse_naam`. `klasse_afgeleid` True = the class was derived from afw with the
  boundary table (reference/leefbaarometer_klassen.csv) because the file had none; `berekend` is then
  True on the klasse row as well. A score the file does not give is no row (not a 0).
- `verandering_<lbm|afw|won|fys|vrz|soc|onv|klasse>`: value in `jaar` minus value in `jaar_van`,
  computed (`berekend` True), for every pair of consecutive measurement years (2002-2008, 2008-2012,
  ..., 2022-2024) and for every pair in the asset config `vergelijkingen` (e.g. [[2016, 2022]]). Only
  for areas present, with that score, in both years: a buurt missing in one of the two years has no
  change row (never bridged over a gap, never treated as 0). Leefbaarometer 3.0 recomputes the
  whole series with one model, so differences within the 3.0 series are meaningful.
- `wijken_onder_voldoende` per gemeente x meetjaar (niveau 'gemeente', berekend True): numerator =
  the number of wijken of the gemeente with class < 5 ('Voldoende'), unit 'wijken'; the column
  `wijken_onder_voldoende` lists them ("WK048401 Naam: Zwak; ..."), empty when there are none. The
  companion indicator `wijken_gemeten` counts the wijken with a class that year, so a dashboard can
  show "2 of 19". Counts have no denominator and are not suppressed: they are not personal data.
  `klasse_afgeleid` on these rows is True when any counted wijk's class was derived.

Reading a target year that is not a measurement year (Alphen: "all wijken >= voldoende in 2021"):
2021 has no Leefbaarometer. A dashboard reads the last measurement in or before the target year
(2020) as the realisation for 2021 and shows the next one (2022) as the check afterwards; it never
interpolates between 2020 and 2022 and never labels 2020 data as 2021. `jaar` is always a real
measurement year.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.common import (
    ALLE,
    Column,
    KpiTable,
    column_lineage,
    finish,
    kpi_asset_args,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings
from sources.leefbaarometer import DEFAULT_BOUNDARIES, DIMENSIES, KLASSE_NAMEN, MEETJAREN, load_klassegrenzen

DEFINITION_ID = "leefbaarheid"
DEFINITION_VERSION = 1
NIVEAUS = ("gemeente", "wijk", "buurt")
SCORES = ("lbm", "afw", *DIMENSIES)
STAND_INDICATORS = (*SCORES, "klasse")
VOLDOENDE = 5  # class 5 = 'Voldoende'; below it: Zwak, Onvoldoende, Ruim onvoldoende, Zeer onvoldoende
CONSECUTIVE_PAIRS = tuple(zip(MEETJAREN[:-1], MEETJAREN[1:], strict=True))

TABLE = KpiTable(
    name="kpi_leefbaarheid",
    description=(
        "Leefbaarometer 3.0 per gebied (niveau gemeente/wijk/buurt) x meetjaar: indicatoren lbm, afw, won, "
        "fys, vrz, soc, onv (unit score) en klasse (1-9, naam in klasse_naam); verandering_<indicator> = "
        "waarde in jaar min waarde in jaar_van (berekend, alleen voor gebieden die in beide meetjaren "
        "voorkomen), voor opeenvolgende meetjaren en de paren uit de config; per gemeente wijken_onder_voldoende "
        "(aantal wijken met klasse < 5, lijst in kolom wijken_onder_voldoende) en wijken_gemeten. Geen "
        "meetjaar in het doeljaar (bijv. 2021): lees de laatste meting ervoor (2020), niet interpoleren."
    ),
    dimensions=[
        Column("niveau", "text", "Niveau van het gebied: gemeente, wijk of buurt"),
        Column("gebied_code", "text", "CBS-code van het gebied (GM####, WK######, BU########)"),
        Column("gebied_naam", "text", "Naam van het gebied"),
        Column("jaar", "integer", "Meetjaar; bij een verandering het latere meetjaar"),
        Column("jaar_van", "integer", "Bij een verandering: het eerdere meetjaar; anders leeg"),
        Column("klasse_naam", "text", "Naam van de klasse van het gebied in jaar (Zeer onvoldoende ... Uitstekend)"),
        Column(
            "klasse_afgeleid",
            "boolean",
            "True als een klasse waarop de rij rust is afgeleid uit afw met de klassegrenzentabel "
            "(bij wijken_onder_voldoende: van minstens een getelde wijk)",
        ),
        Column(
            "berekend",
            "boolean",
            "True als de waarde door de Prestatiemonitor is berekend (verandering, telling, afgeleide klasse); "
            "False als ze zo in de Leefbaarometer staat",
        ),
        Column(
            "wijken_onder_voldoende",
            "text",
            "Bij indicator wijken_onder_voldoende: de wijken met klasse < 5 als 'code naam: klasse', "
            "gescheiden door '; '; anders leeg",
        ),
    ],
)

UNITS = {**{s: "score" for s in SCORES}, "klasse": "klasse"}


class LeefbaarheidConfig(dg.Config):
    """Extra measurement-year pairs to compare, besides the consecutive ones: [[van, tot], ...]."""

    vergelijkingen: list[list[int]] = Field(
        default_factory=list,
        description="Paren meetjaren [van, tot] voor verandering_<indicator>, naast de opeenvolgende meetjaren",
    )


def comparison_pairs(extra: Iterable[Sequence[int]] = ()) -> list[tuple[int, int]]:
    """Consecutive measurement years plus the configured pairs; refuses a pair that is not two
    measurement years in order."""
    pairs = list(CONSECUTIVE_PAIRS)
    for pair in extra:
        if len(pair) != 2:
            raise ValueError(f"vergelijking {list(pair)}: geef precies twee meetjaren [van, tot]")
        van, tot = int(pair[0]), int(pair[1])
        wrong = [y for y in (van, tot) if y not in MEETJAREN]
        if wrong:
            raise ValueError(
                f"vergelijking {van}-{tot}: {', '.join(map(str, wrong))} is geen meetjaar van de Leefbaarometer 3.0 "
                f"({', '.join(map(str, MEETJAREN))})"
            )
        if not van < tot:
            raise ValueError(f"vergelijking {van}-{tot}: het eerste jaar moet voor het tweede liggen")
        if (van, tot) not in pairs:
            pairs.append((van, tot))
    return pairs


def _areas(stg: pd.DataFrame) -> pd.DataFrame:
    areas = stg[stg["niveau"].isin(NIVEAUS)].copy()
    areas["jaar"] = areas["jaar"].astype("int64")
    areas["klasse"] = areas["klasse"].astype("Float64")
    areas["klasse_afgeleid"] = areas["klasse_afgeleid"].fillna(False).astype(bool)
    areas["klasse_naam"] = areas["klasse"].map(lambda k: KLASSE_NAMEN.get(int(k)) if pd.notna(k) else None)
    return areas


AREA_KEYS = ["niveau", "gebied_code", "gebied_naam", "gemeente_code", "gemeente_naam"]


def _stand(areas: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for indicator in STAND_INDICATORS:
        part = areas[[*AREA_KEYS, "jaar", "klasse_naam", "klasse_afgeleid"]].copy()
        part["indicator"] = indicator
        part["numerator"] = areas[indicator].astype("float64")
        part["unit"] = UNITS[indicator]
        part["berekend"] = areas["klasse_afgeleid"] if indicator == "klasse" else False
        parts.append(part[part["numerator"].notna()])
    out = pd.concat(parts, ignore_index=True)
    out["jaar_van"] = pd.NA
    return out


def _changes(areas: pd.DataFrame, pairs: Sequence[tuple[int, int]]) -> pd.DataFrame:
    columns = ["niveau", "gebied_code", "jaar", *STAND_INDICATORS, "klasse_afgeleid"]
    parts = []
    for van, tot in pairs:
        before = areas.loc[areas["jaar"] == van, columns]
        after = areas.loc[areas["jaar"] == tot, [*AREA_KEYS, *columns[2:], "klasse_naam"]]
        both = after.merge(before, on=["niveau", "gebied_code"], how="inner", suffixes=("", "_van"))
        for indicator in STAND_INDICATORS:
            part = both[[*AREA_KEYS, "jaar", "klasse_naam"]].copy()
            part["jaar_van"] = van
            part["indicator"] = f"verandering_{indicator}"
            part["numerator"] = (both[indicator].astype("float64") - both[f"{indicator}_van"].astype("float64"))
            part["unit"] = "klassen" if indicator == "klasse" else "score"
            part["klasse_afgeleid"] = (
                (both["klasse_afgeleid"] | both["klasse_afgeleid_van"]) if indicator == "klasse" else False
            )
            part["berekend"] = True
            parts.append(part[part["numerator"].notna()])
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _wijken_onder_voldoende(areas: pd.DataFrame) -> pd.DataFrame:
    wijken = areas[(areas["niveau"] == "wijk") & areas["klasse"].notna()].sort_values("gebied_code").copy()
    if wijken.empty:
        return pd.DataFrame()
    wijken["onder"] = wijken["klasse"] < VOLDOENDE
    wijken["label"] = wijken["gebied_code"] + " " + wijken["gebied_naam"].fillna("") + ": " + wijken["klasse_naam"]
    rows = []
    for (code, naam, jaar), group in wijken.groupby(["gemeente_code", "gemeente_naam", "jaar"], sort=True, dropna=False):
        below = group[group["onder"]]
        common = {
            "niveau": "gemeente",
            "gebied_code": code,
            "gebied_naam": naam,
            "gemeente_code": code,
            "gemeente_naam": naam,
            "jaar": jaar,
            "jaar_van": pd.NA,
            "klasse_naam": None,
            "klasse_afgeleid": bool(group["klasse_afgeleid"].any()),
            "berekend": True,
            "unit": "wijken",
        }
        rows.append(
            {
                **common,
                "indicator": "wijken_onder_voldoende",
                "numerator": float(len(below)),
                "wijken_onder_voldoende": "; ".join(below["label"]) if len(below) else None,
            }
        )
        rows.append({**common, "indicator": "wijken_gemeten", "numerator": float(len(group)), "wijken_onder_voldoende": None})
    return pd.DataFrame(rows)


def compute_leefbaarheid(stg: pd.DataFrame, *, vergelijkingen: Iterable[Sequence[int]] = ()) -> pd.DataFrame:
    """Tidy KPI rows from stg_leefbaarometer; pure function."""
    areas = _areas(stg)
    pairs = comparison_pairs(vergelijkingen)
    parts = [p for p in (_stand(areas), _changes(areas, pairs), _wijken_onder_voldoende(areas)) if not p.empty]
    columns = [*AREA_KEYS, "jaar", "jaar_van", "klasse_naam", "klasse_afgeleid", "berekend", "indicator", "numerator", "unit"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if "wijken_onder_voldoende" not in out.columns:
        out["wijken_onder_voldoende"] = None
    out["wijken_onder_voldoende"] = out["wijken_onder_voldoende"].astype("str")
    out["klasse_naam"] = out["klasse_naam"].astype("str")
    out["jaar"] = out["jaar"].astype("Int64")
    out["jaar_van"] = pd.to_numeric(out["jaar_van"]).astype("Int64")
    out["klasse_afgeleid"] = out["klasse_afgeleid"].astype(bool)
    out["berekend"] = out["berekend"].astype(bool)
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = float("nan")
    out["value"] = out["numerator"]
    out["corporatie"] = ALLE
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    out["partial_period"] = False
    return out


def klassen_statement(stg: pd.DataFrame, boundaries: str | Path | None = None) -> dict[str, Any]:
    """Whether the classes come from the file or were derived from afw (DESIGN.md §3.2)."""
    areas = stg[stg["niveau"].isin(NIVEAUS) & stg["klasse"].notna()]
    derived = int(areas["klasse_afgeleid"].fillna(False).astype(bool).sum())
    given = len(areas) - derived
    if derived and given:
        bron = "gemengd: klasse uit het bestand waar aanwezig, anders afgeleid uit afw"
    elif derived:
        bron = "afgeleid uit afw met de klassegrenzentabel"
    elif given:
        bron = "klasse uit het bestand (kscore)"
    else:
        bron = "geen klassen"
    statement: dict[str, Any] = {
        "klassen_afgeleid": bool(derived),
        "klasse_bron": bron,
        "klasse_rijen_afgeleid": derived,
        "klasse_rijen_uit_bestand": given,
    }
    if derived:
        grenzen = load_klassegrenzen(boundaries)
        statement["klassegrenzen"] = f"reference/{DEFAULT_BOUNDARIES.name}" if boundaries is None else str(boundaries)
        statement["klassegrenzen_confidence"] = "unverified" if (grenzen["confidence"] == "unverified").any() else "official"
    return statement


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §3.2, §5 leefbaarheid", ins={"stg_leefbaarometer": gemeente_in("stg_leefbaarometer")}))
def kpi_leefbaarheid(
    context: dg.AssetExecutionContext,
    config: LeefbaarheidConfig,
    kpi_settings: KpiSettings,
    stg_leefbaarometer: pd.DataFrame,
) -> dg.Output:
    pairs = comparison_pairs(config.vergelijkingen)
    frame = compute_leefbaarheid(stg_leefbaarometer, vergelijkingen=config.vergelijkingen)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_leefbaarometer, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    lb = "stg_leefbaarometer"
    scores = [(lb, s) for s in (*SCORES, "klasse")]
    lineage = column_lineage(
        TABLE,
        {
            "numerator": scores,
            "value": scores,
            "niveau": [(lb, "niveau")],
            "gebied_code": [(lb, "gebied_code")],
            "gebied_naam": [(lb, "gebied_naam")],
            "gemeente_code": [(lb, "gemeente_code")],
            "gemeente_naam": [(lb, "gemeente_naam")],
            "jaar": [(lb, "jaar")],
            "jaar_van": [(lb, "jaar")],
            "klasse_naam": [(lb, "klasse"), (lb, "klasse_naam")],
            "klasse_afgeleid": [(lb, "klasse_afgeleid")],
            "berekend": [(lb, "klasse_afgeleid")],
            "wijken_onder_voldoende": [(lb, "gebied_code"), (lb, "gebied_naam"), (lb, "klasse")],
        },
    )
    onder = frame[frame["indicator"] == "wijken_onder_voldoende"]
    extra: dict[str, Any] = {
        "dagster/column_lineage": lineage,
        **klassen_statement(stg_leefbaarometer),
        "vergelijkingen": dg.MetadataValue.json([list(p) for p in pairs]),
        "meetjaren": sorted(int(y) for y in frame["jaar"].dropna().unique()),
        "doeljaar_zonder_meting": (
            "Geen meetjaar in het doeljaar (bijv. 2021): lees de laatste meting ervoor (2020) als realisatie "
            "en de volgende (2022) als controle; niet interpoleren."
        ),
        "wijken_onder_voldoende": dg.MetadataValue.md(
            summary_markdown(onder[["gemeente_naam", "jaar", "value", "wijken_onder_voldoende"]])
        ),
    }
    return dg.Output(frame, metadata=table_metadata(frame, TABLE, **extra))
