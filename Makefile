# Two commands a new user needs: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo_out

.PHONY: demo test bytecode bench bench-big bench-billion backtest-paper backtest-suite clean sample-data

# pip's chatter goes to .venv/install.log, and is shown only if the install fails.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || (echo "creating $(VENV) and installing slicesand (first run only)..." && $(PYTHON) -m venv $(VENV))
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(BIN)/python -m pip install -e '.[test]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

# The package's bytecode, compiled as pip compiles a regular (non-editable) install: an editable
# install leaves that to the first run, and where PYTHONDONTWRITEBYTECODE is set (CI images, this
# project's development machines) every process compiled every module again (0.1 to 0.2 s a run).
# A no-op when nothing changed.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q slicesand

demo: bytecode
	$(BIN)/slicesand run sample_data/eval_dump.csv --models sample_data/models.csv --cut 3e22 --at 1e24 -o $(DEMO_OUT)

test: bytecode
	$(BIN)/python -m pytest -q

# Whole processes beside their floors, at 0.84M and 30M rows (bench-big adds 150M rows, ~1 GB of disk).
BENCH_DATA ?= bench/_data
bench: bytecode
	$(BIN)/python bench/bench.py --data-dir $(BENCH_DATA)
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_startup.py

bench-big: bytecode
	$(BIN)/python bench/bench.py --data-dir $(BENCH_DATA) --big

# slice of a 1e9-row folder of 40 Parquet files (6.7 GB of disk under BENCH_DATA; written once, ~5 min).
bench-billion: bytecode
	$(BIN)/python bench/bench.py --data-dir $(BENCH_DATA) --billion --repeat 1 --table bench/RESULTS-billion.md

# Test MSE of --paper, the automatic default and the baselines on the paper's tables, as Markdown.
backtest-paper: $(STAMP)
	$(BIN)/python bench/backtest_paper.py

# The default rule, the baselines and the 90% intervals on the development suite, leave one task out
# (bench/backtest_suite.py). SUITE: an optional folder of extra dumps (default ../shared/suite when it
# exists; never copied into the repository).
SUITE ?=
backtest-suite: $(STAMP)
	$(BIN)/python bench/backtest_suite.py $(SUITE)

sample-data: $(STAMP)
	$(BIN)/python sample_data/generate.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache build *.egg-info
	find slicesand tests bench -name __pycache__ -prune -exec rm -rf {} +
