//! Crash points for the fault tests: with `ISG_TEST_KILL_AT=NAME` in the environment, the
//! process sends itself SIGKILL when it reaches the point called NAME, exactly as a user's
//! `kill -9` would stop it there. Without the variable (always, outside tests) a point costs
//! one comparison. The points: `walked` (after the walk), `cache-append-torn` (half of a cache
//! line written), `compact-written` / `compact-renamed` (a compaction's new file written, then
//! renamed), `live-written` / `live-renamed` (likewise for `live.keys`), `finishing` (before
//! the final outputs are rewritten).
//!
//! Stop points: with `ISG_TEST_STOP_AT=NAME`, the process stops itself (SIGSTOP) at the point
//! called NAME and goes on when it is sent SIGCONT, so a test can change the world at exactly
//! that moment. The point: `listed` (the source tree is listed, no file is read yet).
//!
//! The points are armed only in builds with the `test-support` feature (the tests'); in
//! others every point is an empty function.

#[cfg(feature = "test-support")]
use std::sync::OnceLock;

/// The environment variable that arms a crash point.
pub const KILL_AT_ENV: &str = "ISG_TEST_KILL_AT";
/// The environment variable that arms a stop point.
pub const STOP_AT_ENV: &str = "ISG_TEST_STOP_AT";

#[cfg(feature = "test-support")]
fn armed_name() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(KILL_AT_ENV).ok().filter(|s| !s.is_empty()))
        .as_deref()
}

#[cfg(feature = "test-support")]
fn stop_name() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(STOP_AT_ENV).ok().filter(|s| !s.is_empty()))
        .as_deref()
}

/// Whether the crash point `name` is armed.
#[cfg(feature = "test-support")]
pub fn armed(name: &str) -> bool {
    armed_name() == Some(name)
}

/// Whether the crash point `name` is armed: never, in a build without `test-support`.
#[cfg(not(feature = "test-support"))]
pub fn armed(_name: &str) -> bool {
    false
}

/// Kills this process with SIGKILL if the crash point `name` is armed.
pub fn hit(name: &str) {
    if armed(name) {
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// Stops this process with SIGSTOP if the stop point `name` is armed; it goes on when it is
/// sent SIGCONT.
pub fn stop(name: &str) {
    #[cfg(not(feature = "test-support"))]
    let _ = name;
    #[cfg(feature = "test-support")]
    if stop_name() == Some(name) {
        // SAFETY: raise(3) has no memory-safety preconditions.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
    }
}
