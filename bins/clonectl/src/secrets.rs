//! `clonectl secrets`: the encrypted secret columns' key versions, their nonce budgets and
//! eager rotation. Progress goes to stderr as JSON lines; the answer to stdout as JSON.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use clones_runtime::settings::DatabaseArgs;
use clones_secrets::{BudgetStatus, SecretColumn, SecretsArgs};
use serde_json::json;

/// The `secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every value of the registered secret columns that is not under the current
    /// key version, in batches, printing progress after each batch.
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        /// Only this column (`table.column`); repeat for several. All registered when absent.
        #[arg(long = "column")]
        columns: Vec<String>,
        /// Rows re-encrypted per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Key versions held and current, encryptions per version against the nonce budget, and
    /// how many values of each registered column each version holds.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
    },
}

/// The registered columns `names` selects (all when empty).
fn selected(names: &[String]) -> anyhow::Result<Vec<SecretColumn>> {
    let registered = clones_wiring::secret_columns();
    if names.is_empty() {
        return Ok(registered);
    }
    names
        .iter()
        .map(|name| {
            registered
                .iter()
                .find(|column| column.name() == *name)
                .copied()
                .with_context(|| {
                    let known: Vec<String> = registered.iter().map(SecretColumn::name).collect();
                    format!("{name} is not a registered secret column (known: {known:?})")
                })
        })
        .collect()
}

/// Runs a `secrets` subcommand and returns its JSON answer.
pub async fn run(command: SecretsCommand) -> anyhow::Result<serde_json::Value> {
    match command {
        SecretsCommand::Rotate {
            database,
            secrets,
            columns,
            batch,
        } => {
            anyhow::ensure!(batch > 0, "--batch must be at least 1");
            let keyring = secrets
                .keyring()?
                .context("set SECRETS_MASTER_KEY[_V<n>] and SECRETS_SALT to rotate")?;
            let keyring = Arc::new(keyring);
            let db = database.connect()?;
            let mut done = Vec::new();
            for column in selected(&columns)? {
                let report = clones_secrets::rotate_column(
                    &db,
                    Arc::clone(&keyring),
                    column,
                    batch,
                    &mut |progress| {
                        eprintln!("{}", json!({ "progress": progress }));
                    },
                )
                .await
                .with_context(|| format!("rotating {}", column.name()))?;
                done.push(report);
            }
            Ok(json!({
                "currentVersion": keyring.current_version(),
                "rotated": done,
            }))
        }
        SecretsCommand::Status { database, secrets } => {
            let keyring = secrets.keyring()?;
            let db = database.connect()?;
            let usage = db.run(clones_secrets::store::usage).await?;
            let mut warnings = Vec::new();
            for key in &usage {
                match key.status {
                    BudgetStatus::Ok => {}
                    BudgetStatus::Warn => warnings.push(format!(
                        "key version {} has made {} of its {} encryptions: add a key version and rotate",
                        key.version, key.encryptions, key.budget
                    )),
                    BudgetStatus::Exhausted => warnings.push(format!(
                        "key version {} has no encryptions left: add a key version and rotate now",
                        key.version
                    )),
                }
            }
            let mut columns = Vec::new();
            for column in clones_wiring::secret_columns() {
                let census = clones_secrets::column_census(&db, column).await?;
                for count in &census {
                    match (count.version, &keyring) {
                        (None, _) => warnings.push(format!(
                            "{} holds {} legacy plaintext value(s): run `clonectl secrets rotate`",
                            column.name(),
                            count.rows
                        )),
                        (Some(version), Some(keyring))
                            if !keyring.versions().contains(&version) =>
                        {
                            warnings.push(format!(
                                "{} holds {} value(s) under key version {version}, which is not configured",
                                column.name(),
                                count.rows
                            ));
                        }
                        _ => {}
                    }
                }
                columns.push(json!({ "column": column.name(), "versions": census }));
            }
            for warning in &warnings {
                eprintln!("warning: {warning}");
            }
            Ok(json!({
                "configured": keyring.is_some(),
                "currentVersion": keyring.as_ref().map(|keyring| keyring.current_version()),
                "heldVersions": keyring.as_ref().map(|keyring| keyring.versions()),
                "keys": usage,
                "columns": columns,
                "warnings": warnings,
            }))
        }
    }
}
