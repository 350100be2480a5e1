"""The distributed run needs the optional extra (make test installs it): without it these tests skip
locally and fail in CI."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import missing_prerequisite


@pytest.fixture(autouse=True)
def _distributed_extra() -> None:
    for name in ("dask", "distributed", "fsspec", "orjson"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing_prerequisite(f"{name} is not installed: pip install -e '.[distributed]' (make test does)")
