"""Auth flows: SMART Backend Services JWT assertions (RS384/ES384, PEM/JWKS), discovery, secrets."""

from __future__ import annotations

import json
import urllib.parse

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from poems_fhir.errors import ConfigError
from poems_fhir.fhir.auth import BasicAuth, BearerAuth, SmartBackendAuth, discover_token_url, load_private_key
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill

TOKEN_URL = f"{ORIGIN}/oauth2/token"
NOW = 1_800_000_000


def pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


def assertion_from(request) -> dict:
    form = urllib.parse.parse_qs(request.body)
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    return form


@pytest.mark.parametrize(("keyname", "alg"), [("rsa_key", "RS384"), ("ec_key", "ES384")])
@responses.activate
def test_smart_backend_signs_a_verifiable_assertion_from_pem(tmp_path, request, keyname, alg):
    key = request.getfixturevalue(keyname)
    (tmp_path / "key.pem").write_bytes(pem(key))
    loaded, algorithm, kid = load_private_key(tmp_path / "key.pem")
    assert algorithm == alg
    responses.add("POST", TOKEN_URL, json=fill(exchange("02-auth.json", 0)["response"]["body"]))
    auth = SmartBackendAuth(
        TOKEN_URL,
        "poems-client",
        "system/*.read",
        requests.Session(),
        clock=lambda: NOW,
        key=loaded,
        algorithm=algorithm,
        kid=kid,
    )
    assert auth.headers()["Authorization"] == "Bearer <redacted>"
    form = assertion_from(responses.calls[0].request)
    claims = jwt.decode(
        form["client_assertion"][0],
        key.public_key(),
        algorithms=[alg],
        audience=TOKEN_URL,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == claims["sub"] == "poems-client"
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]
    assert form["scope"] == ["system/*.read"]


def test_jwks_private_key_with_kid(tmp_path, ec_key):
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key))
    jwk.update(kid="key-1", alg="ES384")
    (tmp_path / "keys.jwks").write_text(json.dumps({"keys": [jwk]}))
    key, alg, kid = load_private_key(tmp_path / "keys.jwks")
    assert (alg, kid) == ("ES384", "key-1")
    token = jwt.encode({"a": 1}, key, algorithm=alg, headers={"kid": kid})
    assert jwt.get_unverified_header(token)["kid"] == "key-1"


def test_bad_keys_are_config_errors(tmp_path, rsa_key):
    (tmp_path / "pub.jwks").write_text(json.dumps({"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}))
    with pytest.raises(ConfigError, match="no private key"):
        load_private_key(tmp_path / "pub.jwks")
    (tmp_path / "garbage.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="PEM"):
        load_private_key(tmp_path / "garbage.pem")
    with pytest.raises(ConfigError, match="cannot read"):
        load_private_key(tmp_path / "missing.pem")


@responses.activate
def test_token_endpoint_discovery():
    responses.add("GET", f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    assert discover_token_url(BASE, requests.Session()) == TOKEN_URL
    responses.add("GET", f"{ORIGIN}/nope/.well-known/smart-configuration", status=404)
    with pytest.raises(ConfigError, match="--token-url"):
        discover_token_url(f"{ORIGIN}/nope", requests.Session())


def test_secrets_are_not_in_reprs():
    assert "zq-123" not in repr(BearerAuth("zq-123"))
    assert "pw-123" not in repr(BasicAuth("user", "pw-123"))


@responses.activate
def test_smart_backend_discovers_the_token_endpoint_lazily_and_uses_it_as_audience(rsa_key):
    responses.add("GET", f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    responses.add("POST", TOKEN_URL, json=fill(exchange("02-auth.json", 0)["response"]["body"]))
    auth = SmartBackendAuth(
        "",
        "poems-client",
        "system/*.read",
        requests.Session(),
        clock=lambda: NOW,
        key=rsa_key,
        algorithm="RS384",
        discover_from=BASE,
    )
    assert len(responses.calls) == 0  # nothing happens before the first request needs a token
    assert auth.headers()["Authorization"] == "Bearer <redacted>"
    form = assertion_from(responses.calls[1].request)
    claims = jwt.decode(
        form["client_assertion"][0],
        rsa_key.public_key(),
        algorithms=["RS384"],
        audience=TOKEN_URL,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["aud"] == TOKEN_URL
