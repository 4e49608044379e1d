-- Which mirror-worker replica polls a watched wallet: a replica polls only the wallets it
-- holds a live lease on, so replicas split the wallets instead of all polling all of them.
-- A lease a replica stops renewing (it stopped, or sheds wallets above its fair share)
-- expires and another takes it. Public wallet data, worker only: no row-level security.
CREATE TABLE copy_trade_wallet_leases (
    target_id           uuid PRIMARY KEY,
    holder              text NOT NULL CHECK (length(holder) BETWEEN 1 AND 100),
    leased_until        timestamptz NOT NULL
);
CREATE INDEX copy_trade_wallet_leases_holder_idx ON copy_trade_wallet_leases (holder, leased_until);

-- The mirror-worker replicas alive now: each renews its row every cycle. Wallets are split
-- among the live replicas by rendezvous hashing, so a replica that joins or leaves moves only
-- its share of them.
CREATE TABLE copy_trade_replicas (
    holder              text PRIMARY KEY CHECK (length(holder) BETWEEN 1 AND 100),
    seen_until          timestamptz NOT NULL
);
