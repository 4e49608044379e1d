//! Ownership checks for user-owned resources.
//!
//! Another user's resource is reported as missing, never as forbidden, so ids cannot be probed
//! for existence. Every context that serves user-owned rows answers through [`owned_by`].

use uuid::Uuid;

/// A resource with exactly one owning user.
pub trait Owned {
    /// The owning user's id.
    fn owner_id(&self) -> Uuid;
}

/// The caller's view of a looked-up resource: `Some` only when `caller` owns it.
///
/// Returns `None` both when nothing was found and when someone else owns it; callers map
/// `None` to their not-found error.
pub fn owned_by<T: Owned>(found: Option<T>, caller: Uuid) -> Option<T> {
    found.filter(|resource| resource.owner_id() == caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(Uuid);

    impl Owned for Thing {
        fn owner_id(&self) -> Uuid {
            self.0
        }
    }

    #[test]
    fn someone_elses_resource_looks_missing() {
        let owner = Uuid::new_v4();
        let stranger = Uuid::new_v4();
        assert!(owned_by(Some(Thing(owner)), owner).is_some());
        assert!(owned_by(Some(Thing(owner)), stranger).is_none());
        assert!(owned_by(None::<Thing>, owner).is_none());
    }
}
