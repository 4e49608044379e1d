//! `clonectl`: operator commands. Each prints JSON on stdout so scripts can read it.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_clone_service::{
    CloneService, EntitlementGrant, EntitlementSource, NoCompetitionFacts, PgCloneService, Tier,
};
use clones_kernel::{Clock, Secret, SystemClock};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{HeartbeatService, PgHeartbeatService};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "clonectl", version, about = "Operate a clones deployment")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations as the schema owner.
    Migrate {
        /// Owner connection URL (defaults to DATABASE_URL when unset).
        #[arg(long, env = "MIGRATION_DATABASE_URL", hide_env_values = true)]
        migration_database_url: Option<Secret<String>>,
        /// Fallback when no migration URL is given.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<Secret<String>>,
    },
    /// Mint a service token for a worker or operator; the secret is printed once.
    MintServiceToken {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Who or what holds it.
        #[arg(long)]
        name: String,
        /// A `resource:action` scope such as `health:read`; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until it expires; never when absent.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List service tokens (never their secrets).
    ListServiceTokens(DbOnly),
    /// Revoke a service token.
    RevokeServiceToken {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The token id.
        #[arg(long)]
        id: uuid::Uuid,
    },
    /// Grant the admin role to the user owning a wallet.
    GrantAdmin {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The wallet address (`0x…`).
        #[arg(long)]
        wallet: String,
        /// Recorded as the grantor.
        #[arg(long, env = "USER", default_value = "clonectl")]
        granted_by: String,
    },
    /// Remove the admin role from the user owning a wallet.
    RevokeAdmin {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The wallet address (`0x…`).
        #[arg(long)]
        wallet: String,
    },
    /// Grant a clone a capacity tier outside the payment flow, recorded with its source.
    GrantEntitlement {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The clone.
        #[arg(long)]
        clone: uuid::Uuid,
        /// `starter`, `pro` or `elite`.
        #[arg(long)]
        tier: Tier,
        /// `manual` (an operator decision) or `debug` (development and testing).
        #[arg(long, value_parser = ["manual", "debug"])]
        source: String,
        /// A reference kept with the grant, such as a ticket id.
        #[arg(long)]
        reference: Option<String>,
        /// Days until it lapses back to Starter; never when absent.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Create demo data: an admin user for a wallet, a health-reading service token
    /// (replacing the token of an earlier run) and one demo clone owned by that user.
    SeedDemo {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The demo admin's wallet (default: the local chain's first account).
        #[arg(long, default_value = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")]
        wallet: String,
        /// The wallet's chain.
        #[arg(long, default_value_t = 31337)]
        chain_id: u64,
    },
    /// Migration status and worker health.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        /// A worker is stale after this many intervals without a completed cycle.
        #[arg(long, env = "WORKER_STALE_AFTER_INTERVALS", default_value_t = 3)]
        stale_after_intervals: u32,
    },
    /// Print the OpenAPI document (needs no database).
    Openapi,
}

/// The name of the service token `seed-demo` mints.
const DEMO_TOKEN_NAME: &str = "demo-operator";

/// Namespace of the purchase ids `seed-demo` records for its demo clones.
const DEMO_PURCHASE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6a0f_52c1_4e8b_4d0e_9b57_2d3c_1f60_a7e4);

#[derive(Debug, Args)]
struct DbOnly {
    #[command(flatten)]
    database: DatabaseArgs,
}

fn access(database: &DatabaseArgs) -> anyhow::Result<PgAccessAdmin> {
    Ok(PgAccessAdmin::new(database.connect()?, clock()))
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

fn print(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Migrate {
            migration_database_url,
            database_url,
        } => {
            let url = migration_database_url
                .or(database_url)
                .context("set MIGRATION_DATABASE_URL (or DATABASE_URL)")?;
            let applied = tokio::task::spawn_blocking(move || {
                clones_db::migrations::run_pending(url.expose())
            })
            .await??;
            print(&json!({ "applied": applied }))
        }
        Command::MintServiceToken {
            database,
            name,
            scopes,
            expires_in_days,
        } => {
            let expires_at =
                expires_in_days.map(|days| SystemClock.now() + chrono::Duration::days(days));
            let minted = access(&database)?
                .mint_service_token(&name, &scopes, expires_at)
                .await?;
            print(&serde_json::to_value(minted)?)
        }
        Command::ListServiceTokens(DbOnly { database }) => {
            let tokens = access(&database)?.list_service_tokens().await?;
            print(&serde_json::to_value(tokens)?)
        }
        Command::RevokeServiceToken { database, id } => {
            let revoked = access(&database)?.revoke_service_token(id).await?;
            anyhow::ensure!(revoked, "no live service token with id {id}");
            print(&json!({ "revoked": id }))
        }
        Command::GrantAdmin {
            database,
            wallet,
            granted_by,
        } => {
            let granted = access(&database)?.grant_admin(&wallet, &granted_by).await?;
            print(&json!({ "wallet": wallet, "granted": granted, "alreadyAdmin": !granted }))
        }
        Command::RevokeAdmin { database, wallet } => {
            let revoked = access(&database)?.revoke_admin(&wallet).await?;
            print(&json!({ "wallet": wallet, "revoked": revoked }))
        }
        Command::GrantEntitlement {
            database,
            clone,
            tier,
            source,
            reference,
            expires_in_days,
        } => {
            let source = match source.as_str() {
                "debug" => EntitlementSource::Debug,
                _ => EntitlementSource::Manual,
            };
            let expires_at =
                expires_in_days.map(|days| SystemClock.now() + chrono::Duration::days(days));
            let clones =
                PgCloneService::new(database.connect()?, clock(), Arc::new(NoCompetitionFacts));
            let effective = clones
                .grant_entitlement(EntitlementGrant {
                    clone_id: clone,
                    tier,
                    source,
                    source_purchase_id: None,
                    source_reference: reference,
                    expires_at,
                })
                .await?;
            print(&serde_json::to_value(effective)?)
        }
        Command::SeedDemo {
            database,
            wallet,
            chain_id,
        } => {
            let db = database.connect()?;
            let access = PgAccessAdmin::new(db.clone(), clock());
            let (user_id, created) = access.provision_wallet(&wallet, chain_id).await?;
            access.grant_admin(&wallet, "seed-demo").await?;
            for earlier in access.list_service_tokens().await? {
                if earlier.identity.name == DEMO_TOKEN_NAME && earlier.revoked_at.is_none() {
                    access.revoke_service_token(earlier.identity.id).await?;
                }
            }
            let token = access
                .mint_service_token(DEMO_TOKEN_NAME, &["health:read".to_string()], None)
                .await?;
            let now = SystemClock.now();
            let (clone_id, _) = db
                .tenant_transaction(user_id, move |conn| {
                    provisioning::create_paid_clone(
                        conn,
                        &PaidClone {
                            clone_id: uuid::Uuid::new_v4(),
                            owner_user_id: user_id,
                            // A fixed purchase id per user makes re-running the seed a no-op.
                            purchase_id: uuid::Uuid::new_v5(
                                &DEMO_PURCHASE_NAMESPACE,
                                user_id.as_bytes(),
                            ),
                            display_name: "Demo clone".into(),
                        },
                        now,
                    )
                })
                .await?;
            print(&json!({
                "adminUserId": user_id,
                "adminWallet": wallet,
                "userCreated": created,
                "healthToken": token.token,
                "demoCloneId": clone_id,
            }))
        }
        Command::Status {
            database,
            stale_after_intervals,
        } => {
            let db = database.connect()?;
            let migrations = db.run(clones_db::migrations::status_on).await?;
            let health = PgHeartbeatService::new(db, clock())
                .health(stale_after_intervals)
                .await?;
            print(&json!({
                "migrations": { "applied": migrations.applied, "pending": migrations.pending },
                "workers": health,
            }))
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&clones_web::openapi::document())?
            );
            Ok(())
        }
    }
}
