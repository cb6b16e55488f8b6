"""Settings the KPI definitions depend on, as one Dagster resource so a run's values show in the UI."""

from __future__ import annotations

import dagster as dg
import pandas as pd

EFG_VRIJSTELLINGEN = ("monument", "vve", "sloop_renovatie_gepland")


class KpiSettings(dg.ConfigurableResource):
    """Parameters of the KPI definitions (DESIGN.md §3.6, §5, §6)."""

    zon_opbrengst_kwh_per_kwp: float = 875.0
    suppressie_drempel: int = 10
    efg_vrijstellingen: list[str] = ["monument"]
    # Target date for "0 EFG": the national NPA date (end 2028) unless a gemeente agreed earlier
    # (Haarlem: end 2026). Used for the EFG homes still to do per year.
    efg_streefdatum_standaard: str = "2028-12-31"
    efg_streefdatum_per_gemeente: dict[str, str] = {"GM0392": "2026-12-31"}

    def efg_streefdatum(self, gemeente_code: str) -> pd.Timestamp:
        return pd.Timestamp(self.efg_streefdatum_per_gemeente.get(gemeente_code, self.efg_streefdatum_standaard))

    def validated_efg_vrijstellingen(self) -> list[str]:
        unknown = [v for v in self.efg_vrijstellingen if v not in EFG_VRIJSTELLINGEN]
        if unknown:
            raise ValueError(f"onbekende EFG-vrijstelling(en) {unknown}; toegestaan: {list(EFG_VRIJSTELLINGEN)}")
        return list(self.efg_vrijstellingen)
