-- Mark-to-market walks the due accounts by id instead of by last mark, so no index holds
-- last_mtm_at and stamping an account marked can be a heap-only (HOT) update. The tables an
-- order or a mark updates in place keep room on each page for the new row version.
DROP INDEX prop_accounts_mtm_idx;
ALTER TABLE prop_accounts SET (fillfactor = 80);
ALTER TABLE prop_account_balances SET (fillfactor = 80);
ALTER TABLE prop_positions SET (fillfactor = 80);
