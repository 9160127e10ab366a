//! `GET /api/health`.

use axum::response::Response;
use serde_json::json;

use crate::http::context::Ctx;
use crate::http::json::json_ok;

pub async fn health(ctx: Ctx) -> Response {
    let data = if ctx.is_superuser() {
        json!({"canBackup": true, "realIP": ctx.remote_ip, "possibleProxyHeader": ""})
    } else {
        json!({})
    };
    json_ok(json!({"message": "API is healthy.", "code": 200, "data": data}))
}
