"""Column mappings (YAML) and the contract columns they map onto.

A delivered export (a corporation's stock list, a WoningNet letting export, ...) has its own headers,
code values and number format. A mapping file says, per contract column, which header holds it
(`kolommen`), how delivered values translate to contract values (`waarden`), and how the file is
written (`bestand`). This module holds:

- the contracts (`BEZIT_COLUMNS`, `TOEWIJZINGEN_COLUMNS`, `WONINGZOEKENDEN_COLUMNS`): name, type,
  required flag and code list of every column in docs/data-contracts.md §3 and §4;
- the pydantic models that validate mapping files (`BezitMapping`, `ExportMapping`), refusing
  unknown keys and unknown contract columns with the mapping file and the bad key in the message;
- `convert_columns`, which turns the string frame of a reader into typed contract columns and
  reports the first bad cell with file, row, the delivered header and the value as delivered.

Mapping schema: `bestand` {formaat csv|xlsx (optional: then both), scheidingsteken (optional:
detected), decimaal (default ','), duizendtal (default '.' with a decimal comma, else none),
kopregel (line/row number of the header, default 1: lines above it, such as a report title, are
skipped), werkblad (XLSX sheet name, default the first sheet)}, `kolommen` {contract column: header,
or a list of headers tried in order; plus the input-only columns `huisnummer_volledig` ('12A-2') and
`adres_volledig` ('Kerkstraat 12A-2')}, `waarden` {contract column: {delivered value: contract value;
null = empty; the key "" gives the value of an empty cell}}. YAML is read without implicit types (so
'N', 'no', '01' stay text), duplicate keys are refused, and top-level keys starting with 'x-' only
hold YAML anchors (e.g. one gemeente name table shared by several columns).
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sources.errors import SourceError
from sources.formats import (
    FALSE_WORDS,
    SOURCE_ROW,
    TRUE_WORDS,
    WHITESPACE_RUN,
    map_values,
    normalise_bag_id,
    normalise_cbs_code,
    normalise_header,
    normalise_postcode,
    normalise_toevoeging,
    parse_bool,
    parse_code,
    parse_date,
    parse_integer,
    parse_number,
    split_adres,
    split_huisnummer,
)

# --------------------------------------------------------------------------------------------------
# Contracts
# --------------------------------------------------------------------------------------------------

Kind = Literal[
    "text",
    "code",
    "gemeente",
    "wijk",
    "buurt",
    "label",
    "date",
    "number",
    "integer",
    "bool",
    "bag",
    "postcode",
    "huisnummer",
    "huisletter",
    "toevoeging",
]

DTYPES: dict[str, str] = {
    "date": "datetime64[ns]",
    "number": "float64",
    "integer": "Int64",
    "huisnummer": "Int64",
    "bool": "boolean",
}

ENERGIELABELS = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
# [0-9], not \d: \d also matches the digits of other scripts ('GM٠٣٩٢').
GEMEENTE_CODE = re.compile(r"GM[0-9]{4}")
WIJK_CODE = re.compile(r"WK[0-9]{4}[0-9A-Z]{2}")
BUURT_CODE = re.compile(r"BU[0-9]{4}[0-9A-Z]{4}")
DATE_MIN = pd.Timestamp("1900-01-01")

# Free-form house number ('12A', '12-2', '7 bis'): an input-only column, split into the three
# address columns of the contract.
HUISNUMMER_VOLLEDIG = "huisnummer_volledig"
# Street, house number, letter and addition in one cell ('Kerkstraat 12A-2'): an input-only column
# too; the street is dropped (the contract identifies a dwelling by postcode and house number).
ADRES_VOLLEDIG = "adres_volledig"
_ADDRESS_PARTS = ("huisnummer", "huisletter", "huisnummertoevoeging")


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column: its type (`kind`), whether it must be filled, and its code list."""

    name: str
    kind: Kind
    required: bool = False
    codes: tuple[str, ...] = ()
    case: Literal["upper", "lower"] | None = "upper"
    minimum: float | None = None
    maximum: float | None = None

    @property
    def dtype(self) -> str:
        return DTYPES.get(self.kind, "str")


def _c(name: str, kind: Kind, **kwargs: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, **kwargs)


_ADDRESS = (
    _c("postcode", "postcode"),
    _c("huisnummer", "huisnummer"),
    _c("huisletter", "huisletter"),
    _c("huisnummertoevoeging", "toevoeging"),
)

# docs/data-contracts.md §4. `corporatie` (from the mapping) and `peildatum` (from the file name)
# are added by the reader and are not mappable.
BEZIT_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("vhe_id", "text", required=True),
    _c("complex_id", "text"),
    _c("bag_vbo_id", "bag"),
    *_ADDRESS,
    _c("gemeente_code", "gemeente", required=True),
    _c("wijk_code", "wijk"),
    _c("buurt_code", "buurt"),
    _c("eenheidsoort", "code", codes=("WOO", "BOG", "MOG", "PP", "ZOG")),
    _c("woningtype", "code", codes=("EGW", "MGW")),
    _c("bouwjaar", "integer", minimum=1000, maximum=2100),
    _c("kamers", "integer", minimum=0, maximum=100),
    _c("oppervlakte_m2", "number", minimum=0),
    _c("wws_punten", "number", minimum=0),
    _c("netto_kale_huur", "number", minimum=0),
    _c("daeb", "bool"),
    _c("monument", "bool"),
    _c("vve", "bool"),
    _c("sloop_renovatie_gepland", "bool"),
    _c("energielabel", "label", codes=ENERGIELABELS),
    _c("zonnepanelen_aantal", "integer", minimum=0),
    _c("zonnepanelen_wp", "number", minimum=0),
    _c("zonnepanelen_kwp", "number", minimum=0),
    _c("in_exploitatie_datum", "date"),
    _c("uit_exploitatie_datum", "date"),
    _c(
        "uit_exploitatie_reden",
        "code",
        codes=("verkoop", "sloop", "liberalisatie", "samenvoeging", "overig"),
        case="lower",
    ),
    _c(
        "herkomst",
        "code",
        codes=("bestaand", "nieuwbouw", "aankoop", "splitsing", "transformatie"),
        case="lower",
    ),
)
BEZIT_OUTPUT_ORDER: tuple[str, ...] = (
    "corporatie",
    "peildatum",
    *(c.name for c in BEZIT_COLUMNS),
)

PUBLICATIEMODELLEN = ("AAN", "LOT", "OPT", "EER", "DIS", "VRI", "WON", "DIR")
VOORRANG = ("URG", "BIN", "GRO", "IND")
PASSENDHEID = ("PAS", "NIE", "NVT")
GEHUISVEST_VIA = ("aanbod", "loting", "direct", "urgentie")
INKOMENSKLASSEN = ("primair", "secundair", "midden", "hoog")
LEEFTIJDSKLASSEN = ("18-22", "23-34", "35-54", "55-74", "75+")

# docs/data-contracts.md §3.1
TOEWIJZINGEN_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("toewijzing_id", "text", required=True),
    _c("toewijzingsdatum", "date", required=True),
    _c("gemeente_code", "gemeente", required=True),
    _c("kern", "text"),
    _c("wijk_code", "wijk"),
    _c("buurt_code", "buurt"),
    _c("corporatie", "text", required=True),
    _c("vhe_id", "text"),
    _c("bag_vbo_id", "bag"),
    *_ADDRESS,
    _c("netto_kale_huur", "number", required=True, minimum=0),
    _c("woningtype", "code", codes=("EGW", "MGW")),
    _c("kamers", "integer", minimum=0, maximum=100),
    _c("publicatiemodel", "code", required=True, codes=PUBLICATIEMODELLEN),
    _c("voorrang", "code", codes=VOORRANG),
    _c("voorrang_detail", "code"),
    _c("aantal_reacties", "integer", minimum=0),
    _c("inschrijfdatum", "date"),
    _c("zoekduur_maanden", "number", minimum=0),
    _c("huishoudinkomen", "number", minimum=0),
    _c("huishoudgrootte", "integer", minimum=1, maximum=50),
    _c("leeftijd_hoofdaanvrager", "integer", minimum=14, maximum=120),
    _c("woongemeente_code", "gemeente"),
    _c("passendheid", "code", codes=PASSENDHEID),
    _c("doorstromer", "bool"),
    _c("woningzoekende_id", "text"),
)

# docs/data-contracts.md §3.2
WONINGZOEKENDEN_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("woningzoekende_id", "text", required=True),
    _c("periode_begin", "date", required=True),
    _c("periode_einde", "date", required=True),
    _c("woongemeente_code", "gemeente", required=True),
    _c("woonkern", "text"),
    _c("inkomensklasse", "code", codes=INKOMENSKLASSEN, case="lower"),
    _c("huishoudinkomen", "number", minimum=0),
    _c("huishoudgrootte", "integer", minimum=1, maximum=50),
    _c("leeftijdsklasse", "code", codes=LEEFTIJDSKLASSEN, case=None),
    _c("inschrijfdatum", "date"),
    _c("aantal_reacties", "integer", required=True, minimum=0),
    _c("aantal_reacties_woongemeente", "integer", minimum=0),
    _c("gehuisvest", "bool", required=True),
    _c("gehuisvest_via", "code", codes=GEHUISVEST_VIA, case="lower"),
    _c("gehuisvest_gemeente_code", "gemeente"),
)


def contract_dtypes(specs: tuple[ColumnSpec, ...]) -> dict[str, str]:
    """Column name -> pandas dtype name, in contract order (without the `_source_*` columns)."""
    return {spec.name: spec.dtype for spec in specs}


# --------------------------------------------------------------------------------------------------
# Mapping files
# --------------------------------------------------------------------------------------------------


class MappingError(SourceError):
    """A mapping file is missing, not valid YAML, or does not match the mapping schema."""


class _MappingLoader(yaml.SafeLoader):
    """YAML without implicit types: 'N', 'no', 'off', '01' and '1.0' stay text, only null is null.

    Mapping keys are delivered values ('J', 'N', '01'); YAML 1.1 would turn some of them into
    booleans or numbers and the mapping would silently stop matching. Duplicate keys are refused.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "in een mapping", node.start_mark, "een lijst of mapping als sleutel", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "in een mapping",
                    node.start_mark,
                    f"sleutel {key!r} komt twee keer voor",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_MappingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# A YAML file is configuration a person writes: these bounds are far above any real file (the largest
# has a few hundred nodes) and far below what would take the loader minutes: anchors and aliases can
# expand a few lines into billions of nodes ('billion laughs'), which pydantic and error messages
# would walk one by one.
MAX_YAML_BYTES = 5 * 1024 * 1024
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 50


class YamlLimitError(ValueError):
    """A YAML file too large, too deeply nested or too self-referential to load safely."""


def read_yaml_file(path: Path) -> Any:
    """Load a configuration file with `_MappingLoader`, within the bounds above.

    Raises YamlLimitError, yaml.YAMLError or UnicodeDecodeError; callers turn them into their own
    error naming the file.
    """
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YamlLimitError(f"bestand is te groot ({size} bytes; hoogstens {MAX_YAML_BYTES})")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_MappingLoader)  # noqa: S506 (a SafeLoader)
    except RecursionError:
        raise YamlLimitError(f"YAML is te diep genest (hoogstens {MAX_YAML_DEPTH} niveaus)") from None
    _check_expansion(data)
    return data


def _check_expansion(root: Any) -> None:
    """Count the nodes as a reader sees them (every alias expanded), without expanding anything."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        if not isinstance(node, dict | list):
            continue
        key = id(node)
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else list(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes.get(id(child), 1) for child in children)
            if total > MAX_YAML_NODES:
                raise YamlLimitError(
                    f"YAML breidt via ankers en verwijzingen (&/*) uit tot meer dan {MAX_YAML_NODES} elementen"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlLimitError("YAML verwijst naar zichzelf: een anker (&) wordt binnen zichzelf gebruikt (*)")
        if depth > MAX_YAML_DEPTH:
            raise YamlLimitError(f"YAML is te diep genest (hoogstens {MAX_YAML_DEPTH} niveaus)")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if isinstance(child, dict | list))


Separator = Literal[";", ",", "\t", "|"]


class BestandSpec(BaseModel):
    """How the file is written. `duizendtal` defaults to '.' with a decimal comma, else none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    formaat: Literal["csv", "xlsx"] | None = None
    scheidingsteken: Separator | None = None
    decimaal: Literal[",", "."] = ","
    duizendtal: Literal[".", ",", " ", "'"] | None = None
    kopregel: int = Field(default=1, ge=1, le=100)
    werkblad: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_thousands(cls, data: Any) -> Any:
        if isinstance(data, dict) and "duizendtal" not in data:
            data = {**data, "duizendtal": "." if data.get("decimaal", ",") == "," else None}
        return data

    @model_validator(mode="after")
    def _distinct_marks(self) -> BestandSpec:
        if self.duizendtal == self.decimaal:
            raise ValueError(f"decimaal en duizendtal zijn beide {self.decimaal!r}")
        if self.werkblad is not None and self.formaat == "csv":
            raise ValueError("werkblad hoort bij formaat xlsx, niet bij csv")
        return self


Headers = str | list[str]
ValueMap = dict[str, str | None]


class _KeyedError(ValueError):
    """A validation error that knows the dotted key it is about (pydantic only knows the model)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def _check_section(
    kolommen: Mapping[str, Headers],
    waarden: Mapping[str, ValueMap],
    specs: tuple[ColumnSpec, ...],
    *,
    extra_inputs: tuple[str, ...] = (),
) -> None:
    """Validate `kolommen` and `waarden` against a contract; the message names the bad key."""
    known = {spec.name: spec for spec in specs}
    allowed = [*known, *extra_inputs]
    for key in kolommen:
        if key not in allowed:
            raise _KeyedError(
                f"onbekende contractkolom {key!r} in kolommen; toegestaan: {', '.join(allowed)}", f"kolommen.{key}"
            )
    missing = [spec.name for spec in specs if spec.required and spec.name not in kolommen]
    if missing:
        raise _KeyedError(f"verplichte contractkolom(men) niet in kolommen: {', '.join(missing)}", "kolommen")
    for combined in (HUISNUMMER_VOLLEDIG, ADRES_VOLLEDIG):
        if combined in kolommen:
            others = (*_ADDRESS_PARTS, HUISNUMMER_VOLLEDIG) if combined == ADRES_VOLLEDIG else _ADDRESS_PARTS
            clash = [c for c in others if c in kolommen]
            if clash:
                raise _KeyedError(
                    f"{combined!r} en {', '.join(repr(c) for c in clash)} samen in kolommen; "
                    "kies het volledige huisnummer/adres óf de losse kolommen",
                    f"kolommen.{combined}",
                )
    seen: dict[str, str] = {}
    for key, headers in kolommen.items():
        for header in [headers] if isinstance(headers, str) else headers:
            if not header.strip():
                raise _KeyedError(f"lege kopnaam bij kolommen.{key}", f"kolommen.{key}")
            norm = normalise_header(header)
            if norm in seen:
                raise _KeyedError(f"kop {header!r} hoort bij zowel {seen[norm]!r} als {key!r}", f"kolommen.{key}")
            seen[norm] = key
    for key, values in waarden.items():
        if key not in kolommen:
            raise _KeyedError(f"waarden.{key}: kolom {key!r} staat niet in kolommen", f"waarden.{key}")
        spec = known.get(key)
        if spec is None:
            continue
        for delivered, target in values.items():
            problem = _target_problem(spec, target)
            if problem:
                raise _KeyedError(f"waarden.{key}: {delivered!r} -> {target!r}: {problem}", f"waarden.{key}")


def _target_problem(spec: ColumnSpec, target: str | None) -> str | None:
    """Why a value-map target is not a valid contract value (None when it is)."""
    if target is None or target == "":
        return "verplichte kolom mag niet leeg worden" if spec.required else None
    if spec.kind in ("code", "label") and spec.codes:
        value = _compact(target)
        value = value.upper() if spec.case == "upper" else value.lower() if spec.case == "lower" else value
        if value not in spec.codes:
            return f"geen geldige code; verwacht: {', '.join(spec.codes)}"
    if spec.kind == "gemeente" and not GEMEENTE_CODE.fullmatch(target.strip().upper()):
        return "geen gemeentecode; verwacht: GM gevolgd door 4 cijfers"
    if spec.kind == "bool" and target.strip().lower() not in TRUE_WORDS | FALSE_WORDS:
        return "geen ja/nee-waarde"
    return None


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u2013", "-").replace("\u2014", "-"))


class _Section(BaseModel):
    """`kolommen` + `waarden` for one contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    contract: ClassVar[tuple[ColumnSpec, ...]] = ()
    extra_inputs: ClassVar[tuple[str, ...]] = ()

    kolommen: dict[str, Headers]
    waarden: dict[str, ValueMap] = Field(default_factory=dict)

    @field_validator("waarden", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: ({str(dk).strip(): dv for dk, dv in v.items()} if isinstance(v, dict) else v)
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _against_contract(self) -> _Section:
        _check_section(self.kolommen, self.waarden, self.contract, extra_inputs=self.extra_inputs)
        return self

    def headers(self, column: str) -> list[str]:
        names = self.kolommen.get(column)
        if names is None:
            return []
        return [names] if isinstance(names, str) else list(names)


class BezitMapping(_Section):
    """mappings/bezit/<slug>.yaml: one corporation's stock-list export."""

    contract: ClassVar[tuple[ColumnSpec, ...]] = BEZIT_COLUMNS
    extra_inputs: ClassVar[tuple[str, ...]] = (HUISNUMMER_VOLLEDIG, ADRES_VOLLEDIG)

    corporatie: str = Field(min_length=1)
    slug: str = Field(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
    bestand: BestandSpec
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The mapping file this mapping was loaded from (None when built in code)."""
        return self._source


class ToewijzingenSection(_Section):
    contract: ClassVar[tuple[ColumnSpec, ...]] = TOEWIJZINGEN_COLUMNS
    extra_inputs: ClassVar[tuple[str, ...]] = (HUISNUMMER_VOLLEDIG, ADRES_VOLLEDIG)
    bestand: BestandSpec | None = None


class WoningzoekendenSection(_Section):
    contract: ClassVar[tuple[ColumnSpec, ...]] = WONINGZOEKENDEN_COLUMNS
    bestand: BestandSpec | None = None


class ExportMapping(BaseModel):
    """mappings/woonservice/<flavour>.yaml: one allocation system's export of both datasets.

    `bestand` applies to both sections unless a section has its own `bestand`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    naam: str = Field(min_length=1)
    beschrijving: str | None = None
    bestand: BestandSpec = Field(default_factory=BestandSpec)
    toewijzingen: ToewijzingenSection | None = None
    woningzoekenden: WoningzoekendenSection | None = None
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The mapping file this mapping was loaded from (None when built in code)."""
        return self._source

    @model_validator(mode="after")
    def _has_a_section(self) -> ExportMapping:
        if self.toewijzingen is None and self.woningzoekenden is None:
            raise ValueError("mapping heeft geen sectie 'toewijzingen' of 'woningzoekenden'")
        return self

    def bestand_for(self, section: Literal["toewijzingen", "woningzoekenden"]) -> BestandSpec:
        part = getattr(self, section)
        return part.bestand if part is not None and part.bestand is not None else self.bestand


def template_export_mapping() -> ExportMapping:
    """Our own import template: headers are the contract names, no value maps, decimal comma."""
    return ExportMapping(
        naam="Prestatiemonitor-importtemplate",
        toewijzingen=ToewijzingenSection(kolommen={c.name: c.name for c in TOEWIJZINGEN_COLUMNS}),
        woningzoekenden=WoningzoekendenSection(kolommen={c.name: c.name for c in WONINGZOEKENDEN_COLUMNS}),
    )


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MappingError(path, "mappingbestand niet gevonden")
    try:
        data = read_yaml_file(path)
    except yaml.YAMLError as exc:
        raise MappingError(path, f"geen geldige YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise MappingError(path, "mappingbestand is geen UTF-8") from exc
    except YamlLimitError as exc:
        raise MappingError(path, str(exc)) from None
    if not isinstance(data, dict):
        raise MappingError(path, "mapping moet een YAML-mapping (sleutel: waarde) zijn")
    # Top-level keys starting with 'x-' only hold YAML anchors (shared value maps); not part of the schema.
    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}


def _short(value: Any, limit: int = 80) -> str:
    """repr() for an error message, cut short: a hostile value may be megabytes long."""
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict, short.maxlevel = limit, limit, 5, 5, 2
    text = short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    """First pydantic error as Dutch text plus the dotted key it concerns."""
    parts = []
    first_key: str | None = None
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        keyed = getattr((error.get("ctx") or {}).get("error"), "key", None)
        where = ".".join(p for p in (loc, keyed) if p)
        if first_key is None:
            first_key = where or None
        if error["type"] == "extra_forbidden":
            text = f"onbekende sleutel {loc!r}"
        elif error["type"] == "missing":
            text = f"sleutel {loc!r} ontbreekt"
        elif error["type"] == "literal_error":
            expected = str((error.get("ctx") or {}).get("expected", "")).replace(" or ", " of ")
            text = f"{loc}: ongeldige waarde {_short(error.get('input'))}; toegestaan: {expected}"
        elif error["type"] == "string_pattern_mismatch":
            pattern = (error.get("ctx") or {}).get("pattern", "")
            text = f"{loc}: ongeldige waarde {_short(error.get('input'))}; verwacht: tekst volgens het patroon {pattern}"
        else:
            msg = str(error["msg"]).removeprefix("Value error, ")
            text = f"{loc}: {msg}" if loc else msg
        parts.append(text)
    return "ongeldige mapping: " + "; ".join(parts), first_key


def load_bezit_mapping(path: str | Path) -> BezitMapping:
    """Read and validate mappings/bezit/<slug>.yaml; MappingError names the file and the bad key."""
    path = Path(path)
    data = _load_yaml(path)
    try:
        mapping = BezitMapping.model_validate(data)
    except ValidationError as exc:
        message, key = _validation_message(exc)
        raise MappingError(path, message, value=key) from None
    mapping._source = str(path)
    return mapping


def load_export_mapping(path: str | Path) -> ExportMapping:
    """Read and validate mappings/woonservice/<flavour>.yaml (sections toewijzingen, woningzoekenden)."""
    path = Path(path)
    data = _load_yaml(path)
    try:
        mapping = ExportMapping.model_validate(data)
    except ValidationError as exc:
        message, key = _validation_message(exc)
        raise MappingError(path, message, value=key) from None
    mapping._source = str(path)
    return mapping


# --------------------------------------------------------------------------------------------------
# Conversion of a mapped string frame into typed contract columns
# --------------------------------------------------------------------------------------------------


@dataclass
class Conversion:
    """Typed contract columns plus what the conversion noticed, per row (`noticed`) and counted."""

    columns: dict[str, pd.Series]
    warnings: list[str] = field(default_factory=list)
    #: Per row: how many BAG ids were padded, how many were placeholders (so a part can be counted).
    noticed: pd.DataFrame | None = None

    @property
    def bag_ids_padded(self) -> int:
        return 0 if self.noticed is None else int(self.noticed[_PADDED].sum())

    @property
    def bag_placeholders(self) -> int:
        return 0 if self.noticed is None else int(self.noticed[_PLACEHOLDER].sum())

    def rows(self, start: int, stop: int, index: pd.Index) -> Conversion:
        """The conversion of rows [start, stop) on `index`, as converting only those rows gives."""
        # A part's warnings are made again from its own counts; a warning of another kind would be lost.
        assert self.warnings == _conversion_warnings(self), "warning without per-row count"
        part = Conversion(
            columns={name: series.iloc[start:stop].set_axis(index) for name, series in self.columns.items()},
            noticed=None if self.noticed is None else self.noticed.iloc[start:stop].set_axis(index),
        )
        part.warnings = _conversion_warnings(part)
        return part


_PADDED, _PLACEHOLDER = "bag_ids_padded", "bag_placeholders"


def _conversion_warnings(conversion: Conversion) -> list[str]:
    if conversion.bag_placeholders:
        return [f"{conversion.bag_placeholders} BAG-id('s) waren 0 (onbekend) en zijn leeg gelaten"]
    return []


def found_headers(frame_columns: list[str], section: _Section) -> dict[str, str]:
    """Contract column -> header as delivered (for error messages), for the columns found."""
    by_normal = {normalise_header(c): c for c in frame_columns}
    found: dict[str, str] = {}
    for column in section.kolommen:
        for header in section.headers(column):
            hit = by_normal.get(normalise_header(header))
            if hit is not None:
                found[column] = hit
                break
    return found


@contextmanager
def cell_errors(column: str, headers: Mapping[str, str], raw: pd.Series, rows: pd.Series) -> Iterator[None]:
    """Re-raise a helper's SourceError with the delivered header and the value as delivered."""
    try:
        yield
    except SourceError as exc:
        value = exc.value
        if exc.row is not None:
            hit = raw[(rows == exc.row).fillna(False).astype(bool)]
            if len(hit) and not pd.isna(hit.iloc[0]):
                value = hit.iloc[0]
        raise type(exc)(
            exc.file,
            exc.message + _suffix(column, headers),
            row=exc.row,
            column=_label(column, headers),
            value=value,
            expected=exc.expected,
        ) from None


def _label(column: str, headers: Mapping[str, str]) -> str:
    """The header as delivered, which is what a steward looks for in the file."""
    return headers.get(column, column)


def _suffix(column: str, headers: Mapping[str, str]) -> str:
    return "" if headers.get(column, column) == column else f" (contractkolom {column})"


def fail_at(
    file: str,
    mask: pd.Series,
    frame: pd.DataFrame,
    column: str,
    message: str,
    *,
    headers: Mapping[str, str],
    expected: str | None = None,
    show_value: bool = True,
) -> None:
    """Raise a SourceError for the first row where `mask` holds (no-op when it holds nowhere)."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    index = mask[mask].index[0]
    row = frame.at[index, SOURCE_ROW]
    value = frame.at[index, column] if show_value and column in frame.columns else None
    if isinstance(value, pd.Timestamp):
        value = f"{value:%d-%m-%Y}"
    raise SourceError(
        file,
        message + _suffix(column, headers),
        row=None if pd.isna(row) else int(row),
        column=_label(column, headers),
        value=None if value is None or pd.isna(value) else value,
        expected=expected,
    )


def convert_columns(
    frame: pd.DataFrame,
    specs: tuple[ColumnSpec, ...],
    section: _Section,
    bestand: BestandSpec,
    *,
    file: str,
    headers: Mapping[str, str],
    today: date | None = None,
) -> Conversion:
    """Type every contract column of `frame` (strings, contract names) as the contract says.

    Value maps are applied first (case-insensitive); a value map with the key "" also fills the
    empty cells of a column the file has (an SAP checkbox: 'X' or empty). Required columns must be
    filled in every row. Dates must lie between 1900-01-01 and 31 December of next year. The first
    offending cell raises a SourceError with file, row, delivered header and the value as delivered.
    """
    date_max = pd.Timestamp(year=(today or date.today()).year + 1, month=12, day=31)
    rows = frame[SOURCE_ROW]
    out = Conversion(columns={})
    combined = next((c for c in (ADRES_VOLLEDIG, HUISNUMMER_VOLLEDIG) if c in frame), None)
    for spec in specs:
        if spec.name in _ADDRESS_PARTS and combined is not None:
            continue  # filled from the free-form house number / address below
        raw = frame[spec.name] if spec.name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="str")
        mapped = map_values(_fill_empty(raw, section, spec.name, headers), section.waarden.get(spec.name))
        work = pd.DataFrame({spec.name: mapped, SOURCE_ROW: rows}, index=frame.index)
        if spec.required:
            fail_at(
                file, mapped.isna(), work, spec.name, "verplichte waarde ontbreekt",
                headers=headers, show_value=False,
            )
        with cell_errors(spec.name, headers, raw, rows):
            series = _convert(spec, work, file, bestand, out)
        if spec.kind == "date":
            outside = series.notna() & ((series < DATE_MIN) | (series > date_max))
            fail_at(
                file, outside, work.assign(**{spec.name: raw}), spec.name, "datum buiten het geldige bereik",
                headers=headers, expected=f"tussen 01-01-1900 en {date_max:%d-%m-%Y}",
            )
        out.columns[spec.name] = series.astype(spec.dtype)
    out.warnings += _conversion_warnings(out)
    if combined is not None:
        raw = frame[combined]
        mapped = map_values(raw, section.waarden.get(combined))
        if combined == ADRES_VOLLEDIG:
            parts = split_adres(mapped)
            message, expected = "adres niet te splitsen in straat en huisnummer", "adres zoals Kerkstraat 12, Kerkstraat 12A-2"
        else:
            parts = split_huisnummer(mapped)
            message, expected = "huisnummer niet te lezen", "huisnummer zoals 12, 12A, 12-2 of 7 bis"
        fail_at(
            file, mapped.notna() & (parts["huisnummer"].isna() | (parts["huisnummer"] < 1)),
            frame, combined, message, headers=headers, expected=expected,
        )
        out.columns["huisnummer"] = parts["huisnummer"].astype("Int64")
        out.columns["huisletter"] = parts["huisletter"].astype("str")
        out.columns["huisnummertoevoeging"] = normalise_toevoeging(parts["huisnummertoevoeging"])
    return out


def _noticed(out: Conversion, index: pd.Index) -> pd.DataFrame:
    if out.noticed is None:
        out.noticed = pd.DataFrame({_PADDED: 0, _PLACEHOLDER: 0}, index=index, dtype="int64")
    return out.noticed


def _fill_empty(raw: pd.Series, section: _Section, column: str, headers: Mapping[str, str]) -> pd.Series:
    """Empty cells become "" when the value map has a "" key and the file has the column."""
    values = section.waarden.get(column)
    if not values or "" not in values or column not in headers:
        return raw
    empty = raw.isna() | (raw.astype("str").str.strip() == "")
    return raw.astype("str").where(~empty, "")


def _convert(spec: ColumnSpec, work: pd.DataFrame, file: str, bestand: BestandSpec, out: Conversion) -> pd.Series:
    name = spec.name
    text = work[name]
    if spec.kind == "text":
        return text
    if spec.kind in ("code", "label"):
        compact = text.str.replace("\u2013", "-").str.replace("\u2014", "-").str.replace(WHITESPACE_RUN, "", regex=True)
        if spec.case == "lower":
            compact = compact.str.lower()
        work = work.assign(**{name: compact.astype("str")})
        return parse_code(
            work, name, file=file, allowed=spec.codes or None, upper=spec.case == "upper"
        )
    if spec.kind in ("gemeente", "wijk", "buurt"):
        prefix, digits, pattern, sample = {
            "gemeente": ("GM", 4, GEMEENTE_CODE, "GM0392"),
            "wijk": ("WK", 6, WIJK_CODE, "WK039201"),
            "buurt": ("BU", 8, BUURT_CODE, "BU03920101"),
        }[spec.kind]
        codes = normalise_cbs_code(text, prefix, digits)
        bad = codes.notna() & ~codes.str.fullmatch(pattern.pattern).fillna(False).astype(bool)
        if bad.any():
            row = work.loc[bad[bad].index[0], SOURCE_ROW]
            expected = f"code zoals {sample}"
            if spec.kind == "gemeente":
                expected += " of een gemeentenaam uit de mapping"
            raise SourceError(file, f"geen geldige {spec.kind}code", row=int(row), value=text[bad].iloc[0], expected=expected)
        return codes
    if spec.kind == "date":
        return parse_date(work, name, file=file)
    if spec.kind == "number":
        return parse_number(
            work, name, file=file, decimal=bestand.decimaal, thousands=bestand.duizendtal,
            minimum=spec.minimum, maximum=spec.maximum,
        )
    if spec.kind == "integer":
        return parse_integer(
            work, name, file=file, decimal=bestand.decimaal, thousands=bestand.duizendtal,
            minimum=None if spec.minimum is None else int(spec.minimum),
            maximum=None if spec.maximum is None else int(spec.maximum),
        )
    if spec.kind == "huisnummer":
        return parse_integer(work, name, file=file, minimum=1, maximum=99999, decimal=bestand.decimaal, thousands=None)
    if spec.kind == "bool":
        return parse_bool(work, name, file=file)
    if spec.kind == "bag":
        # ERPs write 0 or 0000000000000000 for "no BAG id"; never a real id (EP-online's placeholder).
        placeholder = text.str.fullmatch(r"0+(?:\.0)?").fillna(False).astype(bool)
        noticed = _noticed(out, work.index)
        noticed[_PLACEHOLDER] += placeholder.to_numpy(dtype="int64")
        if placeholder.any():
            text = text.where(~placeholder, None).astype("str")
            work = work.assign(**{name: text})
        padded, padded_rows = normalise_bag_id(text, file=file, frame=work, column=name)
        noticed[_PADDED] += padded_rows.to_numpy(dtype="int64")
        return padded
    if spec.kind == "postcode":
        codes = normalise_postcode(text)
        bad = text.notna() & codes.isna()
        if bad.any():
            row = work.loc[bad[bad].index[0], SOURCE_ROW]
            raise SourceError(file, "geen geldige postcode", row=int(row), value=text[bad].iloc[0], expected="postcode zoals 2011 AB")
        return codes
    if spec.kind == "huisletter":
        letters = text.str.strip().str.upper()
        bad = letters.notna() & ~letters.str.fullmatch(r"[A-Z]").fillna(False).astype(bool)
        if bad.any():
            row = work.loc[bad[bad].index[0], SOURCE_ROW]
            raise SourceError(file, "huisletter is geen enkele letter", row=int(row), value=text[bad].iloc[0], expected="één letter, zoals A")
        return letters.astype("str")
    if spec.kind == "toevoeging":
        return normalise_toevoeging(text)
    raise AssertionError(f"onbekend kolomtype {spec.kind}")  # pragma: no cover


def check_unique(
    frame: pd.DataFrame,
    keys: list[str],
    *,
    file: str,
    headers: Mapping[str, str],
    describe: str,
) -> None:
    """Refuse duplicate keys, naming both rows (the later one as the error row)."""
    present = frame[keys].notna().all(axis=1)
    dup = frame.duplicated(subset=keys, keep="first") & present
    if not dup.any():
        return
    second = dup[dup].index[0]
    key_values = tuple(frame.at[second, k] for k in keys)
    same = present.copy()
    for k, v in zip(keys, key_values, strict=True):
        same &= frame[k] == v
    first = same[same].index[0]
    first_row, second_row = int(frame.at[first, SOURCE_ROW]), int(frame.at[second, SOURCE_ROW])
    shown = ", ".join(
        f"{v:%d-%m-%Y}" if isinstance(v, pd.Timestamp) else str(v) for v in key_values
    )
    raise SourceError(
        file,
        f"{describe} {shown!r} komt twee keer voor: rij {first_row} en rij {second_row}",
        row=second_row,
        column=", ".join(_label(k, headers) for k in keys),
        expected=f"unieke {describe}",
    )
