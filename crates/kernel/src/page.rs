//! Keyset pagination: the page request every list method takes, the opaque cursor it carries,
//! the page it answers, the one limit policy and the one error.
//!
//! A cursor names the last row of the previous page by its timestamp and id, so rows that share
//! a timestamp are still split between pages exactly once. The module knows nothing of tables or
//! transports: repositories turn a cursor into a `(ts, id) < (cursor_ts, cursor_id)` filter
//! (`>` for ascending lists), and the web layer parses `limit` and `cursor` into a
//! [`PageRequest`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ErrorKind;

/// Bytes of a cursor's binary form: big-endian microseconds since the epoch, then the id.
const CURSOR_BYTES: usize = 8 + 16;

/// The position after which the next page starts: the timestamp and id of the previous page's
/// last row. Opaque to clients; timestamps are kept to the microsecond, as PostgreSQL stores
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    /// A cursor at `(at, id)`; `at` is truncated to the microsecond.
    pub fn new(at: DateTime<Utc>, id: Uuid) -> Self {
        let micros = at.timestamp_micros();
        // Any microsecond count read back from a valid `DateTime` is itself valid.
        let at = DateTime::from_timestamp_micros(micros).unwrap_or(at);
        Self { at, id }
    }

    /// The timestamp of the row the cursor names.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The id of the row the cursor names (the tie-break between equal timestamps).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The cursor as `(timestamp, id)`, the shape keyset filters compare against.
    pub fn key(&self) -> (DateTime<Utc>, Uuid) {
        (self.at, self.id)
    }

    /// The opaque text form: URL-safe base64 without padding of the 24-byte binary form.
    pub fn encode(&self) -> String {
        let mut bytes = [0u8; CURSOR_BYTES];
        bytes[..8].copy_from_slice(&self.at.timestamp_micros().to_be_bytes());
        bytes[8..].copy_from_slice(self.id.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Parses the text form made by [`Cursor::encode`].
    ///
    /// # Errors
    /// [`PageError::MalformedCursor`] for anything else: other alphabets, padding, non-canonical
    /// trailing bits, another length, or a timestamp out of range.
    pub fn decode(text: &str) -> Result<Self, PageError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PageError::MalformedCursor)?;
        let bytes: [u8; CURSOR_BYTES] = bytes.try_into().map_err(|_| PageError::MalformedCursor)?;
        let mut micros = [0u8; 8];
        micros.copy_from_slice(&bytes[..8]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&bytes[8..]);
        let at = DateTime::from_timestamp_micros(i64::from_be_bytes(micros))
            .ok_or(PageError::MalformedCursor)?;
        Ok(Self {
            at,
            id: Uuid::from_bytes(id),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The limit is 0 or above [`PageRequest::MAX_LIMIT`], or not a number.
    #[error("limit must be 1-{max}", max = PageRequest::MAX_LIMIT)]
    InvalidLimit,
    /// The cursor is not one this API issued.
    #[error("malformed cursor")]
    MalformedCursor,
}

impl crate::DomainError for PageError {
    /// Always [`ErrorKind::InvalidInput`].
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }

    /// The stable machine code, the same for every variant.
    fn code(&self) -> &'static str {
        "invalid_page"
    }
}

/// One page's worth of a list: how many rows at most, and where to start. Always valid: the
/// limit is within the policy, so list methods never refuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl PageRequest {
    /// The limit when none is given.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest limit accepted; larger ones are refused, never clamped.
    pub const MAX_LIMIT: u32 = 500;

    /// A request for `limit` rows (the default when `None`) after `cursor` (from the start
    /// when `None`).
    ///
    /// # Errors
    /// [`PageError::InvalidLimit`] when `limit` is 0 or above [`PageRequest::MAX_LIMIT`].
    pub fn new(limit: Option<u32>, cursor: Option<Cursor>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if limit == 0 || limit > Self::MAX_LIMIT {
            return Err(PageError::InvalidLimit);
        }
        Ok(Self { limit, cursor })
    }

    /// Parses the text forms of `limit` and `cursor`, as they arrive in a query string.
    ///
    /// # Errors
    /// [`PageError::InvalidLimit`] for a limit that is not a number in range,
    /// [`PageError::MalformedCursor`] for a cursor [`Cursor::decode`] refuses.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = limit
            .map(|text| text.parse::<u32>().map_err(|_| PageError::InvalidLimit))
            .transpose()?;
        let cursor = cursor.map(Cursor::decode).transpose()?;
        Self::new(limit, cursor)
    }

    /// The first page with the default limit.
    pub fn first() -> Self {
        Self::default()
    }

    /// Most rows on the page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The previous page's last row, if this is not the first page.
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor
    }

    /// How many rows to fetch: one more than the limit, which tells whether another page
    /// follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// The page from rows fetched with [`PageRequest::fetch_limit`]: keeps at most the limit,
    /// and names the last kept row as the next cursor when a further row was fetched.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more { rows.last().map(key) } else { None };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// The page with each item converted, keeping the cursor.
    ///
    /// # Errors
    /// The first error `convert` returns.
    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }

    /// The page with each item converted, keeping the cursor.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_policy_are_refused() {
        assert_eq!(
            PageRequest::new(Some(0), None),
            Err(PageError::InvalidLimit)
        );
        assert_eq!(
            PageRequest::new(Some(PageRequest::MAX_LIMIT + 1), None),
            Err(PageError::InvalidLimit)
        );
        assert_eq!(
            PageRequest::parse(Some("-1"), None),
            Err(PageError::InvalidLimit)
        );
        let page = PageRequest::parse(None, None);
        assert_eq!(
            page.map(|page| page.limit()),
            Ok(PageRequest::DEFAULT_LIMIT)
        );
        let page = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
        assert_eq!(page.map(|page| page.limit()), Ok(PageRequest::MAX_LIMIT));
    }

    #[test]
    fn padded_or_wrong_alphabet_cursors_are_refused() -> Result<(), PageError> {
        let cursor = Cursor::new(DateTime::UNIX_EPOCH, Uuid::from_u128(7));
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text)?, cursor);
        assert!(Cursor::decode(&format!("{text}=")).is_err());
        assert!(Cursor::decode(&text.replace('A', "+")).is_err());
        assert!(Cursor::decode(&text[1..]).is_err());
        assert!(Cursor::decode("").is_err());
        Ok(())
    }

    #[test]
    fn a_page_names_its_last_row_only_when_more_follow() -> Result<(), PageError> {
        let request = PageRequest::new(Some(2), None)?;
        let key = |n: &u128| Cursor::new(DateTime::UNIX_EPOCH, Uuid::from_u128(*n));
        let page = Page::from_rows(vec![1, 2, 3], &request, key);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(key(&2)));
        let page = Page::from_rows(vec![1, 2], &request, key);
        assert_eq!(page.next_cursor, None);
        Ok(())
    }
}
