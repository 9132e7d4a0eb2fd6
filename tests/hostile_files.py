"""Builders of hostile and malformed upload files, so every test of the importer can reuse them.

Each `make_<name>(directory)` writes one file into `directory` and returns its path. Workbooks whose XML must
be exact are zipped by hand with `write_xlsx`; the others come from openpyxl, the way real uploads are made.
"""

from __future__ import annotations

import struct
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
# Style 0 is General, 1 a date (built-in 14), 2 a time (built-in 21), 3 a custom date-time, 4 a duration.
STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/><numFmt numFmtId="165" formatCode="[h]:mm"/>'
    '</numFmts><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="21"/><xf numFmtId="164"/>'
    '<xf numFmtId="165"/></cellXfs></styleSheet>'
)
XXE_DOCTYPE = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
# Each level holds ten of the level below: &lol9; would expand to 10^8 "lol"s (300 MB).
_LAUGH_LEVELS = "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(2, 10))
LAUGHS_DOCTYPE = f'<!DOCTYPE worksheet [<!ENTITY lol1 "lol">{_LAUGH_LEVELS}]>'


def sheet_xml(rows: str, *, dimension: str | None = None, doctype: str = "") -> str:
    """Wrap <row> elements in a worksheet, optionally claiming a dimension or carrying a DTD."""
    claimed = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0"?>{doctype}<worksheet xmlns="{MAIN_NS}">{claimed}<sheetData>{rows}</sheetData></worksheet>'
    )


def write_xlsx(
    path: Path,
    sheets: list[tuple[str, str]],
    *,
    date1904: bool = False,
    shared_strings: list[str] | None = None,
    workbook_doctype: str = "",
) -> Path:
    """Zip a minimal, valid workbook by hand from (sheet name, worksheet XML) pairs."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    content_types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    listed = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(sheets, 1))
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    workbook = (
        f'{workbook_doctype}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f"{properties}<sheets>{listed}</sheets></workbook>"
    )
    relation = f"{REL_NS}/"
    links = "".join(
        f'<Relationship Id="rId{i}" Type="{relation}worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    links += f'<Relationship Id="rIdStyles" Type="{relation}styles" Target="styles.xml"/>'
    if shared_strings is not None:
        links += f'<Relationship Id="rIdStrings" Type="{relation}sharedStrings" Target="sharedStrings.xml"/>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
            f'Type="{relation}officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PACKAGE_RELS}">{links}</Relationships>')
        archive.writestr("xl/styles.xml", STYLES)
        if shared_strings is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared_strings)
            archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}">{items}</sst>')
        for i, (_, xml) in enumerate(sheets, 1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", xml)
    return path


def inline_row(number: int, *texts: str) -> str:
    """Give a <row> of inline-string cells starting at column A."""
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>' for i, text in enumerate(texts)
    )
    return f'<row r="{number}">{cells}</row>'


# --- zip-level attacks --------------------------------------------------------------------------------------------


def make_zip_bomb(directory: Path) -> Path:
    """A workbook whose sheet is 64 MB of blanks that deflate about 1000 to 1."""
    path = write_xlsx(directory / "bomb.xlsx", [("Data", sheet_xml(inline_row(1, "x")))])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/padding.xml", "w") as stream:
        block = b" " * (1024 * 1024)
        for _ in range(64):
            stream.write(block)
    return path


def make_many_entries(directory: Path) -> Path:
    """A valid workbook padded with 10,050 tiny parts, more than any real workbook holds."""
    path = write_xlsx(directory / "many-parts.xlsx", [("Data", sheet_xml(inline_row(1, "x")))])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for i in range(10_050):
            archive.writestr(f"xl/media/p{i}.bin", b"")
    return path


def make_lying_sizes(directory: Path) -> Path:
    """A workbook whose zip directory says the 6 MB sheet unpacks to 1 KB, to slip past the size checks."""
    rows = "".join(inline_row(n, f"value {n}", "padding " * 20) for n in range(1, 20_001))
    path = write_xlsx(directory / "lying-sizes.xlsx", [("Data", sheet_xml(rows))])
    _patch_declared_size(path, "xl/worksheets/sheet1.xml", 1024)
    return path


def make_oversized_styles(directory: Path) -> Path:
    """A workbook whose directory declares a 100 MB styles part (compressed to a plausible 1 MB)."""
    path = write_xlsx(directory / "big-styles.xlsx", [("Data", sheet_xml(inline_row(1, "x")))])
    _patch_declared_size(path, "xl/styles.xml", 100 * 1024 * 1024, compressed=1024 * 1024)
    return path


def _patch_declared_size(path: Path, part: str, size: int, *, compressed: int | None = None) -> None:
    """Overwrite the sizes of one part in both its local header and the central directory."""
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HII", data, end + 10)
    for _ in range(count):
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
        if data[offset + 46 : offset + 46 + name_length] == part.encode():
            local = struct.unpack_from("<I", data, offset + 42)[0]
            struct.pack_into("<I", data, offset + 24, size)
            struct.pack_into("<I", data, local + 22, size)
            if compressed is not None:
                struct.pack_into("<I", data, offset + 20, compressed)
                struct.pack_into("<I", data, local + 18, compressed)
        offset += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))


def make_truncated_xlsx(directory: Path) -> Path:
    """The first half of a real workbook, as an interrupted upload or download leaves it."""
    whole = make_valid_workbook(directory)
    data = whole.read_bytes()
    path = directory / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


# --- XML attacks --------------------------------------------------------------------------------------------------


def make_xxe_sheet(directory: Path) -> Path:
    """A sheet whose DTD declares an external entity reading /etc/passwd into a cell."""
    xml = sheet_xml(inline_row(1, "&xxe;"), doctype=XXE_DOCTYPE)
    return write_xlsx(directory / "xxe.xlsx", [("Data", xml)])


def make_billion_laughs(directory: Path) -> Path:
    """A sheet whose DTD nests entities to expand a few bytes into gigabytes."""
    xml = sheet_xml(inline_row(1, "&lol9;"), doctype=LAUGHS_DOCTYPE)
    return write_xlsx(directory / "laughs.xlsx", [("Data", xml)])


def make_xxe_workbook(directory: Path) -> Path:
    """An external entity in xl/workbook.xml, which is parsed before any sheet."""
    sheets = [("Data", sheet_xml(inline_row(1, "x")))]
    doctype = '<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return write_xlsx(directory / "xxe-workbook.xlsx", sheets, workbook_doctype=doctype)


# --- dimension attacks --------------------------------------------------------------------------------------------


def make_huge_dimension(directory: Path) -> Path:
    """One cell, but a <dimension> claiming all 17 billion cells of a sheet (A1:XFD1048576)."""
    xml = sheet_xml(inline_row(1, "only cell"), dimension="A1:XFD1048576")
    return write_xlsx(directory / "huge-dimension.xlsx", [("Data", xml)])


def make_far_corner(directory: Path) -> Path:
    """Two real cells, A1 and XFD1048576: a dense reader would allocate the whole sheet (calamine aborts)."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    return write_xlsx(directory / "far-corner.xlsx", [("Data", sheet_xml(rows))])


def make_lying_dimension(directory: Path) -> Path:
    """A <dimension> claiming A1:B2 over a sheet that holds 10 rows, which openpyxl read-only would cut short."""
    rows = inline_row(1, "Name", "Count") + "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 11)
    )
    return write_xlsx(directory / "lying-dimension.xlsx", [("Data", sheet_xml(rows, dimension="A1:B2"))])


# --- wrong file types ---------------------------------------------------------------------------------------------


def make_pdf_named_xlsx(directory: Path) -> Path:
    """A PDF document uploaded with an .xlsx name."""
    path = directory / "report.xlsx"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return path


def make_plain_zip_named_xlsx(directory: Path) -> Path:
    """A zip archive of csv files uploaded with an .xlsx name."""
    path = directory / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    return path


def make_xls_named_xlsx(directory: Path) -> Path:
    """An Excel 97-2003 compound file (a Workbook stream starting with a BIFF8 BOF record) named .xlsx."""
    path = directory / "old.xlsx"
    path.write_bytes(compound_file({"Workbook": _biff_record(0x0809, b"\x00\x06\x05\x00") + _biff_record(0x000A)}))
    return path


def make_encrypted_xls(directory: Path) -> Path:
    """A password-protected .xls: a FILEPASS record right after BOF."""
    workbook = _biff_record(0x0809, b"\x00\x06\x05\x00") + _biff_record(0x002F, b"\x01\x00" * 3)
    path = directory / "locked.xls"
    path.write_bytes(compound_file({"Workbook": workbook + _biff_record(0x000A)}))
    return path


def make_encrypted_ooxml(directory: Path) -> Path:
    """A password-protected .xlsx: Office wraps the encrypted package in a compound file."""
    path = directory / "locked.xlsx"
    path.write_bytes(compound_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64}))
    return path


def make_binary_junk(directory: Path) -> Path:
    """Random-looking bytes with a spreadsheet name."""
    path = directory / "junk.csv"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    return path


def make_empty_file(directory: Path) -> Path:
    """A zero-byte upload."""
    path = directory / "empty.xlsx"
    path.write_bytes(b"")
    return path


def _biff_record(record: int, body: bytes = b"") -> bytes:
    """Encode one BIFF record: type, length, body."""
    return struct.pack("<HH", record, len(body)) + body


_SECTOR = 512
_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(streams: dict[str, bytes]) -> bytes:
    """Build a minimal version-3 compound file (MS-CFB) holding the given streams in regular sectors.

    Streams are padded to 4096 bytes so none lives in the mini stream; that keeps this builder short.
    """
    padded = {name: data.ljust(4096, b"\x00") for name, data in streams.items()}
    fat = [_FAT_SECTOR, _END]  # sector 0 holds the FAT, sector 1 the directory
    starts = {}
    for name, data in padded.items():
        starts[name] = len(fat)
        count = -(-len(data) // _SECTOR)
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [_END]
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    entries = _directory_entry("Root Entry", 5, _END, 0, child=1 if streams else _NO_STREAM)
    names = list(padded)
    for i, name in enumerate(names):
        sibling = i + 2 if i + 1 < len(names) else _NO_STREAM
        entries += _directory_entry(name, 2, starts[name], len(padded[name]), right=sibling)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    header += struct.pack("<109I", 0, *([_FREE] * 108))
    directory = entries.ljust(_SECTOR, b"\x00")
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + b"".join(padded.values())


def _directory_entry(
    name: str, kind: int, start: int, size: int, *, child: int = _NO_STREAM, right: int = _NO_STREAM
) -> bytes:
    """Encode one 128-byte directory entry (a black node of the directory's red-black tree)."""
    encoded = (name + "\x00").encode("utf-16-le")
    entry = encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
    entry += struct.pack("<III", _NO_STREAM, right, child) + b"\x00" * 36
    return entry + struct.pack("<IQ", start, size)


# --- csv ----------------------------------------------------------------------------------------------------------


def make_csv_utf16(directory: Path) -> Path:
    """Excel's "Unicode text": UTF-16 LE with a byte-order mark, tab-delimited."""
    path = directory / "unicode.txt"
    path.write_bytes("Trial code\tEnergy (MWh)\tNote\r\nLGB-YT-01\t12,5\tQuai Nord – été\r\n".encode("utf-16"))
    return path


def make_csv_cp1252(directory: Path) -> Path:
    """A European Excel "CSV": Windows-1252, ';'-delimited, with é and € that UTF-8 cannot decode."""
    path = directory / "european.csv"
    path.write_bytes("Trial code;Coût (€);Remarque\r\nLGB-YT-01;1.234,5;Café\r\n".encode("cp1252"))
    return path


def make_csv_invalid_bytes(directory: Path) -> Path:
    """A csv whose row 3 holds bytes that neither UTF-8 nor Windows-1252 can decode (0x81, 0x8D)."""
    path = directory / "invalid-bytes.csv"
    path.write_bytes(b"Trial code,Energy\r\nLGB-YT-01,12\r\nLGB-YT-02,\x81\x8d\r\n")
    return path


def make_csv_mixed_encoding(directory: Path) -> Path:
    """A UTF-8 csv (with an accent) whose row 3 holds one Windows-1252 byte pasted from elsewhere."""
    path = directory / "mixed.csv"
    path.write_bytes("Trial code,Note\r\nLGB-YT-01,été\r\n".encode() + b"LGB-YT-02,caf\xe9\r\n")
    return path


def make_csv_nul(directory: Path) -> Path:
    """A csv with a NUL byte in row 2."""
    path = directory / "nul.csv"
    path.write_bytes(b"Trial code,Energy\r\nLGB-YT-01,1\x002\r\nLGB-YT-02,3\r\n")
    return path


# --- workbooks made by openpyxl -----------------------------------------------------------------------------------


def make_valid_workbook(directory: Path) -> Path:
    """A small, ordinary measurements workbook."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Measurements"
    sheet.append(["Trial code", "Period start", "Energy (MWh)"])
    for day in range(1, 31):
        sheet.append([f"LGB-YT-{day:02d}", date(2024, 3, day), day * 1.5])
    path = directory / "valid.xlsx"
    workbook.save(path)
    return path


def make_formula_without_value(directory: Path) -> Path:
    """Formulas written by openpyxl, which saves no cached results (as any non-calculating library does)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Energy (MWh)", "Double"])
    sheet.append([2, "=A2*2"])
    path = directory / "formula.xlsx"
    workbook.save(path)
    return path


def make_1904_workbook(directory: Path) -> Path:
    """A workbook in the 1904 date system (old Mac Excel), whose serials are 1462 days smaller."""
    workbook = Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Period start", "Read at"])
    sheet.append([date(2024, 3, 1), datetime(2024, 3, 1, 12, 30)])
    path = directory / "mac-1904.xlsx"
    workbook.save(path)
    return path


def make_empty_sheet_workbook(directory: Path) -> Path:
    """A workbook whose only sheet has no cells."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Empty"
    path = directory / "empty-sheet.xlsx"
    workbook.save(path)
    return path


# --- legacy formats (.xls, .xlsb, .ods), read by python-calamine in a worker process ---------------------------------

_BIFF8_BOF = struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206)  # workbook globals, BIFF8
_BIFF8_SHEET_BOF = struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x0206)  # a worksheet


def xls_workbook(cells: list[tuple[int, int, float]], *, dimension: tuple[int, int] | None = None) -> bytes:
    """Build a one-sheet BIFF8 .xls holding NUMBER cells at (0-based row, column), optionally with a DIMENSIONS
    record claiming (rows, columns)."""
    name = b"Data"
    globals_length = (4 + len(_BIFF8_BOF)) + (4 + 8 + len(name)) + 4  # BOF, BOUNDSHEET, EOF: the sheet's offset
    boundsheet = _biff_record(0x0085, struct.pack("<IBBBB", globals_length, 0, 0, len(name), 0) + name)
    sheet = _biff_record(0x0809, _BIFF8_SHEET_BOF)
    if dimension:
        sheet += _biff_record(0x0200, struct.pack("<IIHHH", 0, dimension[0], 0, dimension[1], 0))
    for row, column, value in cells:
        sheet += _biff_record(0x0203, struct.pack("<HHHd", row, column, 15, value))
    stream = _biff_record(0x0809, _BIFF8_BOF) + boundsheet + _biff_record(0x000A)
    return stream + sheet + _biff_record(0x000A)


def make_xls_far_corner(directory: Path) -> Path:
    """An .xls with two cells, A1 and IV65536, the last cell BIFF8 allows: a dense reader allocates 16.7M cells."""
    path = directory / "far-corner.xls"
    path.write_bytes(compound_file({"Workbook": xls_workbook([(0, 0, 1.0), (65535, 255, 2.0)])}))
    return path


def make_xls_huge_dimension(directory: Path) -> Path:
    """An .xls with one cell whose DIMENSIONS record claims the whole sheet (65536 rows, 256 columns)."""
    path = directory / "huge-dimension.xls"
    path.write_bytes(compound_file({"Workbook": xls_workbook([(0, 0, 1.0)], dimension=(65536, 256))}))
    return path


def _biff12(record: int, body: bytes = b"") -> bytes:
    """Encode one BIFF12 (.xlsb) record: type and length as 7-bit varints, then the body."""
    encoded = b""
    for value in (record, len(body)):
        while True:
            byte, value = value & 0x7F, value >> 7
            encoded += bytes([byte | (0x80 if value else 0)])
            if not value:
                break
    return encoded + body


def _wide(text: str) -> bytes:
    """Encode a BIFF12 string: 32-bit character count, then UTF-16."""
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_xlsb(
    path: Path, cells: list[tuple[int, int, float]], *, padding: int = 0, dimension: tuple[int, int] | None = None
) -> Path:
    """Zip a one-sheet .xlsb holding BrtCellReal cells at (0-based row, column), its BrtWsDim claiming the cells'
    own extent or `dimension` (last row, last column, 0-based), optionally padded with `padding` MB of zeros."""
    workbook = _biff12(0x83) + _biff12(0x8F) + _biff12(156, struct.pack("<II", 0, 1) + _wide("rId1") + _wide("Data"))
    workbook += _biff12(0x90) + _biff12(0x84)
    last_row, last_column = dimension or (max(row for row, _, _ in cells), max(column for _, column, _ in cells))
    sheet = _biff12(0x81) + _biff12(148, struct.pack("<IIII", 0, last_row, 0, last_column))  # BrtWsDim
    sheet += _biff12(0x91)  # BrtBeginSheetData
    for row, column, value in cells:
        sheet += _biff12(0, struct.pack("<IIH3sI", row, 0, 300, b"\x00" * 3, 0))  # BrtRowHdr, no column spans
        sheet += _biff12(5, struct.pack("<IId", column, 0, value))  # BrtCellReal: column, style, number
    sheet += _biff12(0x92) + _biff12(0x82)
    relations = (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{REL_NS}/worksheet" '
        'Target="worksheets/sheet1.bin"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
        )
        archive.writestr("xl/workbook.bin", workbook)
        archive.writestr("xl/_rels/workbook.bin.rels", relations)
        archive.writestr("xl/worksheets/sheet1.bin", sheet)
        if padding:
            with archive.open("xl/padding.bin", "w") as stream:
                for _ in range(padding):
                    stream.write(b"\x00" * (1024 * 1024))
    return path


def make_xlsb_far_corner(directory: Path) -> Path:
    """An .xlsb with two cells, A1 and XFD1048576: calamine would try to allocate the whole sheet."""
    return write_xlsb(directory / "far-corner.xlsb", [(0, 0, 1.0), (1_048_575, 16_383, 2.0)])


def make_xlsb_huge_dimension(directory: Path) -> Path:
    """An .xlsb with one cell whose BrtWsDim claims the whole sheet (A1:XFD1048576)."""
    return write_xlsb(directory / "huge-dimension.xlsb", [(0, 0, 1.0)], dimension=(1_048_575, 16_383))


def make_xlsb_zip_bomb(directory: Path) -> Path:
    """An .xlsb padded with 64 MB of zeros that deflate about 1000 to 1."""
    return write_xlsb(directory / "bomb.xlsb", [(0, 0, 1.0)], padding=64)


ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
ODS_VALUE = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'


def write_ods(path: Path, rows: str, *, padding: int = 0) -> Path:
    """Zip a one-sheet OpenDocument spreadsheet from <table:table-row> elements, optionally with `padding` MB of
    blanks inside content.xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "META-INF/manifest.xml", '<manifest xmlns="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'
        )
        with archive.open("content.xml", "w") as stream:
            stream.write(f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES}>'.encode())
            for _ in range(padding):
                stream.write(b" " * (1024 * 1024))
            stream.write(
                '<office:body><office:spreadsheet><table:table table:name="Data">'
                f"{rows}</table:table></office:spreadsheet></office:body></office:document-content>".encode()
            )
    return path


def make_ods_far_corner(directory: Path) -> Path:
    """An .ods whose second row repeats empty cells to the last column and then holds a value (XFD2)."""
    rows = f"<table:table-row>{ODS_VALUE}</table:table-row>"
    rows += f'<table:table-row><table:table-cell table:number-columns-repeated="16383"/>{ODS_VALUE}</table:table-row>'
    return write_ods(directory / "far-corner.ods", rows)


def make_ods_repeated_rows(directory: Path) -> Path:
    """An .ods whose one row of values is repeated three million times: 200 bytes claiming 3M rows."""
    rows = f'<table:table-row table:number-rows-repeated="3000000">{ODS_VALUE}</table:table-row>'
    return write_ods(directory / "repeated-rows.ods", rows)


def make_ods_huge_extent(directory: Path) -> Path:
    """One value, then empty cells and rows repeated to the sheet's edge, as LibreOffice writes formatted areas."""
    rows = f'<table:table-row>{ODS_VALUE}<table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
    rows += (
        '<table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    return write_ods(directory / "huge-extent.ods", rows)


def make_ods_zip_bomb(directory: Path) -> Path:
    """An .ods whose content.xml holds 64 MB of blanks that deflate about 1000 to 1."""
    return write_ods(directory / "bomb.ods", f"<table:table-row>{ODS_VALUE}</table:table-row>", padding=64)
