//! Secret-custody settings from flags or environment variables: one master secret per key
//! version, the shared salt and the version that encrypts. Binaries flatten [`SecretsArgs`].
//!
//! Master secrets and the salt are standard base64 (`openssl rand -base64 32` and
//! `openssl rand -base64 16`). Version 1's master is `SECRETS_MASTER_KEY`; version `n` (2 to
//! [`MAX_VERSION`]) is `SECRETS_MASTER_KEY_V<n>`.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use zeroize::Zeroizing;

use crate::{Keyring, SecretBytes, SecretsError};

/// The highest key version the settings can name.
pub const MAX_VERSION: u32 = 8;

/// Text that must never be printed and is wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Borrows the text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for SecretString {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(Zeroizing::new(s.to_owned())))
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Secret-custody settings shared by the API, the workers and `clonectl`.
#[derive(Debug, Clone, Default, Args)]
pub struct SecretsArgs {
    /// Master secret of key version 1 (base64, at least 32 bytes); encryption is off when no
    /// master secret is set.
    #[arg(long, env = "SECRETS_MASTER_KEY", hide_env_values = true)]
    pub secrets_master_key: Option<SecretString>,
    /// Master secret of key version 2.
    #[arg(long, env = "SECRETS_MASTER_KEY_V2", hide_env_values = true)]
    pub secrets_master_key_v2: Option<SecretString>,
    /// Master secret of key version 3.
    #[arg(long, env = "SECRETS_MASTER_KEY_V3", hide_env_values = true)]
    pub secrets_master_key_v3: Option<SecretString>,
    /// Master secret of key version 4.
    #[arg(long, env = "SECRETS_MASTER_KEY_V4", hide_env_values = true)]
    pub secrets_master_key_v4: Option<SecretString>,
    /// Master secret of key version 5.
    #[arg(long, env = "SECRETS_MASTER_KEY_V5", hide_env_values = true)]
    pub secrets_master_key_v5: Option<SecretString>,
    /// Master secret of key version 6.
    #[arg(long, env = "SECRETS_MASTER_KEY_V6", hide_env_values = true)]
    pub secrets_master_key_v6: Option<SecretString>,
    /// Master secret of key version 7.
    #[arg(long, env = "SECRETS_MASTER_KEY_V7", hide_env_values = true)]
    pub secrets_master_key_v7: Option<SecretString>,
    /// Master secret of key version 8.
    #[arg(long, env = "SECRETS_MASTER_KEY_V8", hide_env_values = true)]
    pub secrets_master_key_v8: Option<SecretString>,
    /// HKDF salt shared by every version (base64, at least 16 bytes).
    #[arg(long, env = "SECRETS_SALT", hide_env_values = true)]
    pub secrets_salt: Option<SecretString>,
    /// The key version new encryptions use; the highest configured when unset.
    #[arg(long, env = "SECRETS_CURRENT_VERSION")]
    pub secrets_current_version: Option<u32>,
}

impl SecretsArgs {
    /// The configured masters by version.
    fn masters(&self) -> [(u32, Option<&SecretString>); MAX_VERSION as usize] {
        [
            (1, self.secrets_master_key.as_ref()),
            (2, self.secrets_master_key_v2.as_ref()),
            (3, self.secrets_master_key_v3.as_ref()),
            (4, self.secrets_master_key_v4.as_ref()),
            (5, self.secrets_master_key_v5.as_ref()),
            (6, self.secrets_master_key_v6.as_ref()),
            (7, self.secrets_master_key_v7.as_ref()),
            (8, self.secrets_master_key_v8.as_ref()),
        ]
    }

    /// The keyring, or `None` when no master secret and no salt are set (encryption off).
    ///
    /// # Errors
    /// [`SecretsError::InvalidSettings`] naming the bad setting (never its value): a master
    /// without a salt or the reverse, text that is not base64, or what
    /// [`Keyring::derive`] refuses.
    pub fn keyring(&self) -> Result<Option<Keyring>, SecretsError> {
        let given: Vec<(u32, &SecretString)> = self
            .masters()
            .into_iter()
            .filter_map(|(version, master)| master.map(|master| (version, master)))
            .collect();
        let salt = match (&self.secrets_salt, given.is_empty()) {
            (None, true) => return Ok(None),
            (None, false) => {
                return Err(SecretsError::InvalidSettings(
                    "SECRETS_SALT is required with a master key".into(),
                ));
            }
            (Some(_), true) => {
                return Err(SecretsError::InvalidSettings(
                    "SECRETS_SALT is set but no SECRETS_MASTER_KEY[_V<n>] is".into(),
                ));
            }
            (Some(salt), false) => decode("SECRETS_SALT", salt)?,
        };
        let mut masters = Vec::with_capacity(given.len());
        for (version, master) in given {
            let name = if version == 1 {
                "SECRETS_MASTER_KEY".to_string()
            } else {
                format!("SECRETS_MASTER_KEY_V{version}")
            };
            masters.push((version, decode(&name, master)?));
        }
        Keyring::derive(salt.expose(), masters, self.secrets_current_version).map(Some)
    }
}

fn decode(name: &str, value: &SecretString) -> Result<SecretBytes, SecretsError> {
    STANDARD
        .decode(value.expose().trim())
        .map(SecretBytes::new)
        .map_err(|_| SecretsError::InvalidSettings(format!("{name} is not base64")))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        secrets: SecretsArgs,
    }

    const MASTER_1: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const MASTER_2: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA==";

    fn parse(args: &[&str]) -> SecretsArgs {
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().secrets
    }

    #[test]
    fn no_keys_and_no_salt_is_encryption_off() {
        assert!(parse(&[]).keyring().unwrap().is_none());
    }

    #[test]
    fn the_highest_version_encrypts_unless_one_is_chosen() {
        let both = [
            "--secrets-master-key",
            MASTER_1,
            "--secrets-master-key-v2",
            MASTER_2,
            "--secrets-salt",
            SALT,
        ];
        let keyring = parse(&both).keyring().unwrap().unwrap();
        assert_eq!(keyring.versions(), [1, 2]);
        assert_eq!(keyring.current_version(), 2);
        let mut pinned = both.to_vec();
        pinned.extend(["--secrets-current-version", "1"]);
        assert_eq!(
            parse(&pinned).keyring().unwrap().unwrap().current_version(),
            1
        );
    }

    #[test]
    fn bad_settings_are_named_without_their_values() {
        let cases: [&[&str]; 6] = [
            &["--secrets-master-key", MASTER_1],
            &["--secrets-salt", SALT],
            &[
                "--secrets-master-key",
                "not base64!",
                "--secrets-salt",
                SALT,
            ],
            &["--secrets-master-key", SALT, "--secrets-salt", SALT],
            &[
                "--secrets-master-key",
                MASTER_1,
                "--secrets-master-key-v3",
                MASTER_1,
                "--secrets-salt",
                SALT,
            ],
            &[
                "--secrets-master-key",
                MASTER_1,
                "--secrets-salt",
                SALT,
                "--secrets-current-version",
                "2",
            ],
        ];
        for args in cases {
            let error = parse(args).keyring().unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, SecretsError::InvalidSettings(_)), "{text}");
            for secret in [MASTER_1, SALT] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn settings_and_keyrings_print_redacted() {
        let args = parse(&["--secrets-master-key", MASTER_1, "--secrets-salt", SALT]);
        let printed = format!("{args:?} {:?}", args.keyring().unwrap().unwrap());
        assert!(
            !printed.contains(MASTER_1) && !printed.contains(SALT),
            "{printed}"
        );
        assert!(printed.contains("[redacted]"));
    }
}
