-- Fails while version 2 hashes are stored: they have no version 1 form.
ALTER TABLE backtest_job_metrics DROP CONSTRAINT backtest_job_metrics_result_hash_check;
ALTER TABLE backtest_job_metrics ADD CONSTRAINT backtest_job_metrics_result_hash_check
    CHECK (result_hash ~ '^[0-9a-f]{64}$');
