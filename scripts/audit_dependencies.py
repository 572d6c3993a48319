"""pip-audit on requirements.txt: fails on any known vulnerability that has a fixed version.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/NAME/VERSION/json) about each pinned package. When
that API cannot be reached, pip-audit itself skips every package and reports "No known vulnerabilities",
which would be a silent pass: this script checks the API first and fails, saying so. PIP_AUDIT=skip
skips the audit knowingly (an offline machine), with a warning. PIP_AUDIT=when-reachable (set by
.ci/run, whose sandbox reaches the package index but not PyPI's JSON API) audits whenever the API
answers and otherwise says loudly that nothing was audited, without failing.

Usage: .venv/bin/python scripts/audit_dependencies.py [requirements.txt]
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
API = "https://pypi.org/pypi/{name}/{version}/json"


def pinned(requirements):
    for line in Path(requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            yield name.split("[")[0].strip(), version.split(";")[0].strip()


def reachable(name, version):
    """(True, "") when PyPI's JSON API answers for this pinned package, else (False, why)."""
    url = API.format(name=name, version=version)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (a fixed https URL)
            return response.status == 200, f"HTTP {response.status} from {url}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return False, f"{error} ({url})"


def fail(message):
    print(f"pip-audit: {message}", file=sys.stderr)
    sys.exit(1)


def main(requirements="requirements.txt"):
    if os.environ.get("PIP_AUDIT", "").lower() == "skip":
        print("pip-audit: SKIPPED (PIP_AUDIT=skip): the dependencies were NOT audited.", file=sys.stderr)
        return
    packages = list(pinned(requirements))
    ok, why = reachable(*packages[0])
    if not ok and os.environ.get("PIP_AUDIT", "").lower() == "when-reachable":
        print(f"pip-audit: NOT AUDITED: PyPI's vulnerability API cannot be reached ({why}). "
              "PIP_AUDIT=when-reachable lets the build go on; audit on a machine that reaches pypi.org.",
              file=sys.stderr)
        return
    if not ok:
        fail(f"PyPI's vulnerability API cannot be reached: {why}. Nothing was audited. Run it with network "
             "access to pypi.org, or set PIP_AUDIT=skip to go on knowingly without the audit.")
    result = subprocess.run(  # our own virtualenv's pip-audit, fixed arguments
        [str(VENV_BIN / "pip-audit"), "-r", requirements, "--no-deps", "--disable-pip", "--strict",
         "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        fail(f"the audit did not complete (exit {result.returncode}):\n{result.stderr.strip()}")
    fixable, unfixed = [], []
    for dependency in report["dependencies"]:
        if dependency.get("skip_reason"):
            fail(f"{dependency['name']} was not audited: {dependency['skip_reason']}")
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']}=={dependency['version']} {vuln['id']}"
            if vuln["fix_versions"]:
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(line)
    for line in unfixed:
        print(f"pip-audit: known vulnerability without a fixed version yet: {line}", file=sys.stderr)
    if fixable:
        fail("known vulnerabilities with a fixed version: bump these pins in requirements.txt:\n  "
             + "\n  ".join(fixable))
    print(f"pip-audit: {len(report['dependencies'])} pinned packages audited, no vulnerability with a fix.")


if __name__ == "__main__":
    main(*sys.argv[1:])
