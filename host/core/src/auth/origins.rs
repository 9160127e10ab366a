//! Auth origins and new-login alerts (auth.md §10).

use md5::{Digest, Md5};
use serde_json::json;

use super::{insert_system_row, system_collection};
use crate::app::App;
use crate::error::ApiResult;
use crate::mail::record_emails;
use crate::record::Record;

const MAX_ORIGINS: usize = 5;

/// MD5 hex of `ip + userAgent` (user agent cut at 200 chars + `...`).
pub fn fingerprint(ip: &str, user_agent: &str) -> (String, String) {
    let ua = if user_agent.len() > 200 {
        let mut cut = 200;
        while !user_agent.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &user_agent[..cut])
    } else {
        user_agent.to_string()
    };
    let digest = Md5::digest(format!("{ip}{ua}").as_bytes());
    (digest.iter().map(|b| format!("{b:02x}")).collect(), ua)
}

/// Records the sign-in origin and emails an alert for a new origin (not on the first login).
pub async fn track(app: &std::sync::Arc<App>, rec: &Record, ip: &str, user_agent: &str) -> ApiResult<()> {
    let (fp, ua) = fingerprint(ip, user_agent);
    system_collection(app, "_authOrigins")?;
    let (cid, rid) = (rec.collection.id.clone(), rec.id().to_string());
    let origins: Vec<(String, String)> = app
        .data
        .read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, fingerprint FROM `_authOrigins` WHERE collectionRef = ?1 AND recordRef = ?2 ORDER BY created DESC, rowid DESC",
            )?;
            let rows = stmt.query_map([&cid, &rid], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    let current = origins.iter().find(|(_, f)| *f == fp).map(|(id, _)| id.clone());
    if let Some(id) = current {
        let now = crate::util::now_string();
        return app
            .data
            .write(move |conn| {
                conn.execute("UPDATE `_authOrigins` SET updated = ?1 WHERE id = ?2", [&now, &id])?;
                Ok(())
            })
            .await;
    }
    if !origins.is_empty() && !rec.get_str("email").is_empty() {
        let info = format!("{} - {ip} {ua}", crate::util::now_string());
        let sent = tokio::time::timeout(std::time::Duration::from_secs(15), record_emails::send_auth_alert(app, rec, &info)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(crate::ApiError::internal(format!("failed to send the login alert: {e}"))),
            Err(_) => return Err(crate::ApiError::internal("auth alert mail send wait timeout reached")),
        }
    }
    if origins.len() >= MAX_ORIGINS {
        let stale: Vec<String> = origins[MAX_ORIGINS - 1..].iter().map(|(id, _)| id.clone()).collect();
        app.data
            .write(move |conn| {
                for id in &stale {
                    conn.execute("DELETE FROM `_authOrigins` WHERE id = ?1", [id])?;
                }
                Ok(())
            })
            .await?;
    }
    insert_system_row(
        app,
        "_authOrigins",
        &[("collectionRef", json!(rec.collection.id)), ("recordRef", json!(rec.id())), ("fingerprint", json!(fp))],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprint_is_md5_of_ip_and_agent() {
        let (fp, ua) = super::fingerprint("127.0.0.1", "test");
        assert_eq!(fp, "ed3c625f1a8ba92efc772f8b368163df");
        assert_eq!(ua, "test");
        let long = "x".repeat(250);
        assert_eq!(super::fingerprint("", &long).1.len(), 203);
    }
}
