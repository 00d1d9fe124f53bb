//! Declares every `src/migrations/*.rs` as a module: adding a migration is adding a file.

fn main() {
    godwit_build::discover();
}
