"""Deterministic SYNTHETIC sample data for Prestatiemonitor: Zuid-Kennemerland, Harderwijk, Alphen a/d Rijn.

Run from the project root:  `python -m data.generate_sample`  (or `make sample`).
It writes the landing folder `data/sample/landing/` in exactly the formats of docs/data-contracts.md
and the stock-list mappings in `mappings/bezit/*.yaml`, plus two example files of the Woonservice
import template in `docs/templates/`. The same seed gives byte-identical files on every run.

The world simulated here
------------------------
Everything below is invented. Wijk and buurt *names* are plausible local names, but all codes,
boundaries, postcodes, addresses, BAG ids, scores, households, certificates and firm names are
synthetic; no row describes a real dwelling, person or company.

* Two gemeenten: Haarlem (GM0392, eight wijken of four to six buurten) and Heemstede (GM0397, three
  wijken of three or four buurten). Codes `WK0392NN` / `BU0392NNMM`.
* Three corporations: Elan Wonen (~1,600 units, Haarlem and Heemstede), Pré Wonen (~1,300, both)
  and Ymere (~1,100, Haarlem only). Units are grouped in complexes (one buurt, one building year,
  one address style); mostly dwellings (WOO), a few % parking places (PP) and commercial units (BOG).
* The stock starts at 31-12-2020 and is simulated year by year for 2021-2025: rent increases,
  nieuwbouw, aankoop, splitsing, transformatie, samenvoeging, verkoop, sloop (usually flagged
  "sloop/renovatie gepland" the year before), liberalisatie (DAEB -> niet-DAEB, the unit stays),
  energy renovations (E/F/G share of dwellings ~12% in 2021 falling to ~3% in 2025; monuments and
  VvE complexes lag) and solar panels (~15% of dwellings in 2021 rising to ~35% in 2025). Ymere
  silently drops ~5 sold units a year from its export, so the pipeline has to infer those leavers.
* A stock list at peildatum 31-12-Y holds every unit in exploitation on that date plus the units
  that left during year Y (with date and reason).
* Every dwelling has a latent energy performance (primary fossil energy, kWh/m2) that changes only
  at renovations. EP-online certificates are drawn from it: pre-2021 labels (EnergieIndex) and NTA
  8800 labels (PrimaireFossieleEnergie, class by the official boundaries), valid ten years, some
  expired and not renewed, renovations followed by a new certificate after a lag. The corporation's
  own label follows its latest certificate, updates ahead of the register after renovations and has
  a few persistent typos, so stock-list and register labels disagree now and then. The EP-online
  file also holds ~2,500 certificates of other dwellings (other gemeenten and private homes) and
  ~200 utility certificates.
* Leefbaarometer 3.0 scores per buurt, wijk and gemeente for 2012-2024 (dimensions add up to afw).
* Woonservice: a population of ~2,500 house seekers per period (registration, income, household,
  age, activity) and ~360 lettings a year of DAEB dwellings of the simulated stock (rent, address,
  wijk/buurt exactly as in the stock list of that year), allocated by publicatiemodel and voorrang,
  passend toegewezen where the household is in the primary target group.

Two more housing markets (class `Region`; each has its own seeded random streams, so adding them
left every Zuid-Kennemerland file byte-identical and only appended rows to the shared files):

* Harderwijk (GM0243; wijken WK0243NN, postcodes 3841-3849, BAG ids 0243...): Uwoon (~900 units,
  tab-separated Windows-1252 export, woonplaats HARDERWIJK/HIERDEN in capitals, some BAG ids without
  their leading zero, drift column 'Clusternaam') and Omnia Wonen (~500 units in Harderwijk, '|'
  BI export with 'NULL', kWp and one combined 'Straat huisnummer toevoeging' column; streets are
  invented per postcode). Peildata 31-12-2020 .. 31-12-2024; woonservice files
  `toewijzingen_harderwijk_2020-2024.csv` / `woningzoekenden_harderwijk_2020-2024.csv` (ids HW-...).
* Alphen aan den Rijn (GM0484; eight kernen, wijken WK0484NN, postcodes 2401-2409 and 2771-2773 for
  Alphen and Boskoop and the villages' own PC4s, BAG ids 0484...): Woonforte (~1,000 units, SAP-style
  CSV with X checkboxes, 00.00.0000 / 31.12.9999 sentinels, CBS codes that lost their zeros, the
  older header FLAECHE in the lists up to 2017) and Habeko Wonen (~400 units in the villages, XLSX
  report with an explanation sheet and the header on row 4 of sheet 'Bezit', BAG id as a number,
  a few rents typed as text). Peildata 31-12-2015 .. 31-12-2020; woonservice files
  `..._alphen-aan-den-rijn_2015-2020.csv` (ids AR-...) with kern and woonkern. Renovations take the
  E/F/G share from ~21 % to ~6 %, and with it the average pre-2021 EnergieIndex from ~1.50 (2015) to
  ~1.26 (2020); two wijken (Ridderveld, Kerk en Zanen) score below 'voldoende' in the Leefbaarometer.
  Historical rent and income limits (2015-2020) are generation parameters like the others.
* Their EP-online certificates (mostly pre-2021 labels with EnergieIndex for Alphen) are appended to
  the one total file after Zuid-Kennemerland's rows; their Leefbaarometer rows follow Zuid-
  Kennemerland's within each measurement year. The last letting of a full-year export is signed on
  the year's last workday, so the delivery is visibly complete.

Coding choices the contracts leave open: a statushouder letting is voorrang URG with detail STA;
gehuisvest_via is `direct` for publicatiemodel DIR (also when urgent), else `urgentie` for URG, else
`loting` for LOT, else `aanbod`. Liberalisatie is a DAEB -> niet-DAEB change of a unit that stays, so
reason `liberalisatie` never appears as an uit-exploitatie reason. Splitsing and transformatie retire
the original unit with reason `overig`; samenvoeging retires the absorbed unit.

Income limits and rent thresholds used here are generation parameters (approximate, partly
unverified); the pipeline's reference tables in `reference/` are the authority, never this file.
`python -m data.verify_sample` reads everything back and checks formats, balances and links.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from openpyxl import Workbook

# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------

SEED = 20251101
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
LANDING = SAMPLE_DIR / "landing"
TEMPLATES_DIR = PROJECT_ROOT / "docs" / "templates"

YEARS = (2021, 2022, 2023, 2024, 2025)  # peildatum 31-12 of each year
FIRST_YEAR, LAST_YEAR = YEARS[0], YEARS[-1]
STOCK_START = dt.date(FIRST_YEAR - 1, 12, 31)
EP_PUBLICATIEDATUM = dt.date(2025, 11, 1)
EP_LAST_REGISTRATION = dt.date(2025, 10, 31)
EP_MUTATIEVOLGNUMMER = 19345219
EP_NAME = "v20251101_v4_csv"
WOONSERVICE_END = dt.date(2025, 9, 30)
FIXED_ZIP_TIME = (2025, 11, 1, 6, 0, 0)  # member times in every zip we write (ZIP and XLSX)
FIXED_XLSX_TIMESTAMP = "2026-01-02T07:30:00Z"  # docProps/core.xml created/modified

GEMEENTE_NAMEN = {"GM0392": "Haarlem", "GM0397": "Heemstede"}

# Rent thresholds (EUR/month, kale huur) as generation parameters.
LIBERALISATIEGRENS = {2021: 752.33, 2022: 763.47, 2023: 808.06, 2024: 879.66, 2025: 900.07}
AFTOPPINGSGRENZEN = {  # (laag: 1-2 persons, hoog: 3+ persons)
    2021: (633.25, 678.66),
    2022: (633.25, 678.66),
    2023: (647.19, 693.60),
    2024: (650.43, 697.07),
    2025: (682.96, 731.93),
}
# Household income limits (EUR/year) as generation parameters: (one person, more persons).
PRIMAIR_INKOMENSGRENS = {
    2021: (23_725, 32_200),
    2022: (24_075, 32_675),
    2023: (24_400, 33_100),
    2024: (24_750, 33_550),
    2025: (25_100, 34_000),
}
DAEB_INKOMENSGRENS = {
    2021: (40_024, 44_196),
    2022: (40_765, 45_014),
    2023: (44_035, 48_625),
    2024: (47_699, 52_671),
    2025: (48_569, 53_632),
}
MIDDEN_INKOMENSGRENS = 60_000
INCOME_GROWTH = 0.03  # per year, seekers' incomes

# Stock dynamics (shares of the corporation's stock per year).
RATE_NIEUWBOUW = 0.015
RATE_AANKOOP = 0.003
RATE_VERKOOP = 0.005
RATE_SLOOP = 0.007
RATE_LIBERALISATIE = 0.004
YMERE_SILENT_DROPS = 5
EFG_TARGET = {2021: 0.13, 2022: 0.09, 2023: 0.065, 2024: 0.045, 2025: 0.03, 2026: 0.02}
SOLAR_TARGET = {FIRST_YEAR - 1: 0.11, 2021: 0.15, 2022: 0.20, 2023: 0.25, 2024: 0.30, 2025: 0.35}
PANEL_WP_BY_YEAR = {
    FIRST_YEAR - 1: (330, 335, 340, 350),
    2021: (340, 350, 360, 370),
    2022: (350, 360, 370, 375),
    2023: (370, 375, 380, 390),
    2024: (380, 390, 400, 410),
    2025: (390, 400, 410, 420),
}

# Energy labels. NTA 8800 classes for dwellings by PrimaireFossieleEnergie (kWh/m2.yr, upper bound).
LABEL_ORDER = ("A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
NTA_UPPER = {"A++++": 0.0, "A+++": 50.0, "A++": 75.0, "A+": 105.0, "A": 160.0, "B": 190.0,
             "C": 250.0, "D": 290.0, "E": 335.0, "F": 380.0, "G": 520.0}
NTA_LOWEST = -40.0
EFG = ("E", "F", "G")
OLD_EI_RANGE = {"A++": (0.30, 0.50), "A+": (0.51, 0.70), "A": (0.71, 1.05), "B": (1.06, 1.30),
                "C": (1.31, 1.60), "D": (1.61, 2.00), "E": (2.01, 2.40), "F": (2.41, 2.90),
                "G": (2.91, 3.60)}
# Class mix of existing complexes by building period (before any renovation).
LABEL_MIX_BY_PERIOD = (
    (1945, {"A": .03, "B": .08, "C": .27, "D": .24, "E": .17, "F": .11, "G": .10}),
    (1975, {"A": .07, "B": .20, "C": .35, "D": .18, "E": .11, "F": .05, "G": .04}),
    (1990, {"A": .15, "B": .35, "C": .35, "D": .10, "E": .03, "F": .015, "G": .005}),
    (2005, {"A+": .02, "A": .40, "B": .38, "C": .17, "D": .03}),
    (2020, {"A++": .05, "A+": .15, "A": .70, "B": .10}),
)
NEW_BUILD_LABELS = {"A++": 0.25, "A+": 0.45, "A": 0.30}
RENOVATION_LABELS = {"A+": 0.15, "A": 0.55, "B": 0.30}
NTA_DETAIL = "NTA 8800:2020+C1:2020 (detailopname)"
NTA_BASIS = "NTA 8800:2020+C1:2020 (basisopname)"

# EP-online v4 columns: the 38 names known from DESIGN.md section 3.1, in that order.
EP_COLUMNS = (
    "Postcode", "Huisnummer", "Huisletter", "Huisnummertoevoeging", "Detailaanduiding",
    "BAGVerblijfsobjectID", "BAGLigplaatsID", "BAGStandplaatsID", "BAGPandIDs", "Opnamedatum",
    "Registratiedatum", "GeldigTot", "Energieklasse", "Berekeningstype", "SoortOpname", "Status",
    "OpBasisVanReferentiegebouw", "Certificaathouder", "Gebouwklasse", "Gebouwtype", "Gebouwsubtype",
    "SBICode", "Projectnaam", "Projectobject", "Bouwjaar", "GebruiksoppervlakteThermischeZone",
    "Compactheid", "EnergieIndex", "EnergieIndexEMGForfaitair", "Energiebehoefte", "Warmtebehoefte",
    "PrimaireFossieleEnergie", "PrimaireFossieleEnergieEMGForfaitair", "AandeelHernieuwbareEnergie",
    "AandeelHernieuwbareEnergieEMGForfaitair", "Temperatuuroverschrijding", "BerekendeCO2Emissie",
    "BerekendeEnergieverbruik",
)
CERTIFICAATHOUDERS = (
    "Kennemer Energieadvies B.V.", "Spaarne Labelbureau", "Duinstreek Duurzaam Advies",
    "LabelPunt West B.V.", "Energiecheck Haarlem e.o.", "Bouwfysica Zuid-Kennemerland",
    "EPA Groep Noordvleugel", "Woonlabel Adviseurs V.O.F.", "De Labelmakers", "Amstel Energieadvies",
    "Polderlabel B.V.", "IJmond Energieprestatie",
)
HUISADVISEUR = {"elan_wonen": "Kennemer Energieadvies B.V.", "pre_wonen": "LabelPunt West B.V.",
                "ymere": "EPA Groep Noordvleugel"}  # each corporation's usual certifier
# Noise dwellings in the EP-online file: (gemeente digits, pc4 codes, number of dwellings).
EP_NOISE_AREAS = (
    ("0363", tuple(range(1011, 1110)), 800),
    ("0394", (2131, 2132, 2133, 2134, 2135, 2136), 320),
    ("0453", (1971, 1972, 1973, 1974, 1975, 1976, 1981, 1991), 240),
    ("0392", tuple(p for p in range(2011, 2038) if p != 2020), 480),
    ("0397", (2101, 2102, 2103, 2104, 2105, 2106), 160),
)
EP_UTILITY_NOISE = 190
EP_UTILITY_ON_STOCK = 10
EP_SAME_DAY_DUPLICATES = 5
UTILITY_TYPES = (
    ("Kantoorfunctie", "6820"), ("Winkelfunctie", "4711"), ("Onderwijsfunctie", "8520"),
    ("Gezondheidszorgfunctie", "8621"), ("Bijeenkomstfunctie", "9499"), ("Sportfunctie", "9311"),
    ("Logiesfunctie", "5510"), ("Industriefunctie", "2511"),
)

# Geography: gemeente -> wijken (number, name, pc4 codes, relative stock weight, buurt names).
WIJKEN = {
    "GM0392": (
        (1, "Centrum", (2011, 2012), 0.5,
         ("Vijfhoek", "Burgwal", "Heiliglanden", "Stationsbuurt", "Grote Markt e.o.")),
        (2, "Haarlem-Noord", (2021, 2022, 2023, 2024, 2025), 1.3,
         ("Kleverpark", "Frans Halsbuurt", "Dietsveld", "Ter Kleef", "Sinnevelt", "Delftwijk")),
        (3, "Haarlem-Oost", (2031, 2032, 2033), 1.3,
         ("Parkwijk", "Slachthuisbuurt", "Amsterdamse wijk", "Van Zeggelenbuurt", "Potgieterbuurt")),
        (4, "Schalkwijk", (2034, 2035, 2036, 2037), 1.8,
         ("Boerhaavewijk", "Meerwijk", "Europawijk", "Molenwijk", "Schalkstad", "Zuid-Schalkwijk")),
        (5, "Zuid-West", (2013, 2014, 2015, 2016), 0.8,
         ("Leidsebuurt", "Zijlweg-West", "Houtvaartkwartier", "Brouwersvaart",
          "Vogelenbuurt, Zijlweg-Oost")),
        (6, "Haarlemmerhoutkwartier", (2017, 2018, 2019), 0.5,
         ("Koninginnebuurt", "Haarlemmerhout", "Den Hout", "Rozenprieel")),
        (7, "Ramplaankwartier", (2026, 2027, 2028), 0.6,
         ("Ramplaan", "Tuinwijk", "Bomenbuurt", "Ter Zijde")),
        (8, "Spaarndam", (2029, 2030), 0.2,
         ("Spaarndam-Oost", "Spaarndam-West", "Spaarndammerdijk", "Zaanenpolder")),
    ),
    "GM0397": (
        (1, "Centrum", (2101, 2102), 1.0, ("Raadhuisbuurt", "Binnenweg e.o.", "Bronsteebuurt")),
        (2, "Heemstede-Noord", (2103, 2104), 1.2,
         ("Merlenhoven", "Geleerdenwijk", "Zandvaartkwartier", "Indische buurt")),
        (3, "Heemstede-Zuid", (2105, 2106), 0.9, ("Glipperdreef", "Groenendaal", "Kennemerduin")),
    ),
}
MONUMENT_WIJKEN = ("Centrum", "Haarlemmerhoutkwartier", "Zuid-West")
# Composition of the existing stock (shares of dwellings), steered complex by complex.
TARGET_EGW = 0.35
TARGET_MONUMENT = 0.04
TARGET_VVE = 0.15
TARGET_NIET_DAEB = 0.12  # complexes; scattered units and liberalisaties bring it to ~15%
TARGET_PP = 0.03  # shares of all units
TARGET_BOG = 0.015
NEW_BUILD_WIJK_WEIGHT = {"Schalkwijk": 1.6, "Haarlem-Oost": 1.2, "Haarlem-Noord": 1.0, "Zuid-West": 0.5,
                         "Centrum": 0.15, "Spaarndam": 0.2}
LEEFBAAROMETER_YEARS = (2012, 2014, 2016, 2018, 2020, 2022, 2024)
LEEFBAAROMETER_REFERENCE = 4.1
LEEFBAAROMETER_WIJK_EFFECT = {"Schalkwijk": -0.13, "Haarlem-Oost": -0.04, "Centrum": 0.05,
                              "Haarlemmerhoutkwartier": 0.18, "Ramplaankwartier": 0.16,
                              "Spaarndam": 0.12, "Heemstede-Noord": 0.14, "Heemstede-Zuid": 0.2}
LEEFBAAROMETER_PADDED_CODES = 8  # buurt rows written with CBS-style trailing spaces

# Woonservice.
LETTINGS_PER_YEAR = {"GM0392": 300, "GM0397": 60}
PUBLIC_HOLIDAYS = ((1, 1), (4, 27), (12, 25), (12, 26))  # fixed-date ones; no contracts signed
SEEKERS_PER_PERIOD = 2_500
ACTIVE_SHARE = 0.55
REGION_GEMEENTEN = {"GM0392": 0.66, "GM0397": 0.14, "GM0377": 0.06, "GM0473": 0.05, "GM0453": 0.09}
WOONKERNEN = {
    "GM0392": (("Haarlem", 0.97), ("Spaarndam", 0.03)),
    "GM0397": (("Heemstede", 1.0),),
    "GM0377": (("Bloemendaal", 0.35), ("Overveen", 0.25), ("Bennebroek", 0.2), ("Aerdenhout", 0.2)),
    "GM0473": (("Zandvoort", 0.9), ("Bentveld", 0.1)),
    "GM0453": (("IJmuiden", 0.5), ("Velsen-Noord", 0.15), ("Santpoort-Noord", 0.2), ("Driehuis", 0.15)),
}
OWN_GEMEENTE_RESPONSE_SHARE = {"GM0392": 0.75, "GM0397": 0.35, "GM0377": 0.05, "GM0473": 0.05,
                               "GM0453": 0.05}
# (publicatiemodel, voorrang kind, share). Kind STA = voorrang URG with detail STA (statushouder).
LETTING_MIX = (
    ("AAN", "", 0.56), ("AAN", "URG", 0.09), ("AAN", "BIN", 0.03), ("AAN", "STA", 0.02),
    ("LOT", "", 0.08), ("EER", "", 0.05), ("OPT", "", 0.05), ("DIS", "", 0.05),
    ("DIR", "STA", 0.04), ("DIR", "URG", 0.025), ("DIR", "", 0.005),
)
URGENTIE_DETAILS = {"MED": 0.30, "SOC": 0.25, "UIT": 0.20, "HUI": 0.15, "MAN": 0.10}
REACTIES_BY_MODEL = {  # (median responses per advert, min, max)
    "AAN": (120, 20, 400), "OPT": (70, 15, 250), "DIS": (45, 10, 150), "LOT": (45, 10, 200),
    "EER": (14, 1, 60),
}
INCOME_CLASS_WEIGHT = {"primair": 1.15, "secundair": 1.0, "midden": 0.3, "hoog": 0.01}
LEEFTIJDSKLASSEN = ((22, "18-22"), (34, "23-34"), (54, "35-54"), (74, "55-74"), (200, "75+"))

TOEWIJZINGEN_COLUMNS = (
    "toewijzing_id", "toewijzingsdatum", "gemeente_code", "kern", "wijk_code", "buurt_code",
    "corporatie", "vhe_id", "bag_vbo_id", "postcode", "huisnummer", "huisletter",
    "huisnummertoevoeging", "netto_kale_huur", "woningtype", "kamers", "publicatiemodel", "voorrang",
    "voorrang_detail", "aantal_reacties", "inschrijfdatum", "zoekduur_maanden", "huishoudinkomen",
    "huishoudgrootte", "leeftijd_hoofdaanvrager", "woongemeente_code", "passendheid", "doorstromer",
    "woningzoekende_id",
)
WONINGZOEKENDEN_COLUMNS = (
    "woningzoekende_id", "periode_begin", "periode_einde", "woongemeente_code", "woonkern",
    "inkomensklasse", "huishoudinkomen", "huishoudgrootte", "leeftijdsklasse", "inschrijfdatum",
    "aantal_reacties", "aantal_reacties_woongemeente", "gehuisvest", "gehuisvest_via",
    "gehuisvest_gemeente_code",
)
TEMPLATE_ROWS = 10


# --------------------------------------------------------------------------------------------------
# Regions: everything that differs between the simulated housing markets
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    """One housing market: its gemeenten, peildata, thresholds and the parameters of its simulation.

    Zuid-Kennemerland is built from the module constants above (its random streams are the original
    ones, so its files do not change when other regions are added); every other region has its own
    seeded streams (`stream` + offset) and only adds rows or files.
    """

    key: str
    stream: int
    gemeenten: dict[str, str]  # code -> name of the gemeenten with corporation stock
    wijken: dict[str, tuple]  # like WIJKEN
    wijk_kern: dict[str, str]  # wijk name -> kern; default the gemeente's name
    years: tuple[int, ...]  # peildata 31-12-Y; lettings and seekers per calendar year
    liberalisatiegrens: dict[int, float]
    aftoppingsgrenzen: dict[int, tuple[float, float]]
    primair_inkomensgrens: dict[int, tuple[int, int]]
    daeb_inkomensgrens: dict[int, tuple[int, int]]
    midden_inkomensgrens: int
    lowest_income: int
    rent_level: float  # rents in the first year relative to Zuid-Kennemerland 2021
    rates: dict[str, float]
    efg_target: dict[int, float]  # share of dwellings with E/F/G that renovations steer to
    solar_target: dict[int, float]
    panel_wp: dict[int, tuple[int, ...]]
    target_egw: float
    village_complex_max: dict[str, int]  # kern -> largest existing complex there
    new_build_wijk_weight: dict[str, float]
    monument_wijken: tuple[str, ...]
    monument_kernen: tuple[str, ...]
    first_registration_weights: tuple[int, ...]  # first EP label per year 2008, 2009, ...
    certificaathouders: tuple[str, ...]
    huisadviseur: dict[str, str]
    ep_noise_areas: tuple[tuple[str, tuple[int, ...], int], ...]
    ep_utility_on_stock: int
    ep_utility_noise: int
    ep_same_day_duplicates: int
    lbm_wijk_effect: dict[str, float]
    lbm_default_effect: float
    lbm_padded: int
    woonservice_end: dt.date | None
    lettings_per_year: dict[str, int]
    seekers_per_period: int
    seeker_gemeenten: dict[str, float]
    woonkernen: dict[str, tuple[tuple[str, float], ...]]
    own_response_share: dict[str, float]
    reacties_factor: dict[str, float]
    letting_mix: tuple[tuple[str, str, float], ...]
    letting_id: str  # format(year=, number=)
    seeker_id: str  # format(n=)
    housed_responded_locally: bool  # housed via an advert in the own gemeente => >= 1 local response
    file_label: str  # woonservice file names: toewijzingen_<file_label>_<years>.csv

    @property
    def first_year(self) -> int:
        return self.years[0]

    @property
    def last_year(self) -> int:
        return self.years[-1]

    @property
    def stock_start(self) -> dt.date:
        return dt.date(self.first_year - 1, 12, 31)


ZUID_KENNEMERLAND = Region(
    key="zk", stream=0, gemeenten=GEMEENTE_NAMEN, wijken=WIJKEN, wijk_kern={"Spaarndam": "Spaarndam"},
    years=YEARS, liberalisatiegrens=LIBERALISATIEGRENS, aftoppingsgrenzen=AFTOPPINGSGRENZEN,
    primair_inkomensgrens=PRIMAIR_INKOMENSGRENS, daeb_inkomensgrens=DAEB_INKOMENSGRENS,
    midden_inkomensgrens=MIDDEN_INKOMENSGRENS, lowest_income=17_000, rent_level=1.0,
    rates={"nieuwbouw": RATE_NIEUWBOUW, "aankoop": RATE_AANKOOP, "verkoop": RATE_VERKOOP, "sloop": RATE_SLOOP,
           "liberalisatie": RATE_LIBERALISATIE},
    efg_target=EFG_TARGET, solar_target=SOLAR_TARGET, panel_wp=PANEL_WP_BY_YEAR,
    target_egw=TARGET_EGW, village_complex_max={}, new_build_wijk_weight=NEW_BUILD_WIJK_WEIGHT, monument_wijken=MONUMENT_WIJKEN,
    monument_kernen=("Heemstede",),
    first_registration_weights=(2, 3, 4, 4, 4, 4, 6, 14, 16, 10, 8, 8, 8, 3, 3, 2, 2, 1),
    certificaathouders=CERTIFICAATHOUDERS, huisadviseur=HUISADVISEUR, ep_noise_areas=EP_NOISE_AREAS,
    ep_utility_on_stock=EP_UTILITY_ON_STOCK, ep_utility_noise=EP_UTILITY_NOISE,
    ep_same_day_duplicates=EP_SAME_DAY_DUPLICATES,
    lbm_wijk_effect=LEEFBAAROMETER_WIJK_EFFECT, lbm_default_effect=0.08, lbm_padded=LEEFBAAROMETER_PADDED_CODES,
    woonservice_end=WOONSERVICE_END, lettings_per_year=LETTINGS_PER_YEAR, seekers_per_period=SEEKERS_PER_PERIOD,
    seeker_gemeenten=REGION_GEMEENTEN, woonkernen=WOONKERNEN, own_response_share=OWN_GEMEENTE_RESPONSE_SHARE,
    reacties_factor={"GM0397": 1.3}, letting_mix=LETTING_MIX, letting_id="TW{year}-{number:05d}",
    seeker_id="WZ{n:06d}", housed_responded_locally=False, file_label="",
)

# Historical thresholds as generation parameters (approximate; `reference/` is the authority).
LIBERALISATIEGRENS_HIST = {2015: 710.68, 2016: 710.68, 2017: 710.68, 2018: 710.68, 2019: 720.42, 2020: 737.14,
                           **LIBERALISATIEGRENS}
AFTOPPINGSGRENZEN_HIST = {2015: (576.87, 618.24), 2016: (586.68, 628.76), 2017: (592.55, 635.05),
                          2018: (597.30, 640.14), 2019: (607.46, 651.03), 2020: (619.01, 663.40), **AFTOPPINGSGRENZEN}
PRIMAIR_INKOMENSGRENS_HIST = {2015: (21_950, 29_800), 2016: (22_100, 30_000), 2017: (22_200, 30_150),
                              2018: (22_400, 30_400), 2019: (22_700, 30_825), 2020: (23_225, 31_550),
                              **PRIMAIR_INKOMENSGRENS}
DAEB_INKOMENSGRENS_HIST = {2015: (34_911, 34_911), 2016: (35_739, 35_739), 2017: (36_165, 36_165),  # one limit
                           2018: (36_798, 36_798), 2019: (38_035, 38_035), 2020: (39_055, 39_055),
                           **DAEB_INKOMENSGRENS}

# Harderwijk (GM0243): Uwoon and Omnia Wonen, peildata 31-12-2020 .. 31-12-2024.
HARDERWIJK = Region(
    key="hw", stream=2000, gemeenten={"GM0243": "Harderwijk"},
    wijken={"GM0243": (
        (1, "Binnenstad", (3841,), 0.45, ("Vischmarkt", "Bruggestraat e.o.", "Havendam")),
        (2, "Stadsdennen", (3843, 3844), 1.2, ("Stadsdennen-Noord", "Stadsdennen-Zuid", "Selhorst", "Oosteinde")),
        (3, "Tweelingstad", (3842,), 1.1, ("Tweelingstad-West", "Tweelingstad-Oost", "Zeebuurt", "Friese Hoek")),
        (4, "Frankrijk", (3842, 3843), 0.9, ("Frankrijk-Noord", "Frankrijk-Zuid", "Vondellaan e.o.")),
        (5, "Drielanden", (3845, 3846), 1.3, ("Drielanden-West", "Drielanden-Midden", "Drielanden-Oost", "Sypel")),
        (6, "Stadsweiden", (3847,), 0.6, ("Stadsweiden", "Lorentz", "Slichtenhorst")),
        (7, "Waterfront", (3841, 3848), 0.3, ("Waterfront", "Havenkwartier")),
        (8, "Hierden", (3849,), 0.25, ("Hierden-Dorp", "Hierden-Buiten")),
    )},
    wijk_kern={"Hierden": "Hierden"}, years=(2020, 2021, 2022, 2023, 2024),
    liberalisatiegrens=LIBERALISATIEGRENS_HIST, aftoppingsgrenzen=AFTOPPINGSGRENZEN_HIST,
    primair_inkomensgrens=PRIMAIR_INKOMENSGRENS_HIST, daeb_inkomensgrens=DAEB_INKOMENSGRENS_HIST,
    midden_inkomensgrens=56_000, lowest_income=16_500, rent_level=0.95,
    rates={"nieuwbouw": 0.025, "aankoop": 0.002, "verkoop": 0.004, "sloop": 0.006, "liberalisatie": 0.003},
    efg_target={2020: 0.12, 2021: 0.095, 2022: 0.07, 2023: 0.05, 2024: 0.035, 2025: 0.025},
    solar_target={2019: 0.08, 2020: 0.11, 2021: 0.15, 2022: 0.19, 2023: 0.24, 2024: 0.29},
    panel_wp={2019: (300, 310, 320, 330), 2020: (330, 335, 340, 350), **{y: PANEL_WP_BY_YEAR[y] for y in YEARS}},
    target_egw=0.45, village_complex_max={"Hierden": 12},
    new_build_wijk_weight={"Drielanden": 1.2, "Waterfront": 2.0, "Stadsweiden": 1.6, "Binnenstad": 0.2,
                           "Hierden": 0.3},
    monument_wijken=("Binnenstad",), monument_kernen=(),
    first_registration_weights=(2, 3, 4, 4, 4, 4, 6, 14, 16, 10, 8, 8, 8, 3, 3, 2, 2, 1),
    certificaathouders=("Veluwe Energieadvies B.V.", "Labelbureau Noord-Veluwe", "Zuiderzee Bouwadvies",
                        "EPA Groep Gelderland", "De Labelmakers", "Energiecheck Midden-Nederland"),
    huisadviseur={"uwoon": "Labelbureau Noord-Veluwe", "omnia_wonen": "Veluwe Energieadvies B.V."},
    ep_noise_areas=(("0243", (3841, 3842, 3843, 3844, 3845, 3846, 3847, 3848, 3849), 260),),
    ep_utility_on_stock=4, ep_utility_noise=25, ep_same_day_duplicates=2,
    lbm_wijk_effect={"Binnenstad": 0.05, "Stadsdennen": -0.01, "Tweelingstad": 0.0, "Frankrijk": 0.03,
                     "Drielanden": 0.07, "Waterfront": 0.12, "Hierden": 0.16},
    lbm_default_effect=0.08, lbm_padded=0, woonservice_end=None,
    lettings_per_year={"GM0243": 70}, seekers_per_period=600,
    seeker_gemeenten={"GM0243": 0.62, "GM0233": 0.12, "GM0267": 0.07, "GM0273": 0.06, "GM0302": 0.07,
                      "GM0230": 0.06},
    woonkernen={
        "GM0243": (("Harderwijk", 0.95), ("Hierden", 0.05)),
        "GM0233": (("Ermelo", 0.92), ("Horst", 0.05), ("Speuld", 0.03)),
        "GM0267": (("Nijkerk", 0.7), ("Hoevelaken", 0.25), ("Nijkerkerveen", 0.05)),
        "GM0273": (("Putten", 1.0),),
        "GM0302": (("Nunspeet", 0.7), ("Elspeet", 0.15), ("Hulshorst", 0.1), ("Vierhouten", 0.05)),
        "GM0230": (("Elburg", 0.6), ("'t Harde", 0.35), ("Doornspijk", 0.05)),
    },
    own_response_share={"GM0243": 0.8, "GM0233": 0.05, "GM0267": 0.04, "GM0273": 0.04, "GM0302": 0.04,
                        "GM0230": 0.04},
    reacties_factor={"GM0243": 0.55},
    letting_mix=(("AAN", "", 0.55), ("AAN", "URG", 0.08), ("AAN", "BIN", 0.02), ("AAN", "STA", 0.03),
                 ("LOT", "", 0.07), ("EER", "", 0.09), ("OPT", "", 0.06), ("DIS", "", 0.03),
                 ("DIR", "STA", 0.04), ("DIR", "URG", 0.025), ("DIR", "", 0.005)),
    letting_id="HW-TW{year}-{number:04d}", seeker_id="HW-WZ{n:05d}", housed_responded_locally=True,
    file_label="harderwijk",
)

ALPHEN_KERNEN = ("Aarlanderveen", "Alphen aan den Rijn", "Benthuizen", "Boskoop", "Hazerswoude-Dorp",
                 "Hazerswoude-Rijndijk", "Koudekerk aan den Rijn", "Zwammerdam")

# Alphen aan den Rijn (GM0484): Woonforte and Habeko Wonen, peildata 31-12-2015 .. 31-12-2020.
ALPHEN = Region(
    key="ar", stream=3000, gemeenten={"GM0484": "Alphen aan den Rijn"},
    wijken={"GM0484": (
        (1, "Centrum", (2405, 2406), 0.8, ("Oude Dorp", "Stadshart", "Rijnhaven", "Burgemeesterswijk")),
        (2, "Ridderveld", (2402, 2403), 1.3, ("Ridderveld-Noord", "Ridderveld-Zuid", "Herenhof", "Bloemhof")),
        (3, "Kerk en Zanen", (2407, 2408), 1.4, ("Kerk en Zanen-Noord", "Kerk en Zanen-Zuid", "Bospark",
                                                 "Nieuwe Sloot")),
        (4, "Lage Zijde", (2404,), 0.9, ("Lage Zijde", "Edelstenenbuurt", "Baronie")),
        (5, "Oudshoorn", (2401, 2409), 0.8, ("Oudshoorn-Noord", "Oudshoorn-Zuid", "Gnephoek")),
        (6, "Hoorn-Zegersloot", (2403, 2408), 0.6, ("Hoorn", "Zegersloot", "Ecowijk")),
        (7, "Boskoop", (2771, 2772, 2773), 1.0, ("Boskoop-Centrum", "Boskoop-Oost", "Boskoop-Zuid", "Snijdelwijk")),
        (8, "Hazerswoude-Dorp", (2391,), 0.45, ("Hazerswoude-Dorp", "Groenendaal")),
        (9, "Hazerswoude-Rijndijk", (2394,), 0.35, ("Rijndijk", "Kerkwerve")),
        (10, "Koudekerk aan den Rijn", (2396,), 0.35, ("Koudekerk-Dorp", "Hondsdijk")),
        (11, "Benthuizen", (2735,), 0.25, ("Benthuizen", "Kompas")),
        (12, "Zwammerdam", (2471,), 0.15, ("Zwammerdam",)),
        (13, "Aarlanderveen", (2451,), 0.1, ("Aarlanderveen",)),
    )},
    wijk_kern={"Boskoop": "Boskoop", "Hazerswoude-Dorp": "Hazerswoude-Dorp",
               "Hazerswoude-Rijndijk": "Hazerswoude-Rijndijk", "Koudekerk aan den Rijn": "Koudekerk aan den Rijn",
               "Benthuizen": "Benthuizen", "Zwammerdam": "Zwammerdam", "Aarlanderveen": "Aarlanderveen"},
    years=(2015, 2016, 2017, 2018, 2019, 2020),
    liberalisatiegrens=LIBERALISATIEGRENS_HIST, aftoppingsgrenzen=AFTOPPINGSGRENZEN_HIST,
    primair_inkomensgrens=PRIMAIR_INKOMENSGRENS_HIST, daeb_inkomensgrens=DAEB_INKOMENSGRENS_HIST,
    midden_inkomensgrens=46_000, lowest_income=15_500, rent_level=0.86,
    rates={"nieuwbouw": 0.02, "aankoop": 0.003, "verkoop": 0.008, "sloop": 0.008, "liberalisatie": 0.005},
    # EFG share from the stock's own ~21 % down to ~6 % in 2020; with the renovation labels this takes the
    # average pre-2021 EnergieIndex of the labelled stock from ~1.49 (2015) to just under 1.25 (2020).
    efg_target={2015: 0.21, 2016: 0.19, 2017: 0.165, 2018: 0.14, 2019: 0.11, 2020: 0.085, 2021: 0.07},
    solar_target={2014: 0.02, 2015: 0.03, 2016: 0.05, 2017: 0.08, 2018: 0.11, 2019: 0.14, 2020: 0.18},
    panel_wp={2014: (250, 255, 260, 265), 2015: (255, 260, 265, 270), 2016: (260, 265, 270, 280),
              2017: (270, 280, 285, 290), 2018: (280, 290, 295, 300), 2019: (300, 305, 310, 320),
              2020: (310, 320, 330, 335)},
    target_egw=0.42,
    village_complex_max={"Aarlanderveen": 8, "Zwammerdam": 14, "Benthuizen": 24, "Koudekerk aan den Rijn": 24,
                         "Hazerswoude-Rijndijk": 24, "Hazerswoude-Dorp": 30},
    new_build_wijk_weight={"Kerk en Zanen": 1.4, "Oudshoorn": 1.0, "Hoorn-Zegersloot": 1.6, "Boskoop": 1.0,
                           "Centrum": 0.4, "Hazerswoude-Dorp": 0.8, "Benthuizen": 0.7,
                           "Koudekerk aan den Rijn": 0.6, "Hazerswoude-Rijndijk": 0.7},
    monument_wijken=("Centrum",), monument_kernen=("Boskoop", "Aarlanderveen"),
    first_registration_weights=(8, 10, 12, 12, 10, 9, 8, 12, 5, 3, 2, 2, 2, 1, 1, 1, 1, 1),
    certificaathouders=("Rijnstreek Energieadvies", "Groene Hart Labels B.V.", "Bouwfysica Holland-Rijnland",
                        "LabelPunt West B.V.", "EPA Adviseurs Leiden e.o.", "De Labelmakers"),
    huisadviseur={"woonforte": "Rijnstreek Energieadvies", "habeko_wonen": "Groene Hart Labels B.V."},
    ep_noise_areas=(("0484", (2401, 2402, 2403, 2404, 2405, 2406, 2407, 2408, 2409, 2771, 2772, 2773, 2391, 2394,
                              2396), 320),),
    ep_utility_on_stock=4, ep_utility_noise=25, ep_same_day_duplicates=2,
    lbm_wijk_effect={"Centrum": 0.03, "Ridderveld": -0.115, "Kerk en Zanen": -0.095, "Lage Zijde": 0.02,
                     "Oudshoorn": 0.05, "Hoorn-Zegersloot": 0.08, "Boskoop": 0.09},
    lbm_default_effect=0.13, lbm_padded=0, woonservice_end=None,
    lettings_per_year={"GM0484": 65}, seekers_per_period=600,
    seeker_gemeenten={"GM0484": 0.70, "GM1884": 0.07, "GM0569": 0.06, "GM1901": 0.06, "GM0546": 0.07,
                      "GM0638": 0.04},
    woonkernen={
        "GM0484": (("Alphen aan den Rijn", 0.64), ("Boskoop", 0.13), ("Hazerswoude-Dorp", 0.05),
                   ("Hazerswoude-Rijndijk", 0.05), ("Koudekerk aan den Rijn", 0.04), ("Benthuizen", 0.04),
                   ("Zwammerdam", 0.025), ("Aarlanderveen", 0.015)),
        "GM1884": (("Roelofarendsveen", 0.35), ("Leimuiden", 0.2), ("Woubrugge", 0.15), ("Oude Wetering", 0.15),
                   ("Hoogmade", 0.1), ("Rijnsaterwoude", 0.05)),
        "GM0569": (("Nieuwkoop", 0.3), ("Ter Aar", 0.3), ("Nieuwveen", 0.25), ("Zevenhoven", 0.15)),
        "GM1901": (("Bodegraven", 0.55), ("Reeuwijk", 0.3), ("Nieuwerbrug", 0.15)),
        "GM0546": (("Leiden", 1.0),),
        "GM0638": (("Zoeterwoude-Dorp", 0.6), ("Zoeterwoude-Rijndijk", 0.4)),
    },
    own_response_share={"GM0484": 0.82, "GM1884": 0.06, "GM0569": 0.05, "GM1901": 0.05, "GM0546": 0.03,
                        "GM0638": 0.05},
    reacties_factor={"GM0484": 0.7},
    letting_mix=(("AAN", "", 0.57), ("AAN", "URG", 0.08), ("AAN", "BIN", 0.03), ("AAN", "STA", 0.03),
                 ("LOT", "", 0.05), ("EER", "", 0.08), ("OPT", "", 0.05), ("DIS", "", 0.03),
                 ("DIR", "STA", 0.04), ("DIR", "URG", 0.025), ("DIR", "", 0.005)),
    letting_id="AR-TW{year}-{number:04d}", seeker_id="AR-WZ{n:05d}", housed_responded_locally=True,
    file_label="alphen-aan-den-rijn",
)
EXTRA_REGIONS = (HARDERWIJK, ALPHEN)
EP_EXTRA_STREAM = 4012  # shuffles the other regions' certificates, appended to the total file


# --------------------------------------------------------------------------------------------------
# Small helpers: random streams, dates, number formats, labels
# --------------------------------------------------------------------------------------------------

def make_rng(stream: int) -> np.random.Generator:
    """One independent generator per part of the world, so changing one part leaves the others."""
    return np.random.default_rng(np.random.SeedSequence([SEED, stream]))


def pick(rng: np.random.Generator, options: dict[str, float]) -> str:
    keys = list(options)
    weights = np.array([options[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=weights / weights.sum()))]


def pick_index(rng: np.random.Generator, weights: Sequence[float]) -> int:
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(len(w), p=w / w.sum()))


def sample_without_replacement(rng: np.random.Generator, items: list, n: int, weights=None) -> list:
    if n <= 0 or not items:
        return []
    n = min(n, len(items))
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        p = w / w.sum()
        n = min(n, int(np.count_nonzero(w)))
    chosen = rng.choice(len(items), size=n, replace=False, p=p)
    return [items[int(i)] for i in chosen]


def random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def date_in_year(rng: np.random.Generator, year: int, first_month: int = 1, last_month: int = 12) -> dt.date:
    end = dt.date(year, last_month, 28) if last_month < 12 else year_end(year)
    return random_date(rng, dt.date(year, first_month, 1), end)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_between(start: dt.date, end: dt.date) -> float:
    return (end - start).days / 365.25


def nl_number(value: float, decimals: int = 2, thousands: bool = False) -> str:
    """1234.5 -> '1234,50' or, with thousands, '1.234,50'."""
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def compact_number(value: float, decimal: str) -> str:
    """Whole numbers without decimals, others with one: '72' or '72,5'."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", decimal)


def dmy(day: dt.date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else ""


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def ymd(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def label_for_pfe(pfe: float) -> str:
    for label in LABEL_ORDER:
        if pfe <= NTA_UPPER[label]:
            return label
    return "G"


def pfe_in_class(rng: np.random.Generator, label: str) -> float:
    """A primary-fossil-energy value (one decimal) that falls inside the NTA 8800 class."""
    index = LABEL_ORDER.index(label)
    low = NTA_LOWEST if index == 0 else NTA_UPPER[LABEL_ORDER[index - 1]]
    return round(float(rng.uniform(low + 0.1, NTA_UPPER[label])), 1)


def shift_label(label: str, steps: int, best: str = "A++++") -> str:
    index = min(max(LABEL_ORDER.index(label) + steps, LABEL_ORDER.index(best)), len(LABEL_ORDER) - 1)
    return LABEL_ORDER[index]


def income_limits_class(year: int, income: float, household: int, region: Region | None = None) -> str:
    region = region or ZUID_KENNEMERLAND
    one_person = household == 1
    primair = region.primair_inkomensgrens[year][0 if one_person else 1]
    daeb = region.daeb_inkomensgrens[year][0 if one_person else 1]
    if income < primair:
        return "primair"
    if income <= daeb:
        return "secundair"
    if income <= region.midden_inkomensgrens:
        return "midden"
    return "hoog"


def leeftijdsklasse(age: int) -> str:
    return next(label for upper, label in LEEFTIJDSKLASSEN if age <= upper)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --------------------------------------------------------------------------------------------------
# Geography, addresses and BAG ids
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Buurt:
    code: str
    naam: str
    wijk_code: str
    wijk_naam: str
    gemeente: str
    pc4: int
    kern: str
    weight: float


def build_geography(region: Region | None = None) -> dict[str, list[Buurt]]:
    region = region or ZUID_KENNEMERLAND
    geography: dict[str, list[Buurt]] = {}
    for gemeente, wijken in region.wijken.items():
        digits = gemeente[2:]
        for number, wijk_naam, pc4s, weight, names in wijken:
            kern = region.wijk_kern.get(wijk_naam, region.gemeenten[gemeente])
            for index, naam in enumerate(names):
                geography.setdefault(gemeente, []).append(Buurt(
                    code=f"BU{digits}{number:02d}{index + 1:02d}", naam=naam,
                    wijk_code=f"WK{digits}{number:02d}", wijk_naam=wijk_naam, gemeente=gemeente,
                    pc4=pc4s[index % len(pc4s)], kern=kern, weight=weight / len(names),
                ))
    return geography


POSTCODE_LETTERS = tuple(a + b for a in "ABCDEFGHJKLMNPRSTVWXZ" for b in "ABCDEFGHJKLMNPRSTVWXZ"
                         if a + b not in ("SA", "SD", "SS"))
Address = tuple[str, int, str, str]  # postcode '2011AB', huisnummer, huisletter, toevoeging


class AddressBook:
    """Hands out postcodes (pc4 + letters) that were never used and keeps every address unique."""

    PER_POSTCODE = 24

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.postcodes: set[str] = set()
        self.addresses: set[Address] = set()

    def new_postcode(self, pc4: int) -> str:
        while True:
            postcode = f"{pc4}{POSTCODE_LETTERS[int(self.rng.integers(len(POSTCODE_LETTERS)))]}"
            if postcode not in self.postcodes:
                self.postcodes.add(postcode)
                return postcode

    def claim(self, address: Address) -> bool:
        if address in self.addresses:
            return False
        self.addresses.add(address)
        return True

    def block(self, pc4: int, count: int, style: str) -> list[Address]:
        """`count` new addresses in fresh postcodes, numbered the way the building style is."""
        out: list[Address] = []
        postcode, used, number = self.new_postcode(pc4), 0, int(self.rng.integers(1, 120))
        while len(out) < count:
            if used >= self.PER_POSTCODE:
                postcode, used, number = self.new_postcode(pc4), 0, int(self.rng.integers(1, 120))
            entrance = self._entrance(style, postcode, number)
            for address in entrance:
                if self.claim(address):
                    out.append(address)
                    used += 1
            number += 1 if style == "galerij" else 2
        return out[:count]

    def _entrance(self, style: str, postcode: str, number: int) -> list[Address]:
        rng = self.rng
        if style == "portiek":
            floors = ["HG", "1", "2", "3"] if rng.random() < 0.6 else ["1", "2", "3", "4"]
            if rng.random() < 0.05:
                floors[0] = "ZW"
            return [(postcode, number, "", floor) for floor in floors]
        if style == "letters":
            return [(postcode, number, letter, "") for letter in ("", "A", "B")]
        entrance = [(postcode, number, "", "")]
        if style == "straat" and rng.random() < 0.02:
            entrance.append((postcode, number, "A", ""))
        if style == "straat" and rng.random() < 0.01:
            entrance.append((postcode, number, "", "bis"))
        return entrance

    def beside(self, address: Address, toevoegingen: Iterable[str]) -> list[Address]:
        """Addresses at the same entrance (for splitsing/transformatie), skipping any in use."""
        postcode, number, letter, _ = address
        out = []
        for toevoeging in toevoegingen:
            candidate = (postcode, number, letter, toevoeging)
            if self.claim(candidate):
                out.append(candidate)
        return out


class BagRegistry:
    """BAG ids: 4-digit gemeente code + object type ('01' VBO, '10' pand) + 10-digit sequence."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.counters: dict[tuple[str, str, bool], int] = {}

    def _next(self, gemeente_digits: str, kind: str, new: bool) -> str:
        key = (gemeente_digits, kind, new)
        if key not in self.counters:  # new-build objects get ids from a later range, as in the BAG
            self.counters[key] = (2_100_000 if new else 100_000) + int(self.rng.integers(0, 40_000))
        value = self.counters[key]
        self.counters[key] = value + 1 + int(self.rng.integers(0, 3))
        return f"{gemeente_digits}{kind}{value:010d}"

    def vbo(self, gemeente_digits: str, new: bool = False) -> str:
        return self._next(gemeente_digits, "01", new)

    def pand(self, gemeente_digits: str, new: bool = False) -> str:
        return self._next(gemeente_digits, "10", new)


# --------------------------------------------------------------------------------------------------
# Units, certificates and the per-corporation stock simulation
# --------------------------------------------------------------------------------------------------

@dataclass
class YearState:
    """What a unit looks like in the stock list of one peildatum."""

    rent: float
    daeb: bool
    panels: int
    wp: int
    flagged: bool
    m2: float
    kamers: int | None
    wws: float | None


@dataclass
class Certificate:
    unit: Unit
    registratie: dt.date
    opname: dt.date
    klasse: str
    nta: bool
    status: str
    berekeningstype: str
    soort_opname: str
    houder: str
    bag_leeg: bool = False
    gebouwklasse: str = "W"
    gebouwtype: str = ""
    gebouwsubtype: str = ""
    sbi: str = ""
    referentie: bool = False
    energie_index: float | None = None
    pfe: float | None = None
    extras: dict[str, str] = field(default_factory=dict)


@dataclass
class Unit:
    corp: str  # slug, '' for dwellings outside the stock (EP-online noise)
    vhe_id: str
    complex_id: str
    buurt: Buurt | None
    bag_id: str
    pand_ids: str
    address: Address
    eenheidsoort: str  # WOO / PP / BOG
    woningtype: str  # EGW / MGW / ''
    subtype: str
    bouwjaar: int
    kamers: int | None
    m2: float
    wws: float | None
    rent: float
    daeb: bool
    monument: bool
    vve: bool
    herkomst: str
    in_date: dt.date
    pfe0: float
    uit_date: dt.date | None = None
    uit_reden: str = ""
    silent: bool = False
    renovations: list[tuple[dt.date, float]] = field(default_factory=list)
    panels: int = 0
    wp: int = 0
    plan: tuple[int, str] | None = None  # (year, 'sloop' | 'renovatie')
    plan_flagged: bool = False
    label_offset: int = 0  # persistent error in the corporation's own label
    has_estimate: bool = True  # corporation fills in a label even without certificate
    bag_quirk: str = ""  # Ymere export: 'short' (leading zero lost) or 'missing'
    project: str = ""
    states: dict[int, YearState] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def is_woo(self) -> bool:
        return self.eenheidsoort == "WOO"

    @property
    def gemeente(self) -> str:
        return self.buurt.gemeente if self.buurt else ""

    def active_at(self, day: dt.date) -> bool:
        return self.in_date <= day and (self.uit_date is None or self.uit_date > day)

    def pfe_at(self, day: dt.date) -> float:
        value = self.pfe0
        for when, pfe in self.renovations:
            if when <= day:
                value = pfe
        return value

    def retire(self, day: dt.date, reason: str) -> None:
        self.uit_date, self.uit_reden = day, reason


@dataclass(frozen=True)
class CorporationConfig:
    slug: str
    naam: str
    size: int
    gemeenten: tuple[tuple[str, float], ...]
    vhe_format: str
    complex_format: str
    vhe_start: int
    complex_start: int
    stream: int
    kern_weights: dict[str, float] | None = None  # preference for kernen (None: no preference)
    bag_short_share: float = 0.0  # share of BAG ids written without their leading zero


CORPORATIES = (
    CorporationConfig("elan_wonen", "Elan Wonen", 1600, (("GM0392", 0.70), ("GM0397", 0.30)),
                      "{:06d}", "{:04d}", 100_001, 1001, 101),
    CorporationConfig("pre_wonen", "Pré Wonen", 1300, (("GM0392", 0.72), ("GM0397", 0.28)),
                      "E{:06d}", "PW{:04d}", 20_001, 101, 102),
    CorporationConfig("ymere", "Ymere", 1100, (("GM0392", 1.0),),
                      "YM{:07d}", "CL{:04d}", 4_000_001, 4001, 103),
)
EXTRA_CORPORATIES = {
    "hw": (
        CorporationConfig("uwoon", "Uwoon", 900, (("GM0243", 1.0),), "{:07d}", "C{:03d}", 1_000_101, 101, 2101,
                          kern_weights={"Harderwijk": 1.0, "Hierden": 4.0}, bag_short_share=0.04),
        CorporationConfig("omnia_wonen", "Omnia Wonen", 500, (("GM0243", 1.0),), "OW-{:05d}", "HW-{:03d}",
                          4_001, 1, 2102),
    ),
    "ar": (
        CorporationConfig("woonforte", "Woonforte", 1000, (("GM0484", 1.0),), "{:012d}", "{:04d}", 10_010_001,
                          1001, 3101,
                          kern_weights={"Alphen aan den Rijn": 1.0, "Aarlanderveen": 6.0, "Zwammerdam": 5.0,
                                        "Koudekerk aan den Rijn": 1.5, "Boskoop": 0.05}),
        CorporationConfig("habeko_wonen", "Habeko Wonen", 400, (("GM0484", 1.0),), "{:d}", "C{:04d}", 50_101,
                          101, 3102,
                          kern_weights={"Boskoop": 1.0, "Hazerswoude-Dorp": 1.6, "Hazerswoude-Rijndijk": 1.6,
                                        "Koudekerk aan den Rijn": 1.2, "Benthuizen": 2.0,
                                        "Alphen aan den Rijn": 0.03}),
    ),
}


@dataclass
class ComplexSpec:
    complex_id: str
    buurt: Buurt
    bouwjaar: int
    woningtype: str
    style: str
    monument: bool
    vve: bool
    daeb: bool
    label_mix: dict[str, float]
    herkomst: str
    in_date: dt.date
    new_build: bool = False
    project: str = ""


class CorporationSimulator:
    """The stock of one corporation from its region's stock start to the last peildatum, one mutation
    type per method (Zuid-Kennemerland: 31-12-2020 to 31-12-2025)."""

    def __init__(self, cfg: CorporationConfig, geography: dict[str, list[Buurt]],
                 addresses: AddressBook, bag: BagRegistry, region: Region | None = None) -> None:
        self.region = region or ZUID_KENNEMERLAND
        self.cfg = cfg
        self.geography = geography
        self.addresses = addresses
        self.bag = bag
        self.rng = make_rng(cfg.stream)
        self.units: list[Unit] = []
        self.complexes: dict[str, list[Unit]] = {}
        self.complex_daeb: dict[str, bool] = {}
        self._next_vhe = cfg.vhe_start
        self._next_complex = cfg.complex_start
        self.taste = {b.wijk_code: float(self.rng.gamma(2.0, 0.5)) for bs in geography.values() for b in bs}

    # -- identifiers and draws ---------------------------------------------------------------------

    def new_vhe_id(self) -> str:
        value = self._next_vhe
        self._next_vhe += 1 + int(self.rng.integers(0, 2))
        return self.cfg.vhe_format.format(value)

    def new_complex_id(self) -> str:
        value = self._next_complex
        self._next_complex += 1 + int(self.rng.integers(0, 3))
        return self.cfg.complex_format.format(value)

    def pick_gemeente(self) -> str:
        return pick(self.rng, dict(self.cfg.gemeenten))

    def pick_buurt(self, gemeente: str, new_build: bool = False) -> Buurt:
        buurten = self.geography[gemeente]
        weights = [b.weight * self.taste[b.wijk_code]
                   * (self.region.new_build_wijk_weight.get(b.wijk_naam, 0.4) if new_build else 1.0) for b in buurten]
        if self.cfg.kern_weights is not None:
            weights = [w * self.cfg.kern_weights.get(b.kern, 0.0) for w, b in zip(weights, buurten, strict=True)]
        return buurten[pick_index(self.rng, weights)]

    def draw_bouwjaar(self) -> int:
        r = self.rng.random()
        if r < 0.12:
            return int(self.rng.integers(1900, 1946))
        if r < 0.70:
            return int(np.clip(round(self.rng.normal(1965, 8)), 1946, 1980))
        if r < 0.88:
            return int(self.rng.integers(1981, 2001))
        return int(self.rng.integers(2001, self.region.first_year))

    def dwelling_rent(self, daeb: bool, wws: float, year: int) -> float:
        level = self.region.rent_level  # 1.0 in Zuid-Kennemerland: the products below are then exact
        index = (1 + 0.03) ** (year - self.region.first_year)
        if daeb:
            cap = self.region.liberalisatiegrens[year]
            rent = (200 + 3.0 * wws + self.rng.normal(0, 35)) * index * level
            if rent > cap:
                rent = cap - self.rng.uniform(0.5, 60)
            return round(float(max(rent, 420.0 * level + self.rng.uniform(0, 30))), 2)
        rent = float(np.clip(850 + 3.0 * (wws - 100) + self.rng.normal(0, 60), 900, 1400)) * index * level
        return round(rent, 2)

    def dwelling_size(self, woningtype: str) -> tuple[float, int, float]:
        mean, low, high = (95, 60, 140) if woningtype == "EGW" else (66, 30, 120)
        m2 = float(np.clip(round(self.rng.normal(mean, 14) * 2) / 2, low, high))
        kamers = int(np.clip(round(m2 / 22 + self.rng.normal(0, 0.6)), 1, 6))
        wws = float(np.clip(round(55 + 1.15 * m2 + self.rng.normal(0, 14)), 80, 220))
        return m2, kamers, wws

    # -- complexes ------------------------------------------------------------------------------------

    def composition(self) -> dict[str, float]:
        """Shares among the units made so far: EGW, monument, VvE and niet-DAEB of dwellings, PP/BOG of all."""
        dwellings = [u for u in self.units if u.is_woo]

        def share(units: list[Unit], test) -> float:
            return sum(1 for u in units if test(u)) / max(len(units), 1)

        return {"egw": share(dwellings, lambda u: u.woningtype == "EGW"),
                "monument": share(dwellings, lambda u: u.monument), "vve": share(dwellings, lambda u: u.vve),
                "niet_daeb": share(dwellings, lambda u: not self.complex_daeb[u.complex_id]),
                "pp": share(self.units, lambda u: u.eenheidsoort == "PP"),
                "bog": share(self.units, lambda u: u.eenheidsoort == "BOG")}

    def existing_complex_spec(self, gemeente: str) -> ComplexSpec:
        rng = self.rng
        mix = self.composition()
        buurt = self.pick_buurt(gemeente)
        bouwjaar = self.draw_bouwjaar()
        woningtype = "EGW" if (mix["egw"] < self.region.target_egw) != (rng.random() < 0.1) else "MGW"
        style = "straat" if woningtype == "EGW" else pick(rng, {"galerij": .4, "portiek": .4, "letters": .2})
        old_centre = buurt.wijk_naam in self.region.monument_wijken or buurt.kern in self.region.monument_kernen
        monument = bouwjaar <= 1945 and mix["monument"] < TARGET_MONUMENT and (old_centre or rng.random() < 0.6)
        vve = woningtype == "MGW" and bouwjaar < 2000 and mix["vve"] < TARGET_VVE and rng.random() < 0.6
        niet_daeb = mix["niet_daeb"] < TARGET_NIET_DAEB and (bouwjaar >= 1985 or rng.random() < 0.25)
        label_mix = next(mix for upper, mix in LABEL_MIX_BY_PERIOD if bouwjaar <= upper)
        return ComplexSpec(
            complex_id=self.new_complex_id(), buurt=buurt, bouwjaar=bouwjaar, woningtype=woningtype,
            style=style, monument=monument, vve=vve, daeb=not niet_daeb, label_mix=label_mix,
            herkomst="bestaand", in_date=date_in_year(rng, bouwjaar),
        )

    def add_complex(self, spec: ComplexSpec, dwellings: int, extras: bool = True) -> list[Unit]:
        rng = self.rng
        mix = self.composition() if extras and spec.woningtype == "MGW" else {"pp": 1.0, "bog": 1.0}
        n_bog = int(rng.integers(1, 4)) if mix["bog"] < TARGET_BOG and rng.random() < 0.5 else 0
        n_pp = round(dwellings * rng.uniform(0.1, 0.25)) if mix["pp"] < TARGET_PP and dwellings >= 20 else 0
        addresses = self.addresses.block(spec.buurt.pc4, dwellings + n_bog, spec.style)
        base_label = pick(rng, spec.label_mix)
        units = [self.new_dwelling(spec, address, base_label) for address in addresses[:dwellings]]
        units += [self.new_other(spec, address, "BOG") for address in addresses[dwellings:]]
        if n_pp:
            garage = self.addresses.block(spec.buurt.pc4, n_pp, "galerij")
            units += [self.new_other(spec, address, "PP") for address in garage]
        self.assign_panden(spec, units)
        self.complex_daeb.setdefault(spec.complex_id, spec.daeb)
        self.complexes.setdefault(spec.complex_id, []).extend(units)
        self.units.extend(units)
        return units

    def assign_panden(self, spec: ComplexSpec, units: list[Unit]) -> None:
        digits = spec.buurt.gemeente[2:]
        current = ""
        for index, unit in enumerate(units):
            if spec.woningtype == "EGW" or index % 16 == 0 or not current:
                current = self.bag.pand(digits, new=spec.new_build)
                if self.rng.random() < 0.02:
                    current += "," + self.bag.pand(digits, new=spec.new_build)
            unit.pand_ids = current

    def new_dwelling(self, spec: ComplexSpec, address: Address, base_label: str) -> Unit:
        rng = self.rng
        m2, kamers, wws = self.dwelling_size(spec.woningtype)
        if spec.new_build:
            wws = float(np.clip(wws + 25, 120, 220))
        daeb = spec.daeb and (spec.new_build or rng.random() > 0.03)
        year = max(spec.in_date.year, self.region.first_year)
        rent = self.dwelling_rent(daeb, wws, year)
        if spec.new_build and daeb:  # most new social homes are let below the aftoppingsgrens
            low, high = self.region.aftoppingsgrenzen[year]
            rent = rng.uniform(560 * self.region.rent_level, low - 1) if rng.random() < 0.6 \
                else rng.uniform(high, self.region.liberalisatiegrens[year] - 5)
            rent = round(float(rent), 2)
        label = base_label if spec.new_build or rng.random() < 0.7 else shift_label(
            base_label, int(rng.choice([-1, 1])), best="A++")
        if spec.new_build:
            label = pick(rng, NEW_BUILD_LABELS)
        return Unit(
            corp=self.cfg.slug, vhe_id=self.new_vhe_id(), complex_id=spec.complex_id, buurt=spec.buurt,
            bag_id=self.bag.vbo(spec.buurt.gemeente[2:], new=spec.new_build), pand_ids="", address=address,
            eenheidsoort="WOO", woningtype=spec.woningtype, subtype=self.subtype(spec, address),
            bouwjaar=spec.bouwjaar, kamers=kamers, m2=m2, wws=wws, rent=rent, daeb=daeb,
            monument=spec.monument, vve=spec.vve, herkomst=spec.herkomst, in_date=spec.in_date,
            pfe0=pfe_in_class(rng, label),
            label_offset=int(rng.choice([-1, 1])) if rng.random() < 0.02 else 0,
            has_estimate=rng.random() < 0.5, bag_quirk=self.bag_quirk(), project=spec.project,
        )

    def new_other(self, spec: ComplexSpec, address: Address, soort: str) -> Unit:
        rng = self.rng
        m2 = float(rng.integers(12, 19)) if soort == "PP" else float(rng.integers(40, 250))
        rent = round(float(rng.uniform(45, 110) if soort == "PP" else rng.uniform(600, 2400)), 2)
        return Unit(
            corp=self.cfg.slug, vhe_id=self.new_vhe_id(), complex_id=spec.complex_id, buurt=spec.buurt,
            bag_id=self.bag.vbo(spec.buurt.gemeente[2:], new=spec.new_build), pand_ids="", address=address,
            eenheidsoort=soort, woningtype="", subtype="", bouwjaar=spec.bouwjaar, kamers=None, m2=m2,
            wws=None, rent=rent, daeb=False, monument=spec.monument, vve=spec.vve, herkomst=spec.herkomst,
            in_date=spec.in_date, pfe0=0.0, has_estimate=False, bag_quirk=self.bag_quirk(),
        )

    def subtype(self, spec: ComplexSpec, address: Address) -> str:
        if spec.woningtype == "EGW":
            return pick(self.rng, {"Tussenwoning": .6, "Hoekwoning": .3, "2-onder-1-kap": .08,
                                   "Vrijstaande woning": .02})
        if spec.style == "letters":
            return "Benedenwoning" if not address[2] else "Bovenwoning"
        return {"galerij": "Galerijwoning", "portiek": "Portiekwoning"}.get(spec.style, "Appartement")

    def bag_quirk(self) -> str:
        if self.cfg.bag_short_share:  # the export went through a spreadsheet: leading zero lost
            return "short" if self.rng.random() < self.cfg.bag_short_share else ""
        if self.cfg.slug != "ymere":
            return ""
        r = self.rng.random()
        return "short" if r < 0.005 else "missing" if r < 0.025 else ""

    # -- the simulation -------------------------------------------------------------------------------

    def run(self) -> list[Unit]:
        self.build_initial_stock()
        self.install_solar(self.region.first_year - 1)
        self.plan_works(self.region.first_year)
        for year in self.region.years:
            self.simulate_year(year)
        return self.units

    def build_initial_stock(self) -> None:
        for gemeente, share in self.cfg.gemeenten:
            target, count = round(self.cfg.size * share), 0
            while count < target:
                spec = self.existing_complex_spec(gemeente)
                size = int(self.rng.integers(6, 37) if spec.woningtype == "EGW" else self.rng.integers(12, 73))
                size = min(size, self.region.village_complex_max.get(spec.buurt.kern, size))
                units = self.add_complex(spec, min(size, max(target - count, 1)))
                count += len(units)

    def simulate_year(self, year: int) -> None:
        if year > self.region.first_year:
            self.index_rents(year)
        self.execute_sloop(year)
        self.execute_renovations(year)
        self.sell(year)
        if self.cfg.slug == "ymere":
            self.drop_silently(year)
        self.merge(year)
        self.split(year)
        self.transform(year)
        self.buy(year)
        self.build(year)
        if year > self.region.first_year:
            self.liberalise(year)
        self.install_solar(year)
        self.plan_works(year + 1)
        self.snapshot(year)

    def stock_count(self, day: dt.date) -> int:
        return sum(1 for u in self.units if u.active_at(day))

    def dwellings_at(self, day: dt.date) -> list[Unit]:
        return [u for u in self.units if u.is_woo and u.active_at(day)]

    def free_dwellings(self, year: int) -> list[Unit]:
        """Dwellings in exploitation since before `year`, without plans: candidates for mutations."""
        start = year_end(year - 1)
        return [u for u in self.dwellings_at(start) if u.plan is None and u.uit_date is None]

    def index_rents(self, year: int) -> None:
        rng = self.rng
        for unit in self.units:
            if not unit.active_at(dt.date(year, 7, 1)):
                continue
            if unit.is_woo and unit.daeb:
                rent = unit.rent * (1 + rng.uniform(0.02, 0.04))
                unit.rent = round(min(rent, self.region.liberalisatiegrens[year] - rng.uniform(0.0, 3.0)), 2)
            elif unit.is_woo:
                unit.rent = round(unit.rent * (1 + rng.uniform(0.025, 0.045)), 2)
            else:
                unit.rent = round(unit.rent * 1.03, 2)

    def execute_sloop(self, year: int) -> None:
        planned = [u for u in self.units if u.plan == (year, "sloop") and u.uit_date is None]
        for complex_id in dict.fromkeys(u.complex_id for u in planned):
            day = date_in_year(self.rng, year)
            for unit in planned:
                if unit.complex_id == complex_id:
                    unit.retire(day, "sloop")

    def execute_renovations(self, year: int) -> None:
        planned = [u for u in self.units if u.plan == (year, "renovatie")]
        for complex_id in dict.fromkeys(u.complex_id for u in planned):
            day = date_in_year(self.rng, year, 1, 11)
            for unit in (u for u in planned if u.complex_id == complex_id):
                new_pfe = pfe_in_class(self.rng, pick(self.rng, RENOVATION_LABELS))
                if unit.active_at(day) and new_pfe < unit.pfe_at(day):
                    unit.renovations.append((day, new_pfe))
                unit.plan, unit.plan_flagged = None, False

    def sell(self, year: int) -> None:
        candidates = self.free_dwellings(year)
        weights = [(3.0 if u.woningtype == "EGW" else 1.0) * (2.0 if u.vve else 1.0) for u in candidates]
        n = int(self.rng.poisson(self.region.rates['verkoop'] * self.stock_count(year_end(year - 1))))
        for unit in sample_without_replacement(self.rng, candidates, n, weights):
            unit.retire(date_in_year(self.rng, year), "verkoop")

    def drop_silently(self, year: int) -> None:
        """Ymere sells a few units and leaves them out of the next export without an uit record."""
        n = int(self.rng.integers(YMERE_SILENT_DROPS - 1, YMERE_SILENT_DROPS + 2))
        for unit in sample_without_replacement(self.rng, self.free_dwellings(year), n):
            unit.retire(date_in_year(self.rng, year), "verkoop")
            unit.silent = True

    def merge(self, year: int) -> None:
        if self.rng.random() >= 0.35:
            return
        free = [u for u in self.free_dwellings(year) if u.woningtype == "MGW" and u.address[3]]
        by_entrance: dict[tuple[str, int], list[Unit]] = {}
        for unit in free:
            by_entrance.setdefault((unit.address[0], unit.address[1]), []).append(unit)
        pairs = [units for units in by_entrance.values() if len(units) >= 2]
        if not pairs:
            return
        survivor, absorbed = pairs[int(self.rng.integers(len(pairs)))][:2]
        absorbed.retire(date_in_year(self.rng, year), "samenvoeging")
        survivor.m2 += absorbed.m2
        survivor.kamers = min(6, (survivor.kamers or 1) + 1)
        survivor.wws = min(220.0, (survivor.wws or 100.0) + 20)

    def split(self, year: int) -> None:
        if self.rng.random() >= 0.5:
            return
        candidates = [u for u in self.free_dwellings(year)
                      if u.m2 >= 85 and not u.address[2] and not u.address[3] and not u.monument]
        for original in sample_without_replacement(self.rng, candidates, 1):
            day = date_in_year(self.rng, year, 1, 8)
            original.retire(day, "overig")
            new_addresses = self.addresses.beside(original.address, ("HG", "1"))
            spec = self.spec_like(original, "splitsing", day + dt.timedelta(days=int(self.rng.integers(30, 120))))
            for address in new_addresses:
                unit = self.new_dwelling(spec, address, pick(self.rng, {"A": .5, "B": .35, "C": .15}))
                unit.m2 = round(original.m2 / 2 - 2)
                unit.kamers, unit.subtype = 2, "Benedenwoning" if address[3] == "HG" else "Bovenwoning"
                unit.pand_ids = original.pand_ids
                self.register(unit)

    def transform(self, year: int) -> None:
        """A shop or office becomes 2-4 dwellings (or a former school elsewhere does)."""
        if self.rng.random() >= 0.4:
            return
        bogs = [u for u in self.units if u.eenheidsoort == "BOG" and u.active_at(year_end(year - 1))
                and u.uit_date is None]
        count = int(self.rng.integers(2, 5))
        day = date_in_year(self.rng, year, 1, 8)
        in_date = day + dt.timedelta(days=int(self.rng.integers(60, 120)))
        if bogs:
            source = bogs[int(self.rng.integers(len(bogs)))]
            source.retire(day, "overig")
            spec = self.spec_like(source, "transformatie", in_date)
            addresses = self.addresses.beside(source.address, [str(i) for i in range(1, count + 1)])
            if len(addresses) < count:  # the entrance already has these toevoegingen: new numbers
                addresses += self.addresses.block(spec.buurt.pc4, count - len(addresses), "galerij")
            pand_ids = source.pand_ids
        else:
            spec = self.existing_complex_spec(self.pick_gemeente())
            spec.herkomst, spec.in_date, spec.complex_id = "transformatie", in_date, self.new_complex_id()
            spec.woningtype, spec.style = "MGW", "galerij"
            addresses = self.addresses.block(spec.buurt.pc4, count, "galerij")
            pand_ids = self.bag.pand(spec.buurt.gemeente[2:])
        for address in addresses:
            unit = self.new_dwelling(spec, address, pick(self.rng, {"A+": .2, "A": .6, "B": .2}))
            unit.pand_ids = pand_ids
            self.register(unit)

    def spec_like(self, unit: Unit, herkomst: str, in_date: dt.date) -> ComplexSpec:
        assert unit.buurt is not None
        return ComplexSpec(
            complex_id=unit.complex_id, buurt=unit.buurt, bouwjaar=unit.bouwjaar, woningtype="MGW",
            style="portiek", monument=unit.monument, vve=unit.vve, daeb=True, label_mix={"A": 1.0},
            herkomst=herkomst, in_date=in_date,
        )

    def register(self, unit: Unit) -> None:
        unit.bag_id = self.bag.vbo(unit.gemeente[2:], new=True)
        self.complexes.setdefault(unit.complex_id, []).append(unit)
        self.complex_daeb.setdefault(unit.complex_id, True)
        self.units.append(unit)

    def buy(self, year: int) -> None:
        """Aankoop: single existing dwellings bought on the market, booked in one 'verspreid' complex."""
        n = int(self.rng.poisson(self.region.rates['aankoop'] * self.stock_count(year_end(year - 1))))
        if n == 0:
            return
        complex_id = self.new_complex_id()
        for _ in range(n):
            spec = self.existing_complex_spec(self.pick_gemeente())
            spec.complex_id, spec.herkomst = complex_id, "aankoop"
            spec.bouwjaar = int(self.rng.integers(1920, 1996))
            spec.in_date, spec.daeb, spec.monument = date_in_year(self.rng, year), True, False
            spec.label_mix = next(mix for upper, mix in LABEL_MIX_BY_PERIOD if spec.bouwjaar <= upper)
            self.add_complex(spec, 1, extras=False)

    def build(self, year: int) -> None:
        n = round(self.region.rates['nieuwbouw'] * self.stock_count(year_end(year - 1)) * self.rng.uniform(0.5, 1.5))
        parts = [n] if n < 25 else [n // 2, n - n // 2]
        for phase, size in enumerate(parts, start=1):
            if size <= 0:
                continue
            gemeente = self.pick_gemeente()
            buurt = self.pick_buurt(gemeente, new_build=True)
            woningtype = "MGW" if self.rng.random() < 0.65 else "EGW"
            spec = ComplexSpec(
                complex_id=self.new_complex_id(), buurt=buurt, bouwjaar=year, woningtype=woningtype,
                style="straat" if woningtype == "EGW" else pick(self.rng, {"galerij": .6, "portiek": .4}),
                monument=False, vve=False, daeb=self.rng.random() < 0.8, label_mix=NEW_BUILD_LABELS,
                herkomst="nieuwbouw", in_date=date_in_year(self.rng, year, 2, 12), new_build=True,
                project=f"Nieuwbouw {buurt.naam.split(',')[0]} fase {phase}",
            )
            units = self.add_complex(spec, size, extras=False)
            if self.rng.random() < 0.75:
                self.put_panels(units, year)

    def liberalise(self, year: int) -> None:
        candidates = [u for u in self.free_dwellings(year) if u.daeb and (u.wws or 0) >= 135]
        n = int(self.rng.poisson(self.region.rates['liberalisatie'] * self.stock_count(year_end(year - 1))))
        for unit in sample_without_replacement(self.rng, candidates, n):
            unit.daeb = False
            unit.rent = round(self.region.liberalisatiegrens[year] * float(self.rng.uniform(1.03, 1.3)), 2)

    def put_panels(self, units: Iterable[Unit], year: int) -> None:
        wp = int(self.rng.choice(self.region.panel_wp[year]))
        for unit in units:
            if unit.is_woo:
                unit.panels = int(self.rng.integers(8, 15) if unit.woningtype == "EGW" else self.rng.integers(6, 9))
                unit.wp = wp

    def install_solar(self, year: int) -> None:
        day = year_end(year)
        dwellings = self.dwellings_at(day)
        with_panels = sum(1 for u in dwellings if u.panels)
        target = self.region.solar_target[year] * len(dwellings)
        groups: dict[str, list[Unit]] = {}
        for unit in dwellings:
            if not unit.panels and unit.plan is None:
                groups.setdefault(unit.complex_id, []).append(unit)
        keys = list(groups)
        weights = [(3.0 if groups[k][0].woningtype == "EGW" else 1.0) * (0.05 if groups[k][0].monument else 1.0)
                   for k in keys]
        for key in sample_without_replacement(self.rng, keys, len(keys), weights):
            if with_panels >= target:
                break
            self.put_panels(groups[key], year)
            with_panels += len(groups[key])

    def plan_works(self, year: int) -> None:
        """Decide sloop and renovations for `year`; most are announced in the list of `year - 1`."""
        self.plan_sloop(year)
        self.plan_renovations(year)

    def plan_sloop(self, year: int) -> None:
        rng = self.rng
        n = int(rng.poisson(self.region.rates["sloop"] * self.stock_count(year_end(year - 1))))
        groups: dict[str, list[Unit]] = {}
        for unit in self.free_dwellings(year):
            if unit.woningtype == "MGW" and 1946 <= unit.bouwjaar <= 1975 and unit.herkomst == "bestaand":
                groups.setdefault(unit.complex_id, []).append(unit)
        keys = list(groups)
        weights = [0.2 + sum(label_for_pfe(u.pfe0) in EFG for u in groups[k]) / len(groups[k]) for k in keys]
        for key in sample_without_replacement(rng, keys, len(keys), weights):
            if n <= 0:
                break
            block = sorted(groups[key], key=lambda u: u.address)[:n]
            for unit in block:
                unit.plan, unit.plan_flagged = (year, "sloop"), rng.random() < 0.85
            n -= len(block)

    def plan_renovations(self, year: int) -> None:
        reference = year_end(year - 1)
        dwellings = self.dwellings_at(reference)
        efg = [u for u in dwellings if u.plan is None and label_for_pfe(u.pfe_at(reference)) in EFG]
        need = len(efg) - round(self.region.efg_target[year] * len(dwellings))
        groups: dict[str, list[Unit]] = {}
        for unit in efg:
            groups.setdefault(unit.complex_id, []).append(unit)
        keys = list(groups)
        weights = [len(groups[k]) * (0.08 if groups[k][0].monument else 1.0) * (0.3 if groups[k][0].vve else 1.0)
                   for k in keys]
        for key in sample_without_replacement(self.rng, keys, len(keys), weights):
            if need <= 0:
                break
            flagged = self.rng.random() < 0.5
            for unit in self.complexes[key]:
                if unit.is_woo and unit.plan is None and unit.active_at(reference) \
                        and unit.pfe_at(reference) > NTA_UPPER["C"] - 60:
                    unit.plan, unit.plan_flagged = (year, "renovatie"), flagged
            need -= len(groups[key])

    def snapshot(self, year: int) -> None:
        day = year_end(year)
        for unit in self.units:
            if unit.in_date > day or (unit.uit_date is not None and unit.uit_date.year < year):
                continue
            flagged = unit.plan_flagged and unit.plan is not None and (
                unit.plan[0] > year or (unit.plan[1] == "sloop" and unit.plan[0] == year))
            unit.states[year] = YearState(
                rent=unit.rent, daeb=unit.daeb, panels=unit.panels, wp=unit.wp, flagged=flagged,
                m2=unit.m2, kamers=unit.kamers, wws=unit.wws,
            )


# --------------------------------------------------------------------------------------------------
# EP-online certificates
# --------------------------------------------------------------------------------------------------

class CertificateFactory:
    """Draws certificate histories from each dwelling's energy timeline."""

    def __init__(self, rng: np.random.Generator, region: Region | None = None) -> None:
        self.rng = rng
        self.region = region or ZUID_KENNEMERLAND

    def houder(self, unit: Unit) -> str:
        if unit.corp and self.rng.random() < 0.6:
            return self.region.huisadviseur[unit.corp]
        houders = self.region.certificaathouders
        return houders[int(self.rng.integers(len(houders)))]

    def first_registration(self, unit: Unit) -> tuple[dt.date, str]:
        if unit.bouwjaar >= 2008 and unit.herkomst == "bestaand":
            return unit.in_date - dt.timedelta(days=int(self.rng.integers(0, 60))), "Nieuwbouw"
        year = 2008 + pick_index(self.rng, self.region.first_registration_weights)
        return date_in_year(self.rng, year), "Bestaand"

    def history(self, unit: Unit) -> list[Certificate]:
        rng = self.rng
        if not unit.is_woo:
            return []
        certificates: list[Certificate] = []
        if unit.herkomst in ("bestaand", "aankoop"):
            if rng.random() < 0.92:
                day, status = self.first_registration(unit)
                certificates.append(self.certificate(unit, day, status))
        elif rng.random() < 0.95:
            status = "Nieuwbouw" if unit.herkomst == "nieuwbouw" else "Bestaand"
            certificates.append(self.certificate(unit, unit.in_date - dt.timedelta(days=int(rng.integers(0, 60))),
                                                 status))
        for when, _ in unit.renovations:
            if rng.random() < 0.92:
                certificates.append(self.certificate(unit, when + dt.timedelta(days=int(rng.integers(20, 270)))))
        certificates = [c for c in certificates if c.registratie <= EP_LAST_REGISTRATION
                        and (unit.uit_date is None or c.registratie <= unit.uit_date)]
        certificates += self.renewals(unit, certificates)
        return sorted(certificates, key=lambda c: c.registratie)

    def renewals(self, unit: Unit, certificates: list[Certificate]) -> list[Certificate]:
        """Expired labels are renewed with a NTA 8800 label now and then, never for gone units."""
        renewals: list[Certificate] = []
        while certificates or renewals:
            latest = max([*certificates, *renewals], key=lambda c: c.registratie)
            expiry = add_years(latest.registratie, 10)
            day = expiry + dt.timedelta(days=int(self.rng.integers(-150, 240)))
            gone = unit.uit_date is not None and day > unit.uit_date
            if day > EP_LAST_REGISTRATION or gone or self.rng.random() > 0.8:
                break
            renewals.append(self.certificate(unit, day))
        return renewals

    def certificate(self, unit: Unit, registratie: dt.date, status: str = "Bestaand") -> Certificate:
        rng = self.rng
        opname = registratie - dt.timedelta(days=int(rng.integers(0, 75)))
        pfe = unit.pfe_at(max(opname, registratie - dt.timedelta(days=1)))
        houder = self.houder(unit)
        gebouwtype = "Eengezinswoning" if unit.woningtype == "EGW" else "Appartement"
        if registratie < dt.date(2021, 1, 1):
            klasse = label_for_pfe(pfe)
            if rng.random() < 0.15:
                klasse = shift_label(klasse, int(rng.choice([-1, 1])), best="A++")
            klasse = shift_label(klasse, 0, best="A++")
            low, high = OLD_EI_RANGE[klasse]
            if status == "Nieuwbouw" or registratie.year < 2015:
                berekening = "NEN 7120" if status == "Nieuwbouw" or registratie.year >= 2012 else "ISSO 82.3"
            else:
                berekening = "Vereenvoudigd" if rng.random() < 0.65 else "NEN 7120"
            return Certificate(
                unit=unit, registratie=registratie, opname=opname, klasse=klasse, nta=False, status=status,
                berekeningstype=berekening, soort_opname="", houder=houder, gebouwtype=gebouwtype,
                gebouwsubtype=unit.subtype, energie_index=round(float(rng.uniform(low, high)), 2),
                bag_leeg=rng.random() < 0.01,
            )
        detail = status == "Nieuwbouw" or rng.random() < 0.55
        certificate = Certificate(
            unit=unit, registratie=registratie, opname=opname, klasse=label_for_pfe(pfe), nta=True,
            status=status, berekeningstype=NTA_DETAIL if detail else NTA_BASIS,
            soort_opname="Detailopname" if detail else "Basisopname", houder=houder, gebouwtype=gebouwtype,
            gebouwsubtype=unit.subtype, pfe=pfe, bag_leeg=rng.random() < 0.01,
            referentie=status == "Nieuwbouw" and rng.random() < 0.3,
        )
        certificate.extras = self.nta_extras(unit, pfe)
        return certificate

    def nta_extras(self, unit: Unit, pfe: float) -> dict[str, str]:
        rng = self.rng
        renewable = float(np.clip(70 - pfe / 5 + rng.normal(0, 6), 0, 95))
        return {
            "GebruiksoppervlakteThermischeZone": nl_number(unit.m2 * rng.uniform(1.0, 1.12), 1),
            "Compactheid": nl_number(rng.uniform(1.2, 2.1) if unit.woningtype == "EGW" else rng.uniform(0.6, 1.4)),
            "Energiebehoefte": nl_number(max(pfe, 20) * rng.uniform(0.5, 0.8)),
            "Warmtebehoefte": nl_number(max(pfe, 15) * rng.uniform(0.3, 0.6)),
            "PrimaireFossieleEnergieEMGForfaitair": nl_number(pfe + rng.uniform(0, 25)),
            "AandeelHernieuwbareEnergie": nl_number(renewable, 1),
            "AandeelHernieuwbareEnergieEMGForfaitair": nl_number(max(renewable - rng.uniform(0, 8), 0), 1),
            "Temperatuuroverschrijding": nl_number(rng.uniform(0.0, 2.5)),
            "BerekendeCO2Emissie": nl_number(max(pfe, 0) * 0.18),
            "BerekendeEnergieverbruik": nl_number(max(pfe, 10) * rng.uniform(0.55, 0.75)),
        }

    def utility(self, unit: Unit, registratie: dt.date) -> Certificate:
        rng = self.rng
        gebouwtype, sbi = UTILITY_TYPES[int(rng.integers(len(UTILITY_TYPES)))]
        nta = registratie >= dt.date(2021, 1, 1)
        klasse = pick(rng, {"A+++++": .04, "A++++": .05, "A+++": .06, "A++": .1, "A+": .1, "A": .2, "B": .1,
                            "C": .12, "D": .08, "E": .06, "F": .04, "G": .05} if nta
                      else {"A": .3, "B": .2, "C": .2, "D": .1, "E": .08, "F": .06, "G": .06})
        certificate = Certificate(
            unit=unit, registratie=registratie, opname=registratie - dt.timedelta(days=int(rng.integers(0, 90))),
            klasse=klasse, nta=nta, status="Bestaand", berekeningstype=NTA_DETAIL if nta else "NEN 7120",
            soort_opname="Detailopname" if nta else "", houder=self.houder(unit), gebouwklasse="U",
            gebouwtype=gebouwtype, sbi=sbi,
        )
        if nta:
            certificate.pfe = round(float(rng.uniform(-30, 90) + LABEL_ORDER.index(klasse.replace("A+++++", "A++++"))
                                          * 45), 1)
            certificate.extras = self.nta_extras(unit, certificate.pfe)
        else:
            certificate.energie_index = round(float(rng.uniform(0.6, 2.8)), 2)
        return certificate

    def add_same_day_duplicates(self, units: list[Unit], count: int) -> None:
        """A few dwellings get a second certificate registered on the same day (one class apart)."""
        candidates = [u for u in units if any(c.nta for c in u.certificates)]
        for unit in sample_without_replacement(self.rng, candidates, count):
            original = next(c for c in reversed(unit.certificates) if c.nta)
            assert original.pfe is not None
            klasse = shift_label(original.klasse, int(self.rng.choice([-1, 1])), best="A+++")
            pfe = pfe_in_class(self.rng, klasse)
            duplicate = Certificate(
                unit=unit, registratie=original.registratie, opname=original.opname - dt.timedelta(days=3),
                klasse=klasse, nta=True, status=original.status, berekeningstype=NTA_BASIS,
                soort_opname="Basisopname", houder=self.houder(unit), gebouwtype=original.gebouwtype,
                gebouwsubtype=original.gebouwsubtype, pfe=pfe, extras=self.nta_extras(unit, pfe),
            )
            unit.certificates.insert(unit.certificates.index(original), duplicate)


def build_noise_dwellings(addresses: AddressBook, bag: BagRegistry, rng: np.random.Generator,
                          areas: Sequence[tuple[str, tuple[int, ...], int]] = EP_NOISE_AREAS) -> list[Unit]:
    """Private dwellings in and around the region: they are in EP-online but not in any stock list."""
    units: list[Unit] = []
    for digits, pc4s, count in areas:
        while len([u for u in units if u.bag_id.startswith(digits)]) < count:
            woningtype = "EGW" if rng.random() < 0.5 else "MGW"
            style = "straat" if woningtype == "EGW" else pick(rng, {"galerij": .5, "portiek": .5})
            block = addresses.block(int(rng.choice(pc4s)), int(rng.integers(4, 16)), style)
            bouwjaar = int(rng.integers(1900, 2021))
            label_mix = next(mix for upper, mix in LABEL_MIX_BY_PERIOD if bouwjaar <= upper)
            pand = bag.pand(digits)
            for address in block:
                m2 = float(rng.integers(35, 160))
                unit = Unit(
                    corp="", vhe_id="", complex_id="", buurt=None, bag_id=bag.vbo(digits), pand_ids=pand,
                    address=address, eenheidsoort="WOO", woningtype=woningtype,
                    subtype="Tussenwoning" if woningtype == "EGW" else "Appartement", bouwjaar=bouwjaar,
                    kamers=None, m2=m2, wws=None, rent=0.0, daeb=False, monument=False, vve=False,
                    herkomst="bestaand", in_date=date_in_year(rng, bouwjaar), pfe0=pfe_in_class(rng, pick(rng, label_mix)),
                )
                if rng.random() < 0.2:
                    unit.renovations.append((random_date(rng, dt.date(2016, 1, 1), dt.date(2024, 12, 31)),
                                             pfe_in_class(rng, pick(rng, RENOVATION_LABELS))))
                units.append(unit)
    return units


def noise_certificates(units: list[Unit], factory: CertificateFactory, rng: np.random.Generator) -> None:
    for unit in units:
        day = random_date(rng, max(dt.date(2010, 1, 1), unit.in_date), EP_LAST_REGISTRATION)
        unit.certificates = [factory.certificate(unit, day)]
        for when, _ in unit.renovations:
            later = when + dt.timedelta(days=int(rng.integers(20, 200)))
            if day < when and later <= EP_LAST_REGISTRATION:
                unit.certificates.append(factory.certificate(unit, later))


def utility_certificates(stock: list[Unit], addresses: AddressBook, bag: BagRegistry,
                         factory: CertificateFactory, rng: np.random.Generator,
                         areas: Sequence[tuple[str, tuple[int, ...], int]] = EP_NOISE_AREAS,
                         on_stock: int = EP_UTILITY_ON_STOCK, elsewhere: int = EP_UTILITY_NOISE) -> list[Certificate]:
    """Gebouwklasse U: mostly elsewhere, a handful on the corporations' own BOG units."""
    certificates: list[Certificate] = []
    bogs = [u for u in stock if u.eenheidsoort == "BOG"]
    for unit in sample_without_replacement(rng, bogs, on_stock):
        certificates.append(factory.utility(unit, random_date(rng, dt.date(2012, 1, 1), EP_LAST_REGISTRATION)))
    for _ in range(elsewhere):
        digits, pc4s, _count = areas[int(rng.integers(len(areas)))]
        address = addresses.block(int(rng.choice(pc4s)), 1, "galerij")[0]
        unit = Unit(
            corp="", vhe_id="", complex_id="", buurt=None, bag_id=bag.vbo(digits), pand_ids=bag.pand(digits),
            address=address, eenheidsoort="BOG", woningtype="", subtype="", bouwjaar=int(rng.integers(1950, 2021)),
            kamers=None, m2=float(rng.integers(80, 4000)), wws=None, rent=0.0, daeb=False, monument=False,
            vve=False, herkomst="bestaand", in_date=STOCK_START, pfe0=0.0,
        )
        certificates.append(factory.utility(unit, random_date(rng, dt.date(2012, 1, 1), EP_LAST_REGISTRATION)))
    return certificates


def ep_row(certificate: Certificate) -> list[str]:
    unit = certificate.unit
    postcode, number, letter, toevoeging = unit.address
    values = {
        "Postcode": postcode, "Huisnummer": str(number), "Huisletter": letter,
        "Huisnummertoevoeging": toevoeging,
        "BAGVerblijfsobjectID": "" if certificate.bag_leeg else unit.bag_id,
        "BAGPandIDs": unit.pand_ids, "Opnamedatum": ymd(certificate.opname),
        "Registratiedatum": ymd(certificate.registratie),
        "GeldigTot": ymd(add_years(certificate.registratie, 10)), "Energieklasse": certificate.klasse,
        "Berekeningstype": certificate.berekeningstype, "SoortOpname": certificate.soort_opname,
        "Status": certificate.status, "OpBasisVanReferentiegebouw": "Ja" if certificate.referentie else "Nee",
        "Certificaathouder": certificate.houder, "Gebouwklasse": certificate.gebouwklasse,
        "Gebouwtype": certificate.gebouwtype, "Gebouwsubtype": certificate.gebouwsubtype,
        "SBICode": certificate.sbi, "Bouwjaar": str(unit.bouwjaar),
        "Projectnaam": unit.project if certificate.status == "Nieuwbouw" else "",
        "Projectobject": f"bouwnummer {number}" if unit.project and certificate.status == "Nieuwbouw" else "",
        "EnergieIndex": nl_number(certificate.energie_index) if certificate.energie_index is not None else "",
        "PrimaireFossieleEnergie": nl_number(certificate.pfe) if certificate.pfe is not None else "",
        **certificate.extras,
    }
    if not certificate.nta:
        values["GebruiksoppervlakteThermischeZone"] = nl_number(unit.m2, 1)
    return [values.get(column, "") for column in EP_COLUMNS]


def write_ep_online(certificates: list[Certificate], rng: np.random.Generator,
                    extra: Sequence[Certificate] = (), extra_rng: np.random.Generator | None = None
                    ) -> tuple[Path, int]:
    """The total file: Zuid-Kennemerland's rows in their own shuffled order, then the other regions'."""
    rows = [ep_row(c) for c in certificates]
    order = rng.permutation(len(rows))
    extra_rows = [ep_row(c) for c in extra]
    extra_order = extra_rng.permutation(len(extra_rows)) if extra_rng is not None else range(len(extra_rows))
    buffer = io.StringIO()
    buffer.write(f"PublicatieDatum;{dmy(EP_PUBLICATIEDATUM)}\n")
    buffer.write(f"LaatstVerwerkteMutatievolgnummer;{EP_MUTATIEVOLGNUMMER}\n")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(EP_COLUMNS)
    writer.writerows(rows[int(i)] for i in order)
    writer.writerows(extra_rows[int(i)] for i in extra_order)
    path = LANDING / "ep_online" / f"{EP_NAME}.zip"
    write_zip(path, {f"{EP_NAME}.csv": buffer.getvalue().encode("utf-8-sig")})
    return path, len(rows) + len(extra_rows)


# --------------------------------------------------------------------------------------------------
# Corporation labels and the three stock-list formats
# --------------------------------------------------------------------------------------------------

def corporation_label(unit: Unit, year: int) -> str:
    """The label as the corporation administers it at 31-12-`year`."""
    if not unit.is_woo:
        return ""
    day = year_end(year)
    registered = [c for c in unit.certificates if c.registratie <= day and c.gebouwklasse == "W"]
    renovated = [when for when, _ in unit.renovations if when <= day]
    latest = registered[-1] if registered else None
    if renovated and (latest is None or latest.registratie < renovated[-1]):
        label = label_for_pfe(unit.pfe_at(day))
    elif latest is not None:
        label = latest.klasse
    elif unit.has_estimate or unit.herkomst != "bestaand":
        label = label_for_pfe(unit.pfe_at(day))
    else:
        return ""
    return shift_label(label, unit.label_offset, best="A++++")


def list_rows(units: list[Unit], year: int) -> list[tuple[Unit, YearState]]:
    """Rows of the stock list at 31-12-`year`: units in exploitation plus this year's leavers."""
    rows = [(u, u.states[year]) for u in units if year in u.states
            and not (u.silent and u.uit_date is not None and u.uit_date.year <= year)]
    return sorted(rows, key=lambda r: (r[0].complex_id, r[0].vhe_id))


def departure(unit: Unit, year: int) -> tuple[dt.date | None, str]:
    """Uit-exploitatie date and reason as known at 31-12-`year` (empty for later departures)."""
    if unit.uit_date is not None and unit.uit_date.year <= year:
        return unit.uit_date, unit.uit_reden
    return None, ""


def split_postcode(postcode: str) -> str:
    return f"{postcode[:4]} {postcode[4:]}"


ELAN_EENHEIDSOORT = {"WOO": "Woning", "PP": "Parkeerplaats", "BOG": "Bedrijfsruimte"}
ELAN_WONINGTYPE = {"EGW": "Eengezinswoning", "MGW": "Meergezinswoning", "": ""}
ELAN_REDEN = {"verkoop": "Verkoop", "sloop": "Sloop", "liberalisatie": "Liberalisatie",
              "samenvoeging": "Samenvoeging", "overig": "Overig", "": ""}
ELAN_HERKOMST = {"bestaand": "Bestaand", "nieuwbouw": "Nieuwbouw", "aankoop": "Aankoop",
                 "splitsing": "Splitsing", "transformatie": "Transformatie"}
PRE_REDEN = {"verkoop": "VK", "sloop": "SL", "liberalisatie": "LB", "samenvoeging": "SA", "overig": "OV", "": None}
PRE_HERKOMST = {"bestaand": "B", "nieuwbouw": "NB", "aankoop": "AK", "splitsing": "SP", "transformatie": "TR"}
YMERE_REDEN = {"verkoop": "SALE", "sloop": "DEMOLITION", "liberalisatie": "LIBERALISATION",
               "samenvoeging": "MERGER", "overig": "OTHER", "": ""}
YMERE_HERKOMST = {"bestaand": "EXISTING", "nieuwbouw": "NEW_BUILD", "aankoop": "PURCHASE",
                  "splitsing": "SPLIT", "transformatie": "TRANSFORMATION"}

ELAN_COLUMNS = (
    "VHE-nummer", "Complexnummer", "BAG VBO-id", "Postcode", "Huisnummer", "Huisletter", "Toevoeging",
    "Gemeente", "Wijkcode", "Buurtcode", "Eenheidsoort", "Woningtype", "Bouwjaar", "Aantal kamers",
    "Oppervlakte (m²)", "WWS-punten", "Netto kale huur", "DAEB", "Monument", "VvE", "Sloop/renovatie gepland",
    "Energielabel", "Aantal zonnepanelen", "Wp per paneel", "In exploitatie", "Uit exploitatie",
    "Reden uit exploitatie", "Herkomst",
)
PRE_COLUMNS = (
    "Eenheidnummer", "Complex", "Verblijfsobject-ID", "PC", "Huisnr", "Gemeentecode", "Wijk", "Buurt",
    "Soort eenheid", "EGW/MGW", "Bouwjaar", "Kamers", "m2 VVO", "Punten", "Kale huur", "Segment",
    "Rijksmonument", "VvE-lid", "Sloop gepland", "Label", "kWp PV", "Startdatum exploitatie",
    "Einddatum exploitatie", "Reden einde", "Herkomst",
)
YMERE_COLUMNS = (
    "unit_id", "cluster_id", "bag_vbo_id", "zipcode", "house_number", "house_letter",
    "house_number_addition", "municipality_code", "district_code", "neighbourhood_code", "unit_type",
    "dwelling_type", "construction_year", "rooms", "floor_area_m2", "wws_points", "net_rent", "daeb",
    "monument", "hoa", "demolition_planned", "energy_label", "solar_panels", "solar_wp", "start_date",
    "end_date", "end_reason", "origin",
)


def elan_row(unit: Unit, state: YearState, year: int) -> list[str]:
    assert unit.buurt is not None
    postcode, number, letter, toevoeging = unit.address
    yes = {True: "Ja", False: "Nee"}
    woo = unit.is_woo
    uit_date, uit_reden = departure(unit, year)
    return [
        unit.vhe_id, unit.complex_id, unit.bag_id, split_postcode(postcode), str(number), letter, toevoeging,
        GEMEENTE_NAMEN[unit.gemeente], unit.buurt.wijk_code, unit.buurt.code, ELAN_EENHEIDSOORT[unit.eenheidsoort],
        ELAN_WONINGTYPE[unit.woningtype], str(unit.bouwjaar), str(state.kamers) if state.kamers else "",
        compact_number(state.m2, ","), compact_number(state.wws, ",") if state.wws else "",
        nl_number(state.rent, 2, thousands=True), "DAEB" if state.daeb else "niet-DAEB", yes[unit.monument],
        yes[unit.vve], yes[state.flagged], corporation_label(unit, year), str(state.panels) if woo else "",
        str(state.wp) if state.panels else "", dmy(unit.in_date), dmy(uit_date),
        ELAN_REDEN[uit_reden], ELAN_HERKOMST[unit.herkomst],
    ]


def pre_huisnummer(address: Address) -> str | int:
    """Pre Wonen's one free-form column: 12, '12A', '12-2', '12A-1', '7 bis', '12-HG'."""
    _, number, letter, toevoeging = address
    if not letter and not toevoeging:
        return number
    text = f"{number}{letter}"
    if toevoeging == "bis":
        return f"{text} bis"
    return f"{text}-{toevoeging}" if toevoeging else text


def pre_row(unit: Unit, state: YearState, year: int) -> list[object]:
    assert unit.buurt is not None
    yes = {True: "J", False: "N"}
    kwp = round(state.panels * state.wp / 1000, 2) if state.panels else None
    uit_date, uit_reden = departure(unit, year)
    return [
        unit.vhe_id, unit.complex_id, unit.bag_id, unit.address[0], pre_huisnummer(unit.address), unit.gemeente,
        unit.buurt.wijk_code, unit.buurt.code, unit.eenheidsoort, unit.woningtype or None, unit.bouwjaar,
        state.kamers, state.m2, state.wws, state.rent, "D" if state.daeb else "ND", yes[unit.monument],
        yes[unit.vve], yes[state.flagged], corporation_label(unit, year) or None, kwp,
        unit.in_date, uit_date, PRE_REDEN[uit_reden], PRE_HERKOMST[unit.herkomst],
    ]


def ymere_bag(unit: Unit) -> str:
    if unit.bag_quirk == "missing":
        return ""
    return unit.bag_id.lstrip("0") if unit.bag_quirk == "short" else unit.bag_id


def ymere_row(unit: Unit, state: YearState, year: int) -> list[str]:
    assert unit.buurt is not None
    postcode, number, letter, toevoeging = unit.address
    flag = {True: "1", False: "0"}
    uit_date, uit_reden = departure(unit, year)
    return [
        unit.vhe_id, unit.complex_id, ymere_bag(unit), postcode, str(number), letter, toevoeging, unit.gemeente,
        unit.buurt.wijk_code, unit.buurt.code, unit.eenheidsoort, unit.woningtype, str(unit.bouwjaar),
        str(state.kamers) if state.kamers else "", compact_number(state.m2, "."),
        compact_number(state.wws, ".") if state.wws else "", f"{state.rent:.2f}", flag[state.daeb],
        flag[unit.monument], flag[unit.vve], flag[state.flagged], corporation_label(unit, year),
        str(state.panels) if unit.is_woo else "", str(state.wp) if state.panels else "", iso(unit.in_date),
        iso(uit_date), YMERE_REDEN[uit_reden], YMERE_HERKOMST[unit.herkomst],
    ]


# Noord-Veluwe and Rijnstreek exports (formats of mappings/bezit/uwoon.yaml, omnia_wonen.yaml,
# woonforte.yaml and habeko_wonen.yaml). Where a quirk hits only some rows, a fixed rule on the
# unit's own numbers decides, so the same unit shows the same quirk in every year's list.

UWOON_COLUMNS = (
    "Eenheidnr", "Clusternr", "Clusternaam", "BAG-VBO", "Postcode", "Huisnr", "Huisletter", "Huisnr.toev.",
    "Gemeente", "Wijkcode CBS", "Buurtcode CBS", "Eenheidtype", "Bouwvorm", "Bouwjaar", "Aantal kamers",
    "Opp. (m²)", "Punten", "Netto huur", "DAEB", "Rijksmonument", "VvE", "Sloop", "Energielabel",
    "Aantal PV", "Wp PV", "Datum in expl.", "Datum uit expl.", "Reden uit expl.", "Herkomst",
)
UWOON_BOUWVORM = {"EGW": "Eengezins", "MGW": "Meergezins", "": ""}
OMNIA_COLUMNS = (
    "Eenheid ID", "Complex ID", "BAG VBO ID", "Straat huisnummer toevoeging", "Postcode", "Gemeente", "Wijk",
    "Buurt", "Soort", "Type", "Bouwjaar", "Kamers", "Oppervlakte", "WWS punten", "Kale huur", "DAEB",
    "Monument", "VvE", "Sloop gepland", "Label", "Vermogen PV (kWp)", "Start exploitatie", "Einde exploitatie",
    "Reden einde", "Herkomst",
)
OMNIA_STRATEN = (
    "Stationslaan", "Vondellaan", "Hortuslaan", "Deucalionweg", "Smeepoortstraat", "Bruggestraat", "Hoogstraat",
    "Vijhestraat", "Luttekepoortstraat", "Parkweg", "Burgemeester de Meesterstraat", "Van Maerlantstraat",
    "Hobbemastraat", "Jacob Catsstraat", "Tesselschadelaan", "Bilderdijklaan", "Ericalaan", "Drielandendreef",
    "Graaf Ottoweg", "1e Dwarsweg", "Sypelweg", "Lorentzstraat", "Selhorstweg", "Oosteinde", "Friese Hoek",
    "Zeebuurtweg", "Havendam", "Strandboulevard", "Weiland", "Kruiskamp", "Ganzenweide", "Hierderweg",
    "Zuiderzeestraatweg", "Tonsel", "Slichtenhorsterweg", "2e Haven",
)
WOONFORTE_COLUMNS = (
    "BUKRS", "SWENR", "SMENR", "ZZBAGVBO", "PSTLZ", "HOUSE_NUM1", "ZZCBSGEM", "ZZCBSWIJK", "ZZCBSBUURT",
    "SNUNR", "ZZBOUWVORM", "BAUJAHR", "ANZZIMMER", "FLAECHE_VVO", "ZZWWSPUNT", "NETTOKALT", "ZZDAEB",
    "ZZMONUMENT", "ZZVVE", "ZZSLOOP", "ZZLABEL", "ZZPV_ANZ", "ZZPV_WP", "VALIDFROM", "VALIDTO",
    "ZZUITREDEN", "ZZHERKOMST",
)
WOONFORTE_NEW_LAYOUT = 2018  # earlier lists carry the older ALV header FLAECHE instead of FLAECHE_VVO
WOONFORTE_SNUNR = {"WOO": "01", "PP": "02", "BOG": "03"}
WOONFORTE_REDEN = {"verkoop": "V", "sloop": "S", "liberalisatie": "L", "samenvoeging": "C", "overig": "O", "": ""}
WOONFORTE_HERKOMST = {"bestaand": "B", "nieuwbouw": "N", "aankoop": "A", "splitsing": "P", "transformatie": "T"}
HABEKO_COLUMNS = (
    "VHE", "Complex", "BAG-ID verblijfsobject", "Postcode", "Huisnummer", "Huisletter", "Toevoeging",
    "Gemeente", "Wijk", "Buurt", "Type eenheid", "Bouwvorm", "Bouwjaar", "Kamers", "GBO m²", "WWS-punten",
    "Netto huur", "Segment", "Monument", "VvE", "Sloop/renovatie", "Energielabel", "Zonnepanelen (st.)",
    "Wp/paneel", "Datum in exploitatie", "Datum uit exploitatie", "Reden uit exploitatie", "Herkomst",
)
HABEKO_REDEN = {"verkoop": "Verkocht", "sloop": "Gesloopt", "liberalisatie": "Geliberaliseerd",
                "samenvoeging": "Samengevoegd", "overig": "Anders", "": None}
HABEKO_HERKOMST = {"bestaand": "Bestaand bezit", "nieuwbouw": "Nieuwbouw", "aankoop": "Aangekocht",
                   "splitsing": "Gesplitst", "transformatie": "Transformatie"}


def digits_of(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def complex_names(units: list[Unit]) -> dict[str, str]:
    """Uwoon's 'Clusternaam' (drift): buurt and building year, the project, or 'verspreid bezit'."""
    names: dict[str, str] = {}
    for unit in sorted(units, key=lambda u: u.vhe_id):
        if unit.complex_id in names or unit.buurt is None:
            continue
        if unit.herkomst == "aankoop":
            names[unit.complex_id] = f"Verspreid bezit – aankoop {unit.in_date.year}"
        elif unit.project:
            names[unit.complex_id] = unit.project.replace(" fase ", " – fase ")
        else:
            names[unit.complex_id] = f"{unit.buurt.naam} – {unit.bouwjaar}"
    return names


def street_names(units: list[Unit]) -> dict[str, str]:
    """One street per postcode for Omnia's combined address column (streets are not simulated)."""
    postcodes = sorted({u.address[0] for u in units})
    order = make_rng(HARDERWIJK.stream + 99).permutation(len(postcodes))
    return {postcodes[int(i)]: OMNIA_STRATEN[rank % len(OMNIA_STRATEN)] for rank, i in enumerate(order)}


def spaced_postcode(postcode: str) -> bool:
    """Some addresses were typed with a blank in the postcode ('3844 AB'): a fixed share."""
    return (ord(postcode[-1]) + ord(postcode[-2])) % 5 == 0


def uwoon_row(unit: Unit, state: YearState, year: int, names: dict[str, str]) -> list[str]:
    assert unit.buurt is not None
    postcode, number, letter, toevoeging = unit.address
    yes = {True: "J", False: "N"}
    uit_date, uit_reden = departure(unit, year)
    soort = {"WOO": "Woning", "PP": "Garage"}.get(unit.eenheidsoort) or ("Winkel" if unit.m2 < 120 else "Bedrijfsruimte")
    return [
        unit.vhe_id, unit.complex_id, names[unit.complex_id], ymere_bag(unit),
        split_postcode(postcode) if spaced_postcode(postcode) else postcode, str(number), letter, toevoeging,
        unit.buurt.kern.upper(), unit.buurt.wijk_code, unit.buurt.code, soort, UWOON_BOUWVORM[unit.woningtype],
        str(unit.bouwjaar), str(state.kamers) if state.kamers else "", compact_number(state.m2, ","),
        compact_number(state.wws, ",") if state.wws else "", f"{state.rent:.2f}".replace(".", ","),
        yes[state.daeb], yes[unit.monument], yes[unit.vve], yes[state.flagged], corporation_label(unit, year),
        str(state.panels) if state.panels else "", str(state.wp) if state.panels else "", ymd(unit.in_date),
        ymd(uit_date), ELAN_REDEN[uit_reden], ELAN_HERKOMST[unit.herkomst],
    ]


def omnia_address(unit: Unit, streets: dict[str, str]) -> str:
    postcode, number, letter, toevoeging = unit.address
    house = f"{number} {letter}" if letter and number % 3 == 0 else f"{number}{letter}"
    if toevoeging == "bis":
        house += " bis"
    elif toevoeging:
        house += f"-{toevoeging}"
    return f"{streets[postcode]} {house}"


def bi_number(value: float) -> str:
    """A BI tool's decimal: '702.45', '610', '880.5'."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def omnia_row(unit: Unit, state: YearState, year: int, streets: dict[str, str]) -> list[str]:
    assert unit.buurt is not None
    flag = {True: "true", False: "false"}
    uit_date, uit_reden = departure(unit, year)
    parking = unit.eenheidsoort == "PP"
    label = corporation_label(unit, year)
    postcode = unit.address[0]
    return [
        unit.vhe_id, unit.complex_id, "NULL" if parking else unit.bag_id, omnia_address(unit, streets),
        split_postcode(postcode) if spaced_postcode(postcode) else postcode, "Harderwijk",
        "NULL" if parking else unit.buurt.wijk_code, "NULL" if parking else unit.buurt.code, unit.eenheidsoort,
        unit.woningtype or "NULL", str(unit.bouwjaar), str(state.kamers) if state.kamers else "",
        bi_number(state.m2), bi_number(state.wws) if state.wws else "", bi_number(state.rent), flag[state.daeb],
        flag[unit.monument], flag[unit.vve], flag[state.flagged], label or "NULL",
        bi_number(state.panels * state.wp / 1000) if state.panels else "NULL", f"{iso(unit.in_date)} 00:00:00",
        f"{iso(uit_date)} 00:00:00" if uit_date else "NULL", uit_reden or "NULL", unit.herkomst,
    ]


def sap_date(day: dt.date | None, empty: str) -> str:
    return day.strftime("%d.%m.%Y") if day else empty


def woonforte_row(unit: Unit, state: YearState, year: int) -> list[str]:
    assert unit.buurt is not None
    postcode, number, letter, toevoeging = unit.address
    check = {True: "X", False: ""}
    uit_date, uit_reden = departure(unit, year)
    number_text = f"{number}{letter.lower()}" + (" bis" if toevoeging == "bis" else f"-{toevoeging}" if toevoeging else "")
    cbs = [unit.buurt.gemeente[2:], unit.buurt.wijk_code[2:], unit.buurt.code[2:]]
    if digits_of(unit.vhe_id) % 3 == 0:  # the export lost the leading zeros of these units' CBS codes
        cbs = [c.lstrip("0") for c in cbs]
    unknown_start = unit.herkomst == "bestaand" and unit.bouwjaar < 1950 and digits_of(unit.vhe_id) % 4 == 0
    return [
        "WF01", unit.complex_id, unit.vhe_id, unit.bag_id,
        split_postcode(postcode) if not spaced_postcode(postcode) else postcode, number_text, *cbs,
        WOONFORTE_SNUNR[unit.eenheidsoort], {"EGW": "EFH", "MGW": "MFH", "": ""}[unit.woningtype],
        str(unit.bouwjaar), str(state.kamers) if state.kamers else "", nl_number(state.m2, 2, thousands=True),
        nl_number(state.wws, 2) if state.wws else "", nl_number(state.rent, 2, thousands=True), check[state.daeb],
        check[unit.monument], check[unit.vve], check[state.flagged], corporation_label(unit, year),
        str(state.panels) if state.panels else "", str(state.wp) if state.panels else "",
        "00.00.0000" if unknown_start else sap_date(unit.in_date, "00.00.0000"), sap_date(uit_date, "31.12.9999"),
        WOONFORTE_REDEN[uit_reden], WOONFORTE_HERKOMST[unit.herkomst],
    ]


def excel_date(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime(day.year, day.month, day.day) if day else None


def habeko_row(unit: Unit, state: YearState, year: int) -> list[object]:
    assert unit.buurt is not None
    postcode, number, letter, toevoeging = unit.address
    yes = {True: "Ja", False: "Nee"}
    uit_date, uit_reden = departure(unit, year)
    vhe = int(unit.vhe_id)
    soort = {"WOO": "Woning", "BOG": "Bedrijfsruimte"}.get(unit.eenheidsoort) or (
        "Garage" if unit.m2 >= 15 else "Parkeerplaats")
    rent: object = state.rent
    if vhe % 37 == 0:  # typed over by hand
        rent = f"€ {nl_number(state.rent, 2, thousands=True)}"
    label: str | None = corporation_label(unit, year) or None
    if label is None and unit.is_woo:
        label = "Onbekend" if vhe % 4 == 0 else "Geen label"
    return [
        vhe, unit.complex_id, int(unit.bag_id) if unit.eenheidsoort != "PP" else None,
        split_postcode(postcode) if vhe % 2 else postcode, number, letter or None, toevoeging or None,
        "Alphen a/d Rijn" if vhe % 6 == 0 else "Alphen aan den Rijn", unit.buurt.wijk_code, unit.buurt.code, soort,
        {"EGW": "Grondgebonden", "MGW": "Gestapeld"}.get(unit.woningtype), unit.bouwjaar, state.kamers,
        state.m2, state.wws, rent, "DAEB" if state.daeb else "Niet-DAEB", yes[unit.monument], yes[unit.vve],
        state.flagged, label, state.panels or None, state.wp if state.panels else None, excel_date(unit.in_date),
        excel_date(uit_date), HABEKO_REDEN[uit_reden], HABEKO_HERKOMST[unit.herkomst],
    ]


def write_habeko_xlsx(path: Path, rows: list[list[object]], year: int) -> None:
    """Report layout: an explanation sheet first; on 'Bezit' a title block and the header on row 4."""
    workbook = Workbook()
    info = workbook.active
    assert info is not None
    info.title = "Toelichting"
    info.append(["Bezitslijst Habeko Wonen"])
    info.append([f"Peildatum 31-12-{year}: alle eenheden in exploitatie plus de eenheden die in {year} "
                 "uit exploitatie gingen."])
    info.append(["De lijst staat op het werkblad 'Bezit'."])
    sheet = workbook.create_sheet("Bezit")
    sheet.append(["Habeko Wonen – bezitslijst"])
    sheet.append([f"Peildatum: 31-12-{year}"])
    sheet.append([])
    sheet.append(list(HABEKO_COLUMNS))
    for row in rows:
        sheet.append(row)
    for column in (HABEKO_COLUMNS.index("Datum in exploitatie") + 1, HABEKO_COLUMNS.index("Datum uit exploitatie") + 1):
        for (cell,) in sheet.iter_rows(min_row=5, min_col=column, max_col=column):
            cell.number_format = "DD-MM-YYYY"
    sheet.freeze_panes = "A5"
    workbook.properties.creator = "Habeko Wonen rapportage"
    workbook.properties.created = dt.datetime(2026, 1, 2, 7, 30, 0)
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_zip(path, normalised_xlsx_members(buffer.getvalue()))


def stock_list_path(slug: str, year: int, extension: str) -> Path:
    return LANDING / "bezit" / slug / f"bezitslijst_{slug}_{year}-12-31.{extension}"


def write_stock_lists(slug: str, units: list[Unit], years: Sequence[int] = YEARS) -> list[tuple[Path, int]]:
    written = []
    names = complex_names(units) if slug == "uwoon" else {}
    streets = street_names(units) if slug == "omnia_wonen" else {}
    for year in years:
        rows = list_rows(units, year)
        if slug == "uwoon":
            path = stock_list_path(slug, year, "csv")
            lines = ["\t".join(UWOON_COLUMNS) + "\t", *("\t".join(uwoon_row(u, s, year, names)) + "\t" for u, s in rows)]
            write_bytes(path, ("\r\n".join(lines) + "\r\n").encode("cp1252"))
        elif slug == "omnia_wonen":
            path = stock_list_path(slug, year, "csv")
            lines = ["|".join(OMNIA_COLUMNS), *("|".join(omnia_row(u, s, year, streets)) for u, s in rows)]
            write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
        elif slug == "woonforte":
            path = stock_list_path(slug, year, "csv")
            header = [c if c != "FLAECHE_VVO" or year >= WOONFORTE_NEW_LAYOUT else "FLAECHE" for c in WOONFORTE_COLUMNS]
            text = csv_text(header, [woonforte_row(u, s, year) for u, s in rows], ";", "\r\n")
            write_bytes(path, text.encode("utf-8-sig"))
        elif slug == "habeko_wonen":
            path = stock_list_path(slug, year, "xlsx")
            write_habeko_xlsx(path, [habeko_row(u, s, year) for u, s in rows], year)
        elif slug == "elan_wonen":
            path = stock_list_path(slug, year, "csv")
            text = csv_text(ELAN_COLUMNS, [elan_row(u, s, year) for u, s in rows], ";", "\r\n")
            write_bytes(path, text.encode("cp1252"))
        elif slug == "pre_wonen":
            path = stock_list_path(slug, year, "xlsx")
            write_xlsx(path, PRE_COLUMNS, [pre_row(u, s, year) for u, s in rows])
        else:
            path = stock_list_path(slug, year, "csv")
            text = csv_text(YMERE_COLUMNS, [ymere_row(u, s, year) for u, s in rows], ",", "\n")
            write_bytes(path, text.encode("utf-8-sig"))
        written.append((path, len(rows)))
    return written


# --------------------------------------------------------------------------------------------------
# Leefbaarometer
# --------------------------------------------------------------------------------------------------

DIMENSIONS = ("won", "fys", "vrz", "soc", "onv")


def leefbaarometer_scores(geography: dict[str, list[Buurt]], rng: np.random.Generator, region: Region
                          ) -> tuple[dict[str, dict[int, list[int]]], dict[str, float]]:
    """Per buurt and year the five dimension contributions in units of 0.0001 (so sums are exact)."""
    scores: dict[str, dict[int, list[int]]] = {}
    inhabitants: dict[str, float] = {}
    for buurten in geography.values():
        for buurt in buurten:
            level = region.lbm_wijk_effect.get(buurt.wijk_naam, region.lbm_default_effect) + rng.normal(0, 0.06)
            profile = rng.normal(0, 0.05, size=5)
            trend = rng.normal(0.012, 0.01)
            inhabitants[buurt.code] = float(rng.integers(800, 4500))
            scores[buurt.code] = {}
            for step, year in enumerate(LEEFBAAROMETER_YEARS):
                afw = level + trend * (step - 3) + rng.normal(0, 0.015)
                parts = profile + rng.normal(0, 0.01, size=5)
                parts += (afw - parts.sum()) / 5
                scores[buurt.code][year] = [int(round(p * 10_000)) for p in parts]
    return scores, inhabitants


def weighted_parts(codes: list[str], year: int, scores: dict[str, dict[int, list[int]]],
                   inhabitants: dict[str, float]) -> list[int]:
    total = sum(inhabitants[c] for c in codes)
    return [int(round(sum(scores[c][year][i] * inhabitants[c] for c in codes) / total)) for i in range(5)]


def score_row(code: str, name: str, year: int, parts: list[int]) -> list[str]:
    afw = sum(parts)
    lbm = round(LEEFBAAROMETER_REFERENCE * 10_000) + afw
    return [code, name, str(year), f"{lbm / 10_000:.4f}", f"{afw / 10_000:.4f}", *(f"{p / 10_000:.4f}" for p in parts)]


LeefbaarometerRows = dict[str, dict[int, list[list[str]]]]  # level -> year -> rows


def leefbaarometer_rows(region: Region, geography: dict[str, list[Buurt]], rng: np.random.Generator
                        ) -> LeefbaarometerRows:
    scores, inhabitants = leefbaarometer_scores(geography, rng, region)
    buurten = [b for bs in geography.values() for b in bs]
    padded = set()
    if region.lbm_padded:
        padded = {buurten[int(i)].code for i in rng.choice(len(buurten), region.lbm_padded, replace=False)}
    levels: LeefbaarometerRows = {"buurten": {}, "wijken": {}, "gemeenten": {}}
    for year in LEEFBAAROMETER_YEARS:
        rows = {level: levels[level].setdefault(year, []) for level in levels}
        for buurt in buurten:
            code = f"{buurt.code}  " if buurt.code in padded and year in (2020, 2022) else buurt.code
            rows["buurten"].append(score_row(code, buurt.naam, year, scores[buurt.code][year]))
        for wijk_code in dict.fromkeys(b.wijk_code for b in buurten):
            members = [b for b in buurten if b.wijk_code == wijk_code]
            parts = weighted_parts([b.code for b in members], year, scores, inhabitants)
            rows["wijken"].append(score_row(wijk_code, members[0].wijk_naam, year, parts))
        for gemeente, naam in region.gemeenten.items():
            parts = weighted_parts([b.code for b in geography[gemeente]], year, scores, inhabitants)
            rows["gemeenten"].append(score_row(gemeente, naam, year, parts))
    return levels


def write_leefbaarometer(parts: Sequence[LeefbaarometerRows]) -> list[tuple[Path, int]]:
    """One file per level; per measurement year the rows of each region in turn."""
    headers = {"buurten": ["bu_code", "bu_naam"], "wijken": ["wk_code", "wk_naam"], "gemeenten": ["gm_code", "gm_naam"]}
    levels = {level: (keys, [row for year in LEEFBAAROMETER_YEARS for part in parts for row in part[level][year]])
              for level, keys in headers.items()}
    written = []
    for level, (keys, rows) in levels.items():
        path = LANDING / "leefbaarometer" / f"Leefbaarometer-scores {level} 2002-2024.csv"
        header = [*keys, "jaar", "lbm", "afw", *DIMENSIONS]
        write_bytes(path, csv_text(header, rows, ",", "\n").encode("utf-8"))
        written.append((path, len(rows)))
    return written


# --------------------------------------------------------------------------------------------------
# Woonservice: seekers and lettings
# --------------------------------------------------------------------------------------------------

@dataclass
class Seeker:
    wz_id: str
    woongemeente: str
    woonkern: str
    birth: dt.date
    household: int
    income_2021: float
    inschrijf: dt.date
    doorstromer: bool
    activity: float
    statushouder: bool = False
    housed: tuple[str, str] | None = None  # (via, gemeente) in the current period
    region: Region | None = None  # None: Zuid-Kennemerland; income_2021 is the income in its first year

    def income(self, year: int) -> float:
        first_year = (self.region or ZUID_KENNEMERLAND).first_year
        return round(self.income_2021 * (1 + INCOME_GROWTH) ** (year - first_year))

    def klasse(self, year: int) -> str:
        return income_limits_class(year, self.income(year), self.household, self.region)


@dataclass(frozen=True)
class Period:
    begin: dt.date
    end: dt.date

    @property
    def year(self) -> int:
        return self.begin.year

    @property
    def fraction(self) -> float:
        return ((self.end - self.begin).days + 1) / 365


PERIODS = tuple(Period(dt.date(y, 1, 1), min(year_end(y), WOONSERVICE_END)) for y in YEARS)


def region_periods(region: Region) -> tuple[Period, ...]:
    end = region.woonservice_end or year_end(region.last_year)
    return tuple(Period(dt.date(y, 1, 1), min(year_end(y), end)) for y in region.years)


class UnitIndex:
    """Vectorised look-up of DAEB dwellings that can be let on a day (by gemeente and year)."""

    def __init__(self, units: list[Unit], years: Sequence[int] = YEARS) -> None:
        self.units = [u for u in units if u.is_woo]
        self.gemeente = np.array([u.gemeente for u in self.units])
        self.in_ord = np.array([u.in_date.toordinal() for u in self.units])
        self.uit_ord = np.array([u.uit_date.toordinal() if u.uit_date else 10**7 for u in self.units])
        self.last_let = np.full(len(self.units), -(10**7))
        self.by_year = {}
        for year in years:
            states = [u.states.get(year) for u in self.units]
            listed = [not (u.silent and u.uit_date is not None and u.uit_date.year == year) for u in self.units]
            self.by_year[year] = (
                np.array([bool(s and s.daeb and not s.flagged and ok) for s, ok in zip(states, listed, strict=True)]),
                np.array([s.rent if s else 0.0 for s in states]),
                np.array([(s.kamers or 0) if s else 0 for s in states]),
            )

    def available(self, gemeente: str, day: dt.date) -> np.ndarray:
        eligible, _, _ = self.by_year[day.year]
        ordinal = day.toordinal()
        return ((self.gemeente == gemeente) & eligible & (self.in_ord <= ordinal) & (self.uit_ord > ordinal)
                & (self.last_let < ordinal - 365))

    def rent(self, index: int, year: int) -> float:
        return float(self.by_year[year][1][index])


@dataclass
class LettingSlot:
    day: dt.date
    gemeente: str
    unit_index: int | None = None  # fixed for first lettings of new buildings


class WoonserviceSimulator:
    """A seeker population per period and the lettings that house some of them."""

    def __init__(self, units: list[Unit], corporaties: dict[str, str], rng: np.random.Generator,
                 region: Region | None = None) -> None:
        self.region = region or ZUID_KENNEMERLAND
        self.rng = rng
        self.index = UnitIndex(units, self.region.years)
        self.corporaties = corporaties
        self.ids = iter(int(i) for i in rng.permutation(np.arange(1, 40_000)))
        self.pool: list[Seeker] = []
        self.lettings: list[list[str]] = []
        self.seeker_rows: list[list[str]] = []

    # -- seekers ----------------------------------------------------------------------------------------

    def new_seeker(self, period: Period, registered_before: bool, statushouder: bool = False,
                   gemeente: str | None = None) -> Seeker:
        rng = self.rng
        woongemeente = gemeente or pick(rng, self.region.seeker_gemeenten)
        age = int(rng.choice([20, 28, 44, 64, 80], p=[.15, .38, .26, .15, .06]) + rng.integers(-2, 3))
        if statushouder:
            age = int(rng.integers(19, 50))
        household = int(rng.choice([1, 2, 3, 4, 5], p=[.5, .24, .12, .09, .05])) if age > 22 else 1
        klasse = "primair" if statushouder else pick(rng, {"primair": .55, "secundair": .28, "midden": .11,
                                                            "hoog": .06})
        birth = period.begin - dt.timedelta(days=int(age * 365.25 + rng.integers(0, 365)))
        if registered_before:
            years = 15 * rng.beta(1.1, 1.4)  # registered up to 15 years ago, many "just in case"
            inschrijf = period.begin - dt.timedelta(days=int(years * 365.25) + 1)
        else:
            inschrijf = random_date(rng, period.begin, period.end)
        inschrijf = max(inschrijf, add_years(birth, 18))  # one registers from the 18th birthday
        return Seeker(
            wz_id=self.region.seeker_id.format(n=next(self.ids)), woongemeente=woongemeente,
            woonkern=pick(rng, dict(self.region.woonkernen[woongemeente])), birth=birth, household=household,
            income_2021=self.draw_income(klasse, household, period.year),
            inschrijf=inschrijf, doorstromer=not statushouder and rng.random() < (0.3 if age > 22 else 0.05),
            activity=float(rng.beta(1.1, 0.9)), statushouder=statushouder,
            region=None if self.region is ZUID_KENNEMERLAND else self.region,
        )

    def draw_income(self, klasse: str, household: int, year: int) -> float:
        region = self.region
        column = 0 if household == 1 else 1
        primair = region.primair_inkomensgrens[year][column]
        daeb = region.daeb_inkomensgrens[year][column]
        midden = region.midden_inkomensgrens
        low, high = {"primair": (region.lowest_income, primair - 100), "secundair": (primair, daeb),
                     "midden": (daeb + 100, midden), "hoog": (midden + 100, 75_000)}[klasse]
        return float(self.rng.uniform(low, high)) / (1 + INCOME_GROWTH) ** (year - region.first_year)

    def refill_pool(self, period: Period) -> None:
        first = not self.pool
        while len(self.pool) < self.region.seekers_per_period - 20:
            before = self.rng.random() < (0.85 if first else 0.45)
            self.pool.append(self.new_seeker(period, registered_before=before))

    def age_out(self) -> None:
        """After a period: the housed leave, and some others stop searching."""
        keep = []
        for seeker in self.pool:
            stop = 0.08 if seeker.activity > 0.5 else 0.25
            if seeker.housed is None and self.rng.random() >= stop:
                keep.append(seeker)
        self.pool = keep

    # -- lettings ---------------------------------------------------------------------------------------

    def slots(self, period: Period) -> list[LettingSlot]:
        rng = self.rng
        workdays = [period.begin + dt.timedelta(days=d) for d in range((period.end - period.begin).days + 1)]
        workdays = [d for d in workdays if d.weekday() < 5 and (d.month, d.day) not in PUBLIC_HOLIDAYS]
        slots = []
        for gemeente, per_year in self.region.lettings_per_year.items():
            first_lettings = self.first_lettings(period, gemeente)
            slots += first_lettings
            regular = int(rng.poisson(per_year * period.fraction)) - len(first_lettings)
            slots += [LettingSlot(workdays[int(rng.integers(len(workdays)))], gemeente) for _ in range(regular)]
        if self.region.woonservice_end is None and period.end == year_end(self.region.last_year):
            # A full-year export: its last letting is a contract signed on the year's last workday, so
            # the delivery is visibly complete (the KPIs judge completeness by the last letting date).
            for gemeente in self.region.lettings_per_year:
                last = max((s for s in slots if s.gemeente == gemeente and s.unit_index is None),
                           key=lambda s: s.day, default=None)
                if last is not None:
                    last.day = workdays[-1]
        return sorted(slots, key=lambda s: (s.day, s.gemeente, s.unit_index if s.unit_index is not None else -1))

    def first_lettings(self, period: Period, gemeente: str) -> list[LettingSlot]:
        """New DAEB dwellings are let within a few weeks of delivery."""
        slots = []
        eligible, _, _ = self.index.by_year[period.year]
        for i, unit in enumerate(self.index.units):
            if unit.herkomst == "nieuwbouw" and unit.gemeente == gemeente and eligible[i] \
                    and period.begin <= unit.in_date <= period.end:
                day = min(unit.in_date + dt.timedelta(days=int(self.rng.integers(0, 21))), period.end)
                slots.append(LettingSlot(day, gemeente, i))
        return slots

    def choose_seeker(self, slot: LettingSlot, model: str, kind: str, active: dict[str, bool]) -> Seeker:
        rng = self.rng
        if kind == "STA":
            gemeente = slot.gemeente if rng.random() < 0.7 else None
            seeker = self.new_seeker(Period(slot.day, slot.day), registered_before=False, statushouder=True,
                                     gemeente=gemeente)
            seeker.inschrijf = slot.day - dt.timedelta(days=int(rng.integers(14, 180)))
            active[seeker.wz_id] = model != "DIR" or rng.random() < 0.2
            self.pool.append(seeker)
            return seeker
        candidates = [s for s in self.pool if s.housed is None and s.inschrijf <= slot.day and not s.statushouder
                      and (model == "DIR" or active[s.wz_id])]
        same = [s for s in candidates if s.woongemeente == slot.gemeente]
        other = [s for s in candidates if s.woongemeente != slot.gemeente]
        group = same if (kind == "BIN" or rng.random() < 0.8 or not other) and same else other
        if not group:  # nobody left who fits: someone registers just in time
            group = [self.new_seeker(Period(slot.day, slot.day), registered_before=True, gemeente=slot.gemeente)]
            active[group[0].wz_id] = True
            self.pool.append(group[0])
        seniority = model in ("AAN", "OPT", "DIS") and kind in ("", "BIN")
        weights = [INCOME_CLASS_WEIGHT[s.klasse(slot.day.year)]
                   * ((years_between(s.inschrijf, slot.day) + 0.3) ** 2.8 if seniority else 1.0)
                   * self.fit(slot, s) for s in group]
        return group[pick_index(rng, weights)]

    def fit(self, slot: LettingSlot, seeker: Seeker) -> float:
        """A new building's first letting goes to a household it is passend for, mostly."""
        if slot.unit_index is None or seeker.klasse(slot.day.year) != "primair":
            return 1.0
        aftopping = self.region.aftoppingsgrenzen[slot.day.year][0 if seeker.household <= 2 else 1]
        return 1.0 if self.index.rent(slot.unit_index, slot.day.year) <= aftopping else 0.03

    def choose_unit(self, slot: LettingSlot, seeker: Seeker) -> int:
        rng = self.rng
        if slot.unit_index is not None:
            return slot.unit_index
        year = slot.day.year
        mask = self.index.available(slot.gemeente, slot.day)
        _, rents, kamers = self.index.by_year[year]
        aftopping = self.region.aftoppingsgrenzen[year][0 if seeker.household <= 2 else 1]
        preferences = []
        if seeker.klasse(year) == "primair" and rng.random() < 0.92:
            preferences.append(rents <= aftopping)
        if seeker.household >= 4:
            preferences.append(kamers >= 3)
        elif seeker.household == 1 and rng.random() < 0.7:
            preferences.append(kamers <= 3)
        for preference in preferences:
            if (mask & preference).any():
                mask = mask & preference
        return int(rng.choice(np.flatnonzero(mask)))

    def letting_row(self, number: int, slot: LettingSlot, model: str, kind: str, seeker: Seeker,
                    unit_index: int) -> list[str]:
        rng = self.rng
        unit = self.index.units[unit_index]
        assert unit.buurt is not None
        year = slot.day.year
        state = unit.states[year]
        postcode, huisnummer, letter, toevoeging = unit.address
        voorrang = "URG" if kind in ("URG", "STA") else kind
        detail = "STA" if kind == "STA" else pick(rng, URGENTIE_DETAILS) if kind == "URG" else ""
        reacties = ""
        if model != "DIR":
            median, low, high = REACTIES_BY_MODEL[model]
            factor = self.region.reacties_factor.get(slot.gemeente, 1.0)
            reacties = str(int(np.clip(round(median * factor * rng.lognormal(0, 0.45)), low, high)))
        months_registered = max(years_between(seeker.inschrijf, slot.day) * 12, 0)
        zoekduur = min(60, round(months_registered * rng.uniform(0.15, 0.8)))
        klasse = seeker.klasse(year)
        aftopping = self.region.aftoppingsgrenzen[year][0 if seeker.household <= 2 else 1]
        passend = ("PAS" if state.rent <= aftopping else "NIE") if klasse == "primair" else "NVT"
        return [
            self.region.letting_id.format(year=year, number=number), dmy(slot.day), slot.gemeente, unit.buurt.kern, unit.buurt.wijk_code,
            unit.buurt.code, self.corporaties[unit.corp], unit.vhe_id, unit.bag_id, postcode, str(huisnummer),
            letter, toevoeging, nl_number(state.rent), unit.woningtype, str(state.kamers or ""), model, voorrang,
            detail, reacties, dmy(seeker.inschrijf), str(zoekduur), str(seeker.income(year)),
            str(seeker.household), str(age_on(seeker.birth, slot.day)), seeker.woongemeente, passend,
            "ja" if seeker.doorstromer else "nee", seeker.wz_id,
        ]

    def let_period(self, period: Period, active: dict[str, bool]) -> None:
        mix = {f"{m}|{k}": share for m, k, share in self.region.letting_mix}
        for number, slot in enumerate(self.slots(period), start=1):
            model, kind = pick(self.rng, mix).split("|")
            if slot.unit_index is not None and model == "DIR":
                model, kind = "AAN", ""
            seeker = self.choose_seeker(slot, model, kind, active)
            unit_index = self.choose_unit(slot, seeker)
            self.index.last_let[unit_index] = slot.day.toordinal()
            via = "direct" if model == "DIR" else "urgentie" if kind in ("URG", "STA") else \
                "loting" if model == "LOT" else "aanbod"
            seeker.housed = (via, slot.gemeente)
            self.lettings.append(self.letting_row(number, slot, model, kind, seeker, unit_index))

    def seeker_row(self, seeker: Seeker, period: Period, active: bool) -> list[str]:
        rng = self.rng
        reacties = 0
        if active:
            reacties = 1 + int(rng.negative_binomial(1.2, 1.2 / (1.2 + 26 * period.fraction)))
        own = int(rng.binomial(reacties, self.region.own_response_share[seeker.woongemeente]))
        via, gemeente = seeker.housed if seeker.housed else ("", "")
        if self.region.housed_responded_locally and via in ("aanbod", "loting", "urgentie") \
                and gemeente == seeker.woongemeente and reacties:
            own = max(own, 1)  # whoever got a home through an advert in the own gemeente responded there
        year = period.year
        return [
            seeker.wz_id, dmy(period.begin), dmy(period.end), seeker.woongemeente, seeker.woonkern,
            seeker.klasse(year), str(seeker.income(year)), str(seeker.household),
            leeftijdsklasse(age_on(seeker.birth, period.end)), dmy(seeker.inschrijf), str(reacties), str(own),
            "ja" if seeker.housed else "nee", via, gemeente,
        ]

    def run(self) -> tuple[list[list[str]], list[list[str]]]:
        for period in region_periods(self.region):
            self.refill_pool(period)
            active = {s.wz_id: self.rng.random() < s.activity for s in self.pool}
            self.let_period(period, active)
            period_rows = [self.seeker_row(s, period, active[s.wz_id]) for s in self.pool
                           if s.inschrijf <= period.end]
            self.seeker_rows += sorted(period_rows, key=lambda r: r[0])
            self.age_out()
        return self.lettings, self.seeker_rows


def write_woonservice(units: list[Unit], rng: np.random.Generator) -> list[tuple[Path, int]]:
    corporaties = {c.slug: c.naam for c in CORPORATIES}
    lettings, seekers = WoonserviceSimulator(units, corporaties, rng).run()
    written = []
    for name, columns, rows in (("toewijzingen", TOEWIJZINGEN_COLUMNS, lettings),
                                ("woningzoekenden", WONINGZOEKENDEN_COLUMNS, seekers)):
        path = LANDING / "woonservice" / f"{name}_2021-2025.csv"
        write_bytes(path, csv_text(columns, rows, ";", "\n").encode("utf-8"))
        template = TEMPLATES_DIR / f"{name}_voorbeeld.csv"
        write_bytes(template, csv_text(columns, rows[:TEMPLATE_ROWS], ";", "\n").encode("utf-8"))
        written += [(path, len(rows)), (template, min(len(rows), TEMPLATE_ROWS))]
    return written


def write_region_woonservice(region: Region, units: list[Unit], corporaties: dict[str, str],
                             rng: np.random.Generator) -> list[tuple[Path, int]]:
    """toewijzingen_<gemeente>_<years>.csv and woningzoekenden_<gemeente>_<years>.csv of one region."""
    lettings, seekers = WoonserviceSimulator(units, corporaties, rng, region).run()
    written = []
    for name, columns, rows in (("toewijzingen", TOEWIJZINGEN_COLUMNS, lettings),
                                ("woningzoekenden", WONINGZOEKENDEN_COLUMNS, seekers)):
        path = LANDING / "woonservice" / f"{name}_{region.file_label}_{region.first_year}-{region.last_year}.csv"
        write_bytes(path, csv_text(columns, rows, ";", "\n").encode("utf-8"))
        written.append((path, len(rows)))
    return written


# --------------------------------------------------------------------------------------------------
# Writing files deterministically
# --------------------------------------------------------------------------------------------------

def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], separator: str, newline: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_bytes(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    """A zip whose bytes depend only on the members: fixed times, attributes and system."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    write_bytes(path, buffer.getvalue())


def write_xlsx(path: Path, header: Sequence[str], rows: list[list[object]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Bezitslijst"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    date_columns = [i + 1 for i, h in enumerate(header) if h.endswith("exploitatie")]
    for column in date_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = "DD-MM-YYYY"
    sheet.freeze_panes = "A2"
    fixed = dt.datetime(2026, 1, 2, 7, 30, 0)
    workbook.properties.creator = "Pré Wonen ERP-export"
    workbook.properties.created = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_zip(path, normalised_xlsx_members(buffer.getvalue()))


def normalised_xlsx_members(xlsx: bytes) -> dict[str, bytes]:
    """openpyxl stamps 'modified' with the clock and zip entries with the time: replace both."""
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            if name == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + FIXED_XLSX_TIMESTAMP.encode() + rb"\g<3>", content)
            members[name] = content
    return members


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

def simulate_stock(geography: dict[str, list[Buurt]], addresses: AddressBook, bag: BagRegistry
                   ) -> dict[str, list[Unit]]:
    return {cfg.slug: CorporationSimulator(cfg, geography, addresses, bag).run() for cfg in CORPORATIES}


def attach_certificates(stock: list[Unit], factory: CertificateFactory,
                        duplicates: int = EP_SAME_DAY_DUPLICATES) -> list[Certificate]:
    for unit in stock:
        unit.certificates = factory.history(unit)
    factory.add_same_day_duplicates(stock, duplicates)
    return [c for unit in stock for c in unit.certificates]


@dataclass
class RegionWorld:
    region: Region
    geography: dict[str, list[Buurt]]
    stock_by_corp: dict[str, list[Unit]]
    certificates: list[Certificate]

    @property
    def stock(self) -> list[Unit]:
        return [u for units in self.stock_by_corp.values() for u in units]


def simulate_region(region: Region) -> RegionWorld:
    """Stock and EP-online certificates of one of the other regions, from its own random streams."""
    geography = build_geography(region)
    addresses = AddressBook(make_rng(region.stream + 1))
    bag = BagRegistry(make_rng(region.stream + 2))
    stock_by_corp = {cfg.slug: CorporationSimulator(cfg, geography, addresses, bag, region).run()
                     for cfg in EXTRA_CORPORATIES[region.key]}
    stock = [u for units in stock_by_corp.values() for u in units]
    factory = CertificateFactory(make_rng(region.stream + 10), region)
    certificates = attach_certificates(stock, factory, region.ep_same_day_duplicates)
    noise_rng = make_rng(region.stream + 11)
    noise = build_noise_dwellings(addresses, bag, noise_rng, region.ep_noise_areas)
    noise_certificates(noise, factory, noise_rng)
    certificates += [c for unit in noise for c in unit.certificates]
    certificates += utility_certificates(stock, addresses, bag, factory, noise_rng, region.ep_noise_areas,
                                         region.ep_utility_on_stock, region.ep_utility_noise)
    return RegionWorld(region, geography, stock_by_corp, certificates)


def generate() -> list[tuple[Path, int]]:
    geography = build_geography()
    addresses = AddressBook(make_rng(1))
    bag = BagRegistry(make_rng(2))
    stock_by_corp = simulate_stock(geography, addresses, bag)
    stock = [u for units in stock_by_corp.values() for u in units]

    factory = CertificateFactory(make_rng(10))
    certificates = attach_certificates(stock, factory)
    noise_rng = make_rng(11)
    noise = build_noise_dwellings(addresses, bag, noise_rng)
    noise_certificates(noise, factory, noise_rng)
    certificates += [c for unit in noise for c in unit.certificates]
    certificates += utility_certificates(stock, addresses, bag, factory, noise_rng)

    others = [simulate_region(region) for region in EXTRA_REGIONS]
    extra_certificates = [c for world in others for c in world.certificates]
    written = [write_ep_online(certificates, make_rng(12), extra_certificates, make_rng(EP_EXTRA_STREAM))]
    for slug, units in stock_by_corp.items():
        written += write_stock_lists(slug, units)
    for world in others:
        for slug, units in world.stock_by_corp.items():
            written += write_stock_lists(slug, units, world.region.years)
    lbm = [leefbaarometer_rows(ZUID_KENNEMERLAND, geography, make_rng(13))]
    lbm += [leefbaarometer_rows(w.region, w.geography, make_rng(w.region.stream + 13)) for w in others]
    written += write_leefbaarometer(lbm)
    written += write_woonservice(stock, make_rng(14))
    for world in others:
        corporaties = {cfg.slug: cfg.naam for cfg in EXTRA_CORPORATIES[world.region.key]}
        written += write_region_woonservice(world.region, world.stock, corporaties,
                                            make_rng(world.region.stream + 14))
    return written


def main() -> None:
    started = time.perf_counter()
    written = generate()
    elapsed = time.perf_counter() - started
    print(f"{'file':<86} {'rows':>7} {'bytes':>10}")
    for path, rows in written:
        print(f"{str(path.relative_to(PROJECT_ROOT)):<86} {rows:>7} {path.stat().st_size:>10,}")
    total = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    print(f"data/sample total: {total / 1_000_000:.2f} MB; generated in {elapsed:.1f} s (seed {SEED})")


if __name__ == "__main__":
    main()
