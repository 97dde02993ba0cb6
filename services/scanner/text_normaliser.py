"""Pure core: undo the tricks that hide text from a scanner, and pull out the parts a reader cannot see.

Every step is linear in the input: find() loops and regexes without nested quantifiers, and a hard
cap on how much decoded text is produced.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

# Zero-width, joiner, bidi-control, soft-hyphen and tag characters: invisible, used to split trigger words.
_INVISIBLE_CODEPOINTS = [
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
    *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), *range(0xE0000, 0xE0080),
]  # fmt: skip
_INVISIBLE = dict.fromkeys(_INVISIBLE_CODEPOINTS)
# Look-alike letters (Cyrillic, Greek, Armenian...) that NFKC leaves alone, folded to the ASCII they imitate.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁӏԛԝһкмнтвАВЕКМНОРСТХІЈЅԌαεορτυνκιΑΒΕΗΙΚΜΝΟΡΤΧΥΖօսոհ",
    "aeopcyxijsdlqwhkmhtbABEKMHOPCTXIJSGaeoptuvkiABEHIKMNOPTXYZounh",
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,8192}={0,2}")
_HEX_RUN = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){12,4096}\b")
_URL_ENCODED_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}[^%\s]{0,3}){6,4096}")
# Single characters one space apart, at least two: "i g n o r e" (also with symbols: "f o r c e - p u s h").
# Words stay apart where the spacing doubles: "i g n o r e  a l l" -> "ignore  all".
_SPACED_LETTERS = re.compile(r"(?<!\S)(?:\S ){1,400}\S(?!\S)")
_MD_LINK_TITLE = re.compile(r"\]\([^)\s]{0,2000}\s+[\"'(]([^\"')]{1,2000})[\"')]\)")
_MD_IMAGE_ALT = re.compile(r"!\[([^\]]{1,2000})\]")
_MD_REF_COMMENT = re.compile(
    r"^\s{0,3}\[(?://|comment|_)[^\]]{0,100}\]:\s*#\s*(?:\(([^)\n]{0,2000})\)|\"([^\"\n]{0,2000})\")", re.MULTILINE
)
# An opening tag (bounded, no nesting); its attributes are then checked for hiding styles with `in`.
_OPEN_TAG = re.compile(r"<(\w{1,20})([^<>]{0,1000})>")
_HIDING = (
    "hidden",
    "display:none",
    "display: none",
    "visibility:hidden",
    "font-size:0",
    "font-size: 0",
    "opacity:0",
    "opacity: 0",
)
_DETAILS = re.compile(r"<details[^>]{0,200}>", re.IGNORECASE)
_CODE_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~)[^\n]{0,100}$", re.MULTILINE)
MAX_DECODED_CHARS = 64_000
MAX_DECODE_DEPTH = 2


@dataclass(frozen=True, slots=True)
class HiddenPart:
    """Text a reader would not see, and how it was hidden."""

    form: str
    text: str


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """`visible` is what a reader sees (normalised, comments removed); `code` the fenced code blocks."""

    visible: str
    hidden: tuple[HiddenPart, ...]
    code: tuple[str, ...] = ()


def fold(text: str) -> str:
    """NFKC, invisible characters removed, look-alike letters folded to ASCII."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_CONFUSABLES)


def _html_comments(text: str) -> tuple[str, list[str]]:
    shown: list[str] = []
    hidden: list[str] = []
    pos = 0
    while (start := text.find("<!--", pos)) != -1:
        end = text.find("-->", start + 4)
        shown.append(text[pos:start])
        hidden.append(text[start + 4 : end if end != -1 else len(text)])
        pos = end + 3 if end != -1 else len(text)
    shown.append(text[pos:])
    return "".join(shown), hidden


def _hidden_elements(text: str) -> list[str]:
    found = []
    for m in _OPEN_TAG.finditer(text) if "<" in text else ():
        attributes = m.group(2).lower()
        if not any(marker in attributes for marker in _HIDING):
            continue
        close = text.find(f"</{m.group(1)}", m.end())
        found.append(text[m.end() : close if close != -1 else min(len(text), m.end() + 2000)])
    for m in _DETAILS.finditer(text):
        close = text.lower().find("</details", m.end())
        found.append(text[m.end() : close if close != -1 else min(len(text), m.end() + 2000)])
    return found


def _code_blocks(text: str) -> tuple[str, list[str]]:
    fences = list(_CODE_FENCE.finditer(text))
    outside: list[str] = []
    blocks: list[str] = []
    pos = 0
    for opening, closing in zip(fences[::2], fences[1::2], strict=False):
        outside.append(text[pos : opening.start()])
        blocks.append(text[opening.end() : closing.start()])
        pos = closing.end()
    outside.append(text[pos:])
    return "".join(outside), blocks


def _printable(text: str) -> bool:
    if len(text) < 6:
        return False
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\t")
    letters = sum(1 for ch in text if ch.isalpha())
    return good / len(text) > 0.95 and letters / len(text) > 0.35


def _decodings(text: str, budget: list[int]) -> list[HiddenPart]:
    found: list[HiddenPart] = []

    def keep(form: str, decoded: str) -> None:
        if budget[0] > 0 and _printable(decoded):
            decoded = decoded[: budget[0]]
            budget[0] -= len(decoded)
            found.append(HiddenPart(form, decoded))

    for m in _BASE64_RUN.finditer(text):
        run = m.group(0)
        if run.isalpha() and (run.islower() or run.isupper()):
            continue  # a long plain word, not an encoding
        try:
            raw = base64.b64decode(run.replace("-", "+").replace("_", "/") + "=" * (-len(run) % 4), validate=True)
            keep("base64", raw.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    for m in _HEX_RUN.finditer(text):
        digits = re.sub(r"[ :]", "", m.group(0))
        if len(digits) % 2 == 0 and not digits.isdigit():
            try:
                keep("hex", bytes.fromhex(digits).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
    for m in _URL_ENCODED_RUN.finditer(text) if "%" in text else ():
        keep("url_encoded", urllib.parse.unquote(m.group(0)))
    return found


def _joined_spaced_letters(text: str) -> str | None:
    if not _SPACED_LETTERS.search(text):
        return None
    return _SPACED_LETTERS.sub(lambda m: m.group(0)[::2], text)


def normalise(text: str) -> NormalisedText:
    """Fold the text; collect comments, hidden markup, encodings, spaced-out and smuggled words."""
    nfkc = unicodedata.normalize("NFKC", text)
    without_invisible = nfkc.translate(_INVISIBLE)
    folded = without_invisible.translate(_CONFUSABLES)
    shown, comments = _html_comments(folded)
    prose, code = _code_blocks(shown)
    hidden = [HiddenPart("html_comment", c) for c in comments]
    hidden += [HiddenPart("hidden_markup", h) for h in _hidden_elements(shown)]
    hidden += [HiddenPart("markdown_hidden", m.group(1)) for m in _MD_LINK_TITLE.finditer(shown)]
    hidden += [HiddenPart("markdown_hidden", m.group(1)) for m in _MD_IMAGE_ALT.finditer(shown)]
    hidden += [HiddenPart("markdown_hidden", m.group(1) or m.group(2) or "") for m in _MD_REF_COMMENT.finditer(shown)]
    if without_invisible != nfkc:
        hidden.append(HiddenPart("zero_width", shown))
    if folded != without_invisible:
        hidden.append(HiddenPart("homoglyph", shown))
    if (joined := _joined_spaced_letters(shown)) is not None:
        hidden.append(HiddenPart("spaced_letters", joined))
    budget = [MAX_DECODED_CHARS]
    layer = [folded]
    for _ in range(MAX_DECODE_DEPTH):
        decoded = [part for source in layer for part in _decodings(source, budget)]
        hidden += decoded
        layer = [fold(part.text) for part in decoded]
        if not layer:
            break
    # All code blocks are scanned as one text: a ticket of a million tiny fences costs one pass.
    return NormalisedText(visible=prose, hidden=tuple(hidden), code=("\n".join(code),) if code else ())
