"""The static monitor report: one self-contained HTML file per gemeente and year, plus CSV and XLSX.

`out/rapport/<gemeente>-<jaar>.html` (directory: MonitorSettings.report_dir) holds, for a municipality's
housing team: the stoplight table grouped by theme with coloured status cells (the colour is also
written out, so it reads without colour too), a trend chart per KPI-bound agreement with its target
line and trajectory (inline SVG made here: no script, no CDN, opens offline), the data date and the
validation state of every source the KPIs rest on, and links to `<gemeente>-<jaar>.csv` / `.xlsx`: the
same stoplight rows as the warehouse table monitor.monitor_stoplight. Every value from data or
configuration is HTML-escaped.

Which years: every year that has its own agreements (a jaarschijf), plus the current year of each
agreement set (the as_of year, kept within the set's period). A report holds the agreements of that
year and the multi-year agreements of the sets whose period contains it. `index.html` lists them.
"""


import fcntl
import html
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from openpyxl.styles import Font, PatternFill

from assets.common import OWNERS
from assets.monitor.stoplight import (
    COMPARISON_WORDS,
    GEEL,
    GEEN_OORDEEL,
    GROEN,
    HANDMATIG,
    KPI_INS,
    ROOD,
    RULE_LABELS,
    STATUSES,
    STOPLIGHT,
    MonitorSettings,
    Trend,
    data_dates,
    fmt,
    fmt_date,
    fmt_unit,
    kpi_tables,
    status_verloop,
    trend,
)
from assets.partitions import GEMEENTE_PARTITIES, gemeenten_of
from expectations.quality import DATASET_KEYS, check_name
from sources.agreements import Agreement, AgreementSet, slugify

COLOURS = {GROEN: "#1b7a3a", GEEL: "#f2c12e", ROOD: "#c0392b", GEEN_OORDEEL: "#d5d8dc"}
TEXT_COLOURS = {GROEN: "#ffffff", GEEL: "#1c1c1c", ROOD: "#ffffff", GEEN_OORDEEL: "#1c1c1c"}
UNKNOWN = "onbekend"


def esc(value: Any) -> str:
    """HTML text of any value; missing values become an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------------------------------
# Validation state of the sources
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckState:
    """The latest result of one asset check on a staged dataset."""

    dataset: str
    check: str
    status: str  # geslaagd, waarschuwing, mislukt, niet uitgevoerd
    tijdstip: datetime | None = None
    omschrijving: str | None = None
    run_id: str | None = None


def latest_check_states(context: dg.AssetExecutionContext, kpi_names: Sequence[str]) -> dict[str, list[CheckState]]:
    """Per KPI table the latest result of every check on the staged datasets it is computed from,
    read from the Dagster instance. A table missing from the result has validation state unknown."""
    out: dict[str, list[CheckState]] = {}
    try:
        graph = context.job_def.asset_layer.asset_graph  # the repository's graph is not set under dg.materialize
        storage = context.instance.event_log_storage
        for name in kpi_names:
            key = dg.AssetKey(name)
            if not graph.has(key):
                continue
            staged = {k for k in graph.get(key).parent_keys if k.to_user_string().startswith("stg_")}
            check_keys = sorted(_check_keys(context, staged), key=lambda k: (k.asset_key.to_user_string(), k.name))
            records = storage.get_latest_asset_check_execution_by_key(check_keys) if check_keys else {}
            states = [_check_state(k, records[k]) for k in check_keys if k in records]
            if states:
                out[name] = states
    except Exception as exc:  # the report must not fail because the instance cannot say
        context.log.warning(f"validatiestatus niet op te vragen: {type(exc).__name__}: {exc}")
        return {}
    return out


def _check_keys(context: dg.AssetExecutionContext, staged: set[dg.AssetKey]) -> set[dg.AssetCheckKey]:
    """The checks on the staged assets: from the repository or job graph (a job that selects only the
    report knows no checks), and at least each dataset's GX suite."""
    keys = {dg.AssetCheckKey(k, check_name(k.to_user_string())) for k in staged if k.to_user_string() in DATASET_KEYS}
    for graph in (lambda: context.repository_def.asset_graph, lambda: context.job_def.asset_layer.asset_graph):
        try:
            keys |= set(graph().get_check_keys_for_assets(staged))
        except Exception:  # no repository under dg.materialize
            continue
    return keys


def _check_state(check_key: dg.AssetCheckKey, record: Any) -> CheckState:
    evaluation = record.evaluation
    when = datetime.fromtimestamp(record.create_timestamp)
    if evaluation is None:
        return CheckState(check_key.asset_key.to_user_string(), check_key.name, "niet uitgevoerd", when, None, record.run_id)
    if evaluation.passed:
        status = "geslaagd"
    elif evaluation.severity == dg.AssetCheckSeverity.WARN:
        status = "waarschuwing"
    else:
        status = "mislukt"
    return CheckState(check_key.asset_key.to_user_string(), check_key.name, status, when, evaluation.description, record.run_id)


# --------------------------------------------------------------------------------------------------
# Trend chart as inline SVG
# --------------------------------------------------------------------------------------------------


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def svg_chart(data: Trend, title: str, chart_id: str) -> str:
    """An inline SVG line chart: realisation (hollow = partial period), target line, trajectory."""
    width, height = 640, 290
    left, right, top, bottom = 70, 44, 18, 62
    values = [p.value for p in data.points if not p.suppressed and not math.isnan(p.value)]
    xs = [p.position for p in data.points]
    xs += [float(data.window[0] - 1), float(data.target_year if data.target_year is not None else data.window[1])]
    ys = [*values, data.target]
    if data.trajectory is not None:
        xs += [data.trajectory[0][0], data.trajectory[1][0]]
        ys += [data.trajectory[0][1], data.trajectory[1][1]]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    if x1 <= x0:
        x1 = x0 + 1
    if data.unit == "%":
        y0, y1 = 0.0, 100.0
    else:
        low, high = min(ys), max(ys)
        if low >= 0 and low <= 0.5 * high:
            low = 0.0
        pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
        y0, y1 = (low if low == 0 else low - pad), high + pad
    step = _nice_step(y1 - y0)
    y0, y1 = math.floor(y0 / step) * step, math.ceil(y1 / step) * step
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="grafiek" id="{esc(chart_id)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{esc(chart_id)}-titel">',
        f'<title id="{esc(chart_id)}-titel">{esc(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#ffffff" stroke="#bfc5cc"/>',
    ]
    tick = y0
    while tick <= y1 + step / 1000:
        y = sy(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eceff1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="as">{esc(fmt(tick, data.unit))}</text>')
        tick += step
    year_step = 1 if x1 - x0 <= 12 else 2
    for year in range(x0, x1 + 1, year_step):
        x = sx(year)
        parts.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" stroke="#5f6b76"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" class="as">eind {year}</text>'
                     if year_step == 1 and x1 - x0 <= 6 else
                     f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" class="as">{year}</text>')
    # target: a horizontal line (a norm per year) or from the window to the target year
    ty = sy(data.target)
    parts.append(
        f'<line class="doel" x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#c0392b" '
        f'stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    if data.trajectory is not None:
        (bx, bv), (tx, tv) = data.trajectory
        parts.append(
            f'<line class="traject" x1="{sx(bx):.1f}" y1="{sy(bv):.1f}" x2="{sx(tx):.1f}" y2="{sy(tv):.1f}" '
            f'stroke="#2f6fad" stroke-width="2" stroke-dasharray="3 3"/>'
        )
        parts.append(f'<circle cx="{sx(tx):.1f}" cy="{sy(tv):.1f}" r="5" fill="#c0392b"><title>doel {esc(fmt_unit(tv, data.unit))} eind {int(tx)}</title></circle>')
    shown = [p for p in data.points if not p.suppressed and not math.isnan(p.value)]
    if len(shown) > 1:
        path = " ".join(f"{sx(p.position):.1f},{sy(p.value):.1f}" for p in shown)
        parts.append(f'<polyline class="realisatie" points="{path}" fill="none" stroke="#1c1c1c" stroke-width="2"/>')
    for p in data.points:
        x = sx(p.position)
        if p.suppressed or math.isnan(p.value):
            label = "onderdrukt" if p.suppressed else "geen waarde"
            parts.append(f'<line class="onderdrukt" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#9aa3ab" stroke-dasharray="2 3"/>')
            parts.append(f'<text x="{x + 3:.1f}" y="{top + 14}" class="as">{label} ({p.jaar})</text>')
            continue
        fill = "#ffffff" if p.partial else "#1c1c1c"
        tip = f"{p.period_label()}: {fmt_unit(p.value, p.unit)}{' (deelperiode)' if p.partial else ''}"
        parts.append(f'<circle class="punt" cx="{x:.1f}" cy="{sy(p.value):.1f}" r="4" fill="{fill}" stroke="#1c1c1c" stroke-width="1.5"><title>{esc(tip)}</title></circle>')
    legend_y = height - 14
    legend = [
        ('<line x1="0" y1="-4" x2="22" y2="-4" stroke="#1c1c1c" stroke-width="2"/>', "realisatie (open = deelperiode)"),
        ('<line x1="0" y1="-4" x2="22" y2="-4" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>',
         f"doel: {COMPARISON_WORDS[data.comparison]} {fmt_unit(data.target, data.unit)}"),
    ]
    if data.trajectory is not None:
        legend.append(('<line x1="0" y1="-4" x2="22" y2="-4" stroke="#2f6fad" stroke-width="2" stroke-dasharray="3 3"/>', "traject"))
    offset = float(left)
    for symbol, text in legend:
        parts.append(f'<g transform="translate({offset:.0f},{legend_y})">{symbol}<text x="28" y="0" class="as">{esc(text)}</text></g>')
        offset += 40 + 6.2 * len(text)
    if data.cumulative_from is not None:
        parts.append(f'<text x="{left + plot_w}" y="{top + plot_h + 32}" text-anchor="end" class="as">opgeteld vanaf {data.cumulative_from}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:1200px;color:#1c1c1c;padding:0 1rem;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #e3e6e8;padding-bottom:.2rem}
.stand{color:#4a5560;margin-top:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.2rem;font-size:.92rem}
th,td{border:1px solid #d7dbdf;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f5}
td.getal{text-align:right}
table.stoplicht-tabel{table-layout:fixed}
.stoplicht-tabel td{overflow-wrap:break-word;hyphens:auto}
td.status{font-weight:600;text-align:center}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:.8rem;font-weight:600;margin-right:.4rem}
figure{margin:1.2rem 0 2rem;page-break-inside:avoid}
figcaption{font-weight:600;margin-bottom:.3rem}
svg.grafiek{max-width:100%;height:auto;font-size:11px}
svg .as{fill:#4a5560;font-size:11px}
.klein{color:#4a5560;font-size:.85rem}
@media print{body{margin:0}h2{page-break-after:avoid}}
"""


def _status_cell(status: str) -> str:
    colour, text = COLOURS.get(status, "#ffffff"), TEXT_COLOURS.get(status, "#1c1c1c")
    css_class = status.replace(" ", "-")
    return f'<td class="status status-{esc(css_class)}" style="background:{colour};color:{text}">{esc(status)}</td>'


def _target_text(row: Any) -> str:
    if row.regel == HANDMATIG or pd.isna(row.doelwaarde):
        return ""
    text = f"{COMPARISON_WORDS.get(row.vergelijking, row.vergelijking)} {fmt_unit(row.doelwaarde, _unit(row))}"
    if not pd.isna(row.doeljaar):
        text += f" in {int(row.doeljaar)}"
    elif row.regel in ("threshold", "pro_rata"):
        text += " per jaar"
    return text


def _unit(row: Any) -> str | None:
    return None if pd.isna(row.eenheid) else str(row.eenheid)


def _realisation_text(row: Any) -> str:
    if bool(row.onderdrukt):
        return "onderdrukt"
    if pd.isna(row.realisatie):
        return ""
    return fmt_unit(row.realisatie, _unit(row))


def _data_date_text(row: Any) -> str:
    if pd.isna(row.peildatum_data):
        return ""
    text = fmt_date(row.peildatum_data)
    if bool(row.gedeeltelijke_periode):
        text += " (deelperiode)"
    return text


def _judgement_text(row: Any) -> str:
    if row.berekend:
        return ""
    if pd.isna(row.beoordelaar):
        return ""
    parts = [f"oordeel van {row.beoordelaar} op {fmt_date(row.beoordeeld_op)}"]
    if not pd.isna(row.zekerheid):
        parts.append(f"zekerheid {row.zekerheid}")
    if not pd.isna(row.bewijs):
        parts.append(f"bewijs: {row.bewijs}")
    return "; ".join(parts)


def _agreement_anchor(row: Any) -> str:
    year = "" if pd.isna(row.jaar) else f"-{int(row.jaar)}"
    return f"afspraak-{slugify(str(row.periode))}-{slugify(str(row.agreement_id))}{year}"


@dataclass(frozen=True)
class SourceRow:
    table: str
    latest: str
    snapshots: list[str]
    checks: list[CheckState] | None  # None: validation state unknown


def source_rows(
    gemeente_code: str, kpi_names: Sequence[str], tables: Mapping[str, pd.DataFrame],
    validation: Mapping[str, Sequence[CheckState]] | None, as_of: pd.Timestamp,
) -> list[SourceRow]:
    """Per KPI table the latest data date for the gemeente, its source files and validation state."""
    view = kpi_tables(tables)
    out = []
    for name in kpi_names:
        latest, snapshots = UNKNOWN, []
        if name in tables:
            rows = view.rows_of(name, gemeente_code)
            if not rows.empty:
                dates, _, exact = data_dates(rows)
                dates = dates[dates <= as_of]
                if len(dates):
                    latest = fmt_date(dates.max())
                    last = dates == dates.max()
                    partial = rows.loc[dates.index, "partial_period"].astype("bool") & last
                    if partial.any() and not exact[dates.index][last].all():
                        latest = f"deel van {dates.max().year} (deelperiode, einddatum niet in de tabel)"
                    elif partial.any():
                        latest += " (deelperiode)"
                # the distinct values first: each is a gemeente's file list, repeated on all its rows
                values = rows["source_snapshot"].dropna().unique()
                snapshots = sorted({s for value in values for s in str(value).split(";") if s})
            else:
                latest = "geen data voor deze gemeente"
        checks = None if validation is None or name not in validation else list(validation[name])
        out.append(SourceRow(name, latest, snapshots, checks))
    return out


def _sources_html(rows: Sequence[SourceRow]) -> str:
    body = []
    for row in rows:
        if row.checks is None:
            checks = f'<span class="validatie-onbekend">{UNKNOWN}: geen checkresultaten beschikbaar</span>'
        else:
            items = []
            for check in row.checks:
                when = f", {check.tijdstip:%d-%m-%Y %H:%M}" if check.tijdstip else ""
                title = f' title="{esc(check.omschrijving)}"' if check.omschrijving else ""
                items.append(f"<li{title}>{esc(check.dataset)} · {esc(check.check)}: <strong>{esc(check.status)}</strong>{esc(when)}</li>")
            checks = "<ul>" + "".join(items) + "</ul>"
        files = (
            f"<details><summary>{len(row.snapshots)} bestand(en)</summary><ul>"
            + "".join(f"<li>{esc(s)}</li>" for s in row.snapshots) + "</ul></details>"
            if row.snapshots else ""
        )
        body.append(f"<tr><td>{esc(row.table)}</td><td>{esc(row.latest)}</td><td>{files}</td><td>{checks}</td></tr>")
    return (
        "<table class=\"bronnen\"><thead><tr><th>KPI-tabel</th><th>Data t/m</th><th>Bronbestanden</th>"
        "<th>Validatie (laatste checks)</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def render_report(
    gemeente_naam: str,
    jaar: int,
    rows: pd.DataFrame,
    sets: Sequence[AgreementSet],
    charts: Mapping[str, str],
    sources: Sequence[SourceRow],
    *,
    verloop: pd.DataFrame | None = None,
    exports: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> str:
    """The HTML of one report. rows: the stoplight rows shown; charts: anchor -> inline SVG. Pure."""
    title = f"Monitor prestatieafspraken {gemeente_naam} {jaar}"
    as_of = rows["as_of"].dropna().max() if len(rows) else None
    run_ids = [run_id] if run_id else []
    trail = {}
    if verloop is not None and not verloop.empty:
        for v in verloop.itertuples(index=False):
            trail[(v.gemeente_code, v.periode, v.agreement_id, None if pd.isna(v.jaar) else int(v.jaar))] = v.verloop
    out = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="stand">Stand per {esc(fmt_date(as_of)) if as_of is not None else UNKNOWN}'
        + (f" · run {esc(', '.join(run_ids))}" if run_ids else "") + "</p></header>",
    ]
    for agreement_set in sets:
        p = agreement_set.parties
        out.append(
            f'<section class="set"><p><strong>{esc(agreement_set.title)}</strong> ({esc(agreement_set.period.label)}'
            + (f", {esc(agreement_set.kind)}" if agreement_set.kind else "") + ")<br>"
            f"Partijen: {esc(p.gemeente)}; corporaties: {esc(', '.join(p.corporaties))}"
            + (f"; huurdersorganisaties: {esc(', '.join(p.huurdersorganisaties))}" if p.huurdersorganisaties else "")
            + (f'<br><span class="klein">Bron: {esc(agreement_set.source)}</span>' if agreement_set.source else "")
            + "</p></section>"
        )
    counts = rows["status"].value_counts()
    out.append('<section class="samenvatting"><h2>Samenvatting</h2><p>')
    for status in STATUSES:
        out.append(
            f'<span class="badge" style="background:{COLOURS[status]};color:{TEXT_COLOURS[status]}">'
            f"{esc(status)}: {int(counts.get(status, 0))}</span>"
        )
    out.append(
        '</p><p class="klein">groen = gehaald of op schema · geel = actie nodig (binnen de tolerantie) · '
        "rood = achter op schema of niet gestart · nog niet te beoordelen = niets verschuldigd, geen data, "
        "onderdrukte realisatie of nog geen oordeel van de datasteward.</p></section>"
    )
    out.append('<section class="stoplicht"><h2>Stoplicht per thema</h2>')
    for theme, group in rows.groupby("thema", sort=False):
        out.append(f"<h3>{esc(theme)}</h3>")
        out.append(
            '<table class="stoplicht-tabel"><colgroup><col style="width:5%"><col style="width:14%"><col style="width:8%">'
            '<col style="width:7%"><col style="width:9%"><col style="width:8%"><col style="width:8%"><col style="width:8%">'
            '<col style="width:' + ("23%" if trail else "33%") + '"><col style="width:8%">' + ('<col style="width:10%">' if trail else "")
            + '</colgroup><thead><tr><th>Nr.</th><th>Afspraak</th><th>Trekker</th><th>Prioriteit</th>'
            "<th>Doel</th><th>Realisatie</th><th>Traject</th><th>Status</th><th>Toelichting</th><th>Data t/m</th>"
            + ("<th>Verloop</th>" if trail else "") + "</tr></thead><tbody>"
        )
        for row in group.itertuples(index=False):
            anchor = _agreement_anchor(row)
            year = None if pd.isna(row.jaar) else int(row.jaar)
            rule = RULE_LABELS.get(str(row.regel), str(row.regel))
            detail = f"Regel: {rule}"
            if row.berekend:
                detail += f"; tolerantie {row.tolerantie}; KPI {row.kpi}" + (f" ({row.kpi_filters})" if not pd.isna(row.kpi_filters) else "")
            judged = _judgement_text(row)
            chart_link = f' <a href="#{esc(anchor)}-grafiek">grafiek</a>' if anchor in charts else ""
            out.append(
                f'<tr class="afspraak" id="{esc(anchor)}" data-afspraak="{esc(row.agreement_id)}" data-status="{esc(row.status)}">'
                f"<td>{esc(row.agreement_id)}{f' ({year})' if year else ''}</td>"
                f"<td>{esc(row.titel)}</td><td>{esc(row.trekker)}</td><td>{esc(row.prioriteit)}</td>"
                f'<td class="getal">{esc(_target_text(row))}</td>'
                f'<td class="getal">{esc(_realisation_text(row))}</td>'
                f'<td class="getal">{esc("" if pd.isna(row.trajectwaarde) else fmt_unit(row.trajectwaarde, _unit(row)))}</td>'
                f"{_status_cell(str(row.status))}"
                f'<td>{esc(row.toelichting)}<br><span class="klein">{esc(detail)}'
                + (f"<br>{esc(judged)}" if judged else "") + f"</span>{chart_link}</td>"
                f"<td>{esc(_data_date_text(row))}</td>"
                + (f"<td>{esc(trail.get((row.gemeente_code, row.periode, row.agreement_id, year), ''))}</td>" if trail else "")
                + "</tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    if charts:
        out.append('<section class="grafieken"><h2>Trends van de berekende afspraken</h2>')
        for row in rows.itertuples(index=False):
            anchor = _agreement_anchor(row)
            if anchor not in charts:
                continue
            out.append(
                f'<figure id="{esc(anchor)}-grafiek" data-afspraak="{esc(row.agreement_id)}">'
                f"<figcaption>{esc(row.agreement_id)} · {esc(row.titel)} ({esc(row.status)})</figcaption>"
                f"{charts[anchor]}</figure>"
            )
        out.append("</section>")
    out.append('<section class="bronnen"><h2>Bronnen, peildata en validatie</h2>')
    out.append(_sources_html(sources))
    out.append("</section>")
    if exports:
        links = " · ".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in exports.items())
        out.append(f'<section class="export"><h2>Export</h2><p>Dezelfde stoplichttabel als {links}.</p></section>')
    out.append(
        '<footer class="klein"><h2>Toetsregels</h2><ul>'
        "<li><strong>lineair traject</strong>: de realisatie op de peildatum van de data tegen de rechte lijn van "
        "basiswaarde naar doel; in het doeljaar tegen het doel.</li>"
        "<li><strong>naar rato</strong>: een quotum per jaar of per looptijd, verschuldigd naar rato van het verstreken "
        "deel (een lopend jaar tot en met het laatste volledige kwartaal).</li>"
        "<li><strong>norm per jaar</strong>: het aandeel in het laatste jaar met data; een deelperiode geeft een "
        "voorlopig oordeel.</li>"
        "<li><strong>groeitempo</strong>: de gemiddelde groei per jaar tegen de benodigde groei per jaar.</li>"
        "<li><strong>oordeel datasteward</strong>: het laatste oordeel (met datum, beoordelaar, bewijs en zekerheid) "
        "voor afspraken zonder KPI.</li></ul>"
        "<p>Onderdrukte KPI-cellen (te weinig waarnemingen) worden als 'onderdrukt' getoond, nooit als 0.</p></footer>"
    )
    out.append("</body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFiles:
    gemeente_code: str
    gemeente_naam: str
    jaar: int
    html: Path
    csv: Path
    xlsx: Path


def report_years(agreement_set: AgreementSet, as_of_year: int) -> list[int]:
    """The years of the set's jaarschijven up to as_of, plus its current year (within the period)."""
    period = agreement_set.period
    current = min(max(as_of_year, period.start), period.end)
    own = {a.year for a in agreement_set.agreements if a.year is not None and a.year <= current}
    return sorted(own | {current})


def rows_for_year(stoplight: pd.DataFrame, sets: Sequence[AgreementSet], gemeente_code: str, jaar: int) -> pd.DataFrame:
    """Stoplight rows of the gemeente shown in the report of jaar: that year's agreements and the
    multi-year agreements of the sets whose period contains jaar."""
    periods = {s.period.label: s.period for s in sets if s.gemeente.code == gemeente_code}
    rows = stoplight[stoplight["gemeente_code"] == gemeente_code]
    in_period = rows["periode"].map(lambda label: jaar in periods[label] if label in periods else False).astype("bool")
    own_year = rows["jaar"].astype("Int64") == jaar
    multi_year = rows["jaar"].isna() & in_period
    return rows[own_year.fillna(False).astype("bool") | multi_year].reset_index(drop=True)


def export_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The stoplight rows exactly as the table (monitor.monitor_stoplight) has them."""
    return STOPLIGHT.conform(rows)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Semicolon-separated, decimal comma, UTF-8 with BOM: opens as columns in a Dutch Excel."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype).startswith("datetime64"):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    out.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig")


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """One sheet 'stoplicht' with the same columns, dates as dates, the status cell coloured."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype).startswith("datetime64"):
            out[column] = out[column].map(lambda v: v.date() if pd.notna(v) else None)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        out.to_excel(writer, sheet_name="stoplicht", index=False)
        sheet = writer.sheets["stoplicht"]
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        status_col = out.columns.get_loc("status") + 1
        for row_number in range(2, len(out) + 2):
            cell = sheet.cell(row=row_number, column=status_col)
            colour = COLOURS.get(str(cell.value))
            if colour:
                cell.fill = PatternFill("solid", fgColor=colour.lstrip("#"))
                cell.font = Font(bold=True, color=TEXT_COLOURS[str(cell.value)].lstrip("#"))
        date_columns = [i + 1 for i, c in enumerate(out.columns) if c in ("peildatum_data", "beoordeeld_op", "as_of")]
        for column in date_columns:
            for row_number in range(2, len(out) + 2):
                sheet.cell(row=row_number, column=column).number_format = "dd-mm-yyyy"
        for index, column in enumerate(out.columns, start=1):
            width = min(60, max(len(str(column)), *(len(str(v)) for v in out[column].head(200))) + 2) if len(out) else len(column) + 2
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width


def _lookup(sets: Sequence[AgreementSet]) -> dict[tuple[str, str, str, int | None], tuple[AgreementSet, Agreement]]:
    return {
        (s.gemeente.code, s.period.label, a.id, a.year): (s, a)
        for s in sets
        for a in s.agreements
    }


def write_reports(
    stoplight: pd.DataFrame,
    sets: Sequence[AgreementSet],
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    *,
    history: pd.DataFrame | None = None,
    validation: Mapping[str, Sequence[CheckState]] | None = None,
    run_id: str | None = None,
) -> list[ReportFiles]:
    """Write `<gemeente>-<jaar>.html/.csv/.xlsx` for every gemeente and report year, and index.html."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if stoplight.empty:
        return []
    as_of = pd.Timestamp(stoplight["as_of"].max())
    tables = kpi_tables(tables)  # one grouping per table for all gemeenten and agreements
    lookup = _lookup(sets)
    verloop = status_verloop(history) if history is not None else None
    written: list[ReportFiles] = []
    gemeenten = {s.gemeente.code: s.gemeente.naam for s in sets}
    for code, naam in gemeenten.items():
        gemeente_sets = [s for s in sets if s.gemeente.code == code]
        years = sorted({y for s in gemeente_sets for y in report_years(s, as_of.year)})
        for jaar in years:
            rows = rows_for_year(stoplight, gemeente_sets, code, jaar)
            if rows.empty:
                continue
            charts: dict[str, str] = {}
            kpi_names: list[str] = []
            for row in rows.itertuples(index=False):
                found = lookup.get((row.gemeente_code, row.periode, row.agreement_id, None if pd.isna(row.jaar) else int(row.jaar)))
                if found is None or found[1].kpi is None:
                    continue
                binding = found[1].kpi
                if binding.table not in kpi_names:
                    kpi_names.append(binding.table)
                data = trend(found[0], found[1], tables, pd.Timestamp(row.as_of))
                if data is None:
                    continue
                anchor = _agreement_anchor(row)
                charts[anchor] = svg_chart(data, f"{row.agreement_id} {row.titel}", f"{anchor}-svg")
            stem = f"{slugify(naam)}-{jaar}"
            files = ReportFiles(code, naam, jaar, directory / f"{stem}.html", directory / f"{stem}.csv", directory / f"{stem}.xlsx")
            frame = export_frame(rows)
            write_csv(frame, files.csv)
            write_xlsx(frame, files.xlsx)
            sources = source_rows(code, kpi_names, tables, validation, as_of)
            year_sets = [s for s in gemeente_sets if jaar in s.period]
            page = render_report(
                naam, jaar, frame, year_sets, charts, sources, verloop=verloop,
                exports={"CSV": files.csv.name, "Excel (XLSX)": files.xlsx.name}, run_id=run_id,
            )
            files.html.write_text(page, encoding="utf-8")
            written.append(files)
    _write_index(directory, written, as_of)
    return written


def _write_index(directory: Path, reports: Sequence[ReportFiles], as_of: pd.Timestamp) -> None:
    """index.html over every gemeente's reports: runs per gemeente each add theirs to index.json
    (under a file lock, as gemeenten may run at the same time) and the page is rebuilt from it."""
    with _locked(directory / "index.lock"):
        manifest_path = directory / "index.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        for code in {r.gemeente_code for r in reports}:
            manifest[code] = [
                {"naam": r.gemeente_naam, "jaar": r.jaar, "html": r.html.name, "csv": r.csv.name, "xlsx": r.xlsx.name}
                for r in reports if r.gemeente_code == code
            ]
        partial = manifest_path.with_name("index.json.partial")
        partial.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, manifest_path)
        entries = sorted((e for items in manifest.values() for e in items), key=lambda e: (e["naam"], e["jaar"]))
        _render_index(directory, entries, as_of)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _render_index(directory: Path, entries: Sequence[dict[str, Any]], as_of: pd.Timestamp) -> None:
    items = "".join(
        f'<li><a href="{esc(e["html"])}">{esc(e["naam"])} {e["jaar"]}</a> '
        f'(<a href="{esc(e["csv"])}">CSV</a>, <a href="{esc(e["xlsx"])}">XLSX</a>)</li>'
        for e in entries
    )
    page = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Monitor prestatieafspraken</title>'
        f"<style>{CSS}</style></head><body><h1>Monitor prestatieafspraken</h1>"
        f'<p class="stand">Stand per {esc(fmt_date(as_of))}</p><ul>{items}</ul></body></html>'
    )
    partial = directory / "index.html.partial"
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, directory / "index.html")


# --------------------------------------------------------------------------------------------------
# Dagster
# --------------------------------------------------------------------------------------------------


@dg.asset(
    ins={
        "monitor_stoplight": dg.AssetIn("monitor_stoplight"),
        "monitor_stoplight_historie": dg.AssetIn("monitor_stoplight_historie"),
        **KPI_INS,
    },
    partitions_def=GEMEENTE_PARTITIES,
    group_name="monitor",
    kinds={"html", "python"},
    owners=OWNERS,
    description=(
        "Statisch HTML-rapport per gemeente en jaar (out/rapport/<gemeente>-<jaar>.html): stoplicht per thema, "
        "trendgrafiek met doel en traject per berekende afspraak (inline SVG, werkt offline), peildatum en "
        "validatiestatus van elke bron, en dezelfde stoplichttabel als CSV en XLSX."
    ),
    metadata={"design": "DESIGN.md §6"},
)
def monitor_rapport(
    context: dg.AssetExecutionContext,
    monitor: MonitorSettings,
    monitor_stoplight: pd.DataFrame,
    monitor_stoplight_historie: pd.DataFrame,
    **kpi_tables: pd.DataFrame,
) -> dg.MaterializeResult:
    sets = monitor.agreements(gemeenten_of(context))
    validation = latest_check_states(context, list(kpi_tables))
    reports = write_reports(
        monitor_stoplight, sets, kpi_tables, monitor.report_dir,
        history=monitor_stoplight_historie, validation=validation, run_id=context.run.run_id,
    )
    files = [str(path) for r in reports for path in (r.html, r.csv, r.xlsx)]
    return dg.MaterializeResult(
        metadata={
            "rapportmap": dg.MetadataValue.path(str(Path(monitor.report_dir).resolve())),
            "index": dg.MetadataValue.path(str((Path(monitor.report_dir) / "index.html").resolve())),
            "bestanden": dg.MetadataValue.json(files),
            "rapporten": dg.MetadataValue.md(
                "\n".join(f"- {r.gemeente_naam} {r.jaar}: `{r.html}`" for r in reports) or "geen"
            ),
            "validatiestatus_bekend_voor": dg.MetadataValue.json(sorted(validation)),
        }
    )

