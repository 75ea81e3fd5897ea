# careapp: `make serve` runs the site, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
# Test processes: one per core (pytest-xdist); TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
FLASK := $(BIN)/flask --app careapp

.PHONY: serve test translations lint bench bench-booking bench-throughput bench-page-cost bench-instructions bench-scale bench-search-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed

translations: $(VENV)/.installed
	$(FLASK) translate compile

serve: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - --logger-class careapp.access_log.RedactingLogger 'careapp:create_app()'

test: $(VENV)/.installed-test translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=20

lint: $(VENV)/.installed-test
	$(BIN)/ruff check careapp tests bench migrations
	$(BIN)/ruff format --check careapp tests bench

bench: $(VENV)/.installed-test translations
	$(BIN)/python bench/search.py

# Needs the local PostgreSQL (see README): 200 concurrent HTTP bookings under gunicorn.
bench-booking: $(VENV)/.installed-test translations
	$(BIN)/python bench/booking.py

# Needs PostgreSQL and wrk (apt-get install wrk); uses Redis when REDIS_URL is set. ~10 minutes.
bench-throughput: $(VENV)/.installed-test translations
	$(BIN)/python bench/throughput.py

# Needs PostgreSQL: CPU time and statements of one request of each public page, in-process.
bench-page-cost: $(VENV)/.installed-test translations
	$(BIN)/python bench/page_cost.py

# Needs PostgreSQL and valgrind: instructions per request, the same whatever the machine's load.
bench-instructions: $(VENV)/.installed-test translations
	$(BIN)/python bench/instructions.py

# Needs PostgreSQL. SCALE_ARGS="--sizes 1000,10000 --sqlite-sizes ''" for a quick run.
bench-scale: $(VENV)/.installed-test translations
	$(BIN)/python bench/scale.py $(SCALE_ARGS)

# Needs PostgreSQL. SCALE_ARGS="--sizes 1000,10000 --sqlite-sizes ''" for a quick run.
bench-search-scale: $(VENV)/.installed-test translations
	$(BIN)/python bench/search_scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) instance/*.sqlite3* artifacts .pytest_cache
