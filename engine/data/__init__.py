"""Market data: the columnar candle representation, the parquet store, importers, downloaders."""
