//! Crash points for the fault tests: with `ISG_TEST_KILL_AT=NAME` in the environment, the
//! process sends itself SIGKILL when it reaches the point called NAME, exactly as a user's
//! `kill -9` would stop it there. Without the variable (always, outside tests) a point costs
//! one comparison. The points: `walked` (after the walk), `cache-append-torn` (half of a cache
//! line written), `compact-written` / `compact-renamed` (a compaction's new file written, then
//! renamed), `live-written` / `live-renamed` (likewise for `live.keys`), `finishing` (before
//! the final outputs are rewritten).

use std::sync::OnceLock;

/// The environment variable that arms a crash point.
pub const KILL_AT_ENV: &str = "ISG_TEST_KILL_AT";

fn armed_name() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(KILL_AT_ENV).ok().filter(|s| !s.is_empty()))
        .as_deref()
}

/// Whether the crash point `name` is armed.
pub fn armed(name: &str) -> bool {
    armed_name() == Some(name)
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
