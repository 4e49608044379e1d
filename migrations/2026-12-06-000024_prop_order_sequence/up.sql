-- Every order of an account gets the next number of the account's sequence, so the rate gate
-- finds the order placed `max_orders_per_minute` orders ago with one index probe instead of
-- counting a minute of orders (a cost that grew with the very rate being limited).
ALTER TABLE prop_accounts
    ADD COLUMN orders_placed bigint NOT NULL DEFAULT 0 CHECK (orders_placed >= 0);
ALTER TABLE prop_orders ADD COLUMN account_seq bigint;

UPDATE prop_orders AS o SET account_seq = numbered.seq
    FROM (SELECT id, row_number() OVER (PARTITION BY account_id ORDER BY created_at, id) AS seq
          FROM prop_orders) AS numbered
    WHERE o.id = numbered.id;
UPDATE prop_accounts AS a SET orders_placed = placed.n
    FROM (SELECT account_id, count(*) AS n FROM prop_orders GROUP BY account_id) AS placed
    WHERE a.id = placed.account_id;

ALTER TABLE prop_orders
    ALTER COLUMN account_seq SET NOT NULL,
    ADD CONSTRAINT prop_orders_account_seq_check CHECK (account_seq >= 1);
CREATE UNIQUE INDEX prop_orders_account_seq_idx ON prop_orders (account_id, account_seq);
