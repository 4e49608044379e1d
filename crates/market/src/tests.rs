use proptest::prelude::*;

use crate::{InstrumentKey, InstrumentKind, ParseError, Side, Timeframe, VenueKind, arbitrary};

#[test]
fn accepts_the_documented_keys() {
    let token = "polymarket:outcome:71321045679252212594626385532706912750332728571942532289631379312455583992563";
    for text in [
        "hyperliquid:perp:BTC",
        "hyperliquid:spot:PURR/USDC",
        "hyperliquid:spot:@107",
        token,
        "replay:perp:BTC",
        "x-1:spot:A:B",
    ] {
        let key = InstrumentKey::parse(text).unwrap();
        assert_eq!(key.to_string(), text);
    }
    let spot = InstrumentKey::parse("hyperliquid:spot:PURR/USDC").unwrap();
    assert_eq!(
        (spot.venue(), spot.kind(), spot.symbol()),
        ("hyperliquid", InstrumentKind::Spot, "PURR/USDC")
    );
    assert_eq!(spot.outcome_token(), None);
    let outcome = InstrumentKey::parse(token).unwrap();
    assert!(outcome.is_outcome());
    assert_eq!(
        outcome.outcome_token(),
        Some(&token["polymarket:outcome:".len()..])
    );
    assert_eq!(
        InstrumentKey::parse("x-1:spot:A:B").unwrap().symbol(),
        "A:B"
    );
}

#[test]
fn refuses_the_documented_keys() {
    for text in [
        "",
        "BTC",
        "hyperliquid:perp",
        "hyperliquid:perp:",
        "Hyper:perp:BTC",
        "1inch:spot:X",
        "_x:spot:X",
        ":perp:BTC",
        "hyperliquid:option:BTC",
        "hyperliquid:Perp:BTC",
        "x:perp:A B",
        "x:perp:A\tB",
        "x:perp:\u{c4}",
    ] {
        assert!(InstrumentKey::parse(text).is_err(), "{text:?}");
    }
    let long_venue = format!("{}:perp:BTC", "a".repeat(33));
    assert!(matches!(
        InstrumentKey::parse(&long_venue),
        Err(ParseError::Venue(_))
    ));
    let long_symbol = format!("x:perp:{}", "A".repeat(129));
    assert!(matches!(
        InstrumentKey::parse(&long_symbol),
        Err(ParseError::Symbol(_))
    ));
    let long_key = format!("{}:outcome:{}", "a".repeat(32), "1".repeat(120));
    assert_eq!(InstrumentKey::parse(&long_key), Err(ParseError::KeyTooLong));
    assert_eq!(
        InstrumentKey::outcome(&"a".repeat(32), &"1".repeat(120)),
        Err(ParseError::KeyTooLong)
    );
}

#[test]
fn error_messages_name_the_broken_part() {
    let message = |text: &str| InstrumentKey::parse(text).unwrap_err().to_string();
    assert_eq!(
        message("BTC"),
        "invalid instrument: `BTC` is not of the form venue:kind:symbol"
    );
    assert_eq!(message("Hl:perp:BTC"), "invalid instrument: bad venue `Hl`");
    assert_eq!(
        message("hl:future:BTC"),
        "invalid instrument: unknown instrument kind `future`"
    );
    assert_eq!(
        message("hl:perp:B C"),
        "invalid instrument: bad symbol `B C`"
    );
}

#[test]
fn typed_constructors_build_what_parse_reads() {
    let perp = InstrumentKey::perp("replay", "BTC").unwrap();
    assert_eq!(perp, InstrumentKey::parse("replay:perp:BTC").unwrap());
    let spot = InstrumentKey::spot("hyperliquid", "PURR/USDC").unwrap();
    assert_eq!(spot.to_string(), "hyperliquid:spot:PURR/USDC");
    let family: VenueKind = "replay:perp".parse().unwrap();
    assert_eq!(family.key("BTC").unwrap(), perp);
    assert_eq!(perp.venue_kind(), family);
    assert_eq!(family.to_string(), "replay:perp");
    assert!(family.key("B C").is_err());
    for bad in ["replay", "replay:future", "Replay:perp", "replay:perp:BTC"] {
        assert!(VenueKind::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn kinds_sides_and_timeframes_keep_their_text_forms() {
    for kind in InstrumentKind::ALL {
        assert_eq!(kind.as_str().parse::<InstrumentKind>(), Ok(kind));
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{}\"", kind.as_str())
        );
    }
    assert!(InstrumentKind::Perp.allows_short());
    assert!(!InstrumentKind::Outcome.allows_short());
    for side in [Side::Buy, Side::Sell] {
        assert_eq!(side.as_str().parse::<Side>(), Ok(side));
        assert_eq!(
            serde_json::to_string(&side).unwrap(),
            format!("\"{}\"", side.as_str())
        );
    }
    assert_eq!(Side::Sell.sign(), rust_decimal::Decimal::NEGATIVE_ONE);
    assert_eq!("hold".parse::<Side>(), Err(ParseError::Side("hold".into())));
    for timeframe in Timeframe::ALL {
        assert_eq!(timeframe.as_str().parse::<Timeframe>(), Ok(timeframe));
        let json = format!("\"{}\"", timeframe.as_str());
        assert_eq!(serde_json::to_string(&timeframe).unwrap(), json);
        assert_eq!(serde_json::from_str::<Timeframe>(&json).unwrap(), timeframe);
    }
    assert!(Timeframe::ALL.windows(2).all(|pair| pair[0] < pair[1]));
    assert!("2d".parse::<Timeframe>().is_err());
    assert_eq!(Timeframe::H4.seconds(), Some(14_400));
    assert_eq!(Timeframe::Mo1.seconds(), None);
    assert_eq!(Timeframe::H4.bar_open(5_400 + 14_400 * 3), Some(14_400 * 3));
    assert_eq!(Timeframe::H1.bar_open(-1), Some(-3_600));
    assert_eq!(Timeframe::Mo1.bar_open(0), None);
}

proptest! {
    #[test]
    fn parse_reads_what_display_writes(key in arbitrary::key()) {
        prop_assert_eq!(InstrumentKey::parse(&key.to_string()), Ok(key));
    }

    #[test]
    fn display_writes_what_parse_accepted(text in "[a-z0-9_:-]{0,12}:(perp|spot|outcome|other):[ -~\u{e4}]{0,20}") {
        if let Ok(key) = InstrumentKey::parse(&text) {
            prop_assert_eq!(key.to_string(), text);
        }
    }

    #[test]
    fn display_writes_every_generated_text_back(text in arbitrary::key_text()) {
        prop_assert_eq!(InstrumentKey::parse(&text).map(|key| key.to_string()), Ok(text));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = InstrumentKey::parse(&text);
    }
}
