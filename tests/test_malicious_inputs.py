"""Oversized and malicious files are refused with a clear Dutch message, or read as values only.

- zip bombs: a download that unpacks beyond the size limit, one that lies about its size, and one
  that is compressed suspiciously well while staying under the size limit (ratio limit); the same
  for XLSX workbooks (which are zip files), plus a sheet that claims 16,384 columns;
- nested zips and zip-slip member names ('../../etc/passwd.csv');
- XLSX with formulas (the value Excel saved is read, nothing is evaluated; a formula without a
  saved value is refused with row and column), with external links or macros (values only), with
  an XML entity bomb;
- paths that point outside the landing folder: '..', absolute paths and symlinks, through the
  LandingFolder resource, the stock-list discovery, the landing-folder sensor and mapping names;
- hostile names in configuration (SQL injection, Unicode look-alikes, very long names) through the
  mapping loader and warehouse.TableSpec / Warehouse.publish on a scratch warehouse, which must be
  left unchanged.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from assets.resources import LandingFolder, OutsideLandingError
from pipelines.sensors import build_landing_sensor, folder_fingerprints, outside_landing
from sources import bezit, ep_online, formats, planlijst
from sources.agreements import AgreementError, load_agreement_file
from sources.errors import SourceError
from sources.formats import read_xlsx
from sources.mapping import MappingError, load_bezit_mapping, load_export_mapping
from warehouse import TableSpec, Warehouse

ROOT = Path(__file__).resolve().parent.parent
EP_CSV = ROOT / "tests" / "fixtures" / "ep_online" / "v20251101_v4.csv"
MAPPINGS = ROOT / "mappings"

# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ep_rows(copies: int) -> bytes:
    """The EP-online fixture with its last certificate repeated `copies` times (very compressible)."""
    lines = EP_CSV.read_bytes().splitlines(keepends=True)
    return b"".join(lines) + lines[-1] * copies


def patch_sizes(data: bytes, *, file_size: int | None = None, flags: int | None = None) -> bytes:
    """Rewrite the declared size / flags of the (only) member in both the local and central header."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    central = out.find(b"PK\x01\x02")
    if file_size is not None:
        struct.pack_into("<I", out, local + 22, file_size)
        struct.pack_into("<I", out, central + 24, file_size)
    if flags is not None:
        struct.pack_into("<H", out, local + 6, flags)
        struct.pack_into("<H", out, central + 8, flags)
    return bytes(out)


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_P = "http://schemas.openxmlformats.org/package/2006/relationships"


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, tuple):  # (formula, saved value or None, cell type or None)
        formula, value, kind = cell
        kind_attr = f' t="{kind}"' if kind else ""
        saved = f"<v>{value}</v>" if value is not None else ""
        return f'<c r="{ref}"{kind_attr}><f>{formula}</f>{saved}</c>'
    if isinstance(cell, int | float):
        return f'<c r="{ref}"><v>{cell}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{cell}</t></is></c>'


def workbook(
    rows: list[list[object]] | None = None,
    *,
    sheet_xml: str | None = None,
    macros: bool = False,
    external_link: bool = False,
    dimension: str | None = None,
    padding: int = 0,
) -> bytes:
    """A minimal XLSX written by hand, so the test controls every part (formulas with or without a
    saved value, external links, a VBA project, a lying dimension, XML that compresses very well)."""
    if sheet_xml is None:
        body = "".join(
            f'<row r="{r}">' + "".join(_cell(f"{_column(c)}{r}", cell) for c, cell in enumerate(row)) + "</row>"
            for r, row in enumerate(rows or [], start=1)
        )
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        pad = f"<!--{' ' * padding}-->" if padding else ""
        sheet_xml = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{pad}'
            f'<worksheet xmlns="{_NS}" xmlns:r="{_R}">{dim}<sheetData>{body}</sheetData></worksheet>'
        )
    main = (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        if macros
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    types = [
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
    ]
    relations = [f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>']
    parts: dict[str, bytes] = {}
    references = ""
    if macros:
        types.append('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
        relations.append(
            '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/>'
        )
        parts["xl/vbaProject.bin"] = b'\xd0\xcf\x11\xe0Sub Auto_Open(): Shell "calc.exe": End Sub'
    if external_link:
        types.append(
            '<Override PartName="/xl/externalLinks/externalLink1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
        )
        relations.append(f'<Relationship Id="rId8" Type="{_R}/externalLink" Target="externalLinks/externalLink1.xml"/>')
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="{_NS}" xmlns:r="{_R}">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Blad1"/></sheetNames><sheetDataSet>'
            '<sheetData sheetId="0"><row r="1"><cell r="A1"><v>42</v></cell></row></sheetData></sheetDataSet>'
            "</externalBook></externalLink>"
        ).encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_P}">'
            f'<Relationship Id="rId1" Type="{_R}/externalLinkPath" Target="file:///etc/passwd" TargetMode="External"/>'
            "</Relationships>"
        ).encode()
        references = '<externalReferences><externalReference r:id="rId8"/></externalReferences>'
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' + "".join(types) + "</Types>"
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" xmlns:r="{_R}">'
        f'<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets>{references}</workbook>'
    )
    members = {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_P}">'
            f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": book.encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_P}">'
            + "".join(relations)
            + "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_xml.encode(),
        **parts,
    }
    return zip_of(members)


PLANLIJST_HEADER = [
    "project_id", "projectnaam", "gemeente_code", "wijk_code", "fase", "opleverjaar_verwacht",
    "opleverjaar_gerealiseerd", "sociale_huur", "middenhuur", "middeldure_koop", "vrije_sector_huur",
    "vrije_sector_koop", "huur_sociaal_gemiddeld", "m2_gemiddeld", "aantal_sociaal_onder_aftoppingsgrens",
]  # fmt: skip


def plan_row(project: str, social: object) -> list[object]:
    return [project, "Molenerf", "GM0397", "WK039701", "planvorming", 2030, None, social, 0, 4, 0, 0, None, 70, None]


# --------------------------------------------------------------------------------------------------
# EP-online downloads: zip bombs, nested zips, zip-slip
# --------------------------------------------------------------------------------------------------


def test_zip_that_unpacks_beyond_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(zip_of({"v20251101_v4.csv": ep_rows(400)}))  # ~ 90 kB unpacked
    monkeypatch.setattr(ep_online, "MAX_MEMBER_BYTES", 50_000)
    with pytest.raises(SourceError, match="CSV in het zip-bestand is te groot") as caught:
        ep_online.read_bulk(path)
    assert caught.value.file == "v20251101_v4_csv.zip"
    assert caught.value.value == "v20251101_v4.csv"


def test_zip_that_lies_about_its_size_never_unpacks_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header says 2 kB, the data is 90 kB: zipfile stops at the declared size, the CRC fails."""
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(patch_sizes(zip_of({"v20251101_v4.csv": ep_rows(400)}), file_size=2_000))
    written: list[int] = []
    feed = ep_online._LineCounter.feed
    monkeypatch.setattr(ep_online._LineCounter, "feed", lambda self, chunk: (written.append(len(chunk)), feed(self, chunk)))
    with pytest.raises(SourceError, match="afgebroken of beschadigd") as caught:
        ep_online.read_bulk(path)
    assert caught.value.file == "v20251101_v4_csv.zip"
    assert sum(written) <= 2_000


def test_zip_bomb_under_the_size_limit_is_refused_by_its_compression_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ep_rows(20_000)  # ~ 4.4 MB of one repeated certificate: far under 8 GiB, ratio ~ 400
    archive = zip_of({"v20251101_v4.csv": data})
    assert len(data) < ep_online.MAX_MEMBER_BYTES
    assert len(data) / len(archive) > ep_online.MAX_COMPRESSION_RATIO
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(archive)

    def unpacked(self: object, chunk: bytes) -> None:
        raise AssertionError("de zip-bom is uitgepakt voordat hij werd geweigerd")

    monkeypatch.setattr(ep_online._LineCounter, "feed", unpacked)
    with pytest.raises(SourceError, match="verdacht sterk gecomprimeerd.*zip-bom") as caught:
        ep_online.read_bulk(path)
    assert caught.value.file == "v20251101_v4_csv.zip"
    assert caught.value.value == "v20251101_v4.csv"


def test_real_downloads_stay_far_below_the_ratio_limit() -> None:
    for path in (ROOT / "data" / "sample" / "landing" / "ep_online").glob("*.zip"):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                assert info.file_size / info.compress_size < ep_online.MAX_COMPRESSION_RATIO / 10


def test_zip_holding_only_a_zip_is_refused(tmp_path: Path) -> None:
    inner = zip_of({"v20251101_v4.csv": EP_CSV.read_bytes()})
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(zip_of({"v20251101_v4_csv.zip": inner}))
    with pytest.raises(SourceError, match="precies één CSV-bestand bevatten, gevonden: geen"):
        ep_online.read_bulk(path)


def test_nested_zip_beside_the_csv_is_never_opened(tmp_path: Path) -> None:
    bomb = zip_of({"bom.csv": b"0" * 20_000_000})  # 20 MB of zeros in ~ 20 kB
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(zip_of({"v20251101_v4.csv": EP_CSV.read_bytes(), "extra.zip": bomb}))
    result = ep_online.read_bulk(path)
    assert len(result.frame) == 6
    assert any("'extra.zip'; genegeerd" in w for w in result.warnings)


def test_zip_disguised_as_the_csv_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(zip_of({"v20251101_v4.csv": zip_of({"x.csv": EP_CSV.read_bytes()})}))
    with pytest.raises(SourceError, match="binair"):
        ep_online.read_bulk(path)


ZIP_SLIP = ["../../etc/passwd.csv", "/etc/passwd.csv", "..\\..\\evil.csv", "C:/Windows/evil.csv", "sub/../../evil.csv"]


@pytest.mark.parametrize("member", ZIP_SLIP)
def test_zip_slip_member_names_are_refused(tmp_path: Path, member: str) -> None:
    landing = tmp_path / "landing" / "ep_online"
    landing.mkdir(parents=True)
    path = landing / "v20251101_v4_csv.zip"
    path.write_bytes(zip_of({member: EP_CSV.read_bytes()}))
    with pytest.raises(SourceError, match="onveilig pad") as caught:
        ep_online.read_bulk(path)
    assert caught.value.value == member
    assert not list(tmp_path.rglob("evil.csv")) and not list(tmp_path.rglob("passwd.csv"))


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v20251101_v4_csv.zip"
    path.write_bytes(patch_sizes(zip_of({"v20251101_v4.csv": EP_CSV.read_bytes()}), flags=0x1))
    with pytest.raises(SourceError, match="versleuteld"):
        ep_online.read_bulk(path)


# --------------------------------------------------------------------------------------------------
# XLSX: bombs, formulas, external links, macros
# --------------------------------------------------------------------------------------------------


def test_xlsx_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    path = tmp_path / "planlijst_GM0397_2025-07-01.xlsx"
    path.write_bytes(workbook([PLANLIJST_HEADER, plan_row("P-1", 5)], padding=5_000_000))
    with pytest.raises(SourceError, match="verdacht sterk gecomprimeerd") as caught:
        planlijst.read_planlijst(path)
    assert caught.value.file == "planlijst_GM0397_2025-07-01.xlsx"
    assert caught.value.value == "xl/worksheets/sheet1.xml"


def test_xlsx_that_unpacks_beyond_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bezitslijst.xlsx"
    path.write_bytes(workbook([["a", "b"], [1, 2]]))
    monkeypatch.setattr(formats, "MAX_TEXT_BYTES", 1_000)
    with pytest.raises(SourceError, match="uitgepakt te groot"):
        read_xlsx(path)


def test_sheet_claiming_16384_columns_is_read_no_wider_than_its_header(tmp_path: Path) -> None:
    """Every row has a cell in the last column (XFD): padding each of them to 16,384 cells would
    need gigabytes; the reader reads rows no wider than the header."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c><c r="XFD{r}"><v>9</v></c></row>'
        for r in range(2, 20_002)
    )
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>nr</t></is></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
        f'<dimension ref="A1:XFD20001"/><sheetData>{header}{rows}</sheetData></worksheet>'
    )
    path = tmp_path / "breed.xlsx"
    path.write_bytes(workbook(sheet_xml=sheet))
    tracemalloc.start()
    try:
        frame = read_xlsx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert list(frame.columns) == ["nr", "x", "_source_file", "_source_row"]
    assert len(frame) == 20_000
    assert peak < 300 * 1024**2, f"{peak / 1024**2:.0f} MB"


def test_sheet_with_more_rows_than_excel_allows_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lang.xlsx"
    path.write_bytes(workbook([["a", "b"], [1, 2]] + [[None]] * 50 + [[3, 4]]))
    monkeypatch.setattr(formats, "MAX_XLSX_ROWS", 20)
    with pytest.raises(SourceError, match="meer rijen dan Excel toestaat"):
        read_xlsx(path)


def test_xlsx_entity_bomb_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    )
    sheet = (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>'
        f'<worksheet xmlns="{_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    path = tmp_path / "lol.xlsx"
    path.write_bytes(workbook(sheet_xml=sheet))
    with pytest.raises(SourceError, match="XLSX|werkblad"):
        read_xlsx(path)


FORMULAS = [
    ["naam", "waarde", "extern"],
    ["som", ("1+1", 2, None), ("[1]Blad1!A1", 42, None)],
    ["dde", ("cmd|' /C calc'!A0", 0, None), ('WEBSERVICE("http://127.0.0.1:9/lek")', "antwoord", "str")],
    ["tekst", "=1+1", ("HYPERLINK(\"http://voorbeeld.invalid\",\"klik\")", "klik", "str")],
]
SAVED = [
    {"naam": "som", "waarde": "2", "extern": "42"},
    {"naam": "dde", "waarde": "0", "extern": "antwoord"},
    {"naam": "tekst", "waarde": "=1+1", "extern": "klik"},  # text that looks like a formula stays text
]


@pytest.mark.parametrize(
    ("macros", "external_link"), [(False, False), (True, False), (False, True), (True, True)],
    ids=["formules", "macro's", "externe-koppeling", "macro's+externe-koppeling"],
)
def test_formulas_give_their_saved_values_and_nothing_is_evaluated(
    tmp_path: Path, macros: bool, external_link: bool
) -> None:
    path = tmp_path / ("werkmap.xlsm" if macros else "werkmap.xlsx")
    path.write_bytes(workbook(FORMULAS, macros=macros, external_link=external_link))
    frame = read_xlsx(path)
    assert frame.drop(columns=["_source_file", "_source_row"]).to_dict("records") == SAVED


def test_formula_without_a_saved_value_is_refused_with_row_and_column(tmp_path: Path) -> None:
    rows = [PLANLIJST_HEADER, plan_row("P-1", 5), plan_row("P-2", ("3+4", None, None))]
    path = tmp_path / "planlijst_GM0397_2025-07-01.xlsx"
    path.write_bytes(workbook(rows))
    with pytest.raises(SourceError, match="formule zonder opgeslagen uitkomst") as caught:
        planlijst.read_planlijst(path)
    error = caught.value
    assert (error.file, error.row, error.column, error.value) == (
        "planlijst_GM0397_2025-07-01.xlsx", 3, "sociale_huur", "=3+4",
    )


def test_formula_with_a_saved_value_loads_through_a_reader(tmp_path: Path) -> None:
    rows = [PLANLIJST_HEADER, plan_row("P-1", ("3+4", 7, None))]
    path = tmp_path / "planlijst_GM0397_2025-07-01.xlsx"
    path.write_bytes(workbook(rows))
    assert planlijst.read_planlijst(path).frame["sociale_huur"].tolist() == [7]


# --------------------------------------------------------------------------------------------------
# paths outside the landing folder
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the landing folder with a 'secret' stock list and a planlijst."""
    folder = tmp_path / "elders"
    folder.mkdir()
    (folder / "geheim.csv").write_text("wachtwoord;hash\nroot;x\n")
    return folder


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for name in ("bezit", "woonservice", "planlijst", "ep_online", "leefbaarometer"):
        (root / name).mkdir(parents=True)
    return root


@pytest.mark.parametrize("name", ["../../etc", "/etc", "..", "bezit/../../elders"])
def test_landing_folder_refuses_folders_outside_it(landing: Path, outside: Path, name: str) -> None:
    with pytest.raises(OutsideLandingError, match=r"ligt buiten de landingsmap .*geweigerd") as caught:
        LandingFolder(path=str(landing)).folder(name)
    assert repr(name) in str(caught.value)


def test_landing_folder_refuses_a_sub_folder_that_is_a_symlink_out(landing: Path, outside: Path) -> None:
    (landing / "planlijst").rmdir()
    (landing / "planlijst").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutsideLandingError, match="'planlijst'"):
        LandingFolder(path=str(landing)).files("planlijst", "*")


@pytest.mark.parametrize("target", ["/etc/passwd", "elders/geheim.csv"])
def test_landing_folder_refuses_a_file_that_is_a_symlink_out(landing: Path, outside: Path, target: str) -> None:
    real = Path(target) if target.startswith("/") else outside / "geheim.csv"
    (landing / "woonservice" / "toewijzingen_2025.csv").symlink_to(real)
    with pytest.raises(OutsideLandingError, match="woonservice/toewijzingen_2025.csv verwijst naar") as caught:
        LandingFolder(path=str(landing)).files("woonservice", "toewijzingen_*")
    assert str(real.resolve()) in str(caught.value)


def test_symlink_inside_the_landing_folder_is_allowed(landing: Path) -> None:
    (landing / "woonservice" / "toewijzingen_2024.csv").write_text("x")
    (landing / "woonservice" / "toewijzingen_laatste.csv").symlink_to(landing / "woonservice" / "toewijzingen_2024.csv")
    assert len(LandingFolder(path=str(landing)).files("woonservice", "toewijzingen_*")) == 2


def test_stock_list_discovery_refuses_symlinks_out(landing: Path, outside: Path) -> None:
    (landing / "bezit" / "uwoon").symlink_to(outside, target_is_directory=True)
    (outside / "bezitslijst_uwoon_2024-12-31.csv").write_text("x")
    with pytest.raises(SourceError, match="buiten de landingsmap") as caught:
        bezit.discover_bezitslijsten(landing, MAPPINGS / "bezit")
    assert caught.value.file == "bezit/uwoon"

    (landing / "bezit" / "uwoon").unlink()
    (landing / "bezit" / "uwoon").mkdir()
    (landing / "bezit" / "uwoon" / "bezitslijst_uwoon_2024-12-31.csv").symlink_to(outside / "geheim.csv")
    with pytest.raises(SourceError, match="verwijst naar .*geheim.csv, buiten de landingsmap") as caught:
        bezit.discover_bezitslijsten(landing, MAPPINGS / "bezit")
    assert caught.value.file == "bezit/uwoon/bezitslijst_uwoon_2024-12-31.csv"


def test_sensor_never_walks_or_fingerprints_links_out_of_the_landing_folder(landing: Path, outside: Path) -> None:
    (landing / "woonservice" / "toewijzingen_2025.csv").symlink_to(outside / "geheim.csv")
    (landing / "bezit" / "uwoon").symlink_to(outside, target_is_directory=True)
    before = folder_fingerprints(landing)
    assert outside_landing(landing) == [
        f"bezit/uwoon -> {outside.resolve()}",
        f"woonservice/toewijzingen_2025.csv -> {(outside / 'geheim.csv').resolve()}",
    ]
    (outside / "geheim.csv").write_text("gewijzigd buiten de landingsmap\n" * 10)
    (outside / "nieuw.csv").write_text("x")
    assert folder_fingerprints(landing) == before  # what happens outside never triggers a run


def test_sensor_says_which_paths_it_refused(landing: Path, outside: Path) -> None:
    (landing / "planlijst" / "planlijst_GM0392_2025-07-01.csv").symlink_to(outside / "geheim.csv")
    sensor = build_landing_sensor(dg.define_asset_job("job", selection=dg.AssetSelection.assets("raw_planlijst")))
    resources = {"landing": LandingFolder(path=str(landing))}
    with dg.build_sensor_context(resources=resources) as context:
        result = sensor(context)
    assert result.skip_reason is not None
    assert "buiten de landingsmap, geweigerd: planlijst/planlijst_GM0392_2025-07-01.csv ->" in (
        result.skip_reason.skip_message or ""
    )


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", "woningnet/../../x", "WoningNet"])
def test_woonservice_mapping_name_cannot_be_a_path(landing: Path, name: str) -> None:
    with pytest.raises(ValueError, match="ongeldige mappingnaam") as caught:
        LandingFolder(path=str(landing), woonservice_mapping=name).woonservice_mapping_file()
    assert repr(name) in str(caught.value)


@pytest.mark.parametrize("slug", ["../../etc", "/etc", "uwoon/../../x", "UWOON"])
def test_mapping_slug_cannot_be_a_path(tmp_path: Path, slug: str) -> None:
    text = (MAPPINGS / "bezit" / "uwoon.yaml").read_text(encoding="utf-8").replace("slug: uwoon", f"slug: {slug!r}")
    path = tmp_path / "uwoon.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match="slug: ongeldige waarde") as caught:
        load_bezit_mapping(path)
    assert repr(slug) in str(caught.value)
    assert caught.value.value == "slug"


# --------------------------------------------------------------------------------------------------
# hostile YAML: anchors that expand to billions of nodes, endless nesting, self-reference
# --------------------------------------------------------------------------------------------------


def _laughs(levels: int = 8) -> str:
    text = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for previous, name in zip("abcdefghij", "bcdefghijk"[: levels - 1], strict=False):
        text += f"x-{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    return text


YAML_ATTACKS = {
    "billion-laughs": lambda base: _laughs() + base.replace("  herkomst: {", "  herkomst_x: *h\n  herkomst: {", 1),
    "laughs-in-a-literal": lambda base: _laughs() + base.replace('scheidingsteken: "\t"', "scheidingsteken: *h"),
    "diep-genest": lambda base: "x-diep: " + "[" * 3000 + "]" * 3000 + "\n" + base,
    "zelfverwijzing": lambda base: "x-r: &r [*r]\n" + base,
    "lijst-als-sleutel": lambda base: base + "? [a, b]\n: c\n",
    "python-object": lambda base: base + "x-os: !!python/object/apply:os.system ['echo lek']\n",
    "te-groot": lambda base: base + "# " + "x" * 6_000_000 + "\n",
}


@pytest.mark.parametrize("attack", sorted(YAML_ATTACKS))
def test_hostile_yaml_mapping_is_refused_quickly(tmp_path: Path, attack: str) -> None:
    base = (MAPPINGS / "bezit" / "uwoon.yaml").read_text(encoding="utf-8")
    path = tmp_path / "uwoon.yaml"
    path.write_text(YAML_ATTACKS[attack](base), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_bezit_mapping(path)
    assert caught.value.file == str(path)
    assert len(str(caught.value)) < 5_000


@pytest.mark.parametrize("attack", ["billion-laughs-in-a-literal", "diep-genest", "zelfverwijzing"])
def test_hostile_yaml_agreements_are_refused_quickly(tmp_path: Path, attack: str) -> None:
    base = (ROOT / "agreements" / "heemstede-2024-2027.yaml").read_text(encoding="utf-8")
    text = {
        "billion-laughs-in-a-literal": _laughs() + base.replace('comparison: ">="', "comparison: *h", 1),
        "diep-genest": base.replace("title: Prestatieafspraken", "title: " + "[" * 3000 + "]" * 3000 + "\nx: ", 1),
        "zelfverwijzing": base.replace("kind: meerjarige", "kind: &k [*k]\nx: meerjarige", 1),
    }[attack]
    path = tmp_path / "heemstede-2024-2027.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgreementError) as caught:
        load_agreement_file(path)
    assert len(str(caught.value)) < 5_000


# --------------------------------------------------------------------------------------------------
# hostile names in configuration: SQL injection through mappings and table specs
# --------------------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    'x"; DROP SCHEMA kpi CASCADE; --',
    "vhe_id; DROP TABLE kpi.kpi_zon",
    "vhe_іd",  # Cyrillic і
    "ｖｈｅ＿ｉｄ",  # full-width
    "vhe_id\u200b",  # zero-width space
    "VHE_ID",
    "x" * 10_000,
    "kpi.kpi_zon",
    "\"kpi\".\"kpi_zon\"",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[f"naam{i}" for i in range(len(HOSTILE_NAMES))])
def test_hostile_contract_column_in_a_mapping_is_refused(tmp_path: Path, name: str) -> None:
    text = (MAPPINGS / "bezit" / "uwoon.yaml").read_text(encoding="utf-8")
    text = text.replace("  complex_id: Clusternr\n", f"  {yaml_key(name)}: Clusternr\n")
    path = tmp_path / "uwoon.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match="onbekende contractkolom|geen geldige YAML") as caught:
        load_bezit_mapping(path)
    if "onbekende contractkolom" in caught.value.message:
        assert caught.value.value.startswith("kolommen.")
    assert len(str(caught.value)) < 2_000  # a 10,000-character name is not echoed in full


@pytest.mark.parametrize("name", HOSTILE_NAMES[:3], ids=["injectie", "puntkomma", "lookalike"])
def test_hostile_contract_column_in_an_export_mapping_is_refused(tmp_path: Path, name: str) -> None:
    text = (MAPPINGS / "woonservice" / "woningnet.yaml").read_text(encoding="utf-8")
    text = text.replace("    kern: Plaats\n", f"    {yaml_key(name)}: Plaats\n", 1)
    assert yaml_key(name) in text
    path = tmp_path / "woningnet.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match="onbekende contractkolom"):
        load_export_mapping(path)


def yaml_key(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def snapshot(url: str) -> dict[str, object]:
    """Every schema, table and row of the warehouse, to prove nothing changed."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                sa.text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2"
                )
            ).fetchall()
            schemas = sorted(
                r[0] for r in connection.execute(sa.text("SELECT schema_name FROM information_schema.schemata"))
            )
            rows = {
                f"{s}.{t}": sorted(map(tuple, connection.execute(sa.text(f'SELECT * FROM "{s}"."{t}"')).fetchall()))
                for s, t in tables
            }
    finally:
        engine.dispose()
    return {"schemas": schemas, "rows": rows}


@pytest.fixture
def published(warehouse_url: str) -> Warehouse:
    """A scratch warehouse holding one KPI table."""
    client = Warehouse(warehouse_url)
    spec = TableSpec("kpi_zon", [("gemeente_code", "text"), ("value", "double")])
    client.publish({"kpi_zon": (spec, pd.DataFrame({"gemeente_code": ["GM0392"], "value": [1.5]}))})
    yield client
    client.dispose()


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[f"naam{i}" for i in range(len(HOSTILE_NAMES))])
@pytest.mark.parametrize("where", ["tabel", "kolom", "schema"])
def test_hostile_names_never_reach_the_warehouse(published: Warehouse, name: str, where: str) -> None:
    before = snapshot(published.url)
    with pytest.raises(ValueError, match="ongeldige tabel- of kolomnaam"):
        if where == "tabel":
            spec = TableSpec(name, [("gemeente_code", "text")])
        elif where == "kolom":
            spec = TableSpec("kpi_zon", [("gemeente_code", "text"), (name, "double")])
        else:
            spec = TableSpec("kpi_zon", [("gemeente_code", "text")], schema=name)
        published.publish({"kpi_zon": (spec, pd.DataFrame({"gemeente_code": ["GM0397"]}))})
    with pytest.raises(ValueError, match="ongeldige tabel- of kolomnaam"):
        published.read("kpi", "kpi_zon", where={name: ["x"]})
    assert snapshot(published.url) == before


def test_identifier_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="ongeldige tabel- of kolomnaam"):
        TableSpec("kpi_zon\n", [("gemeente_code", "text")])


def test_hostile_header_in_a_mapping_stays_data(tmp_path: Path, published: Warehouse) -> None:
    """A mapping may name any delivered header; it is only compared with the file's header and never
    becomes an identifier: the published table has the contract's column names."""
    hostile = 'x"; DROP SCHEMA kpi CASCADE; --'
    mapping = (MAPPINGS / "bezit" / "uwoon.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace("  vhe_id: Eenheidnr\n", f"  vhe_id: {yaml_key(hostile)}\n")
    (tmp_path / "uwoon.yaml").write_text(mapping, encoding="utf-8")
    sample = ROOT / "data" / "sample" / "landing" / "bezit" / "uwoon" / "bezitslijst_uwoon_2024-12-31.csv"
    lines = sample.read_bytes().decode("cp1252").splitlines(keepends=True)
    csv_path = tmp_path / "bezitslijst_uwoon_2024-12-31.csv"
    csv_path.write_bytes(("".join([lines[0].replace("Eenheidnr", f'"{hostile.replace(chr(34), chr(34) * 2)}"'), *lines[1:4]])).encode("cp1252"))
    result = bezit.read_bezitslijst(csv_path, tmp_path / "uwoon.yaml")
    frame = result.frame
    assert "vhe_id" in frame.columns and hostile not in frame.columns and len(frame) == 3
    before = snapshot(published.url)
    spec = TableSpec("bezit_test", [("vhe_id", "text"), ("netto_kale_huur", "double")], schema="kpi")
    published.publish({"bezit_test": (spec, frame)})
    after = snapshot(published.url)
    assert after["rows"]["kpi.kpi_zon"] == before["rows"]["kpi.kpi_zon"]  # kpi schema intact
    assert len(after["rows"]["kpi.bezit_test"]) == 3


def test_case_count() -> None:
    """The number of explicit malicious cases in this file (reported in the closing note of issue 9)."""
    import sys

    module = sys.modules[__name__]
    count = 0
    for name in dir(module):
        test = getattr(module, name)
        if not name.startswith("test_") or name == "test_case_count":
            continue
        cases = 1
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                cases *= len(mark.args[1])
        count += cases
    print(f"\n{count} kwaadaardige invoergevallen")
    assert count >= 60
