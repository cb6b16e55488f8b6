"""Retention (AVG): `retentie_opschonen` purges raw exports older than the retention period from the
landing folder and their rows from the Parquet storage, supports a dry run, logs names and counts
only, never leaves its folders (not through a symbolic link either) and never touches the warehouse:
after a full sample run and a purge, every kpi and monitor table has the same checksum as before."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from assets.resources import LandingFolder
from pipelines.config import SAMPLE_LANDING
from pipelines.retention import (
    AssetStorage,
    RetentionError,
    build_retention_schedule,
    cutoff,
    file_date,
    purge,
    retentie_opschonen,
)
from tests.pipeline_helpers import Workspace

PEILDATUM = "2026-01-31"
OLD = ["woonservice/toewijzingen_alphen-aan-den-rijn_2015-2020.csv", "woonservice/woningzoekenden_alphen-aan-den-rijn_2015-2020.csv"]
KEPT = [
    "woonservice/toewijzingen_2021-2025.csv",
    "woonservice/toewijzingen_harderwijk_2020-2024.csv",
    "woonservice/woningzoekenden_2021-2025.csv",
    "woonservice/woningzoekenden_harderwijk_2020-2024.csv",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def table_checksums(url: str, schemas: tuple[str, ...] = ("kpi", "monitor")) -> dict[str, str]:
    """sha256 of every table's rows (sorted, every column), per schema.table; read-only access."""
    engine = sa.create_engine(url, connect_args={"read_only": True} if url.startswith("duckdb") else {})
    out = {}
    try:
        with engine.connect() as connection:
            names = connection.execute(
                sa.text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    f"WHERE table_schema IN ({', '.join(repr(s) for s in schemas)}) ORDER BY 1, 2"
                )
            ).fetchall()
            for schema, table in names:
                result = connection.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
                rows = sorted(repr(tuple(row)) for row in result.fetchall())
                out[f"{schema}.{table}"] = hashlib.sha256(("|".join(result.keys()) + "\n" + "\n".join(rows)).encode()).hexdigest()
    finally:
        engine.dispose()
    return out


def run_purge(workspace: Workspace, instance: dg.DagsterInstance | None = None, **config: object) -> dg.ExecuteInProcessResult:
    return retentie_opschonen.execute_in_process(
        run_config={"ops": {"bestanden_opschonen": {"config": {"peildatum": PEILDATUM, **config}}}},
        resources={"landing": LandingFolder(path=str(workspace.landing)), "asset_storage": AssetStorage(path=str(workspace.storage))},
        instance=instance,
        raise_on_error=False,
    )


def output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.event_specific_data.metadata.items()}


def storage_sources(storage: Path) -> dict[str, pd.Series]:
    return {
        name: pd.read_parquet(storage / f"{name}.parquet", columns=["_source_file"])["_source_file"].value_counts()
        for name in ("raw_toewijzingen", "stg_toewijzingen", "raw_woningzoekenden", "stg_woningzoekenden")
    }


@pytest.fixture(scope="module")
def purged(tmp_path_factory, sample_baseline):
    # after a full run: the session's sample run, copied and published into a warehouse of its own
    workspace = sample_baseline.published(tmp_path_factory.mktemp("retentie"))
    duckdb_file = Path(workspace.url.removeprefix("duckdb:///")) if workspace.url.startswith("duckdb") else None
    state: dict[str, object] = {
        "workspace": workspace,
        "file_before": sha256(duckdb_file) if duckdb_file else None,
        "tables_before": table_checksums(workspace.url),
        "landing_before": tree_hashes(workspace.landing),
        "storage_before": tree_hashes(workspace.storage),
        "sources_before": storage_sources(workspace.storage),
    }
    dry = run_purge(workspace, proefdraai=True)
    assert dry.success
    state.update(
        dry=dry,
        landing_after_dry=tree_hashes(workspace.landing),
        storage_after_dry=tree_hashes(workspace.storage),
    )
    instance = dg.DagsterInstance.ephemeral()
    real = run_purge(workspace, instance=instance)
    assert real.success
    state.update(
        real=real,
        logs=[e.user_message for e in instance.all_logs(real.run_id)],
        file_after=sha256(duckdb_file) if duckdb_file else None,
        tables_after=table_checksums(workspace.url),
        sources_after=storage_sources(workspace.storage),
    )
    return state


def check_dry_run_reports_what_would_go_and_changes_nothing(purged):
    metadata = output_metadata(purged["dry"])
    assert metadata["proefdraai"] is True and sorted(metadata["verwijderd"]) == OLD
    assert metadata["grens"] == "2024-01-31"
    assert set(metadata["opslag_rijen_verwijderd"]) == {
        "raw_toewijzingen.parquet", "stg_toewijzingen.parquet", "raw_woningzoekenden.parquet", "stg_woningzoekenden.parquet",
    }
    assert purged["landing_after_dry"] == purged["landing_before"]
    assert purged["storage_after_dry"] == purged["storage_before"]


def check_old_exports_are_removed_from_landing_and_storage_the_rest_stays(purged):
    workspace = purged["workspace"]
    metadata = output_metadata(purged["real"])
    assert metadata["proefdraai"] is False and sorted(metadata["verwijderd"]) == OLD
    for name in OLD:
        assert not (workspace.landing / name).exists()
    for name in KEPT:
        assert (workspace.landing / name).exists()
    # every other landing file untouched
    after = tree_hashes(workspace.landing)
    assert after == {k: v for k, v in purged["landing_before"].items() if k not in OLD}
    removed = metadata["opslag_rijen_verwijderd"]
    for asset, before in purged["sources_before"].items():
        now = purged["sources_after"][asset]
        assert not set(now.index) & set(OLD), asset
        assert set(now.index) == set(before.index) - set(OLD), asset
        assert int(before.sum() - now.sum()) == removed[f"{asset}.parquet"] == int(before[before.index.isin(OLD)].sum())
    # storage files without personal rows (KPI values, stock lists, labels) are byte-for-byte as before
    storage_after = tree_hashes(workspace.storage)
    rewritten = {f"{a}.parquet" for a in purged["sources_before"]}
    assert {k: v for k, v in storage_after.items() if k not in rewritten} == {
        k: v for k, v in purged["storage_before"].items() if k not in rewritten
    }


def check_warehouse_kpi_and_monitor_tables_are_unchanged(purged):
    before, after = purged["tables_before"], purged["tables_after"]
    assert {"kpi.kpi_slaagkans", "kpi.kpi_toewijzingen", "monitor.monitor_stoplight"} <= set(before)
    assert after == before
    if purged["file_before"] is not None:
        assert purged["file_after"] == purged["file_before"]  # the job never opened the warehouse file


def check_log_names_files_and_counts_never_contents(purged):
    logs = "\n".join(purged["logs"])
    for name in OLD:
        assert f"verwijderd: {name}" in logs
    assert "raw_toewijzingen.parquet:" in logs and "rij(en) verwijderd" in logs
    assert "AR-TW2015-0001" not in logs and "Alphen aan den Rijn" not in logs


# --------------------------------------------------------------------------------------------------
# Dates, containment and refusals (no pipeline run needed)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("toewijzingen_2015-2020.csv", date(2020, 12, 31)),
        ("toewijzingen_alphen-aan-den-rijn_2015-2020.csv", date(2020, 12, 31)),
        ("bezitslijst_ymere_2024-12-31.csv", date(2024, 12, 31)),
        ("v20251101_v4_csv.zip", date(2025, 11, 1)),
        ("woningzoekenden_2023.xlsx", date(2023, 12, 31)),
        ("Leefbaarometer-scores buurten 2002-2024.csv", date(2024, 12, 31)),
    ],
)
def test_file_date_from_the_name(tmp_path, name, expected):
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    assert file_date(path) == (expected, "bestandsnaam")


def test_file_date_falls_back_to_mtime_and_cutoff_counts_calendar_months(tmp_path):
    path = tmp_path / "toewijzingen_export.csv"
    path.write_text("x", encoding="utf-8")
    stamp = pd.Timestamp("2021-03-15 12:00").timestamp()
    os.utime(path, (stamp, stamp))
    assert file_date(path) == (date(2021, 3, 15), "wijzigingstijd")
    assert cutoff(date(2026, 1, 31), 24) == date(2024, 1, 31)
    assert cutoff(date(2024, 3, 31), 1) == date(2024, 2, 29)


def _layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    landing, storage, outside = tmp_path / "landing", tmp_path / "storage", tmp_path / "buiten"
    (landing / "woonservice").mkdir(parents=True)
    storage.mkdir()
    outside.mkdir()
    for name in ("toewijzingen_2015-2016.csv", "toewijzingen_2025-2025.csv", ".verborgen_2010.csv"):
        (landing / "woonservice" / name).write_text("x", encoding="utf-8")
    return landing, storage, outside


def test_symbolic_links_are_never_followed_nor_deleted(tmp_path):
    landing, storage, outside = _layout(tmp_path)
    (outside / "toewijzingen_2010-2011.csv").write_text("buiten", encoding="utf-8")
    (outside / "map").mkdir()
    (outside / "map" / "toewijzingen_2012-2013.csv").write_text("buiten", encoding="utf-8")
    (landing / "woonservice" / "toewijzingen_2010-2011.csv").symlink_to(outside / "toewijzingen_2010-2011.csv")
    (landing / "woonservice" / "archief").symlink_to(outside / "map", target_is_directory=True)
    pd.DataFrame({"_source_file": ["woonservice/toewijzingen_2015-2016.csv"] * 3}).to_parquet(outside / "raw_x.parquet")
    (storage / "raw_x.parquet").symlink_to(outside / "raw_x.parquet")
    pd.DataFrame({"_source_file": ["woonservice/toewijzingen_2015-2016.csv", "woonservice/toewijzingen_2025-2025.csv"]}).to_parquet(
        storage / "raw_y.parquet"
    )
    before_outside = tree_hashes(outside)

    report = purge(landing, storage, months=24, peildatum=date(2026, 1, 31))

    assert report.verwijderd == ["woonservice/toewijzingen_2015-2016.csv"]
    assert report.bewaard == ["woonservice/toewijzingen_2025-2025.csv"]
    assert sorted(report.overgeslagen) == [
        "raw_x.parquet (symbolische link)",
        "woonservice/archief/ (symbolische link)",
        "woonservice/toewijzingen_2010-2011.csv (symbolische link)",
    ]
    assert report.opslag_rijen == {"raw_y.parquet": 1}
    assert tree_hashes(outside) == before_outside  # nothing outside the roots changed
    assert (landing / "woonservice" / "toewijzingen_2010-2011.csv").is_symlink()
    assert (landing / "woonservice" / ".verborgen_2010.csv").exists()  # hidden files are not deliveries
    assert pd.read_parquet(storage / "raw_y.parquet")["_source_file"].tolist() == ["woonservice/toewijzingen_2025-2025.csv"]


@pytest.mark.parametrize("folder", ["../buiten", "woonservice/..", "/tmp", "Woonservice"])
def test_folder_names_that_could_leave_the_landing_folder_are_refused(tmp_path, folder):
    landing, storage, _ = _layout(tmp_path)
    with pytest.raises(RetentionError, match="ongeldige mapnaam"):
        purge(landing, storage, folders=[folder], peildatum=date(2026, 1, 31))
    assert len(list((landing / "woonservice").iterdir())) == 3


def test_a_landing_sub_folder_that_is_a_symbolic_link_is_refused(tmp_path):
    landing, storage, outside = _layout(tmp_path)
    (outside / "toewijzingen_2010-2011.csv").write_text("buiten", encoding="utf-8")
    (landing / "bezit").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RetentionError, match="symbolische link"):
        purge(landing, storage, folders=["woonservice", "bezit"], peildatum=date(2026, 1, 31))
    assert (outside / "toewijzingen_2010-2011.csv").exists()
    assert (landing / "woonservice" / "toewijzingen_2015-2016.csv").exists()  # refused before deleting anything


def test_the_bundled_sample_is_never_purged_and_bad_config_fails_the_job(tmp_path):
    with pytest.raises(RetentionError, match="voorbeelddata"):
        purge(SAMPLE_LANDING, tmp_path, peildatum=date(2026, 1, 31))
    assert purge(SAMPLE_LANDING, tmp_path, peildatum=date(2026, 1, 31), dry_run=True).verwijderd == OLD
    assert all((SAMPLE_LANDING / name).exists() for name in OLD)
    landing, storage, _ = _layout(tmp_path / "w")
    result = retentie_opschonen.execute_in_process(
        run_config={"ops": {"bestanden_opschonen": {"config": {"bewaartermijn_maanden": 0}}}},
        resources={"landing": LandingFolder(path=str(landing)), "asset_storage": AssetStorage(path=str(storage))},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "bewaartermijn_maanden moet minstens 1 zijn" in str(failure.event_specific_data.error)
    assert (landing / "woonservice" / "toewijzingen_2015-2016.csv").exists()


def test_schedule_is_monthly_and_only_on_by_default_in_production():
    production, sample = build_retention_schedule(running=True), build_retention_schedule(running=False)
    assert production.cron_schedule == "0 5 1 * *" and production.job_name == "retentie_opschonen"
    assert production.default_status == dg.DefaultScheduleStatus.RUNNING
    assert sample.default_status == dg.DefaultScheduleStatus.STOPPED
    assert retentie_opschonen.tags["prestatiemonitor/nightly"] == "true"  # queued behind a nightly run, never beside it


def test_storage_rows_of_other_files_are_kept_when_nothing_is_old(tmp_path):
    landing, storage, _ = _layout(tmp_path)
    frame = pd.DataFrame({"_source_file": ["woonservice/toewijzingen_2025-2025.csv"], "x": [1]})
    frame.to_parquet(storage / "raw_y.parquet")
    before = tree_hashes(storage)
    report = purge(landing, storage, months=240, peildatum=date(2026, 1, 31))
    assert report.verwijderd == [] and report.opslag_rijen == {}
    assert tree_hashes(storage) == before
    shutil.rmtree(storage)
    assert purge(landing, storage, months=24, peildatum=date(2026, 1, 31)).verwijderd == ["woonservice/toewijzingen_2015-2016.csv"]


@pytest.mark.slow
def test_purge_after_a_full_run_removes_old_exports_and_leaves_the_kpis(purged):
    """One graph run checked in one test (so pytest-xdist never runs the graph twice); each check names what it proves."""
    check_dry_run_reports_what_would_go_and_changes_nothing(purged)
    check_old_exports_are_removed_from_landing_and_storage_the_rest_stays(purged)
    check_warehouse_kpi_and_monitor_tables_are_unchanged(purged)
    check_log_names_files_and_counts_never_contents(purged)
