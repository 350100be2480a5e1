"""The EHR's JWT: accepted when it is what the CDS Hooks specification asks, 401 otherwise."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from poems_fhir.serve.security import KeySource, TokenRejected, Verifier
from tests.serve.helpers import ISSUER, NOW, PUBLIC_URL, SERVICE_URL, Ehr, hook_request

HOOK = "/cds-services/poems-patient-view"


def status(client, token: str | None) -> int:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    # no prefetch, no fhirServer: a request that passes the JWT check is answered 412
    return int(client.post(HOOK, json=hook_request("p1"), headers=headers).status_code)


def test_valid_token_passes_and_discovery_url_is_an_accepted_audience(client, ehr):
    assert status(client, ehr.token()) == 412
    assert status(client, ehr.token(aud=f"{PUBLIC_URL}/cds-services")) == 412


def test_no_token_is_401_with_www_authenticate(client):
    response = client.post(HOOK, json=hook_request("p1"))
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert status(client, "not-a-jwt") == 401
    assert (
        client.post(HOOK, json=hook_request("p1"), headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    )


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://evil.example.org"},  # issuer not on the allowlist
        {"aud": "https://other-service.example.org/cds-services/poems-patient-view"},  # another service's token
        {"now": NOW - 3600},  # expired an hour ago
        {"now": NOW + 3600},  # issued in the future
        {"lifetime": 7200},  # valid far longer than the service accepts (replay window)
        {"drop": ("jti",)},
        {"drop": ("exp",)},
        {"drop": ("iat",)},
        {"drop": ("aud",)},
        {"headers": {"kid": "unknown-key"}},
        {"headers": {"kid": None}},
        {"now": NOW - 7200, "lifetime": 7300},  # issued 2 h ago, expires in 100 s: made to live 7,300 s
        {"nbf": NOW + 300},  # not valid for another 5 minutes
        {"nbf": "soon"},
    ],
    ids=[
        "issuer",
        "audience",
        "expired",
        "future",
        "lifetime",
        "no-jti",
        "no-exp",
        "no-iat",
        "no-aud",
        "unknown-kid",
        "no-kid",
        "issued-long-ago",
        "nbf-future",
        "nbf-not-a-number",
    ],
)
def test_tokens_that_break_a_rule_are_401(client, ehr, change):
    kw: dict[str, Any] = dict(change)
    if "headers" in kw and kw["headers"].get("kid") is None:
        token = jwt.encode(
            {"iss": ISSUER, "sub": "c", "aud": SERVICE_URL, "exp": NOW + 300, "iat": NOW, "jti": "x"},
            ehr.key,
            algorithm="ES384",
        )
    else:
        token = ehr.token(**kw)
    assert status(client, token) == 401


def test_signed_with_another_key_is_401(client, ehr):
    intruder = ec.generate_private_key(ec.SECP384R1())
    assert status(client, ehr.token(key=intruder)) == 401


def test_other_algorithms_are_401(client, ehr):
    hs = jwt.encode(
        {"iss": ISSUER, "sub": "c", "aud": SERVICE_URL, "exp": NOW + 300, "iat": NOW, "jti": "h"},
        "shared-secret-of-32-bytes-or-more!!",
        algorithm="HS256",
        headers={"kid": ehr.kid},
    )
    assert status(client, hs) == 401
    none = jwt.encode(
        {"iss": ISSUER, "sub": "c", "aud": SERVICE_URL, "exp": NOW + 300, "iat": NOW, "jti": "n"},
        None,
        algorithm="none",
        headers={"kid": ehr.kid},
    )
    assert status(client, none) == 401
    es256 = ec.generate_private_key(ec.SECP256R1())
    assert status(client, jwt.encode({"iss": ISSUER}, es256, algorithm="ES256", headers={"kid": ehr.kid})) == 401


def test_a_replayed_jti_is_401(client, ehr):
    token = ehr.token()
    assert status(client, token) == 412
    assert status(client, token) == 401
    assert status(client, ehr.token()) == 412  # a fresh jti passes


class _UrlKeys(KeySource):
    """A JWKS URL source without the network: the configured URL and the public key."""

    def __init__(self, url: str, public_key: Any) -> None:
        self.url = url
        self._key = public_key
        self.asked: list[str] = []

    def key(self, kid: str) -> Any:
        self.asked.append(kid)
        return self._key


def test_jku_must_be_the_configured_jwks_url():
    ehr = Ehr()
    source = _UrlKeys("https://ehr.example.org/.well-known/jwks.json", ehr.key.public_key())
    verifier = Verifier({ISSUER: source}, clock=lambda: float(NOW))
    good = ehr.token(headers={"jku": "https://ehr.example.org/.well-known/jwks.json"})
    assert verifier.verify(f"Bearer {good}", [SERVICE_URL])["iss"] == ISSUER
    evil = ehr.token(headers={"jku": "https://attacker.example.net/jwks.json"})
    with pytest.raises(TokenRejected, match="jku"):
        verifier.verify(f"Bearer {evil}", [SERVICE_URL])
    assert source.asked == [ehr.kid]  # the key of the refused token was never looked up


def test_rs384_keys_are_accepted_too(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    source = _UrlKeys("https://ehr.example.org/jwks", key.public_key())
    verifier = Verifier({ISSUER: source}, clock=lambda: float(NOW))
    token = jwt.encode(
        {"iss": ISSUER, "sub": "c", "aud": SERVICE_URL, "exp": NOW + 300, "iat": NOW, "jti": "r"},
        key,
        algorithm="RS384",
        headers={"kid": "rsa-1"},
    )
    assert verifier.verify(f"Bearer {token}", [SERVICE_URL])["jti"] == "r"


def test_feedback_and_hook_share_the_replay_guard(client, ehr):
    token = ehr.token(aud=f"{SERVICE_URL}/feedback")
    body = {
        "feedback": [
            {
                "card": "0c8b8c1e-6a0c-5bd1-9b55-4a3f0b3e9f1a",
                "outcome": "accepted",
                "outcomeTimestamp": "2027-01-15T10:00:00Z",
            }
        ]
    }
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{HOOK}/feedback", json=body, headers=headers).status_code == 200
    assert client.post(f"{HOOK}/feedback", json=body, headers=headers).status_code == 401


class _FakeJwksClient:
    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0

    def get_jwk_set(self, refresh: bool = False) -> jwt.PyJWKSet:
        self.fetches += 1
        return jwt.PyJWKSet.from_dict(self.jwks)


def test_a_jwks_url_is_refetched_for_unknown_kids_at_most_once_a_minute():
    from poems_fhir.serve.security import UrlKeys

    ehr = Ehr()
    now = [1000.0]
    keys = UrlKeys("https://ehr.example.org/jwks", clock=lambda: now[0])
    fake = _FakeJwksClient(ehr.jwks())
    keys._client = fake  # type: ignore[assignment]  # no network in tests
    assert keys.key(ehr.kid) is not None and fake.fetches == 1
    for forged in ("forged-1", "forged-2", "forged-3"):
        with pytest.raises(TokenRejected, match="no key"):
            keys.key(forged)
    assert fake.fetches == 1  # forged kids do not make us hammer the EHR's JWKS endpoint
    now[0] += 61
    with pytest.raises(TokenRejected):
        keys.key("forged-4")
    assert fake.fetches == 2  # key rotation is still picked up, once a minute at most
    assert keys.key(ehr.kid) is not None and fake.fetches == 2


def test_the_specification_jwt_example_is_accepted_with_its_jku():
    """CDS Hooks 2.0 "Trusting CDS Clients": the example header and payload, signed with a test key."""
    ehr = Ehr(kid="example-kid")
    source = _UrlKeys("https://fhir-ehr.example.com/jwk_uri", ehr.key.public_key())
    verifier = Verifier({"https://fhir-ehr.example.com/": source}, clock=lambda: 1422568800.0)
    payload = {
        "iss": "https://fhir-ehr.example.com/",
        "sub": "client_id",
        "aud": "https://cds.example.org/cds-services/some-service",
        "exp": 1422568860,
        "iat": 1422568800,
        "jti": "ee22b021-e1b7-4611-ba5b-8eec6a33ac1e",
        "tenant": "2ddd6c3a-8e9a-44c6-a305-52111ad302a2",
    }
    token = jwt.encode(
        payload,
        ehr.key,
        algorithm="ES384",
        headers={"typ": "JWT", "kid": "example-kid", "jku": "https://fhir-ehr.example.com/jwk_uri"},
    )
    claims = verifier.verify(f"Bearer {token}", ["https://cds.example.org/cds-services/some-service"])
    assert claims["tenant"] == "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"
    with pytest.raises(TokenRejected, match="replayed"):
        verifier.verify(f"Bearer {token}", ["https://cds.example.org/cds-services/some-service"])


def test_a_token_already_valid_by_nbf_passes(client, ehr):
    assert status(client, ehr.token(nbf=NOW - 10)) == 412  # past the JWT check (no prefetch: 412)


def test_a_kid_naming_a_key_of_another_type_is_refused_not_a_500():
    """An ES384 token whose kid names the issuer's RSA key made PyJWT raise TypeError (a 500)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = Verifier({ISSUER: _UrlKeys("https://ehr.example.org/jwks", key.public_key())}, clock=lambda: float(NOW))
    ec_key = ec.generate_private_key(ec.SECP384R1())
    token = jwt.encode(
        {"iss": ISSUER, "sub": "c", "aud": SERVICE_URL, "exp": NOW + 300, "iat": NOW, "jti": "m"},
        ec_key,
        algorithm="ES384",
        headers={"kid": "rsa-1"},
    )
    with pytest.raises(TokenRejected, match="'rsa-1' is not a key for ES384"):
        verifier.verify(f"Bearer {token}", [SERVICE_URL])


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_name_is_case_insensitive(client, ehr, scheme):
    # RFC 7235 §2.1; a lower-case "bearer" was refused (found by a black-box fuzzer)
    headers = {"Authorization": f"{scheme} {ehr.token()}"}
    assert client.post(HOOK, json=hook_request("p1"), headers=headers).status_code == 412  # past the JWT check


def test_a_token_without_sub_is_accepted_as_the_specification_allows(client, ehr):
    """CDS Hooks 2.0 "Trusting CDS Clients": iss, aud, exp, iat and jti are the required claims."""
    assert status(client, ehr.token(drop=("sub",))) == 412  # past the token check: no prefetch
    assert status(client, ehr.token(drop=("jti",))) == 401


# --- the JWKS URL's answer (probe44: non-JSON gave a 500, a 300 MB answer was read whole) -------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"<html>maintenance</html>", "not a JWK Set"),
        (b'{"keys": "x"}', "not a JWK Set"),
        (b"[1, 2]", "not a JWK Set"),
        (b'{"keys": []}', "not a JWK Set"),
    ],
)
def test_a_jwks_answer_that_is_no_jwk_set_refuses_the_token(answer, reason):
    from poems_fhir.serve.security import UrlKeys
    from tests.fhir.loopback import Loopback, respond

    with Loopback([respond(200, answer, {"Content-Type": "application/json"})]) as server:
        keys = UrlKeys(f"{server.origin}/jwks")
        with pytest.raises(TokenRejected, match=f"JWKS URL could not be read: {reason}"):
            keys.key("any")


def test_a_jwks_answer_past_the_size_limit_is_not_read_on():
    from poems_fhir.serve.security import MAX_JWKS_BYTES, UrlKeys
    from tests.fhir.loopback import Loopback, respond

    huge = b'{"keys": [' + b" " * (MAX_JWKS_BYTES + 10) + b"]}"
    with Loopback([respond(200, huge, {"Content-Type": "application/json"})]) as server:
        with pytest.raises(TokenRejected, match="larger than 1024 KiB"):
            UrlKeys(f"{server.origin}/jwks").key("any")


def test_a_jwks_redirect_is_not_followed():
    from poems_fhir.serve.security import UrlKeys
    from tests.fhir.loopback import Loopback, respond

    with Loopback() as other, Loopback([respond(302, b"", {"Location": f"{other.origin}/jwks"})]) as server:
        with pytest.raises(TokenRejected, match="HTTP 302"):
            UrlKeys(f"{server.origin}/jwks").key("any")
    assert other.connections == 0


def test_a_jwks_url_serving_the_ehr_keys_verifies_its_token():
    from poems_fhir.serve.security import UrlKeys
    from tests.fhir.loopback import Loopback, respond

    ehr = Ehr()
    with Loopback([respond(200, ehr.jwks(), {"Content-Type": "application/json"})]) as server:
        assert UrlKeys(f"{server.origin}/jwks").key(ehr.kid) is not None
