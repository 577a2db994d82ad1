# arpulse developer tasks. Everything runs from the repo-local .venv, which
# `make venv` builds (and rebuilds whenever pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

ARGS ?=
PYTEST_ARGS ?=

# Playwright (the browser test's driver) uses Debian's chromium and never fetches a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: venv run test test-scale-out test-rocksdb lint schemas clean system-redis system-promtool system-chromium system-openssl

venv: $(STAMP)

# System programs from Debian's packages: redis-server (the demo and the tests start their own
# server on a free port), promtool (the tests check the Prometheus rules) and chromium (the
# collector's page is tested in a real browser, driven by Playwright), openssl (the TLS tests'
# certificates). Installed with
# apt-get when missing and running as root; otherwise the message says what to install.
# $(call deb_package,COMMAND,PACKAGE)
define deb_package
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make: $(1) is missing; install Debian's package: sudo apt-get install -y $(2)" >&2; exit 1; fi; \
	  echo "installing Debian's package $(2) (for $(1))"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(2) >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $(2); } \
	    || { echo "make: 'apt-get install $(2)' failed (see above); install it by hand" >&2; exit 1; }; \
	  command -v $(1) >/dev/null 2>&1 || { echo "make: $(2) is installed but $(1) is not on PATH" >&2; exit 1; }; }
endef

system-redis:
	$(call deb_package,redis-server,redis-server)

system-promtool:
	$(call deb_package,promtool,prometheus)

# The TLS tests make their certificates with it.
system-openssl:
	$(call deb_package,openssl,openssl)

# Playwright drives this browser; it never downloads one of its own.
system-chromium:
	$(call deb_package,/usr/bin/chromium,chromium chromium-driver)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null || { \
	  echo "make venv: arpulse needs Python 3.11 or 3.12 as '$(PYTHON)'; install it or run: make venv PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "make venv: '$(PYTHON)' lacks the venv module; on Debian/Ubuntu run: apt-get install python3-venv" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); } || { \
	  echo "make venv: '$(PYTHON) -m venv $(VENV)' failed; remove $(VENV) and retry" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { \
	  echo "make venv: upgrading pip failed (network or index problem?)" >&2; exit 1; }
	$(BIN)/python -m pip install -e '.[dev]' || { \
	  echo "make venv: 'pip install -e .[dev]' failed; see pip's output above" >&2; exit 1; }
	@touch $@

run: venv system-redis
	$(BIN)/arpulse demo $(ARGS) || { echo "make run: 'arpulse demo $(ARGS)' failed" >&2; exit 1; }

test: venv system-redis system-promtool system-chromium system-openssl
	$(BIN)/ruff check . || { echo "make test: ruff found problems (try: $(BIN)/ruff check --fix .)" >&2; exit 1; }
	$(BIN)/mypy || { echo "make test: mypy found type errors" >&2; exit 1; }
	$(BIN)/lint-imports --no-cache || { echo "make test: an import breaks a layer rule (docs/architecture.md)" >&2; exit 1; }
	$(BIN)/python -m pytest -W error -m "not rocksdb_reliability" $(PYTEST_ARGS) || { \
	  rc=$$?; echo "make test: pytest failed (exit $$rc); see the report above" >&2; exit $$rc; }

# The crash and scale-out runs on the RocksDB table store (`make test` runs them on memory and
# leaves these two minutes out, to stay under ten).
test-rocksdb: venv system-redis
	$(BIN)/python -m pytest -W error -m rocksdb_reliability tests/integration || { \
	  rc=$$?; echo "make test-rocksdb: the RocksDB reliability runs failed (exit $$rc); see the report above" >&2; exit $$rc; }

lint: venv
	$(BIN)/ruff check . || { echo "make lint: ruff found problems (try: $(BIN)/ruff check --fix .)" >&2; exit 1; }
	$(BIN)/mypy || { echo "make lint: mypy found type errors" >&2; exit 1; }
	$(BIN)/lint-imports --no-cache || { echo "make lint: an import breaks a layer rule (docs/architecture.md)" >&2; exit 1; }

# The scale-out run alone (it is part of `make test` too), e.g. to repeat it after a change.
test-scale-out: venv system-redis
	$(BIN)/python -m pytest -W error -m scale_out tests/integration/test_scale_out.py || { \
	  rc=$$?; echo "make test-scale-out: the scale-out run failed (exit $$rc); see the report above" >&2; exit $$rc; }

schemas: venv
	$(BIN)/arpulse schemas export || { echo "make schemas: 'arpulse schemas export' failed" >&2; exit 1; }

# `make soak [MINUTES=10] [SOAK_ARGS="--rate 120 --customers 5000"]`: one worker under sustained
# load for MINUTES; writes build/soak/soak.json and soak.png (tools/soak/run.py says how to read them).
PERF_STAMP := $(VENV)/.perf-installed
MINUTES ?= 10
SOAK_ARGS ?=

.PHONY: soak

$(PERF_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,perf]' || { \
	  echo "make: installing the perf extra (matplotlib) failed; see pip's output above" >&2; exit 1; }
	@touch $@

soak: venv $(PERF_STAMP)
	$(BIN)/python -m tools.soak --minutes $(MINUTES) $(SOAK_ARGS) || { \
	  rc=$$?; echo "make soak: the soak failed (exit $$rc); see the verdicts above and build/soak/" >&2; exit $$rc; }

# `make bench [RUNS=3] [BENCH_ARGS="--customers 5000 --state-customers 50000"]`: arpulse against the
# raw Kafka client and two Faust agents (consume only, a naive ledger) on one broker, the logic by
# history length, latency at 2,000 events/s, memory per customer, restart time; writes
# build/bench/bench.json and bench.png (docs/performance.md, "The benchmark").
# BENCH_ARGS="--quick": a smoke run.
RUNS ?= 3
BENCH_ARGS ?=

.PHONY: bench profile

bench: venv $(PERF_STAMP)
	$(BIN)/python -m tools.bench --runs $(RUNS) $(BENCH_ARGS) || { \
	  rc=$$?; echo "make bench: exit $$rc (a phase broke, or --strict and a target missed); see above and build/bench/" >&2; exit $$rc; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# `make profile [PROFILE_ARGS="--customers 1000"]`: py-spy over a worker draining a backlog, summed by
# part of the worker (domain, codec, consumer, producer, Redis...); see docs/performance.md.
PROFILE_ARGS ?=

profile: venv $(PERF_STAMP)
	$(BIN)/python -m tools.profile $(PROFILE_ARGS) || { \
	  rc=$$?; echo "make profile: exit $$rc; see above and build/profile/" >&2; exit $$rc; }
