-- The owners' clone list and purchase list are read in (timestamp, id) keyset order, so each
-- index ends in the id that breaks ties between rows sharing a timestamp. Purchases had no
-- index on their payer at all.

DROP INDEX clones_owner_idx;
CREATE INDEX clones_owner_idx ON clones (owner_user_id, created_at, id);
CREATE INDEX economy_purchases_payer_idx ON economy_purchases (payer_user_id, created_at, id);
