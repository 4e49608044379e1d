DROP TABLE decision_artifacts;
DROP TABLE decision_action_executions;
DROP TABLE decision_actions;
DROP TABLE decision_runs;
