"""Write the XLSX versions of the import-template examples: `python docs/templates/make_xlsx.py`.

`toewijzingen_voorbeeld.xlsx` and `woningzoekenden_voorbeeld.xlsx` hold the same rows as the CSV
examples beside them, as a spreadsheet user would fill them in: one sheet, the contract names in the
header, real Excel dates and numbers, and identifiers (BAG id, VHE id, seeker id) as TEXT cells so
Excel keeps their leading zeros. tests/test_mappings_extra.py checks that each XLSX reads exactly as
its CSV. Rerun after changing a CSV example; the output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sources.woonservice import read_toewijzingen, read_woningzoekenden  # noqa: E402

FIXED = dt.datetime(2025, 1, 1)


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip (an XLSX) with fixed member timestamps, so regenerating gives the same bytes."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_example(csv_name: str, xlsx_name: str, sheet_title: str, target: Path = HERE) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    reader = read_toewijzingen if csv_name.startswith("toewijzingen") else read_woningzoekenden
    frame = reader(HERE / csv_name).frame
    columns = [c for c in frame.columns if not c.startswith("_source")]
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in frame[columns].itertuples(index=False):
        row: list[object] = []
        for value in record:
            if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
                row.append(None)
            elif isinstance(value, pd.Timestamp):
                row.append(value.to_pydatetime())
            elif isinstance(value, bool):
                row.append("ja" if value else "nee")
            elif hasattr(value, "item"):
                row.append(value.item())
            else:
                row.append(value)
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "DD-MM-YYYY"
            elif isinstance(cell.value, str):
                cell.number_format = "@"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(12, len(name) + 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.properties.created = FIXED
    book.properties.modified = FIXED
    path = target / xlsx_name
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(stable_zip(buffer.getvalue()))
    return path


def main() -> None:
    print(write_example("toewijzingen_voorbeeld.csv", "toewijzingen_voorbeeld.xlsx", "toewijzingen"))
    print(write_example("woningzoekenden_voorbeeld.csv", "woningzoekenden_voorbeeld.xlsx", "woningzoekenden"))


if __name__ == "__main__":
    main()
