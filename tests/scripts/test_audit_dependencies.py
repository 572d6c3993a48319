"""The pip-audit wrapper: fails when PyPI cannot be reached (pip-audit alone would pass), and only on fixable
vulnerabilities."""

import importlib.util
import json
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"


@pytest.fixture
def audit(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("PIP_AUDIT", raising=False)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\ndjango==5.2.8\nrequests==2.34.2  # a comment\n")
    module.requirements = str(requirements)
    return module


def pip_audit_answers(audit, monkeypatch, dependencies):
    monkeypatch.setattr(audit, "reachable", lambda name, version: (True, ""))
    output = json.dumps({"dependencies": dependencies, "fixes": []})
    monkeypatch.setattr(audit.subprocess, "run",
                        lambda *a, **k: types.SimpleNamespace(stdout=output, stderr="", returncode=1))


def test_pinned_requirements_are_read(audit):
    assert list(audit.pinned(audit.requirements)) == [("django", "5.2.8"), ("requests", "2.34.2")]


def test_an_unreachable_pypi_fails_and_says_so(audit, monkeypatch, capsys):
    monkeypatch.setattr(audit, "reachable", lambda name, version: (False, "HTTP Error 404: Not Found"))
    with pytest.raises(SystemExit) as exit_:
        audit.main(audit.requirements)
    assert exit_.value.code == 1
    assert "PyPI's vulnerability API cannot be reached: HTTP Error 404: Not Found. Nothing was audited." in (
        capsys.readouterr().err)


def test_skipping_is_explicit(audit, monkeypatch, capsys):
    monkeypatch.setenv("PIP_AUDIT", "skip")
    audit.main(audit.requirements)
    assert "SKIPPED (PIP_AUDIT=skip): the dependencies were NOT audited." in capsys.readouterr().err


def test_a_vulnerability_with_a_fix_fails(audit, monkeypatch, capsys):
    pip_audit_answers(audit, monkeypatch, [
        {"name": "django", "version": "5.2.8", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.9"]}]},
        {"name": "requests", "version": "2.34.2", "vulns": []},
    ])
    with pytest.raises(SystemExit):
        audit.main(audit.requirements)
    assert "django==5.2.8 PYSEC-1 (fixed in 5.2.9)" in capsys.readouterr().err


def test_a_vulnerability_without_a_fix_is_reported_but_passes(audit, monkeypatch, capsys):
    pip_audit_answers(audit, monkeypatch, [
        {"name": "django", "version": "5.2.8", "vulns": [{"id": "PYSEC-2", "fix_versions": []}]},
    ])
    audit.main(audit.requirements)
    out = capsys.readouterr()
    assert "known vulnerability without a fixed version yet: django==5.2.8 PYSEC-2" in out.err
    assert "1 pinned packages audited, no vulnerability with a fix." in out.out


def test_a_package_pip_audit_skipped_fails(audit, monkeypatch, capsys):
    pip_audit_answers(audit, monkeypatch, [{"name": "django", "skip_reason": "Dependency not found on PyPI"}])
    with pytest.raises(SystemExit):
        audit.main(audit.requirements)
    assert "django was not audited: Dependency not found on PyPI" in capsys.readouterr().err


def test_when_reachable_goes_on_loudly_offline_and_still_fails_on_a_fixable_vulnerability(audit, monkeypatch, capsys):
    monkeypatch.setenv("PIP_AUDIT", "when-reachable")
    monkeypatch.setattr(audit, "reachable", lambda name, version: (False, "HTTP Error 404: Not Found"))
    audit.main(audit.requirements)
    assert "NOT AUDITED" in capsys.readouterr().err

    pip_audit_answers(audit, monkeypatch, [
        {"name": "django", "version": "5.2.8", "vulns": [{"id": "PYSEC-X", "fix_versions": ["5.2.9"]}]},
    ])
    with pytest.raises(SystemExit):
        audit.main(audit.requirements)
