//! What an action returns when it cannot run. An invalid request changes
//! nothing; a kernel refusal changes nothing either, except what the kernel
//! itself did before the check that refused (`Ctx::keep_on_failure`).

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// The kernel errno an action failed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Errno {
    EFAULT,
    EINVAL,
    ENOMEM,
    EOPNOTSUPP,
    EBUSY,
    EAGAIN,
    EACCES,
    EPERM,
    ENOSPC,
}

impl Errno {
    pub fn name(self) -> &'static str {
        match self {
            Errno::EFAULT => "EFAULT",
            Errno::EINVAL => "EINVAL",
            Errno::ENOMEM => "ENOMEM",
            Errno::EOPNOTSUPP => "EOPNOTSUPP",
            Errno::EBUSY => "EBUSY",
            Errno::EAGAIN => "EAGAIN",
            Errno::EACCES => "EACCES",
            Errno::EPERM => "EPERM",
            Errno::ENOSPC => "ENOSPC",
        }
    }

    pub fn parse(s: &str) -> Option<Errno> {
        [
            Errno::EFAULT,
            Errno::EINVAL,
            Errno::ENOMEM,
            Errno::EOPNOTSUPP,
            Errno::EBUSY,
            Errno::EAGAIN,
            Errno::EACCES,
            Errno::EPERM,
            Errno::ENOSPC,
        ]
        .into_iter()
        .find(|e| e.name() == s)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ActionError {
    /// The simulated kernel refused the call, as the real one would.
    #[error("{errno}: {why}")]
    Errno { errno: Errno, why: String },
    /// The request names something that does not exist or is out of range.
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl ActionError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            ActionError::Errno { errno, .. } => Some(*errno),
            ActionError::Invalid(_) => None,
        }
    }
}

pub type KResult<T> = Result<T, ActionError>;

pub(crate) fn errno<T>(errno: Errno, why: impl Into<String>) -> KResult<T> {
    Err(ActionError::Errno { errno, why: why.into() })
}

pub(crate) fn invalid<T>(why: impl Into<String>) -> KResult<T> {
    Err(ActionError::Invalid(why.into()))
}
