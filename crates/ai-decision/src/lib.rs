//! AI decision: what a clone proposes to trade, and the audit of how it decided.
