-- The result hash names its definition: version 2 is `v2:` and the BLAKE3 (hex) of the report
-- (docs/modules/backtest.md, "Determinism"). Rows stored under version 1 keep their bare
-- SHA-256 hex, so the two never compare equal by accident.
ALTER TABLE backtest_job_metrics DROP CONSTRAINT backtest_job_metrics_result_hash_check;
ALTER TABLE backtest_job_metrics ADD CONSTRAINT backtest_job_metrics_result_hash_check
    CHECK (result_hash ~ '^(v2:)?[0-9a-f]{64}$');
