//! `godwit`: sets up godwit migrations in a cargo workspace (`godwit init`).

fn main() -> std::process::ExitCode {
    godwit_cli::main()
}
