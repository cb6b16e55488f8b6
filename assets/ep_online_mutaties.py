"""EP-online daily mutation files as a dynamically partitioned raw asset, and the API as a resource.

- `ep_online_mutatiebestanden`: one partition per daily file `dYYYYMMDD_v4.zip` in the landing
  folder's `ep_online/`, key = the file date `yyyy-mm-dd`. Partitions are added by the sensor in
  `pipelines/ep_online_sensor.py`.
- `raw_ep_online_mutaties`: that day's certificates for the stock's BAG ids and addresses, read by
  `sources.ep_online.read_mutations` (the total file's reader and contract).
- `certificates_with_mutations`: for stg_energielabels, the total file's certificates with every
  newer mutation file applied (`sources.ep_online.apply_mutations`).
- `EpOnlineApi`: the API v5 client as a Dagster resource; the key comes from
  `dg.EnvVar("EP_ONLINE_API_KEY")` and never appears in a repr, log line or error.
"""


import re
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.raw import read_all, stock_filter_input, stock_filters
from assets.resources import LandingFolder
from sources import ep_online
from sources.ep_online_api import (
    API_BASE_URL,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_TIMEOUT,
    EpOnlineClient,
)
from sources.formats import SOURCE_FILE

EP_ONLINE_MUTATIEBESTANDEN = "ep_online_mutatiebestanden"
ep_online_mutatiebestanden = dg.DynamicPartitionsDefinition(name=EP_ONLINE_MUTATIEBESTANDEN)

_PARTITION_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class EpOnlineApi(dg.ConfigurableResource):
    """EP-online public API v5 (RVO). Without a key the sensor skips the API and reads the landing
    folder only. Configure the key as `dg.EnvVar("EP_ONLINE_API_KEY")` (never a literal)."""

    api_key: str = Field(
        default="",
        repr=False,
        description="API-sleutel van RVO (als Authorization-header); via EnvVar EP_ONLINE_API_KEY",
    )
    base_url: str = Field(default=API_BASE_URL, description="Basis-URL van de EP-online API v5")
    requests_per_second: float = Field(
        default=DEFAULT_REQUESTS_PER_SECOND, description="Hoogstens zoveel verzoeken per seconde (client-side)"
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, description="Time-out per verzoek in seconden")
    max_attempts: int = Field(default=3, description="Pogingen bij 429, 5xx, time-outs en verbindingsfouten")
    max_download_bytes: int = Field(
        default=DEFAULT_MAX_DOWNLOAD_BYTES, description="Grootste bestand dat gedownload wordt (bytes)"
    )

    @property
    def has_key(self) -> bool:
        return bool(self.api_key and self.api_key.strip())

    def client(self) -> EpOnlineClient:
        return EpOnlineClient(
            self.api_key,
            base_url=self.base_url,
            requests_per_second=self.requests_per_second,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            max_download_bytes=self.max_download_bytes,
        )


def partition_date(key: str) -> date:
    """'2025-11-02' -> date; anything else is refused (keys come from file names, never from users)."""
    if not _PARTITION_KEY.match(key):
        raise dg.Failure(description=f"ongeldige partitiesleutel {key!r} (verwacht jjjj-mm-dd)")
    try:
        return date.fromisoformat(key)
    except ValueError:
        raise dg.Failure(description=f"ongeldige partitiesleutel {key!r} (geen bestaande datum)") from None


def mutation_files_for(landing: LandingFolder, day: date) -> list[Path]:
    """The landing folder's mutation files for `day` (`dYYYYMMDD_v4.zip`, or `.csv`)."""
    stamp = day.strftime("%Y%m%d")
    if not landing.folder("ep_online").is_dir():
        return []
    return [
        p for p in landing.files("ep_online", f"d{stamp}_*")
        if (m := ep_online.MUTATION_FILE.match(p.name)) and m.group(1) == stamp
    ]


@dg.asset(
    partitions_def=ep_online_mutatiebestanden,
    description=(
        "EP-online dagelijkse mutatiebestanden (RVO, dJJJJMMDD_v4.zip), één partitie per bestandsdatum: "
        "de certificaten van de adressen in de bezitslijsten, gefilterd op BAG-id en adres, in het contract "
        "van raw_ep_online. stg_energielabels past ze toe op het totaalbestand. Certificaathouder weggelaten."
    ),
    group_name="raw",
    kinds={"duckdb", "csv"},
    owners=["team:woningmarkt"],
    # on top of the API client's own retries (tenacity): a whole step that failed on the network
    retry_policy=dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
    ins={"raw_bezit": stock_filter_input()},
)
def raw_ep_online_mutaties(
    context: dg.AssetExecutionContext, landing: LandingFolder, raw_bezit: pd.DataFrame
) -> dg.Output:
    day = partition_date(context.partition_key)
    files = mutation_files_for(landing, day)
    if not files:
        raise dg.Failure(
            description=(
                f"geen EP-online mutatiebestand voor {day.isoformat()} in landingsmap 'ep_online' "
                f"(verwacht: d{day.strftime('%Y%m%d')}_v4.zip)"
            ),
            allow_retries=False,
        )
    # Two deliveries for one day (e.g. .zip and .csv): the last name wins, the choice is reported.
    path = sorted(files, key=lambda p: (p.suffix.lower() == ".zip", p.name))[-1]
    bag_ids, address_keys = stock_filters(raw_bezit)
    frame, metadata = read_all(
        landing,
        [path],
        lambda p, name: ep_online.read_mutations(p, bag_ids=bag_ids, address_keys=address_keys, display_name=name),
    )
    metadata["mutatiedatum"] = day.isoformat()
    metadata["bestand"] = landing.display_name(path)
    if len(files) > 1:
        metadata["genegeerd"] = dg.MetadataValue.json([landing.display_name(p) for p in files if p != path])
    return dg.Output(frame, metadata=metadata)


# --------------------------------------------------------------------------------------------
# for stg_energielabels
# --------------------------------------------------------------------------------------------


def mutation_frames(value: pd.DataFrame | dict[str, pd.DataFrame] | None) -> list[pd.DataFrame]:
    """What an unpartitioned asset receives for all partitions of raw_ep_online_mutaties, as a list.

    Dagster's UPath IO manager gives None for no partitions, the bare frame for exactly one, and a
    dict {partition key: frame} for more; missing partitions (allow_missing_partitions) are left out.
    """
    if value is None:
        return []
    if isinstance(value, pd.DataFrame):
        return [value]
    return [value[key] for key in sorted(value) if value[key] is not None]


def total_publicatiedatum(raw_ep_online: pd.DataFrame) -> date:
    """The total file's publicatiedatum: mutations on or before it are already in the total file."""
    latest = pd.to_datetime(raw_ep_online["publicatiedatum"], errors="coerce").max() if len(raw_ep_online) else pd.NaT
    if pd.isna(latest):
        return date.min  # no certificate kept from the total file: every mutation file applies
    # pandas' max, not Python's over the 3 million national stamps (6 s of every stg_energielabels)
    return pd.Timestamp(latest).date()


def certificates_with_mutations(
    raw_ep_online: pd.DataFrame, raw_ep_online_mutaties: pd.DataFrame | dict[str, pd.DataFrame] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The total file's certificates with every newer mutation file applied, plus metadata for the UI."""
    frames = mutation_frames(raw_ep_online_mutaties)
    published = total_publicatiedatum(raw_ep_online)
    result = ep_online.apply_mutations(raw_ep_online, frames, published)
    counts = dict(result.attrs.get("mutaties", {}))
    files = sorted({str(f) for frame in frames if SOURCE_FILE in frame for f in frame[SOURCE_FILE].dropna().unique()})
    metadata: dict[str, Any] = {
        "ep_online_totaal_publicatiedatum": "" if published == date.min else published.isoformat(),
        "ep_online_mutatiebestanden": dg.MetadataValue.json(files),
        **{f"ep_online_{k}": dg.MetadataValue.int(int(v)) for k, v in counts.items()},
    }
    result.attrs = {}
    return result, metadata
