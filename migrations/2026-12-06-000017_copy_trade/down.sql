DROP TABLE copy_trade_cursors;
DROP TABLE copy_trade_decisions;
DROP TABLE copy_trade_fills;
DROP TABLE copy_trade_grants;
DROP TABLE copy_trade_targets;
