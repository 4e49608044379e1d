// @generated automatically by Diesel CLI.

diesel::table! {
    arena_clone_memberships (id) {
        id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        entry_id -> Uuid,
        prop_account_id -> Uuid,
        status -> Text,
        joined_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audition_refund_authorizations (id) {
        id -> Uuid,
        purchase_id -> Uuid,
        run_id -> Uuid,
        owner_user_id -> Uuid,
        amount -> Text,
        token_address -> Text,
        chain_id -> Int8,
        reason -> Text,
        authorized_by -> Uuid,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audition_rule_sets (code) {
        code -> Text,
        quote_currency -> Text,
        starting_balance -> Numeric,
        profit_target_pct -> Nullable<Numeric>,
        max_daily_loss_pct -> Numeric,
        daily_loss_basis -> Text,
        max_drawdown_pct -> Numeric,
        drawdown_basis -> Text,
        drawdown_mode -> Text,
        daily_reset_time -> Time,
        time_zone -> Text,
        min_trading_days -> Int4,
        max_window_minutes -> Int4,
        free_retries -> Int4,
        retry_on -> Array<Nullable<Text>>,
        active -> Bool,
    }
}

diesel::table! {
    audition_run_evaluations (run_id) {
        run_id -> Uuid,
        owner_user_id -> Uuid,
        last_snapshot_at -> Nullable<Timestamptz>,
        last_fill_at -> Nullable<Timestamptz>,
        trading_day -> Nullable<Date>,
        day_start_value -> Numeric,
        peak_value -> Numeric,
        last_fill_day -> Nullable<Date>,
        trading_days -> Int4,
        latest_equity -> Numeric,
        latest_cash -> Numeric,
        evaluated_at -> Nullable<Timestamptz>,
        lease_expires_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        last_fill_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    audition_run_events (id) {
        id -> Uuid,
        seq -> Int8,
        run_id -> Uuid,
        owner_user_id -> Uuid,
        kind -> Text,
        actor_user_id -> Nullable<Uuid>,
        actor -> Text,
        reason -> Nullable<Text>,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audition_runs (id) {
        id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        purchase_id -> Uuid,
        attempt -> Int4,
        rule_set_code -> Text,
        rules -> Jsonb,
        prop_account_id -> Uuid,
        window_start -> Timestamptz,
        window_end -> Timestamptz,
        status -> Text,
        failure_rule -> Nullable<Text>,
        failure_detail -> Nullable<Text>,
        ended_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

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
    backtest_artifacts (job_id, kind) {
        job_id -> Uuid,
        owner_user_id -> Uuid,
        kind -> Text,
        content_type -> Text,
        body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    backtest_job_metrics (job_id) {
        job_id -> Uuid,
        owner_user_id -> Uuid,
        result_hash -> Text,
        final_equity -> Numeric,
        total_return_pct -> Float8,
        max_drawdown_pct -> Float8,
        sharpe -> Float8,
        trades -> Int4,
        metrics -> Jsonb,
        walk_forward -> Nullable<Jsonb>,
        consistency -> Nullable<Jsonb>,
        consistency_score -> Nullable<Float8>,
        computed_at -> Timestamptz,
    }
}

diesel::table! {
    backtest_jobs (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        clone_id -> Uuid,
        kind -> Text,
        status -> Text,
        spec -> Jsonb,
        bars_total -> Int8,
        bars_done -> Int8,
        attempts -> Int4,
        leased_at -> Nullable<Timestamptz>,
        lease_expires_at -> Nullable<Timestamptz>,
        cancel_requested -> Bool,
        error_code -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    backtest_usage_days (owner_user_id, clone_id, day) {
        owner_user_id -> Uuid,
        clone_id -> Uuid,
        day -> Date,
        jobs -> Int4,
        bars -> Int8,
    }
}

diesel::table! {
    clone_asset_selection_rules (clone_id) {
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        mode -> Text,
        max_assets -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    clone_capacity_entitlements (clone_id) {
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        tier -> Text,
        max_active_assets -> Int4,
        allowed_model_strength -> Text,
        source -> Text,
        source_purchase_id -> Nullable<Uuid>,
        source_reference -> Nullable<Text>,
        status -> Text,
        effective_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    clone_deployment_history (id) {
        id -> Uuid,
        deployment_id -> Uuid,
        owner_user_id -> Uuid,
        seq -> Int4,
        actor -> Text,
        actor_user_id -> Nullable<Uuid>,
        event -> Text,
        from_status -> Text,
        to_status -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    clone_deployments (id) {
        id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        status -> Text,
        token_address -> Nullable<Text>,
        pool_address -> Nullable<Text>,
        deposit_address -> Nullable<Text>,
        deposit_key -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    clone_moderation_actions (id) {
        id -> Uuid,
        seq -> Int8,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        actor_user_id -> Nullable<Uuid>,
        actor_kind -> Text,
        action -> Text,
        report_id -> Nullable<Uuid>,
        reason -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    clone_public_profiles (clone_id) {
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        display_name -> Text,
        username -> Text,
        bio -> Text,
        avatar_url -> Nullable<Text>,
        status -> Text,
        submitted_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    clone_reports (id) {
        id -> Uuid,
        clone_id -> Uuid,
        reporter_user_id -> Uuid,
        reason -> Text,
        details -> Text,
        status -> Text,
        created_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Uuid>,
        resolution_note -> Nullable<Text>,
    }
}

diesel::table! {
    clone_strategy_drafts (clone_id) {
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        graph -> Jsonb,
        updated_at -> Timestamptz,
        marketplace_strategy_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    clone_strategy_versions (id) {
        id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        version -> Int4,
        graph -> Jsonb,
        fingerprint -> Text,
        is_active -> Bool,
        published_at -> Timestamptz,
        marketplace_strategy_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    clone_trade_universe (clone_id, asset) {
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        asset -> Text,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    clones (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        display_name -> Text,
        model -> Text,
        status -> Text,
        created_by_purchase_id -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_clob_accounts (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        address -> Text,
        private_key -> Text,
        api_key -> Nullable<Text>,
        api_secret -> Nullable<Text>,
        api_passphrase -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        positions_checked_at -> Nullable<Timestamptz>,
        positions_tokens -> Nullable<Int4>,
        positions_mismatched -> Nullable<Int4>,
        positions_max_difference -> Nullable<Numeric>,
        positions_max_token -> Nullable<Text>,
    }
}

diesel::table! {
    copy_trade_cursors (target_id) {
        target_id -> Uuid,
        wallet -> Text,
        watermark -> Int8,
        polled_at -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_decisions (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        ledger_id -> Uuid,
        idempotency_key -> Text,
        outcome -> Text,
        reason -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_fill_shares (ledger_id) {
        ledger_id -> Uuid,
        owner_user_id -> Uuid,
        filled -> Numeric,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_fills (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        target_row_id -> Uuid,
        target_id -> Uuid,
        fill_id -> Text,
        idempotency_key -> Text,
        fill -> Jsonb,
        side -> Nullable<Text>,
        size -> Nullable<Numeric>,
        limit_price -> Nullable<Numeric>,
        status -> Text,
        venue_order_id -> Nullable<Text>,
        observed_at -> Timestamptz,
        updated_at -> Timestamptz,
        synced_at -> Nullable<Timestamptz>,
        executor -> Nullable<Text>,
    }
}

diesel::table! {
    copy_trade_grants (owner_user_id) {
        owner_user_id -> Uuid,
        per_order_usdc_cap -> Numeric,
        daily_usdc_cap -> Numeric,
        hourly_fills_cap -> Int4,
        kill_switch -> Bool,
        executor -> Text,
        paper_account_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_replicas (holder) {
        holder -> Text,
        seen_until -> Timestamptz,
    }
}

diesel::table! {
    copy_trade_targets (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        target_id -> Uuid,
        wallet -> Text,
        label -> Nullable<Text>,
        active -> Bool,
        filter_percentile -> Nullable<Int2>,
        max_usdc_per_trade -> Numeric,
        max_position_usdc -> Nullable<Numeric>,
        sizing -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    copy_trade_wallet_leases (target_id) {
        target_id -> Uuid,
        holder -> Text,
        leased_until -> Timestamptz,
    }
}

diesel::table! {
    creator_plans (user_id) {
        user_id -> Uuid,
        plan -> Text,
        purchase_id -> Uuid,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    decision_action_executions (id) {
        id -> Uuid,
        action_id -> Text,
        run_id -> Uuid,
        owner_user_id -> Uuid,
        account_id -> Uuid,
        prop_order_id -> Uuid,
        order_status -> Text,
        rejection_code -> Nullable<Text>,
        filled_size -> Numeric,
        executed_at -> Timestamptz,
    }
}

diesel::table! {
    decision_actions (id) {
        id -> Text,
        run_id -> Uuid,
        owner_user_id -> Uuid,
        seq -> Int4,
        asset -> Text,
        instrument -> Text,
        kind -> Text,
        side -> Text,
        size -> Numeric,
        reduce_only -> Bool,
        requested_size -> Nullable<Jsonb>,
        reference_price -> Numeric,
        risk -> Jsonb,
        source -> Text,
        rationale -> Nullable<Text>,
    }
}

diesel::table! {
    decision_artifacts (run_id) {
        run_id -> Uuid,
        owner_user_id -> Uuid,
        model -> Text,
        prompt_hash -> Text,
        input_packet -> Jsonb,
        raw_output -> Nullable<Text>,
        latency_ms -> Int8,
        prompt_tokens -> Nullable<Int4>,
        completion_tokens -> Nullable<Int4>,
        cost -> Nullable<Numeric>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    decision_runs (id) {
        id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        account_id -> Nullable<Uuid>,
        context -> Text,
        reference_id -> Nullable<Uuid>,
        slot -> Timestamptz,
        strategy_version -> Nullable<Int4>,
        strategy_fingerprint -> Nullable<Text>,
        model -> Text,
        adapter -> Text,
        status -> Text,
        reason_code -> Nullable<Text>,
        reason_detail -> Nullable<Text>,
        started_at -> Timestamptz,
        latency_ms -> Int8,
    }
}

diesel::table! {
    defi_metrics (subject, metric, metric_time) {
        subject -> Text,
        metric -> Text,
        metric_time -> Timestamptz,
        value -> Numeric,
    }
}

diesel::table! {
    deployment_transactions (id) {
        id -> Uuid,
        deployment_id -> Uuid,
        owner_user_id -> Uuid,
        step -> Text,
        tx_hash -> Text,
        status -> Text,
        confirmations -> Int8,
        contract_address -> Nullable<Text>,
        error -> Nullable<Text>,
        next_check_at -> Timestamptz,
        created_at -> Timestamptz,
        settled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    economy_deposits (id) {
        id -> Uuid,
        quote_id -> Uuid,
        payer_user_id -> Uuid,
        chain_id -> Int8,
        tx_hash -> Text,
        status -> Text,
        confirmations -> Int8,
        required_confirmations -> Int8,
        rejection_code -> Nullable<Text>,
        rejection_detail -> Nullable<Text>,
        attempts -> Int4,
        next_check_at -> Timestamptz,
        lease_expires_at -> Nullable<Timestamptz>,
        purchase_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    economy_purchases (id) {
        id -> Uuid,
        payer_user_id -> Uuid,
        quote_id -> Nullable<Uuid>,
        purpose -> Text,
        clone_id -> Nullable<Uuid>,
        resolver -> Nullable<Text>,
        nonce -> Nullable<Text>,
        chain_id -> Nullable<Int8>,
        tx_hash -> Nullable<Text>,
        block_number -> Nullable<Int8>,
        log_index -> Nullable<Int8>,
        payer_address -> Nullable<Text>,
        token_address -> Nullable<Text>,
        amount -> Nullable<Text>,
        created_at -> Timestamptz,
        source -> Text,
    }
}

diesel::table! {
    economy_quotes (id) {
        id -> Uuid,
        payer_user_id -> Uuid,
        payer_address -> Text,
        purpose -> Text,
        clone_id -> Nullable<Uuid>,
        target_tier -> Nullable<Text>,
        clone_name -> Nullable<Text>,
        chain_id -> Int8,
        vault_address -> Text,
        token_address -> Text,
        amount -> Text,
        nonce -> Text,
        deadline -> Timestamptz,
        signature -> Text,
        created_at -> Timestamptz,
        target_plan -> Nullable<Text>,
    }
}

diesel::table! {
    ingestion_runs (id) {
        id -> Uuid,
        source -> Text,
        channel -> Text,
        started_at -> Timestamptz,
        finished_at -> Timestamptz,
        status -> Text,
        rows_written -> Int8,
        latency_ms -> Int8,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    market_books (instrument_key, observed_at) {
        instrument_key -> Text,
        observed_at -> Timestamptz,
        bids -> Jsonb,
        asks -> Jsonb,
    }
}

diesel::table! {
    market_candles (instrument_key, timeframe, open_time) {
        instrument_key -> Text,
        timeframe -> Text,
        open_time -> Timestamptz,
        open -> Numeric,
        high -> Numeric,
        low -> Numeric,
        close -> Numeric,
        volume -> Numeric,
        trades -> Nullable<Int8>,
        ingested_at -> Timestamptz,
    }
}

diesel::table! {
    market_funding_rates (instrument_key, funding_time) {
        instrument_key -> Text,
        funding_time -> Timestamptz,
        rate -> Numeric,
        premium -> Nullable<Numeric>,
    }
}

diesel::table! {
    market_instruments (key) {
        key -> Text,
        venue -> Text,
        kind -> Text,
        symbol -> Text,
        base -> Nullable<Text>,
        quote -> Nullable<Text>,
        active -> Bool,
        tick_size -> Nullable<Numeric>,
        lot_size -> Nullable<Numeric>,
        market_id -> Nullable<Text>,
        outcome -> Nullable<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    market_mids (instrument_key, observed_at) {
        instrument_key -> Text,
        observed_at -> Timestamptz,
        price -> Numeric,
    }
}

diesel::table! {
    prediction_markets (market_id) {
        market_id -> Text,
        venue -> Text,
        condition_id -> Nullable<Text>,
        question -> Text,
        slug -> Nullable<Text>,
        end_date -> Nullable<Timestamptz>,
        active -> Bool,
        closed -> Bool,
        resolved_outcome -> Nullable<Text>,
        metadata -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    prediction_outcome_prices (instrument_key, observed_at) {
        instrument_key -> Text,
        observed_at -> Timestamptz,
        price -> Numeric,
    }
}

diesel::table! {
    promotion_queue_entries (id) {
        id -> Uuid,
        run_id -> Uuid,
        clone_id -> Uuid,
        owner_user_id -> Uuid,
        status -> Text,
        last_skip_reason -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamptz>,
        admitted_at -> Nullable<Timestamptz>,
        lease_expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    prop_account_balances (account_id, ledger_account) {
        account_id -> Uuid,
        ledger_account -> Text,
        owner_user_id -> Uuid,
        balance -> Numeric,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    prop_account_limits (account_id) {
        account_id -> Uuid,
        owner_user_id -> Uuid,
        max_order_notional -> Numeric,
        max_leverage -> Numeric,
        max_position_notional -> Numeric,
        max_gross_exposure -> Numeric,
        daily_loss_limit -> Numeric,
        max_orders_per_minute -> Int4,
        allowed_instruments -> Nullable<Array<Nullable<Text>>>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    prop_accounts (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        clone_id -> Nullable<Uuid>,
        context -> Text,
        quote_currency -> Text,
        starting_balance -> Numeric,
        status -> Text,
        halted_reason -> Nullable<Text>,
        day_anchor -> Date,
        day_start_equity -> Numeric,
        peak_equity -> Numeric,
        last_mtm_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        orders_placed -> Int8,
    }
}

diesel::table! {
    prop_admin_audit_log (id) {
        id -> Uuid,
        admin_user_id -> Uuid,
        account_id -> Uuid,
        action -> Text,
        reason -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    prop_equity_snapshots (id) {
        id -> Uuid,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        at -> Timestamptz,
        equity -> Numeric,
        cash -> Numeric,
        unrealized_pnl -> Numeric,
        used_margin -> Numeric,
        gross_exposure -> Numeric,
        peak_equity -> Numeric,
        drawdown -> Numeric,
    }
}

diesel::table! {
    prop_fills (id) {
        id -> Uuid,
        order_id -> Uuid,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        seq -> Int4,
        instrument -> Text,
        side -> Text,
        price -> Numeric,
        size -> Numeric,
        fee -> Numeric,
        realized_pnl -> Numeric,
        source -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    prop_ledger_entries (event_id, seq) {
        event_id -> Uuid,
        seq -> Int4,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        ledger_account -> Text,
        amount -> Numeric,
    }
}

diesel::table! {
    prop_ledger_events (id) {
        id -> Uuid,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        kind -> Text,
        order_id -> Nullable<Uuid>,
        reference -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    prop_orders (id) {
        id -> Uuid,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        decision_action_id -> Nullable<Text>,
        instrument -> Text,
        side -> Text,
        order_type -> Text,
        size -> Numeric,
        limit_price -> Nullable<Numeric>,
        reduce_only -> Bool,
        time_in_force -> Text,
        status -> Text,
        rejection_code -> Nullable<Text>,
        rejection_detail -> Nullable<Text>,
        created_at -> Timestamptz,
        account_seq -> Int8,
    }
}

diesel::table! {
    prop_positions (account_id, instrument) {
        account_id -> Uuid,
        instrument -> Text,
        owner_user_id -> Uuid,
        kind -> Text,
        size -> Numeric,
        avg_entry -> Numeric,
        realized_pnl -> Numeric,
        funding_paid -> Numeric,
        last_funding_at -> Nullable<Timestamptz>,
        settled_at -> Nullable<Timestamptz>,
        opened_at -> Timestamptz,
        updated_at -> Timestamptz,
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
    royalty_bookings (id) {
        id -> Uuid,
        fill_id -> Uuid,
        account_id -> Uuid,
        clone_id -> Uuid,
        clone_owner_user_id -> Uuid,
        strategy_id -> Uuid,
        policy -> Text,
        quote_currency -> Text,
        realized_pnl -> Numeric,
        royalty -> Numeric,
        fill_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    royalty_cursor (id) {
        id -> Bool,
        fill_at -> Timestamptz,
        fill_id -> Uuid,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    royalty_entries (id) {
        id -> Uuid,
        booking_id -> Uuid,
        seq -> Int4,
        kind -> Text,
        user_id -> Nullable<Uuid>,
        strategy_id -> Uuid,
        amount -> Numeric,
        gross -> Nullable<Numeric>,
        creator_plan -> Nullable<Text>,
        quote_currency -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    secret_key_usage (version) {
        version -> Int4,
        encryptions -> Int8,
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
    strategy_evaluations (strategy_id, kind) {
        strategy_id -> Uuid,
        kind -> Text,
        metrics -> Jsonb,
        behaviour -> Array<Nullable<Float8>>,
        result_hash -> Text,
        evaluated_at -> Timestamptz,
    }
}

diesel::table! {
    strategy_lineage (id) {
        id -> Uuid,
        parent_id -> Uuid,
        child_id -> Uuid,
        mutation_type -> Text,
        mutation_detail -> Text,
        generation -> Int4,
        royalty_percent_parent -> Numeric,
        royalty_percent_child -> Numeric,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    strategy_status_history (id) {
        id -> Uuid,
        strategy_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        event -> Text,
        reason -> Text,
        actor_user_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
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
    user_strategies (id) {
        id -> Uuid,
        uploader_user_id -> Nullable<Uuid>,
        name -> Text,
        description -> Text,
        graph -> Jsonb,
        fingerprint -> Text,
        asset_type -> Text,
        status -> Text,
        score -> Nullable<Float8>,
        robustness -> Nullable<Float8>,
        generation -> Int4,
        origin -> Text,
        duplicate_of -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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
    worker_event_totals (worker_name, event) {
        worker_name -> Text,
        event -> Text,
        total -> Int8,
        updated_at -> Timestamptz,
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

diesel::joinable!(arena_clone_memberships -> clones (clone_id));
diesel::joinable!(arena_clone_memberships -> promotion_queue_entries (entry_id));
diesel::joinable!(arena_clone_memberships -> prop_accounts (prop_account_id));
diesel::joinable!(arena_clone_memberships -> users (owner_user_id));
diesel::joinable!(audition_refund_authorizations -> audition_runs (run_id));
diesel::joinable!(audition_refund_authorizations -> economy_purchases (purchase_id));
diesel::joinable!(audition_run_evaluations -> audition_runs (run_id));
diesel::joinable!(audition_run_evaluations -> users (owner_user_id));
diesel::joinable!(audition_run_events -> audition_runs (run_id));
diesel::joinable!(audition_runs -> audition_rule_sets (rule_set_code));
diesel::joinable!(audition_runs -> clones (clone_id));
diesel::joinable!(audition_runs -> economy_purchases (purchase_id));
diesel::joinable!(audition_runs -> prop_accounts (prop_account_id));
diesel::joinable!(audition_runs -> users (owner_user_id));
diesel::joinable!(auth_challenges -> users (requested_by));
diesel::joinable!(backtest_artifacts -> backtest_jobs (job_id));
diesel::joinable!(backtest_artifacts -> users (owner_user_id));
diesel::joinable!(backtest_job_metrics -> backtest_jobs (job_id));
diesel::joinable!(backtest_job_metrics -> users (owner_user_id));
diesel::joinable!(backtest_jobs -> clones (clone_id));
diesel::joinable!(backtest_jobs -> users (owner_user_id));
diesel::joinable!(backtest_usage_days -> clones (clone_id));
diesel::joinable!(backtest_usage_days -> users (owner_user_id));
diesel::joinable!(clone_asset_selection_rules -> clones (clone_id));
diesel::joinable!(clone_asset_selection_rules -> users (owner_user_id));
diesel::joinable!(clone_capacity_entitlements -> clones (clone_id));
diesel::joinable!(clone_capacity_entitlements -> users (owner_user_id));
diesel::joinable!(clone_deployment_history -> clone_deployments (deployment_id));
diesel::joinable!(clone_deployments -> clones (clone_id));
diesel::joinable!(clone_deployments -> users (owner_user_id));
diesel::joinable!(clone_moderation_actions -> clone_reports (report_id));
diesel::joinable!(clone_moderation_actions -> clones (clone_id));
diesel::joinable!(clone_public_profiles -> clones (clone_id));
diesel::joinable!(clone_public_profiles -> users (owner_user_id));
diesel::joinable!(clone_reports -> clones (clone_id));
diesel::joinable!(clone_strategy_drafts -> clones (clone_id));
diesel::joinable!(clone_strategy_drafts -> user_strategies (marketplace_strategy_id));
diesel::joinable!(clone_strategy_drafts -> users (owner_user_id));
diesel::joinable!(clone_strategy_versions -> clones (clone_id));
diesel::joinable!(clone_strategy_versions -> user_strategies (marketplace_strategy_id));
diesel::joinable!(clone_strategy_versions -> users (owner_user_id));
diesel::joinable!(clone_trade_universe -> clones (clone_id));
diesel::joinable!(clone_trade_universe -> users (owner_user_id));
diesel::joinable!(clones -> users (owner_user_id));
diesel::joinable!(copy_trade_clob_accounts -> users (owner_user_id));
diesel::joinable!(copy_trade_decisions -> copy_trade_fills (ledger_id));
diesel::joinable!(copy_trade_decisions -> users (owner_user_id));
diesel::joinable!(copy_trade_fill_shares -> copy_trade_fills (ledger_id));
diesel::joinable!(copy_trade_fill_shares -> users (owner_user_id));
diesel::joinable!(copy_trade_fills -> copy_trade_targets (target_row_id));
diesel::joinable!(copy_trade_fills -> users (owner_user_id));
diesel::joinable!(copy_trade_grants -> users (owner_user_id));
diesel::joinable!(copy_trade_targets -> users (owner_user_id));
diesel::joinable!(creator_plans -> economy_purchases (purchase_id));
diesel::joinable!(creator_plans -> users (user_id));
diesel::joinable!(decision_action_executions -> decision_actions (action_id));
diesel::joinable!(decision_action_executions -> decision_runs (run_id));
diesel::joinable!(decision_action_executions -> users (owner_user_id));
diesel::joinable!(decision_actions -> decision_runs (run_id));
diesel::joinable!(decision_actions -> users (owner_user_id));
diesel::joinable!(decision_artifacts -> decision_runs (run_id));
diesel::joinable!(decision_artifacts -> users (owner_user_id));
diesel::joinable!(decision_runs -> users (owner_user_id));
diesel::joinable!(deployment_transactions -> clone_deployments (deployment_id));
diesel::joinable!(deployment_transactions -> users (owner_user_id));
diesel::joinable!(economy_deposits -> economy_quotes (quote_id));
diesel::joinable!(economy_deposits -> users (payer_user_id));
diesel::joinable!(economy_purchases -> economy_quotes (quote_id));
diesel::joinable!(economy_purchases -> users (payer_user_id));
diesel::joinable!(economy_quotes -> users (payer_user_id));
diesel::joinable!(market_books -> market_instruments (instrument_key));
diesel::joinable!(market_candles -> market_instruments (instrument_key));
diesel::joinable!(market_funding_rates -> market_instruments (instrument_key));
diesel::joinable!(market_instruments -> prediction_markets (market_id));
diesel::joinable!(market_mids -> market_instruments (instrument_key));
diesel::joinable!(prediction_outcome_prices -> market_instruments (instrument_key));
diesel::joinable!(promotion_queue_entries -> audition_runs (run_id));
diesel::joinable!(promotion_queue_entries -> clones (clone_id));
diesel::joinable!(promotion_queue_entries -> users (owner_user_id));
diesel::joinable!(prop_accounts -> users (owner_user_id));
diesel::joinable!(prop_admin_audit_log -> prop_accounts (account_id));
diesel::joinable!(prop_admin_audit_log -> users (admin_user_id));
diesel::joinable!(prop_fills -> prop_orders (order_id));
diesel::joinable!(prop_ledger_entries -> prop_ledger_events (event_id));
diesel::joinable!(prop_ledger_events -> prop_orders (order_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(royalty_bookings -> clones (clone_id));
diesel::joinable!(royalty_bookings -> user_strategies (strategy_id));
diesel::joinable!(royalty_bookings -> users (clone_owner_user_id));
diesel::joinable!(royalty_entries -> royalty_bookings (booking_id));
diesel::joinable!(royalty_entries -> user_strategies (strategy_id));
diesel::joinable!(royalty_entries -> users (user_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(strategy_evaluations -> user_strategies (strategy_id));
diesel::joinable!(strategy_status_history -> user_strategies (strategy_id));
diesel::joinable!(strategy_status_history -> users (actor_user_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(user_strategies -> users (uploader_user_id));
diesel::joinable!(user_wallets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    arena_clone_memberships,
    audition_refund_authorizations,
    audition_rule_sets,
    audition_run_evaluations,
    audition_run_events,
    audition_runs,
    auth_challenges,
    backtest_artifacts,
    backtest_job_metrics,
    backtest_jobs,
    backtest_usage_days,
    clone_asset_selection_rules,
    clone_capacity_entitlements,
    clone_deployment_history,
    clone_deployments,
    clone_moderation_actions,
    clone_public_profiles,
    clone_reports,
    clone_strategy_drafts,
    clone_strategy_versions,
    clone_trade_universe,
    clones,
    copy_trade_clob_accounts,
    copy_trade_cursors,
    copy_trade_decisions,
    copy_trade_fill_shares,
    copy_trade_fills,
    copy_trade_grants,
    copy_trade_replicas,
    copy_trade_targets,
    copy_trade_wallet_leases,
    creator_plans,
    decision_action_executions,
    decision_actions,
    decision_artifacts,
    decision_runs,
    defi_metrics,
    deployment_transactions,
    economy_deposits,
    economy_purchases,
    economy_quotes,
    ingestion_runs,
    market_books,
    market_candles,
    market_funding_rates,
    market_instruments,
    market_mids,
    prediction_markets,
    prediction_outcome_prices,
    promotion_queue_entries,
    prop_account_balances,
    prop_account_limits,
    prop_accounts,
    prop_admin_audit_log,
    prop_equity_snapshots,
    prop_fills,
    prop_ledger_entries,
    prop_ledger_events,
    prop_orders,
    prop_positions,
    refresh_tokens,
    royalty_bookings,
    royalty_cursor,
    royalty_entries,
    secret_key_usage,
    security_events,
    service_tokens,
    sessions,
    strategy_evaluations,
    strategy_lineage,
    strategy_status_history,
    user_roles,
    user_strategies,
    user_wallets,
    users,
    worker_event_totals,
    worker_heartbeats,
);
