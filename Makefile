# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install translations messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile -d reviewmech/translations --statistics

# Links in e-mails point at the address `make run` serves (REVIEWMECH_BASE_URL, when set, wins):
# never at a request's Host header, which anyone can forge.
RUN_BASE_URL = $(or $(REVIEWMECH_BASE_URL),http://$(HOST):$(PORT))

run: install
	$(BIN)/reviewmech db upgrade
	$(BIN)/reviewmech questionnaires load questionnaires
	REVIEWMECH_BASE_URL=$(RUN_BASE_URL) $(BIN)/reviewmech demo
	@echo "Serving http://$(HOST):$(PORT); e-mail links point at $(RUN_BASE_URL)."
	REVIEWMECH_BASE_URL=$(RUN_BASE_URL) $(BIN)/reviewmech run --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

# The suite runs on every core (pytest-xdist).
test: install lint
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

# Extract user-facing strings and update the catalogs (developers).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o reviewmech/translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i reviewmech/translations/messages.pot -d reviewmech/translations --ignore-obsolete --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
