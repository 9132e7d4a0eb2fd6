"""The sniffer names what a file really is from its bytes, and refuses what cannot or must not be parsed."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from importers.sniff import DEFAULT_LIMITS, Limits, sniff
from tests import hostile_files as hostile
from tests.factories import CORPUS, needs_corpus

LOCKED_OOXML = "this workbook is password-protected (encrypted); remove the password in Excel and save it as .xlsx"
LOCKED_XLS = "this is a password-protected Excel 97-2003 .xls workbook; remove the password and save it as .xlsx"
LOCKED_ODS = "this is a password-protected OpenDocument spreadsheet; remove the password and save it as .xlsx"
EMPTY = "the file is empty (0 bytes); upload an .xlsx workbook or a .csv file instead"

CORPUS_REJECTIONS = {
    "password.xlsx": LOCKED_OOXML,
    "password.xlsb": LOCKED_OOXML,
    "password.xls": LOCKED_XLS,
    "password.ods": LOCKED_ODS,
    "empty_file.xlsx": EMPTY,
    "empty_file.xlsb": EMPTY,
    "empty_file.ods": EMPTY,
}
CORPUS_WORKBOOKS = {
    "base.xlsx": "xlsx",
    "any_sheets.xlsx": "xlsx",
    "table-multiple.xlsx": "xlsx",
    "issue139.xlsx": "xlsx",
    "base.xls": "xls",  # python-calamine reads the legacy formats (importers/legacy.py)
    "any_sheets.xls": "xls",
    "base.xlsb": "xlsb",
    "any_sheets.xlsb": "xlsb",
    "base.ods": "ods",
    "any_sheets.ods": "ods",
}


def sniff_message(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """Sniff a file that must be refused and give the one problem's message."""
    kind, problems = sniff(path, path.name, limits)
    assert kind is None
    assert len(problems) == 1
    assert problems[0].file == path.name
    return problems[0].message


@needs_corpus
def test_corpus_is_fully_covered() -> None:
    assert {path.name for path in CORPUS.iterdir()} == set(CORPUS_REJECTIONS) | set(CORPUS_WORKBOOKS)


@needs_corpus
@pytest.mark.parametrize(("name", "message"), sorted(CORPUS_REJECTIONS.items()))
def test_corpus_file_is_refused_for_what_it_really_is(name: str, message: str) -> None:
    assert sniff_message(CORPUS / name) == message


@needs_corpus
@pytest.mark.parametrize(("name", "kind"), sorted(CORPUS_WORKBOOKS.items()))
def test_corpus_workbook_is_accepted(name: str, kind: str) -> None:
    assert sniff(CORPUS / name, name, DEFAULT_LIMITS) == (kind, [])


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        (hostile.make_empty_file, EMPTY),
        (hostile.make_encrypted_xls, LOCKED_XLS),
        (hostile.make_encrypted_ooxml, LOCKED_OOXML),
        (hostile.make_pdf_named_xlsx, "this is a PDF document, not a spreadsheet; export the data as .xlsx or .csv"),
        (hostile.make_plain_zip_named_xlsx, "this is a zip archive, not an Excel workbook; unpack it"),
        (hostile.make_binary_junk, "this is binary data of an unknown kind, not a spreadsheet or text file"),
        (hostile.make_truncated_xlsx, "the file is damaged or truncated (its zip structure cannot be read)"),
        (hostile.make_zip_bomb, "the part xl/padding.xml expands more than 200 times when unpacked"),
        (hostile.make_many_entries, "the workbook has 10056 parts inside, more than the 10000 accepted"),
        (hostile.make_xlsb_zip_bomb, "the part xl/padding.bin expands more than 200 times when unpacked"),
        (hostile.make_ods_zip_bomb, "the part content.xml expands more than 200 times when unpacked"),
    ],
)
def test_hostile_file_is_refused_before_parsing(builder: Callable[[Path], Path], message: str, tmp_path: Path) -> None:
    assert sniff_message(builder(tmp_path)).startswith(message)


@pytest.mark.parametrize(
    ("builder", "kind"),
    [
        (hostile.make_valid_workbook, "xlsx"),
        (hostile.make_xls_named_xlsx, "xls"),  # the bytes decide, not the name
        (hostile.make_xls_far_corner, "xls"),  # the reader checks each sheet's real extent
        (hostile.make_xlsb_far_corner, "xlsb"),
        (hostile.make_ods_far_corner, "ods"),
        (hostile.make_huge_dimension, "xlsx"),
        (hostile.make_xxe_sheet, "xlsx"),  # sniffing reads no XML; the reader refuses the DTD
        (hostile.make_lying_sizes, "xlsx"),  # the directory looks harmless; unpacking finds the lie
        (hostile.make_csv_utf16, "csv"),
        (hostile.make_csv_cp1252, "csv"),
        (hostile.make_csv_nul, "csv"),  # one stray NUL is a row problem for the reader, not binary data
        (hostile.make_csv_invalid_bytes, "csv"),
    ],
)
def test_readable_file_gets_its_kind(builder: Callable[[Path], Path], kind: str, tmp_path: Path) -> None:
    assert sniff(builder(tmp_path), "upload", DEFAULT_LIMITS) == (kind, [])


def test_kind_comes_from_bytes_not_name(tmp_path: Path) -> None:
    csv_named_xlsx = tmp_path / "data.xlsx"
    csv_named_xlsx.write_text("Trial code,Energy\nLGB-YT-01,1\n")
    macro_workbook = hostile.write_xlsx(tmp_path / "macros.xlsm", [("Data", hostile.sheet_xml(""))])
    assert sniff(csv_named_xlsx, "data.xlsx", DEFAULT_LIMITS) == ("csv", [])
    assert sniff(macro_workbook, "macros.xlsm", DEFAULT_LIMITS) == ("xlsx", [])


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    """Zip the given parts, for formats that only differ by what the zip holds."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("parts", "kind"),
    [
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}, "ods"),
        ({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01"}, "xlsb"),
    ],
)
def test_zip_workbook_kind_comes_from_its_parts(parts: dict[str, bytes], kind: str, tmp_path: Path) -> None:
    assert sniff(write_zip(tmp_path / "upload.xlsx", parts), "upload.xlsx", DEFAULT_LIMITS) == (kind, [])


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            {
                "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                "META-INF/manifest.xml": b"<manifest:encryption-data/>",
            },
            LOCKED_ODS,
        ),
        (
            {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
            "this is an OpenDocument file but not a spreadsheet",
        ),
        ({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}, "this is a Word or PowerPoint document"),
        ({"[Content_Types].xml": b"<Types/>"}, "this is a zip archive, not an Excel workbook"),
    ],
)
def test_zip_format_is_named(parts: dict[str, bytes], message: str, tmp_path: Path) -> None:
    assert sniff_message(write_zip(tmp_path / "upload.xlsx", parts)).startswith(message)


def _with_sector_shift(compound: bytes, shift: int) -> bytes:
    """Claim another sector size in a compound file's header, as a damaged or hostile file might."""
    return compound[:0x1E] + shift.to_bytes(2, "little") + compound[0x20:]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>", "this is a web page (HTML)"),
        (b'<table border="1"><tr><td>exported</td></tr></table>', "this is a web page (HTML)"),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
            "this is an XML file",
        ),
        (hostile.compound_file({"WordDocument": b"\xec\xa5"}), "this is an old Microsoft Office (OLE2) document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "this is a damaged Microsoft Office (OLE2) file"),
        (_with_sector_shift(hostile.compound_file({"Workbook": b""}), 30), "this is a damaged Microsoft Office (OLE2)"),
    ],
)
def test_other_formats_are_named(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "upload.xls"
    path.write_bytes(content)
    assert sniff_message(path).startswith(message)


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * 1_000_000)
    assert sniff_message(path, Limits(max_file_bytes=1024 * 1024)) == (
        "the file is 4 MB, more than the 1 MB accepted; split it"
    )


def test_workbook_unpacking_past_the_limit_is_refused(tmp_path: Path) -> None:
    path = hostile.make_valid_workbook(tmp_path)
    message = sniff_message(path, Limits(max_uncompressed_bytes=5 * 1024))
    assert message.startswith("the workbook unpacks to more than")


def test_zip_entry_limit_is_configurable(tmp_path: Path) -> None:
    path = hostile.make_valid_workbook(tmp_path)
    assert sniff_message(path, Limits(max_zip_entries=3)).startswith("the workbook has 9 parts inside")


def test_compression_ratio_limit_is_configurable(tmp_path: Path) -> None:
    rows = "".join(hostile.inline_row(n, "same text in every row") for n in range(1, 40_000))
    path = hostile.write_xlsx(tmp_path / "repetitive.xlsx", [("Data", hostile.sheet_xml(rows))])
    assert sniff(path, "repetitive.xlsx", DEFAULT_LIMITS) == ("xlsx", [])
    assert "expands more than 5 times" in sniff_message(path, Limits(max_compression_ratio=5))
