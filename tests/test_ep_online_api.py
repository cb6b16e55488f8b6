"""EP-online API v5 client: JSON answers served by `responses` (never the network), a fake clock."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import requests
import responses
from responses import matchers

from sources.ep_online import OUTPUT_COLUMNS, read_bulk
from sources.ep_online_api import (
    API_BASE_URL,
    DownloadInfo,
    EpOnlineApiError,
    EpOnlineAuthError,
    EpOnlineBadRequest,
    EpOnlineClient,
    EpOnlineDownloadError,
    EpOnlineUnavailable,
    RateLimiter,
    records_to_frame,
)
from sources.errors import SourceError

FIXTURES = Path(__file__).parent / "fixtures" / "ep_online_api"
KEY = "test-key-7f3a9c1e5b"
VBO = "0392010000012345"
VBO_URL = f"{API_BASE_URL}/PandEnergielabel/AdresseerbaarObject/{VBO}"
ADDRESS_URL = f"{API_BASE_URL}/PandEnergielabel/Adres"
INFO_URL = f"{API_BASE_URL}/Mutatiebestand/DownloadInfo"


def fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeClock:
    """monotonic clock + sleep that only moves the clock: tests never wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client_with(clock: FakeClock, **options: object) -> EpOnlineClient:
    settings: dict[str, object] = {"requests_per_second": 0, "max_attempts": 4, "backoff_seconds": 1.0}
    settings.update(options)
    return EpOnlineClient(KEY, clock=clock.clock, sleep=clock.sleep, **settings)  # type: ignore[arg-type]


def assert_no_key(*texts: object) -> None:
    for text in texts:
        assert KEY not in str(text)


# --------------------------------------------------------------------------------------------
# energy labels
# --------------------------------------------------------------------------------------------


@responses.activate
def test_by_vbo_id_maps_api_spellings_onto_the_bulk_contract(clock: FakeClock) -> None:
    responses.get(VBO_URL, json=fixture("by_vbo_id_0392010000012345.json"))
    frame = client_with(clock).by_vbo_id(VBO)

    [call] = responses.calls
    assert call.request.headers["Authorization"] == KEY  # the raw key, no "Bearer"
    assert list(frame.columns) == OUTPUT_COLUMNS
    bulk = read_bulk(Path(__file__).parent / "fixtures" / "ep_online" / "v20251101_v4.csv").frame
    assert dict(frame.dtypes.astype(str)) == dict(bulk.dtypes.astype(str))  # one contract for file and API
    assert frame["bag_vbo_id"].tolist() == [VBO, VBO]
    assert frame["gebouwklasse"].tolist() == ["W", "W"]  # 'Woningbouw'
    assert frame["energieklasse"].tolist() == ["C", "A"]
    assert frame["registratiedatum"].tolist() == [pd.Timestamp("2015-03-18"), pd.Timestamp("2024-06-04")]
    assert frame["geldig_tot"].tolist() == [pd.Timestamp("2025-03-18"), pd.Timestamp("2034-06-04")]  # Geldig_tot
    assert frame.loc[0, "energie_index"] == pytest.approx(1.45)
    assert pd.isna(frame.loc[0, "primaire_fossiele_energie"])
    assert frame.loc[1, "primaire_fossiele_energie"] == pytest.approx(152.3)
    assert frame["postcode"].tolist() == ["2011AB", "2011AB"]
    assert frame["huisnummer"].tolist() == [12, 12]
    assert frame["bouwjaar"].tolist() == [1961, 1961]
    assert frame["publicatiedatum"].isna().all()  # the API has no publication date
    assert frame["_source_row"].tolist() == [1, 2]
    assert frame["_source_file"].iloc[0] == f"EP-online API /PandEnergielabel/AdresseerbaarObject/{VBO}"
    assert frame.attrs["onbekende_velden"] == []  # Soort_opname, BAGPandIDs ... are known, not carried


@responses.activate
def test_by_vbo_id_drops_certificates_of_other_objects_and_reports_unknown_fields(clock: FakeClock) -> None:
    url = f"{API_BASE_URL}/PandEnergielabel/AdresseerbaarObject/0392010000012346"
    responses.get(url, json=fixture("by_vbo_id_other_object.json"))
    frame = client_with(clock).by_vbo_id("0392010000012346")
    assert frame["bag_vbo_id"].tolist() == ["0392010000012346"]
    assert frame.loc[0, "primaire_fossiele_energie"] == pytest.approx(270.5)
    assert any("ander BAG-id" in w for w in frame.attrs["waarschuwingen"])
    assert frame.attrs["onbekende_velden"] == ["NieuwVeld"]


@responses.activate
def test_by_address_sends_normalised_parameters(clock: FakeClock) -> None:
    responses.get(
        ADDRESS_URL,
        json=fixture("by_address_2011AB_14_A_2HG.json"),
        match=[
            matchers.query_param_matcher(
                {"postcode": "2011AB", "huisnummer": "14", "huisletter": "A", "huisnummertoevoeging": "2HG"}
            )
        ],
    )
    frame = client_with(clock).by_address("2011 ab", 14, huisletter="a", huisnummertoevoeging="2hg")
    assert frame[["postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]].iloc[0].tolist() == [
        "2011AB", 14, "A", "2HG",
    ]
    assert frame.loc[0, "energieklasse"] == "B"
    assert "Certificaathouder" not in frame.columns


@responses.activate
def test_by_address_leaves_out_empty_parts(clock: FakeClock) -> None:
    responses.get(
        ADDRESS_URL, json=[], match=[matchers.query_param_matcher({"postcode": "2011AB", "huisnummer": "12"})]
    )
    frame = client_with(clock).by_address("2011AB", "12", huisletter="", huisnummertoevoeging=None)
    assert frame.empty and list(frame.columns) == OUTPUT_COLUMNS


@responses.activate
def test_404_is_an_empty_result(clock: FakeClock) -> None:
    responses.get(VBO_URL, json=fixture("error_404.json"), status=404)
    frame = client_with(clock).by_vbo_id(VBO)
    assert frame.empty
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert len(responses.calls) == 1  # not retried


@responses.activate
def test_400_is_a_clear_bad_request_error(clock: FakeClock) -> None:
    responses.get(VBO_URL, json=fixture("error_400.json"), status=400)
    with pytest.raises(EpOnlineBadRequest) as caught:
        client_with(clock).by_vbo_id(VBO)
    error = caught.value
    assert isinstance(error, SourceError)  # reported like any source error (file, message, expected)
    assert error.status == 400
    assert "HTTP 400" in str(error) and "ongeldig" in str(error)
    assert len(responses.calls) == 1
    assert_no_key(error, repr(error))


@responses.activate
def test_401_names_the_key_problem_without_echoing_the_key(clock: FakeClock) -> None:
    body = dict(fixture("error_401.json"))  # type: ignore[call-overload]
    body["detail"] = f"Key {KEY} is not active"  # even a server that echoes the key
    responses.get(VBO_URL, json=body, status=401)
    with pytest.raises(EpOnlineAuthError) as caught:
        client_with(clock).by_vbo_id(VBO)
    assert "API-sleutel" in str(caught.value) and "401" in str(caught.value)
    assert_no_key(caught.value, repr(caught.value), caught.value.args, caught.value.message)
    assert len(responses.calls) == 1


@responses.activate
def test_400_server_text_has_the_key_masked(clock: FakeClock) -> None:
    responses.get(VBO_URL, json={"detail": f"bad request for key {KEY}"}, status=400)
    with pytest.raises(EpOnlineBadRequest) as caught:
        client_with(clock).by_vbo_id(VBO)
    assert "***" in str(caught.value)
    assert_no_key(caught.value)


def test_missing_key_fails_before_any_request(clock: FakeClock) -> None:
    with responses.RequestsMock() as mock:
        client = EpOnlineClient("", clock=clock.clock, sleep=clock.sleep)
        with pytest.raises(EpOnlineAuthError, match="geen API-sleutel"):
            client.by_vbo_id(VBO)
        assert len(mock.calls) == 0


def test_a_key_with_a_line_break_is_refused_without_echoing_it() -> None:
    bad = "abc\r\nX-Injected: 1"
    with pytest.raises(EpOnlineAuthError) as caught:
        EpOnlineClient(bad)
    assert "abc" not in str(caught.value) and "Injected" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0000000000000000", "placeholder"),
        ("392010000012345", "geen geldig BAG-id"),  # 15 digits: the caller must pad
        ("039201000001234X", "geen geldig BAG-id"),
        ("", "geen geldig BAG-id"),
        (None, "geen geldig BAG-id"),
    ],
)
def test_placeholder_and_malformed_ids_are_refused_before_any_request(
    clock: FakeClock, value: str | None, message: str
) -> None:
    with responses.RequestsMock() as mock:
        with pytest.raises(EpOnlineBadRequest, match=message):
            client_with(clock).by_vbo_id(value)  # type: ignore[arg-type]
        assert len(mock.calls) == 0


@pytest.mark.parametrize(
    ("postcode", "number", "letter", "addition"),
    [("0123AB", 1, None, None), ("2011AB", 0, None, None), ("2011AB", 12, "AB", None), ("2011AB", 12, None, "2/3")],
)
def test_malformed_addresses_are_refused_before_any_request(
    clock: FakeClock, postcode: str, number: int, letter: str | None, addition: str | None
) -> None:
    with responses.RequestsMock() as mock:
        with pytest.raises(EpOnlineBadRequest):
            client_with(clock).by_address(postcode, number, letter, addition)
        assert len(mock.calls) == 0


# --------------------------------------------------------------------------------------------
# retries and rate limiting
# --------------------------------------------------------------------------------------------


@responses.activate
def test_429_waits_retry_after_then_succeeds(clock: FakeClock) -> None:
    responses.get(VBO_URL, status=429, headers={"Retry-After": "7"})
    responses.get(VBO_URL, json=fixture("by_vbo_id_0392010000012345.json"))
    frame = client_with(clock).by_vbo_id(VBO)
    assert len(frame) == 2
    assert len(responses.calls) == 2
    assert clock.sleeps == [7.0]  # Retry-After honoured, not the 1 s backoff


@responses.activate
def test_retry_after_is_capped(clock: FakeClock) -> None:
    responses.get(VBO_URL, status=429, headers={"Retry-After": "86400"})
    responses.get(VBO_URL, json=[])
    client_with(clock, max_retry_after_seconds=120).by_vbo_id(VBO)
    assert clock.sleeps == [120.0]


@responses.activate
def test_503_every_time_backs_off_exponentially_then_fails_clearly(clock: FakeClock, caplog) -> None:
    for _ in range(4):
        responses.get(VBO_URL, status=503)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(EpOnlineUnavailable) as caught:
        client_with(clock, max_attempts=4).by_vbo_id(VBO)
    assert len(responses.calls) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert "4 pogingen" in str(caught.value) and "HTTP 503" in str(caught.value)
    assert caught.value.status == 503
    assert isinstance(caught.value, EpOnlineApiError)
    assert_no_key(caught.value, caplog.text)
    assert "opnieuw over" in caplog.text  # each retry is logged


@responses.activate
def test_503_then_success(clock: FakeClock) -> None:
    responses.get(VBO_URL, status=503)
    responses.get(VBO_URL, status=502)
    responses.get(VBO_URL, json=[])
    assert client_with(clock).by_vbo_id(VBO).empty
    assert clock.sleeps == [1.0, 2.0]


@responses.activate
def test_timeout_is_retried(clock: FakeClock) -> None:
    responses.get(VBO_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.get(VBO_URL, json=fixture("by_vbo_id_0392010000012345.json"))
    assert len(client_with(clock).by_vbo_id(VBO)) == 2
    assert clock.sleeps == [1.0]


@responses.activate
def test_timeouts_and_connection_errors_that_persist_become_unavailable(clock: FakeClock) -> None:
    responses.get(VBO_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    responses.get(VBO_URL, body=requests.exceptions.ConnectionError("connection refused"))
    responses.get(VBO_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(EpOnlineUnavailable, match="ReadTimeout"):
        client_with(clock, max_attempts=3).by_vbo_id(VBO)
    assert len(responses.calls) == 3


@responses.activate
def test_client_side_rate_limit_spaces_requests(clock: FakeClock) -> None:
    responses.get(VBO_URL, json=[])
    client = client_with(clock, requests_per_second=4)
    for _ in range(3):
        client.by_vbo_id(VBO)
    assert clock.sleeps == [0.25, 0.25]
    clock.now += 10  # idle time is not saved up as a burst beyond one request
    client.by_vbo_id(VBO)
    client.by_vbo_id(VBO)
    assert clock.sleeps == [0.25, 0.25, 0.25]


def test_rate_limiter_without_limit_never_sleeps(clock: FakeClock) -> None:
    limiter = RateLimiter(0, clock=clock.clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5
    assert clock.sleeps == []


@responses.activate
def test_rate_limit_also_spaces_retries(clock: FakeClock) -> None:
    responses.get(VBO_URL, status=503)
    responses.get(VBO_URL, json=[])
    client_with(clock, requests_per_second=0.5, backoff_seconds=0.5).by_vbo_id(VBO)
    # backoff 0.5 s, then the limiter waits the rest of its 2 s interval
    assert clock.sleeps == [0.5, 1.5]


def test_the_key_is_not_in_repr(clock: FakeClock) -> None:
    client = client_with(clock)
    assert_no_key(repr(client), str(client))
    assert "api_key=<ingesteld>" in repr(client)


# --------------------------------------------------------------------------------------------
# bulk-file links and downloads
# --------------------------------------------------------------------------------------------


@responses.activate
def test_download_info_without_date_asks_for_the_csv_file(clock: FakeClock) -> None:
    responses.get(INFO_URL, json=fixture("download_info_total.json"), match=[matchers.query_param_matcher({"fileType": "csv"})])
    info = client_with(clock).download_info()
    assert info is not None
    assert info.bestandsnaam == "v20251201_v4_csv.zip"
    assert info.file_date == date(2025, 12, 1)
    assert not info.is_mutation_file
    assert info.link_valid_until is not None and info.link_valid_until.year == 2025
    assert "SIGNATURE" not in repr(info)  # the signed URL is a credential while it lives


@responses.activate
def test_download_info_for_a_day(clock: FakeClock) -> None:
    responses.get(f"{INFO_URL}/2025-11-02", json=fixture("download_info_2025-11-02.json"))
    responses.get(f"{INFO_URL}/2025-11-03", json=fixture("error_404.json"), status=404)
    client = client_with(clock)
    info = client.download_info(date(2025, 11, 2))
    assert info is not None and info.bestandsnaam == "d20251102_v4.zip" and info.is_mutation_file
    assert info.file_date == date(2025, 11, 2)
    assert client.download_info("2025-11-03") is None  # not published (or already removed)
    with pytest.raises(EpOnlineBadRequest):
        client.download_info("3-11-2025")


@responses.activate
def test_download_info_with_a_missing_field_is_an_error(clock: FakeClock) -> None:
    responses.get(INFO_URL, json={"bestandsnaam": "v20251201_v4_csv.zip"})
    with pytest.raises(EpOnlineApiError, match="downloadUrl"):
        client_with(clock).download_info()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOWNLOAD = "https://epbdstorage.example.test/mutatiebestanden/d20251102_v4.zip"


def info_for(url: str = DOWNLOAD + "?sig=SECRET-SIGNATURE", name: str = "d20251102_v4.zip") -> DownloadInfo:
    return DownloadInfo(name, "2025-11-04T21:06:25.6717026+01:00", url)


@responses.activate
def test_download_streams_verifies_and_renames_without_sending_the_key(clock: FakeClock, tmp_path: Path) -> None:
    content = zip_bytes({"d20251102_v4.csv": "\ufeffPublicatieDatum;02-11-2025\n".encode()})
    responses.get(DOWNLOAD, body=content, headers={"Content-Length": str(len(content))})
    path = client_with(clock).download(info_for(), tmp_path)
    assert path == tmp_path / "d20251102_v4.zip"
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d20251102_v4.zip"]  # no temporary file left
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_download_of_something_that_is_not_a_zip_leaves_nothing(clock: FakeClock, tmp_path: Path) -> None:
    responses.get(DOWNLOAD, body=b"<html>maintenance</html>")
    with pytest.raises(EpOnlineDownloadError, match="geen leesbaar zip-bestand"):
        client_with(clock).download(info_for(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_download_of_a_zip_without_csv_is_refused(clock: FakeClock, tmp_path: Path) -> None:
    responses.get(DOWNLOAD, body=zip_bytes({"d20251102_v4.xml": b"<xml/>"}))
    with pytest.raises(EpOnlineDownloadError, match="CSV"):
        client_with(clock).download(info_for(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_download_larger_than_the_limit_is_refused(clock: FakeClock, tmp_path: Path) -> None:
    content = zip_bytes({"d20251102_v4.csv": b"x" * 5000})
    responses.get(DOWNLOAD, body=content, headers={"Content-Length": str(len(content))})
    responses.get(DOWNLOAD, body=content)  # no Content-Length: counted while streaming
    client = client_with(clock, max_download_bytes=100)
    with pytest.raises(EpOnlineDownloadError, match="te groot"):
        client.download(info_for(), tmp_path)
    with pytest.raises(EpOnlineDownloadError, match="te groot"):
        client.download(info_for(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_expired_download_link_is_explained_without_the_signature(clock: FakeClock, tmp_path: Path) -> None:
    responses.get(DOWNLOAD, status=403)
    with pytest.raises(EpOnlineDownloadError, match="verlopen") as caught:
        client_with(clock).download(info_for(), tmp_path)
    assert "SECRET-SIGNATURE" not in str(caught.value)
    assert DOWNLOAD in str(caught.value)


@responses.activate
def test_download_retries_a_dropped_connection(clock: FakeClock, tmp_path: Path) -> None:
    content = zip_bytes({"d20251102_v4.csv": b"a;b\n"})
    responses.get(DOWNLOAD, body=requests.exceptions.ConnectionError("reset"))
    responses.get(DOWNLOAD, status=503)
    responses.get(DOWNLOAD, body=content)
    path = client_with(clock).download(info_for(), tmp_path)
    assert path.read_bytes() == content
    assert clock.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("../d20251102_v4.zip", DOWNLOAD),
        ("d20251102_v4.exe", DOWNLOAD),
        ("d20251102_v4.zip", "http://epbdstorage.example.test/d20251102_v4.zip"),
    ],
)
def test_download_refuses_unsafe_names_and_plain_http(clock: FakeClock, tmp_path: Path, name: str, url: str) -> None:
    with responses.RequestsMock() as mock:
        with pytest.raises(EpOnlineDownloadError):
            client_with(clock).download(DownloadInfo(name, None, url), tmp_path)
        assert len(mock.calls) == 0


def test_records_with_a_bad_value_raise_a_source_error_with_position() -> None:
    records = [
        {"BAGVerblijfsobjectID": VBO, "Postcode": "2011AB", "Huisnummer": 12, "Registratiedatum": "2024-01-01T00:00:00",
         "Geldig_tot": "2034-01-01T00:00:00", "Energieklasse": "A"},
        {"BAGVerblijfsobjectID": VBO, "Postcode": "2011AB", "Huisnummer": 12, "Registratiedatum": "2024-01-02T00:00:00",
         "Geldig_tot": "2034-01-02T00:00:00", "Energieklasse": "Z"},
    ]
    with pytest.raises(SourceError) as caught:
        records_to_frame(records, source="EP-online API test")
    assert caught.value.row == 2 and caught.value.column == "Energieklasse"
