"""A csv saved by Excel in Japan (Shift_JIS, cp932) or China (GBK, GB18030) reads right; a European one as before;
one whose encoding cannot be told is refused, never stored as mojibake."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from importers.encodings import legacy_encoding
from importers.pipeline import import_file
from importers.readers import read_file
from tests.factories import LGB_TRIAL, TRIALS_HEADER, stored_with_notes, table_counts, write_xlsx
from trials.scope import Scope

OPERATOR = Scope.operator()

HEADER = ["Unit", "Date", "Operating hours (h)", "Energy (kWh)", "Moves", "Notes"]
ROWS: list[list[Any]] = [
    ["YT-1", date(2024, 3, 1), 10, 250.5, 40, "夜勤 第3バース"],
    ["YT-1", date(2024, 3, 2), 12.25, 310, 50, "上海港 洋山三号泊位 夜班"],
    ["YT-2", date(2024, 3, 1), 8, 190.75, None, "ヤード・トラクター"],
]
JAPANESE = (
    "夜勤 第3バース ヤード・トラクター 稼働時間 電力量 充電 岸壁クレーン 東京港 大井埠頭 本牧 点検 運転手 交代".split()
)
CHINESE = "上海港 洋山三号泊位 夜班 岸桥 电动集卡 充电 氢燃料 堆场 宁波舟山港 深圳盐田 检修 轮胎吊 司机 交班".split()
WESTERN = (
    "Übergabe Müller Größe Straße façade élève été Café naïve Ærø Skåne Smørrebrød Ação coração São Señor año "
    "Zürich Öl Kühlung Gerät Maßnahme Lärm crème brûlée déjà Göteborg Jyväskylä Škoda Œuvre €12 °C ±2 ½ «Nord»"
).split()


def write_csv(path: Path, encoding: str, rows: list[list[Any]]) -> Path:
    """Write the measurement rows as Excel's plain "CSV" does in that locale: the ANSI code page, ISO dates."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([[value.isoformat() if isinstance(value, date) else value for value in row] for row in rows])
    return path


def cells_of(path: Path) -> list[tuple[Any, ...]]:
    """The one sheet's rows of a csv that must read without problems."""
    workbook = read_file(path)
    assert workbook.problems == []
    [sheet] = workbook.sheets
    return [cells for _number, cells in sheet.rows]


@pytest.mark.parametrize("form", ["xlsx", "cp932", "gb18030"])  # GBK lacks ・; see the short-file test
def test_the_same_measurements_in_xlsx_and_in_east_asian_csv_store_the_same(
    engine: Engine, tmp_path: Path, form: str
) -> None:
    trials = write_xlsx(tmp_path / "trials.xlsx", {"Trials": [TRIALS_HEADER, LGB_TRIAL]})
    assert import_file(engine, trials, scope=OPERATOR).status == "imported"
    if form == "xlsx":
        path = write_xlsx(tmp_path / "data.xlsx", {"Measurements": [HEADER, *ROWS]})
    else:
        path = write_csv(tmp_path / f"data-{form}.csv", form, ROWS)
    result = import_file(engine, path, scope=OPERATOR, trial_code="LGB-YT-01")
    assert result.status == "imported", result.problems
    assert stored_with_notes(engine) == [
        ("YT-1", date(2024, 3, 1), 10.0, 250.5, 40.0, "夜勤 第3バース"),
        ("YT-1", date(2024, 3, 2), 12.25, 310.0, 50.0, "上海港 洋山三号泊位 夜班"),
        ("YT-2", date(2024, 3, 1), 8.0, 190.75, None, "ヤード・トラクター"),
    ]


@pytest.mark.parametrize(
    ("words", "encoding"),
    [(JAPANESE, "cp932"), (CHINESE, "gb18030"), (CHINESE, "gbk"), (WESTERN, "cp1252")],
    ids=["japanese-cp932", "chinese-gb18030", "chinese-gbk", "western-cp1252"],
)
def test_short_files_in_each_language_read_right(words: list[str], encoding: str, tmp_path: Path) -> None:
    chooser = random.Random(17)
    for number in range(300):
        notes = ";".join(chooser.sample(words, chooser.randint(1, 4)))
        text = f"Unit,Date,Energy (kWh),Notes\r\nYT-{number},2024-03-01,{number}.5,{notes}\r\n"
        chosen, refusal = legacy_encoding(io.BytesIO(text.encode(encoding)))
        assert (refusal, text.encode(encoding).decode(chosen)) == (None, text)
    path = tmp_path / "one.csv"
    path.write_bytes(f"Unit,Notes\r\nYT-1,{' '.join(words[:3])}\r\n".encode(encoding))
    assert cells_of(path) == [("Unit", "Notes"), ("YT-1", " ".join(words[:3]))]


@pytest.mark.parametrize(
    ("text", "encoding", "readings"),
    [
        # French saved as GB18030: its accents are GB2312's pinyin letters, which read as Windows-1252 mojibake.
        ("Unit;Note\r\nYT-1;Quai Nord – été\r\n", "gb18030", "'YT-1;Quai Nord ¨C ¨¦t¨¦') or as Shift_JIS"),
        # Japanese saved as GB18030: neither reading is plausible, and Windows-1252 decodes every byte.
        ("Unit,Note\r\nYT-1,稼働時間 電力量\r\n", "gb18030", "it reads as Windows-1252 (Western European)"),
    ],
    ids=["french-in-gb18030", "japanese-in-gb18030"],
)
def test_a_file_whose_encoding_cannot_be_told_is_refused_and_writes_nothing(
    engine: Engine, tmp_path: Path, text: str, encoding: str, readings: str
) -> None:
    path = tmp_path / "unsure.csv"
    path.write_bytes(text.encode(encoding))
    before = table_counts(engine)
    result = import_file(engine, path, scope=OPERATOR, trial_code="LGB-YT-01")
    assert result.status == "rejected"
    [problem] = result.problems
    assert problem.message.startswith("the file is not UTF-8, and its encoding cannot be told from its bytes")
    assert readings in problem.message
    assert problem.message.endswith("save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8) and upload it again")
    assert table_counts(engine) == before


def test_the_encoding_is_found_from_text_anywhere_in_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    ascii_rows = "".join(f"YT-{n},2024-03-01,{n}\r\n" for n in range(60_000))  # 1.2 MB before any Japanese
    path.write_bytes(f"Unit,Date,Notes\r\n{ascii_rows}YT-9,2024-03-02,夜勤 第3バース\r\n".encode("cp932"))
    assert cells_of(path)[-1] == ("YT-9", "2024-03-02", "夜勤 第3バース")


def test_bytes_no_encoding_reads_as_text_stay_row_problems(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_bytes(b"Unit,Note\r\nYT-1,ok\r\nYT-2,\x81\x8d\r\n")  # GB18030 would read a rare hanzi, cp932 a sign
    [problem] = read_file(path).problems
    assert (problem.row, problem.message) == (
        3,
        "this row holds bytes that are not valid text in the file's encoding; save the file as CSV UTF-8",
    )
