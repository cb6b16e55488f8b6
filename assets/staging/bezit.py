"""stg_bezit, stg_voorraadmutaties and stg_energielabels: the stock, its yearly transitions, and the
EP-online certificates matched to it."""


from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from assets import relational
from assets.common import column_schema
from assets.ep_online_mutaties import certificates_with_mutations
from assets.quality import check_spec, validated
from assets.raw import KOLOMMEN
from assets.resources import DataQuality, WarehouseResource
from sources.formats import address_key
from sources.reference import ReferenceTable, load_gemeenten, load_huurgrenzen

STAGING: dict[str, Any] = {"group_name": "staging", "kinds": {"pandas", "python"}, "owners": ["team:woningmarkt"]}
HUURKLASSEN = ("goedkoop", "betaalbaar_laag", "betaalbaar_hoog", "duur", "boven_liberalisatiegrens")
HUURKLASSE_GRENZEN = ("kwaliteitskortingsgrens", "aftoppingsgrens_laag", "aftoppingsgrens_hoog", "liberalisatiegrens")


GEEN_HUURGRENZEN = "geen_huurgrenzen"


def years_without_thresholds(years: pd.Series, huurgrenzen: ReferenceTable) -> list[int]:
    """The years among `years` for which one of the rent-class thresholds is missing."""
    table = huurgrenzen.frame
    present = set(zip(table["threshold"], table["year"], strict=True))
    needed = {int(y) for y in years.dropna().unique()}
    return sorted(y for y in needed if any((t, y) not in present for t in HUURKLASSE_GRENZEN))


def huurklasse(rent: pd.Series, years: pd.Series, huurgrenzen: ReferenceTable) -> pd.Series:
    """Rent class by the thresholds of each row's year; a rent on a threshold belongs below it.

    A year without thresholds in reference/huurgrenzen.csv gets 'geen_huurgrenzen': never the
    neighbouring year's limits. The stg_bezit suite reports those rows (WARN).
    """
    out = pd.Series(pd.NA, index=rent.index, dtype="str")
    missing = set(years_without_thresholds(years, huurgrenzen))
    out.loc[years.isin(missing)] = GEEN_HUURGRENZEN
    for year in sorted(set(years.dropna().unique()) - missing):
        bounds = [huurgrenzen.value(t, int(year)) for t in HUURKLASSE_GRENZEN]
        in_year = (years == year) & rent.notna()
        cut = pd.cut(rent[in_year], bins=[-float("inf"), *bounds, float("inf")], labels=list(HUURKLASSEN), right=True)
        out.loc[in_year] = cut.astype("str")
    return out.fillna("onbekend")


def stage_bezit(raw: pd.DataFrame, huurgrenzen: ReferenceTable, gemeenten: pd.DataFrame) -> pd.DataFrame:
    frame = raw.copy(deep=False)  # copy-on-write (pandas 3): new columns do not double the stock in memory
    names = dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))
    frame["gemeente_naam"] = frame["gemeente_code"].map(names).fillna(frame["gemeente_code"])
    peil = frame["peildatum"]
    started = frame["in_exploitatie_datum"].isna() | (frame["in_exploitatie_datum"] <= peil)
    not_left = frame["uit_exploitatie_datum"].isna() | (frame["uit_exploitatie_datum"] > peil)
    frame["in_exploitatie"] = (started & not_left).astype("bool")
    frame["is_woning"] = (frame["eenheidsoort"] == "WOO").fillna(False).astype("bool")
    frame["huurklasse"] = huurklasse(frame["netto_kale_huur"], peil.dt.year, huurgrenzen)
    frame["adres_sleutel"] = address_key(
        frame["postcode"], frame["huisnummer"], frame["huisletter"], frame["huisnummertoevoeging"]
    )
    return frame


@dg.asset(
    description=(
        "Bezit van de corporaties per peildatum: getypeerd, met gemeentenaam, in_exploitatie op de "
        "peildatum, is_woning (eenheidsoort WOO), huurklasse naar de huurgrenzen van dat jaar en een "
        "adres_sleutel voor de koppeling met EP-online."
    ),
    check_specs=[check_spec("stg_bezit")],
    deps=["stg_referentiedata"],
    **STAGING,
)
def stg_bezit(
    context: dg.AssetExecutionContext,
    raw_bezit: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = stage_bezit(raw_bezit, load_huurgrenzen(), load_gemeenten())
    # grouped on the timestamps, formatted per group: a date object per row cost ~9 s nationally
    per_list = frame.groupby(["corporatie", "peildatum"], dropna=False)["in_exploitatie"].sum()
    metadata = {
        "dagster/column_schema": column_schema(frame),
        "jaren_zonder_huurgrenzen": dg.MetadataValue.json(
            years_without_thresholds(frame["peildatum"].dt.year, load_huurgrenzen())
        ),
        "eenheden_in_exploitatie": dg.MetadataValue.json(
            {f"{c} {'NaT' if pd.isna(p) else p.date().isoformat()}": int(n) for (c, p), n in per_list.items()}
        ),
    }
    yield from validated(
        context, frame, "stg_bezit", warehouse=warehouse, data_quality=data_quality, metadata=metadata
    )


#: The stock columns stg_energielabels reads (match_certificates and its metadata).
MATCH_STOCK_COLUMNS = ["corporatie", "vhe_id", "is_woning", "bag_vbo_id", "adres_sleutel", "postcode", "huisnummer"]


def _distinct(rows: np.ndarray, size: int) -> int:
    """How many distinct row positions (each < size) `rows` holds; linear, unlike a sort."""
    return int(np.count_nonzero(np.bincount(rows, minlength=size))) if len(rows) else 0


def match_certificates(certificates: pd.DataFrame, stock: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Attach (corporatie, vhe_id) to certificates: BAG VBO id first, the normalised address as fallback.

    A unit whose BAG id occurs in EP-online is matched on BAG only; units without such a BAG match
    are matched on their address. Returns the matched certificates and match counts per method.
    Rows come in the unit's order (the last stock row of a unit counts), then the certificate's; the
    BAG matches before the address matches. The joins run in DuckDB (assets/relational.py).
    """
    certs = certificates.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    certs["adres_sleutel"] = address_key(
        certs["postcode"], certs["huisnummer"], certs["huisletter"], certs["huisnummertoevoeging"]
    )
    keys = ["corporatie", "vhe_id", "bag_vbo_id", "adres_sleutel"]
    pairs = relational.positions(
        """
        WITH units AS (
            SELECT * FROM stock WHERE is_woning
            QUALIFY row_number() OVER (PARTITION BY corporatie, vhe_id ORDER BY _pos DESC) = 1
        ),
        by_bag AS (
            SELECT u._pos AS unit, c._pos AS cert, 0 AS methode
            FROM units u JOIN certs c ON u.bag_vbo_id = c.bag_vbo_id
        ),
        by_address AS (
            SELECT u._pos AS unit, c._pos AS cert, 1 AS methode
            FROM units u JOIN certs c ON u.adres_sleutel = c.adres_sleutel
            WHERE u._pos NOT IN (SELECT unit FROM by_bag)
        )
        SELECT unit, cert, methode FROM by_bag
        UNION ALL SELECT unit, cert, methode FROM by_address
        UNION ALL SELECT _pos AS unit, NULL AS cert, 2 AS methode FROM units
        ORDER BY methode, unit, cert
        """,
        {"stock": (stock, [*keys, "is_woning"]), "certs": (certs, ["bag_vbo_id", "adres_sleutel"])},
    )
    methode = pairs["methode"]
    matched_rows = methode < 2
    unit_rows, cert_rows = pairs["unit"][matched_rows], pairs["cert"][matched_rows]
    units = relational.take(stock[["corporatie", "vhe_id"]], unit_rows)
    matched = pd.concat(
        [units, relational.take(certificates, cert_rows)], axis=1
    )
    bag_first = ["corporatie", "vhe_id", "bag_vbo_id"]
    matched = matched[[*bag_first, *[c for c in matched.columns if c not in bag_first]]]
    matched["match_methode"] = np.where(methode[matched_rows] == 0, "bag", "adres")
    matched["match_methode"] = matched["match_methode"].astype("str")
    woningen = int((methode == 2).sum())
    by_bag = _distinct(pairs["unit"][methode == 0], len(stock))
    by_address = _distinct(pairs["unit"][methode == 1], len(stock))
    counts = {
        "woningen": woningen,
        "gekoppeld_op_bag": by_bag,
        "gekoppeld_op_adres": by_address,
        "zonder_certificaat": woningen - by_bag - by_address,
    }
    return matched, counts


def unmatched_sample(stock: pd.DataFrame, matched: pd.DataFrame, limit: int) -> np.ndarray:
    """Positions in `stock` of the first `limit` dwellings (first row of each unit) without a certificate."""
    return relational.positions(
        f"""
        SELECT _pos FROM stock
        WHERE is_woning AND NOT EXISTS (
            SELECT 1 FROM matched m WHERE m.corporatie = stock.corporatie AND m.vhe_id = stock.vhe_id
        )
        QUALIFY row_number() OVER (PARTITION BY corporatie, vhe_id ORDER BY _pos) = 1
        ORDER BY _pos LIMIT {int(limit)}
        """,
        {"stock": (stock, ["corporatie", "vhe_id", "is_woning"]), "matched": (matched, ["corporatie", "vhe_id"])},
    )["_pos"]


@dg.asset(
    description=(
        "EP-online certificaten gekoppeld aan de VHE's van de bezitslijsten (BAG-id eerst, genormaliseerd "
        "adres als terugval), met volledige historie. Het koppelpercentage en de niet-gekoppelde VHE's "
        "staan in de metadata."
    ),
    check_specs=[check_spec("stg_energielabels")],
    ins={
        "raw_ep_online_mutaties": dg.AssetIn(
            partition_mapping=dg.AllPartitionMapping(), metadata={"allow_missing_partitions": True}
        ),
        # what the matching reads of the national stock (11.6 million rows), not all its columns
        "stg_bezit": dg.AssetIn(metadata={KOLOMMEN: MATCH_STOCK_COLUMNS}),
    },
    **STAGING,
)
def stg_energielabels(
    context: dg.AssetExecutionContext,
    raw_ep_online: pd.DataFrame,
    raw_ep_online_mutaties: Any,
    stg_bezit: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    certificates, mutation_metadata = certificates_with_mutations(raw_ep_online, raw_ep_online_mutaties)
    frame, counts = match_certificates(certificates, stg_bezit)
    share = (counts["gekoppeld_op_bag"] + counts["gekoppeld_op_adres"]) / counts["woningen"] * 100 if counts["woningen"] else 0.0
    unmatched = relational.take(stg_bezit, unmatched_sample(stg_bezit, frame, 20))
    yield from validated(
        context,
        frame,
        "stg_energielabels",
        warehouse=warehouse,
        data_quality=data_quality,
        metadata={
            "dagster/column_schema": column_schema(frame),
            "koppelpercentage": dg.MetadataValue.float(round(share, 2)),
            **mutation_metadata,
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
            "voorbeeld_zonder_certificaat": dg.MetadataValue.md(
                unmatched[["corporatie", "vhe_id", "bag_vbo_id", "postcode", "huisnummer"]].astype("str").to_markdown(index=False)
            ),
        },
    )
