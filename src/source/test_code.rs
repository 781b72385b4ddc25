//! Which code is tests. A reader of the map must not take `tests/io_read_line.rs` ("Reading
//! lines from a file.") for the code that reads lines: a test file's line has to say it is
//! tests, and the prompt has to ask what the tests check.
//!
//! Two rules, both plain text, never a parse:
//! - [`is_test_path`]: the file lives in a `tests`, `test`, `__tests__` or `spec` folder, or is
//!   named as tests are (`tests.rs`, `conftest.py`, `test_x.py`, `x_test.go`, `x.test.ts`,
//!   `x.spec.js`);
//! - [`is_test_code`]: that, or most of a chunk's lines lie in functions marked as tests
//!   (`#[test]`, `#[tokio::test]`, `#[rstest]`; Python `def test_`; Go `func TestX`).

use super::Chunk;

/// Folder names whose files are tests (or test support).
const TEST_DIRS: &[&str] = &["tests", "test", "__tests__", "spec"];

/// Words that say a line is about tests; a test line without one gets [`TEST_OPENING`].
const TEST_WORDS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "tested",
    "regression",
    "mock",
    "mocks",
    "fixture",
    "fixtures",
    "checks",
    "checking",
    "verifies",
    "verify",
    "verifying",
    "asserts",
    "harness",
    "benchmark",
    "benchmarks",
    "fuzz",
    "fuzzing",
    "loom",
];

/// The opening a test chunk's line gets when it does not say it is about tests.
pub const TEST_OPENING: &str = "Test code: ";

/// Whether the file at `path` (relative, `/`-separated) is a test file by its folder or name.
pub fn is_test_path(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(name) = parts.pop() else {
        return false;
    };
    if parts.iter().any(|d| TEST_DIRS.contains(d)) {
        return true;
    }
    let stem = name.split_once('.').map_or(name, |(s, _)| s);
    let inner = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem == "tests"
        || stem == "test"
        || stem == "conftest"
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || inner.ends_with(".test")
        || inner.ends_with(".spec")
}

/// Whether the directory at `path` (relative, `/`-separated) is a test folder or lies in one.
pub fn is_test_dir(path: &str) -> bool {
    path.split('/').any(|d| TEST_DIRS.contains(&d))
}

/// Whether `chunk` is test code: its file is a test file ([`is_test_path`]), or most of its
/// lines lie in functions marked as tests.
pub fn is_test_code(chunk: &Chunk) -> bool {
    is_test_path(&chunk.path) || mostly_test_functions(&chunk.text)
}

/// Whether at least [`TEST_SHARE`] of the non-blank lines of `text` lie in test functions. A
/// test function runs from its first line to the closing brace at its own indentation (a
/// Python `def test_...` to the next line indented no deeper). So a piece cut from a long test
/// module is tests, while a file whose code has a test module beside it, or a type with one
/// `#[test] fn bounds()` check after it, is not.
fn mostly_test_functions(text: &str) -> bool {
    let (mut total, mut in_tests) = (0usize, 0usize);
    let mut marked = false;
    // The open test function: its indentation, and whether it ends by indentation (Python).
    let mut open: Option<(usize, bool)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if t.is_empty() {
            continue;
        }
        let indent = line.len() - t.len();
        if let Some((k, by_indent)) = open {
            if by_indent && indent <= k {
                open = None;
            } else {
                total += 1;
                in_tests += 1;
                if !by_indent && indent == k && t.starts_with('}') {
                    open = None;
                }
                continue;
            }
        }
        // Attributes count with neither side: they mark what follows.
        if t.starts_with("#[") {
            marked |= is_test_attribute(t);
            continue;
        }
        total += 1;
        let python = t.starts_with("def test") || t.starts_with("async def test");
        if is_function(t) && (marked || python || t.starts_with("func Test")) {
            in_tests += 1;
            let one_line = !python && t.trim_end().ends_with('}');
            if !one_line {
                open = Some((indent, python));
            }
        }
        if !t.starts_with("//") {
            marked = false;
        }
    }
    total > 0 && in_tests as f64 >= TEST_SHARE * total as f64
}

/// The share of a chunk's lines in test functions that makes it test code.
const TEST_SHARE: f64 = 0.6;

/// `#[test]`, `#[tokio::test]`, `#[tokio::test(flavor = ...)]`, `#[rstest]`, `#[test_case(..)]`.
fn is_test_attribute(attr: &str) -> bool {
    let inner = attr
        .trim_start_matches("#[")
        .split(['(', ']'])
        .next()
        .unwrap_or("")
        .trim();
    let last = inner.rsplit("::").next().unwrap_or(inner);
    matches!(last, "test" | "rstest" | "test_case" | "quickcheck")
}

/// Whether a trimmed line starts a function (Rust, Python or Go).
fn is_function(t: &str) -> bool {
    let mut rest = t;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
        }
    }
    rest.starts_with("fn ") || rest.starts_with("def ") || t.starts_with("func ")
}

/// `line` as a test chunk's line: unchanged when it already says it is about tests, else with
/// [`TEST_OPENING`] ("Reading lines from a file." becomes "Test code: reading lines from a
/// file.").
pub fn as_test_line(line: &str) -> String {
    let says_tests = line
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .flat_map(|w| w.split('_'))
        .any(|w| TEST_WORDS.contains(&w.to_lowercase().as_str()));
    if says_tests {
        return line.to_string();
    }
    let mut chars = line.chars();
    let Some(first) = chars.next() else {
        return line.to_string();
    };
    // Keep the capital of a name ("TcpStream", "I/O"): lower only a plain capitalised word.
    let first_word = line.split_whitespace().next().unwrap_or("");
    let plain = first_word.chars().skip(1).all(|c| !c.is_uppercase());
    if plain && first.is_uppercase() {
        format!("{TEST_OPENING}{}{}", first.to_lowercase(), chars.as_str())
    } else {
        format!("{TEST_OPENING}{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths_by_folder_and_name() {
        for p in [
            "tests/io_read_line.rs",
            "tokio/tests/fs_uring.rs",
            "src/runtime/tests/queue.rs",
            "src/fs/file/tests.rs",
            "pkg/server_test.go",
            "app/test_views.py",
            "conftest.py",
            "web/__tests__/button.js",
            "web/button.test.tsx",
            "web/button.spec.ts",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in [
            "src/io/read_line.rs",
            "tokio-test/src/io.rs",
            "src/testing_utils.rs",
            "src/attest.rs",
            "src/latest/mod.rs",
            "",
        ] {
            assert!(!is_test_path(p), "{p}");
        }
    }

    fn chunk(path: &str, text: &str) -> Chunk {
        let language = crate::source::Language::from_path(std::path::Path::new(path))
            .unwrap_or(crate::source::Language::Text);
        let file = crate::source::SourceFile::from_text(path, language, text);
        crate::source::chunk_file(&file, usize::MAX).remove(0)
    }

    #[test]
    fn a_chunk_of_test_functions_is_test_code_outside_a_test_folder() {
        let tests = "#[test]\nfn a() {}\n\n#[tokio::test(flavor = \"multi_thread\")]\nasync fn b() {}\n\nfn helper() {}\n";
        assert!(is_test_code(&chunk("src/io/util.rs", tests)));
        let code = "/// Reads.\npub fn read() {}\n\npub fn write() {}\n\n#[test]\nfn t() {}\n";
        // A type with a one-function bounds check after it is the type's code.
        let bounds = "/// A lock.\npub struct Lock {\n    a: u8,\n    b: u8,\n    c: u8,\n}\n\n#[test]\nfn bounds() {\n    fn check<T: Send>() {}\n}\n";
        assert!(!is_test_code(&chunk("src/lock.rs", bounds)));
        assert!(!is_test_code(&chunk("src/io/util.rs", code)));
        let python = "def test_parse():\n    pass\n\ndef test_empty():\n    pass\n";
        assert!(is_test_code(&chunk("src/checks.py", python)));
        assert!(!is_test_code(&chunk(
            "src/io/util.rs",
            "pub fn read() {}\n"
        )));
        // A test module beside the code does not make the chunk tests; a piece of one does.
        let beside = "pub fn memchr(n: u8, h: &[u8]) -> Option<usize> {\n    None\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn a() {}\n\n    #[test]\n    fn b() {}\n}\n";
        assert!(!is_test_code(&chunk("src/util/memchr.rs", beside)));
        let inside = "    #[test]\n    fn a() {}\n\n    #[test]\n    fn b() {}\n}\n";
        assert!(is_test_code(&chunk("src/util/memchr.rs", inside)));
    }

    #[test]
    fn a_test_line_says_it_is_about_tests() {
        assert_eq!(
            as_test_line("Reading lines from a file."),
            "Test code: reading lines from a file."
        );
        assert_eq!(
            as_test_line("TcpStream shutdown on drop."),
            "Test code: TcpStream shutdown on drop."
        );
        assert_eq!(
            as_test_line("I/O operations on pipes."),
            "Test code: I/O operations on pipes."
        );
        for kept in [
            "Tests for parsing configuration files.",
            "Regression tests for #6035.",
            "Checks that a closed channel wakes its receivers.",
            "Loom models of the multi-thread scheduler.",
            "Defines `test_read` and `test_write`.",
        ] {
            assert_eq!(as_test_line(kept), kept);
        }
        assert_eq!(as_test_line(""), "");
    }
}
