//! Multi-factor authentication (auth.md §5): `_mfas` rows created by a first factor and
//! consumed by a different second one.

use serde_json::json;

use super::{delete_system_row, has_expired, insert_system_row, record_matches_rule, system_collection};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::record::rules::RequestInfo;
use crate::record::{persist, Record};

/// Runs the MFA check after a successful sign-in with `method`. `Ok(Some(id))` means a new
/// MFA session was opened and the caller must answer 401 `{"mfaId": id}`; `Ok(None)` means
/// the sign-in may complete.
pub async fn check(app: &App, rec: &Record, method: &str, mfa_id: &str, req: &RequestInfo) -> ApiResult<Option<String>> {
    let c = &rec.collection;
    if method.is_empty() || c.option("mfa", "enabled").as_bool() != Some(true) {
        return Ok(None);
    }
    let rule = c.option("mfa", "rule").as_str().unwrap_or_default().to_string();
    if !rule.is_empty() {
        let mut req = req.clone();
        req.auth = Some(rec.clone());
        let wants = record_matches_rule(app, rec, &req, &rule).await.map_err(|_| ApiError::bad_request("Failed to authenticate."))?;
        if !wants {
            return Ok(None);
        }
    }
    if mfa_id.is_empty() {
        let mfa = insert_system_row(app, "_mfas", &[("collectionRef", json!(c.id)), ("recordRef", json!(rec.id())), ("method", json!(method))])
            .await
            .map_err(|_| ApiError::internal("Failed to create MFA record."))?;
        return Ok(Some(mfa.id().to_string()));
    }
    let mfas = system_collection(app, "_mfas")?;
    let id = mfa_id.to_string();
    let found = app.data.read(move |conn| persist::find_by_id(conn, &mfas, &id)).await?;
    let duration = c.option("mfa", "duration").as_i64().unwrap_or(600);
    let mfa = match found {
        Some(m) if !has_expired(m.get_str("created"), duration) => m,
        Some(m) => {
            let _ = delete_system_row(app, "_mfas", m.id()).await;
            return Err(ApiError::bad_request("Invalid or expired MFA session."));
        }
        None => return Err(ApiError::bad_request("Invalid or expired MFA session.")),
    };
    if mfa.get_str("recordRef") != rec.id() || mfa.get_str("collectionRef") != c.id {
        return Err(ApiError::bad_request("Invalid MFA session."));
    }
    if mfa.get_str("method") == method {
        return Err(ApiError::bad_request("A different authentication method is required."));
    }
    let _ = delete_system_row(app, "_mfas", mfa.id()).await;
    Ok(None)
}
