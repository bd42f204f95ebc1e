//! One error type for the whole binary, so every failure ends as one line on
//! stderr and a documented exit code instead of a panic.

use std::fmt;

/// Exit codes are part of the interface: scripts branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything checked was healthy.
    Healthy = 0,
    /// A target failed: no reply, refused, NXDOMAIN, loss over the limit.
    TargetFailed = 1,
    /// The command line was wrong.
    Usage = 2,
    /// netdx could not run: privileges, missing interface, no resolver.
    CannotRun = 3,
}

impl Exit {
    /// The process exit status for this outcome.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A failure that stops a command before it can produce a result.
#[derive(Debug)]
pub struct AppError {
    /// Which exit code the failure maps to.
    pub exit: Exit,
    /// One line, naming what is wrong and what to do about it.
    pub message: String,
}

impl AppError {
    /// The user asked for something that cannot be done as asked.
    pub fn usage(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// The environment prevents running (privilege, interface, resolver).
    pub fn cannot_run(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::CannotRun,
            message: message.into(),
        }
    }

    /// The target itself is the problem (e.g. a name that does not resolve).
    pub fn target(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::TargetFailed,
            message: message.into(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Result alias used by every command.
pub type AppResult<T> = Result<T, AppError>;
