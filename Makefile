# Set-up and the two everyday commands: `make demo` and `make test`.
# On a fresh Debian 12 machine (as root) they install Ceres and Eigen, create .venv,
# install the package into it and run.
VENV     ?= .venv
PYTHON   ?= python3
PY       := $(VENV)/bin/python
DEB_PKGS := libceres-dev libeigen3-dev
DEMO_OUT ?= demo_output

.PHONY: all deps venv install install-test demo test bench lint clean

all: test

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv: $(PY)

install: deps venv
	$(PY) -m pip install -q .

install-test: deps venv
	$(PY) -m pip install -q ".[test]"

demo: install
	$(PY) -m smplify.demo --output $(DEMO_OUT)

test: install-test
	$(PY) -m pytest -q

bench: deps venv
	$(PY) -m pip install -q ".[test,bench]"
	$(PY) benchmarks/bench_load.py
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_fit.py

lint: install-test
	$(PY) -m ruff check python tests benchmarks tools

clean:
	rm -rf build dist $(VENV) $(DEMO_OUT) *.egg-info
