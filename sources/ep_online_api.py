"""EP-online public API v5 (RVO): energy labels per BAG object or address, and the bulk-file links.

    client = EpOnlineClient(api_key)                      # key from the environment, never from code
    client.by_vbo_id("0392010000012345")                  # -> DataFrame, read_bulk's contract
    client.by_address("2011AB", 12, huisletter="A")       # -> DataFrame
    info = client.download_info(date(2025, 11, 2))        # -> DownloadInfo or None (404: not published)
    client.download(info, landing / "ep_online")          # -> Path of the verified zip

Behaviour, as published by RVO (DESIGN.md §3.1) and as far as it could be checked without a key:
- The key goes as the raw `Authorization` header (no "Bearer"). It is never logged, never part of a
  repr or an error message; server text quoted in an error has it masked. The signed download URL
  (a credential too, while it lives) is shown without its query string, and the key is not sent to
  the download host.
- 400: bad id or address -> EpOnlineBadRequest; 401/403: key missing or refused -> EpOnlineAuthError;
  404: nothing registered -> an empty frame (download_info: None).
- 429 (honouring Retry-After), 5xx, timeouts and connection errors are retried with exponential
  backoff (tenacity); when the attempts run out -> EpOnlineUnavailable.
- Requests are spaced by a client-side rate limit (`requests_per_second`).
- The placeholder BAG id `0000000000000000` (the live API answers it with many unrelated historical
  registrations) and ids that are not 16 digits are refused before any request.

API field spellings differ from the CSV (`Geldig_tot`, `Soort_opname`, `Gebouwklasse` = `Woningbouw`,
ISO date-times, JSON numbers); records are rewritten in the CSV's form and typed by the same parsers
as `read_bulk`, so both give the contract of docs/data-contracts.md §1. This module has no Dagster.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import requests
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from sources.ep_online import OUTPUT_COLUMNS, file_date, type_certificates
from sources.errors import SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW, normalise_header

__all__ = [
    "API_ALIASES",
    "API_BASE_URL",
    "PLACEHOLDER_VBO_ID",
    "DownloadInfo",
    "EpOnlineApiError",
    "EpOnlineAuthError",
    "EpOnlineBadRequest",
    "EpOnlineClient",
    "EpOnlineDownloadError",
    "EpOnlineUnavailable",
    "RateLimiter",
    "records_to_frame",
]

log = logging.getLogger(__name__)

API_BASE_URL = "https://public.ep-online.nl/api/v5"
PLACEHOLDER_VBO_ID = "0000000000000000"
DEFAULT_REQUESTS_PER_SECOND = 2.0  # RVO publishes no limit we could verify; stay polite
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024**3  # the zipped total file is ~300 MB; a daily file far less
_CHUNK = 1024 * 1024
_SERVER_TEXT = 300  # characters of a server message quoted in an error

# Contract column -> API field names. Matching ignores case, blanks and underscores (as for the CSV),
# so `Geldig_tot` = `GeldigTot`. Only the names that differ from the CSV need an entry of their own.
API_ALIASES: dict[str, tuple[str, ...]] = {
    "bag_vbo_id": ("BAGVerblijfsobjectID", "BAG_verblijfsobject_id", "AdresseerbaarObjectID"),
    "postcode": ("Postcode",),
    "huisnummer": ("Huisnummer",),
    "huisletter": ("Huisletter",),
    "huisnummertoevoeging": ("Huisnummertoevoeging", "Toevoeging"),
    "opnamedatum": ("Opnamedatum",),
    "registratiedatum": ("Registratiedatum",),
    "geldig_tot": ("Geldig_tot", "GeldigTot"),
    "energieklasse": ("Energieklasse", "Labelklasse"),
    "gebouwklasse": ("Gebouwklasse",),
    "gebouwtype": ("Gebouwtype",),
    "berekeningstype": ("Berekeningstype",),
    "status": ("Status",),
    "energie_index": ("EnergieIndex", "Energie_index"),
    "primaire_fossiele_energie": ("PrimaireFossieleEnergie", "Primaire_fossiele_energie"),
    "bouwjaar": ("Bouwjaar",),
}
# Known API fields we do not carry (`Certificaathouder` is dropped on purpose, as in read_bulk).
API_KNOWN_UNUSED = (
    "Soort_opname", "Gebouwsubtype", "BAGPandIDs", "BAGLigplaatsID", "BAGStandplaatsID", "Detailaanduiding",
    "Op_basis_van_referentiegebouw", "Certificaathouder", "SBIcode", "Projectnaam", "Projectobject",
    "Gebruiksoppervlakte_thermische_zone", "Compactheid", "EnergieIndex_met_EMG_forfaitair", "Energiebehoefte",
    "Warmtebehoefte", "PrimaireFossieleEnergie_EMG_forfaitair", "Aandeel_hernieuwbare_energie",
    "Aandeel_hernieuwbare_energie_EMG_forfaitair", "Temperatuuroverschrijding", "BerekendeCO2Emissie",
    "BerekendeEnergieverbruik", "Eis_energiebehoefte", "Eis_primaire_fossiele_energie",
    "Eis_aandeel_hernieuwbare_energie", "Eis_temperatuuroverschrijding", "Afmeldnummer",
)
_DATE_FIELDS = ("opnamedatum", "registratiedatum", "geldig_tot")
_NUMBER_FIELDS = ("energie_index", "primaire_fossiele_energie")
_INTEGER_FIELDS = ("huisnummer", "bouwjaar", "bag_vbo_id")


def _compact(name: object) -> str:
    return normalise_header(name).replace(" ", "").replace("_", "")


_API_LOOKUP = {_compact(alias): contract for contract, aliases in API_ALIASES.items() for alias in aliases}
_API_UNUSED = {_compact(name) for name in API_KNOWN_UNUSED}


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


class EpOnlineApiError(SourceError):
    """The EP-online API refused a request or answered outside its contract. Never holds the key."""

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(f"EP-online API {endpoint}", message, value=value, expected=expected)


class EpOnlineBadRequest(EpOnlineApiError, ValueError):
    """HTTP 400, or an id/address refused before the request (placeholder id, not 16 digits)."""


class EpOnlineAuthError(EpOnlineApiError):
    """HTTP 401/403: no API key, or the key is unknown, inactive or not allowed here."""


class EpOnlineUnavailable(EpOnlineApiError):
    """429, 5xx, timeouts or connection errors that outlasted every retry."""


class EpOnlineDownloadError(EpOnlineApiError):
    """A bulk-file download failed, was too large, or is not a readable zip."""


class _Retryable(Exception):
    """Internal: a transient failure tenacity should retry."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------
# rate limiting
# --------------------------------------------------------------------------------------------


class RateLimiter:
    """At most `requests_per_second` request starts per second (evenly spaced). 0 or less: no limit.

    `clock` and `sleep` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / requests_per_second if requests_per_second and requests_per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            waited = 0.0
            if self._next is not None and now < self._next:
                waited = self._next - now
                self._sleep(waited)
                now = self._clock()
            self._next = max(now, self._next or now) + self.interval
            return waited


# --------------------------------------------------------------------------------------------
# bulk-file links
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadInfo:
    """What /Mutatiebestand/DownloadInfo answers. `download_url` is a short-lived signed URL: kept out
    of the repr, and shown without its query string in errors."""

    bestandsnaam: str
    geldig_tot_en_met: str | None
    download_url: str = field(repr=False)

    @property
    def file_date(self) -> date | None:
        """The date in the file name (`d20251102_v4.zip` -> 2025-11-02)."""
        return file_date(self.bestandsnaam)

    @property
    def is_mutation_file(self) -> bool:
        return Path(self.bestandsnaam).name.lower().startswith("d")

    @property
    def link_valid_until(self) -> datetime | None:
        """`geldigTotEnMet` parsed (seconds precision); None when absent or unreadable."""
        return _parse_timestamp(self.geldig_tot_en_met)


def _parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", text.strip())
    if not match:
        return None
    zone = match.group(2) or ""
    try:
        return datetime.fromisoformat(match.group(1) + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None


def _redact_url(url: str) -> str:
    """scheme://host/path, without the signature in the query string."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))


_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.zip$")


# --------------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------------


class EpOnlineClient:
    """EP-online API v5 over one requests.Session. Thread-safe for the rate limit only."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str = API_BASE_URL,
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
        max_retry_after_seconds: float = 300.0,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        session: requests.Session | None = None,
        download_session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = (api_key or "").strip()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_retry_after_seconds = max_retry_after_seconds
        self.max_download_bytes = max_download_bytes
        self._sleep = sleep
        self.rate_limiter = RateLimiter(requests_per_second, clock=clock, sleep=sleep)
        self._session = session or requests.Session()
        self._session.headers["Accept"] = "application/json"
        self._session.headers["User-Agent"] = "prestatiemonitor (EP-online API v5 client)"
        # The signed download URL points at another host: a session without the key.
        self._download_session = download_session or requests.Session()
        self._download_session.headers.pop("Authorization", None)
        if self._api_key:
            if not re.fullmatch(r"[\x21-\x7e]+", self._api_key):
                # requests would quote the whole header value in its own error; we name no value.
                raise EpOnlineAuthError(
                    "configuratie",
                    "API-sleutel bevat spaties, regeleinden of andere ongeldige tekens",
                    expected="de sleutel zoals RVO die uitgaf (EP_ONLINE_API_KEY)",
                )
            self._session.headers["Authorization"] = self._api_key

    def __repr__(self) -> str:
        key = "ingesteld" if self._api_key else "ontbreekt"
        return f"EpOnlineClient(base_url={self.base_url!r}, api_key=<{key}>)"

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    def close(self) -> None:
        self._session.close()
        self._download_session.close()

    def __enter__(self) -> EpOnlineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- energy labels ---------------------------------------------------------------------

    def by_vbo_id(self, vbo_id: str) -> pd.DataFrame:
        """Every certificate registered on a BAG verblijfsobject (or ligplaats/standplaats) id.

        GET /PandEnergielabel/AdresseerbaarObject/{vboId}. 404 -> empty frame. Records for another id
        than the one asked are dropped (listed in `attrs["waarschuwingen"]`).
        """
        text = _check_vbo_id(vbo_id)
        endpoint = f"/PandEnergielabel/AdresseerbaarObject/{text}"
        records = self._labels(endpoint, None)
        frame = records_to_frame(records, source=f"EP-online API {endpoint}")
        other = frame["bag_vbo_id"].notna() & (frame["bag_vbo_id"] != text)
        if other.any():
            frame.attrs.setdefault("waarschuwingen", []).append(
                f"{int(other.sum())} certificaat/certificaten voor een ander BAG-id dan {text} genegeerd"
            )
            attrs = frame.attrs
            frame = frame[~other].reset_index(drop=True)
            frame.attrs = attrs
        return frame

    def by_address(
        self,
        postcode: str,
        huisnummer: int | str,
        huisletter: str | None = None,
        huisnummertoevoeging: str | None = None,
    ) -> pd.DataFrame:
        """Every certificate registered on an address.

        GET /PandEnergielabel/Adres?postcode=&huisnummer=&huisletter=&huisnummertoevoeging=
        (empty parts are left out). 404 -> empty frame.
        """
        params = _check_address(postcode, huisnummer, huisletter, huisnummertoevoeging)
        endpoint = "/PandEnergielabel/Adres"
        records = self._labels(endpoint, params)
        label = " ".join(str(v) for v in params.values())
        return records_to_frame(records, source=f"EP-online API {endpoint} {label}")

    def _labels(self, endpoint: str, params: Mapping[str, str] | None) -> list[dict[str, Any]]:
        body = self._get_json(endpoint, params)
        if body is None:
            return []
        if isinstance(body, dict):
            body = [body]  # tolerate a single object, though the API documents an array
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise EpOnlineApiError(endpoint, "antwoord is geen lijst van certificaten", expected="JSON-array van objecten")
        return body

    # ---- bulk files ------------------------------------------------------------------------

    def download_info(self, day: date | str | None = None, *, file_type: str = "csv") -> DownloadInfo | None:
        """Where to download a bulk file.

        Without a date: GET /Mutatiebestand/DownloadInfo?fileType=csv (the newest file RVO offers;
        reported to be the monthly total file `vYYYYMMDD_v4_csv.zip`). With a date:
        GET /Mutatiebestand/DownloadInfo/{yyyy-mm-dd}?fileType=csv (that day's mutation file
        `dYYYYMMDD_v4.zip`). 404 (not published, or already removed) -> None.
        """
        if day is None:
            endpoint = "/Mutatiebestand/DownloadInfo"
        else:
            endpoint = f"/Mutatiebestand/DownloadInfo/{_check_day(day).isoformat()}"
        body = self._get_json(endpoint, {"fileType": file_type} if file_type else None)
        if body is None:
            return None
        if not isinstance(body, dict):
            raise EpOnlineApiError(endpoint, "antwoord is geen object", expected="{bestandsnaam, geldigTotEnMet, downloadUrl}")
        fields = {_compact(k): v for k, v in body.items()}
        name, url = fields.get("bestandsnaam"), fields.get("downloadurl")
        if not isinstance(name, str) or not name.strip() or not isinstance(url, str) or not url.strip():
            raise EpOnlineApiError(
                endpoint, "antwoord mist bestandsnaam of downloadUrl", expected="{bestandsnaam, geldigTotEnMet, downloadUrl}"
            )
        valid = fields.get("geldigtotenmet")
        return DownloadInfo(name.strip(), None if valid is None else str(valid), url.strip())

    def download(self, info: DownloadInfo, target_dir: str | Path, *, require_csv: bool = True) -> Path:
        """Stream the file to `target_dir/<bestandsnaam>`: first to a hidden temporary file there, then
        checked (size limit, a readable zip, by default exactly one .csv inside) and renamed into place.
        Nothing is left behind on failure. The key is not sent to the download host."""
        name = Path(info.bestandsnaam.replace("\\", "/")).name
        endpoint = f"download {name}"
        if name != info.bestandsnaam or not _SAFE_FILE_NAME.match(name):
            raise EpOnlineDownloadError(
                endpoint, "onveilige of onverwachte bestandsnaam", value=info.bestandsnaam, expected="naam als d20251102_v4.zip"
            )
        if urlsplit(info.download_url).scheme != "https":
            raise EpOnlineDownloadError(endpoint, "downloadlink is geen https", value=_redact_url(info.download_url))
        target_dir = Path(target_dir)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / name

        def attempt() -> Path:
            descriptor, temporary = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".partial")
            partial = Path(temporary)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    self._stream_to(info, handle, endpoint)
                _verify_zip(partial, endpoint, require_csv=require_csv)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            return target

        return self._with_retries(endpoint, attempt)

    def _stream_to(self, info: DownloadInfo, handle: Any, endpoint: str) -> None:
        self.rate_limiter.acquire()
        shown = _redact_url(info.download_url)
        try:
            response = self._download_session.get(info.download_url, stream=True, timeout=self.timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _Retryable(f"{type(exc).__name__} bij {shown}") from None
        with response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} bij {shown}", status=status, retry_after=self._retry_after(response))
            if status in (401, 403):
                raise EpOnlineDownloadError(
                    endpoint, f"downloadlink geweigerd (HTTP {status}); verlopen? vraag DownloadInfo opnieuw op",
                    status=status, value=shown,
                )
            if status != 200:
                raise EpOnlineDownloadError(endpoint, f"download mislukt (HTTP {status})", status=status, value=shown)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_download_bytes:
                raise EpOnlineDownloadError(
                    endpoint, "bestand is te groot", value=f"{declared} bytes", expected=f"<= {self.max_download_bytes} bytes"
                )
            written = 0
            try:
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    if not chunk:
                        continue
                    written += len(chunk)
                    if written > self.max_download_bytes:
                        raise EpOnlineDownloadError(
                            endpoint, "bestand is te groot", value=f"> {self.max_download_bytes} bytes",
                            expected=f"<= {self.max_download_bytes} bytes",
                        )
                    handle.write(chunk)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                raise _Retryable(f"download afgebroken ({type(exc).__name__}) bij {shown}") from None
            if declared and declared.isdigit() and written != int(declared):
                raise _Retryable(f"download onvolledig: {written} van {declared} bytes bij {shown}")

    # ---- transport -------------------------------------------------------------------------

    def _get_json(self, endpoint: str, params: Mapping[str, str] | None) -> Any:
        """GET base_url + endpoint with retries. None for 404."""
        if not self._api_key:
            raise EpOnlineAuthError(
                endpoint, "geen API-sleutel ingesteld", expected="een sleutel van RVO in EP_ONLINE_API_KEY"
            )
        url = self.base_url + quote(endpoint, safe="/-_.")

        def attempt() -> Any:
            self.rate_limiter.acquire()
            try:
                response = self._session.get(url, params=params, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise _Retryable(type(exc).__name__) from None  # the message may quote the URL; we own the text
            return self._interpret(endpoint, response)

        return self._with_retries(endpoint, attempt)

    def _interpret(self, endpoint: str, response: requests.Response) -> Any:
        status = response.status_code
        if status == 404:
            return None
        if status == 204:
            return []
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", status=status, retry_after=self._retry_after(response))
        if status == 400:
            raise EpOnlineBadRequest(
                endpoint, f"verzoek geweigerd (HTTP 400){self._server_detail(response)}", status=400,
                expected="een BAG-id van 16 cijfers of een geldig adres",
            )
        if status in (401, 403):
            raise EpOnlineAuthError(
                endpoint,
                f"API-sleutel ontbreekt, is onbekend of niet actief (HTTP {status})",
                status=status,
                expected="een geldige sleutel van RVO in EP_ONLINE_API_KEY",
            )
        if status != 200:
            raise EpOnlineApiError(endpoint, f"onverwacht antwoord (HTTP {status}){self._server_detail(response)}", status=status)
        try:
            return response.json()
        except ValueError:
            raise EpOnlineApiError(endpoint, "antwoord is geen geldige JSON", status=status) from None

    def _with_retries(self, endpoint: str, call: Callable[[], Any]) -> Any:
        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("EP-online API %s: %s; poging %d, opnieuw over %.1f s", endpoint, exc, state.attempt_number, wait)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=False,
        )
        try:
            return retrying(call)
        except RetryError as error:
            last = error.last_attempt.exception()
            reason = last.reason if isinstance(last, _Retryable) else str(last)
            status = last.status if isinstance(last, _Retryable) else None
            raise EpOnlineUnavailable(
                endpoint,
                f"niet bereikbaar na {self.max_attempts} pogingen (laatste: {reason})",
                status=status,
                expected="later opnieuw proberen",
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_retry_after_seconds)
        exponent = max(state.attempt_number - 1, 0)
        return float(min(self.backoff_seconds * (2**exponent), self.max_backoff_seconds))

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)

    def _server_detail(self, response: requests.Response) -> str:
        """A short server message for an error, with the key masked should the server echo it."""
        try:
            body = response.json()
            text = next(
                (str(body[k]) for k in ("detail", "title", "message", "Message") if isinstance(body, dict) and body.get(k)),
                "",
            )
        except ValueError:
            text = response.text or ""
        text = " ".join(text.split())[:_SERVER_TEXT]
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return f": {text}" if text else ""


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _check_vbo_id(vbo_id: object) -> str:
    endpoint = "/PandEnergielabel/AdresseerbaarObject"
    text = "" if vbo_id is None else str(vbo_id).strip()
    if text == PLACEHOLDER_VBO_ID:
        raise EpOnlineBadRequest(
            endpoint,
            "het placeholder-id 0000000000000000 wordt niet opgevraagd (de API geeft daarvoor certificaten van andere objecten)",
            value=text,
            expected="een echt BAG-id van 16 cijfers",
        )
    if not re.fullmatch(r"\d{16}", text):
        raise EpOnlineBadRequest(endpoint, "geen geldig BAG-id", value=text, expected="16 cijfers, met voorloopnullen")
    return text


def _check_address(
    postcode: object, huisnummer: object, huisletter: object, toevoeging: object
) -> dict[str, str]:
    endpoint = "/PandEnergielabel/Adres"
    code = re.sub(r"\s", "", "" if postcode is None else str(postcode)).upper()
    if not re.fullmatch(r"[1-9]\d{3}[A-Z]{2}", code):
        raise EpOnlineBadRequest(endpoint, "geen geldige postcode", value=postcode, expected="1234AB")
    number = str(huisnummer).strip() if huisnummer is not None else ""
    if not re.fullmatch(r"[1-9]\d{0,4}", number):
        raise EpOnlineBadRequest(endpoint, "geen geldig huisnummer", value=huisnummer, expected="geheel getal 1-99999")
    params = {"postcode": code, "huisnummer": number}
    letter = "" if huisletter is None else str(huisletter).strip()
    if letter:
        if not re.fullmatch(r"[A-Za-z]", letter):
            raise EpOnlineBadRequest(endpoint, "geen geldige huisletter", value=huisletter, expected="één letter")
        params["huisletter"] = letter.upper()
    addition = "" if toevoeging is None else str(toevoeging).strip()
    if addition:
        if not re.fullmatch(r"[A-Za-z0-9]{1,4}", addition):
            raise EpOnlineBadRequest(
                endpoint, "geen geldige huisnummertoevoeging", value=toevoeging, expected="1-4 letters of cijfers"
            )
        params["huisnummertoevoeging"] = addition.upper()
    return params


def _check_day(day: date | str) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    try:
        return date.fromisoformat(str(day).strip())
    except ValueError:
        raise EpOnlineBadRequest(
            "/Mutatiebestand/DownloadInfo", "geen geldige datum", value=day, expected="jjjj-mm-dd"
        ) from None


def _verify_zip(path: Path, endpoint: str, *, require_csv: bool) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if not members:
                raise EpOnlineDownloadError(endpoint, "zip-bestand is leeg")
            bad = archive.testzip()
            if bad is not None:
                raise EpOnlineDownloadError(endpoint, "zip-bestand is beschadigd", value=bad)
            csvs = [info.filename for info in members if info.filename.lower().endswith(".csv")]
            if require_csv and len(csvs) != 1:
                found = ", ".join(info.filename for info in members[:5])
                raise EpOnlineDownloadError(
                    endpoint, "zip-bestand bevat niet precies één CSV-bestand", value=found, expected="één .csv (fileType=csv)"
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise EpOnlineDownloadError(
            endpoint, f"geen leesbaar zip-bestand ({type(exc).__name__})", expected="volledige download"
        ) from None


# --------------------------------------------------------------------------------------------
# records -> contract
# --------------------------------------------------------------------------------------------


def _as_day_text(value: object) -> object:
    """ISO date(-time) -> 'jjjjmmdd' as in the CSV; other text passes through for the parser to judge."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])", text)
    return f"{match.group(1)}{match.group(2)}{match.group(3)}" if match else text


def _as_number_text(value: object) -> object:
    """JSON number -> decimal-comma text as in the CSV ('172,52'); text passes through."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return np.format_float_positional(value, trim="-").replace(".", ",")
    return str(value).strip()


def _as_integer_text(value: object) -> object:
    """JSON integer (or a float that is one) -> '1873'; anything else passes through."""
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        return str(int(value))
    return _as_number_text(value)


def _as_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def records_to_frame(records: Iterable[Mapping[str, Any]], *, source: str) -> pd.DataFrame:
    """API records -> the read_bulk contract (OUTPUT_COLUMNS). `_source_file` is `source`,
    `_source_row` the 1-based position in the JSON array, `publicatiedatum` empty (the API has none).
    Unknown fields are listed in `attrs["onbekende_velden"]`; a bad value raises a SourceError naming
    the API field and array position."""
    rows = list(records)
    present: dict[str, str] = {}
    unknown: set[str] = set()
    for record in rows:
        for key in record:
            compact = _compact(key)
            contract = _API_LOOKUP.get(compact)
            if contract is not None:
                present.setdefault(contract, str(key))
            elif compact not in _API_UNUSED:
                unknown.add(str(key))
    headers = {contract: present.get(contract, API_ALIASES[contract][0]) for contract in API_ALIASES}
    raw = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for contract, header in headers.items():
        convert: Callable[[object], object] = _as_text
        if contract in _DATE_FIELDS:
            convert = _as_day_text
        elif contract in _NUMBER_FIELDS:
            convert = _as_number_text
        elif contract in _INTEGER_FIELDS:
            convert = _as_integer_text
        values = [convert(_field(record, header)) for record in rows]
        raw[header] = pd.Series(values, index=raw.index, dtype="str")
    raw[SOURCE_ROW] = pd.array(np.arange(1, len(rows) + 1), dtype="Int64")
    raw[SOURCE_FILE] = source
    frame, warnings = type_certificates(raw, headers, source, None)
    frame = frame[OUTPUT_COLUMNS]
    frame.attrs["onbekende_velden"] = sorted(unknown)
    frame.attrs["waarschuwingen"] = warnings
    return frame


def _field(record: Mapping[str, Any], header: str) -> Any:
    if header in record:
        return record[header]
    wanted = _compact(header)
    for key, value in record.items():
        if _compact(key) == wanted:
            return value
    return None
