"""Figure builders and URL state as plain functions: exact data in, exact traces and links out."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from app.dashboard import figures, state
from app.dashboard.data import COMPARE_COLUMNS, GRID_COLUMNS, MAP_COLUMNS, MONTHLY_COLUMNS, bucket_start
from app.dashboard.table import Table, to_csv
from trials.models import EquipmentClass, Technology


def _bar_row(port: str, trial: str, technology: str, value: float | None) -> tuple[object, ...]:
    """One compare row with fixed inputs for the hover."""
    return (
        port,
        trial,
        technology,
        value,
        "kWh/h",
        3,
        90,
        900.0,
        50.0,
        "hour",
        "declared",
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
    assert list(bars[0].text) == ["n = 3 units, 90 days"]
    assert "factor set ZE-2024, location-based" in bars[0].hovertext[0]
    assert "baseline: declared" in bars[0].hovertext[0]
    assert "check: Only 80 % of the work has energy recorded" in bars[0].hovertext[0]  # a trust check to weigh
    assert "check:" not in bars[1].hovertext[0]
    (missing,) = [trace for trace in figure.data if trace.name == "n/a (missing data)"]
    (order,) = [trace for trace in figure.data if trace.name == "axis order"]
    assert list(order.x[1]) == ["LAX-1", "LGB-1", "LGB-2"]  # the table's order, whatever trace draws each
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
    figure = figures.monthly_by_port(table, ["SGSIN", "USLAX", "USLGB"])
    assert [trace.name for trace in figure.data] == ["SGSIN", "USLAX"]
    sgsin, uslax = figure.data
    assert list(sgsin.x) == ["2025-01", "2025-02"]
    assert math.isnan(sgsin.y[0]) and sgsin.y[1] == 1.0
    assert list(uslax.y) == [2.5, 3.0]
    assert (sgsin.marker.color, uslax.marker.color) == (figures.OKABE_ITO[0], figures.OKABE_ITO[1])
    assert figure.layout.barmode == "relative"
    assert figure.layout.yaxis.title.text == "Avoided (t CO2e)"


def test_the_port_map_sizes_by_avoided_emissions_and_greys_out_ports_without_a_figure() -> None:
    table = Table(
        MAP_COLUMNS,
        [("USLAX", "Los Angeles", 33.7, -118.3, 2, 100.0, 2), ("SGSIN", "Singapore", 1.3, 103.8, 1, None, 0)],
    )
    (trace,) = figures.port_map(table).data
    assert list(trace.marker.size) == [50.0, 8.0]
    assert list(trace.marker.color) == [figures.OKABE_ITO[2], figures.MISSING]
    assert "avoided: n/a t CO2e" in trace.hovertext[1]


def test_grid_scatter_plots_intensity_against_reduction_and_skips_na() -> None:
    table = Table(
        GRID_COLUMNS,
        [
            ("USLGB", "LGB-1", "battery_electric", 229.0, 2025, 40.0, 300),
            ("IDTPP", "TPP-1", "battery_electric", 663.0, 2025, -5.0, 280),
            ("SGSIN", "SIN-1", "battery_electric", 485.0, 2025, None, 0),
        ],
    )
    (trace,) = figures.grid_scatter(table).data
    assert (list(trace.x), list(trace.y), list(trace.text)) == ([229.0, 663.0], [40.0, -5.0], ["USLGB", "IDTPP"])


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
