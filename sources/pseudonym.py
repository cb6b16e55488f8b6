"""Pseudonymisation of lettings and house seekers at ingestion (AVG).

Every column of the two Woonservice contracts (`TOEWIJZINGEN_COLUMNS`, `WONINGZOEKENDEN_COLUMNS`)
has a treatment in `VELDEN`; a contract column without one is a programming error
(`check_every_column_classified`, run at import and in the tests):

- `gehasht`: direct identifiers (toewijzing_id, woningzoekende_id) are replaced by a keyed hash,
  HMAC-SHA256 with a secret key, shown as a short prefixed token: `tw_` / `wz_` + the first 16 hex
  digits (64 bits). The same key gives the same token for the same value in every file and every
  run, so a letting still finds its seeker, the business key of the quarantine and the steward's
  corrections still work; without the key a token cannot be traced back to the export's number
  (a plain hash could: identifier spaces like WZ000000..WZ999999 are small enough to try them all).
- `gegeneraliseerd`: detail no KPI needs is coarsened at ingestion (woningzoekenden: inschrijfdatum
  to the first day of its month, huishoudgrootte top-coded at 5 = "5 of meer", the class the
  slaagkans breakdown uses).
- `alleen_staging`: personal or person-linked values a KPI needs exactly (household income against
  each year's limits, age against the AOW age, registration date for the inschrijfduur median, the
  address of the let dwelling for the cross-check with the stock lists). They stay in Dagster's
  local Parquet store (raw_*, stg_*) and are never published; published tables hold aggregates
  with small-cell suppression only. Classes (`klassen`) may appear as a dimension of such aggregates.
- `geen`: not personal data on its own (letting date, area codes, corporation, rent, dwelling type).

The key comes from the environment (PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL, at least 32 characters,
e.g. `openssl rand -hex 32`). Without it nothing is read, unless the configuration explicitly allows
the public development key for the bundled synthetic sample and the tests; then every run says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from sources.mapping import (
    INKOMENSKLASSEN,
    LEEFTIJDSKLASSEN,
    TOEWIJZINGEN_COLUMNS,
    VOORRANG,
    WONINGZOEKENDEN_COLUMNS,
    ColumnSpec,
)

__all__ = [
    "ENV_VAR",
    "MASKED",
    "MIN_KEY_LENGTH",
    "TOKEN_HEX_DIGITS",
    "ONTWIKKELSLEUTEL",
    "VELDEN",
    "Behandeling",
    "PseudonymKeyError",
    "Pseudonymiser",
    "Veld",
    "identifier_fields",
    "is_token",
    "personal_fields",
    "pseudonymise",
]

ENV_VAR = "PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL"
#: Public, deliberately named key: only for the synthetic sample and the tests. It protects nothing.
ONTWIKKELSLEUTEL = "ONTWIKKELSLEUTEL-prestatiemonitor-alleen-voor-synthetische-voorbeelddata"
MIN_KEY_LENGTH = 32
TOKEN_HEX_DIGITS = 16
MASKED = "<persoonsgegeven>"
HUISHOUDGROOTTE_TOPCODE = 5

Dataset = str  # "toewijzingen" | "woningzoekenden"


class Behandeling(StrEnum):
    GEHASHT = "gehasht"
    GEGENERALISEERD = "gegeneraliseerd"
    ALLEEN_STAGING = "alleen_staging"
    GEEN = "geen"


@dataclass(frozen=True)
class Veld:
    """How one contract column is treated, why, and (for a class) the labels a published aggregate may show."""

    behandeling: Behandeling
    toelichting: str
    prefix: str = ""  # gehasht: the token prefix
    klassen: tuple[str, ...] = ()  # labels allowed as a dimension of a suppressed aggregate


G, GEN, S, N = Behandeling.GEHASHT, Behandeling.GEGENERALISEERD, Behandeling.ALLEEN_STAGING, Behandeling.GEEN
_WONING = "adres/id van de verhuurde woning = het nieuwe woonadres van het huishouden; nodig voor de controle tegen de bezitslijsten"
HUISHOUDGROOTTE_KLASSEN = ("1", "2", "3", "4", "5+")

VELDEN: dict[Dataset, dict[str, Veld]] = {
    "toewijzingen": {
        "toewijzing_id": Veld(G, "nummer van de verhuring in het toewijzingssysteem, herleidbaar tot de huurder", prefix="tw"),
        "toewijzingsdatum": Veld(N, "datum van de verhuring"),
        "gemeente_code": Veld(N, "gemeente van de woning"),
        "kern": Veld(N, "kern van de woning"),
        "wijk_code": Veld(N, "wijk van de woning"),
        "buurt_code": Veld(N, "buurt van de woning"),
        "corporatie": Veld(N, "verhuurder"),
        "vhe_id": Veld(S, _WONING),
        "bag_vbo_id": Veld(S, _WONING),
        "postcode": Veld(S, _WONING),
        "huisnummer": Veld(S, _WONING),
        "huisletter": Veld(S, _WONING),
        "huisnummertoevoeging": Veld(S, _WONING),
        "netto_kale_huur": Veld(N, "huur van de woning"),
        "woningtype": Veld(N, "EGW/MGW"),
        "kamers": Veld(N, "kamers van de woning"),
        "publicatiemodel": Veld(N, "hoe de woning is aangeboden"),
        "voorrang": Veld(
            S, "voorrang (urgentie) van het huishouden; alleen als aantal/aandeel gepubliceerd", klassen=(*VOORRANG, "geen")
        ),
        "voorrang_detail": Veld(
            S, "reden van voorrang, o.a. MED (medisch: bijzonder persoonsgegeven) en STA (statushouder); alleen als aandeel gepubliceerd"
        ),
        "aantal_reacties": Veld(N, "reacties op de advertentie"),
        "inschrijfdatum": Veld(S, "exact nodig voor inschrijfduur (gemiddelde, mediaan, p90) bij toewijzing"),
        "zoekduur_maanden": Veld(S, "zoekduur van het huishouden; alleen als gemiddelde/mediaan gepubliceerd"),
        "huishoudinkomen": Veld(S, "exact nodig tegen de DAEB- en huurtoeslaggrenzen van het jaar"),
        "huishoudgrootte": Veld(S, "nodig voor een- of meerpersoonsgrens en de plausibiliteitscontrole 1..15"),
        "leeftijd_hoofdaanvrager": Veld(
            S, "leeftijd op de toewijzingsdatum (geen geboortedatum); nodig tegen de AOW-leeftijd en de plausibiliteitscontrole"
        ),
        "woongemeente_code": Veld(S, "vorige woongemeente van het huishouden"),
        "passendheid": Veld(S, "passend toegewezen, afgeleid uit inkomen en huishouden; alleen als aandeel gepubliceerd"),
        "doorstromer": Veld(S, "verlaat het huishouden een sociale huurwoning; alleen als aandeel gepubliceerd"),
        "woningzoekende_id": Veld(G, "inschrijfnummer van de woningzoekende (klantnummer)", prefix="wz"),
    },
    "woningzoekenden": {
        "woningzoekende_id": Veld(G, "inschrijfnummer van de woningzoekende (klantnummer)", prefix="wz"),
        "periode_begin": Veld(N, "begin van de verslagperiode"),
        "periode_einde": Veld(N, "einde van de verslagperiode"),
        "woongemeente_code": Veld(S, "woongemeente; gepubliceerd als gemeente van een geaggregeerde rij"),
        "woonkern": Veld(S, "woonkern; gepubliceerd als kern van een geaggregeerde, onderdrukte rij"),
        "inkomensklasse": Veld(S, "klasse; uitsplitsing van de slaagkans", klassen=INKOMENSKLASSEN),
        "huishoudinkomen": Veld(S, "exact nodig voor de inkomensbanden van het jaar (reference/inkomensklassen.csv)"),
        "huishoudgrootte": Veld(
            GEN, "afgetopt op 5 (= 5 of meer): de slaagkans kent alleen 1, 2, 3, 4 en 5+", klassen=HUISHOUDGROOTTE_KLASSEN
        ),
        "leeftijdsklasse": Veld(S, "klasse; uitsplitsing van de slaagkans", klassen=LEEFTIJDSKLASSEN),
        "inschrijfdatum": Veld(GEN, "naar de eerste dag van de maand: geen KPI gebruikt de dag"),
        "aantal_reacties": Veld(S, "reacties van de woningzoekende in de periode"),
        "aantal_reacties_woongemeente": Veld(S, "reacties in de eigen woongemeente"),
        "gehuisvest": Veld(S, "gehuisvest in de periode"),
        "gehuisvest_via": Veld(S, "hoe gehuisvest"),
        "gehuisvest_gemeente_code": Veld(S, "gemeente waar gehuisvest"),
    },
}

CONTRACTS: dict[Dataset, tuple[ColumnSpec, ...]] = {
    "toewijzingen": TOEWIJZINGEN_COLUMNS,
    "woningzoekenden": WONINGZOEKENDEN_COLUMNS,
}


def check_every_column_classified() -> None:
    """Every contract column has a treatment and every treatment names a contract column."""
    for dataset, specs in CONTRACTS.items():
        names = {spec.name for spec in specs}
        missing = sorted(names - set(VELDEN[dataset]))
        unknown = sorted(set(VELDEN[dataset]) - names)
        if missing or unknown:
            raise ValueError(
                f"sources/pseudonym.py: behandeling per contractkolom van {dataset} klopt niet; "
                f"zonder behandeling: {missing}, onbekend: {unknown}"
            )


check_every_column_classified()


def identifier_fields(dataset: Dataset | None = None) -> dict[str, str]:
    """Hashed columns -> token prefix (of one dataset, or of both)."""
    datasets = [dataset] if dataset else list(VELDEN)
    return {name: veld.prefix for d in datasets for name, veld in VELDEN[d].items() if veld.behandeling is G}


def is_token(field: str, value: object) -> bool:
    """Whether `value` has the form of a pseudonym of `field` (`<prefix>_<16 hex>`)."""
    prefix = identifier_fields()[field]
    return re.fullmatch(re.escape(prefix) + "_[0-9a-f]{" + str(TOKEN_HEX_DIGITS) + "}", str(value)) is not None


def personal_fields() -> dict[str, tuple[str, ...]]:
    """Every contract column that is personal data (treatment other than `geen`) -> the class labels a
    published aggregate may carry in a column of that name (empty: the column may never be published)."""
    out: dict[str, tuple[str, ...]] = {}
    for velden in VELDEN.values():
        for name, veld in velden.items():
            if veld.behandeling is not N:
                out[name] = tuple(sorted(set(out.get(name, ())) | set(veld.klassen)))
    return out


class PseudonymKeyError(ValueError):
    """No usable pseudonymisation key: nothing personal may be read."""


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes = dataclasses.field(repr=False)  # never in a repr, log line or error message
    development: bool = False

    @classmethod
    def from_key(cls, key: str | None, *, allow_development: bool = False) -> Pseudonymiser:
        """The configured key, or the development key when none is set and that is allowed; otherwise refused."""
        key = (key or "").strip()
        if not key:
            if not allow_development:
                raise PseudonymKeyError(
                    f"geen pseudonimiseringssleutel: zet {ENV_VAR} (minstens {MIN_KEY_LENGTH} tekens, bv. "
                    "`openssl rand -hex 32`); zonder sleutel worden toewijzingen en woningzoekenden niet ingelezen"
                )
            return cls(ONTWIKKELSLEUTEL.encode("utf-8"), development=True)
        if key == ONTWIKKELSLEUTEL:
            raise PseudonymKeyError(f"{ENV_VAR} is de openbare ontwikkelsleutel; kies een eigen geheime sleutel")
        if len(key) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(
                f"{ENV_VAR} is te kort ({len(key)} tekens); verwacht minstens {MIN_KEY_LENGTH} tekens, bv. `openssl rand -hex 32`"
            )
        return cls(key.encode("utf-8"))

    def token(self, field: str, value: object) -> str:
        """`<prefix>_<16 hex>` for one identifier value (field name = hash domain, so a letting number
        and a seeker number that happen to be equal get different tokens)."""
        return self._tokenise(field, [str(value)])[str(value)]

    def _tokenise(self, field: str, values: Iterable[str]) -> dict[str, str]:
        # The prefix looked up once and OpenSSL's one-shot HMAC: an HMAC object and the prefix table
        # per value were a third of reading a national lettings export (~1 million distinct ids).
        prefix = identifier_fields()[field] + "_"
        domain = f"{field}\x1f".encode()
        key = self.key
        return {v: prefix + hmac.digest(key, domain + v.encode(), "sha256").hex()[:TOKEN_HEX_DIGITS] for v in values}

    def tokens(self, field: str, values: pd.Series) -> pd.Series:
        """Tokens for a column; missing values stay missing, the dtype stays text."""
        text = values.astype("str")
        present = values.notna()
        lookup = self._tokenise(field, text[present].unique())
        if len(set(lookup.values())) != len(lookup):  # 64 bits: practically never; never silently merge two people
            raise PseudonymKeyError(f"pseudoniemen van {field} botsen; verleng TOKEN_HEX_DIGITS")
        return text.map(lookup).where(present)

    @property
    def fingerprint(self) -> str:
        """8 hex digits that change when the key changes (so do all tokens); reveals nothing of the key."""
        return hmac.new(self.key, b"prestatiemonitor-sleutel-vingerafdruk", hashlib.sha256).hexdigest()[:8]

    def describe(self) -> dict[str, str]:
        return {
            "methode": f"HMAC-SHA256, token = prefix + {TOKEN_HEX_DIGITS} hex",
            "sleutel": "ONTWIKKELSLEUTEL (openbaar, alleen voor synthetische voorbeelddata)" if self.development else ENV_VAR,
            "sleutel_vingerafdruk": self.fingerprint,
        }


def pseudonymise(frame: pd.DataFrame, dataset: Dataset, pseudonymiser: Pseudonymiser) -> pd.DataFrame:
    """The reader's frame with identifiers hashed and generalised columns coarsened (a copy).

    Columns that are absent (e.g. dropped by a mapping) are left absent; all other columns unchanged.
    """
    velden = VELDEN[dataset]
    out = frame.copy()
    for name, veld in velden.items():
        if name not in out.columns:
            continue
        if veld.behandeling is G:
            out[name] = pseudonymiser.tokens(name, out[name])
    if dataset == "woningzoekenden":
        if "inschrijfdatum" in out.columns:
            dates = pd.to_datetime(out["inschrijfdatum"])
            out["inschrijfdatum"] = dates.dt.to_period("M").dt.start_time.astype(dates.dtype)
        if "huishoudgrootte" in out.columns:
            size = out["huishoudgrootte"]
            out["huishoudgrootte"] = size.where(size.isna() | (size <= HUISHOUDGROOTTE_TOPCODE), HUISHOUDGROOTTE_TOPCODE)
    return out
