"""EP-online daily mutation files: reader, apply_mutations (hand-worked), the partitioned asset, the
wiring into an unpartitioned consumer, and the sensor (landing folder and API, never the network)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import responses

from assets.ep_online_mutaties import (
    EP_ONLINE_MUTATIEBESTANDEN,
    EpOnlineApi,
    certificates_with_mutations,
    mutation_frames,
    raw_ep_online_mutaties,
    total_publicatiedatum,
)
from assets.resources import LandingFolder
from pipelines.ep_online_sensor import (
    build_ep_online_mutation_sensor,
    ep_online_mutaties_job,
    mutation_files_by_date,
    mutation_partition_keys,
    newest_total_date,
)
from pipelines.io import ParquetIOManager
from sources.ep_online import OUTPUT_COLUMNS, apply_mutations, file_date, read_bulk, read_mutations
from sources.errors import SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_EP = PROJECT / "data" / "sample" / "landing" / "ep_online"
FIXTURE_V4 = Path(__file__).parent / "fixtures" / "ep_online" / "v20251101_v4.csv"
API = "https://api.ep-online.test/api/v5"
KEY = "sensor-test-key-91b2"


# --------------------------------------------------------------------------------------------
# reading a mutation file
# --------------------------------------------------------------------------------------------


def test_file_date_and_patterns() -> None:
    assert file_date("d20251102_v4.zip") == date(2025, 11, 2)
    assert file_date("ep_online/v20251101_v4_csv.zip") == date(2025, 11, 1)
    assert file_date("d20251302_v4.zip") is None  # month 13
    assert file_date("labels.zip") is None


def test_read_mutations_reads_the_sample_file_like_the_total_file() -> None:
    result = read_mutations(SAMPLE_EP / "d20251102_v4.zip")
    frame = result.frame
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert len(frame) == 29
    assert result.metadata["bestandssoort"] == "mutatiebestand"
    assert result.metadata["mutatiedatum"] == "2025-11-02"
    assert result.metadata["publicatiedatum"] == "2025-11-02"
    assert (frame["publicatiedatum"] == pd.Timestamp("2025-11-02")).all()
    assert frame[SOURCE_ROW].min() == 4  # two preamble lines + header, as in the total file
    assert result.warnings == []
    bulk = read_bulk(SAMPLE_EP / "v20251101_v4_csv.zip").frame
    assert dict(frame.dtypes.astype(str)) == dict(bulk.dtypes.astype(str))


def test_read_mutations_filters_on_the_stock() -> None:
    everything = read_mutations(SAMPLE_EP / "d20251102_v4.zip").frame
    stock_ids = set(everything.loc[everything["bag_vbo_id"].str.startswith("0392", na=False), "bag_vbo_id"])
    kept = read_mutations(SAMPLE_EP / "d20251102_v4.zip", bag_ids=stock_ids, address_keys=[]).frame
    assert set(kept["bag_vbo_id"]) == stock_ids
    assert not kept["bag_vbo_id"].str.startswith("0363").any()


def write_mutation_file(path: Path, *, preamble: bool = True, day: str = "02-11-2025") -> Path:
    lines = FIXTURE_V4.read_text(encoding="utf-8-sig").splitlines()
    body = lines[2:] if not preamble else [f"PublicatieDatum;{day}", lines[1], *lines[2:]]
    content = ("\n".join(body) + "\n").encode("utf-8-sig")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(path.with_suffix(".csv").name, content)
    return path


def test_read_mutations_without_preamble_takes_the_date_from_the_name(tmp_path: Path) -> None:
    result = read_mutations(write_mutation_file(tmp_path / "d20251105_v4.zip", preamble=False))
    assert result.metadata["publicatiedatum"] == "2025-11-05"
    assert (result.frame["publicatiedatum"] == pd.Timestamp("2025-11-05")).all()
    assert any("preambule mist" in w for w in result.warnings)


def test_read_mutations_warns_about_an_unexpected_name_and_an_early_preamble(tmp_path: Path) -> None:
    odd = read_mutations(write_mutation_file(tmp_path / "mutaties_nov.zip"))
    assert any("volgt niet het patroon" in w for w in odd.warnings)
    early = read_mutations(write_mutation_file(tmp_path / "d20251110_v4.zip", day="01-11-2025"))
    assert any("vóór de datum" in w for w in early.warnings)


def test_read_mutations_fails_like_read_bulk(tmp_path: Path) -> None:
    broken = tmp_path / "d20251102_v4.zip"
    broken.write_bytes(b"PK\x03\x04 afgebroken")
    with pytest.raises(SourceError, match="zip"):
        read_mutations(broken)


# --------------------------------------------------------------------------------------------
# apply_mutations, worked by hand
# --------------------------------------------------------------------------------------------

V = "v20251101_v4_csv.zip"
D1, D2, D0 = "d20251102_v4.zip", "d20251103_v4.zip", "d20251101_v4.zip"


def cert(bag, huisnummer, reg, opn, klasse, pub, file, row, letter=None):  # type: ignore[no-untyped-def]
    return {
        "bag_vbo_id": bag, "postcode": "2011AB", "huisnummer": huisnummer, "huisletter": letter,
        "huisnummertoevoeging": None, "opnamedatum": opn, "registratiedatum": reg,
        "geldig_tot": f"{int(reg[:4]) + 10}{reg[4:]}", "energieklasse": klasse, "gebouwklasse": "W",
        "gebouwtype": "Appartement", "berekeningstype": "NTA 8800", "status": "Bestaand", "energie_index": None,
        "primaire_fossiele_energie": 150.0, "bouwjaar": 1960, "publicatiedatum": pub, SOURCE_FILE: file, SOURCE_ROW: row,
    }


def frame_of(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=OUTPUT_COLUMNS)
    for column in ("opnamedatum", "registratiedatum", "geldig_tot", "publicatiedatum"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    for column in ("huisnummer", "bouwjaar", SOURCE_ROW):
        frame[column] = frame[column].astype("Int64")
    for column in ("energie_index", "primaire_fossiele_energie"):
        frame[column] = frame[column].astype("float64")
    for column in ("bag_vbo_id", "postcode", "huisletter", "huisnummertoevoeging", "energieklasse", "gebouwklasse",
                   "gebouwtype", "berekeningstype", "status", SOURCE_FILE):
        frame[column] = frame[column].astype("str")
    return frame


B1, B3, B4, B5, B9 = (f"039201000000000{i}" for i in (1, 3, 4, 5, 9))
TOTAL = frame_of(
    cert(B1, 1, "2015-01-10", "2015-01-02", "G", "2025-11-01", V, 4),    # T1: old label, stays (history)
    cert(B1, 1, "2024-05-01", "2024-04-20", "D", "2025-11-01", V, 5),    # T2: corrected by D1 row 4
    cert(None, 3, "2019-06-01", "2019-05-15", "E", "2025-11-01", V, 6, letter="A"),  # T3: no BAG id
    cert(B4, 4, "2023-02-01", "2023-01-15", "C", "2025-11-01", V, 7),    # T4: replaced via the address
    cert(B5, 5, "2022-03-03", "2022-03-01", "B", "2025-11-01", V, 8),    # T5: stays
)
M0 = frame_of(cert(B5, 5, "2022-03-03", "2022-03-01", "A", "2025-11-01", D0, 4))  # not newer than the total
M1 = frame_of(
    cert(B1, 1, "2024-05-01", "2024-04-20", "C", "2025-11-02", D1, 4),   # correction of T2
    cert(B1, 1, "2025-11-02", "2025-10-20", "A", "2025-11-02", D1, 5),   # renovation: a new certificate
    cert(B3, 3, "2019-06-01", "2019-05-15", "D", "2025-11-02", D1, 6, letter="A"),  # T3 again, now with BAG id
    cert(None, 4, "2023-02-01", "2023-01-15", "B", "2025-11-02", D1, 7),  # T4 corrected, delivered without BAG id
    cert(B9, 9, "2025-11-02", "2025-10-01", "B", "2025-11-02", D1, 8),   # a new object
)
M2 = frame_of(
    cert(B1, 1, "2025-11-02", "2025-10-20", "A+", "2025-11-03", D2, 4),  # correction of D1 row 5
    cert(B9, 9, "2025-11-02", "2025-10-01", "A", "2025-11-03", D2, 5),   # twice in one file:
    cert(B9, 9, "2025-11-02", "2025-10-01", "A++", "2025-11-03", D2, 6),  # ... the last row wins
    cert(B5, 5, "2022-03-03", "2022-03-02", "A", "2025-11-03", D2, 7),   # other opnamedatum: another certificate
)
EXPECTED = [  # (bag, huisnummer, registratiedatum, energieklasse, file, row), sorted
    (B1, 1, "2015-01-10", "G", V, 4),
    (B1, 1, "2024-05-01", "C", D1, 4),
    (B1, 1, "2025-11-02", "A+", D2, 4),
    (B3, 3, "2019-06-01", "D", D1, 6),
    (B5, 5, "2022-03-03", "B", V, 8),
    (B5, 5, "2022-03-03", "A", D2, 7),
    (B9, 9, "2025-11-02", "A++", D2, 6),
    (None, 4, "2023-02-01", "B", D1, 7),
]


def summary(frame: pd.DataFrame) -> list[tuple]:
    columns = ["bag_vbo_id", "huisnummer", "registratiedatum", "energieklasse", SOURCE_FILE, SOURCE_ROW]
    return [
        (None if pd.isna(bag) else bag, int(number), registered.date().isoformat(), klasse, source, int(row))
        for bag, number, registered, klasse, source, row in zip(*(frame[c] for c in columns), strict=True)
    ]


def test_apply_mutations_worked_by_hand() -> None:
    result = apply_mutations(TOTAL, [M1, M2, M0], date(2025, 11, 1))
    assert summary(result) == EXPECTED
    assert result.attrs["mutaties"] == {
        "bestanden_toegepast": 2, "rijen_vervangen": 5, "rijen_toegevoegd": 3, "rijen_overgeslagen": 1,
    }
    assert list(result.columns) == OUTPUT_COLUMNS
    assert dict(result.dtypes.astype(str)) == dict(TOTAL.dtypes.astype(str))
    assert TOTAL["energieklasse"].tolist() == ["G", "D", "E", "C", "B"]  # inputs untouched


def test_apply_mutations_does_not_depend_on_the_order_given() -> None:
    forward = apply_mutations(TOTAL, [M0, M1, M2], date(2025, 11, 1))
    backward = apply_mutations(TOTAL.iloc[::-1], [M2, M1, M0], date(2025, 11, 1))
    pd.testing.assert_frame_equal(forward, backward)


def test_apply_mutations_is_idempotent() -> None:
    once = apply_mutations(TOTAL, [M1, M2], date(2025, 11, 1))
    twice = apply_mutations(once, [M1, M2], date(2025, 11, 1))
    pd.testing.assert_frame_equal(once, twice)


def test_mutations_up_to_the_total_files_date_are_skipped() -> None:
    result = apply_mutations(TOTAL, [M1, M2], date(2025, 11, 2))  # as if the total already held D1
    assert result.attrs["mutaties"]["rijen_overgeslagen"] == 5
    assert summary(result)[0:3] == [
        (B1, 1, "2015-01-10", "G", V, 4), (B1, 1, "2024-05-01", "D", V, 5), (B1, 1, "2025-11-02", "A+", D2, 4),
    ]


def test_no_mutations_returns_the_total_sorted() -> None:
    result = apply_mutations(TOTAL.iloc[::-1], [], date(2025, 11, 1))
    assert result[SOURCE_ROW].tolist() == [4, 5, 7, 8, 6]  # by object and date; missing BAG ids last
    assert result.attrs["mutaties"]["bestanden_toegepast"] == 0


def test_a_mutation_without_publicatiedatum_is_refused() -> None:
    bad = M1.copy()
    bad["publicatiedatum"] = pd.NaT
    with pytest.raises(ValueError, match="publicatiedatum"):
        apply_mutations(TOTAL, [bad], date(2025, 11, 1))


def test_apply_mutations_on_the_sample_files() -> None:
    everything = read_bulk(SAMPLE_EP / "v20251101_v4_csv.zip").frame
    mutations = [read_mutations(SAMPLE_EP / name).frame for name in ("d20251103_v4.zip", "d20251102_v4.zip")]
    result = apply_mutations(everything, mutations, date(2025, 11, 1))
    counts = result.attrs["mutaties"]
    assert counts["bestanden_toegepast"] == 2
    # 29 + 23 rows, one repeated within a file; 2 corrections of the total, 2 of 2025-11-02 rows
    assert counts["rijen_vervangen"] == 4
    assert len(result) == len(everything) + 29 + 22 - 4
    keys = ["bag_vbo_id", "postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "registratiedatum", "opnamedatum"]
    from_mutations = result[result[SOURCE_FILE].str.startswith("d")]
    assert not from_mutations.duplicated(keys).any()


# --------------------------------------------------------------------------------------------
# the asset and its consumer
# --------------------------------------------------------------------------------------------


def make_landing(tmp_path: Path, names: tuple[str, ...] = ("v20251101_v4_csv.zip", "d20251102_v4.zip", "d20251103_v4.zip")) -> Path:
    root = tmp_path / "landing"
    (root / "ep_online").mkdir(parents=True)
    for name in names:
        shutil.copy(SAMPLE_EP / name, root / "ep_online" / name)
    return root


def stock_frame() -> pd.DataFrame:
    """A stand-in for raw_bezit: the Haarlem/Heemstede objects of the sample mutation files."""
    rows = pd.concat([read_mutations(SAMPLE_EP / n).frame for n in ("d20251102_v4.zip", "d20251103_v4.zip")])
    stock = rows[~rows["postcode"].str.startswith("10")]
    return stock[["bag_vbo_id", "postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]].drop_duplicates().reset_index(drop=True)


def test_raw_asset_reads_its_days_file_filtered_on_the_stock(tmp_path: Path) -> None:
    landing = LandingFolder(path=str(make_landing(tmp_path)))
    context = dg.build_asset_context(partition_key="2025-11-03")
    output = raw_ep_online_mutaties(context, landing=landing, raw_bezit=stock_frame())
    assert isinstance(output, dg.Output)
    frame = output.value
    assert len(frame) == 13  # 23 rows, 10 for addresses outside the stock
    assert (frame[SOURCE_FILE] == "ep_online/d20251103_v4.zip").all()
    assert frame["_source_snapshot"].str.startswith("ep_online/d20251103_v4.zip@").all()
    assert output.metadata["dagster/row_count"].value == 13
    assert output.metadata["mutatiedatum"].value == "2025-11-03"
    assert "dagster/column_schema" in output.metadata


def test_raw_asset_fails_clearly_without_its_file(tmp_path: Path) -> None:
    landing = LandingFolder(path=str(make_landing(tmp_path)))
    context = dg.build_asset_context(partition_key="2025-11-04")
    with pytest.raises(dg.Failure, match="d20251104_v4.zip"):
        raw_ep_online_mutaties(context, landing=landing, raw_bezit=stock_frame())


def test_raw_asset_reports_a_broken_file_with_its_name(tmp_path: Path) -> None:
    root = make_landing(tmp_path, names=())
    (root / "ep_online" / "d20251102_v4.zip").write_bytes(b"PK\x03\x04 half")
    context = dg.build_asset_context(partition_key="2025-11-02")
    with pytest.raises(dg.Failure) as caught:
        raw_ep_online_mutaties(context, landing=LandingFolder(path=str(root)), raw_bezit=stock_frame())
    assert caught.value.metadata["bestand"].value == "ep_online/d20251102_v4.zip"


def test_mutation_frames_accepts_what_the_io_manager_gives() -> None:
    assert mutation_frames(None) == []
    assert len(mutation_frames(M1)) == 1
    assert [f[SOURCE_FILE].iloc[0] for f in mutation_frames({"2025-11-03": M2, "2025-11-02": M1})] == [D1, D2]
    assert total_publicatiedatum(TOTAL) == date(2025, 11, 1)
    assert total_publicatiedatum(TOTAL.iloc[0:0]) == date.min


def test_an_unpartitioned_consumer_gets_every_partition(tmp_path: Path) -> None:
    """How stg_energielabels is meant to be wired: AssetIn(allow_missing_partitions) + certificates_with_mutations.
    The project's IO manager gives None for no partition, a bare frame for one and a dict for more."""
    root = make_landing(tmp_path)
    seen: list[dict[str, object]] = []

    @dg.asset(name="raw_bezit")
    def raw_bezit_stub() -> pd.DataFrame:
        return stock_frame()

    @dg.asset(name="raw_ep_online")
    def raw_ep_online_stub(landing: LandingFolder, raw_bezit: pd.DataFrame) -> pd.DataFrame:
        bag_ids = set(raw_bezit["bag_vbo_id"].dropna())
        return read_bulk(Path(landing.path) / "ep_online" / "v20251101_v4_csv.zip", bag_ids=bag_ids, address_keys=[]).frame

    @dg.asset(ins={"raw_ep_online_mutaties": dg.AssetIn(metadata={"allow_missing_partitions": True})})
    def consumer(raw_ep_online: pd.DataFrame, raw_ep_online_mutaties) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        frame, metadata = certificates_with_mutations(raw_ep_online, raw_ep_online_mutaties)
        seen.append({"metadata": metadata, "rows": len(frame), "total": len(raw_ep_online)})
        return frame

    rest = dg.AssetSelection.all() - dg.AssetSelection.assets("raw_ep_online_mutaties", "consumer")
    defs = dg.Definitions(
        assets=[raw_bezit_stub, raw_ep_online_stub, raw_ep_online_mutaties, consumer],
        jobs=[ep_online_mutaties_job, dg.define_asset_job("rest", selection=rest), dg.define_asset_job("consume", selection=["consumer"])],
        resources={"landing": LandingFolder(path=str(root)), "io_manager": ParquetIOManager(base_path=str(tmp_path / "store"))},
    )
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("rest").execute_in_process(instance=instance).success
        instance.add_dynamic_partitions(EP_ONLINE_MUTATIEBESTANDEN, ["2025-11-02", "2025-11-03"])
        # both partitions known, none materialised yet: skipped, not fatal
        assert defs.resolve_job_def("consume").execute_in_process(instance=instance).success
        for key in ("2025-11-02", "2025-11-03"):
            assert defs.resolve_job_def("ep_online_mutaties").execute_in_process(instance=instance, partition_key=key).success
            assert defs.resolve_job_def("consume").execute_in_process(instance=instance).success

    applied = [[], ["ep_online/d20251102_v4.zip"], ["ep_online/d20251102_v4.zip", "ep_online/d20251103_v4.zip"]]
    assert [s["metadata"]["ep_online_mutatiebestanden"].value for s in seen] == applied  # type: ignore[index]
    assert all(s["metadata"]["ep_online_totaal_publicatiedatum"] == "2025-11-01" for s in seen)  # type: ignore[index]
    assert [s["metadata"]["ep_online_bestanden_toegepast"].value for s in seen] == [0, 1, 2]  # type: ignore[index]
    assert seen[0]["rows"] == seen[0]["total"]
    assert seen[0]["rows"] < seen[1]["rows"] < seen[2]["rows"]  # type: ignore[operator]


# --------------------------------------------------------------------------------------------
# the sensor
# --------------------------------------------------------------------------------------------


def run_sensor(sensor, root: Path, cursor: str | None = None, api: EpOnlineApi | None = None):  # type: ignore[no-untyped-def]
    resources = {"landing": LandingFolder(path=str(root)), "ep_online_api": api or EpOnlineApi()}
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        return sensor(context)


def fixed_now() -> datetime:
    return datetime(2025, 11, 5, 9, 30)


def test_sensor_adds_a_partition_and_a_run_per_new_file_once(tmp_path: Path) -> None:
    root = make_landing(tmp_path)
    (root / "ep_online" / "d20251031_v4.zip").write_bytes(b"older than the total file")
    sensor = build_ep_online_mutation_sensor(now=fixed_now)

    first = run_sensor(sensor, root)
    assert [r.partition_key for r in first.run_requests] == ["2025-11-02", "2025-11-03"]
    [add] = first.dynamic_partitions_requests
    assert add.partitions_def_name == "ep_online_mutatiebestanden"
    assert list(add.partition_keys) == ["2025-11-02", "2025-11-03"]
    assert all(r.run_key and r.tags["trigger"] == "ep_online_mutatiebestand" for r in first.run_requests)

    again = run_sensor(sensor, root, first.cursor)
    assert again.run_requests == [] and not again.dynamic_partitions_requests
    assert "geen nieuwe mutatiebestanden" in again.skip_reason.skip_message

    shutil.copy(SAMPLE_EP / "d20251103_v4.zip", root / "ep_online" / "d20251104_v4.zip")
    third = run_sensor(sensor, root, again.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2025-11-04"]
    assert set(json.loads(third.cursor)["files"]) == {"2025-11-02", "2025-11-03", "2025-11-04"}


def test_sensor_runs_a_redelivered_file_again(tmp_path: Path) -> None:
    root = make_landing(tmp_path)
    sensor = build_ep_online_mutation_sensor(now=fixed_now)
    first = run_sensor(sensor, root)
    target = root / "ep_online" / "d20251102_v4.zip"
    # the same name delivered again (new mtime): a new run for the same partition
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10_000_000_000))
    second = run_sensor(sensor, root, first.cursor)
    [request] = second.run_requests
    assert request.partition_key == "2025-11-02"
    assert request.run_key != first.run_requests[0].run_key


def test_sensor_waits_for_a_total_file(tmp_path: Path) -> None:
    root = make_landing(tmp_path, names=("d20251102_v4.zip",))
    result = run_sensor(build_ep_online_mutation_sensor(now=fixed_now), root)
    assert result.run_requests == []
    assert "totaalbestand" in result.skip_reason.skip_message


def test_mutation_partition_keys_of_a_landing_folder(tmp_path: Path) -> None:
    assert mutation_partition_keys(LandingFolder(path=str(make_landing(tmp_path)))) == ["2025-11-02", "2025-11-03"]
    assert mutation_partition_keys(LandingFolder(path=str(tmp_path / "leeg"))) == []


def test_sensor_helpers() -> None:
    files = [Path(n) for n in ("v20251001_v4_csv.zip", "v20251101_v4_csv.zip", "d20251031_v4.zip", "d20251102_v4.zip", "notes.txt")]
    assert newest_total_date(files) == date(2025, 11, 1)
    assert list(mutation_files_by_date(files, date(2025, 11, 1))) == ["2025-11-02"]


def api_resource(**options: object) -> EpOnlineApi:
    settings: dict[str, object] = {"api_key": KEY, "base_url": API, "requests_per_second": 0, "max_attempts": 1}
    settings.update(options)
    return EpOnlineApi(**settings)  # type: ignore[arg-type]


def mutation_zip_bytes() -> bytes:
    return (SAMPLE_EP / "d20251103_v4.zip").read_bytes()


@responses.activate
def test_sensor_downloads_the_newest_mutation_file_from_the_api(tmp_path: Path) -> None:
    root = make_landing(tmp_path)
    signed = "https://epbdstorage.example.test/d20251105_v4.zip"
    responses.get(f"{API}/Mutatiebestand/DownloadInfo/2025-11-04", status=404)
    responses.get(
        f"{API}/Mutatiebestand/DownloadInfo/2025-11-05",
        json={"bestandsnaam": "d20251105_v4.zip", "geldigTotEnMet": "2025-11-07T09:00:00+01:00", "downloadUrl": signed + "?sig=S1"},
    )
    responses.get(signed, body=mutation_zip_bytes())
    sensor = build_ep_online_mutation_sensor(now=fixed_now, api_lookback_days=3)

    result = run_sensor(sensor, root, api=api_resource())
    assert (root / "ep_online" / "d20251105_v4.zip").read_bytes() == mutation_zip_bytes()
    assert [r.partition_key for r in result.run_requests] == ["2025-11-02", "2025-11-03", "2025-11-05"]
    asked = [str(c.request.url) for c in responses.calls]
    assert not any("2025-11-02" in u or "2025-11-03" in u for u in asked)  # already in the landing folder
    api_calls = [c for c in responses.calls if str(c.request.url).startswith(API)]
    assert all(c.request.headers["Authorization"] == KEY for c in api_calls)
    assert "Authorization" not in responses.calls[-1].request.headers  # not sent to the storage host

    # within api_interval_seconds the API is not asked again
    calls = len(responses.calls)
    later = run_sensor(sensor, root, result.cursor, api=api_resource())
    assert len(responses.calls) == calls and later.run_requests == []


@responses.activate
def test_sensor_survives_api_failures_and_keeps_the_key_out_of_its_reasons(tmp_path: Path) -> None:
    root = make_landing(tmp_path)
    responses.get(f"{API}/Mutatiebestand/DownloadInfo/2025-11-04", json={"detail": f"key {KEY} unknown"}, status=401)
    sensor = build_ep_online_mutation_sensor(now=fixed_now, api_lookback_days=1)
    first = run_sensor(sensor, root, api=api_resource())
    assert [r.partition_key for r in first.run_requests] == ["2025-11-02", "2025-11-03"]  # the folder still counts
    assert len(responses.calls) == 1  # a refused key is not tried for the other days

    responses.get(f"{API}/Mutatiebestand/DownloadInfo/2025-11-04", body=ConnectionError("down"))
    responses.get(f"{API}/Mutatiebestand/DownloadInfo/2025-11-05", status=503)
    sensor = build_ep_online_mutation_sensor(now=fixed_now, api_lookback_days=1, api_interval_seconds=0)
    second = run_sensor(sensor, root, first.cursor, api=api_resource())
    assert second.run_requests == []
    reason = second.skip_reason.skip_message
    assert "EP-online API (2025-11-05)" in reason and "503" in reason
    assert KEY not in reason


def test_sensor_without_key_never_calls_the_api(tmp_path: Path) -> None:
    root = make_landing(tmp_path)
    with responses.RequestsMock() as mock:
        result = run_sensor(build_ep_online_mutation_sensor(now=fixed_now, api_interval_seconds=0), root)
        assert len(mock.calls) == 0
    assert len(result.run_requests) == 2


def test_resource_keeps_the_key_out_of_its_repr() -> None:
    resource = EpOnlineApi(api_key=KEY)
    assert KEY not in repr(resource) and KEY not in str(resource)
    assert resource.has_key and not EpOnlineApi().has_key
    assert KEY not in repr(resource.client()) and resource.client().has_key


@pytest.mark.parametrize("seed", range(8))
def test_keys_built_only_for_rows_sharing_an_object_change_nothing(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """apply_mutations judges only the certificates that share a BAG id or postcode with a mutation
    file; on generated histories (ties, missing BAG ids, spellings that differ in case and blanks) it
    gives the frame and counts of judging every certificate."""
    import sources.ep_online as module

    rng = np.random.default_rng(seed)
    bags = [f"03920100000000{i:02d}" for i in range(12)] + [None, " 0392010000000003"]
    postcodes = ["2011AB", "2011ab", " 2011AB", "2012CD", None]
    dates = ["2019-06-01", "2022-03-03", "2024-05-01", "2025-11-02"]

    def rows(count: int, pub: str, file: str) -> pd.DataFrame:
        made = []
        for row in range(count):
            made.append(cert(bags[rng.integers(len(bags))], int(rng.integers(1, 4)), dates[rng.integers(len(dates))],
                             dates[rng.integers(len(dates))], "ABCDEFG"[rng.integers(7)], pub, file, row + 4,
                             letter=[None, "A", "a"][rng.integers(3)]))
            made[-1]["postcode"] = postcodes[rng.integers(len(postcodes))]
        return frame_of(*made)

    total = rows(60, "2025-11-01", V)
    mutations = [rows(15, "2025-11-02", D1), rows(15, "2025-11-03", D2)]
    fast = apply_mutations(total, mutations, date(2025, 11, 1))
    monkeypatch.setattr(module, "_sharing_an_object", lambda frame, batch: np.ones(len(frame), dtype=bool))
    every = apply_mutations(total, mutations, date(2025, 11, 1))
    pd.testing.assert_frame_equal(fast, every)
    assert fast.attrs == every.attrs and fast.attrs["mutaties"]["rijen_vervangen"] > 0
