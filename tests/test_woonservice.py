"""Allocation-system exports: our template and the WoningNet flavour, CSV and XLSX, broken files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from sources.errors import SchemaError, SourceError
from sources.mapping import MappingError, load_export_mapping, template_export_mapping
from sources.woonservice import (
    TOEWIJZINGEN_DTYPES,
    WONINGZOEKENDEN_DTYPES,
    read_toewijzingen,
    read_woningzoekenden,
)

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "mappings" / "woonservice"
WONINGNET = MAPPINGS / "woningnet.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "woonservice"
TW_TEMPLATE = FIXTURES / "toewijzingen_template.csv"
WZ_TEMPLATE = FIXTURES / "woningzoekenden_template.csv"
TW_WONINGNET = FIXTURES / "toewijzingen_woningnet.csv"
WZ_WONINGNET = FIXTURES / "woningzoekenden_woningnet.csv"


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


def na(value: object) -> bool:
    return value is None or value is pd.NA or bool(pd.isna(value))


def ts(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in days]


# --- mappings --------------------------------------------------------------------------------------


def test_template_yaml_is_the_builtin_template() -> None:
    shipped = load_export_mapping(MAPPINGS / "template.yaml")
    builtin = template_export_mapping()
    assert shipped.toewijzingen == builtin.toewijzingen
    assert shipped.woningzoekenden == builtin.woningzoekenden
    assert shipped.bestand == builtin.bestand
    assert list(shipped.toewijzingen.kolommen) == [c for c in TOEWIJZINGEN_DTYPES if not c.startswith("_")]  # type: ignore[union-attr]


def test_woningnet_mapping_loads() -> None:
    mapping = load_export_mapping(WONINGNET)
    assert mapping.naam == "WoningNet"
    assert mapping.toewijzingen is not None and mapping.woningzoekenden is not None
    # the shared anchor serves every gemeente column
    assert mapping.toewijzingen.waarden["woongemeente_code"]["Haarlem"] == "GM0392"
    assert mapping.woningzoekenden.waarden["gehuisvest_gemeente_code"]["Alphen aan den Rijn"] == "GM0484"
    assert mapping.toewijzingen.waarden["voorrang"]["Geen"] is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("naam: x\ntoewijzingen:\n  kolommen: {toewijzing_id: Id, huur: Huur}\n", "onbekende contractkolom 'huur'"),
        ("naam: x\nwoningzoekenden:\n  kolommen: {woningzoekende_id: Id}\n", "periode_begin"),
        ("naam: x\nbestand: {decimaal: ',', duizendtal: ','}\ntoewijzingen: {kolommen: {}}\n", "beide"),
        ("naam: x\n", "geen sectie"),
        ("naam: x\nextra: y\ntoewijzingen: {kolommen: {}}\n", "onbekende sleutel 'extra'"),
        (
            "naam: x\nwoningzoekenden:\n  kolommen: {woningzoekende_id: a, periode_begin: b, periode_einde: c,"
            " woongemeente_code: d, aantal_reacties: e, gehuisvest: f, gehuisvest_via: g}\n"
            "  waarden: {gehuisvest_via: {Zelf: zelf}}\n",
            "waarden.gehuisvest_via",
        ),
    ],
)
def test_export_mapping_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "flavour.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_export_mapping(path)
    assert info.value.file == str(path)
    assert fragment in str(info.value)


def test_mapping_without_the_section(tmp_path: Path) -> None:
    path = tmp_path / "alleen_zoekers.yaml"
    path.write_text(
        "naam: Alleen zoekers\nwoningzoekenden:\n  kolommen: {woningzoekende_id: a, periode_begin: b, "
        "periode_einde: c, woongemeente_code: d, aantal_reacties: e, gehuisvest: f}\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match="geen sectie 'toewijzingen'"):
        read_toewijzingen(TW_TEMPLATE, mapping=path)


# --- template: toewijzingen ------------------------------------------------------------------------


def test_template_toewijzingen() -> None:
    result = read_toewijzingen(TW_TEMPLATE)
    frame = result.frame
    assert dtypes(frame) == TOEWIJZINGEN_DTYPES
    assert result.source_file == "woonservice/toewijzingen_template.csv"  # fixture folder is 'woonservice'
    assert frame["_source_row"].tolist() == [2, 3, 4]
    assert frame["toewijzing_id"].tolist() == ["T-2024-001", "T-2024-002", "T-2024-003"]
    assert frame["toewijzingsdatum"].tolist() == ts("2024-03-15", "2024-04-02", "2024-05-10")
    assert frame["gemeente_code"].tolist() == ["GM0392", "GM0397", "GM0392"]
    assert frame["kern"].tolist() == ["Haarlem", "Heemstede", "Haarlem"]
    assert frame.at[0, "wijk_code"] == "WK039201" and frame.at[0, "buurt_code"] == "BU03920101"
    assert frame["corporatie"].tolist() == ["Elan Wonen", "Pré Wonen", "Elan Wonen"]
    assert frame.at[0, "bag_vbo_id"] == "0392010000012345"
    assert frame["postcode"].tolist()[:2] == ["2011AB", "2101BC"]
    assert frame["huisnummer"].tolist() == [12, 7, pd.NA]
    assert frame.at[0, "huisletter"] == "A"
    assert frame.at[1, "huisnummertoevoeging"] == "BIS"
    assert frame["netto_kale_huur"].tolist() == [612.34, 598.5, 701.0]
    assert frame["woningtype"].tolist() == ["EGW", "MGW", "MGW"]  # 'mgw' upper-cased
    assert frame["kamers"].tolist() == [4, 2, 3]
    assert frame["publicatiemodel"].tolist() == ["AAN", "LOT", "DIR"]
    assert na(frame.at[0, "voorrang"]) and frame.at[2, "voorrang"] == "URG"
    assert frame.at[2, "voorrang_detail"] == "STA"
    assert frame["aantal_reacties"].tolist() == [87, 140, pd.NA]
    assert frame["inschrijfdatum"].tolist()[:2] == ts("2015-02-01", "2019-06-01")
    assert frame["zoekduur_maanden"].tolist()[:2] == [36.0, 12.5]
    assert frame["huishoudinkomen"].tolist()[:2] == [28500.0, 24075.0]
    assert frame["huishoudgrootte"].tolist() == [2, 1, 4]
    assert frame["leeftijd_hoofdaanvrager"].tolist() == [45, 23, 31]
    assert frame["woongemeente_code"].tolist()[:2] == ["GM0392", "GM0392"]
    assert frame["passendheid"].tolist() == ["PAS", "PAS", "NVT"]
    assert frame["doorstromer"].tolist() == [False, True, pd.NA]
    assert frame["woningzoekende_id"].tolist()[:2] == ["WZ-001", "WZ-002"]
    assert result.drift.is_empty and result.warnings == []
    assert result.metadata["periode"] == "2024-03-15..2024-05-10"


def test_template_toewijzingen_in_landing_folder_gets_relative_name(tmp_path: Path) -> None:
    path = tmp_path / "woonservice" / "toewijzingen_2024.csv"
    path.parent.mkdir()
    path.write_bytes(TW_TEMPLATE.read_bytes())
    assert read_toewijzingen(path).frame["_source_file"].iloc[0] == "woonservice/toewijzingen_2024.csv"


def test_template_toewijzingen_cp1252_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / TW_TEMPLATE.name
    path.write_bytes(TW_TEMPLATE.read_text(encoding="utf-8").encode("cp1252"))
    pd.testing.assert_frame_equal(
        read_toewijzingen(path, display_name="x.csv").frame,
        read_toewijzingen(TW_TEMPLATE, display_name="x.csv").frame,
    )


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_template_toewijzingen_xlsx_matches_csv(tmp_path: Path) -> None:
    header = list(read_toewijzingen(TW_TEMPLATE).frame.columns[:-2])
    csv_frame = read_toewijzingen(TW_TEMPLATE).frame
    rows: list[list[object]] = [header]
    for record in csv_frame.to_dict("records"):
        row: list[object] = []
        for column in header:
            value = record[column]
            if na(value):
                row.append(None)
            elif isinstance(value, pd.Timestamp):
                row.append(value.to_pydatetime())  # a real Excel date
            elif isinstance(value, bool):
                row.append("ja" if value else "nee")
            elif column == "bag_vbo_id":
                row.append(int(value))  # Excel drops the leading zero
            else:
                row.append(value.item() if hasattr(value, "item") else value)
        rows.append(row)
    path = write_xlsx(tmp_path / "toewijzingen.xlsx", rows)
    result = read_toewijzingen(path)
    expected = csv_frame.assign(_source_file="toewijzingen.xlsx")
    expected["_source_file"] = expected["_source_file"].astype("str")
    pd.testing.assert_frame_equal(result.frame, expected)
    assert result.metadata["bag_ids_aangevuld"] == 1 and result.metadata["formaat"] == "xlsx"


# --- template: woningzoekenden ---------------------------------------------------------------------


def test_template_woningzoekenden() -> None:
    result = read_woningzoekenden(WZ_TEMPLATE)
    frame = result.frame
    assert dtypes(frame) == WONINGZOEKENDEN_DTYPES
    assert frame["_source_row"].tolist() == [2, 3, 4, 5]
    assert frame["woningzoekende_id"].tolist() == ["WZ-001", "WZ-002", "WZ-003", "WZ-001"]
    assert frame["periode_begin"].tolist() == ts("2024-01-01", "2024-01-01", "2024-01-01", "2023-01-01")
    assert frame["periode_einde"].tolist() == ts("2024-12-31", "2024-12-31", "2024-12-31", "2023-12-31")
    assert frame["woongemeente_code"].tolist() == ["GM0392", "GM0392", "GM0397", "GM0392"]
    assert frame["inkomensklasse"].tolist() == ["secundair", "primair", "midden", "secundair"]
    assert frame["huishoudinkomen"].tolist()[:2] == [28500.0, 24075.0] and na(frame.at[2, "huishoudinkomen"])
    assert frame["huishoudgrootte"].tolist() == [2, 1, 3, 2]
    assert frame["leeftijdsklasse"].tolist() == ["35-54", "23-34", "55-74", "35-54"]
    assert frame["aantal_reacties"].tolist() == [14, 3, 0, 20]
    assert frame["aantal_reacties_woongemeente"].tolist() == [10, 0, pd.NA, 12]
    assert frame["gehuisvest"].tolist() == [True, True, False, False]
    assert frame["gehuisvest_via"].tolist()[:2] == ["aanbod", "loting"]  # 'Loting' lower-cased
    assert frame["gehuisvest_gemeente_code"].tolist()[:2] == ["GM0392", "GM0397"]
    assert result.metadata["periodes"] == ["2023-01-01..2023-12-31", "2024-01-01..2024-12-31"]


# --- WoningNet flavour -----------------------------------------------------------------------------


def test_woningnet_toewijzingen() -> None:
    result = read_toewijzingen(TW_WONINGNET, mapping=WONINGNET)
    frame = result.frame
    assert dtypes(frame) == TOEWIJZINGEN_DTYPES
    assert frame["_source_row"].tolist() == [2, 3, 4]
    assert frame["toewijzing_id"].tolist() == ["WN-5001", "WN-5002", "WN-5003"]
    assert frame["toewijzingsdatum"].tolist() == ts("2024-03-15", "2024-04-02", "2024-05-10")
    assert frame["gemeente_code"].tolist() == ["GM0392", "GM0397", "GM0484"]
    assert frame["kern"].tolist() == ["Haarlem", "Heemstede", "Boskoop"]
    assert frame["corporatie"].tolist() == ["Elan Wonen", "Pré Wonen", "Woonforte"]
    assert frame.at[0, "bag_vbo_id"] == "0392010000012345"
    assert frame["postcode"].tolist() == ["2011AB", "2101BC", "2771AB"]
    assert frame["huisnummer"].tolist() == [12, 7, 3]
    assert frame.at[0, "huisletter"] == "A"
    assert na(frame.at[0, "huisnummertoevoeging"])
    assert frame["huisnummertoevoeging"].tolist()[1:] == ["BIS", "2"]
    assert frame["netto_kale_huur"].tolist() == [612.34, 1050.0, 701.0]
    assert frame["woningtype"].tolist() == ["EGW", "MGW", "MGW"]
    assert frame["publicatiemodel"].tolist() == ["AAN", "LOT", "DIR"]
    assert frame["voorrang"].isna().tolist() == [True, True, False] and frame.at[2, "voorrang"] == "URG"
    assert frame.at[2, "voorrang_detail"] == "STA"
    assert frame["inschrijfdatum"].tolist()[:2] == ts("2015-02-01", "2019-06-01")
    assert frame["zoekduur_maanden"].tolist()[:2] == [36.0, 12.5]
    assert frame["huishoudinkomen"].tolist()[:2] == [28500.0, 24075.0]
    assert frame["woongemeente_code"].tolist() == ["GM0392", "GM0392", "GM0546"]
    assert frame["passendheid"].tolist() == ["PAS", "NIE", "NVT"]
    assert frame["doorstromer"].tolist() == [False, True, False]
    assert frame["woningzoekende_id"].tolist() == ["R-1", "R-2", "R-3"]
    assert result.drift.is_empty
    assert result.metadata["mapping"] == str(WONINGNET)


def test_woningnet_woningzoekenden() -> None:
    frame = read_woningzoekenden(WZ_WONINGNET, mapping=load_export_mapping(WONINGNET)).frame
    assert dtypes(frame) == WONINGZOEKENDEN_DTYPES
    assert frame["woningzoekende_id"].tolist() == ["R-1", "R-2", "R-4"]
    assert frame["periode_einde"].tolist() == ts("2024-12-31", "2024-12-31", "2024-06-30")
    assert frame["woongemeente_code"].tolist() == ["GM0392", "GM0392", "GM0397"]
    assert frame["inkomensklasse"].tolist() == ["secundair", "primair", "midden"]
    assert frame["huishoudinkomen"].tolist()[:2] == [28500.0, 24075.0]
    assert frame["leeftijdsklasse"].tolist() == ["35-54", "23-34", "75+"]
    assert frame["aantal_reacties"].tolist() == [14, 3, 0]
    assert frame["aantal_reacties_woongemeente"].tolist() == [10, 1, 0]
    assert frame["gehuisvest"].tolist() == [True, True, False]
    assert frame["gehuisvest_via"].tolist()[:2] == ["aanbod", "loting"]
    assert frame["gehuisvest_gemeente_code"].tolist()[:2] == ["GM0392", "GM0397"]


def test_woningnet_xlsx_with_text_amounts_and_excel_dates(tmp_path: Path) -> None:
    header: list[object] = list(TW_WONINGNET.read_text(encoding="utf-8-sig").splitlines()[0].split(";"))
    row: dict[object, object] = {h: None for h in header}
    row.update(
        {
            "Contractnummer": 5004, "Datum toewijzing": dt.datetime(2024, 6, 3), "Gemeente": "HAARLEM",
            "Verhuurder": "Elan Wonen", "Netto huur": "€ 1.050,25", "Publicatiemodel": "loting",
            "Voorrang": "Urgentie", "Voorrangscategorie": "Medisch", "Aantal reacties": 12,
            "Verzamelinkomen": 31250.5, "Huisnummer": "14-b", "Postcode": "2011 CD",
        }
    )  # fmt: skip
    path = write_xlsx(tmp_path / "toewijzingen_juni.xlsx", [header, [row[h] for h in header]])
    frame = read_toewijzingen(path, mapping=WONINGNET).frame
    record = frame.iloc[0]
    assert record["toewijzing_id"] == "5004"
    assert record["toewijzingsdatum"] == pd.Timestamp("2024-06-03")
    assert record["gemeente_code"] == "GM0392"
    assert record["netto_kale_huur"] == 1050.25
    assert record["huishoudinkomen"] == 31250.5  # numeric cell, decimal comma convention
    assert (record["publicatiemodel"], record["voorrang"], record["voorrang_detail"]) == ("LOT", "URG", "MED")
    assert (record["huisnummer"], record["huisletter"]) == (14, "B")


# --- broken files ----------------------------------------------------------------------------------


def template_file(tmp_path: Path, source: Path, old: str, new: str, *, encoding: str = "utf-8") -> Path:
    text = source.read_text(encoding="utf-8-sig")
    assert old in text, old
    path = tmp_path / source.name
    path.write_bytes(text.replace(old, new).encode(encoding))
    return path


def tw_error(tmp_path: Path, old: str, new: str, source: Path = TW_TEMPLATE, mapping: Path | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_toewijzingen(template_file(tmp_path, source, old, new), mapping=mapping)
    assert info.value.file == source.name
    return info.value


def wz_error(tmp_path: Path, old: str, new: str, source: Path = WZ_TEMPLATE, mapping: Path | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_woningzoekenden(template_file(tmp_path, source, old, new), mapping=mapping)
    assert info.value.file == source.name
    return info.value


def test_missing_required_column(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "publicatiemodel;", "model;")
    assert isinstance(err, SchemaError) and err.row == 1
    assert "publicatiemodel" in err.message


def test_missing_required_column_woningnet(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "Netto huur", "Huur", TW_WONINGNET, WONINGNET)
    assert isinstance(err, SchemaError) and err.row == 1
    assert "netto_kale_huur" in err.message and "Netto huur" in str(err)


def test_missing_optional_column_is_drift(tmp_path: Path) -> None:
    path = template_file(tmp_path, TW_TEMPLATE, ";kern;", ";plaatsnaam;")
    result = read_toewijzingen(path)
    assert result.drift.missing_optional == ["kern"]
    assert result.drift.unknown == ["plaatsnaam"]
    assert result.frame["kern"].isna().all() and str(result.frame["kern"].dtype) == "str"


def test_wrong_separator_in_rows(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "T-2024-002;02-04-2024;GM0397;", "T-2024-002,02-04-2024,GM0397,")
    assert err.row == 3 and "velden" in err.message


def test_wrong_separator_woningnet(tmp_path: Path) -> None:
    path = tmp_path / TW_WONINGNET.name
    path.write_text(TW_WONINGNET.read_text(encoding="utf-8-sig").replace(";", "\t"), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_toewijzingen(path, mapping=WONINGNET)
    assert info.value.row == 1 and "'\\t'" in info.value.message


def test_unparseable_date(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "02-04-2024", "02-14-2024")
    assert (err.row, err.column, err.value) == (3, "toewijzingsdatum", "02-14-2024")


def test_unparseable_date_woningnet(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "02/04/2024", "2 april 2024", TW_WONINGNET, WONINGNET)
    assert (err.row, err.column, err.value) == (3, "Datum toewijzing", "2 april 2024")
    assert "contractkolom toewijzingsdatum" in err.message


def test_date_after_sane_bound(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "15-03-2024", "15-03-2999")
    assert (err.row, err.column, err.value) == (2, "toewijzingsdatum", "15-03-2999")
    assert "bereik" in err.message


def test_unparseable_number(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "612,34", "612.34")  # decimal point in a decimal-comma template
    assert (err.row, err.column, err.value) == (2, "netto_kale_huur", "612.34")


def test_unparseable_amount_woningnet(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "€ 1.050,00", "€ 1.050,-", TW_WONINGNET, WONINGNET)
    assert (err.row, err.column, err.value) == (3, "Netto huur", "€ 1.050,-")


def test_negative_rent(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "598,50", "-598,50")
    assert (err.row, err.column, err.value) == (3, "netto_kale_huur", "-598,50")


def test_negative_count(tmp_path: Path) -> None:
    err = tw_error(tmp_path, ";140;", ";-1;")
    assert (err.row, err.column, err.value) == (3, "aantal_reacties", "-1")


def test_negative_income(tmp_path: Path) -> None:
    err = wz_error(tmp_path, "24.075", "-24.075")
    assert (err.row, err.column) == (3, "huishoudinkomen")


@pytest.mark.parametrize(
    ("old", "new", "row", "column"),
    [
        (";lot;", ";LOTERIJ;", 3, "publicatiemodel"),
        (";URG;", ";SPOED;", 4, "voorrang"),
        (";NVT;", ";MISSCHIEN;", 4, "passendheid"),
        (";mgw;", ";FLAT;", 3, "woningtype"),
        (";GM0397;Heemstede;", ";GM397X;Heemstede;", 3, "gemeente_code"),
        (";;Elan Wonen;;", ";BU0392;Elan Wonen;;", 4, "buurt_code"),
        (";nee;WZ-001", ";soms;WZ-001", 2, "doorstromer"),
    ],
)
def test_unknown_code_toewijzingen(tmp_path: Path, old: str, new: str, row: int, column: str) -> None:
    err = tw_error(tmp_path, old, new)
    assert (err.row, err.column, err.value) == (row, column, new.strip(";").split(";")[0])


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "value"),
    [
        (";Loting;", ";Lotto;", 3, "gehuisvest_via", "Lotto"),
        (";midden;", ";modaal;", 4, "inkomensklasse", "modaal"),
        (";55-74;", ";55-75;", 4, "leeftijdsklasse", "55-75"),
    ],
)
def test_unknown_code_woningzoekenden(tmp_path: Path, old: str, new: str, row: int, column: str, value: str) -> None:
    err = wz_error(tmp_path, old, new)
    assert (err.row, err.column, err.value) == (row, column, value)


def test_unknown_gemeente_name_woningnet(tmp_path: Path) -> None:
    err = tw_error(tmp_path, ";Alphen aan den Rijn;", ";Utrecht;", TW_WONINGNET, WONINGNET)
    assert (err.row, err.column, err.value) == (4, "Gemeente", "Utrecht")
    assert "gemeentenaam uit de mapping" in str(err)


def test_unknown_publicatiemodel_word_woningnet(tmp_path: Path) -> None:
    err = tw_error(tmp_path, ";Loting;", ";Kavelloting;", TW_WONINGNET, WONINGNET)
    assert (err.row, err.column, err.value) == (3, "Publicatiemodel", "Kavelloting")
    assert "AAN" in (err.expected or "")


def test_required_value_missing(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "T-2024-003;20240510;GM0392;", "T-2024-003;;GM0392;")
    assert (err.row, err.column) == (4, "toewijzingsdatum") and "ontbreekt" in err.message


def test_reacties_woongemeente_above_total(tmp_path: Path) -> None:
    err = wz_error(tmp_path, ";14;10;", ";14;15;")
    assert (err.row, err.column, err.value) == (2, "aantal_reacties_woongemeente", 15)


def test_period_end_before_begin(tmp_path: Path) -> None:
    err = wz_error(tmp_path, "WZ-003;01-01-2024;31-12-2024", "WZ-003;01-01-2024;31-12-2023")
    assert (err.row, err.column, err.value) == (4, "periode_einde", "31-12-2023")


def test_housed_via_without_housed(tmp_path: Path) -> None:
    err = wz_error(tmp_path, ";ja;aanbod;", ";nee;aanbod;")
    assert (err.row, err.column) == (2, "gehuisvest_via")


def test_duplicate_toewijzing_id_names_both_rows(tmp_path: Path) -> None:
    err = tw_error(tmp_path, "T-2024-003", "T-2024-001")
    assert (err.row, err.column) == (4, "toewijzing_id")
    assert "rij 2 en rij 4" in err.message


def test_duplicate_seeker_period_names_both_rows(tmp_path: Path) -> None:
    err = wz_error(tmp_path, "WZ-001;01-01-2023;31-12-2023", "WZ-001;01-01-2024;31-12-2024")
    assert (err.row, err.column) == (5, "woningzoekende_id, periode_begin")
    assert "rij 2 en rij 5" in err.message and "WZ-001, 01-01-2024" in err.message


def test_same_seeker_in_two_periods_is_fine() -> None:
    frame = read_woningzoekenden(WZ_TEMPLATE).frame
    assert (frame["woningzoekende_id"] == "WZ-001").sum() == 2


def test_duplicated_header(tmp_path: Path) -> None:
    err = tw_error(tmp_path, ";kern;", ";Corporatie;")
    assert isinstance(err, SchemaError)
    assert (err.row, err.column) == (1, "corporatie")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "toewijzingen_leeg.csv"
    path.write_bytes(b"")
    with pytest.raises(SchemaError) as info:
        read_toewijzingen(path)
    assert (info.value.file, info.value.row) == ("toewijzingen_leeg.csv", 1)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "woningzoekenden_leeg.csv"
    path.write_text(WZ_TEMPLATE.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="geen rijen"):
        read_woningzoekenden(path)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "toewijzingen.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(SourceError, match=r"\.xls"):
        read_toewijzingen(path)


def test_xlsx_named_csv(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "toewijzingen.xlsx", [["toewijzing_id"], ["1"]]).rename(tmp_path / "toewijzingen.csv")
    with pytest.raises(SourceError, match="binair"):
        read_toewijzingen(path)
