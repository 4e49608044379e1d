DROP TABLE copy_trade_replicas;
DROP TABLE copy_trade_wallet_leases;
