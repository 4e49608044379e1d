//! Public profile rules: username and avatar validation.

use crate::CloneError;

/// Checks a username: 3-32 of `[a-z0-9_]`.
///
/// # Errors
/// [`CloneError::InvalidInput`].
pub fn validate_username(username: &str) -> Result<(), CloneError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CloneError::InvalidInput(
            "username must be 3-32 lowercase letters, digits or underscores".into(),
        ))
    }
}

/// Checks an avatar URL: absolute `http` or `https`, at most 500 characters.
///
/// # Errors
/// [`CloneError::InvalidInput`].
pub fn validate_avatar_url(avatar_url: &str) -> Result<(), CloneError> {
    let parsed = url::Url::parse(avatar_url)
        .map_err(|_| CloneError::InvalidInput("avatarUrl must be an absolute URL".into()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CloneError::InvalidInput(
            "avatarUrl must use http or https".into(),
        ));
    }
    if avatar_url.len() > 500 {
        return Err(CloneError::InvalidInput(
            "avatarUrl must be at most 500 characters".into(),
        ));
    }
    Ok(())
}

/// Checks free text: trimmed length within `max`, no control characters but newlines.
///
/// # Errors
/// [`CloneError::InvalidInput`] naming `field`.
pub fn validate_text(field: &str, text: &str, min: usize, max: usize) -> Result<(), CloneError> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(CloneError::InvalidInput(format!(
            "{field} must be {min}-{max} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CloneError::InvalidInput(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["abc", "clone_01", &"a".repeat(32)] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "Abc",
            "with space",
            "dash-name",
            &"a".repeat(33),
            "émoji",
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn avatars() {
        assert!(validate_avatar_url("https://cdn.example/a.png").is_ok());
        assert!(validate_avatar_url("http://cdn.example/a.png").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x/a.png",
            "data:image/png;base64,AA",
            "/relative.png",
        ] {
            assert!(validate_avatar_url(bad).is_err(), "{bad}");
        }
    }
}
