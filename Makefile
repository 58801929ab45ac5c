# oneclick-report — the two commands: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PERIOD ?= 2026-10
LANG_  ?= ru
OUT    ?= out/sample

.PHONY: report test lint install sysdeps bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## System packages: poppler-utils (pdftotext/pdftoppm for the PDF checks), DejaVu fonts (Cyrillic),
## HarfBuzz's subsetter (WeasyPrint subsets fonts ~1 s faster with it) and Debian's chromium (the HTML
## layout test drives /usr/bin/chromium with Playwright; no downloaded browser) and Debian's postgresql
## (the PostgreSQL source's tests start their own server from its initdb/pg_ctl in a temporary folder).
## Installed only when missing, as root.
SYSPKGS := poppler-utils fonts-dejavu-core libharfbuzz-subset0 chromium postgresql
sysdeps:
	@missing=$$(for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $$missing"; apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing $$missing; PDF text tests may be skipped"; fi; fi

## Build the report from the embedded synthetic sample (data/sample) into out/sample/.
report: $(STAMP) sysdeps
	$(BIN)/oneclick-report build --data data/sample --out $(OUT) --period $(PERIOD) --lang $(LANG_)

## Run the test suite.
test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q

## Lint: ruff over the whole tree and mypy (strict) over analysis/ and report/, both configured in
## pyproject.toml. CI runs it before the tests; .pre-commit-config.yaml runs the same two tools.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Benchmarks: every stage on the real data and on synthetic 10k/100k/1M customers; ten million
## (3.5 GB of CSV, generated into ../bigdata outside the repository) on request:
## make bench BENCH_SIZES=real,10k,100k,1m,10m
BENCH_SIZES ?= real,10k,100k,1m
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --sizes $(BENCH_SIZES)

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
