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

# The suite runs in TEST_WORKERS processes (pytest-xdist; logical: one per CPU), each test file whole in one of
# them: its module fixtures are built once and its tests keep their order. On 2 cores, 2 workers took 340 s and
# 3 workers 396 s (the suite is CPU-bound: its subprocesses use the cores a waiting worker leaves). Files go
# out in collection order (--no-loadscope-reorder): xdist's default sends the files with most tests first, so
# one-test files such as the 70 s test_many_applicants came last and one worker idled 40 s at the end.
# `make test TEST_WORKERS=0` runs it in one process, as plain `pytest tests/x.py` (no -n) does.
TEST_WORKERS ?= logical
# --durations: the slowest tests are named at the end of every run (CI's log shows where its minutes go).
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

test: $(STAMP)
	$(PYTEST)

# The same suite on PostgreSQL: the tests create their own databases on that server and drop them at the end.
# Left out there: files whose outcome does not depend on the database (field validation tables, form rendering,
# the answerer's retrieval and wording, the docs, the browser runs, whose pages the ASGI tests exercise on
# PostgreSQL too, and the route × role permission table, which the database only seeds). They ran on SQLite
# already; on 2 cores they were over a third of CI's time for no added check. Also left out: the files that run
# on the same database whatever KCXF_TEST_DATABASE_URL says, so that the second run repeated the first exactly:
# tests/privacy (SQLite always, tests/privacy/conftest.py says why), the two webhook workers (a scratch
# PostgreSQL database of their own always, tests/scratch_pg.py), and the bot killed and restarted, the live
# knowledge base and the inbox, whose runtimes and `kcxf` subprocesses use the SQLite file in their data folder.
KCXF_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
PG_SAME_AS_SQLITE := tests/config tests/test_docs.py tests/intake/test_validate.py tests/intake/test_forms.py \
	tests/intake/test_properties.py tests/intake/test_render.py tests/intake/test_render_worker.py \
	tests/knowledge/test_question.py tests/knowledge/test_tokens.py tests/knowledge/test_embeddings.py \
	tests/knowledge/test_retrieve.py tests/knowledge/test_answer.py tests/knowledge/test_generate.py \
	tests/knowledge/test_chroma_processes.py tests/knowledge/test_ingest_index.py tests/knowledge/test_outages.py \
	tests/console/test_browser.py tests/console/test_knowledge_browser.py tests/console/test_feedback_browser.py \
	tests/judging/test_browser.py tests/console/test_routes.py tests/console/test_webchat_browser.py \
	tests/editions/test_check.py tests/privacy tests/bot/test_workers.py tests/bot/test_crash.py \
	tests/knowledge/test_live.py tests/knowledge/test_inbox.py
test-postgres: $(STAMP)
	KCXF_TEST_DATABASE_URL=$(KCXF_TEST_DATABASE_URL) $(PYTEST) $(addprefix --ignore=,$(PG_SAME_AS_SQLITE))

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
