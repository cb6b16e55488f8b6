"""The prestatieafspraken as data: `agreements/<gemeente>-<period>.yaml`, validated by a pydantic schema.

One file per gemeente and period (DESIGN.md §6). A file holds the gemeente, the period, the parties
and the agreements. Each agreement has its id as written in the document (`J 1.9`, `6.3`, `M2`), an
optional year (the jaarschijf it belongs to; empty = the whole period), theme, title, trekker and
priority, and EITHER a KPI binding (`kpi`: which KPI table row realises it and how it is judged) OR
a manual status (`manual`: why it cannot be computed, plus the steward's dated judgements).

The schema (agreements/README.md explains every field to a steward):

```yaml
gemeente: {code: GM0392, naam: Haarlem}
period: {start: 2022, end: 2025}
title: Prestatieafspraken Haarlem 2022 t/m 2025
parties: {gemeente: Gemeente Haarlem, corporaties: [...], huurdersorganisaties: [...]}
agreements:
  - id: "3.1"
    year: null
    theme: Duurzaamheid
    title: Geen woningen met label E, F of G meer eind 2026
    trekker: corporaties
    priority: T1
    kpi:
      table: kpi_energielabels
      filters: {indicator: efg_aantal, corporatie: alle}
      comparison: "<="
      target: 0
      target_year: 2026
      baseline: {value: 4179, year: 2021}
      tolerance: 100
      rule: linear_trajectory
  - id: M2
    ...
    manual:
      reason: Kerncijfers worden jaarlijks aangeleverd; geen KPI
      judgements:
        - {status: groen, explanation: ..., date: 2025-03-01, author: ..., evidence: ..., confidence: hoog}
```

YAML is read without implicit types (`6.3`, `no`, `01` stay text; only `null` is null) and duplicate
keys are refused; pydantic then converts numbers, years and dates. A number written with a Dutch
thousands separator (`4.179`) is refused rather than read as 4.179.

`load_agreements` names the file and the dotted path of the bad field (with the agreement's id) in
every error. Which KPI tables and columns exist is passed in (`kpi_columns`), because this layer
does not know the KPI assets; `assets.monitor.load_monitor_agreements` passes the registry.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sources.errors import SourceError
from sources.mapping import YamlLimitError, _short, read_yaml_file

RULES = ("linear_trajectory", "pro_rata", "growth_ratio", "threshold")
COMPARISONS = (">=", "<=", "==")
STATUSES = ("groen", "geel", "rood")
CONFIDENCES = ("hoog", "middel", "laag")

Rule = Literal["linear_trajectory", "pro_rata", "growth_ratio", "threshold"]
Comparison = Literal[">=", "<=", "=="]
Status = Literal["groen", "geel", "rood"]
Confidence = Literal["hoog", "middel", "laag"]

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")


class AgreementError(SourceError):
    """An agreements file is missing, not valid YAML, or does not match the schema."""

    def __init__(self, file: str | Path, message: str, *, field_path: str | None = None) -> None:
        self.field_path = field_path
        super().__init__(file, message)


def _number(value: Any) -> Any:
    """Numbers arrive as text (no implicit YAML types); refuse a Dutch thousands separator."""
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if _THOUSANDS.match(text):
            raise ValueError(
                f"{value!r} lijkt een getal met een punt als duizendtalscheiding; schrijf het zonder "
                f"scheiding ({text.replace('.', '')}) of met een decimale punt als je een breuk bedoelt"
            )
        return text
    return value


Number = Annotated[float, BeforeValidator(_number)]


class Tolerance(BaseModel):
    """How far on the wrong side still counts as geel: an amount in the KPI's unit (`2`: two
    percentage points for a share, two dwellings for a count), or `"5%"`: a percentage of the task
    (|target - baseline| on a trajectory, |target| for a norm, the required pace for growth_ratio)."""

    model_config = ConfigDict(frozen=True)

    amount: float = Field(ge=0)
    relative: bool = False

    def absolute(self, task: float) -> float:
        return self.amount / 100 * abs(task) if self.relative else self.amount

    def __str__(self) -> str:
        amount = f"{self.amount:g}".replace(".", ",")
        return f"{amount} %" if self.relative else amount


def _tolerance(value: Any) -> Any:
    if isinstance(value, Tolerance | dict):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        return {"amount": _number(value.strip().removesuffix("%").strip()), "relative": True}
    return {"amount": _number(value), "relative": False}
Year = Annotated[int, Field(ge=1990, le=2100)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Gemeente(_Model):
    code: Annotated[str, Field(pattern=r"^GM[0-9]{4}$")]
    naam: Text


class Period(_Model):
    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) ligt voor start ({self.start})")
        return self

    @property
    def label(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and self.start <= year <= self.end


class Parties(_Model):
    gemeente: Text
    corporaties: Annotated[list[Text], Field(min_length=1)]
    huurdersorganisaties: list[Text] = Field(default_factory=list)


class Baseline(_Model):
    """The starting point of a trajectory. Without `value` it is read from the KPI data in `year`."""

    value: Number | None = None
    year: Year


class KpiBinding(_Model):
    """Which KPI row realises the agreement, and the rule that judges it (agreements/README.md)."""

    table: Text
    filters: dict[str, Text]
    comparison: Comparison
    target: Number
    target_year: Year | None = None
    baseline: Baseline | None = None
    tolerance: Annotated[Tolerance, BeforeValidator(_tolerance)] = Tolerance(amount=0)
    rule: Rule
    cumulative_from: Year | None = None
    use_latest_measurement: bool = False
    note: str | None = None

    @field_validator("table")
    @classmethod
    def _known_table(cls, table: str, info: ValidationInfo) -> str:
        known = _kpi_columns(info)
        if known is not None and table not in known:
            raise ValueError(f"onbekende KPI-tabel {table!r}; bekend: {', '.join(sorted(known))}")
        return table

    @field_validator("filters")
    @classmethod
    def _known_columns(cls, filters: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if "indicator" not in filters:
            raise ValueError("filters moet 'indicator' bevatten (welke grootheid van de KPI-tabel)")
        known = _kpi_columns(info)
        table = info.data.get("table")
        if known is not None and isinstance(table, str) and table in known:
            unknown = [c for c in filters if c not in known[table]]
            if unknown:
                raise ValueError(
                    f"kolom(men) {', '.join(map(repr, unknown))} bestaan niet in {table}; "
                    f"kolommen: {', '.join(known[table])}"
                )
        return filters

    @model_validator(mode="after")
    def _rule_needs(self) -> KpiBinding:
        if self.rule in ("linear_trajectory", "growth_ratio"):
            if self.target_year is None:
                raise ValueError(f"regel {self.rule} heeft target_year nodig")
            if self.baseline is None and self.cumulative_from is None:
                raise ValueError(f"regel {self.rule} heeft baseline (of cumulative_from, dan start het traject op 0) nodig")
        if self.rule == "growth_ratio":
            if self.comparison == "==":
                raise ValueError("regel growth_ratio werkt met >= of <=, niet met ==")
            if self.tolerance.amount and not (self.tolerance.relative and self.tolerance.amount < 100):
                raise ValueError("bij growth_ratio is tolerance een percentage van het benodigde tempo, bijv. '10%'")
        if self.cumulative_from is not None and self.target_year is None:
            raise ValueError("cumulative_from heeft target_year nodig (het eind van de optelperiode)")
        if self.cumulative_from is not None and self.target_year is not None and self.cumulative_from > self.target_year:
            raise ValueError(f"cumulative_from ({self.cumulative_from}) ligt na target_year ({self.target_year})")
        if self.baseline is not None and self.target_year is not None and self.baseline.year >= self.target_year:
            raise ValueError(f"baseline.year ({self.baseline.year}) moet voor target_year ({self.target_year}) liggen")
        if self.baseline is not None and self.cumulative_from is not None:
            raise ValueError(
                "cumulative_from en baseline gaan niet samen: een opgetelde reeks begint op 0 aan het eind "
                "van het jaar voor cumulative_from"
            )
        return self


class Judgement(_Model):
    """One dated judgement of the data steward on a manual agreement."""

    status: Status
    explanation: Text
    date: date
    author: Text
    evidence: str | None = None
    confidence: Confidence


class Manual(_Model):
    """An agreement that is judged by a person: why, and the judgements so far (newest counts)."""

    reason: Text
    judgements: list[Judgement] = Field(default_factory=list)

    def latest(self, as_of: date) -> Judgement | None:
        """The newest judgement dated on or before as_of (later ones did not exist yet then)."""
        valid = [j for j in self.judgements if j.date <= as_of]
        return max(valid, key=lambda j: j.date) if valid else None


class Agreement(_Model):
    id: Text
    year: Year | None = None
    theme: Text
    title: Text
    trekker: Text
    priority: Text
    description: str | None = None
    note: str | None = None
    kpi: KpiBinding | None = None
    manual: Manual | None = None

    @model_validator(mode="after")
    def _one_way_of_judging(self) -> Agreement:
        if (self.kpi is None) == (self.manual is None):
            raise ValueError("geef precies een van 'kpi' (berekend) of 'manual' (oordeel steward)")
        return self

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.id, self.year)


class AgreementSet(_Model):
    gemeente: Gemeente
    period: Period
    title: Text
    kind: str | None = None
    source: str | None = None
    parties: Parties
    agreements: Annotated[list[Agreement], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> AgreementSet:
        seen: set[tuple[str, int | None]] = set()
        for agreement in self.agreements:
            if agreement.key in seen:
                year = "" if agreement.year is None else f" (jaar {agreement.year})"
                raise ValueError(f"afspraak {agreement.id!r}{year} komt twee keer voor")
            seen.add(agreement.key)
            if agreement.year is not None and agreement.year not in self.period:
                raise ValueError(
                    f"afspraak {agreement.id!r}: jaar {agreement.year} ligt buiten de periode {self.period.label}"
                )
        return self

    @property
    def slug(self) -> str:
        return slugify(self.gemeente.naam)

    @property
    def file_stem(self) -> str:
        return f"{self.slug}-{self.period.label}"


def slugify(text: str) -> str:
    """'Alphen aan den Rijn' -> 'alphen-aan-den-rijn' (file names of agreements and reports)."""
    table = str.maketrans("àáâäèéêëìíîïòóôöùúûüç", "aaaaeeeeiiiioooouuuuc")
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")


def _kpi_columns(info: ValidationInfo) -> Mapping[str, Collection[str]] | None:
    context = info.context or {}
    return context.get("kpi_columns")


def _location(data: Any, loc: tuple[int | str, ...]) -> str:
    """'agreements[3] (id 3.1).kpi.rule' for pydantic's ('agreements', 3, 'kpi', 'rule')."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict) and "id" in node[item]:
                label += f" (id {node[item]['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
        if isinstance(node, list) and isinstance(item, int) and item < len(node):
            node = node[item]
        elif isinstance(node, dict):
            node = node.get(item)
        else:
            node = None
    return "".join(parts)


def _messages(exc: ValidationError, data: Any) -> tuple[str, str | None]:
    parts: list[str] = []
    first: str | None = None
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal["))))
        path = _location(data, loc)
        first = first or path or None
        if error["type"] == "extra_forbidden":
            text = f"{path}: onbekend veld"
        elif error["type"] == "missing":
            text = f"{path}: verplicht veld ontbreekt"
        elif error["type"] == "literal_error":
            expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", " of ")
            text = f"{path}: ongeldige waarde {_short(error.get('input'))}; toegestaan: {expected}"
        else:
            msg = str(error["msg"]).removeprefix("Value error, ")
            text = f"{path}: {msg}" if path else msg
        parts.append(text)
    return "; ".join(parts), first


def load_agreement_file(path: str | Path, *, kpi_columns: Mapping[str, Collection[str]] | None = None) -> AgreementSet:
    """Read and validate one agreements file; AgreementError names the file and the bad field."""
    path = Path(path)
    if not path.is_file():
        raise AgreementError(path, "afsprakenbestand niet gevonden")
    try:
        data = read_yaml_file(path)
    except YamlLimitError as exc:
        raise AgreementError(path, str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (regel {mark.line + 1}, kolom {mark.column + 1})" if mark is not None else ""
        raise AgreementError(path, f"geen geldige YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise AgreementError(path, "bestand is geen UTF-8") from None
    if not isinstance(data, dict):
        raise AgreementError(path, "een afsprakenbestand is een YAML-mapping (gemeente, period, parties, agreements)")
    try:
        agreement_set = AgreementSet.model_validate(data, context={"kpi_columns": kpi_columns})
    except ValidationError as exc:
        message, field_path = _messages(exc, data)
        raise AgreementError(path, f"ongeldige afspraken: {message}", field_path=field_path) from None
    if path.stem != agreement_set.file_stem:
        raise AgreementError(
            path,
            f"bestandsnaam past niet bij gemeente en periode; verwacht {agreement_set.file_stem}.yaml",
            field_path="gemeente",
        )
    return agreement_set


def load_agreements(
    directory: str | Path, *, kpi_columns: Mapping[str, Collection[str]] | None = None
) -> list[AgreementSet]:
    """Every `<gemeente>-<period>.yaml` in directory, validated, sorted by gemeente and period.

    kpi_columns (KPI table -> its columns) makes unknown tables and filter columns an error.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise AgreementError(directory, "map met afspraken niet gevonden")
    sets: list[AgreementSet] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(directory.glob("*.yaml")):
        agreement_set = load_agreement_file(path, kpi_columns=kpi_columns)
        key = (agreement_set.gemeente.code, agreement_set.period.label)
        if key in seen:
            raise AgreementError(path, f"gemeente {key[0]} met periode {key[1]} staat ook in {seen[key]}")
        seen[key] = path.name
        sets.append(agreement_set)
    return sorted(sets, key=lambda s: (s.gemeente.naam, s.period.start, s.period.end))
