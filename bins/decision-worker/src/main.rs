//! Worker that asks each trading clone's model for decisions and hands them to the prop engine.

fn main() {}
