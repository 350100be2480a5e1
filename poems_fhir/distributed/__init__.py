# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir distributed`: the per-patient evaluation run on a Dask cluster (README "Distributed run").

The optional extra `distributed` (`pip install 'poems-fhir[distributed]'`) brings dask, distributed,
fsspec and orjson; nothing here imports them at package import time, so the base install works without.
Modules: `keying.py` (read an input block, key each resource by its patient: pure), `partition.py`
(evaluate one output partition and write its files: pure but for the fsspec writes), `run.py` (the Dask
graph: list the input, two passes, the shuffle, the summary).
"""

from __future__ import annotations

EXTRA_HINT = "install the optional extra: pip install 'poems-fhir[distributed]'"


class MissingExtraError(Exception):
    """The `distributed` extra (dask, distributed, fsspec, orjson) is not installed."""


def require() -> None:
    """Import the extra's packages once, or say which one is missing and how to install it."""
    import importlib

    for name in ("dask", "dask.bag", "distributed", "fsspec", "orjson"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingExtraError(f"the distributed run needs {name!r} ({exc}); {EXTRA_HINT}") from None
