//! The one error type of the station core. Every variant names the problem in words a station
//! manager understands and has a stable [`code`](StationError::code) that the UI translates.
//! When an operation returns an error, its transaction was rolled back: nothing was stored.

use jiff::civil::Date;

use crate::ids::{
    AccountId, FuelingId, IdParseError, OrderId, ProductId, SaleId, ShipmentId, TankNo, UserId,
};
use crate::units::{Millilitres, Won};

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    // ---- input
    #[error("{field} must be more than zero, got {value}")]
    NotPositive { field: &'static str, value: i64 },
    #[error("{field} is not valid: {problem}")]
    InvalidInput {
        field: &'static str,
        problem: String,
    },
    #[error(transparent)]
    InvalidId(#[from] IdParseError),
    #[error(
        "{field} cannot go on a receipt: {character:?} (U+{:04X}) at character {position} {why}",
        u32::from(*.character)
    )]
    UnprintableText {
        field: &'static str,
        character: char,
        /// Counting characters from 1.
        position: usize,
        why: &'static str,
    },

    // ---- records that do not exist
    #[error("unknown product {0}")]
    UnknownProduct(ProductId),
    #[error("unknown tank {0}")]
    UnknownTank(TankNo),
    #[error("unknown order {0}")]
    UnknownOrder(OrderId),
    #[error("unknown shipment {0}: no delivery is expected for it")]
    UnknownShipment(ShipmentId),
    #[error("unknown sale {0}")]
    UnknownSale(SaleId),
    #[error("unknown credit account {0}")]
    UnknownAccount(AccountId),
    #[error("unknown user {0}")]
    UnknownUser(UserId),
    #[error("unknown fueling {0}")]
    UnknownFueling(FuelingId),
    #[error("unknown print job {0}")]
    UnknownPrintJob(i64),

    // ---- who may do what
    #[error("unknown user or wrong PIN")]
    BadCredentials,
    #[error("{action} needs a manager; {user} is a cashier")]
    ManagerRequired { action: &'static str, user: UserId },
    #[error("user {0} already exists")]
    UserExists(UserId),
    #[error("too many wrong PINs for {user}: try again in {retry_after_s} s")]
    PinAttemptsTooSoon { user: UserId, retry_after_s: u64 },
    #[error("{0} is locked out after too many wrong PINs; a manager can lift the lockout")]
    UserLockedOut(UserId),
    #[error("{reason}")]
    UserChangeRefused { reason: &'static str },

    // ---- products, prices, tanks
    #[error("product {product} has no price in force")]
    NoPriceInForce { product: ProductId },
    #[error(
        "price version {received} is not newer than version {latest}, which the station already has"
    )]
    PriceVersionNotNewer { received: u64, latest: u64 },
    #[error("product {product} is sold {unit}; {hint}")]
    WrongMeasure {
        product: ProductId,
        unit: &'static str,
        hint: &'static str,
    },
    #[error("tank {0} already exists")]
    TankExists(TankNo),
    #[error("tank {tank} holds {tank_product}, not {product}")]
    TankHoldsOtherProduct {
        tank: TankNo,
        tank_product: ProductId,
        product: ProductId,
    },
    #[error("no tank holds product {0}")]
    NoTankForProduct(ProductId),
    #[error("product {product} is held in tanks {tanks}; name the tank")]
    TankNotNamed { product: ProductId, tanks: String },
    #[error(
        "tank {tank} would overfill: it holds {book_stock} L of {capacity} L and {volume} L more do not fit"
    )]
    TankOverfill {
        tank: TankNo,
        book_stock: Millilitres,
        capacity: Millilitres,
        volume: Millilitres,
    },
    #[error(
        "tank {tank} would fall below empty: it holds {book_stock} L and the adjustment is {delta} L"
    )]
    TankBelowEmpty {
        tank: TankNo,
        book_stock: Millilitres,
        delta: Millilitres,
    },

    // ---- orders and deliveries
    #[error("order {order} is {status} and can no longer be {action}")]
    OrderClosed {
        order: OrderId,
        status: &'static str,
        action: &'static str,
    },
    #[error("shipment {0} is already recorded")]
    ShipmentExists(ShipmentId),
    #[error(
        "shipment {shipment} carries {shipment_product}, but order {order} is for {order_product}"
    )]
    ShipmentProductMismatch {
        shipment: ShipmentId,
        order: OrderId,
        shipment_product: ProductId,
        order_product: ProductId,
    },
    #[error("the delivery of shipment {0} is already confirmed")]
    DeliveryAlreadyConfirmed(ShipmentId),

    // ---- sales, payments, accounts
    #[error("fueling {0} is already paid")]
    FuelingAlreadyPaid(FuelingId),
    #[error("sale {0} is already canceled")]
    SaleAlreadyCanceled(SaleId),
    #[error("a sale needs at least one line")]
    EmptySale,
    #[error("cash tendered ({tendered} won) is less than the total ({total} won)")]
    InsufficientTender { total: Won, tendered: Won },
    #[error(
        "cash tendered ({tendered} won) is over the station's limit of {limit} won; a manager can confirm it"
    )]
    TenderOverLimit { tendered: Won, limit: Won },
    #[error(
        "line {line}: {volume} L keyed by hand is over the station's limit of {limit} L a line; a manager can confirm it"
    )]
    VolumeOverLimit {
        line: u16,
        volume: Millilitres,
        limit: Millilitres,
    },
    #[error("line {line}: {volume} L is more than tank {tank} holds ({capacity} L)")]
    VolumeOverTank {
        line: u16,
        tank: TankNo,
        volume: Millilitres,
        capacity: Millilitres,
    },
    #[error(
        "sale of {amount} won would bring account {account} to {would_be} won, over its {limit} won credit limit"
    )]
    CreditLimitExceeded {
        account: AccountId,
        amount: Won,
        would_be: Won,
        limit: Won,
    },
    #[error("payment of {amount} won is more than the {balance} won account {account} owes")]
    PaymentExceedsBalance {
        account: AccountId,
        amount: Won,
        balance: Won,
    },

    // ---- shifts and business days
    #[error("{0} has no open shift; open a shift first")]
    NoOpenShift(UserId),
    #[error("{0} already has an open shift")]
    ShiftAlreadyOpen(UserId),
    #[error("the business day {day} cannot close while shifts are open: {cashiers}")]
    ShiftsStillOpen { day: Date, cashiers: String },
    #[error("no business day is open")]
    NoOpenBusinessDay,

    // ---- the database file
    #[error("{path} is not a station database: {detail}")]
    NotAStationDatabase { path: String, detail: String },
    #[error("no station database at {0}; create one with `station init`")]
    DatabaseMissing(String),
    #[error("{0} already holds a station database")]
    DatabaseExists(String),
    #[error("the station database is damaged: {0}")]
    DatabaseCorrupt(String),
    #[error(
        "the station database was written by a newer version of this software (schema {found}, this version knows {known})"
    )]
    DatabaseTooNew { found: i64, known: i64 },
    #[error("the station database failed: {0}")]
    Storage(String),
}

impl StationError {
    /// A short, stable code: what the UI translates and scripts match on.
    pub fn code(&self) -> &'static str {
        use StationError::*;
        match self {
            NotPositive { .. } => "not_positive",
            InvalidInput { .. } => "invalid_input",
            InvalidId(_) => "invalid_id",
            UnprintableText { .. } => "unprintable_text",
            UnknownProduct(_) => "unknown_product",
            UnknownTank(_) => "unknown_tank",
            UnknownOrder(_) => "unknown_order",
            UnknownShipment(_) => "unknown_shipment",
            UnknownSale(_) => "unknown_sale",
            UnknownAccount(_) => "unknown_account",
            UnknownUser(_) => "unknown_user",
            UnknownFueling(_) => "unknown_fueling",
            UnknownPrintJob(_) => "unknown_print_job",
            BadCredentials => "bad_credentials",
            ManagerRequired { .. } => "manager_required",
            UserExists(_) => "user_exists",
            PinAttemptsTooSoon { .. } => "pin_attempts_too_soon",
            UserLockedOut(_) => "user_locked_out",
            UserChangeRefused { .. } => "user_change_refused",
            NoPriceInForce { .. } => "no_price_in_force",
            PriceVersionNotNewer { .. } => "price_version_not_newer",
            WrongMeasure { .. } => "wrong_measure",
            TankExists(_) => "tank_exists",
            TankHoldsOtherProduct { .. } => "tank_holds_other_product",
            NoTankForProduct(_) => "no_tank_for_product",
            TankNotNamed { .. } => "tank_not_named",
            TankOverfill { .. } => "tank_overfill",
            TankBelowEmpty { .. } => "tank_below_empty",
            OrderClosed { .. } => "order_closed",
            ShipmentExists(_) => "shipment_exists",
            ShipmentProductMismatch { .. } => "shipment_product_mismatch",
            DeliveryAlreadyConfirmed(_) => "delivery_already_confirmed",
            FuelingAlreadyPaid(_) => "fueling_already_paid",
            SaleAlreadyCanceled(_) => "sale_already_canceled",
            EmptySale => "empty_sale",
            InsufficientTender { .. } => "insufficient_tender",
            TenderOverLimit { .. } => "tender_over_limit",
            VolumeOverLimit { .. } => "volume_over_limit",
            VolumeOverTank { .. } => "volume_over_tank",
            CreditLimitExceeded { .. } => "credit_limit_exceeded",
            PaymentExceedsBalance { .. } => "payment_exceeds_balance",
            NoOpenShift(_) => "no_open_shift",
            ShiftAlreadyOpen(_) => "shift_already_open",
            ShiftsStillOpen { .. } => "shifts_still_open",
            NoOpenBusinessDay => "no_open_business_day",
            NotAStationDatabase { .. } => "not_a_station_database",
            DatabaseMissing(_) => "database_missing",
            DatabaseExists(_) => "database_exists",
            DatabaseCorrupt(_) => "database_corrupt",
            DatabaseTooNew { .. } => "database_too_new",
            Storage(_) => "storage",
        }
    }

    /// True for errors of the database itself rather than of the request.
    pub fn is_storage_fault(&self) -> bool {
        matches!(
            self,
            StationError::DatabaseCorrupt(_) | StationError::Storage(_)
        )
    }
}

impl From<rusqlite::Error> for StationError {
    fn from(error: rusqlite::Error) -> StationError {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match error.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => {
                StationError::DatabaseCorrupt(error.to_string())
            }
            _ => StationError::Storage(error.to_string()),
        }
    }
}

/// Shorthand for the core's results.
pub type Result<T, E = StationError> = std::result::Result<T, E>;

/// Refuses a figure that is zero or negative.
pub(crate) fn ensure_positive(field: &'static str, value: i64) -> Result<()> {
    if value > 0 {
        Ok(())
    } else {
        Err(StationError::NotPositive { field, value })
    }
}

/// Text for names, references and reasons: trimmed, not blank, at most `max_chars` characters,
/// and only what a receipt and the wire can carry, since any of them may be printed: no control
/// character (a tab or line feed is a printer command) and nothing outside the receipt printer's
/// Korean code page, KS X 1001 as EUC-KR (`sync_protocol::text`, the rule HQ's names follow too). The
/// error names the field and the first character refused.
pub(crate) fn ensure_text(field: &'static str, value: &str, max_chars: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(StationError::InvalidInput {
            field,
            problem: "it must not be empty".into(),
        });
    }
    if trimmed.chars().count() > max_chars {
        return Err(StationError::InvalidInput {
            field,
            problem: format!("it must be at most {max_chars} characters"),
        });
    }
    if let Some(refused) = sync_protocol::text::first_unprintable(trimmed) {
        return Err(StationError::UnprintableText {
            field,
            character: refused.character,
            position: refused.position,
            why: refused.why.why(),
        });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod ensure_text_tests {
    use super::*;

    #[test]
    fn text_is_refused_naming_the_field_and_the_first_character_a_receipt_cannot_carry() {
        let refused = |value: &str| ensure_text("card reference", value, 64).unwrap_err();
        let cases = [
            (
                "  APPROVAL\t7781 ",
                "card reference cannot go on a receipt: '\\t' (U+0009) at character 9 is a control character",
            ),
            (
                "Café",
                "card reference cannot go on a receipt: 'é' (U+00E9) at character 4 is not in the receipt printer's Korean code page (KS X 1001, EUC-KR)",
            ),
            (
                "똠얌",
                "card reference cannot go on a receipt: '똠' (U+B620) at character 1 is not in the receipt printer's Korean code page (KS X 1001, EUC-KR)",
            ),
        ];
        for (value, message) in cases {
            let error = refused(value);
            assert_eq!(
                (error.code(), error.to_string().as_str()),
                ("unprintable_text", message)
            );
        }
        assert_eq!(refused("   ").code(), "invalid_input");
        assert_eq!(
            ensure_text("name", &"가".repeat(101), 100)
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(
            ensure_text("name", " 한빛물류 ① A-1 ", 100).unwrap(),
            "한빛물류 ① A-1"
        );
    }
}
