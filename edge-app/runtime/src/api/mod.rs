//! The edge runtime's HTTP API for the POS and the back office, and the push channel for live
//! pump, device and sync state. The UI is served from the same origin.
//!
//! Permissions are the core's: a session holds the `Actor` its PIN proved, and every operation
//! that needs a manager asks the core for a `ManagerApproval`, from the session's own role or from
//! a manager's PIN given with the request. Hiding a button is never the rule. Errors carry a
//! stable code for the UI to translate; a body or query the API cannot read gets the same shape.
//!
//! The routes are listed once, in [`ROUTES`], which also makes the OpenAPI document.

mod events;
mod guard;
mod office;
mod openapi;
mod pos;
mod sessions;

use std::path::Path as FilePath;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use station_core::{Actor, ManagerApproval, Pin, PinPurpose, Station, StationError, UserId};
use tower_http::services::{ServeDir, ServeFile};

use crate::forecourt::{Forecourt, ForecourtError};
use crate::live::Live;

pub use guard::AllowedHosts;
pub use openapi::openapi_document;
pub use sessions::{MAX_SESSIONS, SessionPolicy};

use sessions::Sessions;

/// What the handlers share: the station (one connection, one writer at a time), the sessions,
/// the live state and the forecourt.
#[derive(Debug, Clone)]
pub struct ApiState {
    station: Arc<Mutex<Station>>,
    sessions: Arc<Mutex<Sessions>>,
    live: Live,
    forecourt: Option<Forecourt>,
}

impl ApiState {
    pub fn open(
        db: &FilePath,
        live: Live,
        forecourt: Option<Forecourt>,
        policy: SessionPolicy,
    ) -> Result<ApiState, StationError> {
        Ok(ApiState {
            station: Arc::new(Mutex::new(Station::open(db)?)),
            sessions: Arc::new(Mutex::new(Sessions::new(policy))),
            live,
            forecourt,
        })
    }

    fn station(&self) -> MutexGuard<'_, Station> {
        self.station.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The actor of a live session whose user is still active with the same PIN; a session
    /// that no longer counts is forgotten. A request of the user counts as use; one of the
    /// page refreshing itself (`background`) does not.
    fn actor_of(&self, token: &str, background: bool) -> Result<Option<Actor>, ApiError> {
        let now = Instant::now();
        let live = if background {
            self.sessions().peek(token, now)
        } else {
            self.sessions().touch(token, now)
        };
        let Some(actor) = live else {
            return Ok(None);
        };
        if self.station().session_still_valid(&actor)? {
            Ok(Some(actor))
        } else {
            self.sessions().close(token);
            Ok(None)
        }
    }

    /// Runs `work` on the station off the async workers, holding the station's lock only for
    /// it.
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Station) -> Result<T, StationError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        blocking(move || work(&mut state.station())).await
    }

    /// Checks a PIN in three steps, so the slow part holds no lock: the attempt is allowed and
    /// counted (station locked), the hash is verified (nothing locked), the outcome is recorded
    /// (station locked). A burst of guesses never stalls the counter.
    async fn check_pin(
        &self,
        user: UserId,
        pin: Pin,
        purpose: PinPurpose,
    ) -> Result<Actor, ApiError> {
        let check = self
            .call(move |station| station.begin_pin_check(&user, Timestamp::now()))
            .await?;
        let verdict = blocking(move || Ok(check.verify(&pin))).await?;
        self.call(move |station| station.finish_pin_check(verdict, purpose, Timestamp::now()))
            .await
    }
}

/// Runs blocking work on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StationError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a blocking task stopped");
            ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "storage",
                message: "the station could not finish the request".into(),
            }
        })?
        .map_err(ApiError::from)
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (log-in, health).
    Public,
    /// Any logged-in user.
    Session,
    /// A logged-in manager (or, where the route says so, a cashier with a manager's PIN).
    Manager,
}

/// One route of the API: its method, path and what it does. [`router`] serves these, the
/// OpenAPI document describes them, and a test checks that every one is served.
#[derive(Debug)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// An example request body.
    pub body: Option<&'static str>,
}

/// Lists each route once: its method, path, who may call it, its handler, what it does and an
/// example body. Makes [`ROUTES`] (for the OpenAPI document and the tests) and the handlers in
/// the same order (for [`router`]).
macro_rules! routes {
    ($( $method:ident $path:literal $access:ident $handler:path, $summary:literal $(body $body:literal)? ;)*) => {
        /// Every route of the API.
        pub const ROUTES: &[RouteDoc] = &[$(RouteDoc {
            method: stringify!($method),
            path: $path,
            summary: $summary,
            access: Access::$access,
            body: routes!(@body $($body)?),
        }),*];

        /// The handler of each route of [`ROUTES`], in the same order.
        fn handlers() -> Vec<MethodRouter<ApiState>> {
            vec![$(axum::routing::$method($handler)),*]
        }
    };
    (@body) => { None };
    (@body $body:literal) => { Some($body) };
}

routes! {
    get "/healthz" Public healthz, "Liveness: answers ok.";
    post "/api/session" Public pos::login, "Log in with a user id and PIN; returns the session token." body r#"{"user":"kim","pin":"1234"}"#;
    get "/api/session" Session pos::whoami, "The user of this session.";
    delete "/api/session" Session pos::logout, "Log out.";
    get "/api/station" Session office::station, "The station, its time zone and open business day.";
    get "/api/products" Session office::products, "The price list in force.";
    get "/api/prices" Session office::prices, "Every price version held: in force, scheduled, superseded.";
    get "/api/shift" Session pos::current_shift, "The session user's open shift, or null.";
    get "/api/shifts/open" Manager pos::open_shifts, "Every shift still open, oldest first (the day cannot close until they are).";
    post "/api/shift/open" Session pos::open_shift, "Open a shift with the opening float." body r#"{"opening_float_won":100000}"#;
    post "/api/shift/close" Session pos::close_shift, "Close the shift with the counted cash; returns over/short." body r#"{"counted_cash_won":150000}"#;
    get "/api/sales" Session pos::list_sales, "The sales of a business day (?day=YYYY-MM-DD; default the open day).";
    post "/api/sales" Session pos::settle_sale, "Settle a sale priced from the price list (manual fuel, shop items); past the station's limits it needs `over_limit`, a manager's confirmation (their id and PIN, or `{}` at a manager's session)." body r#"{"lines":[{"product":"CD1001","volume_ml":40000}],"payment":{"method":"cash","tendered_won":70000}}"#;
    get "/api/sales/{sale}" Session pos::one_sale, "One sale.";
    post "/api/sales/{sale}/cancel" Manager pos::cancel_sale, "Cancel a sale with a reason; a cashier's session gives a manager's id and PIN." body r#"{"reason":"wrong pump","manager":"park","manager_pin":"9999"}"#;
    post "/api/sales/{sale}/reprint" Session pos::reprint, "Print a sale's receipt again.";
    get "/api/sales-summary" Session office::sales_summary, "Sales and cancellations per product for a business day (?day=).";
    get "/api/day-report" Session office::day_report, "The report of a business day (?day=).";
    post "/api/day/close" Manager office::close_day, "Close the open business day.";
    get "/api/pumps" Session pos::pumps, "Every pump's live state.";
    post "/api/pumps/{pump}/authorize" Session pos::authorize_pump, "Authorize a pump, with a preset by volume or amount or none." body r#"{"preset":{"amount_won":30000}}"#;
    post "/api/pumps/{pump}/stop" Session pos::stop_pump, "Stop a pump's filling now.";
    get "/api/fuelings" Session pos::fuelings, "Finished fuelings waiting for payment, oldest first.";
    post "/api/fuelings/{fueling}/settle" Session pos::settle_fueling, "Settle a fueling as a sale at the pump's volume and amount; a cash tender past the station's limit needs `over_limit`, as a sale does." body r#"{"payment":{"method":"card","reference":"APPROVAL-7781"}}"#;
    get "/api/limits" Session office::limits, "The station's limits on what is keyed in: the largest cash tender and the largest fuel volume of a line keyed by hand.";
    put "/api/limits" Manager office::set_limits, "Set the station's limits; past them a sale needs a manager's confirmation." body r#"{"largest_tender_won":2000000,"largest_manual_volume_ml":300000}"#;
    get "/api/stock" Session office::stock, "Book stock per tank and product, with the gauge's latest measurement.";
    post "/api/stock/adjust" Manager office::adjust_stock, "Adjust a tank's book stock with a reason." body r#"{"tank":3,"delta_ml":-20000,"reason":"meter check"}"#;
    get "/api/deliveries" Session office::deliveries, "Expected and confirmed deliveries.";
    post "/api/deliveries/{shipment}/confirm" Manager office::confirm_delivery, "Confirm a delivery with the volume received into a tank." body r#"{"tank":3,"received_volume_ml":7950500}"#;
    get "/api/gauge/deliveries" Session office::gauge_deliveries, "The tank gauge's recent delivery reports, to pre-fill a confirmation.";
    get "/api/orders" Session office::orders, "Fuel orders and their status.";
    post "/api/orders" Manager office::place_order, "Place a fuel order with HQ." body r#"{"product":"CD1001","volume_ml":8000000,"wanted_date":"2026-11-27"}"#;
    post "/api/orders/{order}/cancel" Manager office::cancel_order, "Cancel an order HQ has not shipped." body r#"{"reason":"ordered twice"}"#;
    get "/api/wet-stock" Session office::wet_stock, "Wet-stock reconciliation per tank for a business day (?day=).";
    get "/api/accounts" Session office::accounts, "Credit accounts with their balances.";
    post "/api/accounts" Manager office::open_account, "Open a credit account." body r#"{"name":"Hanil Logistics","credit_limit_won":5000000}"#;
    get "/api/accounts/{account}" Session office::account, "A credit account with its movements.";
    post "/api/accounts/{account}/payments" Session office::account_payment, "Take a payment towards an account's balance: cash into the open shift, or card with its approval reference." body r#"{"amount_won":100000,"method":"card","reference":"APPROVAL-5521"}"#;
    get "/api/users" Manager office::users, "Cashiers and managers.";
    post "/api/users" Manager office::add_user, "Add a cashier or manager with a PIN." body r#"{"user":"lee","name":"Lee","role":"cashier","pin":"2468"}"#;
    post "/api/users/{user}/pin" Manager office::set_pin, "Set a user's PIN; their sessions end." body r#"{"pin":"1357"}"#;
    post "/api/users/{user}/active" Manager office::set_user_active, "Deactivate a user who left (their sessions end), or let them back in." body r#"{"active":false}"#;
    post "/api/users/{user}/lockout/lift" Manager office::lift_lockout, "Lift a user's lockout after too many wrong PINs.";
    get "/api/audit" Manager office::audit_log, "The audit log, newest first (?action=&before=&limit=, at most 1,000).";
    get "/api/status" Session office::status, "The live state: link to HQ, backlog, devices and pumps.";
    get "/api/dead-letters" Manager office::dead_letters, "Messages from HQ that could not be applied.";
    get "/api/sync/divergences" Manager office::divergences, "Where the station's history and HQ's were found to differ (a restored backup, a re-installed PC), newest first, with what was done.";
    get "/api/receipts/set-aside" Manager office::set_aside_receipts, "Receipts set aside because they cannot be printed, oldest first, with why.";
    post "/api/receipts/{job}/fallback" Manager office::print_fallback_receipt, "Print a set-aside receipt with '?' for the characters the printer cannot print, marked as such.";
    get "/api/events" Session events::events, "Server-sent events: `live` with the live state at once and on every change (?token=).";
    get "/api/openapi.json" Public openapi, "This document.";
}

/// The API router, serving the UI's files from `ui_dir` when given, to requests of the
/// station's own origin only.
pub fn router(state: ApiState, ui_dir: Option<&FilePath>, hosts: AllowedHosts) -> Router {
    let mut router = Router::new();
    for (route, handler) in ROUTES.iter().zip(handlers()) {
        router = router.route(route.path, handler);
    }
    // An unknown API path is an API error, not the UI's page.
    let router = router
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { ApiError::not_found("no such API route") }),
        )
        .with_state(state);
    let router = match ui_dir {
        // Unknown paths get the app itself, so a reload on any screen works.
        Some(dir) => router.fallback_service(
            ServeDir::new(dir).not_found_service(ServeFile::new(dir.join("index.html"))),
        ),
        None => router,
    };
    router.layer(axum::middleware::from_fn_with_state(
        hosts,
        guard::only_own_origin,
    ))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// An error as the UI receives it: a stable code and a message.
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
            "pin_attempts_too_soon" => StatusCode::TOO_MANY_REQUESTS,
            "user_locked_out" => StatusCode::LOCKED,
            code if code.starts_with("unknown_") => StatusCode::NOT_FOUND,
            _ if error.is_storage_fault() => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        // Storage detail goes to the log, never to a client.
        let message = if error.is_storage_fault() {
            tracing::error!(%error, "a storage fault");
            "the station could not read or write its database".to_owned()
        } else {
            error.to_string()
        };
        ApiError {
            status,
            code: error.code(),
            message,
        }
    }
}

impl From<ForecourtError> for ApiError {
    fn from(error: ForecourtError) -> ApiError {
        let status = match error.code {
            "unknown_pump" => StatusCode::NOT_FOUND,
            "invalid_input" => StatusCode::BAD_REQUEST,
            "pump_busy" => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            code: error.code,
            message: error.message,
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

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    fn unauthenticated() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated",
            message: "log in with your PIN first".into(),
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

/// A JSON body; one the API cannot read is answered with the usual error body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "request body: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Query parameters; ones the API cannot read are answered with the usual error body.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "query: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// The logged-in user of a request, from the bearer token.
#[derive(Debug)]
pub struct Session {
    actor: Actor,
    token: String,
}

impl Session {
    /// The session's own approval, when its user is a manager.
    fn as_manager(&self, action: &'static str) -> Result<ManagerApproval, ApiError> {
        Ok(self.actor.as_manager(action)?)
    }
}

impl FromRequestParts<ApiState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let background = parts.headers.contains_key(BACKGROUND_HEADER);
        let actor = state
            .actor_of(token, background)?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Session {
            actor,
            token: token.to_owned(),
        })
    }
}

/// Marks a request the page makes by itself (a poll, a refresh on a live update), which does not
/// keep its session alive.
const BACKGROUND_HEADER: &str = "x-background";

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn parse<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}

/// A business day asked for, or the open one (today's when none is open).
fn day_of(station: &Station, day: Option<&str>) -> Result<Date, ApiError> {
    match day {
        Some(day) => parse("day", day),
        None => Ok(station
            .open_business_day()?
            .unwrap_or_else(|| station.local_date(Timestamp::now()))),
    }
}
