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
.PHONY: help install system-deps run test fuzz mutate lint bench docs clean distclean

help:
	@echo "make install   create $(VENV) and install TorchCanvas with its dev tools"
	@echo "make run       show the demo project ($(DEMO))"
	@echo "make test      tests, layering contracts, lint"
	@echo "make fuzz      hostile project files against every command, many more examples"
	@echo "make mutate    plant known bugs one at a time and report those no test catches"
	@echo "make lint      lint and layering contracts only"
	@echo "make bench     run every benchmark in bench/"
	@echo "make docs      rebuild docs/gallery.md and docs/compare.md (trains 3 models: minutes)"
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
		$(PIP) install --quiet --timeout 5 --retries 0 --index-url "$$index" \
			torch==$(TORCH_VERSION) 2>/dev/null \
		|| { echo "$$index unreachable: installing torch==$(TORCH_VERSION) from pip's own index"; \
			$(PIP) install --quiet torch==$(TORCH_VERSION); }; \
	else \
		echo "installing torch==$(TORCH_VERSION) from PyPI"; \
		$(PIP) install --quiet torch==$(TORCH_VERSION); \
	fi
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

# Optional system packages: graphviz lays out imported models; Qt's X11 plugin (a real window)
# needs the xcb libraries below. Missing them never fails the install.
# soname:Debian package, for every library Qt's xcb platform plugin loads.
QT_X11_LIBS := libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
	libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-image.so.0:libxcb-image0 \
	libxcb-render-util.so.0:libxcb-render-util0 libxcb-randr.so.0:libxcb-randr0 \
	libxcb-shape.so.0:libxcb-shape0 libxcb-xkb.so.1:libxcb-xkb1 libxcb-sync.so.1:libxcb-sync1 \
	libxcb-xfixes.so.0:libxcb-xfixes0 libxcb-shm.so.0:libxcb-shm0 libxcb-util.so.1:libxcb-util1 \
	libxkbcommon-x11.so.0:libxkbcommon-x11-0 libX11-xcb.so.1:libx11-xcb1 libEGL.so.1:libegl1 \
	libGL.so.1:libgl1 libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3
# Prints the Debian packages whose libraries are missing (empty: a window can open).
MISSING_QT_X11 = for pair in $(QT_X11_LIBS); do \
		ldconfig -p 2>/dev/null | grep -q "$${pair%%:*}" || printf '%s ' "$${pair\#\#*:}"; \
	done

system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="graphviz"; \
	missing="$$missing $$($(MISSING_QT_X11))"; \
	if [ -n "$$(echo $$missing)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $$missing with apt-get"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; } >/dev/null 2>&1 || true; \
	fi; \
	command -v dot >/dev/null 2>&1 \
		|| echo "graphviz not installed: diagrams use the built-in layout"; \
	still="$$($(MISSING_QT_X11))"; \
	[ -z "$$still" ] || echo "Qt's X11 libraries missing: the desktop app cannot open a window" \
		"under X11 (as root: apt-get install $$still)"; \
	true

run: install
	@still="$$($(MISSING_QT_X11))"; \
	if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -n "$$still" ]; then \
		echo "Qt's xcb platform plugin needs these Debian packages to open a window:"; \
		echo "    apt-get install $$still    (as root)"; \
	fi
	$(VENV)/bin/torchcanvas demo $(DEMO)

# One test worker per core (pytest-xdist); each runs torch on one thread (tests/conftest.py).
test: install
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q -n auto
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

# The hostile-file tests of `make test` (tests/test_fuzz_files.py) with the long hypothesis
# profile: many more examples, fresh ones each run; a failure prints how to replay it.
fuzz: install
	TORCHCANVAS_FUZZ=long QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q \
		--hypothesis-show-statistics tests/test_fuzz_files.py

# Each bug of tests/mutation/mutants.py planted in a copy of the checkout; the report lists
# what the suite let through. Slow (minutes per survivor): not part of `make test`.
mutate: install
	$(PYTHON) -m tests.mutation.run $(MUTATE_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	@set -e; for bench in bench/bench_*.py; do \
		echo "== $$bench"; \
		$(PYTHON) $$bench; \
	done

# The gallery (diagrams, summaries, generated code of every example) and the comparison
# walkthrough, which trains three networks on CPU; its runs go to runs/walkthrough (ignored).
docs: install
	QT_QPA_PLATFORM=offscreen $(PYTHON) docs/build_gallery.py
	rm -rf runs/walkthrough
	$(PYTHON) docs/build_walkthrough.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
