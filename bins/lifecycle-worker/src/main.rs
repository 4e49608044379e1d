//! Worker that evaluates running auditions and admits promoted clones to the Arena.

fn main() {}
