DROP INDEX prop_orders_account_seq_idx;
ALTER TABLE prop_orders DROP COLUMN account_seq;
ALTER TABLE prop_accounts DROP COLUMN orders_placed;
