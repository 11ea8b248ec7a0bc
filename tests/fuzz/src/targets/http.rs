//! Calling a real axum router in-process (`tower::ServiceExt::oneshot`), as the API targets do:
//! no socket, the same extractors, handlers and error bodies a client gets.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;
use tower::ServiceExt as _;

/// The largest response body read back; the API's answers are far smaller.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// A current-thread runtime to drive a router on (its blocking pool runs the PIN and password
/// hashing, as in the real servers).
#[derive(Debug)]
pub struct Http {
    runtime: tokio::runtime::Runtime,
}

/// What the API answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body, when it is JSON.
    pub json: Option<Value>,
}

impl Answer {
    /// `error.code` of an error body.
    #[must_use]
    pub fn error_code(&self) -> Option<&str> {
        self.json.as_ref()?.get("error")?.get("code")?.as_str()
    }
}

impl Http {
    /// # Panics
    /// If the runtime cannot start (no threads left).
    #[must_use]
    pub fn new() -> Http {
        Http {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("a tokio runtime: {e}")),
        }
    }

    /// One request with a JSON content type, `Host: 127.0.0.1:7070` (the station's API answers
    /// only its own host names) and, when given, a bearer token.
    ///
    /// # Panics
    /// If the path is not a valid URI (the targets build them from the routes), or a handler
    /// panics: the runner catches it.
    pub fn call(
        &self,
        router: &Router,
        method: &Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, "127.0.0.1:7070")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request for {path}: {e}"));
        self.runtime.block_on(async {
            let response = match router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE)
                .await
                .unwrap_or_default();
            Answer {
                status,
                json: serde_json::from_slice(&bytes).ok(),
            }
        })
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

/// A folder for a database file that lives as long as the target: on `/dev/shm` when there
/// is one, so a million commits measure the API rather than the disk's flushes.
///
/// # Panics
/// If no temporary folder can be made.
#[must_use]
pub fn database_folder() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary folder: {e}"))
}

/// The route's path with its `{parameters}` filled in from `values`.
#[must_use]
pub fn fill_path(template: &str, values: &[(&str, String)]) -> String {
    let mut path = template.to_owned();
    for (name, value) in values {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}
