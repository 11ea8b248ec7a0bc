//! The back office: prices, stock, deliveries and orders, the business day, credit accounts,
//! users, and the state of sync and devices.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};
use station_core::{
    AccountId, AccountPaymentMethod, AuditAction, Limits, Millilitres, NewOrder, NewUser, OrderId,
    Pin, PinHash, ProductId, Role, ShipmentId, TankNo, UserId, Won,
};

use super::pos::DayQuery;
use super::{ApiError, ApiJson, ApiQuery, ApiResult, ApiState, Session, blocking, day_of, parse};

pub async fn station(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let station = state.station();
    let info = station.info();
    Ok(Json(json!({
        "station": info.station_id.to_string(),
        "name": info.name,
        "time_zone": info.time_zone,
        "business_day": station.open_business_day()?.map(|d| d.to_string()),
    })))
}

pub async fn products(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let list = state.station().price_list(Timestamp::now())?;
    Ok(Json(list.iter().map(station_json::price_item).collect()))
}

pub async fn prices(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let versions = state.station().price_versions(Timestamp::now())?;
    Ok(Json(
        versions.iter().map(station_json::price_version).collect(),
    ))
}

pub async fn sales_summary(
    State(state): State<ApiState>,
    _session: Session,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    let rows = station.sales_summary(Some(day))?;
    Ok(Json(rows.iter().map(station_json::summary_row).collect()))
}

pub async fn day_report(
    State(state): State<ApiState>,
    _session: Session,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    Ok(Json(station_json::day_report(&station.day_report(day)?)))
}

pub async fn close_day(State(state): State<ApiState>, session: Session) -> ApiResult {
    let approval = session.as_manager("closing the business day")?;
    let report = state
        .station()
        .close_business_day(&approval, Timestamp::now())?;
    state.live.bump_revision();
    Ok(Json(station_json::day_report(&report)))
}

pub async fn stock(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let station = state.station();
    Ok(Json(station_json::stock(
        &station.tank_stock()?,
        &station.product_stock()?,
        &station.latest_tank_readings()?,
    )))
}

#[derive(Debug, Deserialize)]
pub struct AdjustBody {
    tank: u16,
    delta_ml: i64,
    reason: String,
}

pub async fn adjust_stock(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<AdjustBody>,
) -> ApiResult {
    let approval = session.as_manager("adjusting stock")?;
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

pub async fn deliveries(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let deliveries = state.station().deliveries()?;
    Ok(Json(
        deliveries.iter().map(station_json::delivery).collect(),
    ))
}

pub async fn gauge_deliveries(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let deliveries = state.live.snapshot().gauge_deliveries;
    let tanks = state.station().tanks()?;
    Ok(Json(
        deliveries
            .iter()
            .map(|d| {
                let product = tanks
                    .iter()
                    .find(|t| t.tank.get() == d.tank)
                    .map(|t| t.product.to_string());
                let mut value = json!(d);
                value["product"] = json!(product);
                value
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ConfirmBody {
    tank: u16,
    received_volume_ml: i64,
}

pub async fn confirm_delivery(
    State(state): State<ApiState>,
    session: Session,
    Path(shipment): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> ApiResult {
    let shipment: ShipmentId = parse("shipment", &shipment)?;
    let approval = session.as_manager("confirming a delivery")?;
    let tank = TankNo::new(body.tank).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut station = state.station();
    station.confirm_delivery(
        &approval,
        shipment,
        tank,
        Millilitres(body.received_volume_ml),
        Timestamp::now(),
    )?;
    let delivery = station
        .deliveries()?
        .into_iter()
        .find(|d| d.expected.shipment == shipment)
        .ok_or(station_core::StationError::UnknownShipment(shipment))?;
    Ok(Json(station_json::delivery(&delivery)))
}

pub async fn orders(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let orders = state.station().orders()?;
    Ok(Json(orders.iter().map(station_json::order).collect()))
}

#[derive(Debug, Deserialize)]
pub struct OrderBody {
    product: String,
    volume_ml: i64,
    wanted_date: String,
}

pub async fn place_order(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<OrderBody>,
) -> ApiResult {
    let approval = session.as_manager("placing an order")?;
    let order = NewOrder {
        product: parse::<ProductId>("product", &body.product)?,
        volume: Millilitres(body.volume_ml),
        wanted_date: parse::<Date>("wanted_date", &body.wanted_date)?,
    };
    let mut station = state.station();
    let id = station.place_order(&approval, order, Timestamp::now())?;
    Ok(Json(station_json::order(&station.order(id)?)))
}

#[derive(Debug, Deserialize)]
pub struct ReasonBody {
    reason: String,
}

pub async fn cancel_order(
    State(state): State<ApiState>,
    session: Session,
    Path(order): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult {
    let order: OrderId = parse("order", &order)?;
    let approval = session.as_manager("canceling an order")?;
    let mut station = state.station();
    station.cancel_order(&approval, order, &body.reason, Timestamp::now())?;
    Ok(Json(station_json::order(&station.order(order)?)))
}

pub async fn wet_stock(
    State(state): State<ApiState>,
    _session: Session,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> ApiResult {
    let station = state.station();
    let day = day_of(&station, query.day.as_deref())?;
    let rows = station.wet_stock_reconciliation(day)?;
    Ok(Json(
        rows.iter().map(station_json::reconciliation).collect(),
    ))
}

pub async fn accounts(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let accounts = state.station().accounts()?;
    Ok(Json(accounts.iter().map(station_json::account).collect()))
}

#[derive(Debug, Deserialize)]
pub struct AccountBody {
    name: String,
    credit_limit_won: i64,
}

pub async fn open_account(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<AccountBody>,
) -> ApiResult {
    let approval = session.as_manager("opening a credit account")?;
    let mut station = state.station();
    let id = station.open_account(
        &approval,
        &body.name,
        Won(body.credit_limit_won),
        Timestamp::now(),
    )?;
    Ok(Json(station_json::account(&station.account(id)?)))
}

fn account_with_movements(state: &ApiState, account: AccountId) -> ApiResult {
    let station = state.station();
    let mut value = station_json::account(&station.account(account)?);
    value["movements"] = station
        .account_movements(account)?
        .iter()
        .map(station_json::movement)
        .collect();
    Ok(Json(value))
}

pub async fn account(
    State(state): State<ApiState>,
    _session: Session,
    Path(account): Path<String>,
) -> ApiResult {
    account_with_movements(&state, parse("account", &account)?)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodBody {
    Cash,
    Card,
}

#[derive(Debug, Deserialize)]
pub struct AccountPaymentBody {
    amount_won: i64,
    method: MethodBody,
    /// The card terminal's approval reference: a card payment needs one.
    reference: Option<String>,
}

pub async fn account_payment(
    State(state): State<ApiState>,
    session: Session,
    Path(account): Path<String>,
    ApiJson(body): ApiJson<AccountPaymentBody>,
) -> ApiResult {
    let account: AccountId = parse("account", &account)?;
    let method = match (body.method, body.reference) {
        (MethodBody::Cash, None) => AccountPaymentMethod::Cash,
        (MethodBody::Cash, Some(_)) => {
            return Err(ApiError::bad_request(
                "reference: only a card payment carries one",
            ));
        }
        (MethodBody::Card, Some(reference)) => AccountPaymentMethod::Card { reference },
        (MethodBody::Card, None) => {
            return Err(ApiError::bad_request(
                "reference: a card payment needs the terminal's approval reference",
            ));
        }
    };
    state.station().receive_account_payment(
        &session.actor,
        account,
        Won(body.amount_won),
        method,
        Timestamp::now(),
    )?;
    account_with_movements(&state, account)
}

pub async fn users(State(state): State<ApiState>, session: Session) -> ApiResult {
    session.as_manager("seeing the users")?;
    users_json(&state)
}

#[derive(Debug, Deserialize)]
pub struct UserBody {
    user: String,
    name: String,
    role: String,
    pin: String,
}

pub async fn add_user(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<UserBody>,
) -> ApiResult {
    let approval = session.as_manager("adding a user")?;
    let user = NewUser {
        user_id: parse::<UserId>("user", &body.user)?,
        name: body.name,
        role: parse::<Role>("role", &body.role)?,
        pin: parse::<Pin>("pin", &body.pin)?,
    };
    // Hashing is slow on purpose: done before the station is locked.
    let pin = user.pin.clone();
    let hash = blocking(move || PinHash::of(&pin)).await?;
    state
        .call(move |station| station.add_user_with_hash(&approval, user, hash, Timestamp::now()))
        .await?;
    users_json(&state)
}

/// The users, with whether each is locked out, its failed PIN checks in a row and the seconds
/// until its next check is taken (a manager can clear both).
fn users_json(state: &ApiState) -> ApiResult {
    let station = state.station();
    let holds = station.pin_holds(Timestamp::now())?;
    let mut users = station_json::users(&station.users()?);
    if let Some(list) = users.as_array_mut() {
        for user in list {
            let id = user["user"].as_str().unwrap_or_default();
            let hold = holds.iter().find(|h| h.user == id);
            user["locked_out"] = Value::Bool(hold.is_some_and(|h| h.locked));
            user["failed_pins"] = hold.map_or(0, |h| h.failures).into();
            user["retry_after_s"] = hold.map_or(0, |h| h.retry_after_s).into();
        }
    }
    Ok(Json(users))
}

#[derive(Debug, Deserialize)]
pub struct PinBody {
    pin: String,
}

pub async fn set_pin(
    State(state): State<ApiState>,
    session: Session,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<PinBody>,
) -> ApiResult {
    let approval = session.as_manager("setting a PIN")?;
    let user: UserId = parse("user", &user)?;
    let pin: Pin = parse("pin", &body.pin)?;
    let hash = blocking(move || PinHash::of(&pin)).await?;
    let changed = user.clone();
    state
        .call(move |station| station.set_pin_hash(&approval, &changed, hash, Timestamp::now()))
        .await?;
    state.sessions().close_all_of(&user);
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
pub struct ActiveBody {
    active: bool,
}

pub async fn set_user_active(
    State(state): State<ApiState>,
    session: Session,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<ActiveBody>,
) -> ApiResult {
    let approval = session.as_manager("deactivating a user")?;
    let user: UserId = parse("user", &user)?;
    state
        .station()
        .set_user_active(&approval, &user, body.active, Timestamp::now())?;
    if !body.active {
        state.sessions().close_all_of(&user);
    }
    users_json(&state)
}

pub async fn lift_lockout(
    State(state): State<ApiState>,
    session: Session,
    Path(user): Path<String>,
) -> ApiResult {
    let approval = session.as_manager("lifting a lockout")?;
    let user: UserId = parse("user", &user)?;
    state
        .station()
        .lift_lockout(&approval, &user, Timestamp::now())?;
    users_json(&state)
}

/// The station's limits as the API shows them.
fn limits_json(limits: &Limits) -> Value {
    json!({
        "largest_tender_won": limits.largest_tender.get(),
        "largest_manual_volume_ml": limits.largest_manual_volume.get(),
    })
}

pub async fn limits(State(state): State<ApiState>, _session: Session) -> ApiResult {
    Ok(Json(limits_json(&state.station().limits()?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    largest_tender_won: i64,
    largest_manual_volume_ml: i64,
}

pub async fn set_limits(
    State(state): State<ApiState>,
    session: Session,
    ApiJson(body): ApiJson<LimitsBody>,
) -> ApiResult {
    let approval = session.as_manager("changing the station's limits")?;
    let limits = state.station().set_limits(
        &approval,
        Limits {
            largest_tender: Won(body.largest_tender_won),
            largest_manual_volume: Millilitres(body.largest_manual_volume_ml),
        },
        Timestamp::now(),
    )?;
    state.live.bump_revision();
    Ok(Json(limits_json(&limits)))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    before: Option<i64>,
    limit: Option<usize>,
}

pub async fn audit_log(
    State(state): State<ApiState>,
    session: Session,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult {
    session.as_manager("reading the audit log")?;
    let action = query
        .action
        .as_deref()
        .map(|a| parse::<AuditAction>("action", a))
        .transpose()?;
    let entries = state
        .station()
        .audit_log(action, query.before, query.limit.unwrap_or(100))?;
    Ok(Json(
        entries
            .iter()
            .map(|e| {
                json!({
                    "entry": e.entry_no,
                    "at": e.at.to_string(),
                    "action": e.action.as_str(),
                    "actor": e.actor,
                    "approved_by": e.approved_by,
                    "subject": e.subject,
                    "detail": e.detail,
                })
            })
            .collect(),
    ))
}

pub async fn status(State(state): State<ApiState>, _session: Session) -> ApiResult {
    let mut value = json!(state.live.snapshot());
    // Receipts set aside are a record of the station, read where they are kept.
    value["set_aside_receipts"] = json!(state.station().set_aside_print_job_count()?);
    Ok(Json(value))
}

pub async fn dead_letters(State(state): State<ApiState>, session: Session) -> ApiResult {
    session.as_manager("seeing dead letters")?;
    let letters = state.station().dead_letters()?;
    Ok(Json(
        letters.iter().map(station_json::dead_letter).collect(),
    ))
}

pub async fn divergences(State(state): State<ApiState>, session: Session) -> ApiResult {
    session.as_manager("seeing where the station's history and HQ's differ")?;
    let found = state.station().divergences(1_000)?;
    Ok(Json(found.iter().map(station_json::divergence).collect()))
}

/// A print job as the manager sees it: the sale's receipt number, why it cannot be printed.
fn print_job_view(job: &station_core::PrintJob, receipt_no: Option<String>) -> Value {
    let mut value = station_json::print_job(job);
    value["receipt_no"] = json!(receipt_no);
    value["reprint_no"] = json!(job.reprint_no);
    value["receipt_failures"] = json!(job.receipt_failures);
    value["set_aside_at"] = json!(job.set_aside_at.map(|at| at.to_string()));
    value["fallback_by"] = json!(job.fallback_by.as_ref().map(UserId::as_str));
    value
}

pub async fn set_aside_receipts(State(state): State<ApiState>, session: Session) -> ApiResult {
    session.as_manager("seeing the receipts set aside")?;
    let station = state.station();
    let jobs = station.set_aside_print_jobs(1_000)?;
    Ok(Json(
        jobs.iter()
            .map(|job| {
                let receipt_no = station.sale(job.sale).ok().map(|sale| sale.receipt_no);
                print_job_view(job, receipt_no)
            })
            .collect(),
    ))
}

pub async fn print_fallback_receipt(
    State(state): State<ApiState>,
    session: Session,
    Path(job): Path<String>,
) -> ApiResult {
    let job: i64 = parse("job", &job)?;
    let approval = session.as_manager("printing a fallback receipt")?;
    let mut station = state.station();
    let job = station.request_fallback_print(&approval, job, Timestamp::now())?;
    let receipt_no = station.sale(job.sale).ok().map(|sale| sale.receipt_no);
    Ok(Json(print_job_view(&job, receipt_no)))
}
