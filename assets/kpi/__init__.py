"""The KPI families. Each module defines TABLE (its published table) and the asset named after it.

Register a new family here: publication, the data dictionary and the Definitions all read this list.
"""

from assets.kpi import (
    energielabels,
    huurklassen,
    leefbaarheid,
    nieuwbouw,
    slaagkans,
    toewijzingen,
    voorraad,
    zon,
)

KPI_MODULES = [slaagkans, energielabels, zon, voorraad, toewijzingen, huurklassen, leefbaarheid, nieuwbouw]
KPI_TABLES = [module.TABLE for module in KPI_MODULES]
