# FormTrack: `make run` serves the platform, `make test` runs the whole suite, `make test-fast` its
# unit layer. All set up first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MODELS := $(VENV)/.models
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test test-fast lint format bench

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip check
	touch $@

$(MODELS): $(INSTALLED) scripts/install_models.sh
	bash scripts/install_models.sh
	touch $@

setup: $(INSTALLED) $(MODELS)

run: setup
	$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo > .demo.out && grep -v '^DEMO_' .demo.out
	@bash scripts/serve.sh "$$(sed -n 's/^DEMO_PUBLISHABLE_KEY=//p' .demo.out)" \
		"$$(sed -n 's/^DEMO_TOKEN=//p' .demo.out)" $(HOST) $(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Under a minute: everything but the `slow` tests (real servers and workers, MediaPipe on video,
# the whole-API fuzz, Chromium), which `make test` runs too.
test-fast: setup
	$(PY) -m pytest -m "not slow" -n auto $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks are never part of `make test`: they write docs/performance.md.
bench: setup
	$(PY) bench/all.py $(BENCH_ARGS)
