//! The HTTP API (JSON) for every HQ operation and read model, described by the OpenAPI document
//! it serves at `/openapi.json`. Every endpoint but `/healthz`, `/readyz` and `POST /api/login`
//! needs a bearer token from `POST /api/login`; `/metrics` also takes the scrape token the hub
//! was started with (`--metrics-token`), since a Prometheus server cannot log in.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sync_protocol::ProductUnit;
use tokio::sync::Notify;
use utoipa::{OpenApi, ToSchema};

use crate::auth::{AuditFilter, HqUser, HqUserRecord, Permission, Role};
use crate::dashboard::{AlertSettings, STATION_AUDIT_LIMIT, StationAuditFilter};
use crate::error::HubError;
use crate::hub::SharedHub;
use crate::live::{Topic, Topics};
use crate::price_book::read_price_book;
use crate::reports::{SalesBy, SalesQuery, parse_day};
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
    /// The dashboard's built files (`ui/dist-hq`), served at `/` when given.
    pub dashboard: Option<std::path::PathBuf>,
}

/// Serves [`router`] on a free port of 127.0.0.1 from a runtime on a thread of its own, for the
/// tests and benchmarks that drive the API over real HTTP. The port is bound before this
/// returns, so requests made at once wait in its backlog until it serves.
pub fn serve_on_loopback(state: AppState) -> std::io::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let served = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => axum::serve(listener, router(state)).await,
                Err(error) => Err(error),
            };
            if let Err(error) = served {
                tracing::error!(%error, "the API on {address} stopped");
            }
        });
    });
    Ok(address)
}

/// The API router, with the dashboard's files at `/` when the state names them. Unknown paths
/// under `/api` are answered with the API's error body, never with the dashboard's page.
pub fn router(state: AppState) -> Router {
    let dashboard = state.dashboard.clone();
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/events", get(events))
        .route("/api/hq-users", get(list_hq_users).post(create_hq_user))
        .route("/api/hq-users/{username}/role", put(set_hq_user_role))
        .route("/api/hq-users/{username}/lockout/lift", post(lift_lockout))
        .route("/api/audit", get(hq_audit))
        .route("/api/station-audit", get(station_audit))
        .route("/api/network", get(network))
        .route("/api/stations", get(list_stations).post(register_station))
        .route("/api/stations/status", get(station_statuses))
        .route("/api/stations/{station}", get(station_detail))
        .route("/api/products", get(list_products))
        .route("/api/products/{product}", put(upsert_product))
        .route("/api/prices", get(list_prices).post(publish_prices))
        .route("/api/prices/csv", post(publish_price_book))
        .route("/api/prices/{version}/rollout", get(rollout))
        .route("/api/orders", get(list_orders))
        .route("/api/orders/{order}", get(show_order))
        .route("/api/orders/{order}/shipments", post(dispatch_shipment))
        .route("/api/orders/{order}/reject", post(reject_order))
        .route(
            "/api/dispatch-policy",
            get(dispatch_policy).put(set_dispatch_policy),
        )
        .route("/api/sales", get(sales))
        .route("/api/reports/sales", get(sales_report))
        .route("/api/reports/stock", get(stock_report))
        .route("/api/stock", get(stock))
        .route("/api/wet-stock", get(wet_stock))
        .route("/api/alerts", get(alerts))
        .route(
            "/api/alert-settings",
            get(alert_settings).put(set_alert_settings),
        )
        .route("/api/dead-letters", get(dead_letters))
        .route("/api/sync/divergences", get(divergences))
        .route("/api/sync/held", get(held_messages))
        .merge(crate::feed::routes())
        .route("/api/{*rest}", axum::routing::any(unknown_route))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state);
    match dashboard {
        Some(dir) => {
            use tower_http::services::{ServeDir, ServeFile};
            let index = dir.join("index.html");
            api.fallback_service(ServeDir::new(dir).not_found_service(ServeFile::new(index)))
        }
        None => api,
    }
}

/// The largest request body the API reads: a price book of 20,000 lines with Korean names
/// fits several times over. A larger one is refused with 413 before it is read.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

async fn unknown_route() -> HubError {
    HubError::NotFound("no such API route".to_owned())
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "GasStation edge hub API", description = "HQ operations and read models. Money in integer won, volume in integer millilitres."),
    paths(
        healthz, readyz, metrics, login, logout, me, events, list_hq_users, create_hq_user,
        set_hq_user_role, lift_lockout, hq_audit, station_audit, network, list_stations, register_station,
        station_statuses, station_detail, list_products, upsert_product, list_prices,
        publish_prices, publish_price_book, rollout, list_orders, show_order, dispatch_shipment,
        reject_order, dispatch_policy, set_dispatch_policy, sales, sales_report, stock_report,
        stock, wet_stock, alerts, alert_settings, set_alert_settings, dead_letters, divergences,
        held_messages
    ),
    components(schemas(ApiError, ErrorBody, LineErrorView, HqAuditView, HqUserView)),
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
    /// For a file refused line by line (`invalid_price_book`): every bad line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineErrorView>>,
}

/// One bad line of an uploaded file.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineErrorView {
    /// 1-based; the header is line 1.
    pub line: usize,
    pub message: String,
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let status = match &self {
            HubError::InvalidInput { .. }
            | HubError::EmptyPriceVersion
            | HubError::InvalidPriceBook(_) => StatusCode::BAD_REQUEST,
            HubError::UnknownStation(_)
            | HubError::UnknownProduct(_)
            | HubError::UnknownOrder(_)
            | HubError::UnknownShipment(_)
            | HubError::UnknownUser(_)
            | HubError::NotFound(_) => StatusCode::NOT_FOUND,
            HubError::Forbidden { .. } => StatusCode::FORBIDDEN,
            HubError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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
        let lines = match &self {
            HubError::InvalidPriceBook(lines) => Some(
                lines
                    .iter()
                    .map(|l| LineErrorView {
                        line: l.line,
                        message: l.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let body = ApiError {
            error: ErrorBody {
                code: self.code().to_owned(),
                message,
                lines,
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
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large())
            }
            Err(rejection) => Err(HubError::invalid("request body", rejection.body_text())),
        }
    }
}

/// A raw body (a CSV file); one over [`BODY_LIMIT`] is answered with the usual error body.
#[derive(Debug)]
pub struct ApiBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiBody {
    type Rejection = HubError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, HubError> {
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(ApiBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large())
            }
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

pub(crate) fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Hub> {
    state
        .hub
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn parse_time(field: &'static str, text: &str) -> Result<Timestamp, HubError> {
    text.parse()
        .map_err(|e| HubError::invalid(field, format!("`{text}` is not an RFC 3339 time: {e}")))
}

fn too_large() -> HubError {
    HubError::TooLarge(format!(
        "the request body is over the API's limit of {} MiB",
        BODY_LIMIT / (1024 * 1024)
    ))
}

/// A request from a logged-in HQ user, with the role it acts in.
#[derive(Debug)]
pub struct HqSession {
    pub user: HqUser,
}

impl HqSession {
    /// Refuses unless the user's role allows the change.
    pub(crate) fn may(&self, permission: Permission) -> Result<&HqUser, HubError> {
        self.user.require(permission)?;
        Ok(&self.user)
    }
}

/// Tells every open dashboard what changed.
fn changed(state: &AppState, topics: &[Topic]) {
    lock(state).changes().tell(topics);
}

impl FromRequestParts<AppState> for HqSession {
    type Rejection = HubError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(HubError::Unauthenticated)?;
        let user = lock(state).authenticate(token, Timestamp::now())?;
        Ok(HqSession { user })
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
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::feed::FeedApiDoc::openapi());
    Json(doc)
}

pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
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
    pub username: String,
    /// administrator, pricing, logistics or analyst
    pub role: String,
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
    let (session, user) = blocking(move || {
        let mut hub = lock(&state);
        let session = hub.finish_login(verdict, Timestamp::now())?;
        let user = hub.authenticate(&session.token, Timestamp::now())?;
        hub.changes().tell(&[Topic::Audit]);
        Ok((session, user))
    })
    .await?;
    Ok(Json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at.to_string(),
        username: user.username,
        role: user.role.as_str().to_owned(),
    }))
}

/// Runs blocking work (SQLite, Argon2) on tokio's blocking threads. The dashboard's larger
/// reads (tens of milliseconds over a whole network) go here too, so that they never hold a
/// worker the other requests and the push channel need.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, HubError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HubError::Storage(e.to_string()))?
}

/// Lift the lockout of an HQ user after too many wrong passwords (administrators).
#[utoipa::path(post, path = "/api/hq-users/{username}/lockout/lift", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn lift_lockout(
    State(state): State<AppState>,
    session: HqSession,
    Path(username): Path<String>,
) -> Result<StatusCode, HubError> {
    lock(&state).lift_lockout(&session.user, &username, Timestamp::now())?;
    changed(&state, &[Topic::Users, Topic::Audit]);
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user and its role.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub username: String,
    /// administrator, pricing, logistics or analyst
    pub role: String,
}

/// Who is logged in with this token, in which role.
#[utoipa::path(get, path = "/api/me", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ApiError)))]
async fn me(session: HqSession) -> Json<MeView> {
    Json(MeView {
        username: session.user.username,
        role: session.user.role.as_str().to_owned(),
    })
}

/// An HQ user.
#[derive(Debug, Serialize, ToSchema)]
pub struct HqUserView {
    pub username: String,
    /// administrator, pricing, logistics or analyst
    pub role: String,
    pub created_at: String,
    /// Locked out after too many wrong passwords.
    pub locked: bool,
}

impl From<HqUserRecord> for HqUserView {
    fn from(user: HqUserRecord) -> HqUserView {
        HqUserView {
            username: user.username,
            role: user.role.as_str().to_owned(),
            created_at: user.created_at.to_string(),
            locked: user.locked,
        }
    }
}

/// Every HQ user (administrators).
#[utoipa::path(get, path = "/api/hq-users", security(("bearer" = [])),
    responses((status = 200, body = Vec<HqUserView>), (status = 403, body = ApiError)))]
async fn list_hq_users(
    State(state): State<AppState>,
    session: HqSession,
) -> ApiResult<Vec<HqUserView>> {
    session.may(Permission::ManageUsers)?;
    let users = lock(&state).hq_users()?;
    Ok(Json(users.into_iter().map(HqUserView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHqUserRequest {
    pub username: String,
    /// At least 8 characters.
    pub password: String,
    /// administrator, pricing, logistics or analyst
    pub role: String,
}

/// Add an HQ user with a role (administrators).
#[utoipa::path(post, path = "/api/hq-users", security(("bearer" = [])), request_body = NewHqUserRequest,
    responses((status = 200, body = HqUserView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn create_hq_user(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(request): ApiJson<NewHqUserRequest>,
) -> ApiResult<HqUserView> {
    let by = session.may(Permission::ManageUsers)?.clone();
    let role: Role = request.role.parse()?;
    // The password is hashed with no lock held, as at log-in.
    let hub = state.clone();
    let user = blocking(move || {
        lock(&hub).create_hq_user(
            &by,
            &request.username,
            &request.password,
            role,
            Timestamp::now(),
        )
    })
    .await?;
    changed(&state, &[Topic::Users, Topic::Audit]);
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// administrator, pricing, logistics or analyst
    pub role: String,
}

/// Give an HQ user another role (administrators); the last administrator keeps the role.
#[utoipa::path(put, path = "/api/hq-users/{username}/role", security(("bearer" = [])),
    params(("username" = String, Path)), request_body = RoleRequest,
    responses((status = 200, body = HqUserView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn set_hq_user_role(
    State(state): State<AppState>,
    session: HqSession,
    Path(username): Path<String>,
    ApiJson(request): ApiJson<RoleRequest>,
) -> ApiResult<HqUserView> {
    let role: Role = request.role.parse()?;
    let user = lock(&state).set_hq_user_role(&session.user, &username, role, Timestamp::now())?;
    changed(&state, &[Topic::Users, Topic::Audit]);
    Ok(Json(user.into()))
}

/// An entry of HQ's access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct HqAuditView {
    pub entry: i64,
    pub at: String,
    /// `login`, `login_failed`, `locked_out`, `lockout_lifted`, `user_added`, `role_changed`,
    /// `station_registered`, `product_saved`, `price_published`, `shipment_dispatched`,
    /// `order_rejected`, `dispatch_policy_set` or `alert_settings_set`.
    pub action: String,
    pub actor: String,
    pub subject: Option<String>,
    pub detail: String,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Text found in the subject or the detail.
    pub q: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// At most 1,000; 100 when left out.
    pub limit: Option<u64>,
}

/// HQ's audit log (log-ins, failed attempts, lockouts and every change HQ made: who, what,
/// when), newest first, searched.
#[utoipa::path(get, path = "/api/audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<HqAuditView>)))]
async fn hq_audit(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Vec<HqAuditView>> {
    let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let filter = AuditFilter {
        text: blank(query.q),
        action: blank(query.action),
        actor: blank(query.actor),
        limit: usize::try_from(query.limit.unwrap_or(100)).unwrap_or(1_000),
    };
    let entries = lock(&state).hq_audit(&filter)?;
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

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct StationAuditQuery {
    pub station: Option<String>,
    /// Text found in the subject or the detail.
    pub q: Option<String>,
    pub action: Option<String>,
    /// The user who acted or approved.
    pub actor: Option<String>,
    /// Only entries before this `audit_no` (to page back).
    pub before: Option<i64>,
    /// At most 1,000; 100 when left out.
    pub limit: Option<u64>,
}

/// The stations' audit logs as they sent them (logins, failed PIN checks, lockouts, manager
/// approvals, price overrides, cancellations, account payments, user changes, reprints),
/// newest first, searched.
#[utoipa::path(get, path = "/api/station-audit", security(("bearer" = [])), params(StationAuditQuery),
    responses((status = 200, body = Vec<StationAuditView>), (status = 400, body = ErrorBody)))]
async fn station_audit(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(query): ApiQuery<StationAuditQuery>,
) -> ApiResult<Vec<StationAuditView>> {
    let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let filter = StationAuditFilter {
        station: blank(query.station),
        action: blank(query.action),
        actor: blank(query.actor),
        text: blank(query.q),
        before: query.before,
        limit: usize::try_from(query.limit.unwrap_or(100)).unwrap_or(STATION_AUDIT_LIMIT),
    };
    let entries = blocking(move || lock(&state).station_audit(&filter)).await?;
    Ok(Json(entries))
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
    /// Where it is (e.g. 서울); may be left out.
    #[serde(default)]
    pub region: String,
}

/// Every station.
#[utoipa::path(get, path = "/api/stations", security(("bearer" = [])), responses((status = 200, body = Vec<StationView>)))]
async fn list_stations(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<Vec<StationView>> {
    Ok(Json(lock(&state).stations()?))
}

/// Register a station (administrators); it is sent the current prices.
#[utoipa::path(post, path = "/api/stations", security(("bearer" = [])), request_body = RegisterStation,
    responses((status = 200, body = StationView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn register_station(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(request): ApiJson<RegisterStation>,
) -> ApiResult<StationView> {
    let by = session.may(Permission::RegisterStations)?;
    let station = NewStation {
        station: request.station,
        name: request.name,
        operating_type: request.operating_type.parse()?,
        region: request.region,
    };
    let id = station.station.clone();
    let detail = format!(
        "{} ({})",
        station.name.trim(),
        station.operating_type.as_str()
    );
    let now = Timestamp::now();
    let view =
        lock(&state).on_behalf_of(by, "station_registered", Some(&id), detail, now, |hub| {
            hub.register_station(station, now)
        })?;
    state.wake.notify_one();
    changed(&state, &[Topic::Stations, Topic::Audit]);
    Ok(Json(view))
}

/// Every station with its connection, backlogs both ways, price version, devices and open
/// alerts, and the price version in effect: the Network screen.
#[utoipa::path(get, path = "/api/network", security(("bearer" = [])), responses((status = 200, body = NetworkView)))]
async fn network(State(state): State<AppState>, _session: HqSession) -> ApiResult<NetworkView> {
    Ok(Json(
        blocking(move || lock(&state).network(Timestamp::now())).await?,
    ))
}

/// One station: its record, its state and its tanks (book and measured stock).
#[utoipa::path(get, path = "/api/stations/{station}", security(("bearer" = [])), params(("station" = String, Path)),
    responses((status = 200, body = StationDetailView), (status = 404, body = ApiError)))]
async fn station_detail(
    State(state): State<AppState>,
    _session: HqSession,
    Path(station): Path<String>,
) -> ApiResult<StationDetailView> {
    Ok(Json(
        blocking(move || lock(&state).station_detail(&station, Timestamp::now())).await?,
    ))
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

/// Add a product or rename it (pricing, administrators).
#[utoipa::path(put, path = "/api/products/{product}", security(("bearer" = [])), request_body = ProductRequest,
    params(("product" = String, Path, description = "product id, e.g. CD1001")),
    responses((status = 200, body = ProductView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn upsert_product(
    State(state): State<AppState>,
    session: HqSession,
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
    let by = session.may(Permission::EditPrices)?;
    let detail = format!("{} ({})", request.name.trim(), request.unit);
    let view = lock(&state).on_behalf_of(
        by,
        "product_saved",
        Some(&product),
        detail,
        Timestamp::now(),
        |hub| hub.upsert_product(&product, &request.name, unit),
    )?;
    changed(&state, &[Topic::Prices, Topic::Audit]);
    Ok(Json(view))
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

/// Publish a price change (a new price version), now or at a scheduled time, to every station
/// (pricing, administrators).
#[utoipa::path(post, path = "/api/prices", security(("bearer" = [])), request_body = PriceRequest,
    responses((status = 200, body = PriceVersionView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn publish_prices(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(request): ApiJson<PriceRequest>,
) -> ApiResult<PriceVersionView> {
    let by = session.may(Permission::EditPrices)?;
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
        &by.username,
        Timestamp::now(),
    )?;
    state.wake.notify_one();
    changed(&state, &[Topic::Prices, Topic::Alerts, Topic::Audit]);
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct PriceBookQuery {
    /// RFC 3339; now when left out.
    pub effective_at: Option<String>,
}

/// Publish a price book in CSV (UTF-8; a header naming `product` and `unit_price_won`, other
/// columns ignored) as a new price version (pricing, administrators). Any bad line refuses the
/// whole book with `invalid_price_book`, listing every bad line; nothing is published then.
#[utoipa::path(post, path = "/api/prices/csv", security(("bearer" = [])), params(PriceBookQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = PriceVersionView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError)))]
async fn publish_price_book(
    State(state): State<AppState>,
    session: HqSession,
    ApiQuery(query): ApiQuery<PriceBookQuery>,
    ApiBody(body): ApiBody,
) -> ApiResult<PriceVersionView> {
    let by = session.may(Permission::EditPrices)?;
    let effective_at = query
        .effective_at
        .as_deref()
        .map(|t| parse_time("effective_at", t))
        .transpose()?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| HubError::invalid("price book", format!("it is not UTF-8 text: {e}")))?;
    let view = {
        let mut hub = lock(&state);
        let known: std::collections::HashSet<String> =
            hub.products()?.into_iter().map(|p| p.product).collect();
        let prices = read_price_book(text, |p| known.contains(p))?;
        hub.publish_price_version(&prices, effective_at, &by.username, Timestamp::now())?
    };
    state.wake.notify_one();
    changed(&state, &[Topic::Prices, Topic::Alerts, Topic::Audit]);
    Ok(Json(view))
}

/// Where every station stands with a price version: applied, pending or offline, since when.
#[utoipa::path(get, path = "/api/prices/{version}/rollout", security(("bearer" = [])), params(("version" = u64, Path)),
    responses((status = 200, body = RolloutView), (status = 400, body = ApiError)))]
async fn rollout(
    State(state): State<AppState>,
    _session: HqSession,
    Path(version): Path<String>,
) -> ApiResult<RolloutView> {
    let version: u64 = version.parse().map_err(|_| {
        HubError::invalid(
            "price version",
            format!("`{version}` is not a version number"),
        )
    })?;
    Ok(Json(blocking(move || lock(&state).rollout(version)).await?))
}

// ---- orders and shipments

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct StationFilter {
    pub station: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct OrderFilter {
    pub station: Option<String>,
    /// ordered, shipped, delivered, canceled or rejected
    pub status: Option<String>,
}

/// Orders, newest first, with their shipments and status.
#[utoipa::path(get, path = "/api/orders", security(("bearer" = [])), params(OrderFilter), responses((status = 200, body = Vec<OrderView>), (status = 400, body = ApiError)))]
async fn list_orders(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<OrderFilter>,
) -> ApiResult<Vec<OrderView>> {
    const STATUSES: [&str; 5] = ["ordered", "shipped", "delivered", "canceled", "rejected"];
    if let Some(status) = filter.status.as_deref()
        && !STATUSES.contains(&status)
    {
        return Err(HubError::invalid(
            "status",
            format!("`{status}` is none of {}", STATUSES.join(", ")),
        ));
    }
    let mut orders = lock(&state).orders(filter.station.as_deref())?;
    if let Some(status) = filter.status.as_deref() {
        orders.retain(|o| o.status == status);
    }
    Ok(Json(orders))
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

/// Dispatch a truck for an order (logistics, administrators).
#[utoipa::path(post, path = "/api/orders/{order}/shipments", security(("bearer" = [])), params(("order" = String, Path)), request_body = ShipmentRequest,
    responses((status = 200, body = OrderView), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn dispatch_shipment(
    State(state): State<AppState>,
    session: HqSession,
    Path(order): Path<String>,
    ApiJson(request): ApiJson<ShipmentRequest>,
) -> ApiResult<OrderView> {
    let by = session.may(Permission::Dispatch)?;
    let expected_at = request
        .expected_at
        .as_deref()
        .map(|t| parse_time("expected_at", t))
        .transpose()?;
    let detail = format!("truck {}, {} ml", request.truck, request.volume_ml);
    let now = Timestamp::now();
    let view = lock(&state).on_behalf_of(
        by,
        "shipment_dispatched",
        Some(&order),
        detail,
        now,
        |hub| {
            hub.dispatch_shipment(
                &order,
                NewShipment {
                    truck: request.truck,
                    volume_ml: request.volume_ml,
                    expected_at,
                },
                now,
            )
        },
    )?;
    state.wake.notify_one();
    changed(&state, &[Topic::Orders, Topic::Audit]);
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason: String,
}

/// Reject an order that has not shipped (logistics, administrators).
#[utoipa::path(post, path = "/api/orders/{order}/reject", security(("bearer" = [])), params(("order" = String, Path)), request_body = RejectRequest,
    responses((status = 200, body = OrderView), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn reject_order(
    State(state): State<AppState>,
    session: HqSession,
    Path(order): Path<String>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> ApiResult<OrderView> {
    let by = session.may(Permission::Dispatch)?;
    let now = Timestamp::now();
    let detail = request.reason.trim().to_owned();
    let view =
        lock(&state).on_behalf_of(by, "order_rejected", Some(&order), detail, now, |hub| {
            hub.reject_order(&order, &request.reason, now)
        })?;
    state.wake.notify_one();
    changed(&state, &[Topic::Orders, Topic::Audit]);
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

/// Switch the automatic dispatch policy on or off (logistics, administrators).
#[utoipa::path(put, path = "/api/dispatch-policy", security(("bearer" = [])), request_body = DispatchPolicy,
    responses((status = 200, body = DispatchPolicy), (status = 403, body = ApiError)))]
async fn set_dispatch_policy(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(policy): ApiJson<DispatchPolicy>,
) -> ApiResult<DispatchPolicy> {
    let by = session.may(Permission::Dispatch)?;
    let detail = if policy.auto_dispatch { "on" } else { "off" }.to_owned();
    lock(&state).on_behalf_of(
        by,
        "dispatch_policy_set",
        None,
        detail,
        Timestamp::now(),
        |hub| hub.set_auto_dispatch(policy.auto_dispatch),
    )?;
    changed(&state, &[Topic::Orders, Topic::Audit]);
    Ok(Json(policy))
}

// ---- read models

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SalesFilter {
    pub station: Option<String>,
    /// One business day, YYYY-MM-DD.
    pub day: Option<String>,
    /// The first business day, YYYY-MM-DD (with `to`, instead of `day`).
    pub from: Option<String>,
    /// The last business day, YYYY-MM-DD (included).
    pub to: Option<String>,
}

/// Sales per station, business day and product: sales, cancellations, net.
#[utoipa::path(get, path = "/api/sales", security(("bearer" = [])), params(SalesFilter),
    responses((status = 200, body = Vec<SalesRowView>), (status = 400, body = ApiError)))]
async fn sales(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<SalesFilter>,
) -> ApiResult<Vec<SalesRowView>> {
    let day = |field, text: Option<String>| -> Result<Option<String>, HubError> {
        text.map(|t| parse_day(field, &t).map(|d| d.to_string()))
            .transpose()
    };
    let one = day("day", filter.day)?;
    let (from, to) = match one {
        Some(day) if filter.from.is_some() || filter.to.is_some() => {
            return Err(HubError::invalid(
                "day",
                format!("{day} is given with from or to; give one day or a range"),
            ));
        }
        Some(day) => (Some(day.clone()), Some(day)),
        None => (day("from", filter.from)?, day("to", filter.to)?),
    };
    Ok(Json(lock(&state).sales_between(
        filter.station.as_deref(),
        from.as_deref(),
        to.as_deref(),
    )?))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SalesReportQuery {
    /// First business day, YYYY-MM-DD.
    pub from: String,
    /// Last business day, YYYY-MM-DD (included; at most 1,098 days after `from`).
    pub to: String,
    /// day, product, station or operating_type; day when left out.
    pub by: Option<String>,
    pub station: Option<String>,
    pub product: Option<String>,
    /// directly_managed, consignment or franchise
    pub operating_type: Option<String>,
}

/// Network sales over a range of business days, broken down by day, product, station or
/// operating type, with the total.
#[utoipa::path(get, path = "/api/reports/sales", security(("bearer" = [])), params(SalesReportQuery),
    responses((status = 200, body = SalesReportView), (status = 400, body = ApiError)))]
async fn sales_report(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(query): ApiQuery<SalesReportQuery>,
) -> ApiResult<SalesReportView> {
    let blank = |t: Option<String>| t.filter(|t| !t.is_empty());
    let query = SalesQuery {
        from: parse_day("from", &query.from)?,
        to: parse_day("to", &query.to)?,
        by: query.by.as_deref().unwrap_or("day").parse::<SalesBy>()?,
        station: blank(query.station),
        product: blank(query.product),
        operating_type: blank(query.operating_type),
    };
    Ok(Json(
        blocking(move || lock(&state).sales_report(&query)).await?,
    ))
}

/// Network stock by station, tank and product, with days of cover from recent sales.
#[utoipa::path(get, path = "/api/reports/stock", security(("bearer" = [])), responses((status = 200, body = StockReportView)))]
async fn stock_report(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<StockReportView> {
    Ok(Json(blocking(move || lock(&state).stock_report()).await?))
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

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct WetStockFilter {
    pub station: Option<String>,
    /// YYYY-MM-DD
    pub day: Option<String>,
    /// Only the reconciliations past their limit.
    pub flagged: Option<bool>,
}

/// Wet-stock reconciliations per station, closed business day and tank; flagged ones need a look.
#[utoipa::path(get, path = "/api/wet-stock", security(("bearer" = [])), params(WetStockFilter), responses((status = 200, body = Vec<WetStockView>)))]
async fn wet_stock(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<WetStockFilter>,
) -> ApiResult<Vec<WetStockView>> {
    let mut rows = lock(&state).wet_stock(filter.station.as_deref(), filter.day.as_deref())?;
    if filter.flagged == Some(true) {
        rows.retain(|r| r.flagged);
    }
    Ok(Json(rows))
}

/// What needs HQ's attention now, of one station or all, newest first: stations offline too
/// long, backlogs over the limit, price versions not applied in time, wet-stock variances
/// past their limit, low stock, new dead letters.
#[utoipa::path(get, path = "/api/alerts", security(("bearer" = [])), params(StationFilter),
    responses((status = 200, body = Vec<AlertView>), (status = 404, body = ApiError)))]
async fn alerts(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<StationFilter>,
) -> ApiResult<Vec<AlertView>> {
    Ok(Json(
        blocking(move || lock(&state).alerts(filter.station.as_deref(), Timestamp::now())).await?,
    ))
}

/// When a station's state becomes an alert.
#[utoipa::path(get, path = "/api/alert-settings", security(("bearer" = [])), responses((status = 200, body = AlertSettings)))]
async fn alert_settings(
    State(state): State<AppState>,
    _session: HqSession,
) -> ApiResult<AlertSettings> {
    Ok(Json(lock(&state).alert_settings()?))
}

/// Change when a station's state becomes an alert (administrators).
#[utoipa::path(put, path = "/api/alert-settings", security(("bearer" = [])), request_body = AlertSettings,
    responses((status = 200, body = AlertSettings), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
async fn set_alert_settings(
    State(state): State<AppState>,
    session: HqSession,
    ApiJson(settings): ApiJson<AlertSettings>,
) -> ApiResult<AlertSettings> {
    let settings = lock(&state).set_alert_settings(&session.user, settings, Timestamp::now())?;
    changed(&state, &[Topic::Alerts, Topic::Audit]);
    Ok(Json(settings))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct DivergenceFilter {
    pub station: Option<String>,
    pub limit: Option<u64>,
}

/// Messages that could not be decoded or applied, of one station when given, newest first.
#[utoipa::path(get, path = "/api/dead-letters", security(("bearer" = [])), params(DivergenceFilter), responses((status = 200, body = Vec<DeadLetterView>)))]
async fn dead_letters(
    State(state): State<AppState>,
    _session: HqSession,
    ApiQuery(filter): ApiQuery<DivergenceFilter>,
) -> ApiResult<Vec<DeadLetterView>> {
    Ok(Json(lock(&state).dead_letters_of(
        filter.station.as_deref(),
        filter.limit.unwrap_or(100).min(1000),
    )?))
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

// ---- live updates

/// How long changes are gathered before a dashboard is told them: at most about two notices
/// a second, however busy the network.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct EventsQuery {
    /// The session's token (an EventSource cannot send headers).
    pub token: Option<String>,
}

/// Server-sent events for the dashboard: `changed` with `{"topics": [...]}` (stations, prices,
/// orders, sales, stock, alerts, audit, users) once at once and then whenever records of those
/// kinds change, gathered over half a second. The stream ends when the session does.
#[utoipa::path(get, path = "/api/events", params(EventsQuery),
    responses((status = 200, description = "text/event-stream"), (status = 401, body = ApiError)))]
async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<
    Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>,
    HubError,
> {
    let token = query.token.ok_or(HubError::Unauthenticated)?;
    let listener = {
        let hub = lock(&state);
        hub.authenticate(&token, Timestamp::now())?;
        hub.changes().listen()
    };
    let first = Some(Topics::all());
    let stream = futures_util::stream::unfold(
        (state, token, listener, first),
        |(state, token, mut listener, first)| async move {
            let topics = match first {
                Some(all) => all,
                None => gather(&mut listener).await?,
            };
            // A session that ended (logged out, expired) ends its stream: the page then finds
            // it signed out.
            lock(&state).authenticate(&token, Timestamp::now()).ok()?;
            let data = serde_json::json!({ "topics": topics.names() }).to_string();
            let event = SseEvent::default().event("changed").data(data);
            Some((Ok(event), (state, token, listener, None)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Waits for a change, then gathers what else changes within [`COALESCE`]. A dashboard too slow
/// to keep up is told everything changed.
async fn gather(listener: &mut tokio::sync::broadcast::Receiver<Topics>) -> Option<Topics> {
    use tokio::sync::broadcast::error::RecvError;
    let mut topics = match listener.recv().await {
        Ok(topics) => topics,
        Err(RecvError::Lagged(_)) => Topics::all(),
        Err(RecvError::Closed) => return None,
    };
    let deadline = tokio::time::Instant::now() + COALESCE;
    loop {
        match tokio::time::timeout_at(deadline, listener.recv()).await {
            Ok(Ok(more)) => topics.add(more),
            Ok(Err(RecvError::Lagged(_))) => topics = Topics::all(),
            Ok(Err(RecvError::Closed)) | Err(_) => break,
        }
    }
    (!topics.is_empty()).then_some(topics)
}
