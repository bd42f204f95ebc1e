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
    /// The worse of two outcomes, for runs that combine several results
    /// (usage beats could-not-run beats target-failed beats healthy).
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Healthy => 0,
            Exit::TargetFailed => 1,
            Exit::CannotRun => 2,
            Exit::Usage => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// Maps a process status back to the outcome it stands for.
    pub fn from_code(code: i32) -> Exit {
        match code {
            0 => Exit::Healthy,
            2 => Exit::Usage,
            3 => Exit::CannotRun,
            _ => Exit::TargetFailed,
        }
    }

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
    /// The diagnosis code behind the failure (`dns.nxdomain`…), when one
    /// applies: a field, so JSON and `check` never parse it out of text.
    pub code: Option<String>,
}

impl AppError {
    /// The user asked for something that cannot be done as asked.
    pub fn usage(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::Usage,
            message: message.into(),
            code: None,
        }
    }

    /// The environment prevents running (privilege, interface, resolver).
    pub fn cannot_run(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::CannotRun,
            message: message.into(),
            code: None,
        }
    }

    /// The target itself is the problem (e.g. a name that does not resolve).
    pub fn target(message: impl Into<String>) -> Self {
        AppError {
            exit: Exit::TargetFailed,
            message: message.into(),
            code: None,
        }
    }

    /// Names the diagnosis code that explains this failure.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The word JSON documents use for the exit class.
    pub fn kind(&self) -> &'static str {
        match self.exit {
            Exit::Healthy => "none",
            Exit::TargetFailed => "target_failed",
            Exit::Usage => "usage",
            Exit::CannotRun => "cannot_run",
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
