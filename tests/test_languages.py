"""Partner ports' own files: Japanese, Chinese, Danish, Swedish and Indonesian headers and values, full-width
digits, their date forms, and headers written on two rows, read through the whole import on both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers.languages import languages
from importers.mapping import SheetMapping, find_header, map_columns, match_header
from importers.pipeline import import_file
from importers.values import (
    ALLOWED,
    MEASUREMENT_SPECS,
    TRIAL_SPECS,
    parse_date,
    parse_enum,
    parse_number,
    parse_period,
)
from tests.factories import write_xlsx
from trials.models import Measurement, Trial, Unit, UnitRole
from trials.scope import Scope

OPERATOR = Scope.operator()
FILE, SHEET = "in.xlsx", "Sheet1"
FIELDS = {"measurements": MEASUREMENT_SPECS, "trials": TRIAL_SPECS}


def rows_by_unit(engine: Engine, trial_code: str) -> dict[tuple[str, date], Measurement]:
    """The trial's stored measurements by (unit, first day)."""
    with Session(engine) as session:
        query = (
            select(Unit.unit_id, Measurement)
            .join(Unit, Unit.id == Measurement.unit_id)  # type: ignore[arg-type]
            .join(Trial, Trial.id == Measurement.trial_id)  # type: ignore[arg-type]
            .where(Trial.code == trial_code)
        )
        return {(unit, row.period_start): row for unit, row in session.exec(query)}


def trial(engine: Engine, code: str) -> Trial:
    """The stored trial with this code."""
    with Session(engine) as session:
        return session.exec(select(Trial).where(Trial.code == code)).one()


# --- the data files ----------------------------------------------------------------------------------------------


def test_every_language_file_names_only_real_fields_values_and_units() -> None:
    assert [language.code for language in languages()] == ["da", "id", "ja", "sv", "zh"]
    for language in languages():
        for kind, table in language.headers.items():
            assert set(table) <= set(FIELDS[kind]), (language.code, kind)
        for enum, table in language.values.items():
            assert set(table) <= set(ALLOWED[enum]), (language.code, enum)
            for value, words in table.items():
                assert all(parse_enum(word, enum) == value for word in words), (language.code, enum, value)
        for kind, table in language.headers.items():
            for field, words in table.items():
                for word in words:
                    found = match_header(word, kind)
                    assert found is not None and found.field == field, (language.code, word)


@pytest.mark.parametrize(
    ("header", "field", "unit", "factor"),
    [
        ("稼働時間", "operating_hours", "h", 1.0),
        ("電力量（ｋＷｈ）", "energy_kwh", "kWh", 1.0),
        ("電力量【MWh】", "energy_kwh", "MWh", 1000.0),
        ("燃料使用量(L)", "diesel_l", "L", 1.0),
        ("水素充填量(kg)", "hydrogen_kg", "kg", 1.0),
        ("走行距離(km)", "distance_km", "km", 1.0),
        ("稼働時間(分)", "operating_hours", "min", 1 / 60),
        ("运行时间(小时)", "operating_hours", "h", 1.0),
        ("用电量（度）", "energy_kwh", "kWh", 1.0),
        ("耗电量(千瓦时)", "energy_kwh", "kWh", 1.0),
        ("氢气(公斤)", "hydrogen_kg", "kg", 1.0),
        ("柴油(升)", "diesel_l", "L", 1.0),
        ("行驶里程(公里)", "distance_km", "km", 1.0),
        ("Drifttimmar", "operating_hours", "h", 1.0),
        ("Energi (MWh)", "energy_kwh", "MWh", 1000.0),
        ("Bränsle (l)", "diesel_l", "L", 1.0),
        ("Bränsle (kg)", "hydrogen_kg", "kg", 1.0),
        ("Sträcka (mil)", None, None, None),  # the Swedish mil (10 km) is not guessed: the column is not imported
        ("Driftstimer", "operating_hours", "h", 1.0),
        ("Brændstof (liter)", "diesel_l", "L", 1.0),
        ("Brintforbrug (kg)", "hydrogen_kg", "kg", 1.0),
        ("Jam operasi", "operating_hours", "h", 1.0),
        ("Jarak tempuh (km)", "distance_km", "km", 1.0),
        ("Bahan bakar (liter)", "diesel_l", "L", 1.0),
        ("Pemakaian listrik (kWh)", "energy_kwh", "kWh", 1.0),
    ],
)
def test_partner_headers_map_with_their_units(header: str, field: str | None, unit: str | None, factor: float) -> None:
    mapping = map_columns(1, [header], kind="measurements", file=FILE, sheet=SHEET)
    if field is None:
        assert mapping.columns == [] and len(mapping.problems) == 1
        assert mapping.problems[0].message.startswith("'mil' is 10 km in Sweden and Norway")
        return
    [column] = mapping.columns
    assert (column.field, column.unit) == (field, unit)
    assert column.factor == pytest.approx(factor)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("号機", "unit_id"), ("日付", "period"), ("荷役本数", "moves"), ("備考", "notes"), ("年月", "period"),
        ("设备编号", "unit_id"), ("日期", "period"), ("自然箱", "moves"), ("标准箱", "teu"), ("月份", "period"),
        ("Maskin", "unit_id"), ("Datum", "period"), ("Lyft", "moves"), ("Anmärkningar", "notes"), ("Månad", "period"),
        ("Køretøj", "unit_id"), ("Dato", "period"), ("Løft", "moves"), ("Bemærkninger", "notes"), ("Måned", "period"),
        ("Nomor lambung", "unit_id"), ("Tanggal", "period"), ("Jumlah box", "moves"), ("Keterangan", "notes"),
        ("Bulan", "period"),
    ],
)  # fmt: skip
def test_partner_headers_name_their_fields(header: str, field: str) -> None:
    found = match_header(header, "measurements")
    assert found is not None and found.field == field


def test_month_headers_in_partner_languages_read_any_day_as_its_month() -> None:
    for header in ("年月", "月份", "Måned", "Månad", "Bulan"):
        [column] = map_columns(1, [header], kind="measurements", file=FILE, sheet=SHEET).columns
        assert column.monthly, header


def test_danish_o_and_ae_still_tell_words_apart_while_swedish_accents_fold() -> None:
    assert match_header("LØFT", "measurements") is not None  # case folds, the letter stays
    assert match_header("Lft", "measurements") is None  # 'ø' is a letter, not an accent to drop
    found = match_header("Brandstof", "measurements")  # 'æ' is a letter too: this is no Danish word
    assert found is None
    bare = match_header("Bransle", "measurements")  # Swedish 'ä' is an a with an accent
    assert bare is not None and bare.field == "diesel_l"


def test_unknown_partner_headers_are_kept_as_notes() -> None:
    mapping = map_columns(1, ["日付", "電力量", "天候", "Väder", "司机"], kind="measurements", file=FILE, sheet=SHEET)
    assert [column.field for column in mapping.columns] == ["period", "energy_kwh"]
    assert mapping.kept_as_notes == [(2, "天候"), (3, "Väder"), (4, "司机")]
    assert mapping.problems == []


@pytest.mark.parametrize(
    ("enum", "text", "value"),
    [
        ("equipment_class", "タイヤ式門型クレーン", "rtg_crane"),
        ("equipment_class", "ストラドルキャリア", "straddle_carrier"),
        ("equipment_class", "ｶﾞﾝﾄﾘｰ･ｸﾚｰﾝ", "sts_crane"),  # half-width kana, a middle dot between the words
        ("equipment_class", "岸桥", "sts_crane"),
        ("equipment_class", "正面吊", "reach_stacker"),
        ("equipment_class", "Terminaltraktor", "yard_tractor"),
        ("equipment_class", "Bogserbåt", "tug"),
        ("equipment_class", "slæbebåd", "tug"),
        ("equipment_class", "Kapal tunda", "tug"),
        ("technology", "燃料電池", "hydrogen_fuel_cell"),
        ("technology", "纯电动", "battery_electric"),
        ("technology", "Batterielektrisk", "battery_electric"),
        ("technology", "brændselscelle", "hydrogen_fuel_cell"),
        ("technology", "Hibrida", "hybrid_diesel_electric"),
        ("status", "実施中", "active"),
        ("status", "已完成", "completed"),
        ("status", "Pågående", "active"),
        ("status", "Afsluttet", "completed"),
        ("status", "Dibatalkan", "cancelled"),
        ("role", "比較対象", "baseline"),
        ("role", "对照", "baseline"),
        ("role", "Försök", "trial"),
        ("role", "Pembanding", "baseline"),
        ("visibility", "非公開", "private"),
        ("visibility", "Delt", "partners"),
        ("baseline_kind", "なし", "none"),
        ("baseline_kind", "Ingen", "none"),
        ("hydrogen_pathway", "灰氢", "grey"),
        ("hydrogen_pathway", "Elektrolys", "electrolytic_grid"),
    ],
)
def test_partner_values_read_as_the_allowed_ones(enum: str, text: str, value: str) -> None:
    assert parse_enum(text, enum) == value


def test_an_unknown_partner_value_still_lists_the_allowed_ones() -> None:
    refused = parse_enum("電動", "technology")  # electric: battery or cabled? not guessed
    assert not isinstance(refused, str) and refused is not None
    assert "expected one of battery_electric" in refused.message


# --- full-width digits and partner dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("１２．５", None, 12.5),
        ("１，２０５．５", None, 1205.5),
        ("１２．５ｋＷｈ", "kWh", 12.5),
        ("１．５ＭＷｈ", "kWh", 1500.0),
        ("９０分", "h", 1.5),
        ("－３", None, -3.0),
        ("12,5", None, 12.5),  # a text cell with a decimal comma reads the same in a workbook of numbers
    ],
)
def test_full_width_numbers_and_units_read_right(text: str, unit: str | None, value: float) -> None:
    assert parse_number(text, unit=unit) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024年3月1日", date(2024, 3, 1)),
        ("２０２４年３月１日", date(2024, 3, 1)),
        ("2024年3月1日（金）", date(2024, 3, 1)),
        ("2024/03/01", date(2024, 3, 1)),
        ("２０２４／３／１", date(2024, 3, 1)),
        ("1.3.2024", date(2024, 3, 1)),
        ("01.03.2024", date(2024, 3, 1)),
        ("13.3.2024", date(2024, 3, 13)),
        ("1.3.2024 06:00", date(2024, 3, 1)),
    ],
)
def test_partner_date_forms(text: str, day: date) -> None:
    assert parse_date(text) == day
    assert parse_date(text, day_first=False) == day  # none of these depends on the file's day/month order


def test_dotted_dates_are_day_first_even_in_a_month_first_file() -> None:
    assert parse_date("3.4.2024", day_first=False) == date(2024, 4, 3)
    assert parse_date("03/04/2024", day_first=False) == date(2024, 3, 4)  # slashes still follow the file
    refused = parse_date("3.13.2024")
    assert refused is not None and not isinstance(refused, date)
    assert refused.message == "a date written with dots is day.month.year, and there is no month 13"


def test_a_chinese_or_japanese_month_is_a_whole_month_and_an_era_year_is_refused() -> None:
    assert str(parse_period("2024年3月")) == "2024-03"
    refused = parse_date("令和6年3月1日")  # a Japanese era year: write the Western year
    assert refused is not None and not isinstance(refused, date)


# --- two-row headers -----------------------------------------------------------------------------------------


def header_of(rows: list[list[object]]) -> SheetMapping:
    """The header found in these rows, numbered from 1."""
    found = find_header(list(enumerate(rows, 1)), kind="measurements", file=FILE, sheet=SHEET)
    assert isinstance(found, SheetMapping), found
    return found


def test_a_group_row_over_units_is_read_as_one_header() -> None:
    mapping = header_of(
        [
            ["Date", "Unit", "Energy", "Hydrogen", "Diesel"],
            [None, None, "kWh", "kg", "gal"],
        ]
    )
    assert mapping.header_row == 2
    assert [(c.header, c.field, c.unit) for c in mapping.columns] == [
        ("Date", "period", None),
        ("Unit", "unit_id", None),
        ("Energy / kWh", "energy_kwh", "kWh"),
        ("Hydrogen / kg", "hydrogen_kg", "kg"),
        ("Diesel / gal", "diesel_l", "gal"),
    ]
    assert mapping.columns[4].factor == pytest.approx(3.785_411_784)


def test_a_merged_group_spans_the_columns_named_below_it() -> None:
    mapping = header_of(
        [
            ["Period", None, "Unit", "Energy", None, "電力量"],
            ["Start", "End", None, "Charged (MWh)", "Regenerated (kWh)", "kWh"],
        ]
    )
    assert [(c.header, c.field) for c in mapping.columns] == [
        ("Period / Start", "period_start"),
        ("Period / End", "period_end"),
        ("Unit", "unit_id"),
    ]  # two columns hold energy, so neither is imported
    assert mapping.kept_as_notes == [(4, "Energy / Regenerated (kWh)")]
    assert len(mapping.problems) == 1
    assert "'Energy / Charged (MWh)' and '電力量 / kWh' both hold energy" in mapping.problems[0].message


def test_a_title_above_a_one_row_header_is_not_a_group_row() -> None:
    mapping = header_of([["Fleet report March 2024"], ["Date", "Unit", "Energy (kWh)", "Odd"]])
    assert mapping.header_row == 2
    assert [c.header for c in mapping.columns] == ["Date", "Unit", "Energy (kWh)"]
    assert mapping.kept_as_notes == [(3, "Odd")]


def test_a_header_row_over_data_stays_the_header() -> None:
    mapping = header_of([["Date", "Energy"], ["Day", "Electricity"], ["2024-03-01", 12.0]])
    assert mapping.header_row == 1  # 'Date' over 'Day' is no group: two qualifying rows, the earliest wins


# --- whole files, through the pipeline, on both databases ----------------------------------------------------


def test_a_japanese_workbook_imports_to_the_right_values(engine: Engine, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "名古屋_RTG_2024年3月.xlsx",
        {
            "Trials": [
                ["実証コード", "名称", "港", "機種", "動力源", "開始日", "状況", "公開範囲", "Baseline rate",
                 "Baseline unit"],
                ["NGO-RTG-01", "ハイブリッドRTG実証", "JPNGO", "タイヤ式門型クレーン", "ハイブリッド", "2024年1月15日",
                 "実施中", "共有", 16, "L/h"],
            ],
            "稼働実績": [
                ["名古屋港 飛島ふ頭 RTG 稼働実績 2024年3月"],
                [],
                ["実証コード", "号機", "日付", "稼働時間（h）", "電力量（ｋＷｈ）", "燃料使用量（L）", "荷役本数",
                 "備考", "天候"],
                ["NGO-RTG-01", "RTG-1", "2024年3月1日", "１２．５", "２４０", "３１．２", "１８０", "通常運転", "晴れ"],
                ["NGO-RTG-01", "RTG-1", "2024/03/02", 11.0, 230.4, 29.5, 172, None, "雨"],
                ["NGO-RTG-01", "RTG-2", date(2024, 3, 1), "９．７５", "１，２０５．５", None, 410, None, None],
            ],
        },
    )  # fmt: skip
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    assert result.as_json()["created"] == 4  # the trial and three measurements
    stored = trial(engine, "NGO-RTG-01")
    assert (stored.equipment_class.value, stored.technology.value, stored.status.value) == (
        "rtg_crane", "hybrid_diesel_electric", "active",
    )  # fmt: skip
    assert (stored.visibility.value, stored.start_date, stored.port_locode) == ("partners", date(2024, 1, 15), "JPNGO")
    rows = rows_by_unit(engine, "NGO-RTG-01")
    first = rows["RTG-1", date(2024, 3, 1)]
    assert (first.operating_hours, first.energy_kwh, first.diesel_l, first.moves) == (12.5, 240.0, 31.2, 180.0)
    assert first.notes == "通常運転; 天候: 晴れ"
    assert (first.source_sheet, first.source_row, first.period_end) == ("稼働実績", 4, date(2024, 3, 2))
    second = rows["RTG-1", date(2024, 3, 2)]
    assert (second.operating_hours, second.energy_kwh, second.diesel_l, second.moves) == (11.0, 230.4, 29.5, 172.0)
    assert second.notes == "天候: 雨"
    other = rows["RTG-2", date(2024, 3, 1)]
    assert (other.operating_hours, other.energy_kwh, other.diesel_l, other.moves) == (9.75, 1205.5, None, 410.0)


def test_a_swedish_workbook_and_semicolon_csv_import_to_the_right_values(engine: Engine, tmp_path: Path) -> None:
    workbook = write_xlsx(
        tmp_path / "Malmö terminaltraktorer mars.xlsx",
        {
            "Trials": [
                ["Kod", "Namn", "Hamn", "Utrustningstyp", "Teknik", "Startdatum", "Status", "Synlighet",
                 "Baseline rate", "Baseline unit"],
                ["MMA-YT-01", "Eldrivna terminaltraktorer", "SEMMA", "Terminaltraktor", "Batterielektrisk", "15.1.2024",
                 "Pågående", "Intern", "6,5", "L/h"],
            ],
            "Mätdata": [
                ["Månadsrapport mars 2024"],
                ["Försökskod", "Maskin", "Datum", "Drifttimmar", "Laddad energi (MWh)", "Sträcka (km)", "Lyft",
                 "Anmärkningar", "Förare"],
                ["MMA-YT-01", "TT-01", "1.3.2024", "7,5", "0,142", "38,4", 62, "Normal drift", "Anna"],
                ["MMA-YT-01", "TT-01", "04.03.2024", 8.25, 0.151, 40.2, 70, None, "Erik"],
                ["MMA-YT-01", "TT-02", "2024-03-01", "6,0", 0.1, "31", "55", None, None],
            ],
        },
    )  # fmt: skip
    result = import_file(engine, workbook, scope=OPERATOR)
    assert result.status == "imported", result.problems
    stored = trial(engine, "MMA-YT-01")
    assert (stored.equipment_class.value, stored.technology.value, stored.status.value) == (
        "yard_tractor", "battery_electric", "active",
    )  # fmt: skip
    assert (stored.visibility.value, stored.start_date, stored.baseline_rate) == ("private", date(2024, 1, 15), 6.5)
    csv_path = tmp_path / "tt03-mars.csv"
    csv_path.write_text(
        "Försökskod;Maskin;Datum;Drifttimmar;Energi (kWh);Lyft;Anmärkningar\n"
        "MMA-YT-01;TT-03;5.3.2024;7,25;212,5;58;Laddad två gånger\n"
        "MMA-YT-01;TT-03;6.3.2024;6,75;1 198,0;61;\n",
        encoding="utf-8",
    )
    result = import_file(engine, csv_path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    rows = rows_by_unit(engine, "MMA-YT-01")
    assert len(rows) == 5
    first = rows["TT-01", date(2024, 3, 1)]  # 0,142 MWh = 142 kWh
    assert (first.operating_hours, first.distance_km, first.moves) == (7.5, 38.4, 62.0)
    assert first.energy_kwh == pytest.approx(142.0)
    assert first.notes == "Normal drift; Förare: Anna"
    fourth = rows["TT-01", date(2024, 3, 4)]  # 04.03.2024 is the fourth of March
    assert (fourth.operating_hours, fourth.distance_km) == (8.25, 40.2)
    assert fourth.energy_kwh == pytest.approx(151.0)  # 0.151 MWh
    other = rows["TT-02", date(2024, 3, 1)]
    assert (other.operating_hours, other.energy_kwh, other.distance_km, other.moves) == (6.0, 100.0, 31.0, 55.0)
    fifth = rows["TT-03", date(2024, 3, 5)]
    assert (fifth.operating_hours, fifth.energy_kwh, fifth.moves) == (7.25, 212.5, 58.0)
    assert fifth.notes == "Laddad två gånger"
    sixth = rows["TT-03", date(2024, 3, 6)]  # '1 198,0': a space groups thousands, the comma is the decimal point
    assert (sixth.operating_hours, sixth.energy_kwh, sixth.moves, sixth.notes) == (6.75, 1198.0, 61.0, None)


def test_a_two_row_header_workbook_with_merged_groups_imports_right(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    trials = workbook.active
    assert trials is not None
    trials.title = "Trials"
    trials.append(["Code", "Name", "Port", "Equipment class", "Technology", "Start date", "Baseline rate",
                   "Baseline unit"])  # fmt: skip
    trials.append(["CPH-FC-01", "Fuel cell tractors", "DKCPH", "yard_tractor", "hydrogen_fuel_cell",
                   date(2024, 1, 1), 6, "L/h"])  # fmt: skip
    sheet = workbook.create_sheet("Data")
    sheet.append(["Tractor fleet, March 2024"])
    sheet.append(["Trial", "Unit", "Dato", "Driftstimer", "Energy", None, "Brint", "Distance"])
    sheet.append([None, None, None, None, "Charged (kWh)", "Regenerated (kWh)", "kg", "mi"])
    for column in "ABCD":
        sheet.merge_cells(f"{column}2:{column}3")  # one header over both rows
    sheet.merge_cells("E2:F2")  # 'Energy' over two columns
    sheet.append(["CPH-FC-01", "FC-1", "1.3.2024", 9.5, 18.0, 4.2, "12,4", 25])
    sheet.append(["CPH-FC-01", "FC-1", date(2024, 3, 2), 10, 20.5, None, 13.1, 30.5])
    path = tmp_path / "two-rows.xlsx"
    workbook.save(path)
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    rows = rows_by_unit(engine, "CPH-FC-01")
    first = rows["FC-1", date(2024, 3, 1)]
    # 25 mi = 40.2336 km; 'Regenerated' is no field, so it is kept as a note under its group's name
    assert (first.operating_hours, first.energy_kwh, first.hydrogen_kg) == (9.5, 18.0, 12.4)
    assert first.distance_km == pytest.approx(40.2336)
    assert first.notes == "Energy / Regenerated (kWh): 4.2"
    assert first.source_row == 4
    second = rows["FC-1", date(2024, 3, 2)]
    assert (second.operating_hours, second.energy_kwh, second.hydrogen_kg, second.notes) == (10.0, 20.5, 13.1, None)
    assert second.distance_km == pytest.approx(49.08499, rel=1e-6)  # 30.5 mi x 1.609344


def test_a_chinese_danish_and_indonesian_file_each_import(engine: Engine, tmp_path: Path) -> None:
    trials: list[list[object]] = [
        ["Code", "Name", "Port", "Equipment class", "Technology", "Start date", "Baseline kind", "Baseline rate",
         "Baseline unit"],
        ["SHA-STS-01", "岸桥电动化", "CNSHA", "岸桥", "市电", date(2024, 1, 1), "电动", 2, "kWh/move"],
        ["CPH-RS-01", "Elektrisk reachstacker", "DKCPH", "reach stacker", "batterielektrisk", date(2024, 1, 1),
         "diesel", 14, "L/h"],
        ["TPP-HT-01", "Head truck listrik", "IDTPP", "head truck", "listrik baterai", date(2024, 1, 1), "diesel", 7,
         "L/h"],
    ]  # fmt: skip
    path = write_xlsx(
        tmp_path / "partners.xlsx",
        {
            "Trials": trials,
            "上海": [
                ["项目编号", "设备编号", "日期", "运行时间(小时)", "用电量（度）", "自然箱"],
                ["SHA-STS-01", "QC-07", "2024年3月1日", "２０．５", "１ ８４０", "６１２"],
            ],
            "København": [
                ["Projektkode", "Maskine", "Dato", "Driftstimer", "Elforbrug (kWh)", "Løft", "Rolle"],
                ["CPH-RS-01", "RS-1", "1.3.2024", "11,5", "310,25", 140, "forsøg"],
                ["CPH-RS-01", "RS-D", "1.3.2024", "10,0", None, 120, "referencemaskine"],
            ],
            "Tanjung Priok": [
                ["Kode proyek", "Nomor lambung", "Tanggal", "Jam operasi", "Pemakaian listrik (kWh)",
                 "Jarak tempuh (km)"],
                ["TPP-HT-01", "HT-12", "29.2.2024", "14,5", "186,4", "72,3"],
            ],
        },
    )  # fmt: skip
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    crane = rows_by_unit(engine, "SHA-STS-01")["QC-07", date(2024, 3, 1)]
    assert (crane.operating_hours, crane.energy_kwh, crane.moves) == (20.5, 1840.0, 612.0)
    crane_trial = trial(engine, "SHA-STS-01")
    assert (crane_trial.technology.value, crane_trial.baseline_kind.value) == ("grid_electric", "electric")
    stacker = rows_by_unit(engine, "CPH-RS-01")
    assert (stacker["RS-1", date(2024, 3, 1)].operating_hours, stacker["RS-1", date(2024, 3, 1)].energy_kwh) == (
        11.5, 310.25,
    )  # fmt: skip
    with Session(engine) as session:
        roles = dict(session.exec(select(Unit.unit_id, Unit.role)).all())
    assert (roles["RS-1"], roles["RS-D"]) == (UnitRole.trial, UnitRole.baseline)
    truck = rows_by_unit(engine, "TPP-HT-01")["HT-12", date(2024, 2, 29)]
    assert (truck.operating_hours, truck.energy_kwh, truck.distance_km) == (14.5, 186.4, 72.3)
    assert trial(engine, "TPP-HT-01").equipment_class.value == "yard_tractor"
