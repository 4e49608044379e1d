DROP TABLE arena_clone_memberships;
DROP TABLE promotion_queue_entries;
DROP TABLE audition_refund_authorizations;
DROP TABLE audition_run_events;
DROP TABLE audition_run_evaluations;
DROP TABLE audition_runs;
DROP TABLE audition_rule_sets;
