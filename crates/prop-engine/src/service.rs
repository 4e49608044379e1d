//! The prop service over PostgreSQL: order execution in one transaction per order, owner
//! reads, funding and settlement, reconciliation, admin actions and mark-to-market.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Cursor, Page, PageRequest};
use clones_market::{InstrumentKey, InstrumentKind, Side};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::feed::{InstrumentInfo, MarketFeed, MarketQuote};
use crate::fill::{self, FillConfig, FillSource, OrderSpec, OrderType, TimeInForce};
use crate::gates::{self, AccountSnapshot, AccountStatus, OrderCheck, RiskLimits};
use crate::ledger::{Balances, LedgerAccount};
use crate::models::{
    AccountRow, AuditRow, BalanceRow, EquitySnapshotRow, FillRow, LedgerEntryRow, LedgerEventRow,
    LimitsRow, OrderRow, PositionRow,
};
use crate::paper::PaperAccount;
use crate::position::Position;
use crate::views::{
    AccountContext, AccountView, AuditEntry, CarryReport, EquityPoint, FillView, LedgerEntryView,
    LedgerEventView, MtmReport, OpenAccount, OrderOutcome, OrderRequest, OrderStatus, OrderView,
    PositionView, ReconcileReport, ReconciledBalance,
};
use crate::{PropError, PropService, money, repo};

/// The largest size, price or amount accepted (rust_decimal and NUMERIC(28, 10) both hold it).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// The longest decision action id.
pub const MAX_ACTION_ID_LEN: usize = 128;

/// How the engine executes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropSettings {
    /// Fill simulation and fees.
    pub fill: FillConfig,
    /// The platform kill switch: when on, every order is rejected with `kill_switch`.
    pub kill_switch: bool,
}

/// The PostgreSQL prop service.
#[derive(Clone)]
pub struct PgPropService {
    db: Db,
    clock: Arc<dyn Clock>,
    feed: Arc<dyn MarketFeed>,
    settings: Arc<PropSettings>,
}

impl std::fmt::Debug for PgPropService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPropService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn corrupt(what: impl Into<String>) -> PropError {
    PropError::Corrupt(what.into())
}

fn check_amount(name: &str, value: Decimal, allow_zero: bool) -> Result<(), PropError> {
    let sign_ok = if allow_zero {
        value >= Decimal::ZERO
    } else {
        value > Decimal::ZERO
    };
    if !sign_ok || value > MAX_AMOUNT || value.scale() > crate::SCALE {
        return Err(PropError::InvalidInput(format!(
            "{name} must be {} and at most {MAX_AMOUNT} with at most {} decimals",
            if allow_zero {
                "non-negative"
            } else {
                "positive"
            },
            crate::SCALE
        )));
    }
    Ok(())
}

fn validate_limits(limits: &RiskLimits) -> Result<(), PropError> {
    check_amount("maxOrderNotional", limits.max_order_notional, false)?;
    check_amount("maxPositionNotional", limits.max_position_notional, false)?;
    check_amount("maxGrossExposure", limits.max_gross_exposure, false)?;
    check_amount("dailyLossLimit", limits.daily_loss_limit, true)?;
    if limits.max_leverage <= Decimal::ZERO || limits.max_leverage > Decimal::from(100) {
        return Err(PropError::InvalidInput(
            "max_leverage must be in (0, 100]".into(),
        ));
    }
    if limits.max_orders_per_minute == 0 || limits.max_orders_per_minute > 10_000 {
        return Err(PropError::InvalidInput(
            "max_orders_per_minute must be in 1..=10000".into(),
        ));
    }
    if let Some(list) = &limits.allowed_instruments
        && (list.len() > 1000
            || list
                .iter()
                .any(|entry| entry.is_empty() || entry.len() > 160))
    {
        return Err(PropError::InvalidInput(
            "allowed_instruments entries must be 1..=160 characters (at most 1000)".into(),
        ));
    }
    Ok(())
}

fn validate_order(request: &OrderRequest) -> Result<InstrumentKey, PropError> {
    let instrument = InstrumentKey::parse(&request.instrument)
        .map_err(|error| PropError::InvalidInput(error.to_string()))?;
    check_amount("size", request.size, false)?;
    // Refused rather than quietly executed as `ioc`: a caller asking for a resting order must
    // not believe it has one.
    if request.time_in_force == TimeInForce::Gtc {
        return Err(PropError::InvalidInput(
            "timeInForce gtc (a resting order) is not supported: orders execute on arrival; \
             use ioc or fok"
                .into(),
        ));
    }
    if let Some(limit) = request.limit_price {
        check_amount("limitPrice", limit, false)?;
        if instrument.kind() == InstrumentKind::Outcome && limit > Decimal::ONE {
            return Err(PropError::InvalidInput(
                "outcome share prices are at most 1".into(),
            ));
        }
    }
    if let Some(action) = &request.decision_action_id
        && (action.is_empty()
            || action.len() > MAX_ACTION_ID_LEN
            || !action.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(PropError::InvalidInput(format!(
            "decisionActionId must be 1..={MAX_ACTION_ID_LEN} printable characters"
        )));
    }
    Ok(instrument)
}

fn limits_of(row: &LimitsRow) -> RiskLimits {
    RiskLimits {
        max_order_notional: row.max_order_notional,
        max_leverage: row.max_leverage,
        max_position_notional: row.max_position_notional,
        max_gross_exposure: row.max_gross_exposure,
        daily_loss_limit: row.daily_loss_limit,
        max_orders_per_minute: u32::try_from(row.max_orders_per_minute).unwrap_or(0),
        allowed_instruments: row
            .allowed_instruments
            .as_ref()
            .map(|list| list.iter().flatten().cloned().collect()),
    }
}

fn status_of(row: &AccountRow) -> Result<AccountStatus, PropError> {
    AccountStatus::parse(&row.status).ok_or_else(|| corrupt("account status"))
}

fn account_view(
    row: &AccountRow,
    limits: &LimitsRow,
    cash: Decimal,
) -> Result<AccountView, PropError> {
    Ok(AccountView {
        id: row.id,
        owner_user_id: row.owner_user_id,
        clone_id: row.clone_id,
        context: AccountContext::parse(&row.context).ok_or_else(|| corrupt("account context"))?,
        quote_currency: row.quote_currency.clone(),
        starting_balance: row.starting_balance,
        cash,
        peak_equity: row.peak_equity,
        status: status_of(row)?,
        halted_reason: row.halted_reason.clone(),
        limits: limits_of(limits),
        last_mtm_at: row.last_mtm_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn side_of(value: &str) -> Result<Side, PropError> {
    Side::from_str(value).map_err(|error| corrupt(error.to_string()))
}

fn source_of(value: &str) -> Result<FillSource, PropError> {
    match value {
        "book" => Ok(FillSource::Book),
        "mid_slippage" => Ok(FillSource::MidSlippage),
        _ => Err(corrupt("fill source")),
    }
}

fn order_view(row: &OrderRow, fills: &[FillRow]) -> Result<OrderView, PropError> {
    let filled_size: Decimal = fills.iter().map(|fill| fill.size).sum();
    let notional: Decimal = fills.iter().map(|fill| fill.size * fill.price).sum();
    Ok(OrderView {
        id: row.id,
        account_id: row.account_id,
        decision_action_id: row.decision_action_id.clone(),
        instrument: row.instrument.clone(),
        side: side_of(&row.side)?,
        order_type: row.order_type.clone(),
        size: row.size,
        limit_price: row.limit_price,
        reduce_only: row.reduce_only,
        time_in_force: TimeInForce::from_str(&row.time_in_force).map_err(corrupt)?,
        status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("order status"))?,
        filled_size,
        avg_fill_price: (!filled_size.is_zero()).then(|| money(notional / filled_size)),
        fees: fills.iter().map(|fill| fill.fee).sum(),
        realized_pnl: fills.iter().map(|fill| fill.realized_pnl).sum(),
        fill_source: fills
            .first()
            .map(|fill| source_of(&fill.source))
            .transpose()?,
        rejection_code: row.rejection_code.clone(),
        rejection_detail: row.rejection_detail.clone(),
        created_at: row.created_at,
    })
}

fn fill_view(row: &FillRow) -> Result<FillView, PropError> {
    Ok(FillView {
        id: row.id,
        order_id: row.order_id,
        seq: row.seq,
        instrument: row.instrument.clone(),
        side: side_of(&row.side)?,
        price: row.price,
        size: row.size,
        fee: row.fee,
        realized_pnl: row.realized_pnl,
        source: source_of(&row.source)?,
        created_at: row.created_at,
    })
}

fn position_view(row: &PositionRow) -> PositionView {
    PositionView {
        instrument: row.instrument.clone(),
        kind: row.kind.clone(),
        size: row.size,
        avg_entry: row.avg_entry,
        realized_pnl: row.realized_pnl,
        funding_paid: row.funding_paid,
        last_funding_at: row.last_funding_at,
        settled_at: row.settled_at,
        updated_at: row.updated_at,
    }
}

fn equity_point(row: &EquitySnapshotRow) -> EquityPoint {
    EquityPoint {
        at: row.at,
        equity: row.equity,
        cash: row.cash,
        unrealized_pnl: row.unrealized_pnl,
        used_margin: row.used_margin,
        gross_exposure: row.gross_exposure,
        peak_equity: row.peak_equity,
        drawdown: row.drawdown,
    }
}

fn audit_view(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        admin_user_id: row.admin_user_id,
        account_id: row.account_id,
        action: row.action,
        reason: row.reason,
        details: row.details,
        created_at: row.created_at,
    }
}

fn balances_from(rows: &[BalanceRow]) -> Result<Balances, PropError> {
    rows.iter()
        .map(|row| {
            LedgerAccount::from_str(&row.ledger_account)
                .map(|account| (account, row.balance))
                .map_err(corrupt)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Balances::from_pairs)
}

fn paper_from(
    balances: &[BalanceRow],
    positions: &[PositionRow],
) -> Result<PaperAccount, PropError> {
    Ok(PaperAccount {
        balances: balances_from(balances)?,
        positions: positions
            .iter()
            .map(|row| {
                (
                    row.instrument.clone(),
                    Position::new(row.size, row.avg_entry),
                )
            })
            .collect(),
    })
}

fn cash_of(rows: &[BalanceRow]) -> Decimal {
    rows.iter()
        .find(|row| row.ledger_account == LedgerAccount::Cash.as_str())
        .map(|row| row.balance)
        .unwrap_or_default()
}

fn owned_account(conn: &mut PgConnection, account_id: Uuid) -> Result<AccountRow, PropError> {
    repo::find_account(conn, account_id)?.ok_or(PropError::AccountNotFound)
}

fn outcome_of(
    conn: &mut PgConnection,
    order: &OrderRow,
    created: bool,
) -> Result<OrderOutcome, PropError> {
    let rows = repo::fills_of_order(conn, order.id)?;
    let fills = rows.iter().map(fill_view).collect::<Result<_, _>>()?;
    Ok(OrderOutcome {
        order: order_view(order, &rows)?,
        fills,
        created,
    })
}

/// Inserts the order; when a concurrent delivery of the same action won, returns that one.
fn insert_or_existing(
    conn: &mut PgConnection,
    row: &OrderRow,
) -> Result<Option<OrderOutcome>, PropError> {
    if repo::insert_order(conn, row)? {
        return Ok(None);
    }
    let action = row
        .decision_action_id
        .as_deref()
        .ok_or_else(|| corrupt("order conflict without an action id"))?;
    let existing = repo::order_by_action(conn, row.account_id, action)?
        .ok_or_else(|| corrupt("conflicting order is not visible"))?;
    outcome_of(conn, &existing, false).map(Some)
}

/// Everything read from the market before the order's transaction opens.
struct MarketView {
    info: Option<InstrumentInfo>,
    quote: Option<MarketQuote>,
    marks: BTreeMap<String, Decimal>,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one transaction body; every input is read before the transaction opens"
)]
fn execute_order(
    conn: &mut PgConnection,
    owner: Uuid,
    account_id: Uuid,
    request: &OrderRequest,
    instrument: &InstrumentKey,
    market: &MarketView,
    now: DateTime<Utc>,
    settings: &PropSettings,
) -> Result<OrderOutcome, PropError> {
    let account = repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
    let limits =
        repo::limits_of(conn, account_id)?.ok_or_else(|| corrupt("account without limits"))?;
    if let Some(action) = &request.decision_action_id
        && let Some(existing) = repo::order_by_action(conn, account_id, action)?
    {
        return outcome_of(conn, &existing, false);
    }
    let balance_rows = repo::balances_of(conn, account_id)?;
    let position_rows = repo::positions_of(conn, account_id)?;
    let mut paper = paper_from(&balance_rows, &position_rows)?;
    let equity = paper.equity(&market.marks);
    let today = now.date_naive();
    let day_start_equity = if account.day_anchor < today {
        repo::roll_day(conn, account_id, today, equity, now)?;
        equity
    } else {
        account.day_start_equity
    };
    let recent = repo::count_orders_since(conn, account_id, now - Duration::minutes(1))?;
    let key = instrument.to_string();
    let snapshot = AccountSnapshot {
        status: status_of(&account)?,
        kill_switch: settings.kill_switch,
        equity,
        day_start_equity,
        gross_exposure: paper.gross_exposure(&market.marks),
        position: paper.position(&key),
        orders_last_minute: u32::try_from(recent).unwrap_or(u32::MAX),
    };
    let check = OrderCheck {
        instrument,
        info: market.info.as_ref(),
        price: market
            .quote
            .as_ref()
            .map(|quote| (quote.mid, now - quote.mid_at)),
        side: request.side,
        size: request.size,
        reduce_only: request.reduce_only,
    };
    let mut row = OrderRow {
        id: Uuid::new_v4(),
        account_id,
        owner_user_id: owner,
        decision_action_id: request.decision_action_id.clone(),
        instrument: key.clone(),
        side: request.side.as_str().into(),
        order_type: if request.limit_price.is_some() {
            "limit"
        } else {
            "market"
        }
        .into(),
        size: request.size,
        limit_price: request.limit_price,
        reduce_only: request.reduce_only,
        time_in_force: request.time_in_force.as_str().into(),
        status: OrderStatus::Rejected.as_str().into(),
        rejection_code: None,
        rejection_detail: None,
        created_at: now,
    };
    if let Err(rejection) = gates::check_order(
        &snapshot,
        &limits_of(&limits),
        &check,
        settings.fill.max_quote_age,
    ) {
        row.rejection_code = Some(rejection.reason.code().into());
        row.rejection_detail = Some(rejection.detail);
        if let Some(existing) = insert_or_existing(conn, &row)? {
            return Ok(existing);
        }
        return outcome_of(conn, &row, true);
    }
    let quote = market
        .quote
        .as_ref()
        .ok_or_else(|| corrupt("gates passed without a quote"))?;
    let spec = OrderSpec {
        side: request.side,
        size: request.size,
        order_type: match request.limit_price {
            Some(price) => OrderType::Limit { price },
            None => OrderType::Market,
        },
        time_in_force: request.time_in_force,
    };
    let execution = match fill::simulate(&spec, instrument.kind(), quote, now, &settings.fill) {
        Ok(execution) => execution,
        Err(no_fill) => {
            row.status = OrderStatus::Unfilled.as_str().into();
            row.rejection_code = Some(no_fill.code().into());
            row.rejection_detail = Some(format!("nothing filled: {}", no_fill.code()));
            if let Some(existing) = insert_or_existing(conn, &row)? {
                return Ok(existing);
            }
            return outcome_of(conn, &row, true);
        }
    };
    let before_flat = paper.position(&key).is_flat();
    let outcome = paper.execute(instrument, request.side, &execution, &settings.fill.fees);
    let filled = execution.filled_size();
    row.status = if filled == request.size {
        OrderStatus::Filled
    } else {
        OrderStatus::PartiallyFilled
    }
    .as_str()
    .into();

    if let Some(existing) = insert_or_existing(conn, &row)? {
        return Ok(existing);
    }
    let fills: Vec<FillRow> = outcome
        .fills
        .iter()
        .enumerate()
        .map(|(seq, record)| FillRow {
            id: Uuid::new_v4(),
            order_id: row.id,
            account_id,
            owner_user_id: owner,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            instrument: key.clone(),
            side: request.side.as_str().into(),
            price: record.price,
            size: record.size,
            fee: record.fee,
            realized_pnl: record.realized_pnl,
            source: execution.source.as_str().into(),
            created_at: now,
        })
        .collect();
    repo::insert_fills(conn, &fills)?;
    let previous = position_rows
        .iter()
        .find(|position| position.instrument == key);
    repo::upsert_position(
        conn,
        &PositionRow {
            account_id,
            instrument: key.clone(),
            owner_user_id: owner,
            kind: instrument.kind().as_str().into(),
            size: outcome.after.size,
            avg_entry: outcome.after.avg_entry,
            realized_pnl: previous.map(|p| p.realized_pnl).unwrap_or_default()
                + outcome.realized_pnl(),
            funding_paid: previous.map(|p| p.funding_paid).unwrap_or_default(),
            last_funding_at: previous.and_then(|p| p.last_funding_at),
            settled_at: None,
            opened_at: match previous {
                Some(p) if !before_flat => p.opened_at,
                _ => now,
            },
            updated_at: now,
        },
    )?;
    if let Some(event) = &outcome.event {
        repo::record_event(conn, account_id, owner, event, Some(row.id), Some(key), now)?;
    }
    outcome_of(conn, &row, true)
}

/// Funding and settlements found due before the transaction.
struct Carry {
    funding: Vec<(String, crate::feed::FundingRate)>,
    resolutions: Vec<(String, crate::feed::OutcomeResolution)>,
}

fn apply_carry(
    conn: &mut PgConnection,
    account_id: Uuid,
    carry: &Carry,
    now: DateTime<Utc>,
) -> Result<CarryReport, PropError> {
    let account = repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
    let owner = account.owner_user_id;
    let balance_rows = repo::balances_of(conn, account_id)?;
    let mut rows: BTreeMap<String, PositionRow> = repo::positions_of(conn, account_id)?
        .into_iter()
        .map(|row| (row.instrument.clone(), row))
        .collect();
    let mut paper = paper_from(&balance_rows, &rows.values().cloned().collect::<Vec<_>>())?;
    let mut report = CarryReport::default();
    for (key, rate) in &carry.funding {
        let Some(row) = rows.get_mut(key) else {
            continue;
        };
        let due = !row.size.is_zero()
            && row.opened_at <= rate.at
            && row.last_funding_at.is_none_or(|last| last < rate.at);
        if !due {
            continue;
        }
        let (paid, event) = paper.apply_funding(key, rate.mark, rate.rate);
        if let Some(event) = &event {
            repo::record_event(conn, account_id, owner, event, None, Some(key.clone()), now)?;
        }
        row.funding_paid += paid;
        row.last_funding_at = Some(rate.at);
        row.updated_at = now;
        repo::upsert_position(conn, row)?;
        report.funding_payments += 1;
        report.funding_paid += paid;
    }
    for (key, resolution) in &carry.resolutions {
        let Some(row) = rows.get_mut(key) else {
            continue;
        };
        if row.size.is_zero() || row.kind != InstrumentKind::Outcome.as_str() {
            continue;
        }
        let (pnl, event) = paper.settle(key, resolution.payout);
        if let Some(event) = &event {
            repo::record_event(conn, account_id, owner, event, None, Some(key.clone()), now)?;
        }
        row.size = Decimal::ZERO;
        row.avg_entry = Decimal::ZERO;
        row.realized_pnl += pnl;
        row.settled_at = Some(resolution.resolved_at);
        row.updated_at = now;
        repo::upsert_position(conn, row)?;
        report.settlements += 1;
        report.settlement_pnl += pnl;
    }
    Ok(report)
}

/// Equity figures of one account at `marks`.
struct Marked {
    equity: Decimal,
    cash: Decimal,
    unrealized: Decimal,
    gross: Decimal,
    unmarked: u64,
}

fn mark(cash: Decimal, positions: &[&PositionRow], marks: &BTreeMap<String, Decimal>) -> Marked {
    let mut unrealized = Decimal::ZERO;
    let mut gross = Decimal::ZERO;
    let mut unmarked = 0;
    for row in positions {
        let position = Position::new(row.size, row.avg_entry);
        let price = match marks.get(&row.instrument) {
            Some(price) => *price,
            None => {
                unmarked += 1;
                row.avg_entry
            }
        };
        unrealized += position.unrealized_pnl(price);
        gross += position.notional(price);
    }
    Marked {
        equity: cash + unrealized,
        cash,
        unrealized,
        gross,
        unmarked,
    }
}

impl PgPropService {
    /// A service over `db`, reading time from `clock` and markets from `feed`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        feed: Arc<dyn MarketFeed>,
        settings: PropSettings,
    ) -> Self {
        Self {
            db,
            clock,
            feed,
            settings: Arc::new(settings),
        }
    }

    /// Latest mids of `instruments` at `now` (instruments without a quote are left out).
    async fn marks(
        &self,
        instruments: impl IntoIterator<Item = String>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Decimal>, PropError> {
        let mut marks = BTreeMap::new();
        for instrument in instruments.into_iter().collect::<BTreeSet<_>>() {
            if let Some(quote) = self.feed.quote(&instrument, now).await? {
                marks.insert(instrument, quote.mid);
            }
        }
        Ok(marks)
    }

    async fn owner_read<T, F>(&self, owner: Uuid, account_id: Uuid, work: F) -> Result<T, PropError>
    where
        F: FnOnce(&mut PgConnection, &AccountRow) -> Result<T, PropError> + Send + 'static,
        T: Send + 'static,
    {
        self.db
            .tenant_transaction(owner, move |conn| {
                let account = owned_account(conn, account_id)?;
                work(conn, &account)
            })
            .await
    }

    async fn carry_due(&self, account_id: Uuid, now: DateTime<Utc>) -> Result<Carry, PropError> {
        let positions = self
            .db
            .cross_tenant_transaction("prop_carry_read", move |conn| {
                owned_account(conn, account_id)?;
                repo::positions_of(conn, account_id).map_err(PropError::from)
            })
            .await?;
        let mut carry = Carry {
            funding: Vec::new(),
            resolutions: Vec::new(),
        };
        for position in positions.iter().filter(|p| !p.size.is_zero()) {
            if position.kind == InstrumentKind::Perp.as_str() {
                if let Some(rate) = self.feed.funding_rate(&position.instrument, now).await? {
                    carry.funding.push((position.instrument.clone(), rate));
                }
            } else if position.kind == InstrumentKind::Outcome.as_str()
                && let Some(resolution) = self
                    .feed
                    .outcome_resolution(&position.instrument, now)
                    .await?
            {
                carry
                    .resolutions
                    .push((position.instrument.clone(), resolution));
            }
        }
        Ok(carry)
    }

    async fn admin_status(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
        halt: bool,
    ) -> Result<AuditEntry, PropError> {
        let reason = validate_reason(reason)?;
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction("prop_admin", move |conn| {
                let account =
                    repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
                let status = status_of(&account)?;
                let (next, reason_column, action) = match (status, halt) {
                    (AccountStatus::Closed, _) => return Err(PropError::AccountClosed),
                    (AccountStatus::Halted, true) => return Err(PropError::AlreadyHalted),
                    (AccountStatus::Active, false) => return Err(PropError::NotHalted),
                    (AccountStatus::Active, true) => {
                        (AccountStatus::Halted, Some(reason.as_str()), "halt")
                    }
                    (AccountStatus::Halted, false) => (AccountStatus::Active, None, "resume"),
                };
                repo::set_status(conn, account_id, next.as_str(), reason_column, now)?;
                let row = AuditRow {
                    id: Uuid::new_v4(),
                    admin_user_id: admin,
                    account_id,
                    action: action.into(),
                    reason: reason.clone(),
                    details: serde_json::json!({ "from": status.as_str(), "to": next.as_str() }),
                    created_at: now,
                };
                repo::insert_audit(conn, &row)?;
                Ok(audit_view(row))
            })
            .await
    }
}

fn validate_reason(reason: &str) -> Result<String, PropError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(PropError::InvalidInput(
            "a reason of 1..=500 characters is required".into(),
        ));
    }
    Ok(reason.to_string())
}

#[async_trait]
impl PropService for PgPropService {
    async fn open_account(
        &self,
        owner: Uuid,
        request: OpenAccount,
    ) -> Result<AccountView, PropError> {
        check_amount("startingBalance", request.starting_balance, false)?;
        let currency_ok = (2..=10).contains(&request.quote_currency.len())
            && request
                .quote_currency
                .bytes()
                .all(|b| b.is_ascii_uppercase());
        if !currency_ok {
            return Err(PropError::InvalidInput(
                "quote_currency must be 2..=10 upper-case letters".into(),
            ));
        }
        let limits = request
            .limits
            .clone()
            .unwrap_or_else(|| RiskLimits::for_balance(request.starting_balance));
        validate_limits(&limits)?;
        let now = self.clock.now();
        let row = AccountRow {
            id: request.account_id.unwrap_or_else(Uuid::new_v4),
            owner_user_id: owner,
            clone_id: request.clone_id,
            context: request.context.as_str().into(),
            quote_currency: request.quote_currency.clone(),
            starting_balance: request.starting_balance,
            status: AccountStatus::Active.as_str().into(),
            halted_reason: None,
            day_anchor: now.date_naive(),
            day_start_equity: request.starting_balance,
            peak_equity: request.starting_balance,
            last_mtm_at: None,
            created_at: now,
            updated_at: now,
        };
        let limits_row = LimitsRow {
            account_id: row.id,
            owner_user_id: owner,
            max_order_notional: limits.max_order_notional,
            max_leverage: limits.max_leverage,
            max_position_notional: limits.max_position_notional,
            max_gross_exposure: limits.max_gross_exposure,
            daily_loss_limit: limits.daily_loss_limit,
            max_orders_per_minute: i32::try_from(limits.max_orders_per_minute).unwrap_or(i32::MAX),
            allowed_instruments: limits
                .allowed_instruments
                .map(|list| list.into_iter().map(Some).collect()),
            updated_at: now,
        };
        self.db
            .tenant_transaction(owner, move |conn| {
                if !repo::insert_account(conn, &row)? {
                    // The id was opened before: by this same request repeated, or by another.
                    let existing = repo::find_account(conn, row.id)?
                        .filter(|existing| {
                            existing.owner_user_id == owner
                                && existing.clone_id == row.clone_id
                                && existing.context == row.context
                                && existing.quote_currency == row.quote_currency
                                && existing.starting_balance == row.starting_balance
                        })
                        .ok_or_else(|| {
                            PropError::InvalidInput(
                                "accountId is already used by another account".into(),
                            )
                        })?;
                    let balances = repo::balances_of(conn, existing.id)?;
                    let limits = repo::limits_of(conn, existing.id)?
                        .ok_or_else(|| corrupt("account without limits"))?;
                    return account_view(&existing, &limits, cash_of(&balances));
                }
                repo::insert_limits(conn, &limits_row)?;
                let (_, opening) = PaperAccount::open(row.starting_balance);
                if let Some(event) = &opening {
                    repo::record_event(conn, row.id, owner, event, None, None, now)?;
                }
                account_view(&row, &limits_row, row.starting_balance)
            })
            .await
    }

    async fn place_order(
        &self,
        owner: Uuid,
        account_id: Uuid,
        request: OrderRequest,
    ) -> Result<OrderOutcome, PropError> {
        let instrument = validate_order(&request)?;
        let now = self.clock.now();
        let positions = self
            .owner_read(owner, account_id, move |conn, _| {
                repo::positions_of(conn, account_id).map_err(PropError::from)
            })
            .await?;
        let key = instrument.to_string();
        let info = self.feed.instrument(&key).await?;
        let quote = self.feed.quote(&key, now).await?;
        let mut marks = self
            .marks(
                positions
                    .iter()
                    .filter(|p| !p.size.is_zero() && p.instrument != key)
                    .map(|p| p.instrument.clone()),
                now,
            )
            .await?;
        if let Some(quote) = &quote {
            marks.insert(key, quote.mid);
        }
        let market = MarketView { info, quote, marks };
        let settings = self.settings.clone();
        self.db
            .tenant_transaction(owner, move |conn| {
                execute_order(
                    conn,
                    owner,
                    account_id,
                    &request,
                    &instrument,
                    &market,
                    now,
                    &settings,
                )
            })
            .await
    }

    async fn accounts(&self, owner: Uuid) -> Result<Vec<AccountView>, PropError> {
        self.db
            .tenant_transaction(owner, move |conn| {
                let rows = repo::accounts_of(conn, owner)?;
                let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
                let cash: BTreeMap<Uuid, Decimal> =
                    repo::cash_of_accounts(conn, &ids)?.into_iter().collect();
                let limits: BTreeMap<Uuid, LimitsRow> = repo::limits_of_accounts(conn, &ids)?
                    .into_iter()
                    .map(|limits| (limits.account_id, limits))
                    .collect();
                rows.iter()
                    .map(|row| {
                        let limits = limits
                            .get(&row.id)
                            .ok_or_else(|| corrupt("account without limits"))?;
                        account_view(row, limits, cash.get(&row.id).copied().unwrap_or_default())
                    })
                    .collect()
            })
            .await
    }

    async fn account(&self, owner: Uuid, account_id: Uuid) -> Result<AccountView, PropError> {
        self.owner_read(owner, account_id, move |conn, account| {
            let balances = repo::balances_of(conn, account_id)?;
            let limits = repo::limits_of(conn, account_id)?
                .ok_or_else(|| corrupt("account without limits"))?;
            account_view(account, &limits, cash_of(&balances))
        })
        .await
    }

    async fn positions(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Vec<PositionView>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(repo::positions_of(conn, account_id)?
                .iter()
                .map(position_view)
                .collect())
        })
        .await
    }

    async fn orders(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<OrderView>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            let orders = Page::from_rows(repo::orders_of(conn, account_id, &page)?, &page, |row| {
                Cursor::new(row.created_at, row.id)
            });
            let ids: Vec<Uuid> = orders.items.iter().map(|order| order.id).collect();
            let mut fills: BTreeMap<Uuid, Vec<FillRow>> = BTreeMap::new();
            for fill in repo::fills_of_orders(conn, &ids)? {
                fills.entry(fill.order_id).or_default().push(fill);
            }
            orders.try_map(|order| {
                order_view(
                    &order,
                    fills.get(&order.id).map(Vec::as_slice).unwrap_or_default(),
                )
            })
        })
        .await
    }

    async fn fills(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Page::from_rows(repo::fills_of(conn, account_id, &page)?, &page, |row| {
                Cursor::new(row.created_at, row.id)
            })
            .try_map(|row| fill_view(&row))
        })
        .await
    }

    async fn ledger(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<LedgerEventView>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            let events: Page<LedgerEventRow> = Page::from_rows(
                repo::ledger_events_of(conn, account_id, &page)?,
                &page,
                |row| Cursor::new(row.created_at, row.id),
            );
            let ids: Vec<Uuid> = events.items.iter().map(|event| event.id).collect();
            let mut entries: BTreeMap<Uuid, Vec<LedgerEntryRow>> = BTreeMap::new();
            for entry in repo::entries_of_events(conn, &ids)? {
                entries.entry(entry.event_id).or_default().push(entry);
            }
            events.try_map(|event| {
                let rows = entries.remove(&event.id).unwrap_or_default();
                Ok(LedgerEventView {
                    id: event.id,
                    kind: event.kind.parse().map_err(corrupt)?,
                    order_id: event.order_id,
                    reference: event.reference,
                    created_at: event.created_at,
                    entries: rows
                        .into_iter()
                        .map(|row| {
                            Ok(LedgerEntryView {
                                ledger_account: row.ledger_account.parse().map_err(corrupt)?,
                                amount: row.amount,
                            })
                        })
                        .collect::<Result<_, PropError>>()?,
                })
            })
        })
        .await
    }

    async fn equity_curve(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(
                Page::from_rows(repo::snapshots_of(conn, account_id, &page)?, &page, |row| {
                    Cursor::new(row.at, row.id)
                })
                .map(|row| equity_point(&row)),
            )
        })
        .await
    }

    async fn equity_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        after: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<EquityPoint>, PropError> {
        let limit = i64::from(limit.clamp(1, 1000));
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(repo::snapshots_after(conn, account_id, after, limit)?
                .iter()
                .map(equity_point)
                .collect())
        })
        .await
    }

    async fn fills_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        after: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<FillView>, PropError> {
        let limit = i64::from(limit.clamp(1, 1000));
        self.owner_read(owner, account_id, move |conn, _| {
            repo::fills_after(conn, account_id, after, limit)?
                .iter()
                .map(fill_view)
                .collect()
        })
        .await
    }

    async fn reconcile(&self, account_id: Uuid) -> Result<ReconcileReport, PropError> {
        self.db
            .cross_tenant_transaction("prop_reconcile", move |conn| {
                owned_account(conn, account_id)?;
                let tracked = balances_from(&repo::balances_of(conn, account_id)?)?;
                let mut derived = Balances::new();
                let derived_rows = repo::derived_balances(conn, account_id)?;
                let mut ledger_total = Decimal::ZERO;
                let mut accounts = BTreeSet::new();
                for (name, amount) in derived_rows {
                    let account: LedgerAccount = name.parse().map_err(corrupt)?;
                    let amount = amount.unwrap_or_default();
                    ledger_total += amount;
                    accounts.insert(account);
                    derived = Balances::from_pairs(derived.iter().chain([(account, amount)]));
                }
                accounts.extend(tracked.iter().map(|(account, _)| account));
                let balances: Vec<ReconciledBalance> = accounts
                    .into_iter()
                    .map(|account| ReconciledBalance {
                        ledger_account: account,
                        tracked: tracked.get(account),
                        derived: derived.get(account),
                    })
                    .collect();
                let balanced = ledger_total.is_zero()
                    && balances
                        .iter()
                        .all(|balance| balance.tracked == balance.derived);
                Ok(ReconcileReport {
                    account_id,
                    balances,
                    ledger_total,
                    balanced,
                })
            })
            .await
    }

    async fn apply_funding_and_settlement(
        &self,
        account_id: Uuid,
    ) -> Result<CarryReport, PropError> {
        let now = self.clock.now();
        let carry = self.carry_due(account_id, now).await?;
        if carry.funding.is_empty() && carry.resolutions.is_empty() {
            return Ok(CarryReport::default());
        }
        self.db
            .cross_tenant_transaction("prop_carry", move |conn| {
                apply_carry(conn, account_id, &carry, now)
            })
            .await
    }

    async fn apply_carry_due(&self, batch: u32) -> Result<CarryReport, PropError> {
        let limit = i64::from(batch.clamp(1, 100_000));
        let accounts = self
            .db
            .cross_tenant_transaction("prop_carry_scan", move |conn| {
                repo::accounts_with_open_positions(conn, limit).map_err(PropError::from)
            })
            .await?;
        let mut total = CarryReport::default();
        for account_id in accounts {
            let applied = self.apply_funding_and_settlement(account_id).await?;
            total.funding_payments += applied.funding_payments;
            total.funding_paid += applied.funding_paid;
            total.settlements += applied.settlements;
            total.settlement_pnl += applied.settlement_pnl;
        }
        Ok(total)
    }

    async fn halt(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        self.admin_status(admin, account_id, reason, true).await
    }

    async fn resume(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        self.admin_status(admin, account_id, reason, false).await
    }

    async fn adjust(
        &self,
        admin: Uuid,
        account_id: Uuid,
        amount: Decimal,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        let reason = validate_reason(reason)?;
        if amount.is_zero() || amount.abs() > MAX_AMOUNT || amount.scale() > crate::SCALE {
            return Err(PropError::InvalidInput(format!(
                "amount must be non-zero, at most {MAX_AMOUNT} in size, with at most {} decimals",
                crate::SCALE
            )));
        }
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction("prop_admin", move |conn| {
                let account =
                    repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
                if status_of(&account)? == AccountStatus::Closed {
                    return Err(PropError::AccountClosed);
                }
                let audit_id = Uuid::new_v4();
                let event = crate::ledger::LedgerEvent::adjustment(amount)
                    .ok_or_else(|| corrupt("empty adjustment"))?;
                let event_id = repo::record_event(
                    conn,
                    account_id,
                    account.owner_user_id,
                    &event,
                    None,
                    Some(format!("audit:{audit_id}")),
                    now,
                )?;
                let row = AuditRow {
                    id: audit_id,
                    admin_user_id: admin,
                    account_id,
                    action: "adjustment".into(),
                    reason,
                    details: serde_json::json!({
                        "amount": amount.to_string(),
                        "ledger_event_id": event_id,
                    }),
                    created_at: now,
                };
                repo::insert_audit(conn, &row)?;
                Ok(audit_view(row))
            })
            .await
    }

    async fn audit_log(
        &self,
        account_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, PropError> {
        self.db
            .cross_tenant_transaction("prop_admin_audit_read", move |conn| {
                Ok(
                    Page::from_rows(repo::audit_log(conn, account_id, &page)?, &page, |row| {
                        Cursor::new(row.created_at, row.id)
                    })
                    .map(audit_view),
                )
            })
            .await
    }

    async fn mark_to_market(&self, batch: u32) -> Result<MtmReport, PropError> {
        let now = self.clock.now();
        let limit = i64::from(batch.clamp(1, 100_000));
        let (accounts, positions, (cash, leverage)) = self
            .db
            .cross_tenant_transaction("prop_mtm_read", move |conn| {
                let accounts = repo::lease_mtm_batch(conn, now, limit)?;
                let ids: Vec<Uuid> = accounts.iter().map(|row| row.id).collect();
                let positions = repo::positions_of_accounts(conn, &ids)?;
                let cash: BTreeMap<Uuid, Decimal> =
                    repo::cash_of_accounts(conn, &ids)?.into_iter().collect();
                let leverage: BTreeMap<Uuid, Decimal> = repo::limits_of_accounts(conn, &ids)?
                    .into_iter()
                    .map(|limits| (limits.account_id, limits.max_leverage))
                    .collect();
                Ok::<_, PropError>((accounts, positions, (cash, leverage)))
            })
            .await?;
        if accounts.is_empty() {
            return Ok(MtmReport::default());
        }
        let marks = self
            .marks(positions.iter().map(|p| p.instrument.clone()), now)
            .await?;
        let mut by_account: BTreeMap<Uuid, Vec<&PositionRow>> = BTreeMap::new();
        for position in &positions {
            by_account
                .entry(position.account_id)
                .or_default()
                .push(position);
        }
        let mut report = MtmReport::default();
        let mut snapshots = Vec::with_capacity(accounts.len());
        let mut peaks = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let held = by_account
                .get(&account.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let marked = mark(
                cash.get(&account.id).copied().unwrap_or_default(),
                held,
                &marks,
            );
            let peak = account.peak_equity.max(marked.equity);
            report.accounts += 1;
            report.unmarked_positions += marked.unmarked;
            snapshots.push(EquitySnapshotRow {
                id: Uuid::new_v4(),
                account_id: account.id,
                owner_user_id: account.owner_user_id,
                at: now,
                equity: marked.equity,
                cash: marked.cash,
                unrealized_pnl: marked.unrealized,
                used_margin: money(
                    marked.gross / leverage.get(&account.id).copied().unwrap_or(Decimal::ONE),
                ),
                gross_exposure: marked.gross,
                peak_equity: peak,
                drawdown: (peak - marked.equity).max(Decimal::ZERO),
            });
            peaks.push((account.id, peak));
        }
        self.db
            .cross_tenant_transaction("prop_mtm_write", move |conn| {
                repo::insert_snapshots(conn, &snapshots)?;
                repo::record_mtm_batch(conn, &peaks, now)?;
                Ok::<_, PropError>(())
            })
            .await?;
        Ok(report)
    }

    async fn latest_equity(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Option<EquityPoint>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(repo::latest_snapshot(conn, account_id)?
                .as_ref()
                .map(equity_point))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every key the market grammar accepts reaches execution unchanged.
        #[test]
        fn orders_accept_every_key_of_the_grammar(key in clones_market::arbitrary::key_text()) {
            let request = OrderRequest {
                decision_action_id: None,
                instrument: key.clone(),
                side: Side::Buy,
                size: Decimal::ONE,
                limit_price: None,
                reduce_only: false,
                time_in_force: TimeInForce::Ioc,
            };
            let parsed = validate_order(&request).map(|instrument| instrument.to_string());
            prop_assert_eq!(parsed.ok(), Some(key));
        }
    }
}
