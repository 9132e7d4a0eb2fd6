"""Pure figure builders: a Table in, a titled go.Figure out, with units on the axes and colour-blind-safe colours."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from app.dashboard.table import Table
from trials import registry
from trials.periods import month_text, months_between

#: Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TECHNOLOGY_COLOURS = {
    "battery_electric": OKABE_ITO[0],
    "hydrogen_fuel_cell": OKABE_ITO[1],
    "hydrogen_combustion": OKABE_ITO[5],
    "hybrid_diesel_electric": OKABE_ITO[3],
    "grid_electric": OKABE_ITO[2],
    "diesel": OKABE_ITO[7],
}
MISSING = "#9aa5b1"
NO_DATA = "No data in this view"


def colour(index: int) -> str:
    """The palette's colour for the n-th series."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def label(code: str) -> str:
    """A stored value as people read it, from the one registry: battery_electric as 'battery electric'."""
    return registry.label(code)


#: Legends sit at the foot of the chart, under the axis title, however many rows they take: never over the title.
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yref": "container", "yanchor": "bottom"}

#: Axis style of every chart: light grid on white, as Plotly's "plotly_white" template draws it.
_AXIS = {"gridcolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "linecolor": "#c8d4e3", "automargin": True}


def _base(title: str, x_title: str = "", y_title: str = "") -> go.Figure:
    """An empty figure with the look every chart shares, styled directly: a named template costs 30 ms a figure."""
    return go.Figure(
        layout={
            "template": {},  # none: not even the default one, which Plotly deep-copies into every figure
            "title": {"text": title, "x": 0.01},
            "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
            "legend": LEGEND_BELOW,
            "xaxis": {"title": {"text": x_title}, **_AXIS},
            "yaxis": {"title": {"text": y_title}, **_AXIS},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "font": {"family": "system-ui, sans-serif", "size": 13, "color": "#2a3f5f"},
            "colorway": list(OKABE_ITO),
        }
    )


#: Room for a right-hand axis's ticks and title.
RIGHT_AXIS_MARGIN = 80


def _add_right_axis(figure: go.Figure, title: str) -> None:
    """A second y axis on the right, for a series in another unit, with room for it. Layout properties are set
    one by one: update_layout parses every key as a property path, which cost 12 ms a call."""
    figure.layout.yaxis2 = {"title": {"text": title}, "overlaying": "y", "side": "right", "showgrid": False}
    figure.layout.margin.r = RIGHT_AXIS_MARGIN


def _empty(figure: go.Figure, message: str = NO_DATA) -> go.Figure:
    """Say plainly that there is nothing to draw, rather than draw zeros."""
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.layout.xaxis.visible = False
    figure.layout.yaxis.visible = False
    return figure


def _escaped(values: Iterable[Any]) -> list[str]:
    """Text from the data as Plotly must be given it: Plotly reads tags such as <a href> in any text it draws (axis
    labels, hovers, legends), so a trial code or baseline source could become a live link; escaped, it shows as
    typed (Plotly turns &lt; back into <). Each distinct value is escaped once: a spread repeats its trials' codes
    and ports' names on thousands of points."""
    listed = list(values)
    escaped = {value: html.escape(str(value), quote=False) for value in set(listed)}
    return [escaped[value] for value in listed]


def _fmt(value: float | None, digits: int = 1) -> str:
    """A number for hover text, or n/a."""
    return "n/a" if value is None or value != value else f"{value:,.{digits}f}"


def port_map(table: Table, ports: Sequence[str]) -> go.Figure:
    """Partner ports on a world map, sized by avoided well-to-wheel emissions and coloured as in the monthly chart
    (the same fixed port order); names and figures in the legend below and in the hover, never printed on the map,
    where close ports (Los Angeles and Long Beach) would print over each other; n/a ports small and grey."""
    figure = _base("Avoided GHG by port (t CO2e, well-to-wheel)")
    if not table.rows:
        return _empty(figure)
    avoided = table.numbers("ghg_wtw_avoided_t")
    known = np.nan_to_num(np.clip(avoided, 0, None))
    scale = float(np.sqrt(known.max())) if known.max() > 0 else 1.0
    sizes = np.where(np.isnan(avoided), 8.0, 10.0 + 40.0 * np.sqrt(known) / scale)
    order = {port: index for index, port in enumerate(ports)}
    rows = zip(
        table.column("port"),
        _escaped(table.column("name")),
        table.column("lat"),
        table.column("lon"),
        table.column("trials"),
        table.column("ghg_wtw_avoided_t"),
        table.column("trials_with_data"),
        sizes,
        strict=True,
    )
    # the largest drawn first, so a small port beside a large one (Los Angeles by Long Beach) stays in sight; the
    # legend keeps the ports' fixed order
    for port, name, lat, lon, trials, value, with_data, size in sorted(rows, key=lambda row: -row[7]):
        figure.add_trace(
            go.Scattergeo(
                lat=[lat],
                lon=[lon],
                mode="markers",
                marker={
                    "size": [size],
                    "color": MISSING if value is None else colour(order.get(port, 0)),
                    "line": {"width": 1, "color": "#1d2733"},
                },
                name=f"{name}: {_fmt(value)} t",
                legendrank=order.get(port, len(order)),
                opacity=0.85,
                hovertext=[
                    f"{name} ({html.escape(port, quote=False)})<br>{registry.counted(trials, 'trial')}, {with_data}"
                    f" with a figure<br>avoided: {_fmt(value)} t CO2e"
                ],
                hoverinfo="text",
            )
        )
    figure.update_geos(
        showcountries=True,
        showland=True,
        landcolor="#eef1f4",
        projection_type="natural earth",
        fitbounds=False,  # always the whole world, however few ports are in view
        lataxis_range=[-60, 85],
        lonaxis_range=[-180, 180],
    )
    figure.layout.margin = {"l": 0, "r": 0, "t": 50, "b": 0}
    return figure


def month_axis(months: Iterable[str]) -> list[str]:
    """Every month from the first to the last given ('2025-12' ... '2026-09'), so months without data show as gaps
    on the axis instead of being skipped."""
    found = sorted(set(months))
    if not found:
        return []
    first, last = date.fromisoformat(f"{found[0]}-01"), date.fromisoformat(f"{found[-1]}-01")
    return [month_text(month) for month in months_between(first, last)]


def monthly_by_port(table: Table, ports: Mapping[str, str]) -> go.Figure:
    """Avoided emissions per month on a continuous month axis, one stacked bar segment per port named in words (in a
    fixed port order, so colours hold)."""
    figure = _base("Avoided GHG per month by port (well-to-wheel)", "Month", "Avoided (t CO2e)")
    if not table.rows:
        return _empty(figure)
    months = month_axis(table.column("month"))
    for index, (port, name) in enumerate(ports.items()):
        rows = table.where("port", port)
        if not rows.rows:
            continue
        shown = html.escape(name, quote=False).replace("%", "%%")  # a hover template reads %{...} too
        values = dict(zip(rows.column("month"), rows.column("ghg_wtw_avoided_t"), strict=True))
        y = np.array([np.nan if values.get(m) is None else values[m] for m in months], dtype=np.float64)
        figure.add_trace(
            go.Bar(
                x=months,
                y=y,
                name=shown,
                marker_color=colour(index),
                hovertemplate=f"{shown} %{{x}}: %{{y:,.1f}} t CO2e<extra></extra>",
            )
        )
    figure.layout.barmode = "relative"
    figure.layout.xaxis.type = "category"
    return figure


def _categories(table: Table) -> npt.NDArray[np.str_]:
    """Two-level x categories: port (by name), then trial, as an array: Plotly checks a list item by item, an array at
    once."""
    levels = [_escaped(table.column("port_name")), _escaped(table.column("trial"))]
    return np.array(levels, dtype=np.str_).reshape(2, len(table.rows))


def _axis_order(figure: go.Figure, table: Table) -> None:
    """Lay the categories out in the table's order (by port, then trial), whichever trace draws each: Plotly
    orders categories by first appearance, so an invisible trace names them all first, each once."""
    pairs = zip(_escaped(table.column("port_name")), _escaped(table.column("trial")), strict=True)
    ports, trials = zip(*dict.fromkeys(pairs), strict=True)
    figure.add_trace(
        go.Scatter(
            x=np.array([ports, trials], dtype=np.str_),
            y=[None] * len(trials),
            mode="markers",
            name="axis order",
            showlegend=False,
            hoverinfo="skip",
        )
    )


def compare_bars(table: Table, title: str, unit: str) -> go.Figure:
    """One bar per trial grouped by port and coloured by technology, each with its n; n/a marked, never drawn as 0."""
    figure = _base(title, "Port / trial", f"{title} ({unit})" if unit else title)
    if not table.rows:
        return _empty(figure)
    _axis_order(figure, table)
    for technology in table.distinct("technology"):
        rows = table.where("technology", technology)
        present = Table(rows.columns, [row for row in rows.rows if row[rows.columns.index("value")] is not None])
        if not present.rows:
            continue
        n_text = [
            f"n = {registry.counted(units, 'unit')}, {registry.counted(days, 'day')}"
            for units, days in zip(present.column("units_with_data"), present.column("days_with_data"), strict=True)
        ]
        hover = [
            _compare_hover(technology, unit, *row)
            for row in zip(
                _escaped(present.column("trial")),
                _escaped(present.column("port_name")),
                present.column("value"),
                n_text,
                present.column("final_energy_kwh"),
                present.column("activity"),
                _escaped(present.column("activity_unit")),
                _escaped(present.column("baseline")),
                _escaped(present.column("hydrogen")),
                present.column("grid_kg_per_kwh"),
                _escaped(present.column("factor_set")),
                present.column("basis"),
                _escaped(present.column("checks")),
                strict=True,
            )
        ]
        figure.add_trace(
            go.Bar(
                x=_categories(present),
                y=present.numbers("value"),
                name=label(technology),
                marker_color=TECHNOLOGY_COLOURS.get(technology, MISSING),
                text=n_text,
                textposition="outside",
                hovertext=hover,
                hoverinfo="text",
            )
        )
    missing = Table(table.columns, [row for row in table.rows if row[table.columns.index("value")] is None])
    if missing.rows:
        figure.add_trace(
            go.Scatter(
                x=_categories(missing),
                y=np.zeros(len(missing.rows)),
                mode="text",
                text=["n/a"] * len(missing.rows),
                textposition="top center",
                name="n/a (missing data)",
                hovertext=[f"{trial}: n/a, the inputs are missing" for trial in _escaped(missing.column("trial"))],
                hoverinfo="text",
            )
        )
    figure.layout.barmode = "group"
    figure.layout.uniformtext.minsize = 9
    return figure


def _compare_hover(technology: str, unit: str, *row: Any) -> str:
    """One trial's bar hover: its value and n, what it was made from, and the trust checks to weigh (escaped)."""
    trial, port, value, n, energy, activity, activity_unit, baseline, hydrogen, grid, factor_set, basis, checks = row
    return (
        f"<b>{trial}</b> ({label(technology)}, {port})<br>value: {_fmt(value, 3)} {unit}<br>{n}"
        f"<br>final energy: {_fmt(energy, 0)} kWh<br>activity: {_fmt(activity, 0)} {activity_unit}"
        f"<br>baseline: {baseline}"
        + (f"<br>hydrogen: {hydrogen}" if hydrogen else "")
        + f"<br>grid factor: {_fmt(grid, 3)} kg CO2e/kWh"
        f"<br>factor set {factor_set}, {basis}-based" + (f"<br>check: {checks}" if checks else "")
    )


def compare_spread(table: Table, title: str, unit: str) -> go.Figure:
    """Every unit's result per trial, as a box with its points, so a fleet's spread shows beside its mean."""
    figure = _base(f"Spread of unit results: {title}", "Port / trial", f"{title} ({unit})" if unit else title)
    present = Table(table.columns, [row for row in table.rows if row[table.columns.index("value")] is not None])
    if not present.rows:
        return _empty(figure)
    _axis_order(figure, present)
    for technology in present.distinct("technology"):
        rows = present.where("technology", technology)
        figure.add_trace(
            go.Box(
                x=_categories(rows),
                y=rows.numbers("value"),
                name=label(technology),
                marker_color=TECHNOLOGY_COLOURS.get(technology, MISSING),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                hovertext=np.array(
                    [
                        f"{trial} unit {unit_id}"
                        for trial, unit_id in zip(
                            _escaped(rows.column("trial")), _escaped(rows.column("unit_id")), strict=True
                        )
                    ],
                    dtype=np.str_,
                ),
            )
        )
    figure.layout.boxmode = "group"
    figure.layout.yaxis.rangemode = "tozero"  # from zero, so small differences between units do not look large
    return figure


#: How far the grid scatter's x axis runs past its highest point: room for a port's name centred above it.
GRID_AXIS_ROOM = 1.2


def grid_scatter(table: Table) -> go.Figure:
    """How each port's grid intensity drives its trials' well-to-wheel reduction."""
    figure = _base(
        "Grid intensity against GHG reduction",  # short enough for a phone: Plotly does not wrap titles
        "Grid, location-based (g CO2e/kWh)",
        "GHG reduction, well-to-wheel (%)",
    )
    present = Table(
        table.columns,
        [
            row
            for row in table.rows
            if row[table.columns.index("grid_g_per_kwh")] is not None
            and row[table.columns.index("ghg_wtw_reduction_pct")] is not None
        ],
    )
    if not present.rows:
        return _empty(figure)
    for technology in present.distinct("technology"):
        rows = present.where("technology", technology)
        figure.add_trace(
            go.Scatter(
                x=rows.numbers("grid_g_per_kwh"),
                y=rows.numbers("ghg_wtw_reduction_pct"),
                mode="markers+text",
                text=_escaped(rows.column("port_name")),
                textposition="top center",
                name=label(technology),
                marker={"size": 12, "color": TECHNOLOGY_COLOURS.get(technology, MISSING)},
                hovertext=[
                    f"{trial} ({port}): grid {_fmt(grid, 0)} g/kWh ({year}), reduction {_fmt(pct)} %, {days} days"
                    for trial, port, grid, year, pct, days in zip(
                        _escaped(rows.column("trial")),
                        _escaped(rows.column("port_name")),
                        rows.column("grid_g_per_kwh"),
                        rows.column("grid_year"),
                        rows.column("ghg_wtw_reduction_pct"),
                        rows.column("days_with_data"),
                        strict=True,
                    )
                ],
                hoverinfo="text",
            )
        )
    figure.layout.xaxis.rangemode = "tozero"  # from zero on both axes: a few points never look further apart than
    figure.layout.yaxis.rangemode = "tozero"  # they are
    highest = float(present.numbers("grid_g_per_kwh").max())
    if highest > 0:  # the grid axis ends a fifth past its highest point: the name centred above it is not cut off
        figure.layout.xaxis.range = [0, GRID_AXIS_ROOM * highest]
    return figure


def trial_series(table: Table, grain: str) -> go.Figure:
    """Energy (bars) and primary activity (line, right axis) per day, week or month."""
    activity_unit = table.rows[0][table.columns.index("activity_unit")] if table.rows else "activity"
    figure = _base(f"Energy and activity per {grain}", grain.capitalize(), "Final energy (kWh)")
    if not table.rows:
        return _empty(figure)
    x = np.array(table.column("period_start"), dtype=np.str_)  # ISO days: an array, checked at once
    figure.add_trace(
        go.Bar(x=x, y=table.numbers("final_energy_kwh"), name="final energy (kWh)", marker_color=OKABE_ITO[0])
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=table.numbers("activity"),
            name=f"activity ({activity_unit})",
            yaxis="y2",
            mode="lines+markers",
            line={"color": OKABE_ITO[1]},
        )
    )
    _add_right_axis(figure, f"Activity ({activity_unit})")
    return figure


def trial_vs_baseline(table: Table, ghg: str) -> go.Figure:
    """The trial's emissions beside what its diesel baseline would have emitted for the same work."""
    scope = "well-to-wheel" if ghg == "wtw" else "tank-to-wheel"
    figure = _base(f"Trial against baseline ({scope})", "Period", "GHG (kg CO2e)")
    if not table.rows:
        return _empty(figure)
    x = np.array(table.column("period_start"), dtype=np.str_)  # ISO days: an array, checked at once
    figure.add_trace(go.Bar(x=x, y=table.numbers("ghg_kg"), name="trial", marker_color=OKABE_ITO[0]))
    figure.add_trace(go.Bar(x=x, y=table.numbers("baseline_ghg_kg"), name="diesel baseline", marker_color=OKABE_ITO[7]))
    figure.layout.barmode = "group"
    return figure


def availability(table: Table) -> go.Figure:
    """Availability (line) and unplanned downtime (bars, right axis) per period."""
    figure = _base("Availability and downtime", "Period", "Availability (%)")
    if not table.rows:
        return _empty(figure)
    x = np.array(table.column("period_start"), dtype=np.str_)  # ISO days: an array, checked at once
    figure.add_trace(
        go.Scatter(
            x=x, y=table.numbers("availability_pct"), name="availability (%)", mode="lines+markers",
            line={"color": OKABE_ITO[2]},
        )
    )  # fmt: skip
    figure.add_trace(
        go.Bar(x=x, y=table.numbers("downtime_hours"), name="downtime (h)", yaxis="y2", marker_color=OKABE_ITO[5])
    )
    figure.layout.yaxis.range = [0, 105]
    _add_right_axis(figure, "Downtime (h)")
    return figure


def charging(table: Table) -> go.Figure:
    """Charging sessions (bars) and electricity drawn (line, right axis) per period; n/a when none were reported."""
    figure = _base("Charging", "Period", "Charging sessions")
    sessions = table.numbers("charging_sessions")
    if not table.rows or bool(np.isnan(sessions).all()):
        return _empty(figure, "n/a: no charging sessions reported for this trial and period")
    x = np.array(table.column("period_start"), dtype=np.str_)  # ISO days: an array, checked at once
    figure.add_trace(go.Bar(x=x, y=sessions, name="charging sessions", marker_color=OKABE_ITO[4]))
    figure.add_trace(
        go.Scatter(
            x=x, y=table.numbers("energy_kwh"), name="electricity (kWh)", yaxis="y2", mode="lines",
            line={"color": OKABE_ITO[0]},
        )
    )  # fmt: skip
    _add_right_axis(figure, "Electricity (kWh)")
    return figure


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def coverage_calendar(table: Table, covered_pct: float | None = None) -> go.Figure:
    """A calendar of the trial period so far: a filled cell for each day a trial unit's data cover, blank otherwise;
    the title gives the share of days covered when it is known."""
    title = "Data coverage calendar" if covered_pct is None else f"Data coverage calendar: {covered_pct:.1f} % of days"
    figure = _base(title, "Week starting", "")
    if not table.rows:
        return _empty(figure)
    days = [date.fromisoformat(day) for day in table.column("day")]
    first_monday = days[0] - timedelta(days=days[0].weekday())
    weeks = (days[-1] - first_monday).days // 7 + 1
    grid = np.full((7, weeks), np.nan)
    for day, covered in zip(days, table.column("covered"), strict=True):
        grid[day.weekday(), (day - first_monday).days // 7] = covered
    x = [(first_monday + timedelta(weeks=week)).isoformat() for week in range(weeks)]
    figure.add_trace(
        go.Heatmap(
            z=grid,
            x=x,
            y=list(WEEKDAYS),
            colorscale=[[0, "#f2f2f2"], [1, OKABE_ITO[0]]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="week of %{x}, %{y}: %{z}<extra>1 = data, 0 = none</extra>",
        )
    )
    figure.layout.yaxis.autorange = "reversed"
    return figure
