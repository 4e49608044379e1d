//! The kinds and statuses lifecycle stores as text besides audition and Promotion Queue
//! statuses (which live with their views): audit event kinds and actors, refund authorization
//! status, admission skip reasons and Arena membership status.
//!
//! Each enum's `as_str` is its stored and wire spelling and `parse` reads it back; `None` means
//! a corrupt row for the service to refuse. This module picks no defaults and queries nothing.

use serde::Serialize;
use utoipa::ToSchema;

/// What an audition audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditionEventKind {
    /// The run started.
    Started,
    /// The run passed.
    Passed,
    /// A rule failed the run.
    Failed,
    /// A free retry replaced the run.
    Retried,
    /// An admin voided the run.
    Voided,
    /// An admin authorized a refund of the fee.
    RefundAuthorized,
}

impl AuditionEventKind {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditionEventKind::Started => "started",
            AuditionEventKind::Passed => "passed",
            AuditionEventKind::Failed => "failed",
            AuditionEventKind::Retried => "retried",
            AuditionEventKind::Voided => "voided",
            AuditionEventKind::RefundAuthorized => "refund_authorized",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "started" => Some(AuditionEventKind::Started),
            "passed" => Some(AuditionEventKind::Passed),
            "failed" => Some(AuditionEventKind::Failed),
            "retried" => Some(AuditionEventKind::Retried),
            "voided" => Some(AuditionEventKind::Voided),
            "refund_authorized" => Some(AuditionEventKind::RefundAuthorized),
            _ => None,
        }
    }
}

/// Who caused an audition audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditionEventActor {
    /// The clone's owner.
    Owner,
    /// An administrator.
    Admin,
    /// The lifecycle worker.
    Worker,
}

impl AuditionEventActor {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditionEventActor::Owner => "owner",
            AuditionEventActor::Admin => "admin",
            AuditionEventActor::Worker => "worker",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(AuditionEventActor::Owner),
            "admin" => Some(AuditionEventActor::Admin),
            "worker" => Some(AuditionEventActor::Worker),
            _ => None,
        }
    }
}

/// Where a refund authorization stands; paying it out is economy's later step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// An admin authorized the refund.
    Authorized,
}

impl RefundStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Authorized => "authorized",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "authorized" => Some(RefundStatus::Authorized),
            _ => None,
        }
    }
}

/// Why an Arena admission attempt skipped a Promotion Queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The clone has no approved public profile.
    ProfileMissing,
    /// The clone is retired.
    CloneRetired,
    /// The clone already has an active Arena membership.
    AlreadyMember,
}

impl SkipReason {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::ProfileMissing => "profile_missing",
            SkipReason::CloneRetired => "clone_retired",
            SkipReason::AlreadyMember => "already_member",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "profile_missing" => Some(SkipReason::ProfileMissing),
            "clone_retired" => Some(SkipReason::CloneRetired),
            "already_member" => Some(SkipReason::AlreadyMember),
            _ => None,
        }
    }
}

/// Whether an Arena membership is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Competing in the Arena.
    Active,
    /// No longer competing.
    Retired,
}

impl MembershipStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Active => "active",
            MembershipStatus::Retired => "retired",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(MembershipStatus::Active),
            "retired" => Some(MembershipStatus::Retired),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_match_the_wire() {
        for kind in [
            AuditionEventKind::Started,
            AuditionEventKind::Passed,
            AuditionEventKind::Failed,
            AuditionEventKind::Retried,
            AuditionEventKind::Voided,
            AuditionEventKind::RefundAuthorized,
        ] {
            assert_eq!(AuditionEventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        assert_eq!(SkipReason::parse("Clone_Retired"), None);
        assert_eq!(MembershipStatus::parse("paused"), None);
    }
}
