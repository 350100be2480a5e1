"""Hypothesis profiles for the fuzz suite.

`make test` runs the bounded "quick" profile. The long profile is run by hand:

    POEMS_FUZZ_PROFILE=long .venv/bin/python -m pytest tests/fuzz -q
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,  # no timed tests: a slow example is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
    print_blob=True,
)
settings.register_profile("quick", max_examples=40, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=3000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("POEMS_FUZZ_PROFILE", "quick"))
