# SPDX-License-Identifier: Apache-2.0
r"""The readable text of a FHIR Attachment (a report's ``presentedForm``), for the text engine.

Hospitals send report bodies as ``text/plain`` - not always in UTF-8: ``charset=windows-1251`` is
common in Russian and Kazakh systems - and as ``text/html`` (many EHRs render their reports so).
HTML becomes plain text with its block structure kept as the text engine's sentence breaks: a
paragraph, a table row or a heading ends a sentence, a list item stays a list item ("No:" followed
by two items reads as two negated items), so a negation in one paragraph never reaches the next.
RTF (``text/rtf``, ``application/rtf``: what several EHRs and most Russian hospital systems export) becomes
plain text through striprtf, paragraphs as line breaks, its code page (``\ansicpg1251``) honoured. A PDF
(``application/pdf``: many EHRs' pathology and imaging reports) is read by its text layer through pypdf; a scan
without one is listed. Anything else (images, an attachment given only by ``url``) is not read here.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any, NamedTuple

from striprtf.striprtf import destinations as _DESTINATIONS
from striprtf.striprtf import rtf_to_text

from ..wellformed import well_formed

_PLAIN = "text/plain"
_HTML = frozenset(("text/html", "application/xhtml+xml"))
_RTF = frozenset(("text/rtf", "application/rtf", "text/richtext"))
_PDF = "application/pdf"
#: a PDF read at most: a report's PDF is tens of kB, a scan's megabytes hold pictures, no text
MAX_PDF_BYTES = 8 << 20
#: pages of one PDF read at most: a report has a few; the text engine reads 100,000 characters of a text anyway
MAX_PDF_PAGES = 50
#: a page's drawing instructions read at most (decompressed): a report page's are tens of kB; pypdf's text
#: extraction costs about 4 s a MB of them, and a 10 kB attachment can inflate to megabytes
MAX_PDF_PAGE_BYTES = 1 << 20
#: an RTF body read at most: striprtf is linear (~0.5 s a MB here), and an RTF report's text is a few kB - the
#: megabytes of a large one are embedded pictures (``\pict`` hex), not words
MAX_RTF_BYTES = 4 << 20
#: elements whose end is the end of a sentence (a blank line for the segmenter)
_BLOCKS = frozenset(
    "p div section article header footer main aside blockquote pre table thead tbody tfoot tr "
    "h1 h2 h3 h4 h5 h6 ul ol dl dd dt hr address figure figcaption caption".split()
)
_SKIPPED = frozenset(("script", "style", "head", "title"))
#: elements a browser never shows (probe136 D6, the HTML analogue of RTF's hidden text): a <template>'s content is
#: inert, <noscript> is shown only where scripts are off - not in an EHR viewer, which runs them. ``aria-hidden``
#: is kept: it hides an element from screen readers only, a sighted reader sees it
_HIDDEN_TAGS = frozenset(("template", "noscript"))
#: a style that hides an element: "display:none", "visibility:hidden" (or "collapse"), case and spaces as written
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!\s*important\s*)?(?:;|$)", re.I
)
#: start tags that close an open paragraph (the HTML parsing rules): what follows a hidden "<p>" left open is shown
_CLOSES_P = frozenset(
    "p div section article header footer main aside blockquote pre table ul ol dl h1 h2 h3 h4 h5 h6 hr address "
    "figure".split()
)
#: elements that have no end tag: one of them hidden hides nothing after it
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def _hides(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element is not shown: a hidden kind, the ``hidden`` attribute, or a hiding inline style."""
    if tag in _HIDDEN_TAGS:
        return True
    for name, value in attrs:
        if name == "hidden" and (value or "").strip().lower() != "until-found":
            return True  # "until-found" is shown when searched for: the reader can see it
        if name == "style" and value and _HIDDEN_STYLE.search(value):
            return True
    return False


#: struck-through text ("<del>Splenomegaly</del>" on a problem list): crossed off, not said - kept as the markdown
#: "~~…~~" the text engine blanks (probe107 D10: the crossed-off item was read as the patient's finding)
_STRUCK = frozenset(("del", "s", "strike"))
_STRUCK_MARK = "~~"


def media_type(form: dict[str, Any]) -> tuple[str, str | None]:
    """("text/plain", "windows-1251") from ``contentType`` "Text/Plain; charset=Windows-1251"."""
    parts = str(form.get("contentType") or "").split(";")
    charset = None
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower() or None
    return parts[0].strip().lower(), charset


def readable(form: dict[str, Any]) -> bool:
    """Whether :func:`attachment_text` reads this kind of attachment."""
    kind, _ = media_type(form)
    return kind == _PLAIN or kind in _HTML or kind in _RTF or kind == _PDF


#: where each type keeps its attachments: a document in ``content[].attachment``, a report in ``presentedForm[]``
_ATTACHMENT_ELEMENTS = {"DocumentReference": "content", "DiagnosticReport": "presentedForm"}


def attachments_of(resource: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """A document's or report's attachments as (index in their element, attachment); other resources have none."""
    element = _ATTACHMENT_ELEMENTS.get(str(resource.get("resourceType")))
    holders = resource.get(element) if element else None
    if not isinstance(holders, list):
        return []
    out = []
    for j, holder in enumerate(holders):
        attachment = holder.get("attachment") if element == "content" and isinstance(holder, dict) else holder
        if isinstance(attachment, dict):
            out.append((j, attachment))
    return out


#: the formats of one document, most readable first: FHIR R4 lists a document's ``content`` repetitions as the same
#: document in other formats (Epic: HTML and RTF), so one is read - two would cite each finding twice
_FORMAT_RANK = {"text/plain": 0, "text/html": 1, "application/xhtml+xml": 1, "": 3, _PDF: 4}


def format_rank(attachment: dict[str, Any]) -> int:
    """How readable an attachment's format is (lower is better; RTF 2, an untyped one 3, a PDF 4 - its text layer
    may be in any order of the page's -, anything else 9)."""
    kind = media_type(attachment)[0]
    if kind in _FORMAT_RANK:
        return _FORMAT_RANK[kind]
    return 2 if readable(attachment) else 9


def preferred(attachments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one format of a document to read: the most readable attachment that holds its data inline, or None."""
    inline = [a for a in attachments if a.get("data") and format_rank(a) < 9]
    return min(inline, key=format_rank) if inline else None


def says_no_text(form: dict[str, Any]) -> str | None:
    """The media type an attachment or Binary states when it says it is no text poems-fhir reads (an image); None
    when it is text, or says nothing (no type, ``application/octet-stream``: a server's default)."""
    kind = media_type(form)[0]
    return kind if kind and kind != "application/octet-stream" and not readable(form) else None


class UnreadableAttachment(ValueError):
    """A text attachment whose bytes cannot be read as text: what is wrong and what to do."""


class AttachmentText(NamedTuple):
    """An attachment's text; ``cut_at``: the length of its HTML when parsing stopped past ``limit`` (the text
    is longer than what was parsed, its real length unknown without parsing it all), else None."""

    text: str
    cut_at: int | None = None
    #: what of the attachment was not read though its text was (a PDF's pages past MAX_PDF_PAGES), to be listed
    unread: str | None = None
    #: what went wrong decoding its bytes though its text was read (replaced bytes, a wrong charset), to be listed
    decoding: str | None = None


def attachment_text(form: dict[str, Any], limit: int | None = None) -> str | None:
    """The text of :func:`read_attachment` (a cut HTML text as far as it was parsed)."""
    read = read_attachment(form, limit)
    return read.text if read is not None else None


def read_attachment(form: dict[str, Any], limit: int | None = None) -> AttachmentText | None:
    """The text of an inline (base64 ``data``) text/plain or HTML attachment; None for any other
    kind or no data. Text data that is not base64, or not text in its charset (UTF-8 when none is
    declared, UTF-16 with a byte-order mark), raises UnreadableAttachment: a Russian report in
    windows-1251 sent without its charset was read as replacement characters and lost without a word
    (probe32)."""
    kind, charset = media_type(form)
    if not readable(form):
        return None
    data = form.get("data")
    if not isinstance(data, str) or not data:
        return None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)  # line breaks are common in base64
    except (binascii.Error, ValueError) as exc:
        raise UnreadableAttachment(f"data is not base64 ({exc}); not read") from None
    said = None
    if kind not in _RTF and kind not in _HTML and kind != _PDF and raw.lstrip()[:5] == b"%PDF-":
        # PDF bytes under text/plain or no type (probe139 D5: the file's operators were read as prose, and of an
        # incrementally updated one the superseded text): read as the PDF they are, as a Binary's stated type is
        said, kind = f"declared {kind or 'without a type'}, but its bytes are a PDF: read as a PDF", _PDF
    if kind in _RTF:
        text, unread = rtf_read(raw, charset)
        return AttachmentText(well_formed(text), unread=unread)
    if kind == _PDF:
        text, unread = pdf_text(raw, limit)
        text, decoding = _unmapped_glyphs(text.translate(_LIGATURES))
        decoding = "; ".join(note for note in (said, decoding) if note) or None
        return AttachmentText(well_formed(text), unread=unread, decoding=decoding)
    codec = _codec(kind, charset)
    if charset is None and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"  # the byte-order mark says it
    decoding = None
    if _wide_misdeclared(codec, raw):
        codec, decoding = "utf-8-sig", f"declared charset {charset!r}, but its bytes are UTF-8 text: read as UTF-8"
    try:
        text = raw.decode(codec)
    except (LookupError, UnicodeError, ValueError):  # "charset=rot13", "idna": names no text encoding
        # UTF-8 with a stray byte replaced ("Résumé" in latin-1) is still the report; mostly replaced
        # characters (a Cyrillic report in windows-1251) is none
        text = raw.decode("utf-8-sig", errors="replace")
        said = f"in its declared charset {charset!r}" if charset else "without a charset"
        if text.count("\ufffd") > max(1, len(text.strip()) // 10):
            raise UnreadableAttachment(
                f"{kind} {said} is not UTF-8 text; not read - send it as UTF-8 or state its charset "
                "(e.g. charset=windows-1251)"
            ) from None
        decoding = _replaced(text, f"{kind} {said} read as UTF-8")
    else:
        if decoding is None and "\ufffd" in text:  # a sender's own replacement characters: a word lost before us
            decoding = _replaced(text, f"{kind} holds replacement characters (U+FFFD) as sent:")
    # probe87 D2: no decoded text holds a lone surrogate (the text engine cannot encode one, and its
    # failure took the patient's other texts with it); U+FFFD, as for any character not read
    text = well_formed(text)
    if kind not in _HTML:
        return AttachmentText(text, decoding=decoding)
    html, cut = html_text_cut(text, limit)
    return AttachmentText(html, len(text) if cut else None, decoding=decoding)


def _replaced(text: str, what: str) -> str:
    """What a text decoded with replacement characters says of them (probe136 D3: listed, never silent - a cp1251
    «нет» in a UTF-8 text lost the denial of the finding beside it)."""
    n = text.count("\ufffd")
    at = text.find("\ufffd")
    around = " ".join(text[max(0, at - 30) : at + 30].split())
    if what.endswith(":"):
        what = what[:-1]
    else:
        what += f" with {n:,} undecodable character{'s' if n != 1 else ''} replaced (U+FFFD)"
    return (
        f"{what} (first: {around!r}); a finding in a sentence that holds one is indeterminate - send the text in one "
        "charset, stated"
    )


#: the "wide" charsets: a text in them holds NUL bytes (a report's spaces, digits and full stops are ASCII)
_WIDE = frozenset(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"))


def _wide_misdeclared(codec: str, raw: bytes) -> bool:
    """Bytes declared UTF-16/32 that are UTF-8 (probe136 D11: "text/html; charset=utf-16" on UTF-8 bytes decoded
    as CJK mojibake when their count was even, "no data" in silence): a text in a wide charset has NUL bytes for
    its spaces and full stops, UTF-8 text has none; a byte-order mark says the charset itself."""
    if codec not in _WIDE or b"\x00" in raw or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def rtf_text(raw: bytes, charset: str | None = None) -> str:
    """The plain text of an RTF body (see :func:`rtf_read`)."""
    return rtf_read(raw, charset)[0]


def rtf_read(raw: bytes, charset: str | None = None) -> tuple[str, str | None]:
    r"""The plain text of an RTF body (striprtf: control words and groups such as font tables and pictures left
    out, ``\par`` a line break, ``\'e5`` in the document's ``\ansicpg`` code page, ``\u1040?`` as Unicode), and
    what of it was not read as sent (a code page Python lacks), to be listed.
    RTF is 7-bit text with escapes: its bytes are read one to one; ``charset`` (rarely declared) is the code page
    of escapes a document without ``\ansicpg`` uses (else Windows-1252, RTF's default)."""
    if len(raw) > MAX_RTF_BYTES:
        raise UnreadableAttachment(
            f"RTF of {len(raw):,} bytes, more than the {MAX_RTF_BYTES:,} read (its text is a few kB: the rest is "
            "embedded pictures); not read - send the report's text as text/plain"
        )
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise UnreadableAttachment("RTF that does not start with {\\rtf: not RTF; not read")
    encoding = "cp1252"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except (LookupError, ValueError):
            pass
    rtf = _rtf_prepared(raw.decode("latin-1"))
    text = _striprtf(rtf, encoding)
    unread = None
    page = _ANSICPG.search(rtf)
    if "\ufffd" in text and page is not None and not _decodes(page.group(1)):
        # probe136 D10: striprtf reads the escapes of a code page Python lacks (\ansicpg99999) or that is no
        # single-byte one (1200, 20127) as UTF-8 - a Cyrillic report became replacement characters, nothing
        # said. Read them in the declared charset or Windows-1252, RTF's default, and list that it was so
        fallback = encoding if _CODE_PAGE_NAME.fullmatch(encoding) else "cp1252"
        text = _striprtf(_ANSICPG.sub(lambda _: "\\ansicpg" + fallback[2:], rtf), encoding)
        unread = (
            f"RTF code page {page.group(1)[:12]} unknown or not its \\'hh bytes' (\\ansicpg): its escaped characters "
            f"read as {fallback} - send the report's text as text/plain in UTF-8"
        )
    # striprtf ends every paragraph with a line break: a blank line between them keeps them sentences apart;
    # a line break within a paragraph (\line) is one line break, as a hard-wrapped line of plain text is
    text = text.replace("\r\n", "\n").replace("\n", "\n\n").replace(_SOFT_BREAK, "\n")
    return text.strip() + "\n", unread


def _striprtf(rtf: str, encoding: str) -> str:
    """striprtf's text of prepared RTF; UnreadableAttachment where it fails."""
    try:
        return str(rtf_to_text(rtf, encoding=encoding, errors="replace"))
    except (LookupError, ValueError, IndexError) as exc:  # a code page Python lacks, a malformed escape
        raise UnreadableAttachment(f"RTF that cannot be read ({exc.__class__.__name__}); not read") from None


_ANSICPG = re.compile(r"\\ansicpg(-?\d+)")
_CODE_PAGE_NAME = re.compile(r"cp\d{3,5}")


def _decodes(page: str) -> bool:
    """Whether a ``\\ansicpg`` code page is one striprtf reads single bytes in: one Python knows, decoding each
    byte to one character (not UTF-8, UTF-16 or 7-bit ASCII, which leave bytes of Cyrillic unread)."""
    try:
        decoded = bytes(range(0x80, 0x100)).decode(f"cp{page}", errors="replace")
    except (LookupError, ValueError):
        return False
    return len(decoded) == 0x80 and decoded.count("\ufffd") < 0x10


def pdf_text(raw: bytes, limit: int | None = None) -> tuple[str, str | None]:
    """The text layer of a PDF (pypdf), page by page (a page break one line break, running headers and footers left out), as it lies on the page: a
    report generated as PDF (Epic's and most laboratory systems' pathology and imaging reports) reads as its text
    does; and what was not read, if anything: at most MAX_PDF_PAGES pages, none after its text passes ``limit``
    characters (what the text engine reads of one text), none from a page drawn with more than MAX_PDF_PAGE_BYTES of
    instructions (a report page has tens of kB; a crafted one costs minutes). A PDF without text (a scan: pictures only),
    an encrypted one, a broken one or one too large is UnreadableAttachment - listed, never read as "no data" in
    silence."""
    if len(raw) > MAX_PDF_BYTES:
        raise UnreadableAttachment(
            f"PDF of {len(raw):,} bytes, more than the {MAX_PDF_BYTES:,} read; not read - send the report's text as "
            "text/plain"
        )
    if not raw.lstrip()[:1024].startswith(b"%PDF-"):
        raise UnreadableAttachment("PDF that does not start with %PDF-: not a PDF; not read")
    pages, count, stopped, pictured = _pdf_pages(raw, limit)
    # a page break is no paragraph end: one line break, so a sentence running over it is read whole, as a
    # hard-wrapped line is (probe138 R1: "No evidence of" ending page 1 lost its finding on page 2)
    text = "\n".join(page for page in _without_page_furniture(pages) if page)
    if not text and any(page.strip() for page in pages):
        # probe139 D12: every line looked like a running header (two pages of one line each): the text is the report's,
        # not "no text layer"
        text = "\n".join(page.strip() for page in pages if page.strip())
    if not text and stopped:
        raise UnreadableAttachment(f"PDF not read{stopped}")
    if not text:
        raise UnreadableAttachment(
            "PDF with no text layer (a scanned image?); not read - send the report's text as text/plain, or the PDF "
            "with its recognised text"
        )
    unread = []
    if pictured:
        # probe139 D8: a scanned page beside text pages was lost in silence; it may hold the finding
        said = ", ".join(str(n) for n in pictured)
        unread.append(
            f"PDF page{'s' if len(pictured) > 1 else ''} {said} of {count:,}: a picture without a text layer (a scanned "
            "page?), not read - send the report's text as text/plain, or the PDF with its recognised text"
        )
    if len(pages) < count:
        unread.append(f"PDF of {count:,} pages: the first {len(pages):,} read, the rest not{stopped or ''}")
    return text + "\n", "; ".join(unread) or None


#: the typographic ligatures a PDF's fonts draw ("e\ufb00usion", "\ufb01ndings"): the letters they stand for (probe139
#: D10: "Moderate pleural e\ufb00usion." was no effusion)
_LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "st", 0xFB06: "st"}
#: what pypdf gives for a glyph its font does not map to text (a font without ToUnicode): a control character
_UNMAPPED_GLYPH = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _unmapped_glyphs(text: str) -> tuple[str, str | None]:
    """A PDF's text with each glyph its font does not map to text as U+FFFD (a sentence holding one is not judged:
    the lost word may be its "No"), and the note that lists it; a text layer that is mostly such glyphs is no text.
    probe139 D1: "NO" drawn in a font without ToUnicode became two control characters, read as spaces, and "NO
    evidence of ascites." was read as ascites; D7: a page of them was read as nothing, in silence."""
    lost = len(_UNMAPPED_GLYPH.findall(text))
    if not lost:
        return text, None
    letters = sum(c.isalpha() for c in text)
    if lost >= letters:
        raise UnreadableAttachment(
            f"PDF whose text layer is {lost:,} glyphs its fonts do not map to text (fonts without ToUnicode); not read "
            "- send the report's text as text/plain, or a PDF with searchable text"
        )
    note = f"PDF with {lost:,} glyphs its fonts do not map to text (no ToUnicode): read as U+FFFD, their sentences not judged"
    return _UNMAPPED_GLYPH.sub("\ufffd", text), note


#: a line that numbers its page: "Page 2 of 3", "Page 2", "2/3", "- 2 -", «Стр. 2 из 3», «Страница 2», «2-бет»
_PAGE_NUMBER = re.compile(
    r"(?i)(?<![\w/])(?:page|pg\.?|стр\.?|страница|бет)\s*\d{1,4}(?:\s*(?:of|из|/)\s*\d{1,4})?(?![\w/])"
    r"|^\s*[-–—]?\s*\d{1,4}\s*(?:/\s*\d{1,4}|[-–—])?\s*$|(?<!\w)\d{1,4}\s*-\s*бет(?!\w)"
)
#: a date or a time in a running header ("printed 03/12/2024 14:05"): it may differ from page to page
_DATE_TIME = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?")
#: the lines at a page's top and bottom that may be its running header or footer
_EDGE_LINES = 3


def _without_page_furniture(pages: list[str]) -> list[str]:
    """The pages without their running headers and footers (probe138 R2: "Patient: DOE, JANE MRN 123 Page 2 of 2" at
    the top of page 2 was read into the sentence page 1 left open): a line among a page's first or last three that
    numbers the page, or that the same place of another page repeats, its numbers the same or the page's own number,
    dates and times aside ("Printed 12/03/2024 14:05", "MRN 123 Page 2 of 3"). Lines whose other numbers differ are
    content, not furniture
    (probe139 D11: "Key image 1 (slice 117): sclerotic lesion, 9 mm" on page 1 and "Key image 2 (slice 134): …" on
    page 2 were both dropped, and with them the lesion)."""
    split = [[line for line in page.strip().splitlines() if line.strip()] for page in pages]

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split())).casefold()

    def edges(lines: list[str]) -> set[int]:
        return set(range(min(_EDGE_LINES, len(lines)))) | set(range(max(0, len(lines) - _EDGE_LINES), len(lines)))

    # the numbers of each edge line, by its key, and the page it is on (numbered from 1)
    seen: dict[str, list[tuple[int, list[str]]]] = {}
    for number, lines in enumerate(split, start=1):
        for found, digits in {
            key(lines[i]): re.findall(r"\d+", _DATE_TIME.sub(" ", lines[i])) for i in edges(lines)
        }.items():
            seen.setdefault(found, []).append((number, digits))
    repeated = {k for k, on in seen.items() if len(on) >= 2 and _furniture_numbers(on)} if len(split) > 1 else set()
    out = []
    for lines in split:
        dropped = {i for i in edges(lines) if key(lines[i]) in repeated or _PAGE_NUMBER.search(lines[i])}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in dropped))
    return out


def _furniture_numbers(on: list[tuple[int, list[str]]]) -> bool:
    """Whether the numbers of one line repeated on several pages are a running header's: each the same on every page,
    or each page's own number (counted from any first page: an excerpt's "Page 5" on its first page)."""
    if len({len(digits) for _, digits in on}) > 1:
        return False
    for place in zip(*(digits for _, digits in on), strict=True):
        same = len(set(place)) == 1
        own = len({int(d) - page for d, (page, _) in zip(place, on, strict=True)}) == 1
        if not (same or own):
            return False
    return True


#: an inline image in a content stream (BI ... ID ... EI): a picture drawn without an XObject
_INLINE_IMAGE = re.compile(rb"(?<![^\s])BI\s")


def _pictured(page: Any, drawn: bytes) -> bool:
    """Whether a page draws a picture: an image XObject (on the page or in a form it draws) or an inline image."""
    if _INLINE_IMAGE.search(drawn):
        return True
    resources = page.get("/Resources")
    forms = [resources.get_object()] if resources is not None else []
    for _ in range(2):  # the page's own images, then those of the forms it draws (a scanner's wrapper)
        inner = []
        for res in forms:
            xobjects = res.get("/XObject")
            for ref in (xobjects.get_object() if xobjects is not None else {}).values():
                obj = ref.get_object()
                if obj.get("/Subtype") == "/Image":
                    return True
                if obj.get("/Subtype") == "/Form" and obj.get("/Resources") is not None:
                    inner.append(obj["/Resources"].get_object())
        forms = inner
    return False


def _pdf_pages(raw: bytes, limit: int | None) -> tuple[list[str], int, str | None, list[int]]:
    """The text of a PDF's first pages (MAX_PDF_PAGES, until ``limit`` characters, or up to a page drawn with too many
    instructions: why, then), how many it has, and the pages read that are a picture without text (numbered from 1);
    UnreadableAttachment when pypdf cannot read it."""
    import io
    import logging

    from pypdf import PdfReader

    # pypdf warns through logging about every odd object of a real-world PDF: not the sync log's business
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableAttachment("PDF encrypted with a password; not read - send it unencrypted")
        count = len(reader.pages)
        pages: list[str] = []
        pictured: list[int] = []
        chars = 0
        for n in range(min(count, MAX_PDF_PAGES)):
            if limit is not None and chars > limit:
                break  # the text engine would not read further: extracting it only costs time
            page = reader.pages[n]
            contents = page.get_contents()
            data = contents.get_data() if contents is not None else b""
            if len(data) > MAX_PDF_PAGE_BYTES:
                why = f" (page {n + 1} is drawn with {len(data):,} bytes of instructions, more than {MAX_PDF_PAGE_BYTES:,})"
                return pages, count, why, pictured
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if not pages[-1].strip() and _pictured(page, data):
                pictured.append(n + 1)
        return pages, count, None, pictured
    except UnreadableAttachment:
        raise
    except Exception as exc:  # pypdf's errors on a malformed file are of many kinds: the attachment's, not the run's
        raise UnreadableAttachment(f"PDF that cannot be read ({exc.__class__.__name__}); not read") from None


#: what the one pass over RTF before striprtf reads: escaped characters that are no group (``\\``, ``\{``,
#: ``\}``), a group's start with its first control word (``{\*\generator``, ``{\fonttbl``), a group's end, the
#: switches of text no reader sees (``\v`` hidden, ``\deleted`` a tracked deletion; ``\plain`` resets them), a line
#: break within a paragraph (``\line``) and binary data (``\binN``: N bytes that may hold braces)
_RTF_TOKENS = re.compile(
    r"\\[\\{}]|(\{+)(?=\{)|\{(?:[ \r\n]*(\\\*))?(?:(?=[ \r\n]*\\([a-zA-Z]{1,32}))|)|\}"
    r"|\\(v|deleted|plain)(-?\d{1,10})?(?![a-zA-Z])[ ]?|\\(line)(?![a-zA-Z])[ ]?|\\bin(\d{1,10})[ ]?"
)
#: groups whose content no reader sees, dropped whole: striprtf's destinations (font and colour tables, style
#: sheets, document info, pictures, revision tables ...) and any ``{\*\...}`` group; the font table is kept as
#: its fonts' character sets only (what decoding ``\'hh`` needs)
#: a line break within a paragraph through striprtf (a private-use character no latin-1 read RTF holds)
_SOFT_BREAK = "\ue001"
_FONT_CHARSET = re.compile(r"\\f(\d{1,10})|\\fcharset(\d{1,10})")


class _RtfGroup(NamedTuple):
    """A group's state restored at its end: whether its text is hidden, and whether the group is dropped."""

    hidden: bool
    dropped: bool


def _rtf_prepared(rtf: str) -> str:
    r"""RTF ready for striprtf, in one linear pass: destination groups dropped (probe136 D1: striprtf's font-table
    pattern is quadratic in the table's entries - 16,000 ``{\f1 Arial;}`` took 24 s, 1 MB never ended - so the
    table is rewritten to one ``{\fN\fcharsetM;}`` a font that has a character set); hidden text (``{\v
    Splenomegaly.}``, ``\v … \v0``: a template's hidden fields, probe133 R2) and tracked deletions (``{\deleted
    Splenomegaly 16 cm.}``: crossed out, not the signed text, probe136 D12) left out; ``\line`` kept apart from a
    paragraph's end (probe136 D2: "No evidence of\line splenomegaly" cut the denial from its finding). The switches
    are a group's state, restored at its end; braces are kept so the groups stay balanced."""
    out: list[str] = []
    hidden = deleted = dropped = False
    stack: list[tuple[bool, bool, bool]] = []
    at = 0
    pos = 0
    while (token := _RTF_TOKENS.search(rtf, pos)) is not None:
        if not (hidden or deleted or dropped):
            out.append(rtf[at : token.start()])
        at = pos = token.end()
        text = token.group(0)
        if token.group(1) is not None:
            # a run of group starts (all but the last, which may name a destination) at once: "{" x 4M was
            # 4M turns of this loop (probe136 rtf_unbal_open_4M)
            stack.extend([(hidden, deleted, dropped)] * len(text))
            if not dropped:
                out.append(text)
        elif text.startswith("{"):
            stack.append((hidden, deleted, dropped))
            word = token.group(3)
            if not dropped and word == "fonttbl":
                end = _group_end(rtf, token.end())
                out.append("{" + _font_charsets(rtf[token.end() : end]))
                at = pos = end  # the group's own end closes the rewritten table
                continue
            if not dropped:
                # a dropped group's braces are kept (its content not): "\\par{\\pict …}after" must not become
                # the control word "\\parafter"; a hidden group's braces too: the groups stay balanced
                out.append("{")
            dropped = dropped or bool(token.group(2)) or word in _DESTINATIONS
        elif text == "}":
            hidden, deleted, dropped = stack.pop() if stack else (False, False, False)
            if not dropped:
                out.append(text)
        elif token.group(4) is not None:
            on = token.group(5) != "0"
            if not dropped and token.group(4) != "plain":
                out.append("{}")  # ends a control word before it, as the switch did
            if token.group(4) == "v":
                hidden = on
            elif token.group(4) == "deleted":
                deleted = on
            else:  # \plain resets every character property, hidden text and tracked deletion with them
                hidden = deleted = False
                if not dropped:
                    out.append("\\plain{}")  # its other resets still apply (the font, the size)
        elif token.group(6) is not None:
            if not (hidden or deleted or dropped):
                out.append(_SOFT_BREAK)
        elif token.group(7) is not None:
            at = pos = min(len(rtf), token.end() + int(token.group(7)))  # binary data: never text here
            if not dropped:
                out.append("{}")
        elif not (hidden or deleted or dropped):
            out.append(text)  # an escaped brace or backslash: text
    if not (hidden or deleted or dropped):
        out.append(rtf[at:])
    return "".join(out)


def _group_end(rtf: str, start: int) -> int:
    """Where the group open at ``start`` ends (the index of its closing brace; the end of the text when it never
    closes): escaped braces are no group's."""
    level = 1
    for brace in _BRACES.finditer(rtf, start):
        if brace.group(0) == "{":
            level += 1
        elif brace.group(0) == "}":
            level -= 1
            if level == 0:
                return brace.start()
    return len(rtf)


_BRACES = re.compile(r"\\[\\{}]|[{}]")


def _font_charsets(table: str) -> str:
    r"""A font table as striprtf needs it: ``\fonttbl`` and one ``{\fN\fcharsetM x;}`` a font with a character
    set (the last one given for the font), in one pass over the table."""
    charsets: dict[str, str] = {}
    font = None
    for match in _FONT_CHARSET.finditer(table):
        if match.group(1) is not None:
            font = match.group(1)
        elif font is not None:
            charsets[font] = match.group(2)
    return "\\fonttbl" + "".join(f"{{\\f{f}\\fcharset{c} x;}}" for f, c in charsets.items())


#: codecs Python decodes with that are no charset of a text body: escape syntaxes over ASCII, which turn
#: "+2AA-" or "\ud800" into a lone surrogate (probe87 D2) - the text they give is not what was sent
_ESCAPE_CODECS = frozenset(("utf-7", "unicode-escape", "raw-unicode-escape"))


def _codec(kind: str, charset: str | None) -> str:
    """The declared charset when Python knows it, else UTF-8 (the FHIR default); a BOM is dropped.
    A charset that is no name (a NUL or control character in it) or an escape syntax (UTF-7,
    unicode_escape) raises UnreadableAttachment."""
    if charset:
        if not charset.isprintable():  # probe87 D1: "utf-8\x00" was an internal error, the report lost
            raise UnreadableAttachment(
                f"{kind} with the charset {charset!r}, which is no charset name (a control character in it); "
                "not read - state a charset such as charset=utf-8"
            )
        try:
            name = codecs.lookup(charset).name
        except (LookupError, ValueError):
            return "utf-8-sig"
        if name in _ESCAPE_CODECS:
            raise UnreadableAttachment(
                f"{kind} in the declared charset {charset!r}, an escape syntax rather than a text charset; "
                "not read - send it as UTF-8 or in its real charset (e.g. charset=windows-1251)"
            )
        return "utf-8-sig" if name == "utf-8" else name
    return "utf-8-sig"


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.rows = 0  # open <tr> elements
        #: the open elements from the outermost hidden one (their tag names): what is inside is not read
        self.hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden == ["p"] and tag in _CLOSES_P:
            self.hidden = []  # "<p hidden>x<p>Shown": a block closes an open paragraph, the hidden one with it
        if self.hidden or _hides(tag, attrs):
            if tag not in _VOID:
                self.hidden.append(tag)
            return
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _STRUCK:
            self.parts.append(_STRUCK_MARK)
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")  # cells apart: "Pleural effusion<TAB>No" is a field and its answer
        elif tag in _BLOCKS:
            self.rows += tag == "tr"
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            self._close_hidden(tag)
            return
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _STRUCK:
            self.parts.append(_STRUCK_MARK)
        elif tag == "table":  # a table's end: two blank lines, which no table's rows cross (probe76 D3)
            self.parts.append(_TABLE_END)
        elif tag in _BLOCKS or tag == "li":
            self.rows = max(0, self.rows - (tag == "tr"))
            self.parts.append("\n\n" if tag != "li" else "\n")

    def _close_hidden(self, tag: str) -> None:
        """An end tag inside hidden content: it closes the innermost open element of its name (and any left open
        inside it, as a browser does); an end tag of no open hidden element is ignored, so a stray "</p>" does not
        reveal the rest."""
        if tag in self.hidden:
            at = len(self.hidden) - 1 - self.hidden[::-1].index(tag)
            del self.hidden[at:]

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.hidden:
            # a line break in the markup of a table row is white space, not a line: a row written one
            # cell a line kept no cell beside its neighbour (probe74 D6)
            self.parts.append(data.replace("\r", " ").replace("\n", " ") if self.rows else data)


#: HTML is parsed in pieces of this many characters, so that parsing can stop once enough text is read
_HTML_PIECE = 65_536


def html_text(html: str, limit: int | None = None) -> str:
    """HTML as plain text (see :func:`html_text_cut`), as far as it was parsed."""
    return html_text_cut(html, limit)[0]


def html_text_cut(html: str, limit: int | None = None) -> tuple[str, bool]:
    """HTML as plain text: tags dropped, entities resolved, blocks separated by blank lines, list
    items as "- item" lines, a table row's cells apart by a tab, other white space within a line
    collapsed; and whether parsing stopped before the end. ``limit``: parsing stops once more
    text than this was read (probe67 D5: a 46 MB page was parsed whole, 74 s and 732 MB, to read its
    first 100,000 characters); the caller says it was cut - whatever length the text has once its blank
    lines are collapsed (probe87 D6: 8,000 "<p>" paragraphs were cut at ~108,000 characters of parsed text,
    fewer than 100,000 once collapsed, and nothing said so)."""
    parser = _TextOf()
    cut = False
    # a "<" that opens no tag (another "<" or the end comes before any ">") is text: html.parser rescans such an
    # unclosed start tag on every piece it is fed - "<a " x 33,000 took a minute (probe129 D1)
    html = _NO_TAG.sub("&lt;", html)
    try:
        for at in range(0, len(html), _HTML_PIECE):
            parser.feed(html[at : at + _HTML_PIECE])
            if limit is not None and sum(map(len, parser.parts)) > limit:
                cut = at + _HTML_PIECE < len(html)
                break
        else:
            parser.close()
        text = "".join(parser.parts)
    except Exception:  # noqa: BLE001 - html.parser asserts on some malformed markup ("<![" ...): tags cut by hand
        text, cut = unescape(_TAG.sub(" ", _BLOCK_TAG.sub("\n\n", html))), False
    # white space collapsed within a cell; a row's cells stay apart by one tab, an empty cell kept as an
    # empty cell (a table row whose answer is blank is not answered: layout.headed_tables)
    lines = [_row(line) for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines))
    return (_AT_TABLE_END.sub("\n\n\n", text).strip() if _TABLE_END_MARK in text else text.strip()), cut


#: markup of a block or a table in a text that is not an attachment ("<table><tr><td>…", "<p>", "<br/>"):
#: some EHRs put rich text in ``DiagnosticReport.conclusion`` (probe87 D8). A tag name and at most a short
#: run of attributes (bounded: linear), so "< 5 mm" or "<1 cm" is no markup
_MARKUP = re.compile(
    r"</?(?:table|thead|tbody|tr|td|th|p|br|div|li|ul|ol|h[1-6]|span|b|i|strong|em|html|body|del|s|strike)(?:\s[^<>]{0,200})?/?>",
    re.IGNORECASE,
)


def marked_up(text: str) -> bool:
    """Whether a plain text field holds HTML markup of blocks or tables (read as HTML, as an attachment is)."""
    return "<" in text and _MARKUP.search(text) is not None


def _row(line: str) -> str:
    """A line with its cells' white space collapsed; what stands before the first cell (white space
    between tags) is dropped, an empty cell after it kept, empty cells at the end of the row dropped
    but one."""
    cells = [" ".join(cell.split()) for cell in line.split("\t")]
    if len(cells) > 1 and not cells[0]:
        cells = cells[1:]
    while len(cells) > 2 and not cells[-1] and not cells[-2]:
        cells.pop()
    return "\t".join(cells).strip(" ")


_BLANK_LINES = re.compile(r"\n{3,}")
#: a table's end while parsing (a private-use character, no white space), two blank lines in the text:
#: HTML rows arrive a blank line apart, so one blank line cannot end a table - two tables in a row were
#: read as one, the second's rows under the first one's header (probe76 D3)
_TABLE_END_MARK = "\ue000"
_TABLE_END = f"\n\n{_TABLE_END_MARK}\n\n"
_AT_TABLE_END = re.compile(rf"\n*{_TABLE_END_MARK}[\n{_TABLE_END_MARK}]*")
_BLOCK_TAG = re.compile(r"</?(?:p|div|li|tr|h[1-6]|br|table|ul|ol)\b[^<>]*>", re.IGNORECASE)
#: a tag: no "<" inside, so that a run of unclosed "<" is scanned once (linear)
_TAG = re.compile(r"<[^<>]*>")
#: a "<" that opens no tag: another "<", or the end, comes before any ">" (each stretch between two "<" is
#: scanned once: linear) - an attribute's quoted value (up to 200 characters) may hold a "<" ('<td title="a<b">'),
#: and a comment or a declaration ("<!-- <side> -->", "<?xml") is left to the parser (probe131 R1-R3: a comment
#: holding a "<" became report text, "Splenomegaly -->" read as a finding)
_NO_TAG = re.compile(r"<(?![!?])(?=(?:[^<>\"']|\"[^\"]{0,200}\"|'[^']{0,200}')*(?:<|\Z))")
