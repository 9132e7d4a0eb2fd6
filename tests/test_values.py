"""Reading single cells: numbers in both decimal styles, dates in every form people write, periods, choices, text."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.problems import Problem
from importers.values import (
    ALLOWED,
    ENUM_SYNONYMS,
    FORMULA_MESSAGE,
    MEASUREMENT_SPECS,
    TRIAL_SPECS,
    Invalid,
    Month,
    cell_parser,
    choice_key,
    clean_code,
    clean_free_text,
    date_from_serial,
    parse_amount,
    parse_bound,
    parse_count,
    parse_date,
    parse_enum,
    parse_number,
    parse_period,
    read_unit,
    resolve_period,
)


@dataclass
class FormulaWithoutValue:
    """Stands in for importers.raw.FormulaWithoutValue: any object with a `formula` attribute."""

    formula: str


def message(value: object) -> str:
    """Give an Invalid's message, failing the test if the value is not an Invalid."""
    assert isinstance(value, Invalid), f"expected Invalid, got {value!r}"
    return value.message


# --- numbers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("12", False, 12.0),
        ("12.5", False, 12.5),
        ("-3", False, -3.0),
        ("+3", False, 3.0),
        ("\u22123", False, -3.0),  # the typographic minus
        ("(1,234)", False, -1234.0),  # accountants' negative
        ("1,234.5", False, 1234.5),
        ("1,234,567.25", False, 1234567.25),
        ("1 234,5", False, 1234.5),
        ("1\u00a0234.5", False, 1234.5),  # no-break space grouping
        ("1'234.5", False, 1234.5),  # Swiss grouping
        ("1,234", False, 1234.0),  # dot file: a lone comma before three digits groups thousands
        ("12,5", False, 12.5),  # a comma before one digit can only be a decimal comma
        ("0,123", False, 0.123),  # a leading 0 is never a thousands group
        ("1.234,5", True, 1234.5),
        ("12,5", True, 12.5),
        ("1,234", True, 1.234),  # comma file: the comma is the decimal point
        ("1.234", True, 1234.0),  # comma file: a lone dot before three digits groups thousands
        ("12.5", True, 12.5),  # a dot before one digit can only be a decimal point
        ("12.345.678,9", True, 12345678.9),
        ("1.5e-07", False, 1.5e-07),
        ("1,5e-07", True, 1.5e-07),
        (".5", False, 0.5),
        ("  42  ", False, 42.0),
    ],
)
def test_parse_number_reads_text_in_both_decimal_styles(text: str, decimal_comma: bool, expected: float) -> None:
    assert parse_number(text, decimal_comma=decimal_comma) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "-", "—", "n/a", "N/A", "NA", "null", "none"])
def test_parse_number_treats_blanks_and_markers_as_missing(raw: object) -> None:
    assert parse_number(raw) is None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (math.nan, "NaN"),
        (math.inf, "infinite"),
        (-math.inf, "infinite"),
        ("NaN", "not a real value"),
        ("inf", "not a real value"),
        ("-Infinity", "not a real value"),
        ("1e999", "too large"),
        ("#DIV/0!", "Excel error #DIV/0!"),
        ("#N/A", "Excel error"),
        (True, "TRUE/FALSE"),
        (date(2024, 3, 5), "found a date"),
        (time(6, 0), "time of day"),
        ("abc", "expected a number"),
        ("1 2", "expected a number"),
        ("1,23,4", "expected a number"),
        ("1.234.5", "expected a number"),
        ("12 apples", "cannot read 'apples'"),
    ],
)
def test_parse_number_explains_what_is_wrong(raw: object, words: str) -> None:
    assert words in message(parse_number(raw))


def test_formula_without_cached_value_is_a_problem() -> None:
    cell = FormulaWithoutValue("=SUM(A1:A3)")
    assert message(parse_number(cell)) == FORMULA_MESSAGE
    assert message(parse_date(cell)) == FORMULA_MESSAGE
    assert message(clean_free_text(cell)) == FORMULA_MESSAGE
    assert message(parse_enum(cell, "role")) == FORMULA_MESSAGE


def test_unit_written_in_a_cell_is_converted_to_the_columns_unit() -> None:
    assert parse_number("1.5 MWh", unit="kWh") == 1500.0
    assert parse_number("1500 kWh", unit="MWh") == 1.5
    assert parse_number("12,5 h", decimal_comma=True, unit="h") == 12.5


def test_unit_in_a_cell_that_does_not_fit_the_column_is_a_problem() -> None:
    assert (
        message(parse_number("5 L", unit="kWh"))
        == "'L' is a volume unit, but this column needs an energy unit such as kWh, MWh or GJ"
    )
    assert "plain number" in message(parse_number("12 h"))


def test_percent_in_a_plain_number_column_is_a_fraction() -> None:
    assert parse_number("39%") == pytest.approx(0.39)
    assert parse_number("39 %", unit="%") == 39.0


def test_amount_is_converted_by_the_columns_factor() -> None:
    assert parse_amount(1.5, factor=1000.0) == 1500.0
    assert parse_amount(3, factor=1000.0) == 3000.0
    assert parse_amount("1,5", factor=1000.0, decimal_comma=True) == 1500.0


@pytest.mark.parametrize("raw", [-1.0, -1, "-0.5", "(12)"])
def test_negative_amount_is_a_problem(raw: object) -> None:
    assert "zero or more" in message(parse_amount(raw))


def test_reported_avoided_emissions_may_be_negative() -> None:
    parse = cell_parser(MEASUREMENT_SPECS["reported_ghg_avoided_kg"], unit="kg", factor=1.0)
    assert parse(-250.0) == -250.0
    assert "zero or more" in message(cell_parser(MEASUREMENT_SPECS["reported_ghg_kg"], unit="kg")(-250.0))


@pytest.mark.parametrize(("raw", "expected"), [(12, 12), (12.0, 12), ("1,200", 1200), ("0", 0), (None, None)])
def test_count_is_a_whole_number(raw: object, expected: int | None) -> None:
    value = parse_count(raw)
    assert value == expected
    assert value is None or type(value) is int


@pytest.mark.parametrize(("raw", "words"), [(12.5, "12.5 is not a count"), (-1, "negative"), ("3.2", "whole number")])
def test_count_that_is_not_whole_or_is_negative_is_a_problem(raw: object, words: str) -> None:
    assert words in message(parse_count(raw))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_written_in_dot_style_parses_back(value: float) -> None:
    assert parse_number(repr(value)) == value
    assert parse_number(format(value, ",")) == value  # with thousands commas


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_written_in_comma_style_parses_back(value: float) -> None:
    comma_style = repr(value).replace(".", ",")
    grouped = format(value, ",").replace(",", " ").replace(".", ",")  # '1 234 567,5'
    dotted = format(value, ",").translate(str.maketrans(",.", ".,"))  # '1.234.567,5'
    assert parse_number(comma_style, decimal_comma=True) == value
    assert parse_number(grouped, decimal_comma=True) == value
    assert parse_number(dotted, decimal_comma=True) == value


# --- units -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("MWh", "MWh"), ("mwh", "MWh"), ("litres", "L"), ("kg CO2e", "kg"), ("tCO2e", "t"), ("gCO2e/kWh", "g/kWh")],
)
def test_read_unit_accepts_the_spellings_people_use(text: str, expected: str) -> None:
    assert read_unit(text) == expected


@pytest.mark.parametrize(("text", "words"), [("tons", "907 kg"), ("metered", "unknown unit 'metered'")])
def test_read_unit_refuses_ambiguous_or_unknown_units(text: str, words: str) -> None:
    assert words in message(read_unit(text))


# --- dates -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (date(2024, 3, 5), date(2024, 3, 5)),
        (datetime(2024, 3, 5, 14, 30), date(2024, 3, 5)),
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-03-05T00:00", date(2024, 3, 5)),
        ("2024-03-05 14:30:00", date(2024, 3, 5)),
        ("2024-03-05T23:30:00-08:00", date(2024, 3, 5)),  # the local day as written
        ("2024-3-5", date(2024, 3, 5)),
        ("5 Mar 2024", date(2024, 3, 5)),
        ("5 March 2024", date(2024, 3, 5)),
        ("March 5, 2024", date(2024, 3, 5)),
        ("Tue 5th of March 2024", date(2024, 3, 5)),
        ("05-Mar-24", date(2024, 3, 5)),  # Excel's d-mmm-yy
        ("2024/03/05", date(2024, 3, 5)),
        ("2024.03.05", date(2024, 3, 5)),
        ("15/03/2024", date(2024, 3, 15)),  # 15 cannot be a month
        ("03/15/2024", date(2024, 3, 15)),
        ("03/03/2024", date(2024, 3, 3)),  # both orders agree
        ("15/03/24", date(2024, 3, 15)),
        ("20240305", date(2024, 3, 5)),
        ("", None),
        (None, None),
        ("n/a", None),
    ],
)
def test_parse_date_reads_every_unambiguous_form(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


def test_ambiguous_date_is_a_problem_that_offers_both_readings() -> None:
    assert message(parse_date("03/04/2024")) == (
        "ambiguous date: 3 April or 4 March? write it as 2024-04-03, or state the order "
        "(for example a header 'Date (dd/mm/yyyy)')"
    )


@pytest.mark.parametrize(("day_first", "expected"), [(True, date(2024, 4, 3)), (False, date(2024, 3, 4))])
def test_ambiguous_date_follows_the_stated_order(day_first: bool, expected: date) -> None:
    assert parse_date("03/04/2024", day_first=day_first) == expected
    assert parse_date("03/04/2024 08:15", day_first=day_first) == expected


def test_date_contradicting_the_stated_order_is_a_problem() -> None:
    assert "does not fit the month/day/year order" in message(parse_date("15/03/2024", day_first=False))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("31/02/2024", "no day 31 in February 2024"),
        ("2024-13-01", "no month 13"),
        ("Mar-24", "expected a date"),
        ("hello", "expected a date"),
        ("2024", "looks like a year"),
        ("1850-01-01", "before 1900"),
        (True, "TRUE/FALSE"),
        (time(8, 0), "time of day"),
        ("#VALUE!", "Excel error"),
    ],
)
def test_bad_dates_are_explained(raw: object, words: str) -> None:
    assert words in message(parse_date(raw))


@pytest.mark.parametrize(
    ("serial", "date1904", "expected"),
    [
        (45352, False, date(2024, 3, 1)),
        (45352.75, False, date(2024, 3, 1)),  # the time of day is dropped
        (43890, True, date(2024, 3, 1)),  # the same day in the 1904 system
        (1, False, date(1900, 1, 1)),
        (59, False, date(1900, 2, 28)),
        (61, False, date(1900, 3, 1)),  # after Excel's phantom 29 February 1900
        (0, True, date(1904, 1, 1)),
        (2958465, False, date(9999, 12, 31)),
        (2957003, True, date(9999, 12, 31)),
    ],
)
def test_excel_serial_is_converted_in_the_workbooks_date_system(serial: float, date1904: bool, expected: date) -> None:
    assert date_from_serial(serial, date1904=date1904) == expected
    assert parse_date(serial, date1904=date1904) == expected


def test_serial_written_as_text_is_converted() -> None:
    assert parse_date("45352") == date(2024, 3, 1)


@pytest.mark.parametrize(
    ("serial", "date1904", "expected"),
    [
        (2994626, False, "date serial 2994626 is beyond the year 9999"),
        (2958466, False, "date serial 2958466 is beyond the year 9999"),
        (2957004, True, "date serial 2957004 is beyond the year 9999"),
        (0, False, "date serial 0 is before 1900"),
        (-5, True, "date serial -5 is before 1904"),
        (60, False, "date serial 60 is 29 February 1900, a day that never existed (an Excel quirk)"),
    ],
)
def test_serial_outside_the_calendar_is_a_problem(serial: int, date1904: bool, expected: str) -> None:
    assert message(parse_date(serial, date1904=date1904)) == expected


# --- periods ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2024-03", "2024/03", "03/2024", "Mar 2024", "March 2024", "march, 2024"])
def test_month_forms_are_whole_months(raw: str) -> None:
    assert parse_period(raw) == Month(2024, 3)


def test_month_is_not_a_day() -> None:
    assert message(parse_date("March 2024")) == "expected a day, not a whole month; write the day, e.g. 2024-03-01"


def test_month_covers_the_whole_calendar_month() -> None:
    assert (Month(2024, 3).start, Month(2024, 3).end) == (date(2024, 3, 1), date(2024, 4, 1))
    assert Month(2024, 12).end == date(2025, 1, 1)
    assert resolve_period(Month(2024, 2), None, None) == (date(2024, 2, 1), date(2024, 3, 1))


@pytest.mark.parametrize("raw", [date(2024, 3, 1), date(2024, 3, 31), datetime(2024, 3, 15, 8), 45352, "2024-03-31"])
def test_any_day_in_a_monthly_column_stands_for_its_month(raw: object) -> None:
    assert parse_period(raw, monthly=True) == Month(2024, 3)


def test_single_day_is_one_day_with_an_exclusive_end() -> None:
    assert resolve_period(date(2024, 3, 5), None, None) == (date(2024, 3, 5), date(2024, 3, 6))


def test_start_and_end_are_inclusive_so_the_end_moves_one_day_on() -> None:
    assert resolve_period(None, date(2024, 3, 1), date(2024, 3, 31)) == (date(2024, 3, 1), date(2024, 4, 1))
    assert resolve_period(None, date(2024, 3, 5), date(2024, 3, 5)) == (date(2024, 3, 5), date(2024, 3, 6))


def test_start_and_end_win_over_a_date() -> None:
    assert resolve_period(Month(2024, 3), date(2024, 3, 4), date(2024, 3, 10)) == (date(2024, 3, 4), date(2024, 3, 11))


def test_end_before_start_is_a_problem_of_the_end_column() -> None:
    result = resolve_period(None, date(2024, 3, 5), date(2024, 3, 1))
    assert result == Invalid("the end date 2024-03-01 is before the start date 2024-03-05", field="period_end")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(date(2024, 3, 5), None, "period_end"), (None, date(2024, 3, 5), "period_start"), (None, None, "period")],
)
def test_incomplete_period_is_a_problem(start: date | None, end: date | None, field: str) -> None:
    result = resolve_period(None, start, end)
    assert isinstance(result, Invalid) and result.field == field


def test_shift_times_take_their_day_from_the_date_column() -> None:
    start, end = parse_bound("06:00"), parse_bound("2:30 pm")
    assert (start, end) == (time(6, 0), time(14, 30))
    assert isinstance(start, time) and isinstance(end, time)
    assert resolve_period(date(2024, 3, 5), start, end) == (date(2024, 3, 5), date(2024, 3, 6))
    assert "time of day without a date" in message(resolve_period(None, start, end))


def test_bound_accepts_dates_and_datetimes() -> None:
    assert parse_bound(datetime(2024, 3, 5, 6, 0)) == date(2024, 3, 5)
    assert parse_bound("5 Mar 2024") == date(2024, 3, 5)
    assert parse_bound("12:00 am") == time(0, 0)


@given(st.dates(min_value=date(1900, 1, 1)))
def test_any_iso_date_parses_back(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(datetime.combine(day, time(13, 45)).isoformat()) == day


# --- choices ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("technology", "BEV", "battery_electric"),
        ("technology", "Battery Electric", "battery_electric"),
        ("technology", "battery_electric", "battery_electric"),
        ("technology", "FCEV", "hydrogen_fuel_cell"),
        ("technology", "fuel cell", "hydrogen_fuel_cell"),
        ("technology", "H2 ICE", "hydrogen_combustion"),
        ("technology", "Diesel-electric hybrid", "hybrid_diesel_electric"),
        ("technology", "cabled", "grid_electric"),
        ("equipment_class", "RTG", "rtg_crane"),
        ("equipment_class", "STS", "sts_crane"),
        ("equipment_class", "Ship-to-shore crane", "sts_crane"),
        ("equipment_class", "yard truck", "yard_tractor"),
        ("equipment_class", "Terminal Tractor", "yard_tractor"),
        ("equipment_class", "Harbour craft", "harbor_craft"),
        ("equipment_class", "straddle carrier", "straddle_carrier"),
        ("role", "baseline", "baseline"),
        ("role", "Diesel comparator", "baseline"),
        ("role", "TRIAL", "trial"),
        ("status", "Canceled", "cancelled"),
        ("status", "in progress", "active"),
        ("visibility", "Partners", "partners"),
        ("visibility", "private", "private"),
        ("baseline_kind", "Electric", "electric"),
        ("baseline_kind", "no baseline", "none"),
        ("baseline_kind", "None", "none"),
        ("hydrogen_pathway", "none", None),
        ("hydrogen_pathway", "SMR", "grey"),
        ("hydrogen_pathway", "Electrolysis", "electrolytic_grid"),
        ("hydrogen_pathway", "declared", "declared"),
        ("baseline_engine", "Tier 4 Final", "nonroad_tier4f"),
        ("baseline_engine", "marine tier 3", "marine_tier3"),
        ("baseline_engine", "EPA 2010", "onroad_2010"),
        ("role", "", None),
        ("role", "n/a", None),
        ("role", None, None),
    ],
)
def test_parse_enum_accepts_values_and_synonyms(kind: str, raw: object, expected: str | None) -> None:
    assert parse_enum(raw, kind) == expected


def test_unknown_choice_lists_the_allowed_values() -> None:
    assert message(parse_enum("wind powered", "status")) == (
        "not a known status; expected one of planned, active, completed, cancelled"
    )
    assert "expected one of trial, baseline" in message(parse_enum(3.0, "role"))
    assert message(parse_enum("blue", "hydrogen_pathway")) == (
        "not a known hydrogen pathway; expected one of grey, electrolytic_grid, declared"
    )
    assert message(parse_enum("tier 5", "baseline_engine")) == (
        "not a known baseline engine; expected one of nonroad_tier3, nonroad_tier4f, marine_tier3, marine_tier4, "
        "onroad_2010"
    )


@pytest.mark.parametrize(
    ("field", "raw", "expected"), [("baseline_rate", -3.0, -3.0), ("hydrogen_factor_kg_per_kg", "-1.5", -1.5)]
)
def test_declared_rates_and_factors_keep_their_sign_for_the_trial_rules_to_judge(
    field: str, raw: object, expected: float
) -> None:
    assert cell_parser(TRIAL_SPECS[field])(raw) == expected


def test_bare_electric_is_not_guessed() -> None:
    assert isinstance(parse_enum("electric", "technology"), Invalid)  # battery or cabled? the analyst must say


@pytest.mark.parametrize("kind", sorted(ENUM_SYNONYMS))
def test_enum_synonyms_name_allowed_values_and_never_clash(kind: str) -> None:
    seen: dict[str, str] = {choice_key(value): value for value in ALLOWED[kind]}
    for value, names in ENUM_SYNONYMS[kind].items():
        assert value in ALLOWED[kind]
        for name in names:
            assert seen.setdefault(choice_key(name), value) == value, name


def test_enum_fields_name_known_enumerations() -> None:
    for spec in (*MEASUREMENT_SPECS.values(), *TRIAL_SPECS.values()):
        assert (spec.kind == "enum") == (spec.enum is not None)
        assert spec.enum is None or spec.enum in ALLOWED


# --- text ------------------------------------------------------------------------------------------------------


def test_clean_text_strips_control_characters_and_collapses_whitespace() -> None:
    assert clean_free_text("  Battery\tswap \x00at\n\n shift\u200b change  ") == "Battery swap at shift change"
    assert clean_free_text("   ") is None


def test_long_notes_are_cut_not_refused() -> None:
    text = clean_free_text("x" * 2500, 2000)
    assert isinstance(text, str) and len(text) == 2000 and text.endswith("…")


def test_long_code_is_a_problem() -> None:
    assert message(clean_code("X" * 101)) == "too long for a code or id: 101 characters, at most 100"
    assert clean_code("X" * 100) == "X" * 100


@pytest.mark.parametrize(
    ("raw", "expected"), [(1234.0, "1234"), (1234, "1234"), (12.5, "12.5"), (" RTG 07 ", "RTG 07")]
)
def test_code_from_a_number_cell_has_no_trailing_zero(raw: object, expected: str) -> None:
    assert clean_code(raw) == expected


def test_code_cannot_be_true_or_false() -> None:
    assert "TRUE/FALSE" in message(clean_code(True))


# --- problems --------------------------------------------------------------------------------------------------


def test_invalid_becomes_a_located_problem() -> None:
    invalid = parse_number("abc")
    assert isinstance(invalid, Invalid)
    located = invalid.problem(file="fleet.xlsx", sheet="Measurements", row=7, column="Energy (kWh)", value="abc")
    assert located == Problem(
        "fleet.xlsx",
        "expected a number such as 1234.5",
        sheet="Measurements",
        row=7,
        column="Energy (kWh)",
        value="abc",
    )


def test_cell_parser_reads_each_kind_of_field() -> None:
    assert cell_parser(MEASUREMENT_SPECS["energy_kwh"], unit="MWh", factor=1000.0)(1.5) == 1500.0
    assert cell_parser(MEASUREMENT_SPECS["moves"])(12.0) == 12
    assert cell_parser(MEASUREMENT_SPECS["role"])("spare") == Invalid(
        "not a known role; expected one of trial, baseline"
    )
    assert cell_parser(MEASUREMENT_SPECS["period"], monthly=True)("2024-03-05") == Month(2024, 3)
    assert cell_parser(MEASUREMENT_SPECS["period_end"], day_first=True)("03/04/2024") == date(2024, 4, 3)
    assert cell_parser(TRIAL_SPECS["start_date"], date1904=True)(43890) == date(2024, 3, 1)
    assert cell_parser(TRIAL_SPECS["load_factor"], unit="%", factor=0.01)(39) == pytest.approx(0.39)
    assert cell_parser(MEASUREMENT_SPECS["unit_id"])(1234.0) == "1234"
    assert cell_parser(MEASUREMENT_SPECS["notes"])("ok") == "ok"
    assert cell_parser(TRIAL_SPECS["technology"])("FCEV") == "hydrogen_fuel_cell"


@given(
    raw=st.one_of(
        st.integers(min_value=-(2**60), max_value=2**60), st.floats(allow_nan=True), st.text(max_size=8), st.none()
    ),
    factor=st.sampled_from([1.0, 1000.0, 3.785411784, 0.001]),
)
def test_a_quantity_column_reads_every_cell_as_parse_amount_does(raw: object, factor: float) -> None:
    """The column reader's shortcuts for plain numbers give what the full reader gives, to the last bit."""
    quantity = cell_parser(MEASUREMENT_SPECS["energy_kwh"], unit="kWh", factor=factor)(raw)
    full = parse_amount(raw, factor=factor, unit="kWh")
    assert type(quantity) is type(full)
    assert quantity == full or (isinstance(full, float) and math.isnan(full))


def test_a_code_column_cleans_each_text_once_and_alike() -> None:
    read_code = cell_parser(MEASUREMENT_SPECS["unit_id"])
    long_id = "U" * 101
    for raw in ["  YT-01 ", "YT\u200b-01", long_id, 1234.0, True, "", "  YT-01 ", long_id, None]:
        assert read_code(raw) == clean_code(raw, 100)
    assert read_code(2024) == "2024"
