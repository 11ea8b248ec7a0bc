//! The hub's errors, each with a stable code the API returns and the dashboard translates.

/// Everything the hub can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{field} is not valid: {problem}")]
    InvalidInput {
        field: &'static str,
        problem: String,
    },
    #[error("unknown station {0}")]
    UnknownStation(String),
    #[error("station {0} is already registered")]
    StationExists(String),
    #[error("unknown product {0}")]
    UnknownProduct(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("order {order} is {status}; {action} needs an order that is {needed}")]
    OrderNotOpen {
        order: String,
        status: String,
        action: &'static str,
        needed: &'static str,
    },
    #[error("a price version needs at least one product")]
    EmptyPriceVersion,
    #[error("user {0} already exists")]
    UserExists(String),
    #[error("unknown user or wrong password")]
    BadCredentials,
    #[error("too many wrong passwords for {username}: try again in {retry_after_s} s")]
    LoginTooSoon {
        username: String,
        retry_after_s: u64,
    },
    #[error("{0} is locked out after too many wrong passwords; another HQ user can lift it")]
    LockedOut(String),
    #[error("not logged in, or the session has expired")]
    Unauthenticated,
    #[error("unknown shipment {0}")]
    UnknownShipment(String),
    #[error("it conflicts with what HQ already holds: {0}")]
    Conflict(String),
    #[error("the role {role} may not {action}")]
    Forbidden {
        role: &'static str,
        action: &'static str,
    },
    #[error("unknown HQ user {0}")]
    UnknownUser(String),
    #[error("the price book has {} bad line(s); nothing was published", .0.len())]
    InvalidPriceBook(Vec<LineError>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the hub database failed: {0}")]
    Storage(String),
}

/// What is wrong with one line of an uploaded file (1-based; the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

pub type Result<T, E = HubError> = std::result::Result<T, E>;

impl HubError {
    /// A short, stable code.
    pub fn code(&self) -> &'static str {
        match self {
            HubError::InvalidInput { .. } => "invalid_input",
            HubError::UnknownStation(_) => "unknown_station",
            HubError::StationExists(_) => "station_exists",
            HubError::UnknownProduct(_) => "unknown_product",
            HubError::UnknownOrder(_) => "unknown_order",
            HubError::OrderNotOpen { .. } => "order_not_open",
            HubError::EmptyPriceVersion => "empty_price_version",
            HubError::UserExists(_) => "user_exists",
            HubError::BadCredentials => "bad_credentials",
            HubError::LoginTooSoon { .. } => "login_too_soon",
            HubError::LockedOut(_) => "locked_out",
            HubError::Unauthenticated => "unauthenticated",
            HubError::UnknownShipment(_) => "unknown_shipment",
            HubError::Conflict(_) => "conflict",
            HubError::Forbidden { .. } => "forbidden",
            HubError::UnknownUser(_) => "unknown_user",
            HubError::InvalidPriceBook(_) => "invalid_price_book",
            HubError::NotFound(_) => "not_found",
            HubError::TooLarge(_) => "too_large",
            HubError::Storage(_) => "storage",
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> HubError {
        HubError::InvalidInput {
            field,
            problem: problem.into(),
        }
    }
}

impl From<rusqlite::Error> for HubError {
    /// A broken constraint is about the data (an id used twice), not the database: it is a
    /// conflict, which a station message is dead-lettered for; anything else is a storage fault.
    fn from(error: rusqlite::Error) -> HubError {
        if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
            HubError::Conflict(error.to_string())
        } else {
            HubError::Storage(error.to_string())
        }
    }
}
