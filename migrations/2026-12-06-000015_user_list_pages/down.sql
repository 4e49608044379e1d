DROP INDEX economy_purchases_payer_idx;
DROP INDEX clones_owner_idx;
CREATE INDEX clones_owner_idx ON clones (owner_user_id, created_at);
