# SPDX-License-Identifier: Apache-2.0
"""Assertions from clinical text: targets from the mapping files, ConText (medspaCy) for negation,
uncertainty, hypothetical, historical and family context. See README "Clinical text"."""

from __future__ import annotations

from .engine import Assertion, TextEngine
from .lexicon import ContextRuleSpec, LanguageSpec, TargetSpec, TextSection, compile_phrase

__all__ = ["Assertion", "ContextRuleSpec", "LanguageSpec", "TargetSpec", "TextEngine", "TextSection", "compile_phrase"]
