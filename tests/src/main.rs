//! The fixture's migrations binary: one line, as in every migrations crate.

godwit::main!();
