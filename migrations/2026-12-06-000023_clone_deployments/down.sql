DROP TABLE clone_deployment_history;
DROP TABLE clone_deployments;
