-- Encrypted secrets (clones-secrets): how many encryptions each key version has made. AES-GCM
-- with random 96-bit nonces stays under a 2^-32 nonce-collision probability for at most 2^32
-- encryptions per key; the counter lets the operator rotate well before that (warned from
-- 2^31) and refuses an encryption past it. Not tenant data: no row-level security.
CREATE TABLE secret_key_usage (
    version      integer PRIMARY KEY CHECK (version >= 1),
    encryptions  bigint NOT NULL CHECK (encryptions >= 0)
);
