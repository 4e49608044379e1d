// @generated automatically by Diesel CLI.

diesel::table! {
    auth_challenges (nonce) {
        nonce -> Text,
        purpose -> Text,
        address -> Text,
        chain_id -> Int8,
        requested_by -> Nullable<Uuid>,
        message -> Text,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        consumed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        generation -> Int4,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    security_events (id) {
        id -> Uuid,
        seq -> Int8,
        user_id -> Uuid,
        kind -> Text,
        session_id -> Nullable<Uuid>,
        detail -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    service_tokens (id) {
        id -> Uuid,
        name -> Text,
        scopes -> Array<Nullable<Text>>,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        wallet_address -> Text,
        created_at -> Timestamptz,
        last_refreshed_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Uuid,
        role -> Text,
        granted_at -> Timestamptz,
        granted_by -> Text,
    }
}

diesel::table! {
    user_wallets (address) {
        address -> Text,
        user_id -> Uuid,
        chain_id -> Int8,
        linked_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    worker_heartbeats (worker_name) {
        worker_name -> Text,
        instance_id -> Text,
        status -> Text,
        interval_ms -> Int8,
        last_started_at -> Timestamptz,
        last_completed_at -> Nullable<Timestamptz>,
        last_succeeded_at -> Nullable<Timestamptz>,
        last_error_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        last_latency_ms -> Nullable<Int8>,
        last_items -> Nullable<Int8>,
        cycles_total -> Int8,
        failures_total -> Int8,
        items_total -> Int8,
        consecutive_errors -> Int4,
    }
}

diesel::joinable!(auth_challenges -> users (requested_by));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(user_wallets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    auth_challenges,
    refresh_tokens,
    security_events,
    service_tokens,
    sessions,
    user_roles,
    user_wallets,
    users,
    worker_heartbeats,
);
