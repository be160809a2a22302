//! The `ngsim` binary: parse arguments, run, exit with a documented code.

fn main() -> std::process::ExitCode {
    suites::cli::main()
}
