"""The one error type every reader raises, so a steward always learns file, row, column and rule.

Row numbers are the line numbers a person sees when opening the file in a text editor or Excel:
1-based, the header line counted (and, for EP-online, the two preamble lines too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SourceError(Exception):
    """A delivered file does not match its contract; nothing from it has been loaded."""

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.file = str(file)
        self.message = message
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [f"{self.file}"]
        if self.row is not None:
            where.append(f"rij {self.row}")
        if self.column is not None:
            where.append(f"kolom '{self.column}'")
        text = ", ".join(where) + f": {self.message}"
        if self.value is not None:
            text += f" (waarde {self.value!r})"
        if self.expected:
            text += f"; verwacht: {self.expected}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable with every attribute, subclasses included: a file read in a worker process
        # (assets/raw.py) reports its error in the step's process exactly as a file read there.
        return (_rebuild_error, (type(self), dict(self.__dict__), self.args))


def _rebuild_error(cls: type[SourceError], state: dict[str, Any], args: tuple[Any, ...]) -> SourceError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class SchemaError(SourceError):
    """Required columns are missing, duplicated or the file has no usable header."""


@dataclass
class SchemaDrift:
    """How a delivered header differs from the pinned contract; shown in asset metadata."""

    missing_optional: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # contract column -> header found

    def as_dict(self) -> dict[str, Any]:
        return {
            "missing_optional": sorted(self.missing_optional),
            "unknown": sorted(self.unknown),
            "renamed": dict(sorted(self.renamed.items())),
        }

    @property
    def is_empty(self) -> bool:
        return not (self.missing_optional or self.unknown or self.renamed)


@dataclass
class ReadResult:
    """A reader's output: the typed frame plus what a steward or analyst should know about the file."""

    frame: Any  # pandas.DataFrame; typed loosely so this module stays import-light
    source_file: str
    warnings: list[str] = field(default_factory=list)
    drift: SchemaDrift = field(default_factory=SchemaDrift)
    metadata: dict[str, Any] = field(default_factory=dict)
