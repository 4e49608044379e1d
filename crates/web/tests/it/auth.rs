//! Sign-in, refresh, logout and wallet linking over HTTP.

use alloy::signers::local::PrivateKeySigner;
use chrono::Duration;
use serde_json::json;

use crate::support::{sign, spawn, token};

#[tokio::test]
async fn full_sign_in_creates_the_user_once_and_me_shows_the_wallet() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let first = app.sign_in(&signer).await;
    assert_eq!(first["newUser"], true);
    let access = token(&first, "accessToken");
    let me = app.get("/api/v1/me", Some(&access)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["userId"], first["userId"]);
    assert_eq!(
        me.body["wallets"][0]["address"],
        signer.address().to_checksum(None)
    );
    assert_eq!(me.body["wallets"][0]["chainId"], 31337);
    assert_eq!(me.body["roles"], json!([]));

    let second = app.sign_in(&signer).await;
    assert_eq!(second["newUser"], false);
    assert_eq!(second["userId"], first["userId"]);
    assert_ne!(second["sessionId"], first["sessionId"]);

    let events = app.get("/api/v1/me/security-events", Some(&access)).await;
    assert_eq!(events.status, 200);
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sign_in", "sign_in"]);

    // Both sign-ins share the test clock's instant; pages of one still list each exactly once.
    let mut seen = Vec::new();
    let mut query = "limit=1".to_string();
    loop {
        let page = app
            .get(
                &format!("/api/v1/me/security-events?{query}"),
                Some(&access),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page.body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    let all: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(seen, all);

    for (query, code) in [
        ("limit=0", "invalid_page"),
        ("limit=501", "invalid_page"),
        ("cursor=not-a-cursor", "invalid_page"),
        ("page=2", "invalid_query"),
    ] {
        app.get(
            &format!("/api/v1/me/security-events?{query}"),
            Some(&access),
        )
        .await
        .assert_problem(400, code);
    }
}

#[tokio::test]
async fn challenge_accepts_lowercase_addresses_and_rejects_bad_input() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let lowercase = format!("{:#x}", signer.address());
    let reply = app
        .post(
            "/api/v1/auth/challenge",
            &json!({ "address": lowercase, "chainId": 31337 }),
            None,
        )
        .await;
    assert_eq!(reply.status, 200);
    let message = reply.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("localhost:8080 wants you to sign in with your Ethereum account:\n")
    );
    assert!(message.contains(&signer.address().to_checksum(None)));
    assert!(message.contains("\nURI: http://localhost:8080\nVersion: 1\nChain ID: 31337\nNonce: "));
    assert!(message.contains("\nExpiration Time: "));

    app.post(
        "/api/v1/auth/challenge",
        &json!({ "address": "0x1234", "chainId": 31337 }),
        None,
    )
    .await
    .assert_problem(400, "invalid_address");
    app.post(
        "/api/v1/auth/challenge",
        &json!({ "address": lowercase, "chainId": 999_999 }),
        None,
    )
    .await
    .assert_problem(400, "unsupported_chain");
}

/// Every way a verify can fail; none of them uses up the challenge, which verifies afterwards.
#[tokio::test]
async fn verify_rejections_are_specific_and_consume_nothing() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let stranger = PrivateKeySigner::random();
    let message = app.challenge(&signer).await;
    let good_signature = sign(&signer, &message);
    let verify = |message: String, signature: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/verify",
                &json!({ "message": message, "signature": signature }),
                None,
            )
            .await
        }
    };
    let altered = |from: &str, to: &str| message.replacen(from, to, 1);

    let cases = [
        (
            altered("localhost:8080 wants", "evil.example wants"),
            401,
            "siwe_domain_mismatch",
        ),
        (
            altered("URI: http://localhost:8080", "URI: http://evil.example"),
            401,
            "siwe_uri_mismatch",
        ),
        (
            altered("Chain ID: 31337", "Chain ID: 1"),
            401,
            "siwe_chain_mismatch",
        ),
        (
            altered("Chain ID: 31337", "Chain ID: 5"),
            401,
            "siwe_chain_mismatch",
        ),
        (altered("Nonce: ", "Nonce: zz"), 401, "siwe_unknown_nonce"),
        (
            altered("Sign in to Clones.", "Sign in to something else."),
            401,
            "siwe_message_mismatch",
        ),
        (
            format!("{message}\nNot Before: 2999-01-01T00:00:00.000Z"),
            401,
            "siwe_not_yet_valid",
        ),
        (format!("{message}\n"), 400, "siwe_malformed_message"),
        ("hello".to_string(), 400, "siwe_malformed_message"),
    ];
    for (text, status, code) in cases {
        let signature = sign(&signer, &text);
        verify(text, signature).await.assert_problem(status, code);
    }
    // Signed by another key: the recovered address does not match the message's.
    verify(message.clone(), sign(&stranger, &message))
        .await
        .assert_problem(401, "signature_mismatch");
    verify(message.clone(), "0x1234".into())
        .await
        .assert_problem(400, "malformed_signature");
    verify(message.clone(), "not hex".into())
        .await
        .assert_problem(400, "malformed_signature");
    // A message for a wallet nobody asked a challenge for, signed by that wallet.
    let other_message = message.replace(
        &signer.address().to_checksum(None),
        &stranger.address().to_checksum(None),
    );
    verify(other_message.clone(), sign(&stranger, &other_message))
        .await
        .assert_problem(401, "siwe_message_mismatch");

    let ok = verify(message.clone(), good_signature.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    verify(message, good_signature)
        .await
        .assert_problem(401, "siwe_nonce_used");
}

#[tokio::test]
async fn expired_challenge_is_rejected() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let message = app.challenge(&signer).await;
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    app.post(
        "/api/v1/auth/verify",
        &json!({ "message": message, "signature": sign(&signer, &message) }),
        None,
    )
    .await
    .assert_problem(401, "siwe_expired");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let signed_in = app.sign_in(&signer).await;
    let first_refresh = token(&signed_in, "refreshToken");

    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": first_refresh }),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.body["sessionId"], signed_in["sessionId"]);
    let second_refresh = token(&rotated.body, "refreshToken");
    assert_ne!(second_refresh, first_refresh);
    let me = app
        .get("/api/v1/me", Some(&token(&rotated.body, "accessToken")))
        .await;
    assert_eq!(me.status, 200);

    // The first token again: reuse. The whole family ends, including the newest token.
    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": first_refresh }),
        None,
    )
    .await
    .assert_problem(401, "refresh_token_reused");
    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": second_refresh }),
        None,
    )
    .await
    .assert_problem(401, "session_ended");

    let events = app
        .get(
            "/api/v1/me/security-events",
            Some(&token(&rotated.body, "accessToken")),
        )
        .await;
    // Events of one instant are ordered by id, so look for the reuse among them.
    assert!(
        events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["kind"] == "refresh_reuse_detected"),
        "{}",
        events.body
    );

    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": "made-up" }),
        None,
    )
    .await
    .assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn concurrent_refresh_of_one_token_has_exactly_one_winner() {
    let app = spawn().await;
    let signed_in = app.sign_in(&PrivateKeySigner::random()).await;
    let refresh = token(&signed_in, "refreshToken");
    let body = json!({ "refreshToken": refresh });
    let attempts = (0..4).map(|_| app.post("/api/v1/auth/refresh", &body, None));
    let replies = futures_util::future::join_all(attempts).await;
    let winners = replies.iter().filter(|reply| reply.status == 200).count();
    assert_eq!(
        winners,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|reply| reply.status != 200) {
        assert_eq!(reply.status, 401);
        assert!(
            ["refresh_token_reused", "session_ended"].contains(&reply.code()),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let app = spawn().await;
    let signed_in = app.sign_in(&PrivateKeySigner::random()).await;
    app.clock.advance(Duration::days(15));
    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": token(&signed_in, "refreshToken") }),
        None,
    )
    .await
    .assert_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn access_tokens_expire_and_forged_ones_fail() {
    let app = spawn().await;
    let signed_in = app.sign_in(&PrivateKeySigner::random()).await;
    let access = token(&signed_in, "accessToken");
    app.clock.advance(Duration::minutes(15));
    app.get("/api/v1/me", Some(&access))
        .await
        .assert_problem(401, "access_token_expired");
    // The refresh token still works after the access token lapsed.
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": token(&signed_in, "refreshToken") }),
            None,
        )
        .await;
    assert_eq!(refreshed.status, 200);

    let fresh = token(&refreshed.body, "accessToken");
    let mut forged = fresh.clone();
    forged.pop();
    forged.push(if fresh.ends_with('A') { 'B' } else { 'A' });
    app.get("/api/v1/me", Some(&forged))
        .await
        .assert_problem(401, "invalid_access_token");
    app.get("/api/v1/me", None)
        .await
        .assert_problem(401, "invalid_access_token");
    app.get("/api/v1/me", Some("not-a-jwt"))
        .await
        .assert_problem(401, "invalid_access_token");
}

#[tokio::test]
async fn logout_ends_the_session_and_logout_all_ends_every_session() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let one = app.sign_in(&signer).await;
    let two = app.sign_in(&signer).await;
    let three = app.sign_in(&signer).await;

    let out = app
        .post(
            "/api/v1/auth/logout",
            &json!({}),
            Some(&token(&one, "accessToken")),
        )
        .await;
    assert_eq!(out.status, 204);
    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": token(&one, "refreshToken") }),
        None,
    )
    .await
    .assert_problem(401, "session_ended");

    let all = app
        .post(
            "/api/v1/auth/logout-all",
            &json!({}),
            Some(&token(&two, "accessToken")),
        )
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["sessionsRevoked"], 2);
    for session in [&two, &three] {
        app.post(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": token(session, "refreshToken") }),
            None,
        )
        .await
        .assert_problem(401, "session_ended");
    }
}

#[tokio::test]
async fn a_user_links_a_second_wallet_and_can_sign_in_with_it() {
    let app = spawn().await;
    let first = PrivateKeySigner::random();
    let second = PrivateKeySigner::random();
    let signed_in = app.sign_in(&first).await;
    let access = token(&signed_in, "accessToken");

    let challenge = app
        .post(
            "/api/v1/auth/wallets/challenge",
            &json!({ "address": second.address().to_string(), "chainId": 1 }),
            Some(&access),
        )
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.body);
    let message = challenge.body["message"].as_str().unwrap().to_string();
    assert!(message.contains("Link this wallet to your account."));

    // A link challenge cannot be used to sign in.
    app.post(
        "/api/v1/auth/verify",
        &json!({ "message": message, "signature": sign(&second, &message) }),
        None,
    )
    .await
    .assert_problem(401, "siwe_wrong_challenge");

    let linked = app
        .post(
            "/api/v1/auth/wallets",
            &json!({ "message": message, "signature": sign(&second, &message) }),
            Some(&access),
        )
        .await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(linked.body["address"], second.address().to_checksum(None));
    assert_eq!(linked.body["chainId"], 1);

    let me = app.get("/api/v1/me", Some(&access)).await;
    assert_eq!(me.body["wallets"].as_array().unwrap().len(), 2);
    let via_second = app.sign_in(&second).await;
    assert_eq!(via_second["userId"], signed_in["userId"]);
    assert_eq!(via_second["newUser"], false);
}

#[tokio::test]
async fn a_wallet_owned_by_someone_else_cannot_be_linked() {
    let app = spawn().await;
    let alice = PrivateKeySigner::random();
    let bob = PrivateKeySigner::random();
    let alice_session = app.sign_in(&alice).await;
    app.sign_in(&bob).await;
    let access = token(&alice_session, "accessToken");
    let challenge = app
        .post(
            "/api/v1/auth/wallets/challenge",
            &json!({ "address": bob.address().to_string(), "chainId": 31337 }),
            Some(&access),
        )
        .await;
    let message = challenge.body["message"].as_str().unwrap().to_string();
    let body = json!({ "message": message, "signature": sign(&bob, &message) });
    app.post("/api/v1/auth/wallets", &body, Some(&access))
        .await
        .assert_problem(409, "wallet_linked_elsewhere");
    // The refusal rolled back: the challenge is still unused, and still refused for the same reason.
    app.post("/api/v1/auth/wallets", &body, Some(&access))
        .await
        .assert_problem(409, "wallet_linked_elsewhere");

    // Bob cannot complete Alice's link challenge with his own session.
    let bob_session = app.sign_in(&bob).await;
    app.post(
        "/api/v1/auth/wallets",
        &body,
        Some(&token(&bob_session, "accessToken")),
    )
    .await
    .assert_problem(401, "siwe_wrong_challenge");
}

#[tokio::test]
async fn concurrent_first_sign_ins_of_one_wallet_create_one_user() {
    let app = spawn().await;
    let signer = PrivateKeySigner::random();
    let first = app.challenge(&signer).await;
    let second = app.challenge(&signer).await;
    let first = json!({ "message": first, "signature": sign(&signer, &first) });
    let second = json!({ "message": second, "signature": sign(&signer, &second) });
    let (a, b) = tokio::join!(
        app.post("/api/v1/auth/verify", &first, None),
        app.post("/api/v1/auth/verify", &second, None),
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!(a.body["userId"], b.body["userId"]);
    let created = [&a, &b]
        .iter()
        .filter(|reply| reply.body["newUser"] == true)
        .count();
    assert_eq!(created, 1);
}

/// A contract wallet (ERC-1271) signs in through `isValidSignature` on the local chain.
#[tokio::test]
async fn contract_wallets_sign_in_through_erc1271() {
    use alloy::sol_types::SolValue;
    let chain = clones_test_chain::TestChain::connect().await.unwrap();
    let rpc = format!("31337={}", chain.url());
    let app = crate::support::spawn_with(&["--chain-rpc-urls", &rpc]).await;
    let deployer = chain.funded_account().await.unwrap();
    let owner = PrivateKeySigner::random();
    let wallet = deployer
        .deploy("ContractWallet", &owner.address().abi_encode())
        .await
        .unwrap();

    let challenge = app
        .post(
            "/api/v1/auth/challenge",
            &json!({ "address": wallet.to_string(), "chainId": 31337 }),
            None,
        )
        .await;
    let message = challenge.body["message"].as_str().unwrap().to_string();
    let verify = |signer: &PrivateKeySigner| json!({ "message": message, "signature": sign(signer, &message) });
    // The owner's key did not sign for itself here, and a stranger's signature is refused.
    app.post(
        "/api/v1/auth/verify",
        &verify(&PrivateKeySigner::random()),
        None,
    )
    .await
    .assert_problem(401, "signature_mismatch");
    let signed_in = app.post("/api/v1/auth/verify", &verify(&owner), None).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let me = app
        .get("/api/v1/me", Some(&token(&signed_in.body, "accessToken")))
        .await;
    assert_eq!(me.body["wallets"][0]["address"], wallet.to_checksum(None));
}

/// Without a chain RPC for the message's chain, only EOA signatures can verify.
#[tokio::test]
async fn contract_wallets_need_a_configured_rpc() {
    use alloy::sol_types::SolValue;
    let chain = clones_test_chain::TestChain::connect().await.unwrap();
    let app = spawn().await;
    let owner = PrivateKeySigner::random();
    let wallet = chain
        .funded_account()
        .await
        .unwrap()
        .deploy("ContractWallet", &owner.address().abi_encode())
        .await
        .unwrap();
    let challenge = app
        .post(
            "/api/v1/auth/challenge",
            &json!({ "address": wallet.to_string(), "chainId": 31337 }),
            None,
        )
        .await;
    let message = challenge.body["message"].as_str().unwrap().to_string();
    app.post(
        "/api/v1/auth/verify",
        &json!({ "message": message, "signature": sign(&owner, &message) }),
        None,
    )
    .await
    .assert_problem(401, "signature_mismatch");
}
