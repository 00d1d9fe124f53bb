//! Declares every `src/migrations/*.rs` (the fixture's migrations) as a module.

fn main() {
    godwit_build::discover();
}
