DROP TABLE copy_trade_fill_shares;
DROP TABLE copy_trade_clob_accounts;
