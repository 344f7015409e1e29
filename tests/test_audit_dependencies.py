"""The CI dependency audit fails on known vulnerabilities and only warns when no vulnerability
source can be reached (scripts/audit_dependencies.py, with pip-audit's answers simulated)."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit_dependencies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_dependencies)

CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}], "fixes": []}
VULNERABLE = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.1",
            "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["5.2.2"], "aliases": []}],
        }
    ],
    "fixes": [],
}
NOTHING_ANSWERED = {
    "dependencies": [
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    ],
    "fixes": [],
}
NETWORK_DOWN = "requests.exceptions.ConnectionError: Max retries exceeded (NameResolutionError)"


def simulate(monkeypatch, answers: dict):
    """pip-audit answering `answers[service]`: a report (dict) or a crash's output (str)."""

    def run(command, **kwargs):
        service = command[command.index("--vulnerability-service") + 1]
        answer = answers[service]
        if isinstance(answer, dict):
            Path(command[command.index("--output") + 1]).write_text(json.dumps(answer))
            failed = any(d.get("vulns") for d in answer["dependencies"])
            return subprocess.CompletedProcess(command, int(failed), "", "")
        return subprocess.CompletedProcess(command, 1, "", answer)

    monkeypatch.setattr(audit_dependencies.subprocess, "run", run)


@pytest.mark.parametrize(
    ("answers", "status", "said"),
    [
        ({"pypi": CLEAN}, 0, "no known vulnerabilities in 1 packages"),
        ({"pypi": VULNERABLE}, 1, "GHSA-xxxx (fixed in 5.2.2)"),
        ({"pypi": NOTHING_ANSWERED, "osv": VULNERABLE}, 1, "GHSA-xxxx"),
        ({"pypi": NOTHING_ANSWERED, "osv": CLEAN}, 0, "(osv): no known vulnerabilities"),
        ({"pypi": NOTHING_ANSWERED, "osv": NETWORK_DOWN}, 0, "dependencies NOT audited"),
        ({"pypi": NETWORK_DOWN, "osv": NETWORK_DOWN}, 0, "dependencies NOT audited"),
        ({"pypi": "usage: pip-audit: error: bad flag"}, 1, "failed"),
    ],
)
def test_only_a_network_problem_is_forgiven(monkeypatch, capsys, answers, status, said):
    simulate(monkeypatch, answers)
    assert audit_dependencies.main() == status
    assert said in capsys.readouterr().out
