//! `demo`: drives the paid-audition path against a running system (see `scripts/demo`) and
//! exits non-zero when any step fails.

use std::time::Duration;

use clap::Parser;
use clones_demo::{DemoConfig, PrintNarrator, WallClockPace};

/// Settings of the demo run.
#[derive(Debug, Parser)]
#[command(name = "demo", version)]
struct Settings {
    /// The API's base URL.
    #[arg(long, env = "DEMO_API_URL", default_value = "http://127.0.0.1:8080")]
    api_url: url::Url,
    /// The local chain's JSON-RPC URL.
    #[arg(long, env = "CHAIN_RPC_URL", default_value = "http://127.0.0.1:8545")]
    chain_rpc_url: url::Url,
    /// The audition rule set to start.
    #[arg(long, env = "DEMO_RULE_SET", default_value = "demo")]
    rule_set: String,
    /// Seconds between polls while waiting for the workers.
    #[arg(long, env = "DEMO_POLL_SECS", default_value_t = 2)]
    poll_secs: u64,
    /// Longest wait for any one step, in seconds.
    #[arg(long, env = "DEMO_STEP_TIMEOUT_SECS", default_value_t = 600)]
    step_timeout_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    let settings = Settings::parse();
    anyhow::ensure!(settings.poll_secs > 0, "poll interval must be positive");
    let config = DemoConfig {
        api: settings.api_url,
        chain: settings.chain_rpc_url,
        rule_set: Some(settings.rule_set),
        max_waits: u32::try_from(settings.step_timeout_secs / settings.poll_secs)
            .unwrap_or(u32::MAX),
    };
    let pace = WallClockPace(Duration::from_secs(settings.poll_secs));
    let outcome = clones_demo::run(&config, &pace, &PrintNarrator).await?;
    println!(
        "demo complete: wallet {} owns clone {} (audition {}), now {}",
        outcome.wallet, outcome.clone_id, outcome.audition_id, outcome.state["displayState"]
    );
    Ok(())
}
