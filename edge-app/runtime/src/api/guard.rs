//! The API answers only its own origin. A web page the POS PC opens must not reach the API at
//! `127.0.0.1:7070`, neither by DNS rebinding (its own name pointed at loopback: the request
//! carries that name as `Host`) nor by a cross-site request (it carries the page's `Origin`).
//! So every request must name one of the station's own hosts in `Host`, and any `Origin` it
//! carries must be one of them too.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The host names (without port) the API answers to: loopback's, the address it listens on,
/// and the names given for the LAN (`--lan-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    /// Loopback's names, the listening address's and `extra` (lower-cased).
    pub fn new(listening: std::net::SocketAddr, extra: &[String]) -> AllowedHosts {
        let mut names: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.push(match listening.ip() {
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        });
        names.extend(extra.iter().map(|name| name.to_ascii_lowercase()));
        names.sort();
        names.dedup();
        AllowedHosts { names }
    }

    fn allows_host(&self, host_and_port: &str) -> bool {
        let host = strip_port(host_and_port).to_ascii_lowercase();
        self.names.contains(&host)
    }

    /// Why a request's headers are refused, if they are.
    fn refusal(&self, headers: &HeaderMap) -> Option<&'static str> {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        match host {
            Some(host) if self.allows_host(host) => {}
            _ => return Some("the request's Host is not this station's"),
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            match host {
                Some(host) if self.allows_host(host) => {}
                _ => return Some("the request comes from a page of another site"),
            }
        }
        None
    }
}

/// `host:port` → `host`, for names and IPv4 addresses and bracketed IPv6 addresses.
fn strip_port(host_and_port: &str) -> &str {
    if host_and_port.starts_with('[') {
        return match host_and_port.find(']') {
            Some(end) => &host_and_port[..=end],
            None => host_and_port,
        };
    }
    match host_and_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_and_port,
    }
}

/// The middleware: refuses, with the API's error shape, what [`AllowedHosts`] does not allow.
pub async fn only_own_origin(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    match allowed.refusal(request.headers()) {
        None => next.run(request).await,
        Some(reason) => {
            tracing::warn!(
                host = ?request.headers().get(header::HOST),
                origin = ?request.headers().get(header::ORIGIN),
                path = request.uri().path(),
                "a request from outside the station's own origin was refused"
            );
            let body = json!({"error": {"code": "foreign_origin", "message": reason}});
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(host) = host {
            map.insert(header::HOST, host.parse().unwrap());
        }
        if let Some(origin) = origin {
            map.insert(header::ORIGIN, origin.parse().unwrap());
        }
        map
    }

    #[test]
    fn own_names_pass_and_foreign_ones_are_refused() {
        let allowed = AllowedHosts::new(
            "192.168.0.10:7070".parse().unwrap(),
            &["POS-OFFICE".to_owned()],
        );
        let check = |host, origin| allowed.refusal(&headers(host, origin)).is_none();
        assert!(check(Some("127.0.0.1:7070"), None));
        assert!(check(Some("localhost:7070"), Some("http://localhost:7070")));
        assert!(check(Some("[::1]:7070"), None));
        assert!(check(
            Some("192.168.0.10:7070"),
            Some("https://192.168.0.10:7070")
        ));
        assert!(check(
            Some("pos-office:7070"),
            Some("https://POS-OFFICE:7070")
        ));
        assert!(!check(Some("evil.example:7070"), None), "DNS rebinding");
        assert!(!check(None, None), "no Host");
        assert!(
            !check(Some("127.0.0.1:7070"), Some("http://evil.example")),
            "a cross-site request"
        );
        assert!(
            !check(Some("127.0.0.1:7070"), Some("null")),
            "an opaque origin"
        );
        assert!(!check(Some("127.0.0.1.evil.example"), None));
    }
}
