"""Market data: the columnar candle representation, the parquet store, importers, downloaders.

    candles.py     `Candles` (defined in compiler/candles.py, one layer down): int64 ms
                   open times + float64 OHLCV arrays
    gaps.py        missing candles: count, list, fill (one explicit policy)
    validation.py  the candle rules and the bad-rows policy (error | skip)
    timeparse.py   dates and time columns -> UTC milliseconds
    names.py       symbols, store directory names, freqtrade file names
    readers.py     csv / parquet / feather / freqtrade json -> raw columns
    importer.py    read one file as candles; import files or directories
    store.py       `CandleStore`: <root>/<exchange>/<BASE_QUOTE>/<tf>.parquet
    load.py        `load_candles`, `data_source`: what the engine calls
    download.py    paginated, resumable ccxt download into the store
    synth.py       a deterministic synthetic market
    sample.py      the sample market `superbot backtest` uses without --data
    home.py        where the user's data lives (SUPERBOT_HOME, XDG)
    errors.py      `DataError` and its kinds
    wording.py     counts in messages: `1 candle`, `2 candles`

Import the module you need; this package imports nothing, so `Candles` stays
cheap to import for the compiler and the kernel.
"""
