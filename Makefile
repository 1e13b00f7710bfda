# Two commands on a fresh machine with only Python 3.11+:  `make run`  and  `make test`.
# uv comes from PyPI into .tools/ when it is not already on PATH.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint setup

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet uv

setup: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --all-packages --locked --quiet

# The main job on embedded defaults: the installed plugins, then the host with a demo database
# (SQLite), a paper account and a HYPERRSI and a GRID bot trading a replay of the bundled real
# BTC/USDT one-minute candles, then a backtest of the example strategy with an HTML report.
run: setup
	$(UV) run tbhost plugins
	$(UV) run tbhost --data-dir .tbhost run --demo
	$(UV) run tbhost --data-dir .tbhost backtest rsi_reversal --symbol BTC/USDT --timeframe 1h \
	    --fee 0.0005 --maker-fee 0.0005 --no-progress \
	    --html .tbhost/backtest.html --plot .tbhost/backtest.png

test: setup
	$(UV) run pytest $(PYTEST_ARGS)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
