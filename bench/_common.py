"""Helpers shared by the benchmarks: run from the repository root with .venv/bin/python bench/NAME.py."""

import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def machine():
    return {"python": platform.python_version(), "machine": platform.machine()}


def emit(result):
    """The last line of every benchmark's output: one JSON object."""
    print(json.dumps(result, ensure_ascii=False))
