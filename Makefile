# hdl_keras: `make demo` runs the main job, `make test` the tests. Both create or
# reuse .venv by themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= tensorflow,jax,torch,dev,docs
STAMP := $(VENV)/.hdl_keras-installed

# Offline datasets: the project's shared data folder (MNIST), then the loader's
# default search path (see hdl_keras/data).
export HDL_KERAS_DATA ?= $(abspath ../shared/data)
export KERAS_BACKEND ?= tensorflow
export TF_CPP_MIN_LOG_LEVEL ?= 2
export NO_MKDOCS_2_WARNING ?= 1
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist

.PHONY: help venv demo test test-default test-backends docs benchmarks fashion-mnist constraints clean

help:
	@echo "make demo   - train a small CNN on MNIST, attack it, print a table"
	@echo "make test   - docs build, full suite on $(KERAS_BACKEND) and the notebooks, backend suites on jax and torch"
	@echo "make docs   - build the documentation site (mkdocs --strict)"
	@echo "make benchmarks - backend check and cost ratios (prints JSON lines)"

venv: $(STAMP)

# Reinstalls only when pyproject.toml or constraints.txt change.
# torchattacks (the independent reference of the attack tests) goes in without its
# declared dependencies: it never imports torchvision, whose PyPI wheels do not match
# the CPU torch build (and would pull CUDA wheels).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m pip install --quiet --no-deps torchattacks==3.5.1
	@touch $@

# Fashion-MNIST comes from Debian's dataset-fashion-mnist package.
fashion-mnist:
	@if [ ! -f $(FASHION_MNIST_DIR)/train-images-idx3-ubyte.gz ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
	      || echo "warning: could not install dataset-fashion-mnist; Fashion-MNIST tests will skip"; \
	  else \
	    echo "note: Fashion-MNIST missing; install it with: sudo apt-get install dataset-fashion-mnist"; \
	  fi; \
	fi

demo: venv
	$(PY) -m hdl_keras.demo

docs: venv
	$(PY) -m mkdocs build --strict

# Docs first, so the test runners' summaries are the last lines printed.
test: venv fashion-mnist docs test-default test-backends

# The tutorial notebooks run under nbmake (outputs are not saved back); the
# holistic notebook at its tiny size (HDL_NOTEBOOK_TINY=1, under a minute).
NOTEBOOKS := notebooks/holistic.ipynb notebooks/quickstart.ipynb

test-default: venv
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q
	KERAS_BACKEND=tensorflow HDL_NOTEBOOK_TINY=1 $(PY) -m pytest -q --nbmake $(NOTEBOOKS)

test-backends: venv
	KERAS_BACKEND=jax $(PY) -m pytest -q -m backend_suite
	KERAS_BACKEND=torch $(PY) -m pytest -q -m backend_suite

benchmarks: venv
	$(PY) benchmarks/backend_check.py
	$(PY) benchmarks/backend_speed.py

constraints: venv
	$(PY) -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' > constraints.txt.new
	{ head -2 constraints.txt; cat constraints.txt.new; } > constraints.txt.tmp && rm constraints.txt.new && mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) site .pytest_cache
