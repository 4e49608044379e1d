ALTER TABLE prop_positions RESET (fillfactor);
ALTER TABLE prop_account_balances RESET (fillfactor);
ALTER TABLE prop_accounts RESET (fillfactor);
CREATE INDEX prop_accounts_mtm_idx ON prop_accounts (last_mtm_at NULLS FIRST) WHERE status <> 'closed';
