# SPDX-License-Identifier: Apache-2.0
"""Clinician-facing language: gettext catalogs (``poems_fhir/locale/<lang>/LC_MESSAGES/poems_fhir.mo``)
and Babel for dates and numbers.

English is the source language (the msgids); every other language is a catalog, not code: a new
``<lang>/LC_MESSAGES/poems_fhir.po`` compiled to ``.mo`` is found by ``available_languages``.
Identifiers never pass through here: ids stay in JSON and codes, people see labels.
"""

from __future__ import annotations

import datetime as dt
import math
import gettext
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal, format_percent, format_scientific

DOMAIN = "poems_fhir"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SOURCE_LANGUAGE = "en"


class UnknownLanguageError(ValueError):
    """No catalog for the language asked for."""


def N_(message: str) -> str:
    """Mark a string for extraction (pybabel -k N_) without translating it here."""
    return message


def available_languages() -> list[str]:
    """English plus every language with a compiled catalog."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return [SOURCE_LANGUAGE] + sorted(found - {SOURCE_LANGUAGE})


_FORMATTER = string.Formatter()


class Message(str):
    """A translated message whose ``format`` writes no doubled full stop when a value ending in one
    (a Russian date "15 янв. 2024 г.", a Kazakh "2024 ж. 15 қаң.") meets the message's own sentence
    end: "… {date}." read "г.." (probe108 D8). Anything else formats exactly as ``str.format``."""

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> str:
        parts: list[str] = []
        auto = 0  # "{}" fields are numbered here: each is formatted on its own below
        for literal, field, spec, conversion in _FORMATTER.parse(self):
            if literal.startswith(".") and not literal.startswith("..") and parts and _ends_one_stop(parts[-1]):
                literal = literal[1:]
            parts.append(literal)
            if field is None:
                continue
            if field == "":
                field, auto = str(auto), auto + 1
            value, _ = _FORMATTER.get_field(field, args, kwargs)
            parts.append(_FORMATTER.format_field(_FORMATTER.convert_field(value, conversion), spec or ""))
        return "".join(parts)


def _ends_one_stop(text: str) -> bool:
    return text.endswith(".") and not text.endswith("..")


@dataclass(frozen=True)
class Translator:
    """One language: translate, and format dates and numbers the way that locale writes them."""

    language: str
    catalog: gettext.NullTranslations
    locale: Locale

    def _(self, message: str) -> str:
        return Message(self.catalog.gettext(message))

    def n_(self, singular: str, plural: str, n: int) -> str:
        return Message(self.catalog.ngettext(singular, plural, n))

    def date(self, day: dt.date | None, missing: str = "") -> str:
        if day is None:
            return missing or self._("undated")
        precision = getattr(day, "precision", None)  # mapping.values.PartialDate: "2015", "May 2023"
        if precision in ("year", "month"):
            return format_skeleton("y" if precision == "year" else "yMMM", day, locale=self.locale)
        return format_date(day, format="medium", locale=self.locale)

    def datetime(self, moment: dt.datetime) -> str:
        # with its zone: a UTC time read as local was hours off (probe38: "1:16:50 PM" at 18:16 in Almaty)
        zone = moment.tzname() if moment.tzinfo is not None else None
        text = format_datetime(moment, format="medium", locale=self.locale, tzinfo=moment.tzinfo)
        return f"{text} {zone}" if zone else text

    def number(self, value: float) -> str:
        if not math.isfinite(value):
            return "-"
        if abs(value) >= 1e12:  # beyond any lab value: Babel's fixed-point format cannot quantize it
            return format_scientific(value, format="0.###E0", locale=self.locale)
        return format_decimal(round(value, 4), format="#,##0.###", locale=self.locale)

    def percent(self, fraction: float) -> str:
        if not math.isfinite(fraction) or abs(fraction) >= 1e10:
            return self.number(fraction * 100) + "%"
        return format_percent(fraction, format="+#,##0%;-#,##0%", locale=self.locale)


@lru_cache(maxsize=None)
def translator(language: str = SOURCE_LANGUAGE) -> Translator:
    """The translator for ``language`` (a BCP-47 tag such as en, ru, kk)."""
    code = (language or SOURCE_LANGUAGE).replace("_", "-").split("-")[0].lower()
    if code not in available_languages():
        raise UnknownLanguageError(
            f"no catalog for language {language!r}; available: {', '.join(available_languages())} "
            "(add poems_fhir/locale/<lang>/LC_MESSAGES/poems_fhir.po and compile it: see README, Languages)"
        )
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError) as exc:
        raise UnknownLanguageError(f"Babel does not know the locale {code!r}: {exc}") from exc
    if code == SOURCE_LANGUAGE:
        catalog: gettext.NullTranslations = gettext.NullTranslations()
    else:
        catalog = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[code])
    return Translator(code, catalog, locale)
