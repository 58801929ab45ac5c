# oneclick-report — the two commands: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PERIOD ?= 2026-10
LANG_  ?= ru
OUT    ?= out/sample

.PHONY: report test install sysdeps bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## System packages the PDF checks use (poppler's pdftotext/pdftoppm); installed only when missing.
sysdeps:
	@command -v pdftotext >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq >/dev/null && apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "note: poppler-utils (pdftotext) missing; PDF text tests will be skipped"; fi; }

## Build the report from the embedded synthetic sample (data/sample) into out/sample/.
report: $(STAMP)
	$(BIN)/oneclick-report build --data data/sample --out $(OUT) --period $(PERIOD) --lang $(LANG_)

## Run the test suite.
test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q

## Benchmarks: every stage on the real data and on synthetic 10k/100k/1M customers.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf out .pytest_cache
