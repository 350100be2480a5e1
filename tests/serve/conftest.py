from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from poems_fhir.serve.app import create_app
from poems_fhir.serve.settings import ServeSettings
from tests.serve.helpers import ISSUER, NOW, PUBLIC_URL, Ehr


@pytest.fixture(scope="session")
def ehr() -> Ehr:
    return Ehr()


@pytest.fixture
def settings(tmp_path: Path, ehr: Ehr) -> ServeSettings:
    jwks = ehr.write_jwks(tmp_path / "ehr-jwks.json")
    return ServeSettings(trust=[f"{ISSUER}={jwks}"], public_url=PUBLIC_URL, state=tmp_path / "serve.sqlite")


@pytest.fixture
def client(settings: ServeSettings, mapping) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, mapping=mapping, clock=lambda: float(NOW))
    with TestClient(app) as c:
        yield c
