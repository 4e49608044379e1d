//! The identity service against real PostgreSQL: SIWE sign-in, refresh rotation and reuse
//! detection, logout, service tokens and roles, called through the service traits.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

use std::sync::Arc;

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Duration, Utc};
use clones_auth::tokens::{AccessTokens, JwtKeys};
use clones_auth::{
    AccessAdmin, AuthError, AuthService, AuthSettings, PgAccessAdmin, PgAuthService, SignedIn,
};
use clones_kernel::{FixedClock, PageRequest};
use clones_test_db::TestDb;
use uuid::Uuid;

struct Fixture {
    // Kept alive for the test's duration; the database is dropped with it.
    _db: TestDb,
    clock: FixedClock,
    auth: PgAuthService,
    access: PgAccessAdmin,
}

async fn fixture() -> Fixture {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let start: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
    let clock = FixedClock::at(start);
    let settings = AuthSettings {
        siwe_domain: "app.test".into(),
        siwe_uri: "https://app.test".into(),
        siwe_statement: "Sign in to clones.".into(),
        allowed_chain_ids: vec![31337],
        challenge_ttl: Duration::minutes(5),
        access_tokens: AccessTokens::new(
            JwtKeys::generate("k1").unwrap(),
            "clones".into(),
            "clones-api".into(),
            Duration::minutes(15),
        ),
        refresh_ttl: Duration::days(30),
        session_max_age: Duration::days(90),
        chain_rpc_urls: Default::default(),
    };
    let auth = PgAuthService::new(db.db().clone(), Arc::new(clock.clone()), settings);
    let access = PgAccessAdmin::new(db.db().clone(), Arc::new(clock.clone()));
    Fixture {
        _db: db,
        clock,
        auth,
        access,
    }
}

fn sign(signer: &PrivateKeySigner, message: &str) -> String {
    let signature = signer.sign_message_sync(message.as_bytes()).unwrap();
    format!("0x{}", hex::encode(signature.as_bytes()))
}

impl Fixture {
    async fn sign_in(&self, signer: &PrivateKeySigner) -> SignedIn {
        let challenge = self
            .auth
            .sign_in_challenge(&signer.address().to_string(), 31337)
            .await
            .unwrap();
        self.auth
            .verify_sign_in(&challenge.message, &sign(signer, &challenge.message))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_signed_challenge_signs_in_once_and_creates_the_user_once() {
    let f = fixture().await;
    let signer = PrivateKeySigner::random();
    let address = signer.address().to_string();

    let challenge = f.auth.sign_in_challenge(&address, 31337).await.unwrap();
    let signature = sign(&signer, &challenge.message);
    let first = f
        .auth
        .verify_sign_in(&challenge.message, &signature)
        .await
        .unwrap();
    assert!(first.new_user);
    let replayed = f
        .auth
        .verify_sign_in(&challenge.message, &signature)
        .await
        .unwrap_err();
    assert!(
        matches!(replayed, AuthError::NonceAlreadyUsed),
        "{replayed:?}"
    );

    let again = f.sign_in(&signer).await;
    assert!(!again.new_user);
    assert_eq!(again.tokens.user_id, first.tokens.user_id);
    let me = f.auth.me(first.tokens.user_id).await.unwrap();
    assert_eq!(me.wallets.len(), 1);
    assert!(me.wallets[0].address.eq_ignore_ascii_case(&address));

    // Another wallet's signature over this wallet's message does not verify.
    let challenge = f.auth.sign_in_challenge(&address, 31337).await.unwrap();
    let forged = sign(&PrivateKeySigner::random(), &challenge.message);
    let error = f
        .auth
        .verify_sign_in(&challenge.message, &forged)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::SignatureMismatch), "{error:?}");

    // A challenge signed after its lifetime is refused.
    let challenge = f.auth.sign_in_challenge(&address, 31337).await.unwrap();
    f.clock.advance(Duration::minutes(6));
    let error = f
        .auth
        .verify_sign_in(&challenge.message, &sign(&signer, &challenge.message))
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::MessageExpired), "{error:?}");

    let error = f.auth.sign_in_challenge(&address, 1).await.unwrap_err();
    assert!(matches!(error, AuthError::UnsupportedChain(1)), "{error:?}");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_whole_family() {
    let f = fixture().await;
    let signed_in = f.sign_in(&PrivateKeySigner::random()).await;
    let original = signed_in.tokens.refresh_token;

    let rotated = f.auth.refresh(&original).await.unwrap();
    assert_ne!(rotated.refresh_token, original);
    assert_eq!(rotated.session_id, signed_in.tokens.session_id);

    let reused = f.auth.refresh(&original).await.unwrap_err();
    assert!(
        matches!(reused, AuthError::RefreshTokenReused),
        "{reused:?}"
    );
    // The family is revoked: even the newest token no longer refreshes.
    let after = f.auth.refresh(&rotated.refresh_token).await.unwrap_err();
    assert!(
        matches!(
            after,
            AuthError::SessionEnded | AuthError::InvalidRefreshToken
        ),
        "{after:?}"
    );
    let events = f
        .auth
        .security_events(signed_in.tokens.user_id, PageRequest::first())
        .await
        .unwrap();
    assert!(!events.items.is_empty());
}

#[tokio::test]
async fn logout_ends_only_the_callers_own_session() {
    let f = fixture().await;
    let alice = f.sign_in(&PrivateKeySigner::random()).await.tokens;
    let bob = f.sign_in(&PrivateKeySigner::random()).await.tokens;

    let error = f
        .auth
        .logout(bob.user_id, alice.session_id)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::NotFound), "{error:?}");
    f.auth.refresh(&alice.refresh_token).await.unwrap();

    let alice = f.sign_in(&PrivateKeySigner::random()).await.tokens;
    f.auth
        .logout(alice.user_id, alice.session_id)
        .await
        .unwrap();
    let error = f.auth.refresh(&alice.refresh_token).await.unwrap_err();
    assert!(
        matches!(
            error,
            AuthError::SessionEnded | AuthError::InvalidRefreshToken
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn service_tokens_authenticate_with_their_scopes_until_revoked() {
    let f = fixture().await;
    let minted = f
        .access
        .mint_service_token("monitor", &["workers:read".to_string()], None)
        .await
        .unwrap();
    assert!(minted.token.starts_with("cst_"));

    let identity = f.access.authenticate_service(&minted.token).await.unwrap();
    assert_eq!(identity, minted.identity);
    identity.require("workers:read").unwrap();
    let error = identity.require("admin:write").unwrap_err();
    assert!(matches!(error, AuthError::MissingScope(_)), "{error:?}");

    let listed = f.access.list_service_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(f.access.revoke_service_token(identity.id).await.unwrap());
    assert!(!f.access.revoke_service_token(identity.id).await.unwrap());
    let error = f
        .access
        .authenticate_service(&minted.token)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::InvalidServiceToken), "{error:?}");

    let expiring = f
        .access
        .mint_service_token(
            "short",
            &["workers:read".to_string()],
            Some(f.clock_now() + Duration::minutes(1)),
        )
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(2));
    let error = f
        .access
        .authenticate_service(&expiring.token)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::InvalidServiceToken), "{error:?}");
}

#[tokio::test]
async fn the_admin_role_is_granted_and_revoked_by_wallet() {
    let f = fixture().await;
    let signer = PrivateKeySigner::random();
    let wallet = signer.address().to_string();
    let user = f.sign_in(&signer).await.tokens.user_id;

    assert!(!f.access.is_admin(user).await.unwrap());
    assert!(f.access.grant_admin(&wallet, "test").await.unwrap());
    assert!(!f.access.grant_admin(&wallet, "test").await.unwrap());
    assert!(f.access.is_admin(user).await.unwrap());
    assert_eq!(f.access.wallet_owner(&wallet).await.unwrap(), Some(user));
    assert!(
        f.auth
            .me(user)
            .await
            .unwrap()
            .roles
            .contains(&"admin".to_string())
    );

    assert!(f.access.revoke_admin(&wallet).await.unwrap());
    assert!(!f.access.is_admin(user).await.unwrap());
    assert!(!f.access.is_admin(Uuid::new_v4()).await.unwrap());
}

impl Fixture {
    fn clock_now(&self) -> DateTime<Utc> {
        use clones_kernel::Clock;
        self.clock.now()
    }
}
