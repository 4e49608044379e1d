-- The zero-sum check of a ledger event ran at commit once for the event and once more for
-- every entry (the same sum each time). It now runs once per event: an entry may only be
-- written by the transaction that created its event (checked by the inserting statement), so the
-- event's own deferred check always sees every entry it will ever have.
DROP TRIGGER prop_ledger_entries_balanced ON prop_ledger_entries;
DROP FUNCTION prop_check_entry_balanced();

-- SECURITY DEFINER so the check sees the event whatever the caller's policies. Events are
-- written at the top level of a transaction (never under a savepoint), so the event row's
-- xmin is the current transaction's id exactly when this transaction created it.
CREATE FUNCTION prop_check_entry_in_event_transaction() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM prop_ledger_events
        WHERE id = NEW.event_id AND xmin = xid(pg_current_xact_id())
    ) THEN
        RAISE EXCEPTION 'ledger entry %/% must be written with its event', NEW.event_id, NEW.seq
            USING ERRCODE = 'P0A02';
    END IF;
    RETURN NULL;
END
$$;

-- AFTER, at the end of the inserting statement: an order writes its event and entries in one
-- statement, whose sibling inserts a BEFORE trigger would not see.
CREATE TRIGGER prop_ledger_entries_with_event
    AFTER INSERT ON prop_ledger_entries
    FOR EACH ROW EXECUTE FUNCTION prop_check_entry_in_event_transaction();
