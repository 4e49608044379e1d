//! Clone-service against real PostgreSQL: ownership, drafts and publishing (with races),
//! entitlements, trade universe, profiles, reports, moderation and row-level security.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod support;

mod clones;
mod moderation;
mod pages;
mod strategy;
