//! The machine against the seed's table, and properties over every status and event.

use alloy::primitives::Address;
use proptest::prelude::*;

use super::*;

use DeploymentStatus as S;

fn token() -> Address {
    Address::repeat_byte(0x11)
}

fn pool() -> Address {
    Address::repeat_byte(0x22)
}

/// One event of each kind.
fn event(kind: EventKind) -> DeploymentEvent {
    match kind {
        EventKind::InitiateDeployment => DeploymentEvent::InitiateDeployment,
        EventKind::TokenCreationSuccess => DeploymentEvent::TokenCreationSuccess {
            token_address: token(),
        },
        EventKind::InitiatePoolCreation => DeploymentEvent::InitiatePoolCreation,
        EventKind::PoolCreationSuccess => DeploymentEvent::PoolCreationSuccess {
            pool_address: pool(),
        },
        EventKind::Fail => DeploymentEvent::Fail {
            error: "reverted".into(),
        },
        EventKind::Cancel => DeploymentEvent::Cancel,
        EventKind::Retry => DeploymentEvent::Retry,
        EventKind::Deactivate => DeploymentEvent::Deactivate,
        EventKind::Archive => DeploymentEvent::Archive,
    }
}

/// The context a deployment in `status` has when it got there the normal way.
fn natural(status: DeploymentStatus, failed_with_token: bool) -> DeploymentContext {
    let with_token = DeploymentContext {
        token_address: Some(token()),
        ..DeploymentContext::default()
    };
    match status {
        S::Draft | S::PendingTokenSignature => DeploymentContext::default(),
        S::TokenCreated | S::PendingPoolSignature => with_token,
        S::Deployed | S::Deactivated => DeploymentContext {
            pool_address: Some(pool()),
            ..with_token
        },
        S::Archived => DeploymentContext::default(),
        S::Failed if failed_with_token => DeploymentContext {
            last_error: Some("reverted".into()),
            ..with_token
        },
        S::Failed => DeploymentContext {
            last_error: Some("reverted".into()),
            ..DeploymentContext::default()
        },
    }
}

/// The seed's diagram: (from, event) -> to, for a failed deployment without a token (with
/// one, retry goes to the pool step: tested below).
const ALLOWED: [(S, EventKind, S); 14] = [
    (
        S::Draft,
        EventKind::InitiateDeployment,
        S::PendingTokenSignature,
    ),
    (S::Draft, EventKind::Archive, S::Archived),
    (
        S::PendingTokenSignature,
        EventKind::TokenCreationSuccess,
        S::TokenCreated,
    ),
    (S::PendingTokenSignature, EventKind::Fail, S::Failed),
    (S::PendingTokenSignature, EventKind::Cancel, S::Draft),
    (
        S::TokenCreated,
        EventKind::InitiatePoolCreation,
        S::PendingPoolSignature,
    ),
    (S::TokenCreated, EventKind::Cancel, S::Failed),
    (
        S::PendingPoolSignature,
        EventKind::PoolCreationSuccess,
        S::Deployed,
    ),
    (S::PendingPoolSignature, EventKind::Fail, S::Failed),
    (S::PendingPoolSignature, EventKind::Cancel, S::Failed),
    (S::Deployed, EventKind::Deactivate, S::Deactivated),
    (S::Deactivated, EventKind::Archive, S::Archived),
    (S::Failed, EventKind::Retry, S::PendingTokenSignature),
    (S::Failed, EventKind::Archive, S::Archived),
];

#[test]
fn every_status_and_event_matches_the_seeds_table() {
    for from in S::ALL {
        for kind in EventKind::ALL {
            let expected = ALLOWED
                .iter()
                .find(|(status, event, _)| *status == from && *event == kind)
                .map(|(_, _, to)| *to);
            let result = transition(from, &natural(from, false), event(kind));
            match (expected, result) {
                (Some(to), Ok(done)) => {
                    assert_eq!((done.from, done.to, done.event), (from, to, kind));
                }
                (None, Err(TransitionError::NotAllowed { from: f, event: e })) => {
                    assert_eq!((f, e), (from, kind));
                }
                (expected, result) => {
                    panic!("{from:?} + {kind:?}: expected {expected:?}, got {result:?}")
                }
            }
        }
    }
}

#[test]
fn retry_goes_back_to_the_step_that_failed() {
    let without = transition(
        S::Failed,
        &natural(S::Failed, false),
        DeploymentEvent::Retry,
    )
    .unwrap();
    assert_eq!(without.to, S::PendingTokenSignature);
    assert_eq!(without.context.last_error, None);
    let with = transition(S::Failed, &natural(S::Failed, true), DeploymentEvent::Retry).unwrap();
    assert_eq!(with.to, S::PendingPoolSignature);
    assert_eq!(with.context.token_address, Some(token()));
    assert_eq!(with.context.last_error, None);
}

#[test]
fn actions_record_addresses_and_errors() {
    let failed = transition(
        S::PendingPoolSignature,
        &natural(S::PendingPoolSignature, false),
        DeploymentEvent::Fail {
            error: "out of gas".into(),
        },
    )
    .unwrap();
    assert_eq!(failed.context.last_error.as_deref(), Some("out of gas"));
    assert_eq!(failed.context.token_address, Some(token()));
    let cancelled = transition(
        S::TokenCreated,
        &natural(S::TokenCreated, false),
        DeploymentEvent::Cancel,
    )
    .unwrap();
    assert_eq!(cancelled.context.last_error.as_deref(), Some(CANCELLED));
    let deployed = transition(
        S::PendingPoolSignature,
        &natural(S::PendingPoolSignature, false),
        event(EventKind::PoolCreationSuccess),
    )
    .unwrap();
    assert_eq!(deployed.context.pool_address, Some(pool()));
}

#[test]
fn guards_refuse_a_second_token_and_a_pool_without_a_token() {
    let refused = transition(
        S::PendingTokenSignature,
        &natural(S::TokenCreated, false),
        event(EventKind::TokenCreationSuccess),
    );
    assert!(matches!(refused, Err(TransitionError::Guard { .. })));
    for (status, kind) in [
        (S::TokenCreated, EventKind::InitiatePoolCreation),
        (S::PendingPoolSignature, EventKind::PoolCreationSuccess),
    ] {
        let refused = transition(status, &DeploymentContext::default(), event(kind));
        assert!(
            matches!(refused, Err(TransitionError::Guard { .. })),
            "{status:?}"
        );
    }
    let second_pool = transition(
        S::PendingPoolSignature,
        &natural(S::Deployed, false),
        event(EventKind::PoolCreationSuccess),
    );
    assert!(matches!(second_pool, Err(TransitionError::Guard { .. })));
}

#[test]
fn names_round_trip() {
    for status in S::ALL {
        assert_eq!(S::parse(status.as_str()), Some(status));
    }
    for kind in EventKind::ALL {
        assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        assert_eq!(event(kind).kind(), kind);
    }
    assert_eq!(S::parse("deploying"), None);
    assert_eq!(EventKind::parse(""), None);
}

fn any_status() -> impl Strategy<Value = DeploymentStatus> {
    proptest::sample::select(S::ALL.to_vec())
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    proptest::sample::select(EventKind::ALL.to_vec())
}

fn any_address() -> impl Strategy<Value = Option<Address>> {
    proptest::option::of(any::<[u8; 20]>().prop_map(Address::from))
}

fn any_context() -> impl Strategy<Value = DeploymentContext> {
    (
        any_address(),
        any_address(),
        proptest::option::of("[a-z ]{0,12}"),
    )
        .prop_map(
            |(token_address, pool_address, last_error)| DeploymentContext {
                token_address,
                pool_address,
                last_error,
            },
        )
}

proptest! {
    /// From any status and context, any event either is refused with the current status
    /// named, or lands in a status of the set under the guards.
    #[test]
    fn every_transition_keeps_the_invariants(
        status in any_status(),
        context in any_context(),
        kind in any_kind(),
    ) {
        match transition(status, &context, event(kind)) {
            Err(TransitionError::NotAllowed { from, event }
                | TransitionError::Guard { from, event, .. }) => {
                prop_assert_eq!((from, event), (status, kind));
            }
            Ok(done) => {
                prop_assert!(S::ALL.contains(&done.to));
                prop_assert_eq!(done.from, status);
                prop_assert!(!status.is_terminal(), "archived moved");
                // Addresses are set once and never cleared or replaced.
                if context.token_address.is_some() {
                    prop_assert_eq!(done.context.token_address, context.token_address);
                }
                if context.pool_address.is_some() {
                    prop_assert_eq!(done.context.pool_address, context.pool_address);
                }
                // A pool is reached only with a token.
                if matches!(done.to, S::PendingPoolSignature | S::Deployed) {
                    prop_assert!(done.context.token_address.is_some());
                }
                if done.to == S::Deployed {
                    prop_assert!(done.context.pool_address.is_some());
                }
                if kind == EventKind::Retry {
                    let expected = if context.token_address.is_some() {
                        S::PendingPoolSignature
                    } else {
                        S::PendingTokenSignature
                    };
                    prop_assert_eq!(done.to, expected);
                }
                if done.to == S::Failed {
                    prop_assert!(done.context.last_error.is_some());
                }
            }
        }
    }

    /// Any sequence of events from a draft stays consistent: once archived nothing moves,
    /// and a deployed clone always has its token and pool.
    #[test]
    fn event_sequences_from_a_draft_stay_consistent(
        kinds in proptest::collection::vec(any_kind(), 0..40),
    ) {
        let mut status = S::Draft;
        let mut context = DeploymentContext::default();
        for kind in kinds {
            if let Ok(done) = transition(status, &context, event(kind)) {
                prop_assert!(!status.is_terminal());
                status = done.to;
                context = done.context;
            }
            if status == S::Deployed || status == S::Deactivated {
                prop_assert!(context.token_address.is_some() && context.pool_address.is_some());
            }
            if status == S::Draft || status == S::PendingTokenSignature {
                prop_assert!(context.token_address.is_none());
            }
        }
    }
}
