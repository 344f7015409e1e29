"""Audit the installed dependencies for known vulnerabilities with pip-audit (CI step).

Audits the environment this interpreter runs in (the project's .venv: requirements.txt, the dev
requirements and everything they pull in), without building a second one as `-r` would. It asks
PyPI's vulnerability data first and OSV when PyPI answers nothing.

Exit status:
- 1 when any package has a known vulnerability (the report lists the fixed versions);
- 0 when none was found;
- 0 with a loud warning when no vulnerability source could be reached (no network, or a registry
  mirror that does not serve PyPI's per-release JSON): a network problem must not fail CI, but
  it must never pass as "no vulnerabilities" either.
Anything else pip-audit fails on is passed through as a failure.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVICES = ("pypi", "osv")
_NETWORK_ERRORS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "Failed to resolve",
    "Temporary failure in name resolution",
    "Connection refused",
    "timed out",
    "ReadTimeout",
    "ConnectTimeout",
)


def audit(service: str) -> tuple[str, dict | None, str]:
    """("ok" | "vulnerable" | "unreachable" | "error", report, pip-audit's output)."""
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--vulnerability-service",
                service,
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report_path),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = result.stdout + result.stderr
        report = json.loads(report_path.read_text()) if report_path.exists() else None
    if report is None:
        if any(marker in output for marker in _NETWORK_ERRORS):
            return "unreachable", None, output
        return "error", None, output
    dependencies = report.get("dependencies", [])
    if any(dependency.get("vulns") for dependency in dependencies):
        return "vulnerable", report, output
    if dependencies and all("skip_reason" in dependency for dependency in dependencies):
        # Every package "not found": the source did not answer for any of them.
        return "unreachable", report, output
    return "ok", report, output


def print_vulnerabilities(report: dict) -> None:
    for dependency in report["dependencies"]:
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            package = f"{dependency['name']} {dependency['version']}"
            print(f"  {package}: {vuln['id']} (fixed in {fixed})")


def print_skipped(report: dict) -> None:
    skipped = [d for d in report["dependencies"] if "skip_reason" in d]
    for dependency in skipped:
        print(f"  not audited: {dependency['skip_reason']}")


def main() -> int:
    for service in SERVICES:
        outcome, report, output = audit(service)
        if outcome == "vulnerable":
            print(f"pip-audit ({service}): known vulnerabilities in our dependencies:")
            print_vulnerabilities(report)
            return 1
        if outcome == "ok":
            audited = [d for d in report["dependencies"] if "skip_reason" not in d]
            print(f"pip-audit ({service}): no known vulnerabilities in {len(audited)} packages.")
            print_skipped(report)
            return 0
        if outcome == "error":
            print(f"pip-audit ({service}) failed:\n{output}")
            return 1
        print(f"pip-audit ({service}): the vulnerability source could not be reached.")
    print(
        "WARNING: dependencies NOT audited: no vulnerability source (PyPI's per-release JSON API, "
        "OSV) answered from this machine. This is a network limitation, not a clean bill of "
        "health: run `python scripts/audit_dependencies.py` where they are reachable."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
