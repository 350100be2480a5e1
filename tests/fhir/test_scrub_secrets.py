"""A token a server or proxy echoes back is masked in every shape it may take (README "Flags and
configuration": never in error messages, also a part of eight characters or more). probe68 D3: a 500
body echoing the token from its middle, percent-encoded, base64-encoded or lower-cased reached the log,
the summary and the state file."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest

from poems_fhir.fhir.http import scrub_secrets

TOKEN = "aB3+/x9Zq=Q7mN2pL8vR4tY6wE1sD5fG"


@pytest.mark.parametrize(
    "echoed",
    [
        TOKEN,
        TOKEN[:10],  # cut short
        TOKEN[-9:],
        TOKEN[4:16],  # its middle
        TOKEN[5:13],  # eight characters exactly
        quote(TOKEN, safe=""),
        quote_plus(TOKEN),
        base64.b64encode(TOKEN.encode()).decode(),
        base64.urlsafe_b64encode(TOKEN.encode()).decode(),
        TOKEN.lower(),
        TOKEN.upper()[2:14],
    ],
)
def test_every_shape_of_the_token_is_masked_and_the_words_around_it_stay(echoed):
    text = f'{{"diagnostics": "invalid credentials {echoed} for Procedure?patient=1"}}'
    assert scrub_secrets(text, [TOKEN]) == '{"diagnostics": "invalid credentials <redacted> for Procedure?patient=1"}'


@pytest.mark.parametrize(
    ("echoed", "kept"),
    [
        # probe69 D4: base64 not aligned on the token ("Bearer <token>"), every byte percent-encoded, JSON
        # escapes and HTML entities written out, hex, base64 of the token in lower case; what stays of the
        # token is shorter than the eight characters that are masked (here "aB", two characters)
        (base64.b64encode(f"Bearer {TOKEN}".encode()).decode(), "QmVhcmVyIGFC<redacted>"),
        (base64.b64encode(f"xx{TOKEN}yy".encode()).decode(), "eHhh<redacted>R3l5"),
        ("".join(f"%{b:02X}" for b in TOKEN.encode()), "<redacted>"),
        ("".join(f"\\u{ord(c):04x}" for c in TOKEN), "<redacted>"),
        ("".join(f"&#{ord(c)};" for c in TOKEN), "<redacted>"),
        ("".join(f"&#x{ord(c):X};" for c in TOKEN), "<redacted>"),
        (TOKEN.encode().hex(), "<redacted>"),
        (base64.b64encode(TOKEN.lower().encode()).decode(), "<redacted>"),
    ],
)
def test_an_encoded_echo_keeps_no_run_of_eight_characters_of_the_token(echoed, kept):
    assert scrub_secrets(f"error: {echoed}.", [TOKEN]) == f"error: {kept}."


def test_fewer_than_eight_characters_of_it_are_ordinary_text():
    text = f"page {TOKEN[3:10]} of 9"  # seven characters: too short to tell from words
    assert scrub_secrets(text, [TOKEN]) == text


def test_two_echoes_are_each_masked_and_text_with_letters_outside_ascii_keeps_its_place():
    text = f"İstanbul {TOKEN[:9]} / Ünye {TOKEN.lower()[20:]}."
    assert scrub_secrets(text, [TOKEN]) == "İstanbul <redacted> / Ünye <redacted>."


def test_a_short_secret_is_masked_only_whole():
    assert scrub_secrets("pin 4711 and 47", ["4711"]) == "pin <redacted> and 47"
