# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check venv system-packages lint messages clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

system-packages:
	sh scripts/system-packages.sh

test: venv check system-packages
	mkdir -p var
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# Static checks (issue 8), first in `make test`: lint, no high-severity bandit finding, no known vulnerability with a
# fix in the pins (fails when PyPI cannot be reached; PIP_AUDIT=skip skips it knowingly), template lint.
check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -c pyproject.toml -r ami applications jury --severity-level high --quiet
	$(PY) scripts/audit_dependencies.py requirements.txt
	$(VENV)/bin/djlint templates --lint

messages: venv
	DEBUG=1 $(PY) manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=var --ignore=bench
	DEBUG=1 $(PY) manage.py makemessages -d djangojs -l en --no-obsolete --ignore=.venv --ignore=var --ignore=staticfiles
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles
