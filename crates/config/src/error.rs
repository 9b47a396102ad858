//! What is wrong with a config, each problem at its path.

use std::fmt;

/// One problem in a config: where (`pipelines.payments.retry.max_attempts`)
/// and what ("must be at least 1 (got 0)").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The dotted path of the value at fault; list items as `stages[2]`.
    /// Empty for the file as a whole (a syntax error).
    pub path: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A config was rejected: every problem found, each with its path, in the
/// order of the file's sections (sorted by name).
///
/// ```
/// use steadfast_config::Config;
///
/// let err = Config::from_toml(r#"
///     [pipelines.payments.retry]
///     max_attempts = 0
///     [pipelines.payments.timeout]
///     limt = "1s"
/// "#).unwrap_err();
/// assert_eq!(err.to_string(), "\
/// pipelines.payments.timeout.limt: unknown field `limt`, expected `limit` or `name`
/// pipelines.payments.retry.max_attempts: must be at least 1 (got 0)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    problems: Vec<Problem>,
}

impl ConfigErrors {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty());
        ConfigErrors { problems }
    }

    pub(crate) fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigErrors::new(vec![Problem::new(path, message)])
    }

    /// Every problem, in order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The paths of the problems, in order: handy in tests.
    pub fn paths(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.path.as_str()).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A config file could not be read or was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read and rejected.
    #[error("{0}")]
    Invalid(#[from] ConfigErrors),
}

/// The [`ConfigError`](steadfast_core::ConfigError) of a policy, as a
/// problem at the path of its section.
pub(crate) fn at(section: &str, err: &steadfast_core::ConfigError) -> Problem {
    let mut message = err.rule().to_owned();
    if let Some(value) = err.value() {
        message.push_str(" (got ");
        message.push_str(value);
        message.push(')');
    }
    Problem::new(format!("{section}.{}", err.field()), message)
}
