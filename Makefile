# The two promises of the README: `make run` and `make test`, from a machine with only
# python3 and make. Everything else is installed into .tools (uv) and .venv (the project).
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON := python3.11
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check bench clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/bin/jifen: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

run: .venv/bin/jifen
	@mkdir -p var
	.venv/bin/jifen migrate --no-input
	.venv/bin/jifen demo load --if-empty
	@# A background worker beside the web server (scores recomputed after feed imports).
	@.venv/bin/jifen worker > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "jifen is running at http://$(HOST):$(PORT)/  (Ctrl-C to stop; demo accounts in README.md)"; \
	.venv/bin/jifen runserver --noreload $(HOST):$(PORT)

test: .venv/bin/jifen
	.venv/bin/pytest -q -p no:cacheprovider

lint: .venv/bin/jifen
	@mkdir -p var
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/jifen makemigrations --check --dry-run

bench: .venv/bin/jifen
	.venv/bin/python bench/engine.py

clean:
	rm -rf .venv .tools var
