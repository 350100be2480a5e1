# SPDX-License-Identifier: Apache-2.0
"""Text that can be written anywhere: a lone UTF-16 surrogate - a server's JSON escape such as "\\ud800", valid JSON
but no Unicode character - cannot be encoded as UTF-8, so SQLite, a UTF-8 stream or a file refuses the whole string
(probe120 D1: one OperationOutcome's diagnostics ended the run for every patient after it)."""

from __future__ import annotations

import re

#: a UTF-16 surrogate code point alone in a Python string (json.loads joins a valid pair into one character)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, the replacement character."""
    return LONE_SURROGATE.sub("\ufffd", text)
