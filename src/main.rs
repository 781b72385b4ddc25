//! The `isg` command line: parses flags into plain settings and hands them to the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
