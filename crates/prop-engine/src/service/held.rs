//! What each account held after its last order through this service: a hint that lets an
//! order read the marks of the account's other positions before its transaction opens,
//! instead of in a read transaction of its own.
//!
//! A stale or missing hint costs a retry, never a wrong answer: the order's transaction reads
//! the positions under the account lock and asks for the marks it was not given.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

/// The most accounts remembered; past it the hints start over (each costs one retry at most).
const MAX_ACCOUNTS: usize = 100_000;

/// Instruments with an open position per account, as last seen.
#[derive(Debug, Default)]
pub(super) struct HeldHints {
    held: Mutex<HashMap<Uuid, Vec<String>>>,
}

impl HeldHints {
    /// The instruments `account` held after its last order here (none when unknown).
    pub(super) fn get(&self, account: Uuid) -> Vec<String> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&account)
            .cloned()
            .unwrap_or_default()
    }

    /// Records what `account` holds now.
    pub(super) fn set(&self, account: Uuid, instruments: Vec<String>) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.len() >= MAX_ACCOUNTS && !held.contains_key(&account) {
            held.clear();
        }
        held.insert(account, instruments);
    }
}
