DROP INDEX copy_trade_fills_unsynced_idx;
ALTER TABLE copy_trade_fills DROP COLUMN executor;
