# The two commands of README.md: `make run` (the example review -> reports/latest/) and `make test`.
# Both create the virtual environment from pinned versions first (pyproject.toml + requirements.lock).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: run test bench clean-results system-deps

run: $(VENV)/.installed
	$(BIN)/livingmeta run --cores $(CORES)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(VENV)/.installed
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# WeasyPrint renders through Pango; Debian-based machines have it, install it when missing (needs root).
system-deps:
	@ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || { \
	  echo "Installing Pango for WeasyPrint (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }

$(VENV)/.installed: pyproject.toml requirements.lock | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

clean-results:
	rm -rf results .snakemake
