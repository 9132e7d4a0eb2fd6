"""Tell which legacy encoding a csv that is not UTF-8 was saved in: Windows-1252, Shift_JIS (cp932) or GB18030.

Excel's plain "CSV" is saved in the computer's ANSI code page: Windows-1252 in Western Europe and the Americas,
cp932 in Japan, GBK (a part of GB18030) in mainland China. The same bytes often decode in all three, so:

1. Each encoding must decode every byte of the file (strict decoding, one pass, bounded memory).
2. Each reading that survives must look like real text in that encoding's language: a Japanese reading needs kana
   or kanji from JIS X 0208 (no half-width katakana), a Chinese one hanzi from GB2312, nearly all of them, and
   most of its runs of them not one or two characters stuck to Latin letters (as "Lärm" gives "L舐m"); a
   Western reading only Latin letters and common punctuation, never three or more of them side by side.
   European accents followed by ASCII letters decode as GBK pairs outside GB2312, and as rare kanji or half-width
   katakana in cp932, so they fail this check.
3. Several plausible readings go to charset-normalizer's mess detector, restricted to them; a tie between
   readings that differ is refused, showing both, rather than guessed.

When no reading is plausible and Windows-1252 cannot decode every byte, the file is read as Windows-1252 as
before: the rows holding bytes it cannot decode become problems. When Windows-1252 decodes everything but another
encoding does too and neither reading is plausible, the file is refused: a guess could put mojibake in the
database.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import IO

import charset_normalizer

from importers.raw import CHUNK_BYTES

_SAMPLE_BYTES = 256 * 1024  # lines holding non-ASCII bytes, gathered across the whole file for the checks
_NAMES = {"cp1252": "Windows-1252 (Western European)", "cp932": "Shift_JIS (Japanese)", "gb18030": "GB18030 (Chinese)"}
_CANDIDATES = tuple(_NAMES)
_COMMON_SHARE = 0.9  # of a CJK reading's non-ASCII characters, the share that must be common ones
# Punctuation and symbols Western spreadsheets hold, beyond letters: dashes, quotes, bullets, currency, units.
# Not the spacing accents (¨ ´ ¸ ˆ ˜) nor ¦ ¤ ¯: GB18030 and Shift_JIS bytes read as Windows-1252 are full of them.
_WESTERN_SYMBOLS = frozenset("–—‘’‚“”„‹›•…€£¥¢°±×÷·²³¹µ§¶©®™«»¿¡¼½¾\xa0‰†‡¬\xad")
_HALF_WIDTH_KATAKANA = range(0xFF61, 0xFFA0)
# Western words put at most two accented letters side by side ("ção"); CJK read as Windows-1252 gives long runs.
_LONG_FOREIGN_RUN = re.compile(r"[^\x00-\x7f\xa0]{3,}")
# The characters Windows-1252 puts at bytes 0x80-0x9F, where Shift_JIS and GBK start most characters: Western
# text uses them one at a time (a quote, a dash, œ), never two side by side nor before the rare ASCII marks
# that the second bytes of Shift_JIS characters give (本 is 0x96 0x7B: "–{").
_C1 = "[" + re.escape(bytes(range(0x80, 0xA0)).decode("cp1252", "ignore")) + "]"
_C1_PAIR = re.compile(f"{_C1}(?:{_C1}|[@\\[\\\\\\]^_`{{|}}~])")
# Kana and ideographs. Western text read as CJK gives one or two of them stuck to Latin letters ("L舐m", "S縊").
_CJK_RUN = re.compile("[\u3040-\u30ff\u4e00-\u9fff]+")
_CJK_GLUED = re.compile(
    "(?<=[A-Za-z])[\u3040-\u30ff\u4e00-\u9fff]{1,2}(?![\u3040-\u30ff\u4e00-\u9fff])|"
    "(?<![A-Za-z\u3040-\u30ff\u4e00-\u9fff])[\u3040-\u30ff\u4e00-\u9fff]{1,2}(?=[A-Za-z])"
)


def legacy_encoding(stream: IO[bytes]) -> tuple[str, str | None]:
    """Give the encoding to read a non-UTF-8 csv with, and a refusal when two readings are equally plausible."""
    alive, sample = _strict_survivors(stream)
    readings = {name: sample.decode(name) for name in alive}
    plausible = [name for name in _CANDIDATES if name in readings and _plausible(name, readings[name])]
    if not plausible:
        if alive == ["cp1252"] or "cp1252" not in alive:  # as before; bytes it cannot decode are row problems
            return "cp1252", None
        return "cp1252", _unsure(alive[:2], readings)
    if len(plausible) == 1 or len({readings[name] for name in plausible}) == 1:
        return plausible[0], None
    return _least_messy(sample, plausible, readings)


def _strict_survivors(stream: IO[bytes]) -> tuple[list[str], bytes]:
    """Decode the whole stream strictly with every candidate, giving those that never fail and a sample of the
    lines holding non-ASCII bytes (no candidate uses a newline byte inside a character, so lines split safely)."""
    decoders = {name: codecs.getincrementaldecoder(name)() for name in _CANDIDATES}
    sample = bytearray()
    carry = b""
    while chunk := stream.read(CHUNK_BYTES):
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[name]
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        if len(sample) < _SAMPLE_BYTES:
            sample += b"".join(line + b"\n" for line in lines if not line.isascii())
    if not carry.isascii() and len(sample) < _SAMPLE_BYTES:
        sample += carry
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            del decoders[name]
    return list(decoders), _whole_lines(bytes(sample))


def _whole_lines(sample: bytes) -> bytes:
    """Cut an oversized sample back to whole lines, so no multi-byte character is split."""
    if len(sample) <= _SAMPLE_BYTES:
        return sample
    return sample[: sample.rfind(b"\n", 0, _SAMPLE_BYTES) + 1]


def _plausible(encoding: str, text: str) -> bool:
    """Tell whether a reading looks like text in its encoding's language (see the module's docstring)."""
    foreign = [character for character in text if not character.isascii()]
    if encoding == "cp1252":
        return (
            all(_western(character) for character in foreign)
            and not _LONG_FOREIGN_RUN.search(text)
            and not _C1_PAIR.search(text)
        )
    common = sum(1 for character in foreign if _common_cjk(encoding, character))
    runs = [match.group() for match in _CJK_RUN.finditer(text)]
    glued = sum(1 for match in _CJK_GLUED.finditer(text))
    return bool(runs) and common >= _COMMON_SHARE * len(foreign) and 2 * glued < len(runs)


def _western(character: str) -> bool:
    """A Latin letter (with or without accents) or a symbol Western spreadsheets hold."""
    if character in _WESTERN_SYMBOLS:
        return True
    return unicodedata.category(character).startswith("L") and "LATIN" in unicodedata.name(character, "")


def _common_cjk(encoding: str, character: str) -> bool:
    """A character of the everyday repertoire: JIS X 0208 without half-width katakana, or GB2312; CJK punctuation,
    kana and full-width forms in either."""
    point = ord(character)
    if point in _HALF_WIDTH_KATAKANA:
        return False
    if 0x3000 <= point <= 0x30FF or 0xFF01 <= point <= 0xFF5E:
        return True
    try:
        character.encode("shift_jis" if encoding == "cp932" else "gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _least_messy(sample: bytes, plausible: list[str], readings: dict[str, str]) -> tuple[str, str | None]:
    """Let charset-normalizer's mess detector choose among plausible readings; refuse a tie."""
    found = [
        match
        for match in sorted(
            charset_normalizer.from_bytes(sample, cp_isolation=plausible),
            key=lambda match: (match.chaos, -match.coherence),
        )
        if match.encoding in plausible
    ]
    if len(found) == 1 or (
        len(found) > 1 and (found[0].chaos, found[0].coherence) != (found[1].chaos, found[1].coherence)
    ):
        return found[0].encoding, None
    tied = [match.encoding for match in found] or plausible
    return "cp1252", _unsure((tied + [name for name in plausible if name not in tied])[:2], readings)


def _unsure(encodings: list[str], readings: dict[str, str]) -> str:
    """Refuse a file whose encoding cannot be told, showing what two readings of it give."""
    first, second = encodings
    return (
        f"the file is not UTF-8, and its encoding cannot be told from its bytes: it reads as {_NAMES[first]} "
        f"({_excerpt(readings[first])!r}) or as {_NAMES[second]} ({_excerpt(readings[second])!r}); "
        "save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8) and upload it again"
    )


def _excerpt(text: str) -> str:
    """The first line holding non-ASCII text, shortened, to show what a reading gives."""
    line = next((line for line in text.splitlines() if not line.isascii()), "")
    return line.strip()[:40]
