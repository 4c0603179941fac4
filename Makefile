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
# Also, when missing and apt-get can install them (else a warning, and the report still builds):
# Liberation Sans, the font the report is laid out for (livingmeta/report/textmetrics.py: its widths place
# the figures' text and the PDF's page numbers; without it the PDF falls back to a wider font),
# HarfBuzz-Subset, with which WeasyPrint subsets the PDF's fonts in C (fontTools otherwise: about half of
# the time of printing a report section), and pdftotext, with which tests read the PDF's text.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -qq -o Acquire::Retries=1 -o Acquire::http::Timeout=30
system-deps:
	@ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || { \
	  echo "Installing Pango for WeasyPrint (apt-get)"; \
	  $(APT_GET) update && $(APT_GET) install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }
	@wanted=""; \
	fc-list 2>/dev/null | grep -q 'Liberation Sans' || wanted="$$wanted fonts-liberation"; \
	ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || wanted="$$wanted libharfbuzz-subset0"; \
	command -v pdftotext >/dev/null || wanted="$$wanted poppler-utils"; \
	if [ -n "$$wanted" ]; then \
	  echo "Installing$$wanted (apt-get)"; \
	  { $(APT_GET) update && $(APT_GET) install -y $$wanted; } >/dev/null 2>&1 \
	    || echo "warning: could not install$$wanted: the PDF may use another font and print more slowly"; \
	fi

$(VENV)/.installed: pyproject.toml requirements.lock | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

clean-results:
	rm -rf results .snakemake
