"""raw_planlijst: the municipal new-build plan lists (planlijsten), as delivered, on their contract.

One file per gemeente per peildatum in the landing sub-folder `planlijst/`
(`planlijst_<GM####>_<jjjj-mm-dd>.csv|xlsx`), read by sources.planlijst. A reader error fails the
asset with file, row, column and value (assets.raw.reported_source_errors), so nothing downstream runs.
"""


from pathlib import Path

import dagster as dg

from assets.raw import RAW, read_all, reported_source_errors
from assets.resources import LandingFolder
from sources import planlijst
from sources.errors import SourceError

FOLDER = "planlijst"
EXPECTED = "planlijst_<GM####>_<jjjj-mm-dd>.csv|xlsx"


def plan_list_files(landing: LandingFolder) -> list[Path]:
    """The plan lists in the landing folder; a Failure in the words of the other raw assets when none."""
    files = landing.files(FOLDER, "planlijst_*")
    if not files:
        raise dg.Failure(description=f"geen bestand gevonden in landingsmap '{FOLDER}' (verwacht: {EXPECTED})", allow_retries=False)
    with reported_source_errors():
        seen: dict[tuple[str, str], Path] = {}
        for path in files:
            gemeente, peildatum = planlijst.peildatum_from_name(path, display_name=landing.display_name(path))
            key = (gemeente, f"{peildatum:%Y-%m-%d}")
            if key in seen:
                raise SourceError(
                    landing.display_name(path),
                    f"tweede planlijst voor {gemeente} op {key[1]} (ook {landing.display_name(seen[key])})",
                    expected="één bestand per gemeente en peildatum: verwijder of hernoem er één",
                )
            seen[key] = path
    return files


@dg.asset(
    description=(
        "Planlijsten nieuwbouw van de gemeenten (twee keer per jaar, per gemeente en peildatum), "
        "importtemplate planlijst: projecten met fase, opleverjaar en woningen per segment."
    ),
    **RAW,
)
def raw_planlijst(landing: LandingFolder) -> dg.Output:
    files = plan_list_files(landing)
    frame, metadata = read_all(landing, files, lambda p, name: planlijst.read_planlijst(p, display_name=name))
    return dg.Output(frame, metadata=metadata)
