# HW1 report pipeline. `make` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3            # used once, to create the virtual environment
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto              # smoke | quick | full | auto (full with CUDA, else quick)
PARAMS ?=                    # extra settings for the notebooks, e.g. PARAMS="-p epochs 50 -p seeds 1"

# Notebooks run JOBS at a time, each kernel with THREADS = cores / JOBS CPU threads. The models are
# small: a second notebook beside one gains more than a second thread inside it (quick report on 2
# cores, measured at an earlier revision: 2.0 min with JOBS=2, 2.9 min with JOBS=1). JOBS=1 runs them one
# after another. A GPU box gets the same default: how many notebooks share one GPU best is not measured yet.
# nproc without the OpenMP variables, which it would obey: OMP_NUM_THREADS=1 in the shell must not turn JOBS to 1
NPROC := $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
JOBS ?= $(if $(filter 1,$(NPROC)),1,2)
ifneq ($(shell [ "$(strip $(JOBS))" -ge 1 ] 2>/dev/null && echo ok),ok)
$(error JOBS=$(strip $(JOBS)) is not allowed: use a whole number ≥ 1 (e.g. make report JOBS=1))
endif
THREADS ?= $(shell n=$$(( $(NPROC) / $(JOBS) )); echo $$(( n > 0 ? n : 1 )))
ifneq ($(shell [ "$(strip $(THREADS))" -ge 1 ] 2>/dev/null && echo ok),ok)
$(error THREADS=$(strip $(THREADS)) is not allowed: use a whole number ≥ 1 (e.g. make report THREADS=2))
endif
MAKEFLAGS += -j$(strip $(JOBS))
ifneq ($(filter clean distclean,$(MAKECMDGOALS)),)
.NOTPARALLEL:  # `make clean report` must clean first, not while the notebooks run
endif

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
SETTINGS := report/.stamp-settings
# Started most expensive first, so the two slots finish close together instead of one running a long notebook
# alone at the end: by each notebook's wall time in the last build of the same profile on this machine
# (report/.timings/, hwlib/pipeline/timings.py), so the full profile is not scheduled by the quick profile's
# timings. Never-timed notebooks go first, in the written order below (the quick profile's order on 2 cores).
# 1-3d's trained models are a product of their own rule (below), started first (the report's first
# prerequisite), which 1-3c, 1-3d and 1-3e wait for in make, not in a job slot. Make passes a notebook whose
# product is still running and comes back to it only after the whole list, so 1-3c and 1-3e (long) stand third
# and fourth: by the time a slot frees after 1-1a and 1-3b have started, the models are trained. 1-3d (short)
# may run late.
LONGEST_FIRST := 1_1a_simulate_function 1_3b_parameters_vs_generalization 1_3c_interpolation 1_3e_sharpness \
                 1_2c_minimal_ratio 1_1b_actual_task 1_3a_random_labels 1_3d_sensitivity 1_2b_gradient_norm \
                 1_2d_error_surface 1_2a_optimization_process
NAMES := $(patsubst notebooks/%.ipynb,%,$(NOTEBOOKS))
# the profile this build runs: PROFILE, or for auto what the last settings check resolved it to on this machine
RUN_PROFILE := $(or $(filter-out auto,$(strip $(PROFILE))),$(patsubst profile=%,%,$(firstword $(file <$(SETTINGS)))))
ORDER := $(if $(RUN_PROFILE),$(shell test -x $(PY) && $(PY) -m hwlib.pipeline.timings order --profile $(RUN_PROFILE) \
           $(filter $(NAMES),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(NAMES)) 2>/dev/null))
EXECUTED := $(patsubst %,report/executed/%.ipynb,$(or $(ORDER),$(filter $(NAMES),$(LONGEST_FIRST)) \
              $(filter-out $(LONGEST_FIRST),$(NAMES))))
CORE := $(wildcard hwlib/*.py hwlib/tasks/*.py)
INSTALLED := $(VENV)/.installed

# notebooks/1_3c_interpolation.ipynb runs hwlib/tasks/t1_3c_interpolation.py
task_of = $(wildcard hwlib/tasks/t$(1).py)

.PHONY: help venv lock reference report html pdf notebooks checkers check-report lint test test-fast bench kernel lab clean \
        distclean FORCE

help: ## list the targets
	@echo "HW1 report — targets (PROFILE=$(strip $(PROFILE)), JOBS=$(strip $(JOBS)) notebooks at a time with THREADS=$(strip $(THREADS)); override with PROFILE=smoke|quick|full):"
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

# The environment comes from requirements.lock: exact versions with their hashes, made by `make lock` from
# pyproject.toml (which stays the one list of direct dependencies, with ranges). The lock covers the platform
# the project is tested on, Linux x86_64 with CPython 3.11; elsewhere, or with LOCK= given, pip resolves
# pyproject.toml's ranges instead and says so (the report's title page then shows which packages differ).
LOCK ?= requirements.lock
LOCK_PLATFORM := Linux x86_64 3.11
$(INSTALLED): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed: run make with PYTHON=python3.x")'
	@test -x $(PY) || { echo "creating the environment in $(VENV)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	@here=$$($(PY) -c 'import platform, sys; print(platform.system(), platform.machine(), "%d.%d" % sys.version_info[:2])'); \
	if [ -n "$(LOCK)" ] && [ "$$here" = "$(LOCK_PLATFORM)" ]; then \
	  echo "installing the locked versions ($(LOCK), hashes checked)"; \
	  set -x; $(PY) -m pip install --quiet --require-hashes -r $(LOCK); \
	  $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	else \
	  echo "$(if $(LOCK),$(LOCK) covers $(LOCK_PLATFORM); this is $$here,LOCK is empty): installing from pyproject.toml's ranges (newest versions, not the tested ones)"; \
	  set -x; $(PY) -m pip install --quiet -e '.[dev]'; \
	fi
	@touch $@

venv: $(INSTALLED) ## create or update the Python environment in .venv

# Refresh the lock after editing pyproject.toml's dependencies: pins already in the lock are kept where they still
# fit (only what changed is resolved); UPGRADE=1 moves every package to the newest version the ranges allow.
# pip-tools runs in a venv of its own, so the project's environment holds only what the lock lists.
LOCK_TOOL := .venv-lock
UPGRADE ?=
lock: ## refresh requirements.lock from pyproject.toml (UPGRADE=1: newest versions within its ranges)
	@test -x $(LOCK_TOOL)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/pip install --quiet pip-tools; }
	$(LOCK_TOOL)/bin/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file requirements.lock pyproject.toml
	@$(LOCK_TOOL)/bin/python -m hwlib.environment stamp requirements.lock
	@echo "requirements.lock refreshed: git diff requirements.lock shows what moved"

# The settings check (every notebook's settings validated, seconds of Python) runs when PROFILE or PARAMS
# differ from the last successful check's, or the stamp is missing; it rewrites the stamp only when the
# resolved settings changed. Deciding this here, not in a recipe, lets `make -n report` list exactly the
# notebooks that would run.
SETTINGS_KEY := $(strip $(PROFILE)) $(strip $(PARAMS))
ifneq ($(SETTINGS_KEY),$(file <$(SETTINGS).key))
$(SETTINGS): FORCE
endif
# a full build checks every time: the check says up front when it will run on a CPU, and what that costs
ifeq ($(strip $(PROFILE)),full)
$(SETTINGS): FORCE
endif
$(SETTINGS): export SETTINGS_KEY := $(SETTINGS_KEY)
$(SETTINGS): | $(INSTALLED)
	@$(PY) -m hwlib.pipeline.runner check --profile $(strip $(PROFILE)) $(PARAMS) --stamp $@ --jobs $(strip $(JOBS))
	@printf '%s\n' "$$SETTINGS_KEY" > $@.key

# After its first run a notebook depends on exactly the hwlib files its code imports, listed by the runner in
# report/.deps/<name>.d (hwlib/sources.py): editing a figure reruns the notebooks that draw it, editing the
# PDF printer or the template reruns none. Before that (no .d yet) it depends on every hwlib file.
deps_of = $(if $(wildcard report/.deps/$(1).d),,$(CORE) $(call task_of,$(1)))

.SECONDEXPANSION:
report/executed/%.ipynb: notebooks/%.ipynb $$(call deps_of,$$*) $(SETTINGS) | $(INSTALLED)
	@$(PY) -m hwlib.pipeline.runner run $< $@ --profile $(strip $(PROFILE)) --threads $(strip $(THREADS)) $(PARAMS)


# 1-3d's trained models are a product of their own rule: 1-3d and 1-3e (which measure them) and 1-3c (which
# loads the ones its lines join) wait for it in make,
# so no job slot sits on a lock while they train, and the slots run the notebooks that need nothing meanwhile.
# It runs when the settings or an hwlib file 1-3d imports change (report/.deps/1_3d_models.d, every hwlib file
# before its first run); the stamp holds the models' cache key and is rewritten only when the key changed
# (models trained afresh): then, and only then, the three notebooks rerun because of it.
MODELS_1_3D := report/.products/1_3d_models
$(MODELS_1_3D): notebooks/1_3d_sensitivity.ipynb $$(if $$(wildcard report/.deps/1_3d_models.d),,$$(CORE)) $(SETTINGS) \
               | $(INSTALLED)
	@$(PY) -m hwlib.pipeline.runner product $< --profile $(strip $(PROFILE)) --threads $(strip $(THREADS)) $(PARAMS)
report/executed/1_3c_interpolation.ipynb report/executed/1_3d_sensitivity.ipynb report/executed/1_3e_sharpness.ipynb: \
  $(MODELS_1_3D)
# the report's first prerequisite, where the project has 1-3d's notebook
PRODUCTS := $(if $(filter 1_3d_sensitivity,$(NAMES)),$(MODELS_1_3D))

# written by the runner: the hwlib files each notebook imports
-include $(wildcard report/.deps/*.d)
# a file a .d still lists but that is gone (renamed or removed since): rerun that notebook, do not stop
hwlib/%.py: ;

notebooks: $(PRODUCTS) $(EXECUTED) ## execute the notebooks that changed (report/executed/)

report/report.html: $(PRODUCTS) $(EXECUTED) hwlib/pipeline/stitch.py hwlib/pipeline/summary.py $(wildcard hwlib/pipeline/template/*)
	@$(PY) -m hwlib.pipeline.stitch

html: report/report.html ## build report/report.html from the executed notebooks

report/report.pdf: report/report.html hwlib/pipeline/pdf.py
	@$(PY) -m hwlib.pipeline.pdf

pdf: report/report.pdf ## print report/report.html to report/report.pdf (needs a Chromium)

report: report/report.pdf ## run everything that changed: notebooks → report.html → report.pdf

# The report's outside checkers, from the npm registry at the versions package-lock.json pins (hashes checked):
# axe-core (accessibility rules, run in Chromium) and the Nu HTML Checker (vnu.jar, which runs on Java). npm ci
# runs no install scripts here: vnu-jar's only fetches a Java when none is found, and Java comes from the system.
CHECKERS := node_modules/.package-lock.json
$(CHECKERS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
checkers: $(CHECKERS) ## install the report's outside checkers (axe-core, the Nu HTML Checker) with npm
check-report: $(CHECKERS) | $(INSTALLED) ## check report/report.html with axe-core (in Chromium) and the Nu HTML Checker
	$(PY) -m hwlib.pipeline.checks

# The pinned numbers (tests/reference/): every number of the smoke profile's results and the quick profile's
# headlines, which tests/test_reference.py checks. Refresh them after a change meant to move them (a few minutes),
# then `git diff tests/reference` shows which moved, for the commit that moves them.
TASKS ?=  # e.g. TASKS=t1_2c_minimal_ratio: refresh that task's numbers only
reference: $(INSTALLED) ## refresh the pinned numbers in tests/reference/ (after a change meant to move them)
	PYTHONPATH=tests $(PY) -m support.reference refresh smoke $(TASKS)
	PYTHONPATH=tests $(PY) -m support.reference refresh quick $(TASKS)

lint: $(INSTALLED) ## check the code with ruff (pyflakes, pycodestyle, import order; settings in pyproject.toml)
	$(PY) -m ruff check hwlib tests bench

test: $(INSTALLED) ## run the test suite (includes executing every notebook with the smoke profile)
	$(PY) -m pytest

test-fast: $(INSTALLED) ## run the unit tests only (no notebooks, no PDF)
	$(PY) -m pytest -m "not slow"

bench: $(INSTALLED) ## run the benchmarks in bench/ (ratios measured side by side)
	@for b in bench/bench_*.py; do $(PY) $$b; done

kernel: $(INSTALLED) ## register the environment as the Jupyter kernel "HW1 (.venv)"
	$(PY) -m ipykernel install --user --name hw1 --display-name "HW1 (.venv)"

# extra JupyterLab options, e.g. LAB_ARGS="--no-browser --port=8890"; as root (a container, a GPU box)
# JupyterLab refuses to start without --allow-root, which is then added
LAB_ARGS ?=
lab: kernel ## open the notebooks in JupyterLab with that kernel (Run All runs a notebook with its profile)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean: ## remove generated outputs: report/ (executed notebooks, results, trained-model cache, report)
	rm -rf report
	@echo "removed report/ (it holds generated outputs only)"

distclean: clean ## also remove the Python environments (.venv, and .venv-lock of make lock) and node_modules
	rm -rf $(VENV) $(LOCK_TOOL) node_modules
