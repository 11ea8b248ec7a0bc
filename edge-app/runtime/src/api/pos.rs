//! The cashier's side: sessions, the shift, sales and their cancellation, the pumps and their
//! fuelings.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use station_core::{
    AccountId, FuelingId, LinePricing, ManagerApproval, Measure, Millilitres, PaymentRequest, Pin,
    PinPurpose, ProductId, SaleId, SaleLineRequest, SaleRequest, TankNo, UserId, Won,
};

use super::{ApiError, ApiJson, ApiQuery, ApiResult, ApiState, Session, day_of, parse};
use crate::forecourt::{Forecourt, PresetRequest};

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    user: String,
    pin: String,
}

pub async fn login(
    State(state): State<ApiState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult {
    let user: UserId = parse("user", &request.user)?;
    let pin: Pin = parse("pin", &request.pin)?;
    let actor = state.check_pin(user, pin, PinPurpose::Login).await?;
    let mut answer = user_json(&state, &actor)?;
    let token = state.sessions().open(actor, Instant::now());
    answer["token"] = Value::String(token);
    Ok(Json(answer))
}

fn user_json(state: &ApiState, actor: &station_core::Actor) -> Result<Value, ApiError> {
    let name = state
        .station()
        .users()?
        .into_iter()
        .find(|u| &u.user_id == actor.user())
        .map(|u| u.name)
        .unwrap_or_default();
    Ok(json!({"user": actor.user().as_str(), "name": name, "role": actor.role().as_str()}))
}

pub async fn whoami(State(state): State<ApiState>, session: Session) -> ApiResult {
    Ok(Json(user_json(&state, &session.actor)?))
}

pub async fn logout(State(state): State<ApiState>, session: Session) -> ApiResult {
    state.sessions().close(&session.token);
    Ok(Json(json!({})))
}

pub async fn current_shift(State(state): State<ApiState>, session: Session) -> ApiResult {
    let shift = state.station().current_shift(session.actor.user())?;
    Ok(Json(
        shift.as_ref().map_or(Value::Null, station_json::open_shift),
    ))
}

pub async fn open_shifts(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let shifts = state.station().open_shifts()?;
    Ok(Json(shifts.iter().map(station_json::open_shift).collect()))
}

#[derive(Debug, Deserialize)]
pub struct OpenShiftRequest {
    opening_float_won: i64,
}

pub async fn open_shift(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(request): ApiJson<OpenShiftRequest>,
) -> ApiResult {
    let mut station = state.station();
    station.open_shift(
        &session.actor,
        Won(request.opening_float_won),
        Timestamp::now(),
    )?;
    let shift = station.current_shift(session.actor.user())?;
    Ok(Json(
        shift.as_ref().map_or(Value::Null, station_json::open_shift),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CloseShiftRequest {
    counted_cash_won: i64,
}

pub async fn close_shift(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(request): ApiJson<CloseShiftRequest>,
) -> ApiResult {
    let report = state.station().close_shift(
        &session.actor,
        Won(request.counted_cash_won),
        Timestamp::now(),
    )?;
    Ok(Json(station_json::shift_report(&report)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleLineBody {
    product: String,
    volume_ml: Option<i64>,
    quantity: Option<i64>,
    tank: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum PaymentBody {
    Cash { tendered_won: i64 },
    Card { reference: String },
    Account { account: String },
}

impl PaymentBody {
    fn request(self) -> Result<PaymentRequest, ApiError> {
        Ok(match self {
            PaymentBody::Cash { tendered_won } => PaymentRequest::Cash {
                tendered: Won(tendered_won),
            },
            PaymentBody::Card { reference } => PaymentRequest::Card { reference },
            PaymentBody::Account { account } => {
                PaymentRequest::Account(parse::<AccountId>("account", &account)?)
            }
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct SaleBody {
    lines: Vec<SaleLineBody>,
    payment: PaymentBody,
    /// A manager's confirmation of a sale past the station's limits: the manager's id and PIN
    /// at a cashier's session, or nothing more (`{}`) at a manager's own.
    over_limit: Option<ApproverBody>,
}

/// A manager approving at the counter, when the session is a cashier's.
#[derive(Debug, Default, Deserialize)]
pub struct ApproverBody {
    manager: Option<String>,
    manager_pin: Option<String>,
}

/// A manager's confirmation of a sale past the station's limits, when the request carries one.
async fn over_limit_of(
    state: &ApiState,
    session: &Session,
    approver: Option<&ApproverBody>,
) -> Result<Option<ManagerApproval>, ApiError> {
    match approver {
        Some(approver) => Ok(Some(
            approval_of(state, session, approver, "a sale past the station's limits").await?,
        )),
        None => Ok(None),
    }
}

/// The approval of the manager named with their PIN, or the session's own when none is named.
async fn approval_of(
    state: &ApiState,
    session: &Session,
    approver: &ApproverBody,
    action: &'static str,
) -> Result<ManagerApproval, ApiError> {
    match (&approver.manager, &approver.manager_pin) {
        (Some(manager), Some(pin)) if !manager.is_empty() => {
            let manager: UserId = parse("manager", manager)?;
            let pin: Pin = parse("manager_pin", pin)?;
            Ok(state
                .check_pin(manager, pin, PinPurpose::Approval(action))
                .await?
                .as_manager(action)?)
        }
        _ => session.as_manager(action),
    }
}

pub async fn settle_sale(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<SaleBody>,
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
        lines.push(SaleLineRequest {
            product: parse::<ProductId>("product", &line.product)?,
            measure,
            tank: line
                .tank
                .map(TankNo::new)
                .transpose()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            pricing: LinePricing::PriceList,
        });
    }
    let payment = body.payment.request()?;
    let over_limit = over_limit_of(&state, &session, body.over_limit.as_ref()).await?;
    let sale = state.station().settle_sale(
        &session.actor,
        SaleRequest {
            lines,
            payment,
            over_limit,
        },
        Timestamp::now(),
    )?;
    state.live.bump_revision();
    Ok(Json(station_json::sale(&sale)))
}

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    pub day: Option<String>,
}

pub async fn list_sales(
    State(state): State<ApiState>,
    _session: Session,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    let sales = station.sales_of_day(day)?;
    Ok(Json(sales.iter().map(station_json::sale).collect()))
}

pub async fn one_sale(
    State(state): State<ApiState>,
    _session: Session,
    Path(sale): Path<String>,
) -> ApiResult {
    let sale: SaleId = parse("sale", &sale)?;
    Ok(Json(station_json::sale(&state.station().sale(sale)?)))
}

#[derive(Debug, Deserialize)]
pub struct CancelBody {
    reason: String,
    #[serde(flatten)]
    approver: ApproverBody,
}

pub async fn cancel_sale(
    State(state): State<ApiState>,
    session: Session,
    Path(sale): Path<String>,
    ApiJson(body): ApiJson<CancelBody>,
) -> ApiResult {
    let sale: SaleId = parse("sale", &sale)?;
    let approval = approval_of(&state, &session, &body.approver, "canceling a sale").await?;
    let canceled = state.station().cancel_sale(
        &session.actor,
        &approval,
        sale,
        &body.reason,
        Timestamp::now(),
    )?;
    state.live.bump_revision();
    Ok(Json(station_json::sale(&canceled)))
}

pub async fn reprint(
    State(state): State<ApiState>,
    session: Session,
    Path(sale): Path<String>,
) -> ApiResult {
    let sale: SaleId = parse("sale", &sale)?;
    let job = state
        .station()
        .request_reprint(&session.actor, sale, Timestamp::now())?;
    Ok(Json(json!({"queued": job, "sale": sale.to_string()})))
}

pub async fn pumps(State(state): State<ApiState>, _session: Session) -> ApiResult {
    Ok(Json(json!(state.live.snapshot().pumps)))
}

fn forecourt(state: &ApiState) -> Result<&Forecourt, ApiError> {
    state.forecourt.as_ref().ok_or_else(|| {
        ApiError::from(crate::forecourt::ForecourtError {
            code: "pump_unavailable",
            message: "this station has no pump line set up".into(),
        })
    })
}

fn pump_address(pump: &str) -> Result<u8, ApiError> {
    u8::from_str_radix(pump.trim_start_matches("0x"), 16)
        .map_err(|_| ApiError::bad_request(format!("pump: `{pump}` is not a pump address (hex)")))
}

fn pump_view(state: &ApiState, pump: u8) -> Value {
    let name = format!("{pump:X}");
    state
        .live
        .snapshot()
        .pumps
        .into_iter()
        .find(|p| p.pump == name)
        .map_or(Value::Null, |p| json!(p))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetBody {
    volume_ml: Option<i64>,
    amount_won: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeBody {
    preset: Option<PresetBody>,
}

pub async fn authorize_pump(
    State(state): State<ApiState>,
    session: Session,
    Path(pump): Path<String>,
    ApiJson(body): ApiJson<AuthorizeBody>,
) -> ApiResult {
    let address = pump_address(&pump)?;
    let preset = match body.preset {
        None => None,
        Some(PresetBody {
            volume_ml: Some(ml),
            amount_won: None,
        }) => Some(PresetRequest::Volume(Millilitres(ml))),
        Some(PresetBody {
            volume_ml: None,
            amount_won: Some(won),
        }) => Some(PresetRequest::Amount(Won(won))),
        Some(_) => {
            return Err(ApiError::bad_request(
                "preset: give exactly one of volume_ml or amount_won, or no preset",
            ));
        }
    };
    if let Some(PresetRequest::Volume(Millilitres(n)) | PresetRequest::Amount(Won(n))) = preset
        && n <= 0
    {
        return Err(ApiError::from(station_core::StationError::NotPositive {
            field: "preset",
            value: n,
        }));
    }
    let forecourt = forecourt(&state)?;
    // The fueling must be paid at its end: no pump runs for a cashier who cannot take payment.
    let user = session.actor.user();
    if state.station().current_shift(user)?.is_none() {
        return Err(station_core::StationError::NoOpenShift(user.clone()).into());
    }
    forecourt.authorize(address, preset).await?;
    Ok(Json(pump_view(&state, address)))
}

pub async fn stop_pump(
    State(state): State<ApiState>,
    _session: Session,
    Path(pump): Path<String>,
) -> ApiResult {
    let address = pump_address(&pump)?;
    forecourt(&state)?.stop(address).await?;
    Ok(Json(pump_view(&state, address)))
}

pub async fn fuelings(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let fuelings = state.station().unpaid_fuelings()?;
    Ok(Json(fuelings.iter().map(station_json::fueling).collect()))
}

#[derive(Debug, Deserialize)]
pub struct SettleFuelingBody {
    payment: PaymentBody,
    /// A manager's confirmation of a cash tender past the station's limit.
    over_limit: Option<ApproverBody>,
}

pub async fn settle_fueling(
    State(state): State<ApiState>,
    session: Session,
    Path(fueling): Path<String>,
    ApiJson(body): ApiJson<SettleFuelingBody>,
) -> ApiResult {
    let fueling: FuelingId = parse("fueling", &fueling)?;
    let payment = body.payment.request()?;
    let over_limit = over_limit_of(&state, &session, body.over_limit.as_ref()).await?;
    let sale = state.station().settle_fueling(
        &session.actor,
        fueling,
        payment,
        over_limit,
        Timestamp::now(),
    )?;
    if let Some(forecourt) = &state.forecourt {
        forecourt.refresh_unpaid();
    }
    state.live.bump_revision();
    Ok(Json(station_json::sale(&sale)))
}
