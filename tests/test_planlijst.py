"""sources/planlijst.py and the raw_planlijst asset: the plan-list template, its rules and its errors.

The fixture tests/fixtures/planlijst/planlijst_GM0392_2025-07-01.csv has four projects on rows 2-5:
A (100 homes, WK039204, 'In aanbouw'), B (50, WK039204), C (30, delivered in 2025, WK039203) and
D (20, WK039201). Broken variants are made by replacing one piece of its text.
"""

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from openpyxl import Workbook

from assets.raw_planlijst import raw_planlijst
from assets.resources import LandingFolder
from sources.errors import SchemaError, SourceError
from sources.planlijst import PLANLIJST_DTYPES, read_planlijst

FIXTURE = Path(__file__).parent / "fixtures" / "planlijst" / "planlijst_GM0392_2025-07-01.csv"
TEMPLATE = Path(__file__).parent.parent / "docs" / "templates" / "planlijst_voorbeeld.csv"
SAMPLE = Path(__file__).parent.parent / "data" / "sample" / "landing" / "planlijst"
NAME = "planlijst/planlijst_GM0392_2025-07-01.csv"


def variant(tmp_path: Path, old: str, new: str, name: str = "planlijst_GM0392_2025-07-01.csv") -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text, old
    folder = tmp_path / "planlijst"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def error(tmp_path: Path, old: str, new: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_planlijst(variant(tmp_path, old, new))
    return info.value


def test_reads_the_template_onto_the_contract():
    result = read_planlijst(FIXTURE)
    frame = result.frame
    assert {c: str(t) for c, t in frame.dtypes.items()} == PLANLIJST_DTYPES
    assert frame["project_id"].tolist() == ["A", "B", "C", "D"]
    assert frame["_source_row"].tolist() == [2, 3, 4, 5]
    assert (frame["peildatum"] == pd.Timestamp("2025-07-01")).all()  # from the file name
    assert (frame["gemeente_code"] == "GM0392").all()
    assert frame["fase"].tolist() == ["in aanbouw", "vergunning", "opgeleverd", "initiatief"]
    # 40+25+15+10+10, 15+10+10+0+15, 18+0+9+0+3, 20
    assert frame["woningen_totaal"].tolist() == [100, 50, 30, 20]
    assert frame["huur_sociaal_gemiddeld"].tolist()[:2] == [700.0, 650.0]  # decimal comma
    assert frame["m2_gemiddeld"].tolist()[0] == 72.5
    assert frame["opleverjaar_gerealiseerd"].isna().tolist() == [True, True, False, True]
    assert frame["aantal_sociaal_onder_aftoppingsgrens"].tolist()[:2] == [30, 9]
    assert pd.isna(frame["aantal_sociaal_onder_aftoppingsgrens"].iloc[2])
    assert result.warnings == []
    assert result.metadata["peildatum"] == "2025-07-01" and result.metadata["woningen"] == 200


def test_xlsx_reads_as_the_csv(tmp_path):
    lines = [line.split(";") for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(lines[0])
    numeric = {"opleverjaar_verwacht", "opleverjaar_gerealiseerd", "sociale_huur", "middenhuur", "middeldure_koop",
               "vrije_sector_huur", "vrije_sector_koop", "huur_sociaal_gemiddeld", "m2_gemiddeld",
               "aantal_sociaal_onder_aftoppingsgrens"}
    for line in lines[1:]:
        sheet.append([
            (float(v.replace(",", ".")) if h in numeric else v) if v else None for h, v in zip(lines[0], line, strict=True)
        ])
    path = tmp_path / "planlijst_GM0392_2025-07-01.xlsx"
    workbook.save(path)
    xlsx = read_planlijst(path).frame.drop(columns="_source_file")
    csv = read_planlijst(FIXTURE).frame.drop(columns="_source_file")
    pd.testing.assert_frame_equal(xlsx, csv)


def test_betaalbare_koop_is_read_as_middeldure_koop(tmp_path):
    result = read_planlijst(variant(tmp_path, ";middeldure_koop;", ";Betaalbare koop;"))
    assert result.frame["middeldure_koop"].tolist() == [15, 10, 9, 0]
    assert result.drift.renamed == {"middeldure_koop": "Betaalbare koop"}
    assert any("Betaalbare koop -> middeldure_koop" in w for w in result.warnings)


def test_optional_columns_may_be_absent(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8").splitlines()
    kept = [";".join(line.split(";")[:12]) for line in text]  # up to vrije_sector_koop
    path = tmp_path / "planlijst_GM0392_2025-07-01.csv"
    path.write_text("\n".join(kept), encoding="utf-8")
    frame = read_planlijst(path).frame
    assert frame["huur_sociaal_gemiddeld"].isna().all() and frame["aantal_sociaal_onder_aftoppingsgrens"].isna().all()


def test_unknown_fase_names_file_row_column_and_the_phases(tmp_path):
    exc = error(tmp_path, ";vergunning;", ";bouwrijp;")
    assert (exc.file, exc.row, exc.column, exc.value) == (NAME, 3, "fase", "bouwrijp")
    assert "onbekende fase" in str(exc)
    assert exc.expected == "initiatief, planvorming, vergunning, in aanbouw, opgeleverd"


def test_negative_count_is_refused(tmp_path):
    exc = error(tmp_path, ";18;0;9;0;3;", ";18;0;-9;0;3;")
    assert (exc.file, exc.row, exc.column, exc.value) == (NAME, 4, "middeldure_koop", "-9")
    assert "negatieve waarde niet toegestaan" in str(exc)


def test_bad_numbers_name_the_cell(tmp_path):
    exc = error(tmp_path, ";40;25;15;", ";40;veel;15;")
    assert (exc.row, exc.column, exc.value) == (2, "middenhuur", "veel")
    assert "geen geldig getal" in str(exc)
    exc = error(tmp_path, ";40;25;15;", ";40;25,5;15;")
    assert (exc.row, exc.column, exc.value) == (2, "middenhuur", "25,5")
    assert "geen geheel getal" in str(exc)
    exc = error(tmp_path, "700,00", "7OO")
    assert (exc.row, exc.column, exc.value) == (2, "huur_sociaal_gemiddeld", "7OO")


def test_an_empty_segment_cell_asks_for_a_zero(tmp_path):
    exc = error(tmp_path, ";20;;110,0;", ";;;110,0;")
    assert (exc.row, exc.column) == (5, "vrije_sector_koop")
    assert "vul 0 in" in str(exc)


def test_duplicate_project_id_names_both_rows(tmp_path):
    exc = error(tmp_path, "D;Project Delta", "B;Project Delta")
    assert (exc.file, exc.row, exc.column) == (NAME, 5, "project_id")
    assert "'B' komt twee keer voor: rij 3 en rij 5" in str(exc)


def test_missing_required_column_fails_on_the_header(tmp_path):
    exc = error(tmp_path, ";fase;", ";stadium;")
    assert isinstance(exc, SchemaError)
    assert (exc.file, exc.row) == (NAME, 1)
    assert "verplichte kolom(men) ontbreken: fase" in str(exc)
    assert "stadium" in (exc.expected or "")  # what was found instead


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "text"),
    [
        (";2029;;0;0;0;0;20;", ";1999;;0;0;0;0;20;", 5, "opleverjaar_verwacht", "van 2000 t/m 2055"),
        (";2029;;0;0;0;0;20;", ";2056;;0;0;0;0;20;", 5, "opleverjaar_verwacht", "opleverjaar buiten het geldige bereik"),
        (";2025;2025;", ";2025;2026;", 4, "opleverjaar_gerealiseerd", "niet na het jaar van de peildatum"),
        (";2025;2025;", ";2025;;", 4, "opleverjaar_gerealiseerd", "ontbreekt bij fase 'opgeleverd'"),
        (";2027;;15;", ";2027;2025;15;", 3, "opleverjaar_gerealiseerd", "terwijl de fase niet 'opgeleverd' is"),
        (";WK039201;", ";WK039701;", 5, "wijk_code", "wijk ligt niet in gemeente GM0392"),
        (";WK039201;", ";Noord;", 5, "wijk_code", "geen geldige wijkcode"),
        ("D;Project Delta;GM0392;", "D;Project Delta;GM0397;", 5, "gemeente_code", "gemeente in de bestandsnaam"),
        (";650,00;80,0;9", ";650,00;80,0;16", 3, "aantal_sociaal_onder_aftoppingsgrens", "<= sociale_huur"),
        (";0;0;0;0;20;", ";0;0;0;0;0;", 5, "sociale_huur, middenhuur, middeldure_koop, vrije_sector_huur, vrije_sector_koop",
         "project zonder woningen"),
        ("C;Project Charlie;", "C;;", 4, "projectnaam", "verplichte waarde ontbreekt"),
    ],
)
def test_rules_name_row_and_column(tmp_path, old, new, row, column, text):
    exc = error(tmp_path, old, new)
    assert (exc.file, exc.row, exc.column) == (NAME, row, column)
    assert text in str(exc)


def test_file_name_must_give_gemeente_and_peildatum(tmp_path):
    for name in ("planlijst_haarlem_2025-07-01.csv", "planlijst_GM0392_2025-02-30.csv", "planlijst_GM0392.csv"):
        path = tmp_path / name
        shutil.copy(FIXTURE, path)
        with pytest.raises(SourceError, match="bestandsnaam|peildatum"):
            read_planlijst(path)


def test_warnings_for_late_projects_and_rent_without_social_homes(tmp_path):
    # D expected in 2024 while the list is of 2025 and D is not delivered; D has a rent but no social homes
    path = variant(tmp_path, ";2029;;0;0;0;0;20;;110,0;", ";2024;;0;0;0;0;20;640,00;110,0;")
    warnings = read_planlijst(path).warnings
    assert "1 project(en) niet opgeleverd met een verwacht opleverjaar vóór 2025 (rij 5)" in warnings
    assert "1 project(en) met huur_sociaal_gemiddeld maar zonder sociale huur (rij 5)" in warnings


def test_the_example_template_reads(tmp_path):
    path = tmp_path / "planlijst_GM0392_2025-07-01.csv"
    shutil.copy(TEMPLATE, path)
    frame = read_planlijst(path).frame
    assert len(frame) == 5
    # 48+30+18+0+24, 12+8, 120+60+60+30+30, 14, 20+10+5+15
    assert frame["woningen_totaal"].tolist() == [120, 20, 300, 14, 50]
    assert pd.isna(frame["wijk_code"].iloc[4])


def test_the_sample_plan_lists_read():
    files = sorted(SAMPLE.glob("planlijst_*"))
    assert [f.name.split("_")[1] for f in files] == ["GM0392"] * 4 + ["GM0397"] * 4
    for path in files:
        result = read_planlijst(path)
        assert result.warnings == [], path.name
        count = len(result.frame)
        assert (35 <= count <= 50) if "GM0392" in path.name else (5 <= count <= 12), (path.name, count)
        assert result.frame["woningen_totaal"].between(5, 400).all()


def run_raw(landing: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize([raw_planlijst], resources={"landing": LandingFolder(path=str(landing))}, raise_on_error=False)


def test_raw_planlijst_reads_every_list_with_metadata():
    result = run_raw(SAMPLE.parent)
    assert result.success
    frame = result.output_for_node("raw_planlijst")
    assert frame["_source_file"].nunique() == 8
    assert frame["_source_snapshot"].str.match(r"planlijst/planlijst_GM039[27]_\d{4}-\d{2}-\d{2}\.(csv|xlsx)@[0-9a-f]{12}$").all()
    materialization = result.asset_materializations_for_node("raw_planlijst")[0]
    assert materialization.metadata["dagster/row_count"].value == len(frame)


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message


def test_raw_planlijst_without_a_plan_list_fails_clearly(tmp_path):
    (tmp_path / "planlijst").mkdir()
    result = run_raw(tmp_path)
    assert not result.success
    assert "geen bestand gevonden in landingsmap 'planlijst'" in failure_text(result)
    result = run_raw(tmp_path / "nergens")  # no planlijst folder at all
    assert "geen bestand gevonden in landingsmap 'planlijst'" in failure_text(result)


def test_raw_planlijst_refuses_two_lists_for_one_gemeente_and_peildatum(tmp_path):
    folder = tmp_path / "planlijst"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / FIXTURE.name)
    shutil.copy(FIXTURE, folder / "planlijst_GM0392_2025-07-01.txt")
    result = run_raw(tmp_path)
    assert "tweede planlijst voor GM0392 op 2025-07-01" in failure_text(result)


def test_raw_planlijst_reports_the_reader_error(tmp_path):
    variant(tmp_path, ";vergunning;", ";bouwrijp;")
    result = run_raw(tmp_path)
    text = failure_text(result)
    assert "planlijst/planlijst_GM0392_2025-07-01.csv, rij 3, kolom 'fase': onbekende fase" in text
