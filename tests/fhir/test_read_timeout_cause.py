"""A read that times out because the request's (or the run's) deadline was nearer than the read deadline
says so (probe63 D6: a request held 12 s under `--request-deadline 5s` was retried after 5 s, as it should
be, but logged as "no data for 120 s - the server stopped answering")."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient, RetryPolicy
from poems_fhir.fhir.http import Deadlines
from tests.fhir.loopback import FakeClock


class Silent(HTTPAdapter):
    """The server accepts the request and never answers: the read times out after ``timeout``."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[object] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.timeouts.append(timeout)
        raise requests.ReadTimeout("read timed out")


def client(deadlines: Deadlines) -> tuple[FhirClient, Silent]:
    session, adapter = requests.Session(), Silent()
    session.mount("https://", adapter)
    c = FhirClient(
        "https://fhir.example/R4",
        session=session,
        deadlines=deadlines,
        monotonic=FakeClock(),
        sleep=lambda s: None,
        rng=lambda: 1.0,
        retry=RetryPolicy(attempts=1),
    )
    return c, adapter


def test_a_read_cut_by_the_request_deadline_names_it():
    c, adapter = client(Deadlines(read=120.0, request=5.0))
    with pytest.raises(TemporaryNetworkError) as exc:
        c.get("Patient/p1")
    assert adapter.timeouts == [(10.0, 5.0)]
    assert "no answer within 5 s (the request deadline left, --request-deadline)" in str(exc.value)
    assert "120 s" not in str(exc.value)


def test_a_read_within_the_request_deadline_is_the_servers_silence():
    c, adapter = client(Deadlines(read=120.0, request=300.0))
    with pytest.raises(TemporaryNetworkError) as exc:
        c.get("Patient/p1")
    assert adapter.timeouts == [(10.0, 120.0)]
    assert "no data for 120 s - the server stopped answering" in str(exc.value)
