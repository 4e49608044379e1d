DROP TABLE backtest_artifacts;
DROP TABLE backtest_usage_days;
DROP TABLE backtest_job_metrics;
DROP TABLE backtest_jobs;
