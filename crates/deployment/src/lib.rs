//! Clone deployment: the lifecycle that takes a clone from a draft to a deployed token and
//! training pool on chain, and out of service again.
//!
//! [`machine`] is the pure state machine: [`transition`] decides every status change from the
//! current status, the [`DeploymentContext`] its guards read, and a [`DeploymentEvent`];
//! anything else is refused with a stable code (HTTP 409). It takes no database, clock or IO.
//! The chain is EVM; the machine is chain-agnostic.

mod error;
pub mod machine;

pub use error::DeploymentError;
pub use machine::{
    CANCELLED, DeploymentContext, DeploymentEvent, DeploymentStatus, EventKind, Transition,
    TransitionError, transition,
};
