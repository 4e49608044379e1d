DROP TRIGGER prop_ledger_entries_with_event ON prop_ledger_entries;
DROP FUNCTION prop_check_entry_in_event_transaction();

CREATE FUNCTION prop_check_entry_balanced() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM prop_assert_event_balanced(NEW.event_id);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER prop_ledger_entries_balanced
    AFTER INSERT ON prop_ledger_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION prop_check_entry_balanced();
