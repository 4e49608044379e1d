//! Proptest strategies generating what the grammar accepts, so every context that takes keys
//! can be tested on the same keys.

use proptest::prelude::*;

use crate::{InstrumentKey, InstrumentKind, MAX_KEY_LEN};

/// Any instrument kind.
pub fn kind() -> impl Strategy<Value = InstrumentKind> {
    prop::sample::select(InstrumentKind::ALL.to_vec())
}

/// Any key the grammar accepts, from the shortest to the longest.
pub fn key() -> impl Strategy<Value = InstrumentKey> {
    ("[a-z][a-z0-9_-]{0,31}", kind(), "[!-~]{1,128}")
        .prop_filter("keys are at most 160 bytes", |(venue, kind, symbol)| {
            venue.len() + kind.as_str().len() + symbol.len() + 2 <= MAX_KEY_LEN
        })
        .prop_filter_map("the grammar accepts the parts", |(venue, kind, symbol)| {
            InstrumentKey::new(&venue, kind, &symbol).ok()
        })
}

/// The text of any key the grammar accepts.
pub fn key_text() -> impl Strategy<Value = String> {
    key().prop_map(|key| key.to_string())
}
