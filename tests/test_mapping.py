"""Finding the header row, matching headers to fields through synonyms, and reading units from headers."""

from __future__ import annotations

from datetime import date

import pytest

from importers.mapping import (
    HEADER_SEARCH_ROWS,
    MEASUREMENT_SYNONYMS,
    TRIAL_SYNONYMS,
    MappedColumn,
    SheetKind,
    SheetMapping,
    find_header,
    map_columns,
    match_header,
    sheet_kind,
    split_header,
)
from importers.problems import Problem
from importers.values import MEASUREMENT_SPECS, TRIAL_SPECS, Month

FILE, SHEET = "fleet.xlsx", "Measurements"


def mapped(*headers: object, kind: SheetKind = "measurements") -> SheetMapping:
    """Map one header row (row 1) of a test sheet."""
    return map_columns(1, headers, kind=kind, file=FILE, sheet=SHEET)


def only_column(header: str, kind: SheetKind = "measurements") -> MappedColumn:
    """Map a single header, failing the test unless it gives exactly one column and no problem."""
    mapping = mapped(header, kind=kind)
    assert mapping.problems == [] and len(mapping.columns) == 1, mapping
    return mapping.columns[0]


def header_of(result: SheetMapping | Problem) -> SheetMapping:
    """Give the mapping, failing the test if no header row was found."""
    assert isinstance(result, SheetMapping), result
    return result


# --- the header row --------------------------------------------------------------------------------------------


def test_header_row_is_found_below_title_and_note_rows() -> None:
    rows = [
        (1, ("Fleet telematics export",)),
        (2, ("Generated 2024-05-01", None)),
        (3, ()),
        (4, (None, None, None)),
        (5, ("Unit", "Date", "Energy (kWh)", "Hours", "Odometer")),
        (6, ("RTG-07", date(2024, 3, 1), 812.5, 19.5, 10423.0)),
    ]
    mapping = header_of(find_header(rows, kind="measurements", file=FILE, sheet=SHEET))
    assert mapping.header_row == 5
    assert [(c.index, c.field) for c in mapping.columns] == [
        (0, "unit_id"),
        (1, "period"),
        (2, "energy_kwh"),
        (3, "operating_hours"),
    ]
    assert mapping.kept_as_notes == [(4, "Odometer")]
    assert mapping.problems == []


def test_header_row_is_the_one_naming_the_most_fields() -> None:
    rows = [
        (1, ("Date", "Energy")),  # a group heading that happens to qualify
        (2, ("Unit", "Date", "Energy (kWh)", "Moves", "TEU")),
    ]
    assert header_of(find_header(rows, kind="measurements", file=FILE, sheet=SHEET)).header_row == 2


def test_header_row_tie_goes_to_the_earliest_row() -> None:
    rows = [(3, ("Date", "Energy")), (4, ("Day", "Electricity"))]
    assert header_of(find_header(rows, kind="measurements", file=FILE, sheet=SHEET)).header_row == 3


def test_no_header_row_is_one_problem_for_the_sheet() -> None:
    rows = [(1, ("Fleet telematics export",)), (2, ("RTG-07", 812.5))]
    assert find_header(rows, kind="measurements", file=FILE, sheet=SHEET) == Problem(
        FILE,
        "no header row found in the first 20 rows; expected headers such as 'Unit', 'Date', 'Energy (kWh)'",
        sheet=SHEET,
    )


def test_header_without_a_period_says_what_is_missing() -> None:
    result = find_header([(2, ("Unit", "Energy (kWh)", "Moves"))], kind="measurements", file=FILE, sheet=SHEET)
    assert isinstance(result, Problem)
    assert result.message.endswith(
        "row 2 has 'Unit', 'Energy (kWh)', 'Moves' but no date or period column ('Date', 'Month', or 'Start' and 'End')"
    )


def test_header_without_a_measured_quantity_says_what_is_missing() -> None:
    result = find_header([(1, ("Unit", "Date", "Driver"))], kind="measurements", file=FILE, sheet=SHEET)
    assert isinstance(result, Problem) and "but no measured quantity" in result.message


def test_header_is_only_looked_for_in_the_first_20_rows() -> None:
    rows = [(n, (f"note {n}",)) for n in range(1, HEADER_SEARCH_ROWS + 1)] + [(21, ("Date", "Energy (kWh)"))]
    assert isinstance(find_header(rows, kind="measurements", file=FILE, sheet=SHEET), Problem)
    rows[19] = (20, ("Date", "Energy (kWh)"))
    assert header_of(find_header(iter(rows), kind="measurements", file=FILE, sheet=SHEET)).header_row == 20


def test_trials_header_needs_a_code() -> None:
    rows = [(1, ("Trials register",)), (2, ("Code", "Port", "Equipment class", "Technology", "Start", "End"))]
    mapping = header_of(find_header(rows, kind="trials", file=FILE, sheet="Trials"))
    assert mapping.header_row == 2
    assert [c.field for c in mapping.columns] == [
        "code",
        "port",
        "equipment_class",
        "technology",
        "start_date",
        "end_date",
    ]
    result = find_header([(1, ("Name", "Port", "Technology"))], kind="trials", file=FILE, sheet="Trials")
    assert isinstance(result, Problem) and "no trial code column ('Code')" in result.message


def test_header_rows_are_numbered_as_the_file_numbers_them() -> None:
    rows = [(1, ("Export",)), (21, ("Date", "Energy (kWh)"))]  # blank rows 2-20 were skipped by the reader
    assert isinstance(find_header(rows, kind="measurements", file=FILE, sheet=SHEET), Problem)


def test_split_header_hands_back_every_data_row_of_a_one_pass_stream() -> None:
    data = [(n, (f"RTG-{n}", date(2024, 3, n % 28 + 1), 100.0 + n)) for n in range(4, 40)]
    stream = iter([(1, ("Fleet export",)), (3, ("Unit", "Date", "Energy (kWh)")), *data])
    mapping, rows = split_header(stream, kind="measurements", file=FILE, sheet=SHEET)
    assert header_of(mapping).header_row == 3
    assert list(rows) == data


def test_split_header_without_a_header_hands_back_all_rows() -> None:
    rows = [(1, ("RTG-07", 812.5)), (2, ("RTG-08", 700.0))]
    mapping, rest = split_header(iter(rows), kind="measurements", file=FILE, sheet=SHEET)
    assert isinstance(mapping, Problem) and list(rest) == rows


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Trials", "trials"),
        ("trials", "trials"),
        (" TRIALS ", "trials"),
        ("Measurements", "measurements"),
        ("Sheet1", "measurements"),
    ],
)
def test_sheet_kind_comes_from_the_sheet_name(name: str, kind: str) -> None:
    assert sheet_kind(name) == kind


# --- synonyms --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        *[(h, "operating_hours") for h in ("Operating hours", "Engine hours", "Run hours", "Hours operated", "Hours")],
        *[
            (h, "energy_kwh")
            for h in ("Energy", "Energy consumed", "Electricity", "kWh charged", "Grid energy", "Energy (MWh)")
        ],
        *[(h, "diesel_l") for h in ("Diesel", "Fuel used", "Diesel used", "Fuel consumption")],
        *[(h, "hydrogen_kg") for h in ("Hydrogen", "H2 dispensed", "Hydrogen used")],
        *[(h, "distance_km") for h in ("Distance", "Mileage", "Distance travelled", "Odometer distance")],
        *[(h, "moves") for h in ("Moves", "Lifts", "Container moves")],
        ("TEU", "teu"),
        *[(h, "downtime_hours") for h in ("Downtime", "Unplanned downtime")],
        *[(h, "scheduled_hours") for h in ("Scheduled hours", "Planned hours", "Available hours")],
        *[(h, "period") for h in ("Date", "Day", "Month", "Period")],
        *[(h, "period_start") for h in ("Start", "From", "Period start")],
        *[(h, "period_end") for h in ("End", "To", "Period end")],
        *[
            (h, "unit_id")
            for h in ("Unit", "Unit ID", "Asset", "Vehicle", "Hull", "Machine", "Serial", "VIN", "Unit #")
        ],
        ("Role", "role"),
        *[(h, "trial_code") for h in ("Trial", "Trial code", "Trial ID", "Project code")],
        *[(h, "notes") for h in ("Notes", "Comment", "Remarks")],
        *[(h, "reported_ghg_kg") for h in ("Reported CO2e (kg)", "CO2e emissions (t)", "Reported GHG [kg CO2e]")],
        *[(h, "reported_ghg_avoided_kg") for h in ("CO2 avoided (kg)", "GHG savings (t CO2e)", "CO₂e avoided (kg)")],
        *[(h, "reported_nox_avoided_kg") for h in ("NOx avoided (kg)", "NOx reduction (kg)")],
        *[(h, "charging_sessions") for h in ("Charging sessions", "Charges")],
        ("Cargo (t)", "cargo_tonnes"),
    ],
)
def test_synonyms_match_their_field(header: str, field: str) -> None:
    assert only_column(header).field == field


@pytest.mark.parametrize(
    "header", ["operating hours", "OPERATING HOURS", "Operating_Hours", "  Operating   hours ", "Operating-hours:"]
)
def test_matching_ignores_case_spaces_and_punctuation(header: str) -> None:
    assert only_column(header).field == "operating_hours"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Code", "code"),
        ("Trial name", "name"),
        ("UN/LOCODE", "port"),
        ("Equipment type", "equipment_class"),
        ("Powertrain", "technology"),
        ("Number of units", "units_planned"),
        ("Start", "start_date"),
        ("End date", "end_date"),
        ("OEM", "vendor"),
        ("Grant", "funding"),
        ("Baseline", "baseline_rate"),
        ("Baseline unit", "baseline_unit"),
        ("Baseline source", "baseline_source"),
        ("Rated power (kW)", "rated_power_kw"),
        ("Load factor", "load_factor"),
        ("Market-based factor (gCO2e/kWh)", "market_factor_g_per_kwh"),
        ("Baseline kind", "baseline_kind"),
        ("Compared against", "baseline_kind"),
        ("Hydrogen pathway", "hydrogen_pathway"),
        ("H2 production", "hydrogen_pathway"),
        ("Hydrogen factor (kg CO2e/kg)", "hydrogen_factor_kg_per_kg"),
        ("Hydrogen factor source", "hydrogen_factor_source"),
        ("Baseline engine", "baseline_engine"),
        ("Engine tier", "baseline_engine"),
        ("Visibility", "visibility"),
        ("Remarks", "notes"),
    ],
)
def test_trial_synonyms_match_their_field(header: str, field: str) -> None:
    assert only_column(header, kind="trials").field == field


@pytest.mark.parametrize("field", sorted(MEASUREMENT_SPECS))
def test_canonical_measurement_names_match_themselves(field: str) -> None:
    column = only_column(field)
    assert column.field == field and not column.unit_assumed


def test_synonym_tables_cover_exactly_the_fields_and_never_clash() -> None:
    assert set(MEASUREMENT_SYNONYMS) == set(MEASUREMENT_SPECS)
    assert set(TRIAL_SYNONYMS) == set(TRIAL_SPECS)
    assert match_header("Date", "measurements") is not None  # builds both indexes, which refuse a clashing key
    assert match_header("Code", "trials") is not None


def test_unknown_columns_are_kept_as_notes() -> None:
    mapping = mapped("Date", "Driver", "Energy (kWh)", None, "Weather", 2024.0)
    assert mapping.kept_as_notes == [(1, "Driver"), (4, "Weather"), (5, "2024")]
    assert [c.field for c in mapping.columns] == ["period", "energy_kwh"]
    assert mapping.problems == []


# --- units -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field", "unit", "raw", "expected"),
    [
        ("Energy (MWh)", "energy_kwh", "MWh", 1.5, 1500.0),
        ("Energy (GJ)", "energy_kwh", "GJ", 3.6, 1000.0),  # 3.6 GJ = 3.6e9 J = 1000 kWh
        ("Energy [mWh]", "energy_kwh", "MWh", 2, 2000.0),  # headers are case-insensitive: never milliwatt hours
        ("kWh charged", "energy_kwh", "kWh", 7.25, 7.25),
        ("Energy in MWh", "energy_kwh", "MWh", 0.5, 500.0),
        ("Fuel used [gal]", "diesel_l", "gal", 8800, 33311.6237),  # 8800 x 3.785411784 L (METHODOLOGY §6)
        ("Fuel (m3)", "diesel_l", "m**3", 2, 2000.0),
        ("Diesel (litres)", "diesel_l", "L", 40, 40.0),
        ("Diesel L", "diesel_l", "L", 40, 40.0),
        ("Diesel (imp gal)", "diesel_l", "imperial_gallon", 10, 45.4609),
        ("Distance (mi)", "distance_km", "mi", 10, 16.09344),
        ("Mileage mi", "distance_km", "mi", 10, 16.09344),
        ("Distance (NM)", "distance_km", "nmi", 10, 18.52),  # at sea NM is the nautical mile
        ("Hours (min)", "operating_hours", "min", 90, 1.5),
        ("Downtime days", "downtime_hours", "d", 1.5, 36.0),
        ("Hydrogen (lb)", "hydrogen_kg", "lb", 100, 45.359237),
        ("Fuel (kg)", "hydrogen_kg", "kg", 12, 12.0),  # a fuel in kilograms is hydrogen
        ("Cargo (tonnes)", "cargo_tonnes", "t", 3, 3.0),
        ("CO2 avoided (t)", "reported_ghg_avoided_kg", "t", 1.2, 1200.0),
    ],
)
def test_header_unit_is_converted_to_the_canonical_unit(
    header: str, field: str, unit: str, raw: float, expected: float
) -> None:
    column = only_column(header)
    assert (column.field, column.unit, column.unit_assumed) == (field, unit, False)
    parse = dict(mapped(header).parsers())[column]
    assert parse(raw) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("header", "unit", "factor", "raw", "expected"),
    [
        ("Rated power (hp)", "hp", 0.7456998715822701, 400, 298.2799486329080),
        ("Market factor (kg CO2e/MWh)", "kg/MWh", 1.0, 385, 385.0),
        ("Market factor (t/MWh)", "t/MWh", 1000.0, 0.385, 385.0),
        ("Load factor (%)", "%", 0.01, 39, 0.39),
        ("Baseline rate (L/h)", "L/h", 1.0, 11.5, 11.5),  # kept as written; the rate stays in its own unit
    ],
)
def test_trial_header_units(header: str, unit: str, factor: float, raw: float, expected: float) -> None:
    mapping = mapped(header, kind="trials")
    ((column, parse),) = mapping.parsers()
    assert column.unit == unit
    assert column.factor == pytest.approx(factor)
    assert parse(raw) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "unit"),
    [("Energy", "kWh"), ("Diesel", "L"), ("Distance", "km"), ("Downtime", "h"), ("Energy (metered)", "kWh")],
)
def test_header_without_unit_assumes_the_canonical_unit_and_says_so(header: str, unit: str) -> None:
    column = only_column(header)
    assert (column.unit, column.factor, column.unit_assumed) == (unit, 1.0, True)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Energy (L)", "'L' is a volume unit, but this column needs an energy unit such as kWh, MWh or GJ"),
        ("Diesel (kWh)", "'kWh' is an energy unit, but this column needs a volume unit such as L, gal or m3"),
        ("Distance (h)", "'h' is a time unit, but this column needs a distance unit such as km, mi or nmi"),
        ("Downtime (%)", "'%' is a percentage, but this column needs a time unit such as h or min"),
        ("Energy (kWh/day)", "'kWh/day' is another kind of unit, but this column needs an energy unit"),
        ("Cargo (tons)", "'tons' means 907 kg in the US and 1000 kg elsewhere"),
        ("Moves (per hour)", "a count takes no unit, but the header says 'hour'"),
    ],
)
def test_header_unit_that_does_not_fit_is_a_problem_naming_the_column(header: str, message: str) -> None:
    mapping = mapped("Date", header)
    assert [c.field for c in mapping.columns] == ["period"]
    (problem,) = mapping.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == (FILE, SHEET, 1, header)
    assert problem.message.startswith(message) and problem.message.endswith("; this column is not imported")


def test_count_and_text_columns_carry_no_unit() -> None:
    assert (only_column("Moves (count)").unit, only_column("TEU").unit, only_column("Unit ID").unit) == (None,) * 3


# --- dates in headers ------------------------------------------------------------------------------------------


def test_month_column_reads_any_day_as_its_month() -> None:
    mapping = mapped("Month", "Energy (kWh)")
    column, parse = mapping.parsers()[0]
    assert column.monthly
    assert parse(date(2024, 3, 31)) == Month(2024, 3)
    assert parse("Mar 2024") == Month(2024, 3)


def test_date_order_stated_in_the_header_settles_ambiguous_dates() -> None:
    mapping = mapped("Date (dd/mm/yyyy)", "Energy")
    column, parse = mapping.parsers(day_first=False)[0]
    assert column.day_first is True
    assert parse("03/04/2024") == date(2024, 4, 3)  # the header beats the file-wide order


def test_file_date_order_applies_when_the_header_states_none() -> None:
    ((_, parse),) = mapped("Date").parsers(day_first=False)
    assert parse("03/04/2024") == date(2024, 3, 4)


def test_1904_workbooks_convert_serials_in_their_own_system() -> None:
    ((_, parse),) = mapped("Start date", kind="trials").parsers(date1904=True)
    assert parse(43890) == date(2024, 3, 1)


def test_decimal_comma_reaches_every_number_column() -> None:
    mapping = mapped("Energy (MWh)", "Moves")
    (_, energy), (_, moves) = mapping.parsers(decimal_comma=True)
    assert energy("1.234,5") == pytest.approx(1234500.0)
    assert moves("1.200") == 1200


# --- duplicates ------------------------------------------------------------------------------------------------


def test_two_columns_for_one_field_are_both_refused_with_a_problem_naming_both() -> None:
    mapping = mapped("Date", "Energy (kWh)", "Electricity (MWh)", "Moves")
    assert [c.field for c in mapping.columns] == ["period", "moves"]
    (problem,) = mapping.problems
    assert problem.message == (
        "columns 'Energy (kWh)' and 'Electricity (MWh)' both hold energy; neither is imported, because a row's "
        "value cannot be trusted to one of them: remove or rename the extra columns"
    )
    assert (problem.row, problem.column, problem.value) == (1, "Electricity (MWh)", "Energy (kWh), Electricity (MWh)")


def test_three_columns_for_one_field_are_all_named() -> None:
    (problem,) = mapped("Date", "Day", "Period", "Hours").problems
    assert problem.message.startswith("columns 'Date', 'Day' and 'Period' all hold date; none is imported")


def test_extra_notes_columns_are_kept_as_notes() -> None:
    mapping = mapped("Date", "Hours", "Notes", "Comment")
    assert mapping.column("notes") == MappedColumn(2, "Notes", "notes", None, 1.0, False)
    assert mapping.kept_as_notes == [(3, "Comment")]
    assert mapping.problems == []


def test_field_index_finds_a_fields_column() -> None:
    mapping = mapped("Unit", "Date", "Energy")
    assert (mapping.field_index("period"), mapping.field_index("moves")) == (1, None)
