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

/// The sort key of most lists: a timestamp, then the row's id as the tie-break.
pub type TimeKey = (DateTime<Utc>, Uuid);

/// A value a cursor can carry: the previous page's last row in the columns its list orders
/// by, ending in a column that is unique within the list. Each part writes a tag byte before
/// its value, so a cursor issued by a list of one key shape is refused by a list of another.
///
/// Timestamps are kept to the microsecond, as PostgreSQL stores them.
pub trait CursorKey: Sized + Clone + PartialEq + std::fmt::Debug {
    /// Appends the binary form.
    fn write(&self, out: &mut Vec<u8>);
    /// Reads one value from the front of `input`, advancing it; `None` when malformed.
    fn read(input: &mut &[u8]) -> Option<Self>;
}

const TAG_TIME: u8 = 1;
const TAG_ID: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_NO_TIME: u8 = 4;
/// The longest text part accepted, in bytes: longer than any key the API issues.
const MAX_TEXT: usize = 1024;

fn take<'a>(input: &mut &'a [u8], count: usize) -> Option<&'a [u8]> {
    if input.len() < count {
        return None;
    }
    let (head, tail) = input.split_at(count);
    *input = tail;
    Some(head)
}

fn expect_tag(input: &mut &[u8], tag: u8) -> Option<()> {
    (take(input, 1)? == [tag]).then_some(())
}

fn read_micros(input: &mut &[u8]) -> Option<DateTime<Utc>> {
    let bytes: [u8; 8] = take(input, 8)?.try_into().ok()?;
    DateTime::from_timestamp_micros(i64::from_be_bytes(bytes))
}

impl CursorKey for DateTime<Utc> {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(TAG_TIME);
        out.extend_from_slice(&self.timestamp_micros().to_be_bytes());
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        expect_tag(input, TAG_TIME)?;
        read_micros(input)
    }
}

impl CursorKey for Option<DateTime<Utc>> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Some(at) => at.write(out),
            None => out.push(TAG_NO_TIME),
        }
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        match input.first()? {
            &TAG_NO_TIME => take(input, 1).map(|_| None),
            _ => DateTime::read(input).map(Some),
        }
    }
}

impl CursorKey for Uuid {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(TAG_ID);
        out.extend_from_slice(self.as_bytes());
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        expect_tag(input, TAG_ID)?;
        let bytes: [u8; 16] = take(input, 16)?.try_into().ok()?;
        Some(Uuid::from_bytes(bytes))
    }
}

impl CursorKey for String {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(TAG_TEXT);
        // Keys are refused beyond MAX_TEXT when read, so a longer one never round-trips.
        let len = u16::try_from(self.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.as_bytes());
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        expect_tag(input, TAG_TEXT)?;
        let len: [u8; 2] = take(input, 2)?.try_into().ok()?;
        let len = usize::from(u16::from_be_bytes(len));
        if len > MAX_TEXT {
            return None;
        }
        String::from_utf8(take(input, len)?.to_vec()).ok()
    }
}

impl<A: CursorKey, B: CursorKey> CursorKey for (A, B) {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out);
        self.1.write(out);
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        Some((A::read(input)?, B::read(input)?))
    }
}

impl<A: CursorKey, B: CursorKey, C: CursorKey> CursorKey for (A, B, C) {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out);
        self.1.write(out);
        self.2.write(out);
    }

    fn read(input: &mut &[u8]) -> Option<Self> {
        Some((A::read(input)?, B::read(input)?, C::read(input)?))
    }
}

/// The position after which the next page starts: the sort key of the previous page's last
/// row, by default its timestamp and id ([`TimeKey`]). Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor<K = TimeKey> {
    key: K,
}

impl Cursor {
    /// A cursor at `(at, id)`; `at` is truncated to the microsecond.
    pub fn new(at: DateTime<Utc>, id: Uuid) -> Self {
        Self {
            key: (truncate_micros(at), id),
        }
    }

    /// The timestamp of the row the cursor names.
    pub fn at(&self) -> DateTime<Utc> {
        self.key.0
    }

    /// The id of the row the cursor names (the tie-break between equal timestamps).
    pub fn id(&self) -> Uuid {
        self.key.1
    }

    /// The cursor as `(timestamp, id)`, the shape keyset filters compare against.
    pub fn key(&self) -> TimeKey {
        self.key
    }
}

/// `at` to the microsecond; any microsecond count read back from a valid `DateTime` is valid.
fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

impl<K: CursorKey> Cursor<K> {
    /// A cursor naming a row by its sort key. Timestamps in the key should already be whole
    /// microseconds (as read from the database), or the cursor will not equal its decoding.
    pub fn at_key(key: K) -> Self {
        Self { key }
    }

    /// The sort key the cursor names.
    pub fn sort_key(&self) -> &K {
        &self.key
    }

    /// The opaque text form: URL-safe base64 without padding of the key's binary form.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(32);
        self.key.write(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Parses the text form made by [`Cursor::encode`] for the same key shape.
    ///
    /// # Errors
    /// [`PageError::MalformedCursor`] for anything else: other alphabets, padding, non-canonical
    /// trailing bits, another key shape, trailing bytes, or a timestamp out of range.
    pub fn decode(text: &str) -> Result<Self, PageError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PageError::MalformedCursor)?;
        let mut input = bytes.as_slice();
        let key = K::read(&mut input).ok_or(PageError::MalformedCursor)?;
        if !input.is_empty() {
            return Err(PageError::MalformedCursor);
        }
        Ok(Self { key })
    }
}

impl<K: CursorKey> std::fmt::Display for Cursor<K> {
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
pub struct PageRequest<K = TimeKey> {
    limit: u32,
    cursor: Option<Cursor<K>>,
}

impl<K> Default for PageRequest<K> {
    fn default() -> Self {
        Self {
            limit: PageRequest::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl PageRequest {
    /// The limit when none is given.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest limit accepted; larger ones are refused, never clamped.
    pub const MAX_LIMIT: u32 = 500;
}

impl<K: CursorKey> PageRequest<K> {
    /// A request for `limit` rows (the default when `None`) after `cursor` (from the start
    /// when `None`).
    ///
    /// # Errors
    /// [`PageError::InvalidLimit`] when `limit` is 0 or above [`PageRequest::MAX_LIMIT`].
    pub fn new(limit: Option<u32>, cursor: Option<Cursor<K>>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
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
        Self {
            limit: PageRequest::DEFAULT_LIMIT,
            cursor: None,
        }
    }

    /// Most rows on the page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The previous page's last row, if this is not the first page.
    pub fn cursor(&self) -> Option<Cursor<K>> {
        self.cursor.clone()
    }

    /// The sort key of the previous page's last row, if this is not the first page.
    pub fn after(&self) -> Option<&K> {
        self.cursor.as_ref().map(Cursor::sort_key)
    }

    /// How many rows to fetch: one more than the limit, which tells whether another page
    /// follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K = TimeKey> {
    /// The rows, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor<K>>,
}

impl<T, K: CursorKey> Page<T, K> {
    /// The page from rows fetched with [`PageRequest::fetch_limit`]: keeps at most the limit,
    /// and names the last kept row as the next cursor when a further row was fetched.
    pub fn from_rows(
        mut rows: Vec<T>,
        request: &PageRequest<K>,
        key: impl Fn(&T) -> Cursor<K>,
    ) -> Self {
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
    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U, K>, E> {
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
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U, K> {
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
            PageRequest::<TimeKey>::new(Some(0), None),
            Err(PageError::InvalidLimit)
        );
        assert_eq!(
            PageRequest::<TimeKey>::new(Some(PageRequest::MAX_LIMIT + 1), None),
            Err(PageError::InvalidLimit)
        );
        assert_eq!(
            PageRequest::<TimeKey>::parse(Some("-1"), None),
            Err(PageError::InvalidLimit)
        );
        let page = PageRequest::<TimeKey>::parse(None, None);
        assert_eq!(
            page.map(|page| page.limit()),
            Ok(PageRequest::DEFAULT_LIMIT)
        );
        let page = PageRequest::<TimeKey>::new(Some(PageRequest::MAX_LIMIT), None);
        assert_eq!(page.map(|page| page.limit()), Ok(PageRequest::MAX_LIMIT));
    }

    #[test]
    fn padded_or_wrong_alphabet_cursors_are_refused() -> Result<(), PageError> {
        let cursor = Cursor::new(DateTime::UNIX_EPOCH, Uuid::from_u128(7));
        let text = cursor.encode();
        assert_eq!(Cursor::<TimeKey>::decode(&text)?, cursor);
        assert!(Cursor::<TimeKey>::decode(&format!("{text}=")).is_err());
        assert!(Cursor::<TimeKey>::decode(&text.replace('A', "+")).is_err());
        assert!(Cursor::<TimeKey>::decode(&text[1..]).is_err());
        assert!(Cursor::<TimeKey>::decode("").is_err());
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

    #[test]
    fn a_cursor_of_one_key_shape_is_refused_by_another() {
        let time = Cursor::new(DateTime::UNIX_EPOCH, Uuid::from_u128(7)).encode();
        let text = Cursor::at_key("hl:perp:BTC".to_string()).encode();
        assert_eq!(
            Cursor::<String>::decode(&time),
            Err(PageError::MalformedCursor)
        );
        assert_eq!(
            Cursor::<TimeKey>::decode(&text),
            Err(PageError::MalformedCursor)
        );
        let series: Cursor<(String, String, DateTime<Utc>)> =
            Cursor::at_key(("chain:x".into(), "tvl".into(), DateTime::UNIX_EPOCH));
        assert_eq!(
            Cursor::<(String, String)>::decode(&series.encode()),
            Err(PageError::MalformedCursor)
        );
    }

    proptest::proptest! {
        #[test]
        fn every_key_shape_round_trips(
            micros in -62_000_000_000_000_000i64..250_000_000_000_000_000,
            id: u128,
            text in "\\PC{0,64}",
            present: bool,
        ) {
            let at = DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::UNIX_EPOCH);
            let time = Cursor::new(at, Uuid::from_u128(id));
            proptest::prop_assert_eq!(Cursor::decode(&time.encode()), Ok(time));
            let keyed = Cursor::at_key((present.then_some(at), text.clone()));
            proptest::prop_assert_eq!(Cursor::decode(&keyed.encode()), Ok(keyed));
            let series = Cursor::at_key((text.clone(), text, at));
            proptest::prop_assert_eq!(Cursor::decode(&series.encode()), Ok(series));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "[A-Za-z0-9_-]{0,80}") {
            let _ = Cursor::<TimeKey>::decode(&text);
            let _ = Cursor::<(Option<DateTime<Utc>>, String)>::decode(&text);
        }
    }
}
