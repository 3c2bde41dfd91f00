use warden_store::StoreError;

/// Every way an operation can fail, as the API edge renders it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error(
        "the account is locked after too many failed sign-ins; try again later or ask an administrator to unlock it"
    )]
    Locked,
    #[error("too many bad credentials from this address; try again later")]
    SourceLocked,
    #[error("this account has a second factor enrolled: send the current TOTP code")]
    SecondFactorRequired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    /// The request does not fit the resource's current state (e.g. an upload part at
    /// the wrong offset); the message says what would.
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    Invalid(String),
    /// A path or query parameter that is well-formed but cannot be served (e.g. a proof
    /// for a tree size the log does not have).
    #[error("{0}")]
    BadParameter(String),
    /// A rule refused the request; `status` is 403 (who may), 409 (the state does not
    /// allow it) or 422 (what was asked does not meet the rule).
    #[error("{message}")]
    Rule { status: u16, rule: String, message: String },
    /// A submitted document has problems; all of them, each with its location.
    #[error("{summary}")]
    Document { summary: String, errors: Vec<warden_policy_doc::Problem> },
    #[error("the database is unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::Missing(what) => AppError::Invalid(format!("{what} does not exist")),
            StoreError::OutOfRange(what) => {
                AppError::BadParameter(format!("{what} is out of range (at most {})", i64::MAX))
            }
            StoreError::Unavailable(why) => AppError::Unavailable(why),
            StoreError::Internal(why) => AppError::Internal(why),
        }
    }
}

impl From<warden_audit::LedgerError> for AppError {
    fn from(e: warden_audit::LedgerError) -> Self {
        match e {
            warden_audit::LedgerError::Store(s) => s.into(),
            warden_audit::LedgerError::Tree(t) => AppError::BadParameter(t.to_string()),
            warden_audit::LedgerError::NoSuchTile(t) => AppError::NotFound(t),
            warden_audit::LedgerError::Regression(r) => {
                AppError::rule(503, "audit.signed-checkpoint-regression", r.to_string())
            }
            other => AppError::Unavailable(other.to_string()),
        }
    }
}

impl From<warden_blob::BlobError> for AppError {
    fn from(e: warden_blob::BlobError) -> Self {
        use warden_blob::BlobError as B;
        match e {
            B::BadDigest(_) => AppError::BadParameter(e.to_string()),
            B::DigestMismatch { .. } | B::TooLarge(_) | B::Interrupted(_) => AppError::Invalid(e.to_string()),
            B::NotFound(_) => AppError::NotFound(e.to_string().trim_end_matches(" does not exist").to_string()),
            B::Store(why) => AppError::Unavailable(why),
        }
    }
}

impl AppError {
    pub fn rule(status: u16, rule: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Rule { status, rule: rule.into(), message: message.into() }
    }
}

impl From<warden_gateway::Error> for AppError {
    fn from(e: warden_gateway::Error) -> Self {
        match e {
            warden_gateway::Error::Invalid(m) => AppError::Invalid(m),
            warden_gateway::Error::Internal(m) => AppError::Internal(m),
            warden_gateway::Error::Store(e) => e.into(),
        }
    }
}
