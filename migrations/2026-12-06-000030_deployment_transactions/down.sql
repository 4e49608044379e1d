DROP TABLE deployment_transactions;
