//! The HTTP API (JSON) for every HQ operation and read model, described by the OpenAPI document
//! it serves at `/openapi.json`. Every endpoint but `/healthz`, `/readyz` and `POST /api/login`
//! needs a bearer token from `POST /api/login`; `/metrics` also takes the scrape token the hub
//! was started with (`--metrics-token`), since a Prometheus server cannot log in.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sync_protocol::ProductUnit;
use tokio::sync::Notify;
use utoipa::{OpenApi, ToSchema};

use crate::error::HubError;
use crate::hub::SharedHub;
use crate::views::*;
use crate::{Hub, NewShipment, NewStation};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub hub: SharedHub,
    /// Told when an outbox gains messages, so the sync agent sends them at once.
    pub wake: Arc<Notify>,
    /// A long-lived token that may read `/metrics` only.
    pub metrics_token: Option<String>,
}

/// The API router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/hq-users/{username}/lockout/lift", post(lift_lockout))
        .route("/api/audit", get(hq_audit))
        .route("/api/stations", get(list_stations).post(register_station))
        .route("/api/stations/status", get(station_statuses))
        .route("/api/products", get(list_products))
        .route("/api/products/{product}", put(upsert_product))
        .route("/api/prices", get(list_prices).post(publish_prices))
        .route("/api/orders", get(list_orders))
        .route("/api/orders/{order}", get(show_order))
        .route("/api/orders/{order}/shipments", post(dispatch_shipment))
        .route("/api/orders/{order}/reject", post(reject_order))
        .route(
            "/api/dispatch-policy",
            get(dispatch_policy).put(set_dispatch_policy),
        )
        .route("/api/sales", get(sales))
        .route("/api/stock", get(stock))
        .route("/api/wet-stock", get(wet_stock))
        .route("/api/dead-letters", get(dead_letters))
        .route("/api/sync/divergences", get(divergences))
        .route("/api/sync/held", get(held_messages))
        .with_state(state)
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "GasStation edge hub API", description = "HQ operations and read models. Money in integer won, volume in integer millilitres."),
    paths(
        healthz, readyz, metrics, login, logout, lift_lockout, hq_audit, list_stations, register_station, station_statuses,
        list_products, upsert_product, list_prices, publish_prices, list_orders, show_order,
        dispatch_shipment, reject_order, dispatch_policy, set_dispatch_policy, sales, stock, wet_stock,
        dead_letters, divergences, held_messages
    ),
    components(schemas(ApiError, ErrorBody, HqAuditView)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

// ---- errors

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code, e.g. `unknown_order`.
    pub code: String,
    pub message: String,
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let status = match &self {
            HubError::InvalidInput { .. } | HubError::EmptyPriceVersion => StatusCode::BAD_REQUEST,
            HubError::UnknownStation(_)
            | HubError::UnknownProduct(_)
            | HubError::UnknownOrder(_)
            | HubError::UnknownShipment(_) => StatusCode::NOT_FOUND,
            HubError::StationExists(_)
            | HubError::UserExists(_)
            | HubError::OrderNotOpen { .. }
            | HubError::Conflict(_) => StatusCode::CONFLICT,
            HubError::BadCredentials | HubError::Unauthenticated => StatusCode::UNAUTHORIZED,
            HubError::LoginTooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
            HubError::LockedOut(_) => StatusCode::LOCKED,
            HubError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            // Internal details go to the log, not to the client.
            HubError::Storage(detail) => {
                tracing::error!(%detail, "request failed");
                "the hub could not complete the request".to_owned()
            }
            other => other.to_string(),
        };
        let body = ApiError {
            error: ErrorBody {
                code: self.code().to_owned(),
                message,
            },
        };
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, HubError>;

/// A JSON body; one the API cannot read is answered with the usual error body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = HubError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, HubError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(HubError::invalid("request body", rejection.body_text())),
        }
    }
}

/// Query parameters; ones the API cannot read are answered with the usual error body.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HubError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(HubError::invalid("query", rejection.body_text())),
        }
    }
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Hub> {
    state
        .hub
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn parse_time(field: &'static str, text: &str) -> Result<Timestamp, HubError> {
    text.parse()
        .map_err(|e| HubError::invalid(field, format!("`{text}` is not an RFC 3339 time: {e}")))
}

/// A request from a logged-in HQ user.
#[derive(Debug)]
pub struct HqSession {
    pub username: String,
}

impl FromRequestParts<AppState> for HqSession {
    type Rejection = HubError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(HubError::Unauthenticated)?;
        let user = lock(state).authenticate(token, Timestamp::now())?;
        Ok(HqSession {
            username: user.username,
        })
    }
}

// ---- platform

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The hub can serve: its database answers.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, description = "not ready")))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match lock(&state).ping() {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Prometheus metrics: events received, applied, duplicates, dead letters, stations online.
/// Needs a session or the scrape token.
#[utoipa::path(get, path = "/metrics", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text format"), (status = 401, body = ApiError)))]
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, HubError> {
    let token = bearer(&headers).ok_or(HubError::Unauthenticated)?;
    let scrape = state
        .metrics_token
        .as_deref()
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), token.as_bytes()));
    if !scrape {
        lock(&state).authenticate(token, Timestamp::now())?;
    }
    let text = lock(&state).metrics().render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn openapi(_session: HqSession) -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- sessions

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
}

/// Log in with a password; returns a bearer token.
#[utoipa::path(post, path = "/api/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ApiError)))]
async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<LoginResponse> {
    // Three steps, so that the slow hashing holds no lock: the attempt is allowed and counted
    // (hub locked), the password verified (nothing locked), the outcome recorded (hub locked).
    // A flood of log-ins never stalls the stations' sync.
    let hub = state.clone();
    let username = request.username;
    let check = blocking(move || lock(&hub).begin_login(&username, Timestamp::now())).await?;
    let password = request.password;
    let verdict = blocking(move || Ok(check.verify(&password))).await?;
    let session = blocking(move || lock(&state).finish_login(verdict, Timestamp::now())).await?;
    Ok(Json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at.to_string(),
    }))
}

/// Runs blocking work (SQLite, Argon2) on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, HubError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HubError::Storage(e.to_string()))?
}

/// Lift the lockout of an HQ user after too many wrong passwords.
#[utoipa::path(post, path = "/api/hq-users/{username}/lockout/lift", security(("bearer" = [])),
    params(("username" = String, Path)), responses((status = 204), (status = 401, body = ApiError)))]
async fn lift_lockout(
    State(state): State<AppState>,
    session: HqSession,
    Path(username): Path<String>,
) -> Result<StatusCode, HubError> {
    let by = crate::auth::HqUser {
        username: session.username,
    };
    lock(&state).lift_lockout(&by, &username, Timestamp::now())?;
    Ok(StatusCode::NO_CONTENT)
}

/// An entry of HQ's access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct HqAuditView {
    pub entry: i64,
    pub at: String,
    /// `login`, `login_failed`, `locked_out`, `lockout_lifted`.
    pub action: String,
    pub actor: String,
    pub subject: Option<String>,
    pub detail: String,
}

/// HQ's access log (log-ins, failed attempts, lockouts), newest first.
#[utoipa::path(get, path = "/api/audit", security(("bearer" = [])), params(LimitFilter),
    responses((status = 200, body = Vec<HqAuditView>)))]
async fn hq_audit(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<LimitFilter>,
) -> ApiResult<Vec<HqAuditView>> {
    let limit = usize::try_from(filter.limit.unwrap_or(100)).unwrap_or(1_000);
    let entries = lock(&state).hq_audit(limit)?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| HqAuditView {
                entry: e.entry_no,
                at: e.at.to_string(),
                action: e.action,
                actor: e.actor,
                subject: e.subject,
                detail: e.detail,
            })
            .collect(),
    ))
}

/// End the session of the token used.
#[utoipa::path(post, path = "/api/logout", security(("bearer" = [])), responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    parts: axum::http::HeaderMap,
    _session: HqSession,
) -> Result<StatusCode, HubError> {
    if let Some(token) = parts
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        lock(&state).logout(token)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---- stations

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterStation {
    /// e.g. ST0001
    pub station: String,
    pub name: String,
    /// directly_managed, consignment or franchise
    pub operating_type: String,
}

/// Every station.
#[utoipa::path(get, path = "/api/stations", security(("bearer" = [])), responses((status = 200, body = Vec<StationView>)))]
async fn list_stations(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<StationView>> {
    Ok(Json(lock(&state).stations()?))
}

/// Register a station; it is sent the current prices.
#[utoipa::path(post, path = "/api/stations", security(("bearer" = [])), request_body = RegisterStation,
    responses((status = 200, body = StationView), (status = 400, body = ApiError), (status = 409, body = ApiError)))]
async fn register_station(
    State(state): State<AppState>,
    _session: HqSession,
    ApiJson(request): ApiJson<RegisterStation>,
) -> ApiResult<StationView> {
    let station = NewStation {
        station: request.station,
        name: request.name,
        operating_type: request.operating_type.parse()?,
    };
    let view = lock(&state).register_station(station, Timestamp::now())?;
    state.wake.notify_one();
    Ok(Json(view))
}

/// Online or offline, last seen, events waiting, price version applied — per station.
#[utoipa::path(get, path = "/api/stations/status", security(("bearer" = [])), responses((status = 200, body = Vec<StationStatusView>)))]
async fn station_statuses(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<StationStatusView>> {
    Ok(Json(lock(&state).station_statuses()?))
}

// ---- products and prices

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductRequest {
    pub name: String,
    /// litre or piece
    pub unit: String,
}

/// The product master.
#[utoipa::path(get, path = "/api/products", security(("bearer" = [])), responses((status = 200, body = Vec<ProductView>)))]
async fn list_products(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<ProductView>> {
    Ok(Json(lock(&state).products()?))
}

/// Add a product or rename it.
#[utoipa::path(put, path = "/api/products/{product}", security(("bearer" = [])), request_body = ProductRequest,
    params(("product" = String, Path, description = "product id, e.g. CD1001")),
    responses((status = 200, body = ProductView), (status = 400, body = ApiError)))]
async fn upsert_product(
    State(state): State<AppState>,
    _session: HqSession,
    Path(product): Path<String>,
    ApiJson(request): ApiJson<ProductRequest>,
) -> ApiResult<ProductView> {
    let unit = match request.unit.as_str() {
        "litre" => ProductUnit::Litre,
        "piece" => ProductUnit::Piece,
        other => {
            return Err(HubError::invalid(
                "unit",
                format!("`{other}` is neither litre nor piece"),
            ));
        }
    };
    Ok(Json(lock(&state).upsert_product(
        &product,
        &request.name,
        unit,
    )?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PriceRequest {
    pub prices: Vec<ProductPrice>,
    /// RFC 3339; now when left out.
    pub effective_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductPrice {
    pub product: String,
    pub unit_price_won: i64,
}

/// Every price version, newest first, with how many stations applied it.
#[utoipa::path(get, path = "/api/prices", security(("bearer" = [])), responses((status = 200, body = Vec<PriceVersionView>)))]
async fn list_prices(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<PriceVersionView>> {
    Ok(Json(lock(&state).price_versions()?))
}

/// Publish a price change (a new price version), now or at a scheduled time, to every station.
#[utoipa::path(post, path = "/api/prices", security(("bearer" = [])), request_body = PriceRequest,
    responses((status = 200, body = PriceVersionView), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn publish_prices(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(request): ApiJson<PriceRequest>,
) -> ApiResult<PriceVersionView> {
    let effective_at = request
        .effective_at
        .as_deref()
        .map(|t| parse_time("effective_at", t))
        .transpose()?;
    let prices: Vec<(String, i64)> = request
        .prices
        .into_iter()
        .map(|p| (p.product, p.unit_price_won))
        .collect();
    let view = lock(&state).publish_price_version(
        &prices,
        effective_at,
        &session.username,
        Timestamp::now(),
    )?;
    state.wake.notify_one();
    Ok(Json(view))
}

// ---- orders and shipments

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct StationFilter {
    pub station: Option<String>,
}

/// Orders, newest first, with their shipments and status.
#[utoipa::path(get, path = "/api/orders", security(("bearer" = [])), params(StationFilter), responses((status = 200, body = Vec<OrderView>)))]
async fn list_orders(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<StationFilter>,
) -> ApiResult<Vec<OrderView>> {
    Ok(Json(lock(&state).orders(filter.station.as_deref())?))
}

/// One order with its shipments.
#[utoipa::path(get, path = "/api/orders/{order}", security(("bearer" = [])), params(("order" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ApiError)))]
async fn show_order(
    State(state): State<AppState>,
    _session: HqSession,
    Path(order): Path<String>,
) -> ApiResult<OrderView> {
    Ok(Json(lock(&state).order(&order)?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShipmentRequest {
    pub truck: String,
    pub volume_ml: i64,
    /// RFC 3339, optional.
    pub expected_at: Option<String>,
}

/// Dispatch a truck for an order.
#[utoipa::path(post, path = "/api/orders/{order}/shipments", security(("bearer" = [])), params(("order" = String, Path)), request_body = ShipmentRequest,
    responses((status = 200, body = OrderView), (status = 400, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn dispatch_shipment(
    State(state): State<AppState>,
    _session: HqSession,
    Path(order): Path<String>,
    ApiJson(request): ApiJson<ShipmentRequest>,
) -> ApiResult<OrderView> {
    let expected_at = request
        .expected_at
        .as_deref()
        .map(|t| parse_time("expected_at", t))
        .transpose()?;
    let view = lock(&state).dispatch_shipment(
        &order,
        NewShipment {
            truck: request.truck,
            volume_ml: request.volume_ml,
            expected_at,
        },
        Timestamp::now(),
    )?;
    state.wake.notify_one();
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason: String,
}

/// Reject an order that has not shipped.
#[utoipa::path(post, path = "/api/orders/{order}/reject", security(("bearer" = [])), params(("order" = String, Path)), request_body = RejectRequest,
    responses((status = 200, body = OrderView), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn reject_order(
    State(state): State<AppState>,
    _session: HqSession,
    Path(order): Path<String>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> ApiResult<OrderView> {
    let view = lock(&state).reject_order(&order, &request.reason, Timestamp::now())?;
    state.wake.notify_one();
    Ok(Json(view))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DispatchPolicy {
    /// When on, every new order is shipped in full at once.
    pub auto_dispatch: bool,
}

/// The automatic dispatch policy.
#[utoipa::path(get, path = "/api/dispatch-policy", security(("bearer" = [])), responses((status = 200, body = DispatchPolicy)))]
async fn dispatch_policy(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<DispatchPolicy> {
    Ok(Json(DispatchPolicy {
        auto_dispatch: lock(&state).auto_dispatch()?,
    }))
}

/// Switch the automatic dispatch policy on or off.
#[utoipa::path(put, path = "/api/dispatch-policy", security(("bearer" = [])), request_body = DispatchPolicy, responses((status = 200, body = DispatchPolicy)))]
async fn set_dispatch_policy(
    State(state): State<AppState>,
    _session: HqSession,
    ApiJson(policy): ApiJson<DispatchPolicy>,
) -> ApiResult<DispatchPolicy> {
    lock(&state).set_auto_dispatch(policy.auto_dispatch)?;
    Ok(Json(policy))
}

// ---- read models

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SalesFilter {
    pub station: Option<String>,
    /// YYYY-MM-DD
    pub day: Option<String>,
}

/// Sales per station, business day and product: sales, cancellations, net.
#[utoipa::path(get, path = "/api/sales", security(("bearer" = [])), params(SalesFilter), responses((status = 200, body = Vec<SalesRowView>)))]
async fn sales(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<SalesFilter>,
) -> ApiResult<Vec<SalesRowView>> {
    Ok(Json(
        lock(&state).sales(filter.station.as_deref(), filter.day.as_deref())?,
    ))
}

/// Book stock per station and tank.
#[utoipa::path(get, path = "/api/stock", security(("bearer" = [])), params(StationFilter), responses((status = 200, body = Vec<TankStockView>)))]
async fn stock(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<StationFilter>,
) -> ApiResult<Vec<TankStockView>> {
    Ok(Json(lock(&state).tank_stock(filter.station.as_deref())?))
}

/// Wet-stock reconciliations per station, closed business day and tank; flagged ones need a look.
#[utoipa::path(get, path = "/api/wet-stock", security(("bearer" = [])), params(SalesFilter), responses((status = 200, body = Vec<WetStockView>)))]
async fn wet_stock(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<SalesFilter>,
) -> ApiResult<Vec<WetStockView>> {
    Ok(Json(lock(&state).wet_stock(
        filter.station.as_deref(),
        filter.day.as_deref(),
    )?))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct LimitFilter {
    pub limit: Option<u64>,
}

/// Messages that could not be decoded or applied, newest first.
#[utoipa::path(get, path = "/api/dead-letters", security(("bearer" = [])), params(LimitFilter), responses((status = 200, body = Vec<DeadLetterView>)))]
async fn dead_letters(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<LimitFilter>,
) -> ApiResult<Vec<DeadLetterView>> {
    Ok(Json(
        lock(&state).dead_letters(filter.limit.unwrap_or(100).min(1000))?,
    ))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct DivergenceFilter {
    pub station: Option<String>,
    pub limit: Option<u64>,
}

/// Where a station's history and HQ's were found to differ (a database restored from a backup,
/// a re-installed station, a restored hub database), newest first, with what was done.
#[utoipa::path(get, path = "/api/sync/divergences", security(("bearer" = [])), params(DivergenceFilter), responses((status = 200, body = Vec<DivergenceView>)))]
async fn divergences(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<DivergenceFilter>,
) -> ApiResult<Vec<DivergenceView>> {
    Ok(Json(lock(&state).divergences(
        filter.station.as_deref(),
        filter.limit.unwrap_or(100).min(1000),
    )?))
}

/// Stations' messages HQ holds until it can apply them (a newer schema, a station not yet
/// registered): the station keeps them and sends them again.
#[utoipa::path(get, path = "/api/sync/held", security(("bearer" = [])), responses((status = 200, body = Vec<HeldView>)))]
async fn held_messages(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<HeldView>> {
    Ok(Json(lock(&state).held_messages()?))
}
