//! `cargo xtask bench`: compile-time benchmark of a crate of 1,000 migrations.

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<()> {
    Ok(())
}
