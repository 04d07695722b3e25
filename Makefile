# TorchCanvas: `make run` opens the demo, `make test` runs every check.

VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
# Where torch comes from. Empty: the CPU-only index on Linux machines without an NVIDIA driver
# (so they never download the multi-gigabyte CUDA build), PyPI everywhere else.
TORCH_INDEX ?=
CPU_INDEX := https://download.pytorch.org/whl/cpu
DEMO := examples/digits_cnn.json

.DEFAULT_GOAL := help
.PHONY: help install system-deps run test lint bench clean distclean

help:
	@echo "make install   create $(VENV) and install TorchCanvas with its dev tools"
	@echo "make run       show the demo project ($(DEMO))"
	@echo "make test      tests, layering contracts, lint"
	@echo "make lint      lint and layering contracts only"
	@echo "make bench     run every benchmark in bench/"
	@echo "make clean     remove caches and build output (keeps $(VENV))"
	@echo "make distclean clean, and remove $(VENV)"

install: $(STAMP) system-deps

# Re-runs only when pyproject.toml changes (or the venv was removed).
$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@$(PIP) install --quiet --upgrade pip \
		|| echo "could not upgrade pip; going on with $$($(PIP) --version)"
	@index="$(TORCH_INDEX)"; \
	if [ -z "$$index" ] && [ "$$(uname -s)" = Linux ] \
			&& ! command -v nvidia-smi >/dev/null 2>&1; then \
		index="$(CPU_INDEX)"; \
	fi; \
	if [ -n "$$index" ]; then \
		echo "installing torch==$(TORCH_VERSION) from $$index"; \
		$(PIP) install --quiet --index-url "$$index" torch==$(TORCH_VERSION); \
	else \
		echo "installing torch==$(TORCH_VERSION) from PyPI"; \
		$(PIP) install --quiet torch==$(TORCH_VERSION); \
	fi
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

# Optional system packages: graphviz lays out imported models, libxcb-cursor0 lets Qt open a
# window under X11. Missing them never fails the install.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="graphviz"; \
	ldconfig -p 2>/dev/null | grep -q libxcb-cursor.so.0 || missing="$$missing libxcb-cursor0"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $$missing with apt-get"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; } >/dev/null 2>&1 || true; \
	fi; \
	command -v dot >/dev/null 2>&1 \
		|| echo "graphviz not installed: diagrams use the built-in layout"; \
	ldconfig -p 2>/dev/null | grep -q libxcb-cursor.so.0 \
		|| echo "libxcb-cursor0 not installed: the desktop app cannot open a window under X11" \
			"(as root: apt-get install libxcb-cursor0)"; \
	true

run: install
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] \
			&& ! ldconfig -p 2>/dev/null | grep -q libxcb-cursor.so.0; then \
		echo "Qt's xcb platform plugin needs Debian's libxcb-cursor0 to open a window:"; \
		echo "    apt-get install libxcb-cursor0    (as root)"; \
	fi
	$(VENV)/bin/torchcanvas demo $(DEMO)

test: install
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	@set -e; for bench in bench/bench_*.py; do \
		echo "== $$bench"; \
		$(PYTHON) $$bench; \
	done

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
