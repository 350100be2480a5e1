# SPDX-License-Identifier: Apache-2.0
"""Compile a site's regular expression only if it cannot backtrack catastrophically.

Python's `re` backtracks: a repeated group that itself repeats (`(a+)+`, `(\\w+\\s?)*`) or chooses
between alternatives that start alike (`(a|ab)+`) takes time exponential in the length of a text it
does not match - `^(a+)+$` held one 35-character display for more than a minute (probe39 M3), which
stalls a whole sync run. Such a pattern is refused where the mapping loads, as an invalid regular
expression with why; a possessive repeat or an atomic group, which never backtracks, is accepted.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # noqa: PLC2701 - the parser's own node names, to walk its tree
import re._parser as sre_parse  # noqa: PLC2701 - the standard library's parser (no second grammar of ours)
from typing import Any

#: a repeat that can match more than this many times counts as "repeating" (x{1,3} does not)
_MANY = 3
_BACKTRACKING = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


class BacktrackingPattern(re.error):
    """A pattern whose matching time can grow exponentially with the text (reported like a syntax error)."""


def safe_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile`` that refuses a catastrophic-backtracking pattern (raises BacktrackingPattern)."""
    compiled = re.compile(pattern, flags)  # syntax errors first, as re reports them
    why = backtracking_risk(pattern, flags)
    if why:
        raise BacktrackingPattern(why)
    return compiled


def backtracking_risk(pattern: str, flags: int = 0) -> str | None:
    """Why ``pattern`` can backtrack catastrophically, or None."""
    try:
        tree = sre_parse.parse(pattern, flags)
    except re.error:
        return None  # re.compile reports it
    return _walk(list(tree), inside_repeat=False)


def _walk(items: list[tuple[Any, Any]], inside_repeat: bool) -> str | None:
    for op, av in items:
        if op in _BACKTRACKING:
            low, high, sub = av
            repeats = high is sre_constants.MAXREPEAT or high > _MANY
            if repeats and inside_repeat:
                return (
                    "a repeated group contains another repeat (like (a+)+): matching can take exponential time; "
                    "make the inner repeat possessive (a++, \\w*+) or the group atomic ((?>...))"
                )
            if repeats and _alternatives_overlap(list(sub)):
                return (
                    "a repeated group chooses between alternatives that start alike (like (a|ab)+): matching can "
                    "take exponential time; make the group atomic ((?>a|ab)+)"
                )
            why = _walk(list(sub), inside_repeat or repeats)
        elif op is sre_constants.SUBPATTERN:
            why = _walk(list(av[3]), inside_repeat)
        elif op is sre_constants.BRANCH:
            why = next((w for alt in av[1] if (w := _walk(list(alt), inside_repeat))), None)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            why = _walk(list(av[1]), inside_repeat)
        else:  # literals, classes, anchors; possessive repeats and atomic groups never backtrack
            why = None
        if why:
            return why
    return None


def _alternatives_overlap(items: list[tuple[Any, Any]]) -> bool:
    """Whether one text can be cut into iterations of a repeated body in more than one way: the body is
    a choice whose alternatives start alike ((a|b...|a...)), or ends with an optional part that can start
    like the body itself ((a|aa)+, which the parser reads as (aa?)+). Unknown first characters (a class,
    a possessive repeat) are given the benefit of the doubt."""
    while len(items) == 1 and items[0][0] is sre_constants.SUBPATTERN:
        items = list(items[0][1][3])
    if len(items) > 1:
        last_op, last_av = items[-1]
        if last_op is sre_constants.BRANCH and sum(not alt for alt in last_av[1]) > 1:
            return True  # (a|a)+, read as a(|)+: one alternative twice
        head, tail = _first_chars(items), _optional_tail_first(items[-1])
        return bool(head and tail and head & tail)
    if len(items) != 1 or items[0][0] is not sre_constants.BRANCH:
        return False
    alternatives = [list(alt) for alt in items[0][1][1]]
    if all(_one_char(alt) for alt in alternatives):
        # (\s|,)+: one character per step - ambiguous only when two alternatives are the same character
        literals = [alt[0][1] for alt in alternatives if alt[0][0] is sre_constants.LITERAL]
        return len(literals) != len(set(literals))
    firsts = [_first_chars(alt) for alt in alternatives]
    for i, a in enumerate(firsts):
        for b in firsts[i + 1 :]:
            if a is None or b is None or a & b:
                return True
    return False


def _optional_tail_first(item: tuple[Any, Any]) -> set[int] | None:
    """The first characters of an optional last part of a body (x? or a choice with an empty alternative)."""
    op, av = item
    if op in _BACKTRACKING and av[0] == 0:
        return _first_chars(list(av[2]))
    if op is sre_constants.BRANCH and any(not alt for alt in av[1]):
        firsts = [_first_chars(list(alt)) for alt in av[1] if alt]
        if any(f is None for f in firsts):
            return None
        return set().union(*firsts) if firsts else None  # type: ignore[arg-type]
    return None


def _one_char(items: list[tuple[Any, Any]]) -> bool:
    single = (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY)
    return len(items) == 1 and items[0][0] in single


def _first_chars(items: list[tuple[Any, Any]]) -> set[int] | None:
    """The characters an alternative can start with; None when it could be anything (or nothing)."""
    if not items:
        return None
    op, av = items[0]
    if op is sre_constants.LITERAL:
        return {av}
    if op is sre_constants.SUBPATTERN:
        return _first_chars(list(av[3]))
    if op in _BACKTRACKING and av[0] >= 1:
        return _first_chars(list(av[2]))
    return None
