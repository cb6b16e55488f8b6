"""Settings the KPI definitions depend on, as one Dagster resource so a run's values show in the UI."""

from __future__ import annotations

import dagster as dg

EFG_VRIJSTELLINGEN = ("monument", "vve", "sloop_renovatie_gepland")


class KpiSettings(dg.ConfigurableResource):
    """Parameters of the KPI definitions (DESIGN.md §3.6, §5, §6)."""

    zon_opbrengst_kwh_per_kwp: float = 875.0
    suppressie_drempel: int = 10
    efg_vrijstellingen: list[str] = ["monument"]

    def validated_efg_vrijstellingen(self) -> list[str]:
        unknown = [v for v in self.efg_vrijstellingen if v not in EFG_VRIJSTELLINGEN]
        if unknown:
            raise ValueError(f"onbekende EFG-vrijstelling(en) {unknown}; toegestaan: {list(EFG_VRIJSTELLINGEN)}")
        return list(self.efg_vrijstellingen)
