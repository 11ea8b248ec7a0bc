//! The edge runtime's HTTP API for the POS and the back office (first part): PIN sessions, the
//! shift, sales, cancellations with a manager's approval, reprints, stock and the sales summary.
//!
//! Permissions are the core's: a session holds the `Actor` its PIN proved, and every operation
//! that needs a manager asks the core for a `ManagerApproval`, from the session's own role or from
//! a manager's PIN given with the request. Hiding a button is never the rule. Errors carry the
//! core's stable code for the UI to translate.

use std::collections::HashMap;
use std::path::Path as FilePath;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};
use station_core::{
    AccountId, Actor, LinePricing, Measure, Millilitres, PaymentRequest, Pin, ProductId, SaleId,
    SaleLineRequest, SaleRequest, Station, StationError, TankNo, UnitPrice, UserId, Won,
};

/// What the handlers share: the station (one connection, one writer at a time) and the sessions.
#[derive(Debug, Clone)]
pub struct ApiState {
    station: Arc<Mutex<Station>>,
    sessions: Arc<Mutex<HashMap<String, Actor>>>,
}

impl ApiState {
    pub fn open(db: &FilePath) -> Result<ApiState, StationError> {
        Ok(ApiState {
            station: Arc::new(Mutex::new(Station::open(db)?)),
            sessions: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn station(&self) -> std::sync::MutexGuard<'_, Station> {
        self.station.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The API router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/session", post(login))
        .route("/api/shift", get(current_shift))
        .route("/api/shift/open", post(open_shift))
        .route("/api/shift/close", post(close_shift))
        .route("/api/sales", get(list_sales).post(settle_sale))
        .route("/api/sales/{sale}/cancel", post(cancel_sale))
        .route("/api/sales/{sale}/reprint", post(reprint))
        .route("/api/sales-summary", get(sales_summary))
        .route("/api/stock", get(stock))
        .route("/api/stock/adjust", post(adjust_stock))
        .with_state(state)
}

/// An error as the UI receives it: the core's stable code and a message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl From<StationError> for ApiError {
    fn from(error: StationError) -> ApiError {
        let status = match error.code() {
            "bad_credentials" => StatusCode::UNAUTHORIZED,
            "manager_required" => StatusCode::FORBIDDEN,
            code if code.starts_with("unknown_") => StatusCode::NOT_FOUND,
            _ if error.is_storage_fault() => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError {
            status,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_input",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// The logged-in user of a request.
#[derive(Debug)]
pub struct Session(Actor);

impl FromRequestParts<ApiState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let actor = token.and_then(|t| {
            state
                .sessions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(t)
                .cloned()
        });
        actor.map(Session).ok_or(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated",
            message: "log in with your PIN first".into(),
        })
    }
}

fn parse<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    user: String,
    pin: String,
}

async fn login(State(state): State<ApiState>, Json(request): Json<LoginRequest>) -> ApiResult {
    let user: UserId = parse("user", &request.user)?;
    let pin: Pin = parse("pin", &request.pin)?;
    let checking = state.clone();
    // PIN hashing is deliberately slow: keep it off the async workers.
    let actor = tokio::task::spawn_blocking(move || checking.station().authenticate(&user, &pin))
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))??;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let role = actor.role().as_str();
    let user = actor.user().to_string();
    state
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(token.clone(), actor);
    Ok(Json(json!({"token": token, "user": user, "role": role})))
}

async fn current_shift(State(state): State<ApiState>, Session(actor): Session) -> ApiResult {
    let shift = state.station().current_shift(actor.user())?;
    Ok(Json(
        shift.as_ref().map_or(Value::Null, station_json::open_shift),
    ))
}

#[derive(Debug, Deserialize)]
struct OpenShiftRequest {
    opening_float_won: i64,
}

async fn open_shift(
    State(state): State<ApiState>,
    Session(actor): Session,
    Json(request): Json<OpenShiftRequest>,
) -> ApiResult {
    let mut station = state.station();
    station.open_shift(&actor, Won(request.opening_float_won), Timestamp::now())?;
    let shift = station.current_shift(actor.user())?;
    Ok(Json(
        shift.as_ref().map_or(Value::Null, station_json::open_shift),
    ))
}

#[derive(Debug, Deserialize)]
struct CloseShiftRequest {
    counted_cash_won: i64,
}

async fn close_shift(
    State(state): State<ApiState>,
    Session(actor): Session,
    Json(request): Json<CloseShiftRequest>,
) -> ApiResult {
    let report =
        state
            .station()
            .close_shift(&actor, Won(request.counted_cash_won), Timestamp::now())?;
    Ok(Json(station_json::shift_report(&report)))
}

#[derive(Debug, Deserialize)]
struct SaleLineBody {
    product: String,
    volume_ml: Option<i64>,
    quantity: Option<i64>,
    tank: Option<u16>,
    /// The pump's unit price and amount, for a fueling the pump measured.
    pump_unit_price_won: Option<i64>,
    pump_amount_won: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
enum PaymentBody {
    Cash { tendered_won: i64 },
    Card { reference: String },
    Account { account: String },
}

#[derive(Debug, Deserialize)]
struct SaleBody {
    lines: Vec<SaleLineBody>,
    payment: PaymentBody,
}

async fn settle_sale(
    State(state): State<ApiState>,
    Session(actor): Session,
    Json(body): Json<SaleBody>,
) -> ApiResult {
    let mut lines = Vec::with_capacity(body.lines.len());
    for line in body.lines {
        let measure = match (line.volume_ml, line.quantity) {
            (Some(ml), None) => Measure::Volume(Millilitres(ml)),
            (None, Some(quantity)) => Measure::Quantity(quantity),
            _ => {
                return Err(ApiError::bad_request(
                    "a line needs exactly one of volume_ml or quantity",
                ));
            }
        };
        let pricing = match (line.pump_unit_price_won, line.pump_amount_won) {
            (None, None) => LinePricing::PriceList,
            (Some(price), Some(amount)) => LinePricing::Pump {
                unit_price: UnitPrice(price),
                amount: Won(amount),
            },
            _ => {
                return Err(ApiError::bad_request(
                    "give pump_unit_price_won with pump_amount_won, or neither",
                ));
            }
        };
        lines.push(SaleLineRequest {
            product: parse::<ProductId>("product", &line.product)?,
            measure,
            tank: line
                .tank
                .map(TankNo::new)
                .transpose()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            pricing,
        });
    }
    let payment = match body.payment {
        PaymentBody::Cash { tendered_won } => PaymentRequest::Cash {
            tendered: Won(tendered_won),
        },
        PaymentBody::Card { reference } => PaymentRequest::Card { reference },
        PaymentBody::Account { account } => {
            PaymentRequest::Account(parse::<AccountId>("account", &account)?)
        }
    };
    let sale =
        state
            .station()
            .settle_sale(&actor, SaleRequest { lines, payment }, Timestamp::now())?;
    Ok(Json(station_json::sale(&sale)))
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    day: Option<String>,
}

fn day_of(station: &Station, day: Option<&str>) -> Result<Date, ApiError> {
    match day {
        Some(day) => parse("day", day),
        None => Ok(station
            .open_business_day()?
            .unwrap_or_else(|| station.local_date(Timestamp::now()))),
    }
}

async fn list_sales(
    State(state): State<ApiState>,
    Session(_actor): Session,
    Query(query): Query<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    let sales = station.sales_of_day(day)?;
    Ok(Json(sales.iter().map(station_json::sale).collect()))
}

#[derive(Debug, Deserialize)]
struct CancelBody {
    reason: String,
    /// A manager approving at the counter, when the session is a cashier's.
    manager: Option<String>,
    manager_pin: Option<String>,
}

async fn cancel_sale(
    State(state): State<ApiState>,
    Session(actor): Session,
    Path(sale): Path<String>,
    Json(body): Json<CancelBody>,
) -> ApiResult {
    let sale: SaleId = parse("sale", &sale)?;
    let mut station = state.station();
    let approval = match (&body.manager, &body.manager_pin) {
        (Some(manager), Some(pin)) => station.approve_as_manager(
            &parse("manager", manager)?,
            &parse("manager_pin", pin)?,
            "canceling a sale",
        )?,
        _ => actor.as_manager("canceling a sale")?,
    };
    let canceled = station.cancel_sale(&actor, &approval, sale, &body.reason, Timestamp::now())?;
    Ok(Json(station_json::sale(&canceled)))
}

async fn reprint(
    State(state): State<ApiState>,
    Session(actor): Session,
    Path(sale): Path<String>,
) -> ApiResult {
    let sale: SaleId = parse("sale", &sale)?;
    let job = state
        .station()
        .request_reprint(&actor, sale, Timestamp::now())?;
    Ok(Json(json!({"queued": job, "sale": sale.to_string()})))
}

async fn sales_summary(
    State(state): State<ApiState>,
    Session(_actor): Session,
    Query(query): Query<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    let rows = station.sales_summary(Some(day))?;
    Ok(Json(rows.iter().map(station_json::summary_row).collect()))
}

async fn stock(State(state): State<ApiState>, Session(_actor): Session) -> ApiResult {
    let station = state.station();
    Ok(Json(station_json::stock(
        &station.tank_stock()?,
        &station.product_stock()?,
    )))
}

#[derive(Debug, Deserialize)]
struct AdjustBody {
    tank: u16,
    delta_ml: i64,
    reason: String,
}

async fn adjust_stock(
    State(state): State<ApiState>,
    Session(actor): Session,
    Json(body): Json<AdjustBody>,
) -> ApiResult {
    let approval = actor.as_manager("adjusting stock")?;
    let tank = TankNo::new(body.tank).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.station().adjust_stock(
        &approval,
        tank,
        Millilitres(body.delta_ml),
        &body.reason,
        Timestamp::now(),
    )?;
    Ok(Json(
        json!({"adjusted": body.tank, "delta_ml": body.delta_ml}),
    ))
}
