DROP INDEX security_events_user_created_idx;
CREATE INDEX security_events_user_created_idx ON security_events (user_id, created_at DESC, seq DESC);

DROP INDEX audition_refund_authorizations_created_idx;
CREATE INDEX audition_refund_authorizations_created_idx ON audition_refund_authorizations (created_at);

DROP INDEX clone_reports_status_idx;
DROP INDEX clone_reports_created_idx;
CREATE INDEX clone_reports_open_idx ON clone_reports (created_at) WHERE status = 'open';

DROP INDEX prop_admin_audit_log_account_idx;
DROP INDEX prop_admin_audit_log_created_idx;
CREATE INDEX prop_admin_audit_log_created_idx ON prop_admin_audit_log (created_at);
DROP INDEX prop_ledger_events_account_idx;
CREATE INDEX prop_ledger_events_account_idx ON prop_ledger_events (account_id, created_at);
DROP INDEX prop_fills_account_idx;
CREATE INDEX prop_fills_account_idx ON prop_fills (account_id, created_at);
DROP INDEX prop_orders_account_idx;
CREATE INDEX prop_orders_account_idx ON prop_orders (account_id, created_at);
