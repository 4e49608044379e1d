-- Market memory: global (not per-user) market data written only by the ingest service.
--
-- An instrument is named by a text key `venue:kind:symbol` (e.g. `hyperliquid:perp:BTC`,
-- `polymarket:outcome:<clob token id>`, `replay:perp:BTC`) that every other table references.
-- Observations are keyed by (instrument, time): re-ingesting the same observation is a no-op
-- (ON CONFLICT DO NOTHING), so history is kept and never overwritten. The one exception is a
-- candle, whose still-forming bar is revised until it closes (ON CONFLICT DO UPDATE).
-- Prices and sizes are bounded NUMERIC, never floats. No row-level security: nothing here
-- belongs to a user. The foundation's default privileges grant these tables to clones_app.

CREATE TABLE market_instruments (
    key             text PRIMARY KEY CHECK (length(key) <= 200),
    venue           text NOT NULL CHECK (venue ~ '^[a-z][a-z0-9_-]{0,31}$'),
    kind            text NOT NULL CHECK (kind IN ('perp', 'spot', 'outcome')),
    symbol          text NOT NULL CHECK (length(symbol) BETWEEN 1 AND 160),
    base            text,
    quote           text,
    active          boolean NOT NULL DEFAULT true,
    tick_size       numeric(38, 18) CHECK (tick_size > 0),
    lot_size        numeric(38, 18) CHECK (lot_size > 0),
    -- Outcome tokens: the prediction market they belong to and the outcome they pay on.
    market_id       text,
    outcome         text,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (key = venue || ':' || kind || ':' || symbol),
    CHECK ((kind = 'outcome') = (market_id IS NOT NULL))
);
CREATE INDEX market_instruments_venue_kind_idx ON market_instruments (venue, kind, key);
CREATE INDEX market_instruments_market_idx ON market_instruments (market_id) WHERE market_id IS NOT NULL;

CREATE TABLE market_candles (
    instrument_key  text NOT NULL REFERENCES market_instruments (key),
    timeframe       text NOT NULL CHECK (timeframe IN ('1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '8h', '12h', '1d', '3d', '1w', '1M')),
    open_time       timestamptz NOT NULL,
    open            numeric(38, 18) NOT NULL CHECK (open > 0),
    high            numeric(38, 18) NOT NULL,
    low             numeric(38, 18) NOT NULL CHECK (low > 0),
    close           numeric(38, 18) NOT NULL CHECK (close > 0),
    volume          numeric(38, 18) NOT NULL CHECK (volume >= 0),
    trades          bigint CHECK (trades >= 0),
    ingested_at     timestamptz NOT NULL,
    -- The range query `[from, to)` for one instrument and timeframe is a scan of this key.
    PRIMARY KEY (instrument_key, timeframe, open_time),
    CHECK (high >= low AND high >= open AND high >= close AND low <= open AND low <= close)
);

-- "Latest at or before T" is a backward scan of each primary key below.
CREATE TABLE market_mids (
    instrument_key  text NOT NULL REFERENCES market_instruments (key),
    observed_at     timestamptz NOT NULL,
    price           numeric(38, 18) NOT NULL CHECK (price > 0),
    PRIMARY KEY (instrument_key, observed_at)
);

-- Levels are JSON arrays of [price, size] decimal strings: bids descending, asks ascending.
CREATE TABLE market_books (
    instrument_key  text NOT NULL REFERENCES market_instruments (key),
    observed_at     timestamptz NOT NULL,
    bids            jsonb NOT NULL CHECK (jsonb_typeof(bids) = 'array'),
    asks            jsonb NOT NULL CHECK (jsonb_typeof(asks) = 'array'),
    PRIMARY KEY (instrument_key, observed_at)
);

CREATE TABLE market_funding_rates (
    instrument_key  text NOT NULL REFERENCES market_instruments (key),
    funding_time    timestamptz NOT NULL,
    rate            numeric(38, 18) NOT NULL,
    premium         numeric(38, 18),
    PRIMARY KEY (instrument_key, funding_time)
);

CREATE TABLE prediction_markets (
    market_id       text PRIMARY KEY CHECK (length(market_id) BETWEEN 1 AND 200),
    venue           text NOT NULL,
    condition_id    text,
    question        text NOT NULL,
    slug            text,
    end_date        timestamptz,
    active          boolean NOT NULL,
    closed          boolean NOT NULL,
    -- Set once the market resolved: the winning outcome's name.
    resolved_outcome text,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at      timestamptz NOT NULL,
    CHECK (resolved_outcome IS NULL OR closed)
);
CREATE INDEX prediction_markets_open_idx ON prediction_markets (closed, end_date);

ALTER TABLE market_instruments
    ADD CONSTRAINT market_instruments_market_fk FOREIGN KEY (market_id) REFERENCES prediction_markets (market_id);

CREATE TABLE prediction_outcome_prices (
    instrument_key  text NOT NULL REFERENCES market_instruments (key),
    observed_at     timestamptz NOT NULL,
    price           numeric(38, 18) NOT NULL CHECK (price >= 0 AND price <= 1),
    PRIMARY KEY (instrument_key, observed_at)
);

-- DeFi metrics: `subject` is `protocol:<slug>` or `chain:<name>`, `metric` e.g. `tvl`.
CREATE TABLE defi_metrics (
    subject         text NOT NULL CHECK (subject ~ '^(protocol|chain):.+$'),
    metric          text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,63}$'),
    metric_time     timestamptz NOT NULL,
    value           numeric(38, 18) NOT NULL,
    PRIMARY KEY (subject, metric, metric_time)
);

-- One row per source channel fetch: what was asked, how it went, how much it stored.
CREATE TABLE ingestion_runs (
    id              uuid PRIMARY KEY,
    source          text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_-]{0,31}$'),
    channel         text NOT NULL CHECK (length(channel) BETWEEN 1 AND 64),
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    rows_written    bigint NOT NULL CHECK (rows_written >= 0),
    latency_ms      bigint NOT NULL CHECK (latency_ms >= 0),
    error           text,
    CHECK (finished_at >= started_at),
    CHECK ((status = 'failed') = (error IS NOT NULL)),
    CHECK (status = 'succeeded' OR rows_written = 0)
);
CREATE INDEX ingestion_runs_channel_idx ON ingestion_runs (source, channel, started_at DESC);
CREATE INDEX ingestion_runs_recent_idx ON ingestion_runs (started_at DESC);
