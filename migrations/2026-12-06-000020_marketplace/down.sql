DROP TABLE strategy_evaluations;
DROP TABLE strategy_lineage;
DROP TABLE strategy_status_history;
DROP TABLE user_strategies;
DROP FUNCTION reject_uploader_change();
