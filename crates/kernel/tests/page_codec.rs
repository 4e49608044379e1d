//! Property tests of the cursor codec: every cursor survives a round trip, and no other text
//! decodes or panics.

use chrono::DateTime;
use clones_kernel::page::{Cursor, TimeKey};
use proptest::prelude::*;
use uuid::Uuid;

fn cursor() -> impl Strategy<Value = Cursor> {
    let micros = DateTime::<chrono::Utc>::MIN_UTC.timestamp_micros()
        ..=DateTime::<chrono::Utc>::MAX_UTC.timestamp_micros();
    (micros, any::<u128>()).prop_map(|(micros, id)| {
        let at = DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::UNIX_EPOCH);
        Cursor::new(at, Uuid::from_u128(id))
    })
}

proptest! {
    #[test]
    fn decode_inverts_encode(cursor in cursor()) {
        let text = cursor.encode();
        prop_assert_eq!(Cursor::<TimeKey>::decode(&text), Ok(cursor));
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn garbage_never_decodes(text in ".{0,64}") {
        // Only the canonical encoding of some cursor may decode, and then to that cursor.
        if let Ok(cursor) = Cursor::<TimeKey>::decode(&text) {
            prop_assert_eq!(cursor.encode(), text);
        }
    }

    #[test]
    fn near_misses_of_a_cursor_never_decode(cursor in cursor(), cut in 1usize..32, extra in "[A-Za-z0-9_=+/-]{1,4}") {
        let text = cursor.encode();
        let shorter = &text[..text.len() - cut.min(text.len())];
        let longer = format!("{text}{extra}");
        prop_assert!(Cursor::<TimeKey>::decode(shorter).is_err());
        prop_assert!(Cursor::<TimeKey>::decode(&longer).is_err());
    }
}
