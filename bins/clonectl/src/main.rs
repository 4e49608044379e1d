//! `clonectl`: operator commands. Each prints JSON on stdout so scripts can read it.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clones_clone_service::{EntitlementGrant, EntitlementSource, Tier};
use clones_economy::CloneGrant;
use clones_kernel::{Clock, Secret, SystemClock};
use clones_runtime::settings::DatabaseArgs;
use clones_wiring::{ServiceSettings, Services};
use serde_json::json;

mod secrets;

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
        /// Why it is granted.
        #[arg(long, value_enum)]
        source: GrantSource,
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
    /// Backtest a strategy file on an OHLCV file (needs no database); prints the metrics and
    /// the trade list as JSON.
    Backtest(BacktestArgs),
    /// Encrypted secrets: key status and nonce budgets, rotation.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
}

/// A backtest of files.
#[derive(Debug, Args)]
struct BacktestArgs {
    /// The strategy graph (JSON); it must read one asset at one timeframe.
    #[arg(long)]
    strategy: std::path::PathBuf,
    /// OHLCV bars: CSV with a header (`time,open,high,low,close,volume`) or a JSON array.
    #[arg(long)]
    data: std::path::PathBuf,
    /// Starting cash.
    #[arg(long, default_value = "10000")]
    cash: rust_decimal::Decimal,
    /// Commission as a fraction of traded value (0.001 is 0.1%); default: the venue's fee.
    #[arg(long)]
    commission: Option<rust_decimal::Decimal>,
    /// Slippage in basis points.
    #[arg(long, default_value = "0")]
    slippage_bps: rust_decimal::Decimal,
    /// When market orders fill.
    #[arg(long, value_enum, default_value_t = FillOption::NextOpen)]
    fill: FillOption,
    /// Close open positions at the end, or leave them marked.
    #[arg(long, value_enum, default_value_t = EndOption::Close)]
    end: EndOption,
    /// The instrument key the asset trades as (its venue and kind choose the default fee).
    #[arg(long)]
    instrument: Option<String>,
    /// Sizes are rounded down to a multiple of this (1 for whole shares); default 1e-10.
    #[arg(long)]
    lot_step: Option<rust_decimal::Decimal>,
    /// Also write the trade list as CSV to this file.
    #[arg(long)]
    trades_csv: Option<std::path::PathBuf>,
    /// Also draw equity, drawdown and trade markers as SVG to this file.
    #[arg(long)]
    chart: Option<std::path::PathBuf>,
}

/// `--fill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FillOption {
    /// The next bar's open.
    NextOpen,
    /// The decision bar's close.
    Close,
}

/// `--end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EndOption {
    /// Close at the last close.
    Close,
    /// Leave open, valued at the last close.
    Mark,
}

/// Runs a file backtest and returns its JSON answer.
fn backtest(args: &BacktestArgs) -> anyhow::Result<serde_json::Value> {
    use clones_backtest::{BacktestInput, BacktestSettings, EndAt, FillAt, TradedInstrument};
    let graph = std::fs::read_to_string(&args.strategy)
        .with_context(|| format!("reading {}", args.strategy.display()))?;
    let plan = clones_strategy::compile_json(&graph, &clones_strategy::Constraints::unrestricted())
        .map_err(|errors| anyhow::anyhow!("the strategy does not compile: {errors}"))?;
    let (asset, timeframe) = clones_backtest::single_series(&plan)?;
    let text = std::fs::read_to_string(&args.data)
        .with_context(|| format!("reading {}", args.data.display()))?;
    let json = args.data.extension().is_some_and(|ext| ext == "json");
    let bars = clones_backtest::parse_bars(&text, json)?;
    let key = match &args.instrument {
        Some(key) => clones_market::InstrumentKey::parse(key)?,
        None => clones_market::InstrumentKey::spot("replay", &asset)?,
    };
    let mut instrument = TradedInstrument::new(key);
    if let Some(step) = args.lot_step {
        anyhow::ensure!(
            step > rust_decimal::Decimal::ZERO,
            "--lot-step must be positive"
        );
        instrument.lot_step = step;
    }
    let instruments = std::collections::BTreeMap::from([(asset.clone(), instrument)]);
    let window = clones_strategy::MarketWindow::new().with_candles(&asset, timeframe, bars);
    let settings = BacktestSettings {
        cash: args.cash,
        commission: args.commission,
        slippage_bps: args.slippage_bps,
        fill_at: match args.fill {
            FillOption::NextOpen => FillAt::NextOpen,
            FillOption::Close => FillAt::Close,
        },
        end_at: match args.end {
            EndOption::Close => EndAt::Close,
            EndOption::Mark => EndAt::Mark,
        },
    };
    let report = clones_backtest::run(
        &BacktestInput {
            plan: &plan,
            window: &window,
            instruments: &instruments,
            from: None,
            to: None,
        },
        &settings,
    )?;
    if let Some(path) = &args.trades_csv {
        std::fs::write(path, clones_backtest::trades_csv(&report.trades))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.chart {
        std::fs::write(path, clones_backtest::chart_svg(&report, args.cash))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(json!({
        "metrics": report.metrics,
        "trades": report.trades,
        "resultHash": report.result_hash,
    }))
}

/// Why an operator grants a tier; anything else is refused when the flags are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GrantSource {
    /// An operator decision.
    Manual,
    /// Development and testing.
    Debug,
}

impl From<GrantSource> for EntitlementSource {
    fn from(source: GrantSource) -> Self {
        match source {
            GrantSource::Manual => EntitlementSource::Manual,
            GrantSource::Debug => EntitlementSource::Debug,
        }
    }
}

/// The name of the service token `seed-demo` mints.
const DEMO_TOKEN_NAME: &str = "demo-operator";

/// The reference of the clone grant `seed-demo` records; one grant per user under it makes
/// re-running the seed a no-op.
const DEMO_GRANT_REFERENCE: &str = "seed-demo";

#[derive(Debug, Args)]
struct DbOnly {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// The services over the database the flags name (operator commands take no payments).
fn services(database: &DatabaseArgs) -> anyhow::Result<Services> {
    Ok(Services::new(
        database.connect()?,
        Arc::new(SystemClock),
        ServiceSettings::default(),
    ))
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
            let minted = services(&database)?
                .access
                .mint_service_token(&name, &scopes, expires_at)
                .await?;
            print(&serde_json::to_value(minted)?)
        }
        Command::ListServiceTokens(DbOnly { database }) => {
            let tokens = services(&database)?.access.list_service_tokens().await?;
            print(&serde_json::to_value(tokens)?)
        }
        Command::RevokeServiceToken { database, id } => {
            let revoked = services(&database)?.access.revoke_service_token(id).await?;
            anyhow::ensure!(revoked, "no live service token with id {id}");
            print(&json!({ "revoked": id }))
        }
        Command::GrantAdmin {
            database,
            wallet,
            granted_by,
        } => {
            let granted = services(&database)?
                .access
                .grant_admin(&wallet, &granted_by)
                .await?;
            print(&json!({ "wallet": wallet, "granted": granted, "alreadyAdmin": !granted }))
        }
        Command::RevokeAdmin { database, wallet } => {
            let revoked = services(&database)?.access.revoke_admin(&wallet).await?;
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
            let expires_at =
                expires_in_days.map(|days| SystemClock.now() + chrono::Duration::days(days));
            let effective = services(&database)?
                .clones
                .grant_entitlement(EntitlementGrant {
                    clone_id: clone,
                    tier,
                    source: source.into(),
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
            let services = services(&database)?;
            let access = &services.access;
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
            // The demo clone is granted through economy like any clone, never created bare.
            let granted = services
                .economy
                .grant_clone(CloneGrant {
                    owner_user_id: user_id,
                    clone_name: Some("Demo clone".into()),
                    reference: DEMO_GRANT_REFERENCE.into(),
                })
                .await?;
            let clone_id = granted
                .purchase
                .clone_id
                .context("the demo grant created no clone")?;
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
            let services = services(&database)?;
            let migrations = services.db.run(clones_db::migrations::status_on).await?;
            let health = services.heartbeats.health(stale_after_intervals).await?;
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
        Command::Backtest(args) => print(&backtest(&args)?),
        Command::Secrets(command) => print(&secrets::run(command).await?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_of(value: &str) -> Result<GrantSource, clap::Error> {
        let cli = Cli::try_parse_from([
            "clonectl",
            "grant-entitlement",
            "--database-url",
            "postgres://unused",
            "--clone",
            "6f1c2a4e-0000-4000-8000-000000000001",
            "--tier",
            "pro",
            "--source",
            value,
        ])?;
        match cli.command {
            Command::GrantEntitlement { source, .. } => Ok(source),
            other => unreachable!("parsed {other:?}"),
        }
    }

    #[test]
    fn grant_sources_parse_to_their_entitlement_source() {
        let manual = source_of("manual").map(EntitlementSource::from);
        assert!(matches!(manual, Ok(EntitlementSource::Manual)));
        let debug = source_of("debug").map(EntitlementSource::from);
        assert!(matches!(debug, Ok(EntitlementSource::Debug)));
    }

    #[test]
    fn an_unknown_grant_source_is_refused_not_read_as_manual() {
        for value in ["purchase", "default", "bogus", ""] {
            let error = source_of(value).err().map(|error| error.kind());
            assert_eq!(error, Some(clap::error::ErrorKind::InvalidValue), "{value}");
        }
    }
}
