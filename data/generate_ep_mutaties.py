"""Two small SYNTHETIC EP-online daily mutation files next to the sample total file.

Run from the project root:  `.venv/bin/python -m data.generate_ep_mutaties`
(after `make sample`, which writes the total file and the stock lists these files build on).

Writes `data/sample/landing/ep_online/d20251102_v4.zip` and `d20251103_v4.zip`, byte-identical on
every run. ASSUMPTION: a daily mutation file has the layout of the total file (UTF-8 with BOM, the
two preamble lines, ';', decimal comma, the same header); RVO's real daily files were not inspected.

What is in them (everything invented, like the rest of the sample):
* d20251102: renovations of units in the corporations' stock lists (a new NTA 8800 certificate with a
  better label, registered 2025-11-02), first labels for stock dwellings that had none, two
  corrections of a certificate already in the total file (same registratie- and opnamedatum, another
  class), one renovation delivered without BAG id (matched on the address), and certificates for
  addresses outside the stock (which the reader filters out).
* d20251103: more renovations, two corrections of 2025-11-02 certificates, one certificate
  delivered twice in the same file, and more addresses outside the stock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np

from sources.bezit import discover_bezitslijsten, read_bezitslijst
from sources.ep_online import ENERGIEKLASSEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANDING = PROJECT_ROOT / "data" / "sample" / "landing"
EP_DIR = LANDING / "ep_online"
TOTAL = EP_DIR / "v20251101_v4_csv.zip"
MAPPINGS = PROJECT_ROOT / "mappings" / "bezit"
SEED = 20251102
FIXED_ZIP_TIME = (2025, 11, 3, 6, 0, 0)
STOCK_PEILDATUM = "2025-12-31"
FIRST_SEQUENCE = 19345219  # LaatstVerwerkteMutatievolgnummer of the total file

NTA_BASIS = "NTA 8800:2020+C1:2020 (basisopname)"
NTA_DETAIL = "NTA 8800:2020+C1:2020 (detailopname)"
ADVISEURS = ("Kennemer Energieadvies B.V.", "LabelPunt West B.V.", "Duinstreek Duurzaam Advies", "De Labelmakers")
# NTA 8800 class boundaries for dwellings (kWh/m2.yr primary fossil energy), DESIGN.md §3.1
PFE_BOUNDS = {
    "A++++": (-20.0, 0.0), "A+++": (0.1, 50.0), "A++": (50.1, 75.0), "A+": (75.1, 105.0), "A": (105.1, 160.0),
    "B": (160.1, 190.0), "C": (190.1, 250.0), "D": (250.1, 290.0), "E": (290.1, 335.0), "F": (335.1, 380.0),
    "G": (380.1, 480.0),
}


def nl(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def ymd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def read_total() -> tuple[list[str], list[dict[str, str]]]:
    with zipfile.ZipFile(TOTAL) as archive:
        [member] = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        text = archive.read(member).decode("utf-8-sig")
    lines = text.splitlines()
    reader = csv.reader(lines[2:], delimiter=";")
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def read_stock() -> list[dict[str, object]]:
    """Dwellings (WOO) in the stock lists at the last peildatum, one per BAG id, in a fixed order."""
    units: dict[str, dict[str, object]] = {}
    for path, mapping in discover_bezitslijsten(LANDING, MAPPINGS):
        if STOCK_PEILDATUM not in path.name:
            continue
        frame = read_bezitslijst(path, mapping).frame
        frame = frame[(frame["eenheidsoort"] == "WOO") & frame["bag_vbo_id"].notna()]
        for row in frame.to_dict("records"):
            units.setdefault(str(row["bag_vbo_id"]), row)
    return [units[k] for k in sorted(units)]


def text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value) in ("nan", "<NA>"):
        return ""
    return str(value)


class Builder:
    def __init__(self, header: list[str], rng: np.random.Generator) -> None:
        self.header = header
        self.rng = rng

    def pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def pfe(self, klasse: str) -> float:
        low, high = PFE_BOUNDS[klasse]
        return round(float(self.rng.uniform(low, high)), 2)

    def certificate(
        self, base: dict[str, str], klasse: str, registratie: dt.date, opname: dt.date, *, detail: bool = False
    ) -> dict[str, str]:
        """A new NTA 8800 dwelling certificate on the object and address of `base`."""
        row = {column: "" for column in self.header}
        for column in ("Postcode", "Huisnummer", "Huisletter", "Huisnummertoevoeging", "BAGVerblijfsobjectID",
                       "BAGPandIDs", "Gebouwtype", "Gebouwsubtype", "Bouwjaar", "GebruiksoppervlakteThermischeZone"):
            if column in row:
                row[column] = base.get(column, "")
        pfe = self.pfe(klasse)
        row.update({
            "Opnamedatum": ymd(opname),
            "Registratiedatum": ymd(registratie),
            "GeldigTot": ymd(registratie.replace(year=registratie.year + 10)),
            "Energieklasse": klasse,
            "Berekeningstype": NTA_DETAIL if detail else NTA_BASIS,
            "SoortOpname": "Detailopname" if detail else "Basisopname",
            "Status": "Bestaand",
            "OpBasisVanReferentiegebouw": "Nee",
            "Certificaathouder": self.pick(ADVISEURS),
            "Gebouwklasse": "W",
            "PrimaireFossieleEnergie": nl(pfe),
            "Energiebehoefte": nl(max(pfe * 0.7, 20.0)),
            "AandeelHernieuwbareEnergie": nl(float(self.rng.uniform(5, 60)), 1),
        })
        return {column: row.get(column, "") for column in self.header}

    def renovation(self, base: dict[str, str], day: dt.date) -> dict[str, str]:
        current = base.get("Energieklasse") or "E"
        index = ENERGIEKLASSEN.index(current)
        better = ENERGIEKLASSEN[max(index - int(self.rng.integers(2, 5)), ENERGIEKLASSEN.index("A+"))]
        opname = day - dt.timedelta(days=int(self.rng.integers(5, 40)))
        return self.certificate(base, better, day, opname)

    def corrected(self, row: dict[str, str]) -> dict[str, str]:
        """The same certificate (object, registratie- and opnamedatum) with the class one step off."""
        index = ENERGIEKLASSEN.index(row["Energieklasse"])
        step = -1 if index > ENERGIEKLASSEN.index("A+") else 1
        klasse = ENERGIEKLASSEN[index + step]
        out = dict(row)
        out["Energieklasse"] = klasse
        if "PrimaireFossieleEnergie" in out:
            out["PrimaireFossieleEnergie"] = nl(self.pfe(klasse))
        if "EnergieIndex" in out:
            out["EnergieIndex"] = ""
        out["Berekeningstype"] = NTA_DETAIL
        out["SoortOpname"] = "Detailopname"
        return out

    def elsewhere(self, serial: int, day: dt.date) -> dict[str, str]:
        """A certificate for an address outside the stock (Amsterdam postcodes, BAG ids 0363...)."""
        base = {
            "Postcode": f"10{int(self.rng.integers(11, 99)):02d}{self.pick(('AB', 'CD', 'GH', 'KL', 'MN'))}",
            "Huisnummer": str(int(self.rng.integers(1, 300))),
            "BAGVerblijfsobjectID": f"036301000{9_000_000 + serial:07d}",
            "BAGPandIDs": f"036310000{8_000_000 + serial:07d}",
            "Gebouwtype": self.pick(("Appartement", "Eengezinswoning")),
            "Gebouwsubtype": self.pick(("Portiekwoning", "Tussenwoning", "Galerijwoning")),
            "Bouwjaar": str(int(self.rng.integers(1900, 2024))),
        }
        klasse = self.pick(("A+", "A", "B", "C", "D", "E"))
        row = self.certificate(base, klasse, day, day - dt.timedelta(days=int(self.rng.integers(3, 30))))
        if serial % 4 == 0:  # a utility building now and then
            row["Gebouwklasse"] = "U"
            row["Gebouwtype"] = "Kantoorfunctie"
            row["Gebouwsubtype"] = ""
        return row


def stock_base(unit: dict[str, object]) -> dict[str, str]:
    """A stock dwelling without any certificate, written as a certificate's address part."""
    return {
        "Postcode": text(unit.get("postcode")),
        "Huisnummer": text(unit.get("huisnummer")),
        "Huisletter": text(unit.get("huisletter")),
        "Huisnummertoevoeging": text(unit.get("huisnummertoevoeging")),
        "BAGVerblijfsobjectID": text(unit.get("bag_vbo_id")),
        "Gebouwtype": "Appartement",
        "Bouwjaar": text(unit.get("bouwjaar")),
        "Energieklasse": "F",
    }


def write_file(name: str, day: dt.date, sequence: int, header: list[str], rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    buffer.write(f"PublicatieDatum;{day.strftime('%d-%m-%Y')}\n")
    buffer.write(f"LaatstVerwerkteMutatievolgnummer;{sequence}\n")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row[column] for column in header] for row in rows)
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w") as archive:
        info = zipfile.ZipInfo(name.replace(".zip", ".csv"), date_time=FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o644 << 16
        archive.writestr(info, buffer.getvalue().encode("utf-8-sig"))
    path = EP_DIR / name
    path.write_bytes(archive_bytes.getvalue())
    return path


def main() -> None:
    if not TOTAL.exists():
        raise SystemExit(f"{TOTAL} ontbreekt; draai eerst `make sample`")
    rng = np.random.default_rng(SEED)
    header, total = read_total()
    stock = read_stock()
    build = Builder(header, rng)

    latest: dict[str, dict[str, str]] = {}
    for row in total:
        bag = row["BAGVerblijfsobjectID"]
        if bag and row["Gebouwklasse"] == "W" and (bag not in latest or row["Registratiedatum"] > latest[bag]["Registratiedatum"]):
            latest[bag] = row
    stock_ids = [str(u["bag_vbo_id"]) for u in stock]
    poor = [b for b in stock_ids if b in latest and latest[b]["Energieklasse"] in ("D", "E", "F", "G")]
    unlabelled = [u for u in stock if str(u["bag_vbo_id"]) not in latest]
    recent_nta = [b for b in stock_ids if b in latest and latest[b]["Registratiedatum"] >= "20250101"
                  and latest[b]["Berekeningstype"].startswith("NTA")]
    order = rng.permutation(len(poor))
    renovate = [poor[int(i)] for i in order[:25]]
    corrections = [recent_nta[int(i)] for i in rng.permutation(len(recent_nta))[:2]]

    day1, day2 = dt.date(2025, 11, 2), dt.date(2025, 11, 3)
    first: list[dict[str, str]] = [build.renovation(latest[b], day1) for b in renovate[:13]]
    address_only = build.renovation(latest[renovate[13]], day1)
    address_only["BAGVerblijfsobjectID"] = ""  # delivered without BAG id: matched on the address
    first.append(address_only)
    first += [build.renovation(stock_base(u), day1) for u in unlabelled[:3]]
    first += [build.corrected(latest[b]) for b in corrections]
    first += [build.elsewhere(serial, day1) for serial in range(1, 11)]

    second: list[dict[str, str]] = [build.renovation(latest[b], day2) for b in renovate[14:24]]
    second += [build.corrected(row) for row in first[:2]]  # corrections of 2025-11-02 certificates
    second.append(dict(second[0]))  # the same certificate twice in one file
    second += [build.elsewhere(serial, day2) for serial in range(11, 21)]

    for rows in (first, second):
        shuffled = [rows[int(i)] for i in rng.permutation(len(rows))]
        rows[:] = shuffled
    paths = [
        write_file("d20251102_v4.zip", day1, FIRST_SEQUENCE + 1_850, header, first),
        write_file("d20251103_v4.zip", day2, FIRST_SEQUENCE + 3_912, header, second),
    ]
    for path, rows in zip(paths, (first, second), strict=True):
        print(f"{path.relative_to(PROJECT_ROOT)}: {len(rows)} certificaten")


if __name__ == "__main__":
    main()
