"""ami/wsgi.py: a worker loads the whole site as it starts, not during its first request."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, sys; import ami.wsgi; from django.db import connections; "
    "print(json.dumps({'views': [m for m in ('applications.views', 'jury.views.report', 'jury.views.reviewer') "
    "if m in sys.modules], 'connected': any(c.connection is not None for c in connections.all())}))"
)


def test_importing_the_wsgi_application_loads_every_view_without_touching_the_database():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "DEBUG": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"views": ["applications.views", "jury.views.report", "jury.views.reviewer"], "connected": False}
