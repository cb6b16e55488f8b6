"""A corporation's stock lists typed together (sources.bezit.read_bezitslijsten): every frame,
warning, metadata field and error must be what reading each list on its own gives."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import sources.bezit as bezit
from sources.bezit import read_bezitslijst, read_bezitslijsten
from sources.errors import ReadResult, SourceError
from sources.mapping import load_bezit_mapping

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_BEZIT = ROOT / "data" / "sample" / "landing" / "bezit"
MAPPINGS = ROOT / "mappings" / "bezit"


def _lists(folder: Path) -> tuple[list[Path], list[str]]:
    files = sorted(folder.glob("bezitslijst_*"))
    return files, [f"bezit/{folder.name}/{f.name}" for f in files]


def _one_by_one(files: list[Path], names: list[str], slug: str) -> list[ReadResult]:
    mapping = load_bezit_mapping(MAPPINGS / f"{slug}.yaml")
    return [read_bezitslijst(f, mapping, display_name=n) for f, n in zip(files, names, strict=True)]


def _together(files: list[Path], names: list[str], slug: str) -> list[ReadResult]:
    return read_bezitslijsten(files, load_bezit_mapping(MAPPINGS / f"{slug}.yaml"), names)


def _assert_same(together: list[ReadResult], alone: list[ReadResult]) -> None:
    assert len(together) == len(alone)
    for a, b in zip(together, alone, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
        assert (a.source_file, a.warnings, a.metadata, a.drift) == (b.source_file, b.warnings, b.metadata, b.drift)


def _conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Row counts of every typing pass, to tell a batch from one-by-one."""
    seen: list[int] = []
    convert = bezit._convert

    def counting(frame, parsed, mapping):  # type: ignore[no-untyped-def]
        seen.append(len(frame))
        return convert(frame, parsed, mapping)

    monkeypatch.setattr(bezit, "_convert", counting)
    return seen


@pytest.mark.parametrize("slug", ["elan_wonen", "pre_wonen", "woonforte", "uwoon", "habeko_wonen"])
def test_lists_typed_together_give_what_each_read_alone_gives(slug: str) -> None:
    # elan: csv, clean; pre: xlsx, clean; woonforte: clean but with consistency warnings per list;
    # uwoon (csv) and habeko (xlsx): BAG ids without leading zeros, so warnings per list.
    files, names = _lists(SAMPLE_BEZIT / slug)
    _assert_same(_together(files, names, slug), _one_by_one(files, names, slug))


def test_a_clean_delivery_is_typed_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    files, names = _lists(SAMPLE_BEZIT / "elan_wonen")
    seen = _conversions(monkeypatch)
    results = _together(files, names, "elan_wonen")
    assert seen == [sum(len(r.frame) for r in results)]
    assert [len(r.frame) for r in results] == [1639, 1647, 1669, 1669, 1682]


def test_padded_bag_ids_are_counted_per_list_in_the_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    files, names = _lists(SAMPLE_BEZIT / "uwoon")
    seen = _conversions(monkeypatch)
    results = _together(files, names, "uwoon")
    assert len(seen) == 1
    # each list its own count and warning, not the delivery's total
    assert [r.metadata["bag_ids_aangevuld"] for r in results] == [42, 43, 40, 39, 38]
    assert "42 BAG-id('s) misten voorloopnullen en zijn aangevuld tot 16 cijfers" in results[0].warnings


def _copy(tmp_path: Path, slug: str) -> tuple[list[Path], list[str]]:
    folder = tmp_path / "bezit" / slug
    shutil.copytree(SAMPLE_BEZIT / slug, folder)
    return _lists(folder)


def _set_cell(path: Path, line: int, column: int, value: str) -> None:
    """Replace one cell of a cp1252 ';' stock list (line and column count from 1)."""
    lines = path.read_bytes().decode("cp1252").splitlines()
    cells = lines[line - 1].split(";")
    cells[column - 1] = value
    lines[line - 1] = ";".join(cells)
    path.write_bytes("\r\n".join(lines).encode("cp1252"))


def _error(read: Callable[[], object]) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read()
    return caught.value


def _same_error(one: SourceError, other: SourceError) -> None:
    assert (one.file, one.message, one.row, one.column, one.value, one.expected) == (
        other.file, other.message, other.row, other.column, other.value, other.expected,
    )


def test_a_bad_cell_names_its_own_list_row_and_header(tmp_path: Path) -> None:
    files, names = _copy(tmp_path, "elan_wonen")
    _set_cell(files[2], 4, 13, "19x6")  # Bouwjaar of the third unit of the third list
    mapping = load_bezit_mapping(MAPPINGS / "elan_wonen.yaml")
    together = _error(lambda: read_bezitslijsten(files, mapping, names))
    assert together.file == "bezit/elan_wonen/bezitslijst_elan_wonen_2023-12-31.csv"
    assert (together.row, together.column, together.value) == (4, "Bouwjaar", "19x6")
    _same_error(together, _error(lambda: read_bezitslijst(files[2], mapping, display_name=names[2])))


def test_a_duplicate_vhe_is_reported_in_its_own_list(tmp_path: Path) -> None:
    files, names = _copy(tmp_path, "elan_wonen")
    _set_cell(files[1], 3, 1, "100001")  # line 3 gets the VHE of line 2
    mapping = load_bezit_mapping(MAPPINGS / "elan_wonen.yaml")
    together = _error(lambda: read_bezitslijsten(files, mapping, names))
    assert together.file == names[1] and together.row == 3
    assert "rij 2 en rij 3" in together.message


def test_the_first_error_in_file_order_wins_over_a_later_unreadable_list(tmp_path: Path) -> None:
    files, names = _copy(tmp_path, "elan_wonen")
    _set_cell(files[0], 5, 17, "-12,00")  # netto kale huur of the first list
    files[3].write_bytes(b"")  # the fourth list cannot even be parsed
    mapping = load_bezit_mapping(MAPPINGS / "elan_wonen.yaml")
    first = _error(lambda: read_bezitslijsten(files, mapping, names))
    assert (first.file, first.row, first.column) == (names[0], 5, "Netto kale huur")
    # once the first list is mended, the unreadable one is the error
    shutil.copy(SAMPLE_BEZIT / "elan_wonen" / files[0].name, files[0])
    second = _error(lambda: read_bezitslijsten(files, mapping, names))
    _same_error(second, _error(lambda: read_bezitslijst(files[3], mapping, display_name=names[3])))


def test_lists_without_a_column_are_typed_apart_and_every_list_keeps_its_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, names = _copy(tmp_path, "elan_wonen")
    lines = files[1].read_bytes().decode("cp1252").splitlines()
    lines = [line + (";Opmerking" if i == 0 else ";x") for i, line in enumerate(lines) if line]
    files[1].write_bytes("\r\n".join(lines).encode("cp1252"))  # an unknown column: dropped, same layout
    lines = files[3].read_bytes().decode("cp1252").splitlines()
    files[3].write_bytes("\r\n".join(line.rsplit(";", 1)[0] for line in lines if line).encode("cp1252"))  # no Herkomst
    seen = _conversions(monkeypatch)
    together = _together(files, names, "elan_wonen")
    sizes = [len(r.frame) for r in together]
    assert seen == [sum(sizes[:3]), sizes[3], sizes[4]]
    assert together[1].drift.unknown == ["Opmerking"] and together[3].drift.missing_optional == ["herkomst"]
    assert together[0].drift.is_empty and together[4].drift.is_empty
    monkeypatch.undo()
    _assert_same(together, _one_by_one(files, names, "elan_wonen"))


def test_a_placeholder_bag_id_is_reported_in_its_own_list_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, names = _copy(tmp_path, "elan_wonen")
    _set_cell(files[1], 3, 3, "0")  # BAG VBO-id of the second unit of the second list: 'unknown'
    _set_cell(files[1], 6, 3, "0000000000000000")
    seen = _conversions(monkeypatch)
    together = _together(files, names, "elan_wonen")
    assert len(seen) == 1
    assert "2 BAG-id('s) waren 0 (onbekend) en zijn leeg gelaten" in together[1].warnings
    assert not any("waren 0" in w for r in (together[0], *together[2:]) for w in r.warnings)
    assert together[1].frame["bag_vbo_id"].isna().sum() == 2
    monkeypatch.undo()
    _assert_same(together, _one_by_one(files, names, "elan_wonen"))
