-- Rows that belong to a prop account name its owner too (row-level security filters on it).
-- One composite key per table now proves both the account and that the owner is the
-- account's, instead of two separate keys (account; owner in users) that allowed an owner
-- other than the account's. It is also one check per row instead of two, and the checks no
-- longer lock the owner's users row, which concurrent orders of one owner contended on.
ALTER TABLE prop_accounts ADD CONSTRAINT prop_accounts_id_owner_key UNIQUE (id, owner_user_id);

ALTER TABLE prop_account_limits
    DROP CONSTRAINT prop_account_limits_account_id_fkey,
    DROP CONSTRAINT prop_account_limits_owner_user_id_fkey,
    ADD CONSTRAINT prop_account_limits_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_orders
    DROP CONSTRAINT prop_orders_account_id_fkey,
    DROP CONSTRAINT prop_orders_owner_user_id_fkey,
    ADD CONSTRAINT prop_orders_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_fills
    DROP CONSTRAINT prop_fills_account_id_fkey,
    DROP CONSTRAINT prop_fills_owner_user_id_fkey,
    ADD CONSTRAINT prop_fills_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_positions
    DROP CONSTRAINT prop_positions_account_id_fkey,
    DROP CONSTRAINT prop_positions_owner_user_id_fkey,
    ADD CONSTRAINT prop_positions_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_account_balances
    DROP CONSTRAINT prop_account_balances_account_id_fkey,
    DROP CONSTRAINT prop_account_balances_owner_user_id_fkey,
    ADD CONSTRAINT prop_account_balances_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_ledger_events
    DROP CONSTRAINT prop_ledger_events_account_id_fkey,
    DROP CONSTRAINT prop_ledger_events_owner_user_id_fkey,
    ADD CONSTRAINT prop_ledger_events_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_ledger_entries
    DROP CONSTRAINT prop_ledger_entries_account_id_fkey,
    DROP CONSTRAINT prop_ledger_entries_owner_user_id_fkey,
    ADD CONSTRAINT prop_ledger_entries_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
ALTER TABLE prop_equity_snapshots
    DROP CONSTRAINT prop_equity_snapshots_account_id_fkey,
    DROP CONSTRAINT prop_equity_snapshots_owner_user_id_fkey,
    ADD CONSTRAINT prop_equity_snapshots_account_owner_fkey FOREIGN KEY (account_id, owner_user_id)
        REFERENCES prop_accounts (id, owner_user_id);
