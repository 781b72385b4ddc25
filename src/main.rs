//! The `isg` command line: parses flags into plain settings and hands them to the library.

mod cli;

fn main() -> std::process::ExitCode {
    // Die quietly on a closed pipe (`isg ... | head`) instead of panicking on the next print.
    // SAFETY: setting a signal disposition to its default at startup, before any threads exist.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main()
}
