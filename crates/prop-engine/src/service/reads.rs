//! Owner reads: accounts, positions, the newest-first pages of orders, fills, ledger events
//! and equity snapshots, the latest snapshot, and the oldest-first forward reads incremental
//! consumers (lifecycle's evaluator) follow.
//!
//! Every owner read runs in the owner's tenant transaction, so someone else's account is not
//! found; the one system read (`trading_states`) runs across tenants and checks each named
//! owner itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clones_kernel::{Cursor, Page, PageRequest};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::mapping::{account_view, cash_of, equity_point, fill_view, order_view, position_view};
use super::{PgPropService, corrupt};
use crate::models::{AccountRow, FillRow, LedgerEntryRow, LedgerEventRow, LimitsRow};
use crate::views::{
    AccountView, ArenaProfit, EquityPoint, FillView, LedgerEntryView, LedgerEventView, OrderView,
    PositionView, TradingState,
};
use crate::{LedgerAccount, PropError, repo};

impl PgPropService {
    pub(super) async fn accounts_impl(&self, owner: Uuid) -> Result<Vec<AccountView>, PropError> {
        self.db
            .tenant_transaction(owner, move |conn| {
                let rows = repo::accounts_of(conn, owner)?;
                let mut views = views_of(conn, &rows)?;
                rows.iter()
                    .map(|row| {
                        views
                            .remove(&row.id)
                            .ok_or_else(|| corrupt("account without a view"))
                    })
                    .collect()
            })
            .await
    }

    pub(super) async fn account_impl(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<AccountView, PropError> {
        self.owner_read(owner, account_id, move |conn, account| {
            let balances = repo::balances_of(conn, account_id)?;
            let limits = repo::limits_of(conn, account_id)?
                .ok_or_else(|| corrupt("account without limits"))?;
            account_view(account, &limits, cash_of(&balances))
        })
        .await
    }

    pub(super) async fn positions_impl(
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

    pub(super) async fn orders_impl(
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

    pub(super) async fn fills_impl(
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

    pub(super) async fn ledger_impl(
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

    pub(super) async fn equity_curve_impl(
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

    pub(super) async fn equity_after_impl(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(Page::from_rows(
                repo::snapshots_after(conn, account_id, &page)?,
                &page,
                |row| EquityPoint::position_at(row.at),
            )
            .map(|row| equity_point(&row)))
        })
        .await
    }

    pub(super) async fn fills_after_impl(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Page::from_rows(repo::fills_after(conn, account_id, &page)?, &page, |row| {
                Cursor::new(row.created_at, row.id)
            })
            .try_map(|row| fill_view(&row))
        })
        .await
    }

    pub(super) async fn latest_equity_impl(
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

    pub(super) async fn fees_paid_impl(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Decimal, PropError> {
        self.owner_read(owner, account_id, move |conn, _| {
            Ok(repo::balances_of(conn, account_id)?
                .iter()
                .find(|row| row.ledger_account == LedgerAccount::Fees.as_str())
                .map_or(Decimal::ZERO, |row| row.balance))
        })
        .await
    }

    pub(super) async fn trading_states_impl(
        &self,
        accounts: Vec<(Uuid, Uuid)>,
    ) -> Result<Vec<Option<TradingState>>, PropError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .cross_tenant_transaction("prop: trading states", move |conn| {
                let ids: Vec<Uuid> = accounts.iter().map(|(_, id)| *id).collect();
                let named: std::collections::HashSet<(Uuid, Uuid)> =
                    accounts.iter().copied().collect();
                let rows: Vec<AccountRow> = repo::accounts_by_ids(conn, &ids)?
                    .into_iter()
                    // Each account is its named owner's or absent.
                    .filter(|row| named.contains(&(row.owner_user_id, row.id)))
                    .collect();
                let views = views_of(conn, &rows)?;
                let mut positions: BTreeMap<Uuid, Vec<PositionView>> = BTreeMap::new();
                for row in repo::positions_of_accounts(conn, &ids)? {
                    positions
                        .entry(row.account_id)
                        .or_default()
                        .push(position_view(&row));
                }
                for held in positions.values_mut() {
                    held.sort_by(|a, b| a.instrument.cmp(&b.instrument));
                }
                let equity: BTreeMap<Uuid, EquityPoint> = repo::latest_snapshots(conn, &ids)?
                    .iter()
                    .map(|row| (row.account_id, equity_point(row)))
                    .collect();
                accounts
                    .into_iter()
                    .map(|(owner, id)| {
                        // An account named twice is answered twice.
                        let account = views
                            .get(&id)
                            .filter(|view| view.owner_user_id == owner)?
                            .clone();
                        Some(TradingState {
                            account,
                            positions: positions.get(&id).cloned().unwrap_or_default(),
                            latest_equity: equity.get(&id).cloned(),
                        })
                    })
                    .map(Ok)
                    .collect()
            })
            .await
    }

    pub(super) async fn arena_profits_after_impl(
        &self,
        page: PageRequest,
        until: DateTime<Utc>,
    ) -> Result<Page<ArenaProfit>, PropError> {
        self.db
            .cross_tenant_transaction("prop_arena_profits_read", move |conn| {
                let rows = repo::arena_profits_after(conn, &page, until)?;
                Page::from_rows(rows, &page, |(row, _, _)| {
                    Cursor::new(row.created_at, row.id)
                })
                .try_map(|(row, clone_id, quote_currency)| {
                    Ok::<_, PropError>(ArenaProfit {
                        fill_id: row.id,
                        account_id: row.account_id,
                        owner_user_id: row.owner_user_id,
                        clone_id: clone_id.ok_or_else(|| {
                            corrupt(format!("arena account {} has no clone", row.account_id))
                        })?,
                        quote_currency,
                        realized_pnl: row.realized_pnl,
                        created_at: row.created_at,
                    })
                })
            })
            .await
    }
}

/// The views of `rows` by account id: their cash and limits read in one statement each.
fn views_of(
    conn: &mut diesel::PgConnection,
    rows: &[AccountRow],
) -> Result<BTreeMap<Uuid, AccountView>, PropError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let cash: BTreeMap<Uuid, Decimal> = repo::cash_of_accounts(conn, &ids)?.into_iter().collect();
    let limits: BTreeMap<Uuid, LimitsRow> = repo::limits_of_accounts(conn, &ids)?
        .into_iter()
        .map(|limits| (limits.account_id, limits))
        .collect();
    rows.iter()
        .map(|row| {
            let limits = limits
                .get(&row.id)
                .ok_or_else(|| corrupt("account without limits"))?;
            let view = account_view(row, limits, cash.get(&row.id).copied().unwrap_or_default())?;
            Ok((row.id, view))
        })
        .collect()
}
