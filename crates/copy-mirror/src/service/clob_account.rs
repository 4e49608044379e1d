//! The owner's CLOB wallet: created once (the platform's key, sealed, and the CLOB's API
//! credentials) and read back without any secret.

use uuid::Uuid;

use super::PgCopyTradeService;
use crate::views::ClobAccountView;
use crate::{CopyTradeError, accounts, repo};

pub(super) async fn create(
    service: &PgCopyTradeService,
    owner: Uuid,
) -> Result<(ClobAccountView, bool), CopyTradeError> {
    let accounts = service
        .accounts
        .as_ref()
        .ok_or(clones_secrets::SecretsError::NotConfigured)?;
    accounts.create(owner).await
}

pub(super) async fn get(
    service: &PgCopyTradeService,
    owner: Uuid,
) -> Result<ClobAccountView, CopyTradeError> {
    service
        .as_owner(owner, move |conn, _| {
            repo::clob_account(conn, owner)?
                .as_ref()
                .map(accounts::view_of)
                .ok_or(CopyTradeError::ClobAccountNotFound)
        })
        .await
}
