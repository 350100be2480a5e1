"""Load the recorded Medplum transcripts and register them with `responses`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import responses

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir-server"
ORIGIN = "https://fhir.test.example"
BASE = f"{ORIGIN}/fhir/R4"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fill(value: Any) -> Any:
    """Replace the {BASE}/{ORIGIN} placeholders everywhere in a body."""
    text = json.dumps(value).replace("{BASE}", BASE).replace("{ORIGIN}", ORIGIN)
    return json.loads(text)


def url_of(path: str) -> str:
    path = path.replace("{BASE}", BASE).replace("{ORIGIN}", ORIGIN)
    return path if path.startswith("http") else BASE + ("/" + path if path else "")


def exchange(name: str, index: int) -> dict[str, Any]:
    return load(name)["exchanges"][index]


def register(rsps: responses.RequestsMock, name: str, index: int, **overrides: Any) -> dict[str, Any]:
    ex = exchange(name, index)
    req, res = ex["request"], ex["response"]
    path = overrides.pop("url", req["path"])
    headers = {
        k: v.replace("{BASE}", BASE).replace("{ORIGIN}", ORIGIN)
        for k, v in res["headers"].items()
        if k != "Content-Type"
    }
    body = fill(res["body"])
    kwargs: dict[str, Any] = {
        "status": overrides.pop("status", res["status"]),
        "headers": headers,
        "content_type": res["headers"].get("Content-Type", "application/fhir+json"),
    }
    if isinstance(body, (dict, list)):
        kwargs["body"] = json.dumps(body)
    elif body is not None:
        kwargs["body"] = body
    kwargs.update(overrides)
    rsps.add(req["method"], url_of(path), **kwargs)
    return body
