# Set-up and everyday commands. Only Python 3.11 and make are needed on the machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

.PHONY: setup run rerun test test-postgres lint ui sample migrate clean bench bench-nightly

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## Run the nightly job once on the bundled sample data into the embedded DuckDB warehouse.
run: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m pipelines.run_sample

## Re-run part of the graph, e.g. after a correction: make rerun SELECT='stg_toewijzingen*'
rerun: $(STAMP)
	@test -n "$(SELECT)" || { echo "usage: make rerun SELECT='<asset>*'  (the asset and everything downstream)"; exit 2; }
	$(BIN)/dagster asset materialize -m pipelines.definitions --select "$(SELECT)"

## Everything CI checks: lint, layer contract, types, tests.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 -q

## Benchmarks (bench/README.md). The national data set is generated once into $(BENCH_DIR), outside
## the repository (a few minutes, ~3 GB); bench_validation needs the staged values of `make run`.
BENCH_DIR ?= /tmp/prestatiemonitor-bench
bench: $(STAMP)
	@test -f "$(BENCH_DIR)/national/manifest.json" || $(BIN)/python -m bench.generate_national --out "$(BENCH_DIR)/national"
	$(BIN)/python -m bench.bench_ep_ingestion --data "$(BENCH_DIR)/national"
	$(BIN)/python -m bench.bench_bookkeeping
	@if [ -f "$${PRESTATIEMONITOR_STORAGE_DIR:-$(DAGSTER_HOME)/assets}/stg_energielabels.parquet" ]; then \
		$(BIN)/python -m bench.bench_validation; \
	else echo "bench_validation overgeslagen: draai eerst make run"; fi
	$(MAKE) bench-nightly

## Benchmarks 2-5 and the scaling table (bench/README.md): the region run on the sample, the national
## set cold / nothing new / incremental / single gemeenten, then 1 -> 10 -> 342 gemeenten. Each set in
## its own work folder under $(BENCH_DIR)/nightly; about an hour and a half on 2 cores.
bench-nightly: $(STAMP)
	@test -f "$(BENCH_DIR)/national/manifest.json" || $(BIN)/python -m bench.generate_national --out "$(BENCH_DIR)/national"
	@for n in 1 10; do test -f "$(BENCH_DIR)/g$$n/manifest.json" || $(BIN)/python -m bench.generate_national --out "$(BENCH_DIR)/g$$n" --gemeenten $$n; done
	BENCH_DIR="$(BENCH_DIR)" $(BIN)/python -m bench.bench_nightly region
	BENCH_DIR="$(BENCH_DIR)" $(BIN)/python -m bench.bench_nightly national --data "$(BENCH_DIR)/national"
	BENCH_DIR="$(BENCH_DIR)" $(BIN)/python -m bench.bench_nightly scaling --sets "$(BENCH_DIR)/g1" "$(BENCH_DIR)/g10" "$(BENCH_DIR)/national"

## The suite with every warehouse on a throwaway local PostgreSQL cluster (installs PostgreSQL when root).
test-postgres: $(STAMP)
	@dir=$$(mktemp -d /tmp/prestatiemonitor-pg.XXXXXX); \
	port=$$($(BIN)/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	trap 'deploy/dev/pg-test-cluster.sh stop "$$dir"; rm -rf "$$dir"' EXIT; \
	eval "$$(deploy/dev/pg-test-cluster.sh start "$$dir" "$$port")" && \
	PRESTATIEMONITOR_TEST_WAREHOUSE=postgres $(BIN)/python -m pytest -n 2 -q

## Bring the warehouse at $$PRESTATIEMONITOR_WAREHOUSE_URL to the latest schema (alembic, migrations/).
migrate: $(STAMP)
	$(BIN)/python -m warehouse.migrate upgrade

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy sources warehouse expectations assets pipelines

## Open the Dagster UI on http://127.0.0.1:3000 (asset graph, checks, runs).
ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## Regenerate the bundled sample data (deterministic).
sample: $(STAMP)
	$(BIN)/python -m data.generate_sample
	$(BIN)/python -m data.generate_ep_mutaties
	$(BIN)/python -m data.generate_planlijst

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) out
