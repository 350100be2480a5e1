"""The README's worked example is the program's real output (probe59 D8: it had drifted - dates, evidence,
a risk factor's name - while it said "real output")."""

from __future__ import annotations

from click.testing import CliRunner

from poems_fhir.cli import main
from tests.conftest import ROOT

ANCHOR = "`poems-fhir evaluate sample_bundles/origin-case --as-of 2019-02-28`):\n\n```text\n"


def test_the_worked_example_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(ANCHOR) + len(ANCHOR)
    shown = readme[start : readme.index("\n```\n", start)]
    result = CliRunner().invoke(
        main, ["evaluate", str(ROOT / "sample_bundles" / "origin-case"), "--as-of", "2019-02-28"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert result.output.rstrip("\n") == shown
