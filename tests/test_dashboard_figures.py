"""Figure builders and URL state as plain functions: exact data in, exact traces and links out."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from app.dashboard import figures, state
from app.dashboard.compare_data import COMPARE_COLUMNS, GRID_COLUMNS, SPREAD_COLUMNS
from app.dashboard.data import MAP_COLUMNS, MONTHLY_COLUMNS
from app.dashboard.table import Table, to_csv
from trials.models import EquipmentClass, Technology
from trials.periods import bucket_start


def _bar_row(port: str, trial: str, technology: str, value: float | None) -> tuple[object, ...]:
    """One compare row with fixed inputs for the hover."""
    return (
        port,
        {"USLAX": "Los Angeles", "USLGB": "Long Beach"}[port],
        trial,
        technology,
        value,
        "kWh/h",
        3 if trial != "LGB-1" else 1,
        90,
        900.0,
        50.0,
        "operating hours",
        "A diesel machine, declared (OEM spec): 6.60 L per operating hour.",
        "Grey (from natural gas), 11.00 kg CO2e per kg." if technology == "hydrogen_fuel_cell" else "",
        0.229,
        "ZE-2024",
        "location",
        "Only 80 % of the work has energy recorded on the same rows." if trial == "LAX-1" else "",
    )


def test_compare_bars_carry_n_and_mark_missing_values_as_na_not_zero() -> None:
    table = Table(
        COMPARE_COLUMNS,
        [
            _bar_row("USLAX", "LAX-1", "battery_electric", 18.0),
            _bar_row("USLGB", "LGB-1", "hydrogen_fuel_cell", 37.5),
            _bar_row("USLGB", "LGB-2", "battery_electric", None),
        ],
    )
    figure = figures.compare_bars(table, "Energy per primary activity unit", "kWh/h")
    bars = [trace for trace in figure.data if trace.type == "bar"]
    assert [(trace.name, list(trace.y), list(trace.x[1])) for trace in bars] == [
        ("battery electric", [18.0], ["LAX-1"]),
        ("hydrogen fuel cell", [37.5], ["LGB-1"]),
    ]
    assert (list(bars[0].text), list(bars[1].text)) == (["n = 3 units, 90 days"], ["n = 1 unit, 90 days"])
    assert "factor set ZE-2024, location-based" in bars[0].hovertext[0]
    assert "(battery electric, Los Angeles)" in bars[0].hovertext[0]
    assert "baseline: A diesel machine, declared (OEM spec): 6.60 L per operating hour." in bars[0].hovertext[0]
    assert "<br>hydrogen: Grey (from natural gas), 11.00 kg CO2e per kg." in bars[1].hovertext[0]
    assert "hydrogen" not in bars[0].hovertext[0]
    assert "check: Only 80 % of the work has energy recorded" in bars[0].hovertext[0]  # a trust check to weigh
    assert "check:" not in bars[1].hovertext[0]
    (missing,) = [trace for trace in figure.data if trace.name == "n/a (missing data)"]
    (order,) = [trace for trace in figure.data if trace.name == "axis order"]
    assert list(order.x[1]) == ["LAX-1", "LGB-1", "LGB-2"]  # the table's order, whatever trace draws each
    assert list(order.x[0]) == ["Los Angeles", "Long Beach", "Long Beach"]  # ports by name
    assert (list(missing.x[1]), list(missing.text)) == (["LGB-2"], ["n/a"])
    assert figure.layout.yaxis.title.text == "Energy per primary activity unit (kWh/h)"
    assert figure.layout.title.text == "Energy per primary activity unit"


def test_a_figure_without_data_says_so_instead_of_drawing_zeros() -> None:
    figure = figures.compare_bars(Table(COMPARE_COLUMNS), "Availability", "%")
    assert figure.data == ()
    assert figure.layout.annotations[0].text == figures.NO_DATA


def test_monthly_bars_stack_ports_in_a_fixed_order_with_gaps_left_empty() -> None:
    table = Table(
        MONTHLY_COLUMNS,
        [("2025-01", "USLAX", 2.5, 1), ("2025-02", "USLAX", 3.0, 1), ("2025-02", "SGSIN", 1.0, 1)],
    )
    figure = figures.monthly_by_port(table, {"SGSIN": "Singapore", "USLAX": "Los Angeles", "USLGB": "Long Beach"})
    assert [trace.name for trace in figure.data] == ["Singapore", "Los Angeles"]  # port names, never codes
    sgsin, uslax = figure.data
    assert list(sgsin.x) == ["2025-01", "2025-02"]
    assert math.isnan(sgsin.y[0]) and sgsin.y[1] == 1.0
    assert list(uslax.y) == [2.5, 3.0]
    assert (sgsin.marker.color, uslax.marker.color) == (figures.OKABE_ITO[0], figures.OKABE_ITO[1])
    assert figure.layout.barmode == "relative"
    assert figure.layout.yaxis.title.text == "Avoided (t CO2e)"


def test_months_without_data_are_gaps_on_a_continuous_axis() -> None:
    rows = [("2025-11", "USLAX", 2.0, 1), ("2025-12", "USLAX", 1.0, 1), ("2026-03", "USLAX", 4.0, 1)]
    (uslax,) = figures.monthly_by_port(Table(MONTHLY_COLUMNS, rows), {"USLAX": "Los Angeles"}).data
    # 2026-01 and 2026-02 have no data: they stay on the axis, empty, rather than 2025-12 jumping to 2026-03
    assert list(uslax.x) == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert [None if math.isnan(y) else y for y in uslax.y] == [2.0, 1.0, None, None, 4.0]
    assert figures.month_axis([]) == []


def test_legends_sit_below_the_chart_never_over_its_title() -> None:
    table = Table(MONTHLY_COLUMNS, [("2025-01", "USLAX", 2.5, 1), ("2025-01", "SGSIN", 1.0, 1)])
    figure = figures.monthly_by_port(table, {"SGSIN": "Singapore", "USLAX": "Los Angeles"})
    legend = figure.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0, "bottom", "h")
    assert figure.layout.title.text == "Avoided GHG per month by port (well-to-wheel)"


def test_port_names_are_in_the_legend_never_printed_over_each_other_on_the_map() -> None:
    # Los Angeles and Long Beach are 0.05 degrees apart: names printed beside their markers would overlap, so the
    # map prints none; each port is a legend entry with its name and figure, coloured as in the monthly chart
    table = Table(
        MAP_COLUMNS,
        [
            ("USLAX", "Los Angeles", 33.7395, -118.2610, 2, 100.0, 2),
            ("USLGB", "Long Beach", 33.7542, -118.2165, 1, 25.0, 1),
        ],
    )
    # Los Angeles, the larger, is drawn first so Long Beach stays in sight on top of it; the legend keeps the order
    los_angeles, long_beach = figures.port_map(table, ["USLGB", "USLAX"]).data
    assert (los_angeles.name, long_beach.name) == ("Los Angeles: 100.0 t", "Long Beach: 25.0 t")
    assert (long_beach.legendrank, los_angeles.legendrank) == (0, 1)
    assert {los_angeles.mode, long_beach.mode} == {"markers"}  # no text drawn on the map
    assert (long_beach.marker.color, los_angeles.marker.color) == (figures.OKABE_ITO[0], figures.OKABE_ITO[1])
    assert "1 trial, 1 with a figure" in long_beach.hovertext[0]
    assert "2 trials, 2 with a figure" in los_angeles.hovertext[0]


def test_the_spread_axis_starts_at_zero() -> None:
    rows = [
        ("USLGB", "Long Beach", "LGB-1", "battery_electric", "U1", 54.75, "kWh/h"),
        ("USLGB", "Long Beach", "LGB-1", "battery_electric", "U2", 55.0, "kWh/h"),
    ]
    figure = figures.compare_spread(Table(SPREAD_COLUMNS, rows), "Energy per operating hour", "kWh/h")
    assert figure.layout.yaxis.rangemode == "tozero"  # 54.75 against 55.0 does not look like a large difference


def test_the_port_map_sizes_by_avoided_emissions_and_greys_out_ports_without_a_figure() -> None:
    table = Table(
        MAP_COLUMNS,
        [("USLAX", "Los Angeles", 33.7, -118.3, 2, 100.0, 2), ("SGSIN", "Singapore", 1.3, 103.8, 1, None, 0)],
    )
    los_angeles, singapore = figures.port_map(table, ["USLAX", "SGSIN"]).data
    assert (list(los_angeles.marker.size), list(singapore.marker.size)) == ([50.0], [8.0])
    assert (los_angeles.marker.color, singapore.marker.color) == (figures.OKABE_ITO[0], figures.MISSING)
    assert "avoided: n/a t CO2e" in singapore.hovertext[0]


def test_grid_scatter_plots_intensity_against_reduction_and_skips_na() -> None:
    table = Table(
        GRID_COLUMNS,
        [
            ("USLGB", "Long Beach", "LGB-1", "battery_electric", 229.0, 2025, 40.0, 300),
            ("IDTPP", "Tanjung Priok", "TPP-1", "battery_electric", 663.0, 2025, -5.0, 280),
            ("SGSIN", "Singapore", "SIN-1", "battery_electric", 485.0, 2025, None, 0),
        ],
    )
    (trace,) = figures.grid_scatter(table).data
    assert (list(trace.x), list(trace.y)) == ([229.0, 663.0], [40.0, -5.0])
    assert list(trace.text) == ["Long Beach", "Tanjung Priok"]  # port names, not codes
    axes = figures.grid_scatter(table).layout
    assert (axes.xaxis.rangemode, axes.yaxis.rangemode) == ("tozero", "tozero")  # a few points, not zoomed apart


def test_the_grid_axis_leaves_room_for_the_name_above_its_highest_point() -> None:
    table = Table(GRID_COLUMNS, [("IDTPP", "Tanjung Priok", "TPP-1", "battery_electric", 663.0, 2025, 51.0, 280)])
    assert tuple(figures.grid_scatter(table).layout.xaxis.range) == (0, 663.0 * 1.2)  # 795.6 g/kWh, a fifth more


def test_the_coverage_calendar_lays_days_out_by_week_and_weekday() -> None:
    table = Table(("day", "covered"), [("2024-01-06", 1), ("2024-01-07", 0), ("2024-01-08", 1)])  # Sat, Sun, Mon
    (heatmap,) = figures.coverage_calendar(table).data
    z = np.array(heatmap.z)
    assert list(heatmap.x) == ["2024-01-01", "2024-01-08"]
    assert z.shape == (7, 2)
    assert (z[5, 0], z[6, 0], z[0, 1]) == (1, 0, 1)
    assert np.isnan(z[0, 0])  # before the period: blank, not "no data"


def test_charging_without_reported_sessions_is_na() -> None:
    table = Table(("period_start", "charging_sessions", "energy_kwh"), [("2024-01-01", None, 10.0)])
    figure = figures.charging(table)
    assert figure.data == ()
    assert figure.layout.annotations[0].text.startswith("n/a")


@pytest.mark.parametrize(
    ("grain", "day", "start"),
    [("day", date(2024, 5, 15), date(2024, 5, 15)), ("week", date(2024, 5, 15), date(2024, 5, 13)),
     ("month", date(2024, 5, 15), date(2024, 5, 1))],
)  # fmt: skip
def test_buckets_start_on_the_day_monday_or_first_of_the_month(grain: state.Grain, day: date, start: date) -> None:
    assert bucket_start(day, grain) == start


def test_a_view_survives_the_round_trip_through_its_url() -> None:
    view = state.ViewState(
        ports=("USLAX", "USLGB"),
        equipment_class=EquipmentClass.yard_tractor,
        technologies=(Technology.battery_electric,),
        first_month=202501,
        last_month=202506,
        metric="reduction_pct",
        ghg="ttw",
        basis="market",
        grain="week",
    )
    search = state.to_search(view)
    assert search == (
        "?port=USLAX,USLGB&class=yard_tractor&tech=battery_electric&from=2025-01&to=2025-06"
        "&metric=reduction_pct&ghg=ttw&basis=market&grain=week"
    )
    assert state.parse(search) == view


def test_junk_in_the_url_is_ignored_never_trusted() -> None:
    view = state.parse("?port=<script>,USLAX&class=spaceship&tech=steam&from=2025-13&metric=drop&ghg=x&basis=y")
    assert view == state.ViewState(ports=("USLAX",))
    assert state.to_search(state.ViewState()) == ""


@pytest.mark.parametrize(
    ("metric", "ghg", "equipment_class", "key"),
    [
        ("energy_per_activity", "wtw", EquipmentClass.drayage_truck, "kwh_per_km"),
        ("energy_per_activity", "ttw", EquipmentClass.rtg_crane, "kwh_per_move"),
        ("ghg_avoided", "ttw", EquipmentClass.tug, "ghg_ttw_avoided_kg"),
        ("reduction_pct", "wtw", EquipmentClass.tug, "ghg_wtw_reduction_pct"),
        ("reduction_pct", "ttw", EquipmentClass.tug, None),  # no tank-to-wheel reduction is defined
    ],
)
def test_the_metric_is_always_per_the_class_activity_unit(
    metric: str, ghg: state.GhgScope, equipment_class: EquipmentClass, key: str | None
) -> None:
    assert state.ViewState(metric=metric, ghg=ghg).metric_key(equipment_class) == key


def test_csv_downloads_leave_missing_cells_empty_and_defuse_formulas() -> None:
    table = Table(("trial", "value"), [("=HYPERLINK(1)", None), ("LAX-1", 2.5)])
    assert to_csv(table, ["factor set ZE-2024"]) == ("trial,value\n'=HYPERLINK(1),\nLAX-1,2.5\n# factor set ZE-2024\n")


@pytest.mark.parametrize(
    ("preset", "today", "months"),
    [
        ("last-12-months", date(2026, 12, 7), (202601, 202612)),
        ("last-12-months", date(2026, 1, 31), (202502, 202601)),  # across the year's end: Feb 2025 to Jan 2026
        ("year-to-date", date(2026, 3, 1), (202601, 202603)),
        ("2025", date(2026, 3, 1), (202501, 202512)),
        ("1066", date(2026, 3, 1), None),  # outside the years a view may name
        ("soon", date(2026, 3, 1), None),
        (None, date(2026, 3, 1), None),
    ],
)
def test_a_period_preset_names_its_first_and_last_month(
    preset: str | None, today: date, months: tuple[int, int] | None
) -> None:
    assert state.preset_months(preset, today) == months


def test_the_preset_control_shows_the_preset_a_view_is_exactly() -> None:
    today = date(2026, 12, 7)
    assert state.preset_of(state.ViewState(first_month=202601, last_month=202612), today) == "last-12-months"
    assert state.preset_of(state.ViewState(first_month=202501, last_month=202512), today) == "2025"
    assert state.preset_of(state.ViewState(first_month=202502, last_month=202512), today) is None
    assert state.preset_of(state.ViewState(first_month=202501), today) is None
    assert state.presets([2024, 2025]) == [
        ("last-12-months", "Last 12 months"),
        ("year-to-date", "Year to date"),
        ("2025", "2025"),
        ("2024", "2024"),
    ]


@pytest.mark.parametrize(
    ("metric", "ghg", "key"),
    [
        ("avoided_per_activity", "wtw", "ghg_wtw_avoided_per_activity_kg"),
        ("avoided_per_unit_year", "wtw", "ghg_wtw_avoided_per_unit_year_kg"),
        ("avoided_per_activity", "ttw", None),  # a well-to-wheel figure only
    ],
)
def test_compare_offers_avoided_emissions_per_unit_of_work_and_per_unit_year(
    metric: str, ghg: state.GhgScope, key: str | None
) -> None:
    assert state.ViewState(metric=metric, ghg=ghg).metric_key(EquipmentClass.yard_tractor) == key


def test_a_factor_set_named_in_the_link_is_kept_and_junk_is_not() -> None:
    assert state.parse("?factors=ZE-2024").factors == "ZE-2024"
    assert state.to_search(state.ViewState(factors="ZE-2024")) == "?factors=ZE-2024"
    assert state.parse("?factors=<script>").factors is None
