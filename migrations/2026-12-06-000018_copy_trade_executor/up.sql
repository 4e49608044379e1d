-- The executor an order was sent through, stored with its intent: recovery and status sync
-- ask that venue even after the tenant switched its grant to another one. NULL only on rows
-- that never got an intent (skipped) or were claimed before this column existed.
ALTER TABLE copy_trade_fills
    ADD COLUMN executor text CHECK (executor IN ('paper', 'clob'));
CREATE INDEX copy_trade_fills_unsynced_idx ON copy_trade_fills (owner_user_id, synced_at)
    WHERE status IN ('placed', 'partially_filled');
