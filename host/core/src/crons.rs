//! Built-in maintenance jobs (PocketBase's `__pb*` crons) and the registry behind `/api/crons`.

use crate::app::App;
use crate::error::ApiResult;

/// A scheduled job as listed by the API.
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    pub id: &'static str,
    pub expression: &'static str,
}

pub const SYSTEM_JOBS: [CronJob; 4] = [
    CronJob { id: "__pbDBOptimize__", expression: "0 0 * * *" },
    CronJob { id: "__pbMFACleanup__", expression: "0 * * * *" },
    CronJob { id: "__pbOTPCleanup__", expression: "0 * * * *" },
    CronJob { id: "__pbLogsCleanup__", expression: "0 */6 * * *" },
];

pub fn list() -> Vec<CronJob> {
    SYSTEM_JOBS.to_vec()
}

/// Runs a job now; Ok(false) when no job has that id.
pub async fn run(app: &App, id: &str) -> ApiResult<bool> {
    match id {
        "__pbDBOptimize__" => {
            app.data.write(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;")?)).await?;
            app.aux.write(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?)).await?;
        }
        "__pbMFACleanup__" => purge_expired(app, "_mfas", "mfa").await?,
        "__pbOTPCleanup__" => purge_expired(app, "_otps", "otp").await?,
        "__pbLogsCleanup__" => {
            let max_days = app.settings().get("logs").and_then(|l| l.get("maxDays")).and_then(|v| v.as_i64()).unwrap_or(5);
            crate::logs::cleanup(&app.aux, max_days).await?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Deletes MFA/OTP rows older than the longest duration configured on any auth collection.
async fn purge_expired(app: &App, table: &'static str, option: &'static str) -> ApiResult<()> {
    let schema = app.schema();
    let max = schema
        .collections
        .iter()
        .filter(|c| c.is_auth())
        .map(|c| c.option(option, "duration").as_i64().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let cutoff = crate::util::format_date(chrono::Utc::now() - chrono::Duration::seconds(max));
    app.data
        .write(move |c| {
            c.execute(&format!("DELETE FROM `{table}` WHERE created < ?1"), [cutoff])?;
            Ok(())
        })
        .await
}
