DROP TABLE economy_purchases;
DROP TABLE economy_deposits;
DROP TABLE economy_quotes;
