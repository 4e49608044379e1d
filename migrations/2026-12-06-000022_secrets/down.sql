DROP TABLE secret_key_usage;
