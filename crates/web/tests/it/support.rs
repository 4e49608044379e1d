//! Test harness: spawns the app on 127.0.0.1:0 over a fresh database with a controllable clock.

use std::sync::Arc;

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use chrono::Utc;
use clap::Parser;
use clones_kernel::FixedClock;
use clones_test_db::TestDb;
use clones_web::AppState;
use clones_web::settings::ApiSettings;
use serde_json::{Value, json};

pub const TEST_JWT_KEYS: &str = "test-key:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: FixedClock,
    pub db: TestDb,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stopping is asynchronous; dropping the handle's future is enough to begin it.
        drop(self.handle.stop(false));
    }
}

/// Settings as the binary would parse them, with test overrides as extra flags.
pub fn settings(extra: &[&str]) -> ApiSettings {
    let defaults = [
        ("--database-url", "postgres://unused"),
        ("--jwt-signing-keys", TEST_JWT_KEYS),
        ("--auth-rate-limit-burst", "1000"),
        ("--auth-rate-limit-per-minute", "60000"),
    ];
    let mut args = vec!["api"];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    ApiSettings::try_parse_from(args).unwrap()
}

pub async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

pub async fn spawn_with(extra: &[&str]) -> TestApp {
    clones_runtime::install_tls_provider();
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(Utc::now());
    let state = AppState::new(&settings(extra), db.db().clone(), Arc::new(clock.clone())).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (server, handle) = clones_web::serve(state, listener, 1).unwrap();
    tokio::spawn(server);
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        clock,
        db,
        handle,
    }
}

/// A response's status and JSON body (problem+json included).
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "body: {}",
            self.body
        );
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "problem responses use application/problem+json"
        );
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("urn:clones:problem:{code}"));
        assert!(self.body["requestId"].is_string());
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        body,
        headers,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value, bearer: Option<&str>) -> Reply {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str, bearer: Option<&str>) -> Reply {
        let mut request = self.client.delete(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn challenge(&self, signer: &PrivateKeySigner) -> String {
        let reply = self
            .post(
                "/api/v1/auth/challenge",
                &json!({ "address": signer.address().to_string(), "chainId": 31337 }),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["message"].as_str().unwrap().to_string()
    }

    /// A complete sign-in; returns the verify response body.
    pub async fn sign_in(&self, signer: &PrivateKeySigner) -> Value {
        let message = self.challenge(signer).await;
        let reply = self
            .post(
                "/api/v1/auth/verify",
                &json!({ "message": message, "signature": sign(signer, &message) }),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }
}

pub fn sign(signer: &PrivateKeySigner, message: &str) -> String {
    let signature = signer.sign_message_sync(message.as_bytes()).unwrap();
    format!("0x{}", hex::encode(signature.as_bytes()))
}

pub fn token(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap().to_string()
}
