# Every target creates .venv on first use, so a fresh clone needs only Python 3.11+.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres bench lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The Telegram bot when KCXF_TELEGRAM_TOKEN is set (environment or .env), else the terminal chat.
run: $(STAMP)
	$(BIN)/kcxf run

test: $(STAMP)
	$(BIN)/pytest -q

# The same suite on PostgreSQL: the tests create their own databases on that server and drop them at the end.
KCXF_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP)
	KCXF_TEST_DATABASE_URL=$(KCXF_TEST_DATABASE_URL) $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
