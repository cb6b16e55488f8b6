"""KPI slaagkans: the success rate of house seekers, in the three documented definitions.

Per woongemeente of the seeker x reporting period, in total and by inkomensklasse and by
leeftijdsklasse (DESIGN.md §5). Active = at least one response in the period.
- `maaskoepel` v1: housed seekers / (active seekers + seekers housed without responding, i.e.
  directly placed, counted once).
- `lokaal` v1 (Alphen): seekers living in the gemeente who responded to supply in that gemeente;
  numerator = those of them housed in that gemeente.
- `eenvoudig` v1: lettings in the period to active seekers of the gemeente / active seekers.
A period that does not span a whole calendar year is flagged partial_period.
"""


import dagster as dg
import pandas as pd

from assets.common import Column, KpiTable, column_lineage, finish, ratio, snapshot_of, table_metadata
from assets.settings import KpiSettings

DEFINITION_VERSION = 1
DEFINITIONS = ("maaskoepel", "lokaal", "eenvoudig")
BREAKDOWNS = ("inkomensklasse", "leeftijdsklasse")

TABLE = KpiTable(
    name="kpi_slaagkans",
    description=(
        "Slaagkans van woningzoekenden per woongemeente x periode, totaal en naar inkomensklasse en "
        "leeftijdsklasse, in drie definities (definition_id maaskoepel, lokaal, eenvoudig; zie "
        "DESIGN.md §5). value = numerator / denominator x 100. Cellen met een noemer onder de "
        "drempel zijn onderdrukt."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de verslagperiode"),
        Column("periode_begin", "date", "Eerste dag van de verslagperiode"),
        Column("periode_einde", "date", "Laatste dag van de verslagperiode"),
        Column("inkomensklasse", "text", "Inkomensklasse van de woningzoekende, of 'alle'"),
        Column("leeftijdsklasse", "text", "Leeftijdsklasse van de woningzoekende, of 'alle'"),
    ],
)

PERIOD_KEYS = ["gemeente_code", "jaar", "periode_begin", "periode_einde"]


def seeker_outcomes(seekers: pd.DataFrame, lettings: pd.DataFrame) -> pd.DataFrame:
    """Per seeker-period: membership of each definition's population and numerator. Pure function."""
    s = seekers.copy()
    s["gemeente_code"] = s["woongemeente_code"]
    s["jaar"] = pd.to_datetime(s["periode_begin"]).dt.year.astype("int64")
    s["actief"] = s["aantal_reacties"].fillna(0) >= 1
    housed = s["gehuisvest"].fillna(False).astype(bool)
    s["maaskoepel_noemer"] = s["actief"] | housed
    s["maaskoepel_teller"] = housed
    local_responses = s["aantal_reacties_woongemeente"].astype("Float64")
    s["lokaal_noemer"] = (local_responses.fillna(0) >= 1).astype(bool)
    s["lokaal_teller"] = s["lokaal_noemer"] & housed & (s["gehuisvest_gemeente_code"] == s["woongemeente_code"]).fillna(False).astype(bool)
    s["lokaal_bekend"] = local_responses.notna()
    with_seeker = lettings[lettings["woningzoekende_id"].notna()][["woningzoekende_id", "toewijzingsdatum"]]
    periods = s[["woningzoekende_id", "periode_begin", "periode_einde"]].reset_index()
    matched = periods.merge(with_seeker, on="woningzoekende_id", how="inner")
    in_period = matched[
        (matched["toewijzingsdatum"] >= matched["periode_begin"]) & (matched["toewijzingsdatum"] <= matched["periode_einde"])
    ]
    lettings_per_row = in_period.groupby("index").size()
    s["toewijzingen_in_periode"] = s.index.map(lettings_per_row).fillna(0).astype("int64")
    s["eenvoudig_noemer"] = s["actief"]
    s["eenvoudig_teller"] = s["toewijzingen_in_periode"].where(s["actief"], 0)
    return s


def _aggregate(outcomes: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    keys = PERIOD_KEYS + by
    rows = []
    for definition in DEFINITIONS:
        population = outcomes
        if definition == "lokaal":
            known = outcomes.groupby(PERIOD_KEYS)["lokaal_bekend"].transform("all")
            population = outcomes[known]
        g = population.groupby(keys, dropna=False).agg(
            numerator=(f"{definition}_teller", "sum"), denominator=(f"{definition}_noemer", "sum")
        )
        g = g.reset_index()
        g["definition_id"] = definition
        rows.append(g)
    return pd.concat(rows, ignore_index=True)


def compute_slaagkans(seekers: pd.DataFrame, lettings: pd.DataFrame, gemeente_namen: dict[str, str]) -> pd.DataFrame:
    outcomes = seeker_outcomes(seekers, lettings)
    for column in BREAKDOWNS:
        outcomes[column] = outcomes[column].fillna("onbekend")
    parts = []
    total = _aggregate(outcomes, [])
    total["inkomensklasse"] = "alle"
    total["leeftijdsklasse"] = "alle"
    parts.append(total)
    for breakdown in BREAKDOWNS:
        part = _aggregate(outcomes, [breakdown])
        other = [b for b in BREAKDOWNS if b != breakdown][0]
        part[other] = "alle"
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    out["value"] = ratio(out["numerator"], out["denominator"])
    out["unit"] = "%"
    out["indicator"] = "slaagkans"
    out["corporatie"] = "alle"
    out["gemeente_naam"] = out["gemeente_code"].map(gemeente_namen)
    begin = pd.to_datetime(out["periode_begin"])
    einde = pd.to_datetime(out["periode_einde"])
    full_year = (begin.dt.month == 1) & (begin.dt.day == 1) & (einde.dt.month == 12) & (einde.dt.day == 31) & (begin.dt.year == einde.dt.year)
    out["partial_period"] = ~full_year
    out["definition_version"] = DEFINITION_VERSION
    return out


@dg.asset(
    group_name="kpi",
    kinds={"pandas", "python"},
    owners=["team:woningmarkt"],
    description=TABLE.description,
    metadata={"definition": "maaskoepel v1, lokaal v1, eenvoudig v1", "design": "DESIGN.md §5 slaagkans"},
)
def kpi_slaagkans(
    context: dg.AssetExecutionContext,
    kpi_settings: KpiSettings,
    stg_woningzoekenden: pd.DataFrame,
    stg_toewijzingen: pd.DataFrame,
) -> dg.Output:
    names = dict(zip(stg_woningzoekenden["woongemeente_code"], stg_woningzoekenden["woongemeente_naam"], strict=True))
    frame = compute_slaagkans(stg_woningzoekenden, stg_toewijzingen, names)
    frame = finish(
        TABLE,
        frame,
        run_id=context.run.run_id,
        snapshot=snapshot_of(stg_woningzoekenden, stg_toewijzingen),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    wz = "stg_woningzoekenden"
    lineage = column_lineage(
        TABLE,
        {
            "numerator": [(wz, "gehuisvest"), (wz, "gehuisvest_gemeente_code"), ("stg_toewijzingen", "woningzoekende_id"), ("stg_toewijzingen", "toewijzingsdatum")],
            "denominator": [(wz, "aantal_reacties"), (wz, "aantal_reacties_woongemeente"), (wz, "gehuisvest")],
            "gemeente_code": [(wz, "woongemeente_code")],
            "inkomensklasse": [(wz, "inkomensklasse")],
            "leeftijdsklasse": [(wz, "leeftijdsklasse")],
            "jaar": [(wz, "periode_begin")],
            "partial_period": [(wz, "periode_begin"), (wz, "periode_einde")],
        },
    )
    headline = frame[(frame["inkomensklasse"] == "alle") & (frame["leeftijdsklasse"] == "alle")]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "slaagkans_totaal": dg.MetadataValue.md(
                    headline[["gemeente_naam", "jaar", "definition_id", "value", "partial_period"]]
                    .astype("str")
                    .to_markdown(index=False)
                ),
            },
        ),
    )

