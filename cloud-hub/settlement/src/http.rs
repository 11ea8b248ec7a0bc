//! Settlement's HTTP API (JSON, CSV and a printable statement in Korean) for HQ's dashboard.
//!
//! Authentication: the caller's bearer token is an HQ dashboard session; settlement asks the
//! hub's `GET /api/me` with it on every request (so a logout or a role change takes effect at
//! once) and never sees a password. Every HQ role reads; only administrators add terms and
//! close periods. The CSV and print routes also take the token as `?token=`, since a browser
//! opens them as links. CORS allows the origins settlement is started with (the dashboard's).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catch_up::{SharedSettlement, lock};
use crate::period::Period;
use crate::statement::{Statement, Terms, to_csv};
use crate::store::{NewTerms, SettlementError};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub settlement: SharedSettlement,
    /// The hub's base URL, for checking sessions.
    pub hub: String,
    pub http: reqwest::Client,
    /// The hub's newest feed position as last read (for the status).
    pub head: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The API router; `allowed_origins` may call it from a browser (CORS).
pub fn router(state: AppState, allowed_origins: &[String]) -> Router {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<header::HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/status", get(status))
        .route("/api/stations", get(stations))
        .route("/api/terms", get(list_terms).post(add_terms))
        .route("/api/periods", get(periods))
        .route("/api/periods/{period}/close", post(close_period))
        .route("/api/statements", get(statements))
        .route("/api/statements/{station}/{period}", get(statement))
        .route("/api/statements/{station}/{period}/csv", get(statement_csv))
        .route(
            "/api/statements/{station}/{period}/print",
            get(statement_print),
        )
        .route("/api/totals", get(totals))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .layer(cors)
        .with_state(state)
}

/// An API error: a stable code and a message.
#[derive(Debug)]
pub enum ApiError {
    Settlement(SettlementError),
    Unauthenticated,
    Forbidden(String),
    Invalid(String),
    HubUnreachable,
}

impl From<SettlementError> for ApiError {
    fn from(error: SettlementError) -> ApiError {
        ApiError::Settlement(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "not logged in at HQ, or the session has expired".to_owned(),
            ),
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, "forbidden", message),
            ApiError::Invalid(message) => (StatusCode::BAD_REQUEST, "invalid_input", message),
            ApiError::HubUnreachable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "hub_unreachable",
                "the hub could not check the session".to_owned(),
            ),
            ApiError::Settlement(error) => {
                let status = match &error {
                    SettlementError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
                    SettlementError::NotConsignment(_) | SettlementError::NotFound(_) => {
                        StatusCode::NOT_FOUND
                    }
                    SettlementError::PeriodClosed(_)
                    | SettlementError::PeriodNotClosable { .. }
                    | SettlementError::TermsExist { .. } => StatusCode::CONFLICT,
                    SettlementError::UnreadableEvent { .. }
                    | SettlementError::UnknownStation(_)
                    | SettlementError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let message = match &error {
                    SettlementError::Storage(detail) => {
                        tracing::error!(%detail, "request failed");
                        "settlement could not complete the request".to_owned()
                    }
                    other => other.to_string(),
                };
                (status, error.code(), message)
            }
        };
        let body = serde_json::json!({"error": {"code": code, "message": message}});
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// An HQ user, as the hub says who a token belongs to.
#[derive(Debug, Clone)]
pub struct HqSession {
    pub username: String,
    pub role: String,
}

impl HqSession {
    fn require_administrator(&self, action: &str) -> Result<(), ApiError> {
        if self.role == "administrator" {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the role {} may not {action}",
                self.role
            )))
        }
    }
}

#[derive(Debug, Deserialize)]
struct Me {
    username: String,
    role: String,
}

impl FromRequestParts<AppState> for HqSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header_token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let query_token = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .map(str::to_owned)
        });
        let token = header_token
            .or(query_token)
            .ok_or(ApiError::Unauthenticated)?;
        let response = state
            .http
            .get(format!("{}/api/me", state.hub))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|_| ApiError::HubUnreachable)?;
        match response.status().as_u16() {
            200 => {
                let me: Me = response
                    .json()
                    .await
                    .map_err(|_| ApiError::HubUnreachable)?;
                Ok(HqSession {
                    username: me.username,
                    role: me.role,
                })
            }
            401 | 403 => Err(ApiError::Unauthenticated),
            _ => Err(ApiError::HubUnreachable),
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SettlementError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Settlement(SettlementError::Storage(e.to_string())))?
        .map_err(ApiError::from)
}

fn parse_period(text: &str) -> Result<Period, ApiError> {
    text.parse().map_err(ApiError::Invalid)
}

#[derive(Debug, Serialize)]
struct StatusView {
    /// The feed position applied through.
    position: u64,
    /// The hub's newest position as last read.
    head: u64,
    consignment_stations: usize,
}

async fn status(State(state): State<AppState>, _session: HqSession) -> ApiResult<StatusView> {
    let settlement = state.settlement.clone();
    let (position, stations) = blocking(move || {
        let s = lock(&settlement);
        Ok((s.position()?, s.consignment_stations()?.len()))
    })
    .await?;
    Ok(Json(StatusView {
        position,
        head: state.head.load(std::sync::atomic::Ordering::Relaxed),
        consignment_stations: stations,
    }))
}

#[derive(Debug, Serialize)]
struct StationView {
    station: String,
    name: String,
}

/// The consignment stations settlement knows.
async fn stations(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<StationView>> {
    let settlement = state.settlement.clone();
    let rows = blocking(move || lock(&settlement).consignment_stations()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(station, name)| StationView { station, name })
            .collect(),
    ))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TermsView {
    pub station: String,
    pub version: u32,
    pub effective_from: String,
    pub fuel_rates: BTreeMap<String, i64>,
    pub shop_rate_basis_points: i64,
    pub monthly_fee_won: i64,
    pub loss_cost_won_per_litre: i64,
    pub created_by: String,
}

impl From<Terms> for TermsView {
    fn from(t: Terms) -> TermsView {
        TermsView {
            station: t.station,
            version: t.version,
            effective_from: t.effective_from.to_string(),
            fuel_rates: t.fuel_rates,
            shop_rate_basis_points: t.shop_rate_basis_points,
            monthly_fee_won: t.monthly_fee_won,
            loss_cost_won_per_litre: t.loss_cost_won_per_litre,
            created_by: t.created_by,
        }
    }
}

#[derive(Debug, Deserialize)]
struct TermsQuery {
    station: Option<String>,
}

async fn list_terms(
    State(state): State<AppState>,
    _session: HqSession,
    Query(query): Query<TermsQuery>,
) -> ApiResult<Vec<TermsView>> {
    let settlement = state.settlement.clone();
    let terms = blocking(move || lock(&settlement).terms(query.station.as_deref())).await?;
    Ok(Json(terms.into_iter().map(TermsView::from).collect()))
}

#[derive(Debug, Deserialize)]
pub struct NewTermsRequest {
    pub station: String,
    /// YYYY-MM-DD, the first business day they apply to.
    pub effective_from: String,
    #[serde(default)]
    pub fuel_rates: BTreeMap<String, i64>,
    #[serde(default)]
    pub shop_rate_basis_points: i64,
    #[serde(default)]
    pub monthly_fee_won: i64,
    #[serde(default)]
    pub loss_cost_won_per_litre: i64,
}

/// Adds a version of a station's terms (administrators).
async fn add_terms(
    State(state): State<AppState>,
    session: HqSession,
    body: Result<Json<NewTermsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<TermsView>), ApiError> {
    session.require_administrator("change commission terms")?;
    let Json(request) = body.map_err(|e| ApiError::Invalid(e.body_text()))?;
    let effective_from: Date = request.effective_from.parse().map_err(|_| {
        ApiError::Invalid(format!(
            "effective_from `{}` is not a day written YYYY-MM-DD",
            request.effective_from
        ))
    })?;
    let terms = NewTerms {
        station: request.station,
        effective_from,
        fuel_rates: request.fuel_rates,
        shop_rate_basis_points: request.shop_rate_basis_points,
        monthly_fee_won: request.monthly_fee_won,
        loss_cost_won_per_litre: request.loss_cost_won_per_litre,
    };
    let settlement = state.settlement.clone();
    let by = session.username.clone();
    let added =
        blocking(move || lock(&settlement).add_terms(&terms, &by, Timestamp::now())).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

#[derive(Debug, Serialize)]
struct PeriodView {
    period: String,
    first_day: String,
    last_day: String,
    /// open or closed
    status: &'static str,
    closed_at: Option<String>,
    closed_by: Option<String>,
}

async fn periods(State(state): State<AppState>, _session: HqSession) -> ApiResult<Vec<PeriodView>> {
    let settlement = state.settlement.clone();
    let periods = blocking(move || lock(&settlement).periods()).await?;
    Ok(Json(
        periods
            .into_iter()
            .map(|p| PeriodView {
                period: p.period.to_string(),
                first_day: p.period.first_day().to_string(),
                last_day: p.period.last_day().to_string(),
                status: if p.closed.is_some() { "closed" } else { "open" },
                closed_at: p.closed.as_ref().map(|(at, _)| at.to_string()),
                closed_by: p.closed.map(|(_, by)| by),
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct CloseRequest {
    /// Close a period whose last day is not over yet.
    #[serde(default)]
    before_end: bool,
}

/// Closes a period (administrators): every consignment station's statement is stored.
async fn close_period(
    State(state): State<AppState>,
    session: HqSession,
    Path(period): Path<String>,
    body: Option<Json<CloseRequest>>,
) -> ApiResult<Vec<Statement>> {
    session.require_administrator("close a settlement period")?;
    let period = parse_period(&period)?;
    let before_end = body.map(|Json(b)| b.before_end).unwrap_or(false);
    let settlement = state.settlement.clone();
    let by = session.username.clone();
    let now = Timestamp::now();
    let today = korean_time().to_datetime(now).date();
    let statements =
        blocking(move || lock(&settlement).close_period(period, today, before_end, &by, now))
            .await?;
    Ok(Json(statements))
}

fn korean_time() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Seoul").unwrap_or(jiff::tz::TimeZone::UTC)
}

#[derive(Debug, Deserialize)]
struct StatementsQuery {
    period: String,
}

/// Every consignment station's statement for a period.
async fn statements(
    State(state): State<AppState>,
    _session: HqSession,
    Query(query): Query<StatementsQuery>,
) -> ApiResult<Vec<Statement>> {
    let period = parse_period(&query.period)?;
    let settlement = state.settlement.clone();
    Ok(Json(
        blocking(move || lock(&settlement).statements(period)).await?,
    ))
}

async fn load_statement(
    state: &AppState,
    station: String,
    period: &str,
) -> Result<Statement, ApiError> {
    let period = parse_period(period)?;
    let settlement = state.settlement.clone();
    blocking(move || lock(&settlement).statement(&station, period)).await
}

async fn statement(
    State(state): State<AppState>,
    _session: HqSession,
    Path((station, period)): Path<(String, String)>,
) -> ApiResult<Statement> {
    Ok(Json(load_statement(&state, station, &period).await?))
}

async fn statement_csv(
    State(state): State<AppState>,
    _session: HqSession,
    Path((station, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let statement = load_statement(&state, station, &period).await?;
    let name = format!(
        "attachment; filename=\"statement-{}-{}.csv\"",
        statement.station, statement.period
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        to_csv(&statement),
    )
        .into_response())
}

async fn statement_print(
    State(state): State<AppState>,
    _session: HqSession,
    Path((station, period)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    let statement = load_statement(&state, station, &period).await?;
    Ok(Html(crate::http_print::print_view(&statement)))
}

#[derive(Debug, Serialize)]
struct TotalView {
    station: String,
    product: String,
    net_count: i64,
    net_volume_ml: i64,
    net_quantity: i64,
    net_amount_won: i64,
}

/// Net figures per consignment station and product over every day settlement counted.
async fn totals(State(state): State<AppState>, _session: HqSession) -> ApiResult<Vec<TotalView>> {
    let settlement = state.settlement.clone();
    let totals = blocking(move || lock(&settlement).totals()).await?;
    Ok(Json(
        totals
            .into_iter()
            .map(|((station, product), t)| TotalView {
                station,
                product,
                net_count: t.count,
                net_volume_ml: t.volume_ml,
                net_quantity: t.quantity,
                net_amount_won: t.amount_won,
            })
            .collect(),
    ))
}
