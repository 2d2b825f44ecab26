# herdtrap developer commands. See docs/DEVELOPING.md.
#
#   make setup   create .venv (Python 3.12), install herdtrap with all extras,
#                install SolaraViz's offline front-end asset; fast when done
#   make test    run the test suite (pytest; browser tests need /usr/bin/chromium)
#   make demo    run `herdtrap demo`
#   make bench   run the model benchmark
#   make lint    ruff check
#
# Variables: PYTHON=/path/to/python3.12 (else python3.12 on PATH, else pyenv's 3.12.x),
#            VENV=.venv, PYTEST_ARGS="-k smoke -x" (extra pytest arguments).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.herdtrap-setup
EXTRAS := app,dask,discovery,fit,test
PYTEST_ARGS ?=
# What setup depends on: when the content of any of these changes, setup reruns.
SETUP_INPUTS := pyproject.toml experiments/install_app_assets.py

.PHONY: help setup test demo bench bench-batch lint clean-venv

help:
	@sed -n '1,11p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@want="$$(cat $(SETUP_INPUTS) | sha256sum | cut -d' ' -f1) extras=$(EXTRAS)"
	if [ -x "$(PY)" ] && [ -f "$(STAMP)" ] && [ "$$(cat "$(STAMP)")" = "$$want" ] \
	   && "$(PY)" experiments/install_app_assets.py --check >/dev/null 2>&1; then
	  echo "setup: $(VENV) is up to date"; exit 0
	fi
	# --- find a Python 3.12 ---------------------------------------------------
	is312() { "$$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }
	python=""
	for cand in $(PYTHON) python3.12; do
	  if command -v "$$cand" >/dev/null 2>&1 && is312 "$$cand"; then
	    python="$$("$$cand" -c 'import sys; print(sys.executable)')"; break
	  fi
	done
	if [ -z "$$python" ]; then
	  roots=""
	  if command -v pyenv >/dev/null 2>&1; then roots="$$(pyenv root)"; fi
	  roots="$$roots $${PYENV_ROOT:-$$HOME/.pyenv}"
	  for root in $$roots; do
	    for cand in $$(ls -d "$$root"/versions/3.12* 2>/dev/null | sort -V -r); do
	      if is312 "$$cand/bin/python3.12"; then python="$$cand/bin/python3.12"; break 2; fi
	    done
	  done
	fi
	if [ -z "$$python" ]; then
	  echo "setup: no Python 3.12 found. herdtrap needs Python 3.12 (Mesa >= 3.4 requires it)." >&2
	  echo "       Install it (e.g. 'pyenv install 3.12'), put python3.12 on PATH," >&2
	  echo "       or run: make setup PYTHON=/path/to/python3.12" >&2
	  exit 1
	fi
	echo "setup: using $$python ($$("$$python" --version))"
	# --- (re)create the venv if missing or not 3.12 --------------------------
	if [ -x "$(PY)" ] && ! is312 "$(PY)"; then
	  echo "setup: $(VENV) is not Python 3.12; recreating it"; rm -rf "$(VENV)"
	fi
	if [ ! -x "$(PY)" ]; then "$$python" -m venv "$(VENV)"; fi
	rm -f "$(STAMP)"
	export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
	"$(PY)" -m pip install --quiet --upgrade pip
	"$(PY)" -m pip install --quiet -e ".[$(EXTRAS)]"
	# --- SolaraViz's grid asset for offline use (docs/DEVELOPING.md) ---------
	"$(PY)" experiments/install_app_assets.py
	echo "$$want" > "$(STAMP)"
	echo "setup: done ($(VENV))"

# pytest exit code 5 (no tests collected) fails like any other non-zero code.
test: setup
	@echo "+ $(PY) -m pytest $(PYTEST_ARGS)"
	"$(PY)" -m pytest $(PYTEST_ARGS) || { rc=$$?
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi
	  exit $$rc; }

demo: setup
	"$(VENV)/bin/herdtrap" demo

bench: setup
	"$(PY)" benchmarks/bench_model.py
	"$(PY)" benchmarks/bench_app.py

bench-batch: setup
	"$(PY)" benchmarks/bench_batch.py

lint: setup
	"$(VENV)/bin/ruff" check .

clean-venv:
	rm -rf "$(VENV)"
