//! The states and kinds clone-service stores as text: clones' status, public profiles' status,
//! reports' status, and the moderation audit's actor and action.
//!
//! Each enum has one stored spelling per variant (`as_str`, and `FromStr` back), which is also
//! its JSON form. A stored value that does not parse is corrupt data for the service to refuse;
//! this module never picks a default and queries nothing.

use std::str::FromStr;

use serde::Serialize;

/// Defines a text-stored enum with its `as_str` and a `FromStr` that refuses unknown text.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// The stored and wire form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(concat!("unknown ", $what, " `{}`"), other)),
                }
            }
        }
    };
}

stored_enum! {
    /// A clone's internal operational status (`clones.status`); users see
    /// [`DisplayState`](crate::DisplayState) instead.
    CloneStatus, "clone status" {
        /// In service.
        Active => "active",
        /// Temporarily out of service.
        Paused => "paused",
        /// Retired by moderation; only an admin can reinstate it.
        Retired => "retired",
    }
}

stored_enum! {
    /// Whether a public profile is visible.
    ProfileStatus, "profile status" {
        /// Published and visible to everyone.
        Approved => "approved",
        /// Hidden by moderation.
        Retired => "retired",
    }
}

stored_enum! {
    /// Where a report stands.
    ReportStatus, "report status" {
        /// Waiting for an admin.
        Open => "open",
        /// Resolved with no action.
        Dismissed => "dismissed",
        /// Resolved: the report was right.
        Actioned => "actioned",
    }
}

stored_enum! {
    /// Who took a moderation action.
    ModerationActor, "moderation actor" {
        /// The clone's owner.
        Owner => "owner",
        /// An administrator.
        Admin => "admin",
        /// The system itself.
        System => "system",
    }
}

stored_enum! {
    /// What a moderation audit entry records.
    ModerationAction, "moderation action" {
        /// The owner published the profile.
        ProfilePublished => "profile_published",
        /// The owner changed the profile.
        ProfileUpdated => "profile_updated",
        /// An admin dismissed a report.
        ReportDismissed => "report_dismissed",
        /// An admin actioned a report.
        ReportActioned => "report_actioned",
        /// The clone and its profile were retired.
        Retired => "retired",
        /// The clone and its profile were reinstated.
        Reinstated => "reinstated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip_and_unknown_text_is_refused() {
        for status in [
            ReportStatus::Open,
            ReportStatus::Dismissed,
            ReportStatus::Actioned,
        ] {
            assert_eq!(status.as_str().parse::<ReportStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        assert_eq!(
            "ProfilePublished".parse::<ModerationAction>(),
            Err("unknown moderation action `ProfilePublished`".to_string())
        );
    }
}
