# SPDX-License-Identifier: Apache-2.0
"""Text from the input, made safe to put into our XHTML narratives, HTML pages and SVG charts.

Source text can hold what no XML document may: C0 control characters (NUL...), U+FFFE/U+FFFF and
lone surrogates (JSON's "\\ud800" escapes). Each becomes U+FFFD, the replacement character, so a
patient whose Condition text carries one still gets a well-formed report (and a UTF-8 page) instead
of an internal error.
"""

from __future__ import annotations

import re
from html import escape

#: characters outside XML 1.0's Char production (TAB, LF and CR are allowed)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): a stray RIGHT-TO-LEFT
#: OVERRIDE pasted into a Condition's text reversed every word we print after it ("(4202 ,01 naJ)")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: what escaping changes: XML's forbidden characters, bidi controls and the five markup characters
_TOUCHED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069&<>\"']")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def plain(text: str) -> str:
    """Source text for people to read beside ours: without bidi embedding, override and isolate
    controls, so that it cannot reorder the words and numbers poems-fhir writes after it. (The
    letters of a right-to-left script keep their own direction; only the invisible controls go.)"""
    return _BIDI_CONTROLS.sub("", text)


def escaped(text: object) -> str:
    """``text`` as XML/HTML character data or attribute value: safe characters, then escaped."""
    text = text if type(text) is str else str(text)
    # a page escapes a few hundred texts per patient and most are plain words: one scan decides
    if _TOUCHED.search(text) is None:
        return text
    return escape(xml_safe(plain(text)), quote=True)


#: the 66 Unicode noncharacters (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE,
#: U+1FFFE ... U+10FFFF): never text, reserved for a program's own use; a terminal or a program reading
#: our output may take one as a marker (U+FFFE reads as a byte-swapped BOM), so they are shown as
#: U+FFFD like the controls (probe132: U+FFFE/U+FFFF in a Condition's text reached the text output)
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(17))
#: C0 and C1 control characters but TAB and LF, and DEL: a terminal acts on them (a NUL, an escape
#: sequence, a carriage return that overwrites the line); and the noncharacters
_TERMINAL_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_NONCHARACTERS}]")


def terminal_text(text: str) -> str:
    """Text for a terminal or a log file read by people: without bidi controls (plain) and without the
    control characters a terminal acts on, each shown as U+FFFD; line breaks are kept."""
    return _TERMINAL_CONTROLS.sub("\ufffd", plain(text))


def terminal_line(text: str) -> str:
    """One output line from source text: as terminal_text, and a line break inside it shown as the two
    characters backslash-n, so a file named "x\nFAKE: 0 problems" cannot forge a line of our output."""
    for brk, shown in _LINE_BREAKS:
        text = text.replace(brk, shown)
    return terminal_text(text)


#: what ends a line for a terminal, a pager or an editor, shown as its escape: CR, LF, and the Unicode
#: line and paragraph separators (NEL, U+0085, is a C1 control: U+FFFD)
_LINE_BREAKS = (("\r", "\\r"), ("\n", "\\n"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
