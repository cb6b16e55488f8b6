"""agreements/*.yaml: the shipped files validate, and a broken file fails with the file and the
dotted path of the bad field (with the agreement's id)."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from assets.kpi import KPI_TABLES
from assets.monitor import load_monitor_agreements
from sources.agreements import AgreementError, load_agreement_file, load_agreements

ROOT = Path(__file__).resolve().parent.parent
AGREEMENTS = ROOT / "agreements"
DICTIONARY = ROOT / "docs" / "data-dictionary.md"
KPI_COLUMNS = {t.name: t.column_names for t in KPI_TABLES}

MINIMAL: dict[str, Any] = {
    "gemeente": {"code": "GM0392", "naam": "Haarlem"},
    "period": {"start": 2022, "end": 2025},
    "title": "Testafspraken",
    "parties": {"gemeente": "Gemeente Haarlem", "corporaties": ["Elan Wonen"], "huurdersorganisaties": []},
    "agreements": [
        {
            "id": "6.3",
            "theme": "Duurzaamheid",
            "title": "Geen EFG",
            "trekker": "corporaties",
            "priority": "T1",
            "kpi": {
                "table": "kpi_energielabels",
                "filters": {"indicator": "efg_aantal", "corporatie": "alle"},
                "comparison": "<=",
                "target": 0,
                "target_year": 2026,
                "baseline": {"value": 4179, "year": 2021},
                "tolerance": "5%",
                "rule": "linear_trajectory",
            },
        },
        {
            "id": "M2",
            "year": 2024,
            "theme": "Monitoring",
            "title": "Kerncijfers",
            "trekker": "gemeente",
            "priority": "doorlopend",
            "manual": {
                "reason": "geen norm",
                "judgements": [
                    {"status": "geel", "explanation": "deels", "date": "2024-06-01", "author": "A. Steward",
                     "evidence": "overleg", "confidence": "middel"},
                    {"status": "groen", "explanation": "compleet", "date": "2025-02-01", "author": "A. Steward",
                     "confidence": "hoog"},
                ],
            },
        },
    ],
}


def write(directory: Path, data: dict[str, Any], name: str = "haarlem-2022-2025.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(tmp_path: Path, change) -> AgreementError:
    data = copy.deepcopy(MINIMAL)
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(AgreementError) as info:
        load_agreement_file(path, kpi_columns=KPI_COLUMNS)
    assert path.name in str(info.value)
    return info.value


def test_the_four_agreement_sets_validate_against_the_kpi_registry():
    sets = load_monitor_agreements(AGREEMENTS)
    assert [s.file_stem for s in sets] == [
        "alphen-aan-den-rijn-2019", "haarlem-2022-2025", "harderwijk-2024", "heemstede-2024-2027"
    ]
    by_name = {s.gemeente.naam: s for s in sets}
    assert by_name["Heemstede"].gemeente.code == "GM0397"
    heemstede = {(a.id, a.year) for a in by_name["Heemstede"].agreements}
    assert {("J 1.9", 2024), ("J 1.9", 2025), ("M2", None)} <= heemstede
    haarlem_efg = next(a for a in by_name["Haarlem"].agreements if a.kpi and a.kpi.filters["indicator"] == "efg_aantal")
    assert haarlem_efg.kpi.baseline.value == 4179 and haarlem_efg.kpi.baseline.year == 2021
    assert haarlem_efg.kpi.target == 0 and haarlem_efg.kpi.target_year == 2026
    assert sum(len(s.agreements) for s in sets) == 29
    # every agreement without a number is judged by the steward, with the reason written out
    manual = [a for s in sets for a in s.agreements if a.manual]
    assert {a.title for a in manual} >= {"Kerncijfers volkshuisvesting jaarlijks gedeeld", "Labelverbetering van F naar B"}
    assert all(a.manual.reason for a in manual)


def test_every_binding_names_an_indicator_of_its_table_in_the_data_dictionary():
    text = DICTIONARY.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## kpi\.(\w+)\n\n(.*?)\n\n", text, flags=re.M | re.S))
    for agreement_set in load_monitor_agreements(AGREEMENTS):
        for agreement in agreement_set.agreements:
            if agreement.kpi is None:
                continue
            table = agreement.kpi.table
            assert table in sections, table
            indicator = agreement.kpi.filters["indicator"]
            assert re.search(rf"\b{re.escape(indicator)}\b", sections[table], flags=re.I), f"{agreement.id}: {table}.{indicator}"


def test_a_minimal_file_loads_with_ids_as_written_and_relative_tolerance(tmp_path):
    data = copy.deepcopy(MINIMAL)
    data["agreements"][1]["id"] = "6.10"  # would become 6.1 with YAML's implicit float
    write(tmp_path, data)
    [loaded] = load_agreements(tmp_path, kpi_columns=KPI_COLUMNS)
    assert [a.id for a in loaded.agreements] == ["6.3", "6.10"]
    tolerance = loaded.agreements[0].kpi.tolerance
    assert tolerance.relative and tolerance.absolute(-4179) == pytest.approx(208.95)
    manual = loaded.agreements[1].manual
    assert manual.latest(date(2024, 12, 31)).status == "geel"  # the February 2025 judgement did not exist yet
    assert manual.latest(date(2025, 3, 1)).status == "groen"
    assert manual.latest(date(2024, 1, 1)) is None


def test_a_missing_field_names_file_and_path(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][0].pop("trekker"))
    assert "agreements[0] (id 6.3).trekker: verplicht veld ontbreekt" in str(error)
    assert error.field_path == "agreements[0] (id 6.3).trekker"


def test_a_bad_status_lists_the_allowed_ones(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][1]["manual"]["judgements"][0].update(status="oranje"))
    message = str(error)
    assert "agreements[1] (id M2).manual.judgements[0].status" in message
    assert "'oranje'" in message and "'groen'" in message and "'rood'" in message


def test_an_unknown_kpi_table_names_the_known_ones(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].update(table="kpi_energielabel"))
    message = str(error)
    assert "agreements[0] (id 6.3).kpi.table: onbekende KPI-tabel 'kpi_energielabel'" in message
    assert "kpi_energielabels" in message


def test_an_unknown_filter_column_and_a_missing_indicator(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"]["filters"].update(segment="DAEB"))
    assert "kpi.filters" in str(error) and "'segment'" in str(error) and "kpi_energielabels" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"]["filters"].pop("indicator"))
    assert "indicator" in str(error)


def test_binding_and_manual_exclude_each_other(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][1].update(kpi=copy.deepcopy(d["agreements"][0]["kpi"])))
    assert "agreements[1] (id M2)" in str(error) and "precies een van 'kpi'" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][1].pop("manual"))
    assert "precies een van 'kpi'" in str(error)


def test_rule_parameters_are_checked(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].pop("target_year"))
    assert "target_year" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].update(rule="lineair"))
    assert "kpi.rule: ongeldige waarde 'lineair'" in str(error) and "'linear_trajectory'" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].update(comparison="=<"))
    assert "kpi.comparison" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].update(rule="growth_ratio", tolerance=3))
    assert "percentage van het benodigde tempo" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"].update(cumulative_from=2022))
    assert "cumulative_from en baseline" in str(error)


def test_a_dutch_thousands_separator_is_refused(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"][0]["kpi"]["baseline"].update(value="4.179"))
    assert "baseline.value" in str(error) and "duizendtalscheiding" in str(error) and "4179" in str(error)


def test_duplicate_ids_and_years_outside_the_period(tmp_path):
    error = broken(tmp_path, lambda d: d["agreements"].append(copy.deepcopy(d["agreements"][0])))
    assert "'6.3' komt twee keer voor" in str(error)
    error = broken(tmp_path, lambda d: d["agreements"][1].update(year=2030))
    assert "2030 ligt buiten de periode 2022-2025" in str(error)


def test_the_file_name_must_match_gemeente_and_period(tmp_path):
    path = write(tmp_path, MINIMAL, name="haarlem.yaml")
    with pytest.raises(AgreementError, match="verwacht haarlem-2022-2025.yaml"):
        load_agreement_file(path)


def test_invalid_yaml_gives_the_line(tmp_path):
    path = tmp_path / "haarlem-2022-2025.yaml"
    path.write_text("gemeente: {code: GM0392\nperiod: [\n", encoding="utf-8")
    with pytest.raises(AgreementError, match=r"haarlem-2022-2025.yaml: geen geldige YAML \(regel \d+"):
        load_agreement_file(path)
    path.write_text("gemeente: {code: GM0392}\ngemeente: {code: GM0397}\n", encoding="utf-8")
    with pytest.raises(AgreementError, match="twee keer"):
        load_agreement_file(path)


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(AgreementError, match="niet gevonden"):
        load_agreements(tmp_path / "bestaat-niet")
