"""`make test` offline: the Node server install is skipped with a message when the npm registry cannot
be reached, and the Chromium install can be turned off (issue #13 item 7)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make not installed")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket is: connections are refused


def _make(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "tests" / "fhir_server").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests" / "fhir_server" / "package-lock.json", tmp_path / "tests" / "fhir_server")
    shutil.copy(ROOT / "tests" / "fhir_server" / "package.json", tmp_path / "tests" / "fhir_server")
    return subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed: the offline branch cannot be exercised")
def test_node_tests_are_skipped_with_a_message_when_the_registry_is_unreachable(tmp_path):
    result = _make(
        tmp_path, "tests/fhir_server/node_modules/.installed", npm_config_registry=f"http://127.0.0.1:{_closed_port()}/"
    )
    assert result.returncode == 0, result.stderr
    assert "npm registry not reachable" in result.stdout and "will be skipped" in result.stdout
    assert not (tmp_path / "tests" / "fhir_server" / "node_modules" / ".installed").exists()  # tried again next time


def test_no_browser_turns_the_chromium_install_off(tmp_path):
    result = _make(tmp_path, "browser", NO_BROWSER="1")
    assert result.returncode == 0
    assert result.stdout.strip() == "NO_BROWSER set: not installing chromium; the browser test will be skipped"


def test_the_chromium_install_is_announced_before_it_runs():
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("\nbrowser:") : text.index("\nlint:")]
    assert recipe.index("echo \"installing Debian's chromium with apt-get") < recipe.index("apt-get update")
