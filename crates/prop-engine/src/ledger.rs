//! The double-entry ledger: every balance change is an event whose entries sum to zero.
//!
//! Each prop account has one asset-side ledger account, [`LedgerAccount::Cash`], and a set of
//! counterparty accounts that say where cash came from or went: starting `capital`, platform
//! `fees`, the `market` (the other side of realized trading PnL), `funding`, prediction-market
//! `settlement` and admin `adjustment`s. A positive amount increases the ledger account's
//! balance; an event moves value between accounts, so a balance derived from entries always
//! equals the tracked balance and the sum over all accounts is zero.
//!
//! Pure values: persisting events is the repository's job.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A ledger account of one prop account.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LedgerAccount {
    /// The prop account's cash (realized value).
    Cash,
    /// The source of the starting balance.
    Capital,
    /// Trading fees collected by the platform.
    Fees,
    /// The market: the counterparty of realized trading PnL.
    Market,
    /// Perp funding payments.
    Funding,
    /// Prediction-market settlements.
    Settlement,
    /// Manual admin adjustments (the platform's side).
    Adjustment,
}

impl LedgerAccount {
    /// Every ledger account.
    pub const ALL: [LedgerAccount; 7] = [
        LedgerAccount::Cash,
        LedgerAccount::Capital,
        LedgerAccount::Fees,
        LedgerAccount::Market,
        LedgerAccount::Funding,
        LedgerAccount::Settlement,
        LedgerAccount::Adjustment,
    ];

    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerAccount::Cash => "cash",
            LedgerAccount::Capital => "capital",
            LedgerAccount::Fees => "fees",
            LedgerAccount::Market => "market",
            LedgerAccount::Funding => "funding",
            LedgerAccount::Settlement => "settlement",
            LedgerAccount::Adjustment => "adjustment",
        }
    }
}

impl FromStr for LedgerAccount {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        LedgerAccount::ALL
            .into_iter()
            .find(|account| account.as_str() == value)
            .ok_or_else(|| format!("unknown ledger account `{value}`"))
    }
}

impl fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why value moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The account was funded with its starting balance.
    Opening,
    /// An order executed: realized PnL and fees.
    Trade,
    /// A funding payment on a perp position.
    Funding,
    /// An outcome position settled at resolution.
    Settlement,
    /// An admin adjustment.
    Adjustment,
}

impl EventKind {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opening => "opening",
            EventKind::Trade => "trade",
            EventKind::Funding => "funding",
            EventKind::Settlement => "settlement",
            EventKind::Adjustment => "adjustment",
        }
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        [
            EventKind::Opening,
            EventKind::Trade,
            EventKind::Funding,
            EventKind::Settlement,
            EventKind::Adjustment,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
        .ok_or_else(|| format!("unknown event kind `{value}`"))
    }
}

/// One side of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The ledger account.
    pub account: LedgerAccount,
    /// Signed amount: positive increases the account's balance.
    pub amount: Decimal,
}

/// A balanced set of entries. Built only through the constructors, which keep it zero-sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEvent {
    kind: EventKind,
    entries: Vec<Entry>,
}

impl LedgerEvent {
    fn with_transfers(kind: EventKind, transfers: &[(Decimal, LedgerAccount)]) -> Option<Self> {
        let mut entries = Vec::new();
        for &(to_cash, counterparty) in transfers {
            if to_cash.is_zero() {
                continue;
            }
            entries.push(Entry {
                account: LedgerAccount::Cash,
                amount: to_cash,
            });
            entries.push(Entry {
                account: counterparty,
                amount: -to_cash,
            });
        }
        (!entries.is_empty()).then_some(Self { kind, entries })
    }

    /// The starting balance moving from capital to cash.
    pub fn opening(amount: Decimal) -> Option<Self> {
        Self::with_transfers(EventKind::Opening, &[(amount, LedgerAccount::Capital)])
    }

    /// An execution: `realized_pnl` from (or to) the market and `fee` to the platform.
    pub fn trade(realized_pnl: Decimal, fee: Decimal) -> Option<Self> {
        Self::with_transfers(
            EventKind::Trade,
            &[
                (realized_pnl, LedgerAccount::Market),
                (-fee, LedgerAccount::Fees),
            ],
        )
    }

    /// A funding payment; `paid` is positive when the account pays.
    pub fn funding(paid: Decimal) -> Option<Self> {
        Self::with_transfers(EventKind::Funding, &[(-paid, LedgerAccount::Funding)])
    }

    /// A settlement that realized `pnl`.
    pub fn settlement(pnl: Decimal) -> Option<Self> {
        Self::with_transfers(EventKind::Settlement, &[(pnl, LedgerAccount::Settlement)])
    }

    /// An admin adjustment crediting (positive) or debiting cash.
    pub fn adjustment(amount: Decimal) -> Option<Self> {
        Self::with_transfers(
            EventKind::Adjustment,
            &[(amount, LedgerAccount::Adjustment)],
        )
    }

    /// Why value moved.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The net effect on cash.
    pub fn cash_delta(&self) -> Decimal {
        self.entries
            .iter()
            .filter(|entry| entry.account == LedgerAccount::Cash)
            .map(|entry| entry.amount)
            .sum()
    }

    /// Whether the entries sum to zero (always true for events built here).
    pub fn is_balanced(&self) -> bool {
        self.entries
            .iter()
            .map(|entry| entry.amount)
            .sum::<Decimal>()
            .is_zero()
    }
}

/// Balances of one prop account's ledger accounts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Balances(BTreeMap<LedgerAccount, Decimal>);

impl Balances {
    /// Empty balances.
    pub fn new() -> Self {
        Self::default()
    }

    /// Balances from stored values.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (LedgerAccount, Decimal)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// Applies every entry of `event`.
    pub fn apply(&mut self, event: &LedgerEvent) {
        for entry in event.entries() {
            *self.0.entry(entry.account).or_default() += entry.amount;
        }
    }

    /// The balance of `account` (zero when never touched).
    pub fn get(&self, account: LedgerAccount) -> Decimal {
        self.0.get(&account).copied().unwrap_or_default()
    }

    /// The sum of all balances: zero while every applied event was balanced.
    pub fn total(&self) -> Decimal {
        self.0.values().copied().sum()
    }

    /// The touched accounts and their balances.
    pub fn iter(&self) -> impl Iterator<Item = (LedgerAccount, Decimal)> + '_ {
        self.0.iter().map(|(account, amount)| (*account, *amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_balanced_and_skip_zero_legs() {
        let trade = LedgerEvent::trade(dec!(10), dec!(0.5)).unwrap();
        assert!(trade.is_balanced());
        assert_eq!(trade.cash_delta(), dec!(9.5));
        assert_eq!(trade.entries().len(), 4);
        let fee_only = LedgerEvent::trade(Decimal::ZERO, dec!(0.5)).unwrap();
        assert_eq!(fee_only.entries().len(), 2);
        assert!(LedgerEvent::trade(Decimal::ZERO, Decimal::ZERO).is_none());
        let funding = LedgerEvent::funding(dec!(2)).unwrap();
        assert_eq!(funding.cash_delta(), -dec!(2));

        let mut balances = Balances::new();
        for event in [LedgerEvent::opening(dec!(1000)).unwrap(), trade, funding] {
            balances.apply(&event);
        }
        assert_eq!(balances.get(LedgerAccount::Cash), dec!(1007.5));
        assert_eq!(balances.get(LedgerAccount::Fees), dec!(0.5));
        assert_eq!(balances.total(), Decimal::ZERO);
        assert_eq!(
            "settlement".parse::<LedgerAccount>(),
            Ok(LedgerAccount::Settlement)
        );
    }
}
