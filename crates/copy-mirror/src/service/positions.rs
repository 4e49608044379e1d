//! The positions cross-check, beside status sync: for each tenant with a CLOB wallet, the
//! wallet's positions as the Data API reports them (`GET /positions?user=<address>`) are
//! compared token by token with the ledger's net filled shares of the tenant's CLOB orders,
//! and the result is recorded on the tenant's account row for `sync-health`.
//!
//! A mismatch is logged and counted, never traded away: the ledger and the venue disagree
//! about what the mirror did, which an operator looks into (see the runbook).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgCopyTradeService;
use super::enumerator::{Enumerate, watched};
use crate::models::ClobAccountRow;
use crate::repo::PositionsCheck;
use crate::views::{PositionsCheckView, PositionsReport};
use crate::watch::{DataApi, DataApiPosition};
use crate::{CopyTradeError, repo};

/// Sizes closer than this (one hundredth of a share, the venue's size step) match.
const TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

pub(super) async fn check(
    service: &PgCopyTradeService,
    data_api: &DataApi,
) -> Result<PositionsReport, CopyTradeError> {
    let owners = watched(service, Enumerate::ClobAccounts).await?.clob_owners;
    let mut report = PositionsReport::default();
    for owner in owners {
        check_owner(service, data_api, owner, &mut report).await?;
    }
    Ok(report)
}

async fn check_owner(
    service: &PgCopyTradeService,
    data_api: &DataApi,
    owner: Uuid,
    report: &mut PositionsReport,
) -> Result<(), CopyTradeError> {
    let Some(account) = service
        .as_owner(owner, move |conn, _| Ok(repo::clob_account(conn, owner)?))
        .await?
    else {
        return Ok(());
    };
    let positions = match data_api.positions(&account.address).await {
        Ok(positions) => positions,
        Err(error) => {
            tracing::warn!(%owner, %error, "copy-mirror positions check could not read the Data API");
            report.unreachable += 1;
            return Ok(());
        }
    };
    let check = service
        .as_owner(owner, move |conn, now| {
            let check = compare(&positions, &repo::net_clob_shares(conn, owner)?);
            repo::record_positions_check(conn, owner, &check, now)?;
            Ok(check)
        })
        .await?;
    report.tenants += 1;
    if check.mismatched > 0 {
        report.mismatched += 1;
        tracing::warn!(
            %owner,
            address = %account.address,
            tokens = check.tokens,
            mismatched = check.mismatched,
            largest_difference = %check.max_difference,
            token = check.max_token.as_deref().unwrap_or_default(),
            "copy-mirror positions differ from the ledger"
        );
    }
    Ok(())
}

/// Compares the venue's positions with the ledger's net shares, per token: every token held at
/// the venue or non-zero in the ledger is checked. Pure.
pub(crate) fn compare(venue: &[DataApiPosition], ledger: &[(String, Decimal)]) -> PositionsCheck {
    let mut sizes: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for position in venue {
        sizes.entry(&position.asset).or_default().0 += position.size;
    }
    for (asset, net) in ledger {
        sizes.entry(asset).or_default().1 += *net;
    }
    let mut check = PositionsCheck {
        tokens: 0,
        mismatched: 0,
        max_difference: Decimal::ZERO,
        max_token: None,
    };
    for (asset, (held, net)) in sizes {
        if held.is_zero() && net.is_zero() {
            continue;
        }
        check.tokens += 1;
        let difference = (held - net).abs();
        if difference > TOLERANCE {
            check.mismatched += 1;
            if difference > check.max_difference {
                check.max_difference = difference;
                check.max_token = Some(asset.to_string());
            }
        }
    }
    check
}

/// The last check recorded on an account, for `sync-health`.
pub(super) fn check_view(row: &ClobAccountRow) -> Option<PositionsCheckView> {
    Some(PositionsCheckView {
        checked_at: row.positions_checked_at?,
        tokens_checked: u32::try_from(row.positions_tokens?).unwrap_or(0),
        tokens_mismatched: u32::try_from(row.positions_mismatched?).unwrap_or(0),
        largest_difference: row.positions_max_difference?,
        largest_difference_token: row.positions_max_token.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn position(asset: &str, size: &str) -> DataApiPosition {
        DataApiPosition {
            asset: asset.into(),
            size: Decimal::from_str(size).unwrap_or_default(),
        }
    }

    fn net(asset: &str, size: &str) -> (String, Decimal) {
        (asset.into(), Decimal::from_str(size).unwrap_or_default())
    }

    #[test]
    fn equal_sizes_match_within_a_hundredth() {
        let check = compare(
            &[position("1", "10.004"), position("2", "3")],
            &[net("1", "10"), net("2", "3"), net("3", "0")],
        );
        assert_eq!((check.tokens, check.mismatched), (2, 0));
        assert_eq!(check.max_difference, Decimal::ZERO);
        assert_eq!(check.max_token, None);
    }

    #[test]
    fn the_largest_difference_is_named_either_way() {
        let check = compare(
            &[position("1", "10"), position("4", "2")],
            &[net("1", "7"), net("5", "1.5")],
        );
        assert_eq!((check.tokens, check.mismatched), (3, 3));
        assert_eq!(check.max_difference, Decimal::from(3));
        assert_eq!(check.max_token.as_deref(), Some("1"));
    }
}
