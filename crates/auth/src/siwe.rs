//! Sign-In with Ethereum (EIP-4361) messages: rendering and strict parsing.
//!
//! The server renders the message a wallet signs and later parses what comes back. Parsing is
//! strict: a message is accepted only if rendering the parsed fields reproduces it byte for
//! byte, so there is exactly one textual form for any set of fields. This module knows nothing
//! of nonces' state or signatures.

use std::fmt;

use alloy::primitives::Address;
use chrono::{DateTime, SecondsFormat, Utc};

const HEADER_SUFFIX: &str = " wants you to sign in with your Ethereum account:";

/// An EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// Optional URI scheme before the domain (`https://example.com wants you…`).
    pub scheme: Option<String>,
    /// The RFC 3986 authority requesting the sign-in.
    pub domain: String,
    /// The signing account.
    pub address: Address,
    /// Human-readable assertion the user signs; must not contain a newline.
    pub statement: Option<String>,
    /// The resource the session is for.
    pub uri: String,
    /// Always `1`.
    pub version: String,
    /// The EIP-155 chain id the session is bound to.
    pub chain_id: u64,
    /// At least eight alphanumeric characters, issued by the server.
    pub nonce: String,
    /// When the message was issued.
    pub issued_at: Timestamp,
    /// When the signed message stops being valid.
    pub expiration_time: Option<Timestamp>,
    /// When the signed message starts being valid.
    pub not_before: Option<Timestamp>,
    /// A system-specific request identifier.
    pub request_id: Option<String>,
    /// URIs the user wishes to have resolved as part of the sign-in.
    pub resources: Vec<String>,
}

/// Why a text is not a well-formed EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed SIWE message: {0}")]
pub struct ParseError(pub String);

/// An RFC 3339 time together with the exact text it was written as, so a parsed message
/// renders back to the same bytes whatever precision or offset the signer used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    at: DateTime<Utc>,
}

impl Timestamp {
    /// The instant.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    fn parse(tag: &str, text: &str) -> Result<Self, ParseError> {
        let at = DateTime::parse_from_rfc3339(text)
            .map_err(|_| ParseError(format!("{tag} is not an RFC 3339 time")))?
            .with_timezone(&Utc);
        Ok(Self {
            text: text.to_string(),
            at,
        })
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Renders with millisecond precision in UTC (`2026-01-02T03:04:05.678Z`).
    fn from(at: DateTime<Utc>) -> Self {
        Self {
            text: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            at,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for SiweMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(scheme) = &self.scheme {
            write!(f, "{scheme}://")?;
        }
        write!(
            f,
            "{}{HEADER_SUFFIX}\n{}\n\n",
            self.domain,
            self.address.to_checksum(None)
        )?;
        if let Some(statement) = &self.statement {
            write!(f, "{statement}\n\n")?;
        } else {
            f.write_str("\n")?;
        }
        write!(
            f,
            "URI: {}\nVersion: {}\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri, self.version, self.chain_id, self.nonce, self.issued_at
        )?;
        if let Some(at) = &self.expiration_time {
            write!(f, "\nExpiration Time: {at}")?;
        }
        if let Some(at) = &self.not_before {
            write!(f, "\nNot Before: {at}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, "\nRequest ID: {id}")?;
        }
        if !self.resources.is_empty() {
            f.write_str("\nResources:")?;
            for resource in &self.resources {
                write!(f, "\n- {resource}")?;
            }
        }
        Ok(())
    }
}

/// Reads lines in order, each expected to carry one tagged field.
struct Lines<'a> {
    lines: std::iter::Peekable<std::str::Split<'a, char>>,
}

impl<'a> Lines<'a> {
    fn next(&mut self, what: &str) -> Result<&'a str, ParseError> {
        self.lines
            .next()
            .ok_or_else(|| ParseError(format!("missing {what}")))
    }

    fn tagged(&mut self, tag: &str) -> Result<&'a str, ParseError> {
        let line = self.next(tag)?;
        line.strip_prefix(tag)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or_else(|| ParseError(format!("expected `{tag}: …`, found `{line}`")))
    }

    fn optional(&mut self, tag: &str) -> Result<Option<&'a str>, ParseError> {
        match self.lines.peek() {
            Some(line) if line.starts_with(&format!("{tag}: ")) => self.tagged(tag).map(Some),
            _ => Ok(None),
        }
    }
}

fn is_valid_nonce(nonce: &str) -> bool {
    nonce.len() >= 8 && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl std::str::FromStr for SiweMessage {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut lines = Lines {
            lines: text.split('\n').peekable(),
        };
        let header = lines.next("header")?;
        let origin = header
            .strip_suffix(HEADER_SUFFIX)
            .ok_or_else(|| ParseError("first line is not a SIWE header".into()))?;
        let (scheme, domain) = match origin.split_once("://") {
            Some((scheme, domain)) => (Some(scheme.to_string()), domain),
            None => (None, origin),
        };
        if domain.is_empty() || domain.contains(char::is_whitespace) {
            return Err(ParseError("domain is empty or contains whitespace".into()));
        }
        let address_line = lines.next("address")?;
        let address = parse_checksummed_address(address_line)?;
        if !lines.next("blank line")?.is_empty() {
            return Err(ParseError("expected a blank line after the address".into()));
        }
        let statement = match lines.next("statement or blank line")? {
            "" => None,
            statement => {
                if !lines.next("blank line")?.is_empty() {
                    return Err(ParseError(
                        "expected a blank line after the statement".into(),
                    ));
                }
                Some(statement.to_string())
            }
        };
        let uri = lines.tagged("URI")?.to_string();
        let version = lines.tagged("Version")?.to_string();
        if version != "1" {
            return Err(ParseError("Version must be 1".into()));
        }
        let chain_id = lines
            .tagged("Chain ID")?
            .parse::<u64>()
            .map_err(|_| ParseError("Chain ID is not a number".into()))?;
        let nonce = lines.tagged("Nonce")?.to_string();
        if !is_valid_nonce(&nonce) {
            return Err(ParseError(
                "Nonce must be at least 8 alphanumeric characters".into(),
            ));
        }
        let issued_at = Timestamp::parse("Issued At", lines.tagged("Issued At")?)?;
        let expiration_time = lines
            .optional("Expiration Time")?
            .map(|raw| Timestamp::parse("Expiration Time", raw))
            .transpose()?;
        let not_before = lines
            .optional("Not Before")?
            .map(|raw| Timestamp::parse("Not Before", raw))
            .transpose()?;
        let request_id = lines.optional("Request ID")?.map(str::to_string);
        let mut resources = Vec::new();
        if let Some(line) = lines.lines.next() {
            if line != "Resources:" {
                return Err(ParseError(format!("unexpected line `{line}`")));
            }
            for line in lines.lines.by_ref() {
                let resource = line
                    .strip_prefix("- ")
                    .ok_or_else(|| ParseError(format!("unexpected resource line `{line}`")))?;
                resources.push(resource.to_string());
            }
        }
        let message = SiweMessage {
            scheme,
            domain: domain.to_string(),
            address,
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            expiration_time,
            not_before,
            request_id,
            resources,
        };
        // Anything the field-by-field reading skipped over (trailing newlines, stray spaces) makes
        // the rendering differ, and such a text is refused rather than silently normalised.
        if message.to_string() != text {
            return Err(ParseError(
                "message is not in canonical EIP-4361 form".into(),
            ));
        }
        Ok(message)
    }
}

/// Parses `0x` + 40 hex digits in EIP-55 checksummed form, as EIP-4361 requires.
fn parse_checksummed_address(raw: &str) -> Result<Address, ParseError> {
    let address = parse_address(raw)?;
    if address.to_checksum(None) != raw {
        return Err(ParseError("address is not EIP-55 checksummed".into()));
    }
    Ok(address)
}

/// Parses `0x` + 40 hex digits, in any letter case.
///
/// # Errors
/// [`ParseError`] when the text is not an address.
pub fn parse_address(raw: &str) -> Result<Address, ParseError> {
    let hex = raw
        .strip_prefix("0x")
        .filter(|hex| hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ParseError("address must be 0x followed by 40 hex digits".into()))?;
    hex.parse::<Address>()
        .map_err(|_| ParseError("address must be 0x followed by 40 hex digits".into()))
}

/// A fresh nonce: 17 alphanumeric characters from the OS random generator (about 101 bits).
pub fn generate_nonce() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..17)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "service.invalid wants you to sign in with your Ethereum account:\n\
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\
\n\
I accept the ServiceOrg Terms of Service: https://service.invalid/tos\n\
\n\
URI: https://service.invalid/login\n\
Version: 1\n\
Chain ID: 1\n\
Nonce: 32891756\n\
Issued At: 2021-09-30T16:25:24Z\n\
Resources:\n\
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n\
- https://example.com/my-web2-claim.json";

    #[test]
    fn parses_and_renders_the_specification_example() {
        let message: SiweMessage = EXAMPLE.parse().unwrap();
        assert_eq!(message.domain, "service.invalid");
        assert_eq!(message.chain_id, 1);
        assert_eq!(message.nonce, "32891756");
        assert_eq!(message.resources.len(), 2);
        assert_eq!(message.to_string(), EXAMPLE);
    }

    #[test]
    fn message_without_statement_has_two_blank_lines() {
        let mut message: SiweMessage = EXAMPLE.parse().unwrap();
        message.statement = None;
        message.resources.clear();
        let text = message.to_string();
        assert!(text.contains("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\n\nURI: "));
        assert_eq!(text.parse::<SiweMessage>().unwrap(), message);
    }

    #[test]
    fn optional_fields_round_trip_with_scheme() {
        let mut message: SiweMessage = EXAMPLE.parse().unwrap();
        message.scheme = Some("https".into());
        let issued = message.issued_at.at();
        message.expiration_time = Some((issued + chrono::Duration::minutes(10)).into());
        message.not_before = Some(issued.into());
        message.request_id = Some("req-1".into());
        let text = message.to_string();
        assert!(text.starts_with("https://service.invalid wants you"));
        assert_eq!(text.parse::<SiweMessage>().unwrap(), message);
    }

    #[test]
    fn rejects_malformed_messages() {
        let lowercase = EXAMPLE.replace(
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
            "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
        );
        let cases = [
            String::new(),
            "hello".to_string(),
            lowercase,
            EXAMPLE.replace("Version: 1", "Version: 2"),
            EXAMPLE.replace("Nonce: 32891756", "Nonce: short"),
            EXAMPLE.replace("Chain ID: 1", "Chain ID: one"),
            EXAMPLE.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25:24"),
            format!("{EXAMPLE}\n"),
            EXAMPLE.replace("URI: ", "Uri: "),
        ];
        for case in cases {
            assert!(case.parse::<SiweMessage>().is_err(), "accepted: {case:?}");
        }
    }

    #[test]
    fn nonces_are_long_alphanumeric_and_distinct() {
        let a = generate_nonce();
        let b = generate_nonce();
        assert!(is_valid_nonce(&a) && a.len() == 17);
        assert_ne!(a, b);
    }
}
