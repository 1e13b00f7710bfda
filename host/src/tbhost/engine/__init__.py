"""The event engine: one code path for backtest, paper and live bots."""
