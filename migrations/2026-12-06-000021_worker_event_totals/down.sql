DROP TABLE worker_event_totals;
