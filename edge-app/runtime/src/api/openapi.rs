//! The OpenAPI document of the API, made from the route table [`super::ROUTES`].

use serde_json::{Map, Value, json};

use super::{Access, ROUTES};

/// The OpenAPI 3.1 document.
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "responses": {
                "200": {"description": "The result, as JSON.", "content": {"application/json": {}}},
                "default": {
                    "description": "An error: a stable code for the UI to translate, and a message.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                }
            }
        });
        match route.access {
            Access::Public => {}
            Access::Session => operation["security"] = json!([{"session": []}]),
            Access::Manager => {
                operation["security"] = json!([{"session": []}]);
                operation["description"] = json!("Needs a manager's session.");
            }
        }
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = route.body {
            let example: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"type": "object"}, "example": example}}
            });
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Station runtime API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The POS and back-office API of one station. Money is integer won (*_won), volume integer millilitres (*_ml), times RFC 3339 UTC, business days YYYY-MM-DD."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "http", "scheme": "bearer", "description": "The token from POST /api/session."}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}
                }
            }
        }
    })
}
