# hdl_keras: `make demo` runs the main job, `make test` the tests. Both create or
# reuse .venv by themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= tensorflow,jax,torch,dev,docs,export
STAMP := $(VENV)/.hdl_keras-installed

# Offline datasets: the project's shared data folder (MNIST), then the loader's
# default search path (see hdl_keras/data).
export HDL_KERAS_DATA ?= $(abspath ../shared/data)
export KERAS_BACKEND ?= tensorflow
export TF_CPP_MIN_LOG_LEVEL ?= 2
export NO_MKDOCS_2_WARNING ?= 1
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist

.PHONY: help venv demo test test-default test-backends test-keras-oldest lint docs figures benchmarks fashion-mnist constraints clean zoo zoo-eval

help:
	@echo "make demo   - evaluate the flagship zoo entry (ships in zoo/) with the attack suite, compare with the papers"
	@echo "make test   - docs build, full suite on $(KERAS_BACKEND) and the notebooks, backend suites on jax and torch"
	@echo "make docs   - build the documentation site (mkdocs --strict)"
	@echo "make lint   - ruff check, ruff format --check and the import-linter contracts (the package's floors)"
	@echo "make figures - regenerate the documentation's figures and the landing page's output (minutes)"
	@echo "make benchmarks - backend check and cost ratios (prints JSON lines)"
	@echo "make zoo    - retrain and re-evaluate every zoo entry from its recipe (long: about an hour on 2 cores)"
	@echo "make zoo-eval - re-evaluate every shipped entry (AutoAttack on images; long: hours on 2 cores)"

venv: $(STAMP)

# Reinstalls only when pyproject.toml or constraints.txt change.
# torchattacks (the independent reference of the attack tests) goes in without its
# declared dependencies: it never imports torchvision, whose PyPI wheels do not match
# the CPU torch build (and would pull CUDA wheels). pyautoattack is Croce & Hein's
# AutoAttack (fra31/auto-attack) packaged on PyPI, the reference of the AutoAttack
# agreement test and benchmark; it declares no dependencies (it needs torch only).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(PY) -m pip install --quiet --no-deps torchattacks==3.5.1
	$(PY) -m pip install --quiet --no-deps pyautoattack==0.2.0
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

# The zoo's flagship entry, evaluated with FGSM and PGD-20 on 1000 MNIST test images (no network:
# the weights ship in zoo/), then compared with its siblings and the papers' values.
# `hdl-zoo eval NAME` alone runs the standard AutoAttack (about 5 minutes per 100 images on 2 cores).
DEMO_ENTRY ?= mnist-small_cnn-pgd_at
DEMO_COMPARE ?= mnist-small_cnn-dl mnist-small_cnn-robust mnist-small_cnn-hdl mnist-small_cnn-pgd_at

demo: venv
	$(PY) -m hdl_keras.zoo list
	$(PY) -m hdl_keras.zoo eval $(DEMO_ENTRY) --attacks standard --n 1000
	$(PY) -m hdl_keras.zoo compare $(DEMO_COMPARE)

# Every entry from its recipe: train, then evaluate and write the card's metrics.
ZOO_ENTRIES = $(shell $(PY) -c "from hdl_keras.recipes.zoo_entries import ENTRY_RECIPES; print(' '.join(ENTRY_RECIPES))" 2>/dev/null)

zoo: venv
	@for name in $(ZOO_ENTRIES); do \
	  $(PY) -m hdl_keras.zoo train $$name && \
	  $(PY) -m hdl_keras.zoo eval $$name --n 1000 --update-card || exit 1; \
	done
	$(PY) docs/scripts/zoo_page.py
	$(PY) docs/scripts/leaderboard.py

# Re-evaluates every shipped entry (packed ones included) without retraining: AutoAttack for
# image entries, FGSM and PGD-20 for tables (the hdl-zoo eval defaults). Long: hours on 2 cores.
zoo-eval: venv
	@for name in $$(ls zoo); do \
	  test -f zoo/$$name/card.json || continue; \
	  $(PY) -m hdl_keras.zoo eval $$name --n 1000 --update-card || exit 1; \
	done
	$(PY) docs/scripts/zoo_page.py
	$(PY) docs/scripts/leaderboard.py

docs: venv
	$(PY) -m mkdocs build --strict

# Figures from the zoo models, cards and saved results (docs/scripts/figures.py), the landing
# page's example output, then the site screenshots (skipped without chromium).
figures: venv
	$(PY) docs/scripts/figures.py
	$(PY) docs/scripts/landing.py
	-$(PY) docs/scripts/screenshots.py

# Lint and docs first, so the test runners' summaries are the last lines printed.
test: venv fashion-mnist lint docs test-default test-backends test-keras-oldest

# ruff (rules in pyproject.toml) and the layered import contract of pyproject.toml's
# [tool.importlinter]: no module imports from a floor above its own.
lint: venv
	$(VENV)/bin/ruff check hdl_keras hdl_keras_cli tests benchmarks docs/scripts
	$(VENV)/bin/ruff format --check hdl_keras hdl_keras_cli tests benchmarks docs/scripts
	$(VENV)/bin/lint-imports

# The oldest Keras that pyproject.toml claims (keras>=3.14), installed beside the venv's newest,
# on the tests of the private-Keras access (hdl_keras/utils/graph.py), the layer surgery and the
# public API (registration and .keras round trips).
KERAS_OLDEST = 3.14.1
test-keras-oldest: venv
	$(VENV)/bin/pip install --quiet --upgrade --no-deps --target .keras-oldest keras==$(KERAS_OLDEST)
	PYTHONPATH=.keras-oldest $(PY) -c "import keras; assert keras.__version__ == '$(KERAS_OLDEST)', keras.__version__"
	PYTHONPATH=.keras-oldest $(PY) -m pytest -q -p no:cacheprovider tests/utils tests/test_public_api.py

# The tutorial notebooks run under nbmake at their reduced size (HDL_KERAS_TUTORIAL_SIZE=ci;
# outputs are not saved back: the committed outputs come from the full-size run, checked by
# tests/test_notebooks_saved.py).
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

test-default: venv
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q
	KERAS_BACKEND=tensorflow HDL_KERAS_TUTORIAL_SIZE=ci $(PY) -m pytest -q --nbmake $(NOTEBOOKS)

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
