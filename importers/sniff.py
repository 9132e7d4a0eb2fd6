"""Decide what an uploaded file really is from its bytes, and refuse unsafe or unreadable files before parsing."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from importers.problems import Problem

MB = 1024 * 1024
UPLOAD = "upload an .xlsx workbook or a .csv file instead"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TEXT_SAMPLE_BYTES = 64 * 1024
# Bytes that never occur in text: C0 controls other than tab, newline, carriage return and form feed.
_BINARY_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c")
# A text file may hold a stray control byte (the reader reports its row); binary data is full of them.
_MAX_BINARY_SHARE = 0.01
_MIN_BINARY_BYTES = 16
# Below this size a high compression ratio is harmless, and tiny XML parts compress very well.
_RATIO_FLOOR_BYTES = MB


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one hostile upload from exhausting the server's time, memory or disk."""

    max_file_bytes: int = 200 * MB
    max_uncompressed_bytes: int = 2048 * MB
    max_compression_ratio: int = 200
    max_zip_entries: int = 10_000
    max_rows: int = 2_000_000
    max_columns: int = 200
    max_read_seconds: float = 120.0  # for an .xls, .xlsb or .ods, read whole by python-calamine in a worker process


DEFAULT_LIMITS = Limits()


def sniff(path: Path, display_name: str, limits: Limits) -> tuple[str | None, list[Problem]]:
    """Give "xlsx", "xls", "xlsb", "ods" or "csv" for a file we can read safely, else None and one problem saying
    what it is."""
    size = path.stat().st_size
    if size == 0:
        return None, [Problem(display_name, f"the file is empty (0 bytes); {UPLOAD}")]
    if size > limits.max_file_bytes:
        message = (
            f"the file is {size / MB:.0f} MB, more than the {limits.max_file_bytes / MB:.0f} MB accepted; split it"
        )
        return None, [Problem(display_name, message)]
    with path.open("rb") as stream:
        head = stream.read(_TEXT_SAMPLE_BYTES)
    if head.startswith(_OLE2_MAGIC):
        refusal = _ole2_message(path.read_bytes())
        return (None, [Problem(display_name, refusal)]) if refusal else ("xls", [])
    if head.startswith(_ZIP_MAGICS):
        return _sniff_zip(path, display_name, limits)
    not_text = _text_or_binary_message(head)
    if not_text:
        return None, [Problem(display_name, not_text)]
    return "csv", []


def _text_or_binary_message(head: bytes) -> str | None:
    """Name a non-zip, non-OLE2 file that is not csv text, or give None for text we read as csv."""
    if head.startswith(b"%PDF"):
        return (
            "this is a PDF document, not a spreadsheet; export the data as .xlsx or .csv from the program that made it"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text with a byte-order mark: Excel's "Unicode text"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<table" in start:
        return "this is a web page (HTML) with a spreadsheet name; open it in Excel or LibreOffice and save it as .xlsx"
    if start.startswith(b"<?xml"):
        return "this is an XML file (perhaps an Excel 2003 XML spreadsheet); open it in Excel and save it as .xlsx"
    if sum(head.count(byte) for byte in _BINARY_BYTES) > max(_MIN_BINARY_BYTES, _MAX_BINARY_SHARE * len(head)):
        return f"this is binary data of an unknown kind, not a spreadsheet or text file; {UPLOAD}"
    return None


def _sniff_zip(path: Path, display_name: str, limits: Limits) -> tuple[str | None, list[Problem]]:
    """Tell an .xlsx from the other zip-based formats, and check the zip's own claims about its size."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            kind, message = _zip_kind(archive, names)
            message = message or _zip_safety_message(infos, limits)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ):  # RuntimeError: zip-level passwords, which no spreadsheet program sets
        message = "the file is damaged or truncated (its zip structure cannot be read); upload it again"
    if message:
        return None, [Problem(display_name, message)]
    return kind, []


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> tuple[str, str | None]:
    """Say which zip format this is ("xlsx", "xlsb" or "ods"), or why it is not a workbook we read."""
    if "mimetype" in names and _read_head(archive, "mimetype").startswith(b"application/vnd.oasis.opendocument"):
        if _ods_is_encrypted(archive, names):
            return "", "this is a password-protected OpenDocument spreadsheet; remove the password and save it as .xlsx"
        if not _read_head(archive, "mimetype").startswith(_ODS_MIMETYPE) or "content.xml" not in names:
            return "", f"this is an OpenDocument file but not a spreadsheet; {UPLOAD}"
        return "ods", None
    if "xl/workbook.bin" in names:
        return "xlsb", None
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return "xlsx", None
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        return "", f"this is a Word or PowerPoint document, not a spreadsheet; {UPLOAD}"
    return "", "this is a zip archive, not an Excel workbook; unpack it and upload the .xlsx or .csv file inside"


def _ods_is_encrypted(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """Find ODF encryption, which the manifest declares for each encrypted part."""
    manifest = "META-INF/manifest.xml"
    return manifest in names and b"encryption-data" in _read_head(archive, manifest)


def _read_head(archive: zipfile.ZipFile, part: str) -> bytes:
    """Read at most the first MB of a part: enough to recognise it, and safe before the size checks."""
    with archive.open(part) as stream:
        return stream.read(MB)


def _zip_safety_message(infos: list[zipfile.ZipInfo], limits: Limits) -> str | None:
    """Refuse a zip whose directory already admits too many parts, too many bytes or a bomb-like ratio."""
    if len(infos) > limits.max_zip_entries:
        return f"the workbook has {len(infos)} parts inside, more than the {limits.max_zip_entries} accepted"
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        return f"the workbook unpacks to more than {limits.max_uncompressed_bytes / MB:.0f} MB; split it"
    bomb = next((info for info in infos if _is_bomb_like(info, limits)), None)
    if bomb:
        return (
            f"the part {bomb.filename} expands more than {limits.max_compression_ratio} times when unpacked, "
            f"which real spreadsheets never do (a 'zip bomb'); refusing it as unsafe"
        )
    return None


def _is_bomb_like(info: zipfile.ZipInfo, limits: Limits) -> bool:
    """Flag a zip part that expands far more than real spreadsheet data does."""
    ratio_bound = limits.max_compression_ratio * max(info.compress_size, 1)
    return info.file_size > _RATIO_FLOOR_BYTES and info.file_size > ratio_bound


def _ole2_message(data: bytes) -> str | None:
    """Tell an old .xls (None: readable), a password-protected workbook and other OLE2 documents apart by their
    stream names."""
    try:
        layout, entries = _ole2_layout(data)
    except (struct.error, IndexError, ValueError):
        return f"this is a damaged Microsoft Office (OLE2) file; {UPLOAD}"
    streams = {name: stream for name, kind, stream in entries if kind == _STREAM}
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return "this workbook is password-protected (encrypted); remove the password in Excel and save it as .xlsx"
    workbook = streams.get("Workbook") or streams.get("Book")
    if workbook is not None:
        if _biff_is_encrypted(_ole2_stream_head(data, layout, workbook)):
            return "this is a password-protected Excel 97-2003 .xls workbook; remove the password and save it as .xlsx"
        return None
    return f"this is an old Microsoft Office (OLE2) document, not an Excel workbook; {UPLOAD}"


@dataclass(frozen=True)
class _OleStream:
    """Where one stream of a compound file starts and how long it is."""

    start: int
    size: int


@dataclass(frozen=True)
class _Ole2:
    """The allocation tables of a compound file, enough to follow a stream's sector chain."""

    sector_size: int
    mini_sector_size: int
    mini_cutoff: int
    fat: tuple[int, ...]
    minifat: tuple[int, ...]
    mini_stream: bytes


_STREAM = 2  # directory entry type of a stream, as opposed to a storage or the root
_END_OF_CHAIN = 0xFFFFFFFA  # this and above are special sector markers (end, free, FAT, DIFAT)
_DIRECTORY_ENTRY = 128
_BIFF_HEAD_BYTES = 4096


def _ole2_layout(data: bytes) -> tuple[_Ole2, list[tuple[str, int, _OleStream]]]:
    """Read the header, FAT and directory of a compound file (MS-CFB), keeping memory bounded by the file."""
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise ValueError("not a compound file sector size")
    sector_size, mini_sector_size = 1 << sector_shift, 1 << mini_shift
    first_dir, _, mini_cutoff, first_minifat = struct.unpack_from("<IIII", data, 0x30)
    # A hostile DIFAT could list FAT sectors over and over; a real file needs no more than its sectors require.
    needed = len(data) // sector_size // (sector_size // 4) + 1
    difat = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END_OF_CHAIN]
    difat = (difat + _extra_difat(data, sector_size, struct.unpack_from("<I", data, 0x44)[0], needed))[:needed]
    fat = tuple(v for s in difat for v in struct.unpack_from(f"<{sector_size // 4}I", data, (s + 1) * sector_size))
    layout = _Ole2(sector_size, mini_sector_size, mini_cutoff, fat, (), b"")
    directory = _read_chain(data, layout, first_dir, len(fat) * sector_size)
    entries = [_directory_entry(directory, offset) for offset in range(0, len(directory), _DIRECTORY_ENTRY)]
    root = entries[0][2] if entries else _OleStream(_END_OF_CHAIN, 0)
    minifat_bytes = _read_chain(data, layout, first_minifat, len(fat) * sector_size)
    minifat = struct.unpack_from(f"<{len(minifat_bytes) // 4}I", minifat_bytes)
    mini_stream = _read_chain(data, layout, root.start, root.size)
    return _Ole2(sector_size, mini_sector_size, mini_cutoff, fat, minifat, mini_stream), entries


def _extra_difat(data: bytes, sector_size: int, sector: int, needed: int) -> list[int]:
    """Follow the DIFAT chain that lists FAT sectors beyond the first 109 (files over about 7 MB)."""
    found: list[int] = []
    per_sector = sector_size // 4 - 1
    for _ in range(len(data) // sector_size):
        if sector >= _END_OF_CHAIN or len(found) >= needed:
            break
        values = struct.unpack_from(f"<{per_sector + 1}I", data, (sector + 1) * sector_size)
        found += [s for s in values[:per_sector] if s < _END_OF_CHAIN]
        sector = values[per_sector]
    return found


def _directory_entry(directory: bytes, offset: int) -> tuple[str, int, _OleStream]:
    """Decode one 128-byte directory entry into its name, object type and stream location."""
    name_bytes = struct.unpack_from("<H", directory, offset + 64)[0]
    name = directory[offset : offset + max(name_bytes - 2, 0)].decode("utf-16-le", "replace")
    kind = directory[offset + 66]
    start, size = struct.unpack_from("<IQ", directory, offset + 116)
    return name, kind, _OleStream(start, size & 0xFFFFFFFF)


def _read_chain(data: bytes, layout: _Ole2, start: int, limit: int) -> bytes:
    """Concatenate a chain of regular sectors, stopping at `limit` bytes or a loop in a damaged file."""
    parts: list[bytes] = []
    sector, taken = start, 0
    for _ in range(len(layout.fat)):
        if sector >= _END_OF_CHAIN or sector >= len(layout.fat) or taken >= limit:  # end, or a damaged chain
            break
        offset = (sector + 1) * layout.sector_size
        parts.append(data[offset : offset + layout.sector_size])
        taken += layout.sector_size
        sector = layout.fat[sector]
    return b"".join(parts)[:limit]


def _read_mini_chain(layout: _Ole2, start: int, limit: int) -> bytes:
    """Concatenate a chain of mini sectors, where compound files keep streams smaller than 4 KB."""
    parts: list[bytes] = []
    sector, taken = start, 0
    for _ in range(len(layout.minifat)):
        if sector >= _END_OF_CHAIN or sector >= len(layout.minifat) or taken >= limit:  # end, or a damaged chain
            break
        offset = sector * layout.mini_sector_size
        parts.append(layout.mini_stream[offset : offset + layout.mini_sector_size])
        taken += layout.mini_sector_size
        sector = layout.minifat[sector]
    return b"".join(parts)[:limit]


def ole2_workbook_stream(data: bytes) -> bytes:
    """Give the whole Workbook (or Book) stream of an .xls, which sniffing has accepted; b"" if there is none."""
    layout, entries = _ole2_layout(data)
    streams = {name: stream for name, kind, stream in entries if kind == _STREAM}
    stream = streams.get("Workbook") or streams.get("Book")
    return _ole2_stream(data, layout, stream, stream.size) if stream else b""


def _ole2_stream_head(data: bytes, layout: _Ole2, stream: _OleStream) -> bytes:
    """Read the first few KB of one stream."""
    return _ole2_stream(data, layout, stream, min(stream.size, _BIFF_HEAD_BYTES))


def _ole2_stream(data: bytes, layout: _Ole2, stream: _OleStream, limit: int) -> bytes:
    """Read up to `limit` bytes of one stream, from the mini stream when it is small."""
    if stream.size < layout.mini_cutoff:
        return _read_mini_chain(layout, stream.start, limit)
    return _read_chain(data, layout, stream.start, limit)


_BIFF_FILEPASS = 0x002F
_BIFF_BOUNDSHEET = 0x0085
_BIFF_EOF = 0x000A


def _biff_is_encrypted(head: bytes) -> bool:
    """Find the FILEPASS record, which Excel writes near the start of an encrypted .xls's globals."""
    offset = 0
    while offset + 4 <= len(head):
        record, length = struct.unpack_from("<HH", head, offset)
        if record == _BIFF_FILEPASS:
            return True
        if record in (_BIFF_BOUNDSHEET, _BIFF_EOF):
            return False
        offset += 4 + length
    return False
