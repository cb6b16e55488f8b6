"""Privacy (AVG): lettings and seekers are pseudonymised at ingestion and nothing personal is published.

One real run of the graph on a copy of the sample (with a few planted quality problems, so the
quarantine, the corrections audit and the validation reports hold Woonservice rows too), then a scan
of everything the run left behind:
- every table and view of the warehouse, in every schema (listed through information_schema): no
  column named after a personal field of the Woonservice contract (sources/pseudonym.py, plus the
  quarantine's PERSONAL_COLUMNS) unless it holds only the class labels of a suppressed aggregate; no
  identifier value from the landing files in any cell; every ratio row whose denominator is below
  the suppression threshold suppressed (numerator and value empty);
- the HTML validation reports, the monitor's stoplight reports and their CSV/XLSX exports: no
  identifier value;
- the Parquet values in the workspace storage (raw_* and stg_*): no identifier value (they hold the
  pseudonyms), identifiers all in token form.
The scanner is shown to fail on planted leaks of each kind. The pseudonymisation itself is tested
on its own: keyed and deterministic (joins survive), refused without a key, KPI numbers unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from assets.kpi.slaagkans import compute_slaagkans
from assets.kpi.toewijzingen import compute_toewijzingen
from assets.raw import raw_toewijzingen, raw_woningzoekenden
from assets.resources import LandingFolder, Pseudonymisation
from assets.staging.woonservice import not_pseudonymised, stage_toewijzingen, stage_woningzoekenden
from expectations.quality import MASKED, PERSONAL_COLUMNS
from pipelines.config import SAMPLE_LANDING
from pipelines.io import ParquetIOManager
from sources import pseudonym, woonservice
from sources.pseudonym import (
    ENV_VAR,
    ONTWIKKELSLEUTEL,
    VELDEN,
    Behandeling,
    Pseudonymiser,
    identifier_fields,
    is_token,
    personal_fields,
    pseudonymise,
)
from sources.reference import load_gemeenten, load_inkomensgrenzen
from tests.pipeline_helpers import Workspace, failed_steps

ALLE_ONBEKEND = ("alle", "onbekend")
KEY = "k" * 40  # a test key of valid length (never a real one)


# --------------------------------------------------------------------------------------------------
# The scanner
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    where: str
    what: str


def forbidden_columns() -> dict[str, tuple[str, ...]]:
    """Column name -> the class labels it may hold in a published table ('' -> never published).

    Derived from the contract classification (every Woonservice contract column that is personal
    data) and the quarantine's masking list, not a hand-kept copy."""
    rules = dict(personal_fields())
    for column in PERSONAL_COLUMNS:
        rules.setdefault(column, ())
    return rules


def raw_identifiers(landing: Path) -> set[str]:
    """Every identifier value (the columns that are hashed) in the Woonservice files of a landing folder."""
    values: set[str] = set()
    for path in sorted((landing / "woonservice").glob("*")):
        if path.name.startswith("toewijzingen_"):
            frame = woonservice.read_toewijzingen(path).frame
        elif path.name.startswith("woningzoekenden_"):
            frame = woonservice.read_woningzoekenden(path).frame
        else:
            continue
        for column in identifier_fields():
            if column in frame.columns:
                values.update(frame[column].dropna().astype("str"))
    return values


class Scanner:
    def __init__(self, identifiers: set[str], threshold: int) -> None:
        if not identifiers:
            raise ValueError("geen identificerende waarden om op te zoeken")
        self.identifiers = identifiers
        self.threshold = threshold
        chars = "".join(sorted(set("".join(identifiers))))
        # Split text at every character no identifier contains: an identifier standing anywhere in a
        # cell, a key 'toewijzing_id=...;' or an HTML table is then one whole token.
        self._token = re.compile("[" + re.escape(chars) + "]+")
        self.rules = forbidden_columns()

    def text(self, where: str, text: str) -> list[Leak]:
        found = sorted(set(self._token.findall(text)) & self.identifiers)
        return [Leak(where, f"identificerende waarde {v!r}") for v in found[:5]]

    def frame(self, where: str, frame: pd.DataFrame, *, published: bool = True) -> list[Leak]:
        leaks: list[Leak] = []
        for column in frame.columns:
            values = frame[column].dropna()
            if values.empty:
                continue
            if pd.api.types.is_string_dtype(values) or values.dtype == object:
                leaks += self.text(f"{where}.{column}", "\n".join(pd.unique(values.astype("str"))))
            if not published or column not in self.rules:
                continue
            allowed = set(self.rules[column]) | set(ALLE_ONBEKEND)
            if not self.rules[column]:
                leaks.append(Leak(f"{where}.{column}", "persoonsgegeven als kolom gepubliceerd"))
                continue
            stray = sorted(set(values.astype("str")) - allowed)
            if stray:
                leaks.append(Leak(f"{where}.{column}", f"waarden buiten de klassen: {stray[:5]}"))
        if published:
            leaks += self.suppression(where, frame)
            leaks += self.masking(where, frame)
        return leaks

    def suppression(self, where: str, frame: pd.DataFrame) -> list[Leak]:
        if not {"denominator", "numerator", "value"} <= set(frame.columns):
            return []
        denominator = pd.to_numeric(frame["denominator"], errors="coerce")
        small = denominator.notna() & (denominator < self.threshold)
        shown = small & (frame["numerator"].notna() | frame["value"].notna())
        if "suppressed" in frame.columns:
            shown |= small & ~frame["suppressed"].fillna(False).astype(bool)
        if shown.any():
            return [Leak(where, f"{int(shown.sum())} rij(en) met noemer < {self.threshold} niet onderdrukt")]
        return []

    def masking(self, where: str, frame: pd.DataFrame) -> list[Leak]:
        """Quarantine and corrections audit: a value of a personal (non-hashed) Woonservice column is masked."""
        if not {"dataset", "kolom"} <= set(frame.columns):
            return []
        personal = {
            f"stg_{d}": {c for c, v in velden.items() if v.behandeling in (Behandeling.ALLEEN_STAGING, Behandeling.GEGENERALISEERD)}
            for d, velden in VELDEN.items()
        }
        is_personal = pd.Series(
            [bool(set(str(k).split(",")) & personal.get(str(d), set())) for d, k in zip(frame["dataset"], frame["kolom"], strict=True)],
            index=frame.index,
            dtype=bool,
        )
        leaks = []
        for column in ("waarde", "oude_waarde", "nieuwe_waarde"):
            if column not in frame.columns:
                continue
            values = frame[column]
            shown = is_personal & values.notna() & ~values.astype("str").isin(["", MASKED])
            for row in frame[shown].drop_duplicates(["dataset", "kolom"]).itertuples(index=False):
                leaks.append(Leak(f"{where}.{column}", f"{row.dataset} {row.kolom}: waarde niet gemaskeerd"))
        return leaks

    def warehouse(self, url: str) -> tuple[list[Leak], list[str]]:
        engine = sa.create_engine(url)
        leaks: list[Leak] = []
        tables = []
        try:
            with engine.connect() as connection:
                names = connection.execute(
                    sa.text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2"
                    )
                ).fetchall()
                for schema, table in names:
                    result = connection.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
                    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
                    tables.append(f"{schema}.{table}")
                    leaks += self.frame(f"{schema}.{table}", frame)
        finally:
            engine.dispose()
        return leaks, tables

    def files(self, root: Path, *, skip: Iterable[Path] = ()) -> tuple[list[Leak], list[str]]:
        """HTML, CSV, JSON, Markdown and XLSX files below root (the landing copy and storage skipped)."""
        skipped = [p.resolve() for p in skip]
        leaks: list[Leak] = []
        scanned = []
        for path in sorted(root.rglob("*")):
            if not path.is_file() or any(s == path.resolve() or s in path.resolve().parents for s in skipped):
                continue
            suffix = path.suffix.lower()
            if suffix in (".html", ".htm", ".csv", ".json", ".md", ".txt"):
                text = path.read_text(encoding="utf-8", errors="replace")
                leaks += self.text(str(path.relative_to(root)), html.unescape(text))
            elif suffix == ".xlsx":
                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
                cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
                book.close()
                leaks += self.text(str(path.relative_to(root)), "\n".join(cells))
            else:
                continue
            scanned.append(str(path.relative_to(root)))
        return leaks, scanned

    def parquet(self, storage: Path) -> tuple[list[Leak], list[str]]:
        leaks: list[Leak] = []
        scanned = []
        for path in sorted(storage.rglob("*.parquet")):
            where = str(path.relative_to(storage))
            scanned.append(where)
            table = pq.read_table(path)
            for name, column in zip(table.column_names, table.columns, strict=True):
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_dictionary(column.type)):
                    continue
                values = [str(v) for v in pc.unique(column.cast(pa.string())).to_pylist() if v is not None]
                leaks += self.text(f"{where}.{name}", "\n".join(values))
                if name in identifier_fields():
                    bad = [v for v in values if not is_token(name, v)]
                    if bad:
                        leaks.append(Leak(f"{where}.{name}", f"{len(bad)} waarde(n) niet gepseudonimiseerd"))
        return leaks, scanned


# --------------------------------------------------------------------------------------------------
# The scanner can fail: planted leaks of every kind are reported
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_scanner() -> Scanner:
    return Scanner(raw_identifiers(SAMPLE_LANDING), threshold=10)


def test_raw_identifiers_are_read_from_the_landing_files(sample_scanner):
    assert {"TW2021-00001", "WZ031513", "AR-TW2015-0001", "HW-WZ14548"} <= sample_scanner.identifiers
    assert len(sample_scanner.identifiers) > 10_000


def test_forbidden_columns_come_from_the_contract_classification():
    rules = forbidden_columns()
    personal = {c for velden in VELDEN.values() for c, v in velden.items() if v.behandeling is not Behandeling.GEEN}
    assert set(rules) == personal | PERSONAL_COLUMNS
    assert {"toewijzing_id", "woningzoekende_id", "huishoudinkomen", "leeftijd_hoofdaanvrager", "postcode"} <= set(rules)
    assert rules["huishoudinkomen"] == () and rules["woningzoekende_id"] == ()
    assert "5+" in rules["huishoudgrootte"] and "primair" in rules["inkomensklasse"]


def test_a_contract_column_without_treatment_is_refused(monkeypatch):
    velden = {**VELDEN, "toewijzingen": {k: v for k, v in VELDEN["toewijzingen"].items() if k != "huishoudinkomen"}}
    monkeypatch.setattr(pseudonym, "VELDEN", velden)
    with pytest.raises(ValueError, match=r"zonder behandeling: \['huishoudinkomen'\]"):
        pseudonym.check_every_column_classified()


def test_scanner_reports_planted_leaks_in_a_warehouse(sample_scanner, tmp_path):
    url = f"duckdb:///{tmp_path / 'lek.duckdb'}"
    with duckdb.connect(str(tmp_path / "lek.duckdb")) as db:
        db.execute("CREATE SCHEMA kpi; CREATE SCHEMA dq")
        db.execute(
            "CREATE TABLE kpi.kpi_x AS SELECT * FROM (VALUES "
            "('GM0392', 'alle', 3.0, 5.0, 60.0, false), ('GM0392', '7', 30.0, 50.0, 60.0, false)) "
            "t(gemeente_code, huishoudgrootte, numerator, denominator, value, suppressed)"
        )
        db.execute("CREATE TABLE kpi.kpi_y AS SELECT 'GM0392' AS gemeente_code, 41234.0 AS huishoudinkomen")
        db.execute("CREATE TABLE dq.log AS SELECT 'run toewijzing_id=TW2021-00001;x' AS tekst")
        db.execute(
            "CREATE TABLE dq.quarantaine AS SELECT 'stg_toewijzingen' AS dataset, 'zoekduur_maanden' AS kolom, '700' AS waarde"
        )
    leaks, tables = sample_scanner.warehouse(url)
    assert tables == ["dq.log", "dq.quarantaine", "kpi.kpi_x", "kpi.kpi_y"]
    text = "\n".join(f"{leak.where}: {leak.what}" for leak in leaks)
    assert "dq.log.tekst: identificerende waarde 'TW2021-00001'" in text
    assert "kpi.kpi_y.huishoudinkomen: persoonsgegeven als kolom gepubliceerd" in text
    assert "kpi.kpi_x.huishoudgrootte: waarden buiten de klassen: ['7']" in text
    assert "kpi.kpi_x: 1 rij(en) met noemer < 10 niet onderdrukt" in text
    assert "dq.quarantaine.waarde: stg_toewijzingen zoekduur_maanden: waarde niet gemaskeerd" in text


def test_scanner_reports_planted_leaks_in_reports_and_storage(sample_scanner, tmp_path):
    (tmp_path / "rapport").mkdir()
    (tmp_path / "rapport" / "haarlem-2025.html").write_text("<td>WZ&#48;31513</td>", encoding="utf-8")
    (tmp_path / "rapport" / "schoon.html").write_text("<td>wz_0123456789abcdef</td>", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.append(["sleutel", "toewijzing_id=AR-TW2015-0001"])
    book.save(tmp_path / "rapport" / "export.xlsx")
    leaks, scanned = sample_scanner.files(tmp_path)
    assert sorted(scanned) == ["rapport/export.xlsx", "rapport/haarlem-2025.html", "rapport/schoon.html"]
    assert {(leak.where, leak.what) for leak in leaks} == {
        ("rapport/haarlem-2025.html", "identificerende waarde 'WZ031513'"),
        ("rapport/export.xlsx", "identificerende waarde 'AR-TW2015-0001'"),
    }
    storage = tmp_path / "storage"
    storage.mkdir()
    pd.DataFrame({"woningzoekende_id": ["wz_0123456789abcdef", "HW-WZ14548"]}).to_parquet(storage / "raw_woningzoekenden.parquet")
    leaks, _ = sample_scanner.parquet(storage)
    assert {leak.what for leak in leaks} == {"identificerende waarde 'HW-WZ14548'", "1 waarde(n) niet gepseudonimiseerd"}


# --------------------------------------------------------------------------------------------------
# Pseudonymisation: keyed, deterministic, refused without a key, KPI numbers unchanged
# --------------------------------------------------------------------------------------------------


def test_tokens_are_keyed_deterministic_prefixed_and_domain_separated():
    one, other = Pseudonymiser.from_key(KEY), Pseudonymiser.from_key("x" * 40)
    token = one.token("woningzoekende_id", "WZ031513")
    assert re.fullmatch(r"wz_[0-9a-f]{16}", token) and is_token("woningzoekende_id", token)
    assert token == Pseudonymiser.from_key(KEY).token("woningzoekende_id", "WZ031513")  # stable per key
    assert token != other.token("woningzoekende_id", "WZ031513")  # keyed
    assert one.token("toewijzing_id", "X1").startswith("tw_")
    assert one.token("toewijzing_id", "X1")[3:] != one.token("woningzoekende_id", "X1")[3:]
    assert one.fingerprint != other.fingerprint and KEY not in str(one.describe())


def test_tokens_are_the_hmac_sha256_of_field_and_value_so_stored_pseudonyms_stay_valid():
    """The formula itself, written out: a faster implementation must give the tokens already stored."""
    one = Pseudonymiser.from_key(KEY)
    values = pd.Series(["WZ031513", "één", None, "WZ031513", "a\x1fb"], dtype="str")

    def by_hand(value: str) -> str:
        message = ("woningzoekende_id" + "\x1f" + value).encode("utf-8")
        return "wz_" + hmac.new(KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()[:16]

    got = one.tokens("woningzoekende_id", values)
    assert got.iloc[[0, 1, 3, 4]].tolist() == [by_hand("WZ031513"), by_hand("één"), by_hand("WZ031513"), by_hand("a\x1fb")]
    assert pd.isna(got.iloc[2]) and got.index.equals(values.index)
    assert one.token("woningzoekende_id", "één") == by_hand("één")


@pytest.mark.parametrize(
    ("key", "development", "message"),
    [
        ("", False, f"geen pseudonimiseringssleutel: zet {ENV_VAR}"),
        ("kort", True, "te kort (4 tekens)"),
        (ONTWIKKELSLEUTEL, False, "openbare ontwikkelsleutel"),
    ],
)
def test_a_missing_short_or_public_key_is_refused(key, development, message):
    with pytest.raises(dg.Failure, match=re.escape(message)):
        Pseudonymisation(sleutel=key, ontwikkelsleutel=development).pseudonymiser()


def test_development_key_only_when_explicitly_allowed():
    assert Pseudonymisation(ontwikkelsleutel=True).pseudonymiser().development
    assert not Pseudonymisation(sleutel=KEY, ontwikkelsleutel=True).pseudonymiser().development


def _landing_copy(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING / "woonservice", landing / "woonservice")
    return landing


def test_raw_assets_refuse_without_key_and_write_nothing(tmp_path):
    storage = tmp_path / "storage"
    result = dg.materialize(
        [raw_toewijzingen, raw_woningzoekenden],
        resources={
            "landing": LandingFolder(path=str(_landing_copy(tmp_path))),
            "pseudonymisation": Pseudonymisation(),
            "io_manager": ParquetIOManager(base_path=str(storage)),
        },
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert len(failures) == 2
    assert all(ENV_VAR in str(e.event_specific_data.error) for e in failures)
    assert not storage.exists() or not list(storage.rglob("*.parquet"))


def test_key_from_envvar_pseudonymises_before_storage_and_keeps_the_join(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, KEY)
    landing = _landing_copy(tmp_path)
    storage = tmp_path / "storage"
    result = dg.materialize(
        [raw_toewijzingen, raw_woningzoekenden],
        resources={
            "landing": LandingFolder(path=str(landing)),
            "pseudonymisation": Pseudonymisation(sleutel=dg.EnvVar(ENV_VAR)),
            "io_manager": ParquetIOManager(base_path=str(storage)),
        },
    )
    assert result.success
    lettings = pd.read_parquet(storage / "raw_toewijzingen.parquet")
    seekers = pd.read_parquet(storage / "raw_woningzoekenden.parquet")
    assert not_pseudonymised(lettings, "toewijzingen") == {} and not_pseudonymised(seekers, "woningzoekenden") == {}
    # the same seeker gets the same token in both exports: lettings still find their seeker
    raw_l = pd.concat([woonservice.read_toewijzingen(p).frame for p in sorted((landing / "woonservice").glob("toewijzingen_*"))])
    raw_s = pd.concat([woonservice.read_woningzoekenden(p).frame for p in sorted((landing / "woonservice").glob("woningzoekenden_*"))])
    raw_matches = raw_l["woningzoekende_id"].isin(set(raw_s["woningzoekende_id"])).sum()
    assert raw_matches > 1000
    assert lettings["woningzoekende_id"].isin(set(seekers["woningzoekende_id"])).sum() == raw_matches
    assert Pseudonymiser.from_key(KEY).token("woningzoekende_id", raw_s["woningzoekende_id"].iloc[0]) in set(seekers["woningzoekende_id"])
    # generalised: registration month, household size top-coded; metadata names the env var, never the key
    assert (seekers["inschrijfdatum"].dropna().dt.day == 1).all()
    [materialization] = [m for m in result.asset_materializations_for_node("raw_woningzoekenden")]
    info = materialization.metadata["pseudonimisering"].value
    assert info["sleutel"] == ENV_VAR and KEY not in str(materialization.metadata)
    assert "pseudonimisering_waarschuwing" not in materialization.metadata


def _set_cell(path: Path, line: int, column: str, value: str) -> str:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[line].split(";")
    old, cells[header.index(column)] = cells[header.index(column)], value
    lines[line] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return old


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("toewijzing_id", None, False),  # a duplicate letting number: personal, masked
        ("huishoudinkomen", "veel", False),  # personal, masked
        ("toewijzingsdatum", "31-02-2024", True),  # not personal: the steward sees the bad value
    ],
)
def test_reader_error_names_file_row_and_column_and_masks_personal_values(tmp_path, column, value, shown):
    landing = _landing_copy(tmp_path)
    path = landing / "woonservice" / "toewijzingen_2021-2025.csv"
    if value is None:  # row 4 repeats the letting number of row 3
        planted = path.read_text(encoding="utf-8-sig").splitlines()[2].split(";")[0]
        _set_cell(path, 3, column, planted)
    else:
        planted = value
        _set_cell(path, 3, column, value)
    result = dg.materialize(
        [raw_toewijzingen],
        resources={
            "landing": LandingFolder(path=str(landing)),
            "pseudonymisation": Pseudonymisation(ontwikkelsleutel=True),
            "io_manager": ParquetIOManager(base_path=str(tmp_path / "storage")),
        },
        raise_on_error=False,
    )
    [failure] = [e for e in result.all_events if e.is_step_failure]
    text = str(failure.event_specific_data.error)
    assert "woonservice/toewijzingen_2021-2025.csv" in text and "rij 4" in text and column in text
    assert (planted in text) == shown and (MASKED in text) != shown


def _staged_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = SAMPLE_LANDING / "woonservice"
    lettings = pd.concat([woonservice.read_toewijzingen(p).frame for p in sorted(folder.glob("toewijzingen_*"))], ignore_index=True)
    seekers = pd.concat([woonservice.read_woningzoekenden(p).frame for p in sorted(folder.glob("woningzoekenden_*"))], ignore_index=True)
    seekers.loc[seekers.index[::97], "huishoudgrootte"] = 8  # large households: top-coded to 5 at ingestion
    return lettings, seekers


def test_kpi_numbers_are_identical_with_and_without_pseudonymisation():
    lettings, seekers = _staged_sample()
    gemeenten = load_gemeenten()
    names = dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))
    p = Pseudonymiser.from_key(KEY)
    plain = (stage_toewijzingen(lettings, names), stage_woningzoekenden(seekers, names))
    hidden = (
        stage_toewijzingen(pseudonymise(lettings, "toewijzingen", p), names),
        stage_woningzoekenden(pseudonymise(seekers, "woningzoekenden", p), names),
    )
    assert (hidden[1]["huishoudgrootte"] <= 5).all() and (plain[1]["huishoudgrootte"] == 8).any()
    assert not hidden[0]["toewijzing_id"].isin(set(plain[0]["toewijzing_id"])).any()
    grenzen = load_inkomensgrenzen()
    pd.testing.assert_frame_equal(compute_toewijzingen(plain[0], grenzen), compute_toewijzingen(hidden[0], grenzen))
    slaagkans = compute_slaagkans(plain[1], plain[0], names), compute_slaagkans(hidden[1], hidden[0], names)
    assert slaagkans[0]["numerator"].sum() > 0
    pd.testing.assert_frame_equal(slaagkans[0], slaagkans[1])


# --------------------------------------------------------------------------------------------------
# The real graph on the sample, and the scan of everything it left behind
# --------------------------------------------------------------------------------------------------


def _plant_quality_problems(workspace: Workspace, pseudonymiser: Pseudonymiser) -> dict[str, str]:
    """WARN-level problems in one letting (masked and unmasked columns), a seeker period after 'today'
    (quarantined, partial policy), and corrections keyed by a pseudonym and by a raw number."""
    path = workspace.landing / "woonservice" / "toewijzingen_2021-2025.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[5].split(";")
    cells[header.index("aantal_reacties")] = "6000"
    cells[header.index("huishoudinkomen")] = "600000"
    cells[header.index("zoekduur_maanden")] = "700"
    lines[5] = ";".join(cells)
    corrected = lines[7].split(";")[header.index("toewijzing_id")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seekers = workspace.landing / "woonservice" / "woningzoekenden_2021-2025.csv"
    lines = seekers.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[4].split(";")
    cells[header.index("periode_begin")], cells[header.index("periode_einde")] = "01-02-2026", "31-12-2026"
    lines[4] = ";".join(cells)
    seekers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    token = pseudonymiser.token("toewijzing_id", corrected)
    with workspace.corrections.open("a", encoding="utf-8") as handle:
        handle.write(f"stg_toewijzingen,toewijzing_id={token},huishoudinkomen,25000,inkomen uit contract,J. Steward,2026-01-31\n")
        handle.write("stg_toewijzingen,toewijzing_id=TW2021-00010,kamers,3,nummer uit de levering,J. Steward,2026-01-31\n")
    return {"gecorrigeerd": token}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("privacy"))
    resources = workspace.resources()
    pseudonymiser = resources["pseudonymisation"].pseudonymiser()  # type: ignore[attr-defined]
    planted = _plant_quality_problems(workspace, pseudonymiser)
    result = workspace.run()
    assert result.success, failed_steps(result)
    threshold = resources["kpi_settings"].suppressie_drempel  # type: ignore[attr-defined]
    scanner = Scanner(raw_identifiers(workspace.landing), threshold=threshold)
    return {"workspace": workspace, "result": result, "scanner": scanner, "planted": planted}


def _report(leaks: list[Leak]) -> str:
    return "\n".join(f"{leak.where}: {leak.what}" for leak in leaks[:40])


def check_no_personal_column_identifier_or_small_cell_in_any_warehouse_table(sample_run):
    leaks, tables = sample_run["scanner"].warehouse(sample_run["workspace"].url)
    assert not leaks, _report(leaks)
    schemas = {t.split(".")[0] for t in tables}
    assert {"kpi", "monitor", "dq", "dashboard"} <= schemas, tables
    assert {"kpi.kpi_slaagkans", "kpi.kpi_toewijzingen", "dq.quarantaine", "dq.correctie_audit"} <= set(tables)


def check_quarantine_and_audit_hold_pseudonyms_and_masked_values(sample_run):
    engine = sa.create_engine(sample_run["workspace"].url)
    try:
        quarantine = pd.read_sql('SELECT * FROM "dq"."quarantaine"', engine)
        audit = pd.read_sql('SELECT * FROM "dq"."correctie_audit"', engine)
    finally:
        engine.dispose()
    lettings = quarantine[quarantine["dataset"] == "stg_toewijzingen"]
    assert set(lettings["kolom"]) >= {"aantal_reacties", "huishoudinkomen", "zoekduur_maanden"}
    assert lettings["sleutel"].str.fullmatch(r"toewijzing_id=tw_[0-9a-f]{16}").all()
    assert set(lettings.loc[lettings["kolom"] != "aantal_reacties", "waarde"]) == {MASKED}
    assert set(lettings.loc[lettings["kolom"] == "aantal_reacties", "waarde"]) == {"6000"}
    seekers = quarantine[quarantine["dataset"] == "stg_woningzoekenden"]
    assert len(seekers) >= 1 and seekers["sleutel"].str.startswith("woningzoekende_id=wz_").all()
    applied = audit[audit["sleutel"] == f"toewijzing_id={sample_run['planted']['gecorrigeerd']}"].iloc[0]
    assert applied["status"] == "toegepast" and applied["oude_waarde"] == MASKED and applied["nieuwe_waarde"] == MASKED
    raw_key = audit[audit["kolom"] == "kamers"].iloc[0]
    assert raw_key["sleutel"] == f"toewijzing_id={MASKED}" and "geen pseudoniem" in raw_key["status"]


def check_no_identifier_in_validation_or_stoplight_reports(sample_run):
    workspace = sample_run["workspace"]
    # the steward's corrections file is input, not output (it holds the planted raw number on purpose)
    skip = [workspace.landing, workspace.storage, workspace.corrections]
    leaks, scanned = sample_run["scanner"].files(workspace.base, skip=skip)
    assert not leaks, _report(leaks)
    assert any(s.startswith("validatie/") and s.endswith("stg_toewijzingen.html") for s in scanned), scanned
    assert any(s.startswith("rapport/") and s.endswith(".html") for s in scanned), scanned
    report = next(workspace.reports.rglob("stg_toewijzingen.html")).read_text(encoding="utf-8")
    assert re.search(r"toewijzing_id=tw_[0-9a-f]{16}", report)  # the key is shown, as a pseudonym


def check_storage_holds_pseudonyms_only(sample_run):
    workspace = sample_run["workspace"]
    leaks, scanned = sample_run["scanner"].parquet(workspace.storage)
    assert not leaks, _report(leaks)
    assert {"raw_toewijzingen.parquet", "stg_toewijzingen.parquet", "raw_woningzoekenden.parquet", "stg_woningzoekenden.parquet"} <= set(scanned)


def check_run_metadata_warns_about_the_development_key(sample_run):
    result = sample_run["result"]
    for asset in ("raw_toewijzingen", "raw_woningzoekenden"):
        [materialization] = result.asset_materializations_for_node(asset)
        assert "ONTWIKKELSLEUTEL" in materialization.metadata["pseudonimisering_waarschuwing"].value
        assert materialization.metadata["pseudonimisering"].value["gehasht"]


@pytest.mark.slow
def test_the_sample_run_publishes_and_stores_nothing_personal(sample_run):
    """One graph run checked in one test (so pytest-xdist never runs the graph twice); each check names what it proves."""
    check_no_personal_column_identifier_or_small_cell_in_any_warehouse_table(sample_run)
    check_quarantine_and_audit_hold_pseudonyms_and_masked_values(sample_run)
    check_no_identifier_in_validation_or_stoplight_reports(sample_run)
    check_storage_holds_pseudonyms_only(sample_run)
    check_run_metadata_warns_about_the_development_key(sample_run)
