-- Indexes for keyset pagination: every list is read in (timestamp, id) order, so the id that
-- breaks ties between rows sharing a timestamp is part of each list's index.

DROP INDEX prop_orders_account_idx;
CREATE INDEX prop_orders_account_idx ON prop_orders (account_id, created_at, id);
DROP INDEX prop_fills_account_idx;
CREATE INDEX prop_fills_account_idx ON prop_fills (account_id, created_at, id);
DROP INDEX prop_ledger_events_account_idx;
CREATE INDEX prop_ledger_events_account_idx ON prop_ledger_events (account_id, created_at, id);
DROP INDEX prop_admin_audit_log_created_idx;
CREATE INDEX prop_admin_audit_log_created_idx ON prop_admin_audit_log (created_at, id);
CREATE INDEX prop_admin_audit_log_account_idx ON prop_admin_audit_log (account_id, created_at, id);

DROP INDEX clone_reports_open_idx;
CREATE INDEX clone_reports_created_idx ON clone_reports (created_at, id);
CREATE INDEX clone_reports_status_idx ON clone_reports (status, created_at, id);

DROP INDEX audition_refund_authorizations_created_idx;
CREATE INDEX audition_refund_authorizations_created_idx ON audition_refund_authorizations (created_at, id);

DROP INDEX security_events_user_created_idx;
CREATE INDEX security_events_user_created_idx ON security_events (user_id, created_at, id);
