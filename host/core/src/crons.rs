//! Built-in maintenance jobs (PocketBase's `__pb*` crons) and the registry behind `/api/crons`.

use parking_lot::RwLock;
use std::sync::Arc;

use crate::app::App;
use crate::error::ApiResult;
use crate::hooks::HookFuture;

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

/// Runs the jobs an extension registered (`cronAdd` in pb_hooks).
pub trait CronRunner: Send + Sync + 'static {
    fn run(&self, id: &str) -> HookFuture<ApiResult<()>>;
}

struct ExtensionJob {
    id: String,
    expression: String,
    runner: Arc<dyn CronRunner>,
}

/// Jobs registered by extensions, next to the built-in [`SYSTEM_JOBS`].
#[derive(Default)]
pub struct CronRegistry(RwLock<Vec<ExtensionJob>>);

impl CronRegistry {
    /// Adds a job; an existing job with the same id is replaced (PocketBase's `cronAdd`).
    pub fn add(&self, id: String, expression: String, runner: Arc<dyn CronRunner>) {
        let mut jobs = self.0.write();
        jobs.retain(|j| j.id != id);
        jobs.push(ExtensionJob { id, expression, runner });
    }

    pub fn remove(&self, id: &str) {
        self.0.write().retain(|j| j.id != id);
    }
}

/// Every job as `(id, expression)`: extension jobs sorted by id, then the system ones (the
/// order of PocketBase's `GET /api/crons`).
pub fn list(app: &App) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = app.crons.0.read().iter().map(|j| (j.id.clone(), j.expression.clone())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(SYSTEM_JOBS.iter().map(|j| (j.id.to_string(), j.expression.to_string())));
    // scheduled backups, when the settings ask for them
    let settings = app.settings();
    if let Some(expr) = settings["backups"]["cron"].as_str().map(str::trim).filter(|e| !e.is_empty()) {
        out.push((AUTO_BACKUP_JOB.to_string(), expr.to_string()));
    }
    out
}

/// The job of `settings.backups.cron`.
pub const AUTO_BACKUP_JOB: &str = "__pbAutoBackup__";

/// Runs a job now; Ok(false) when no job has that id.
pub async fn run(app: &Arc<App>, id: &str) -> ApiResult<bool> {
    let extension = app.crons.0.read().iter().find(|j| j.id == id).map(|j| j.runner.clone());
    if let Some(runner) = extension {
        runner.run(id).await?;
        return Ok(true);
    }
    match id {
        "__pbDBOptimize__" => {
            app.data.write(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;")?)).await?;
            app.aux.write(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?)).await?;
        }
        "__pbMFACleanup__" => purge_expired(app, "_mfas", "mfa").await?,
        "__pbOTPCleanup__" => purge_expired(app, "_otps", "otp").await?,
        AUTO_BACKUP_JOB => crate::backups::auto_backup(app).await?,
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

/// Whether a 5-field expression (or `@hourly`-style macro) is due at `at` (minute precision).
/// Unparsable expressions never run.
pub fn is_due(expression: &str, at: &chrono::DateTime<chrono::Utc>) -> bool {
    croner::Cron::new(expression).parse().ok().and_then(|c| c.is_time_matching(at).ok()).unwrap_or(false)
}

/// The scheduler: at the start of every minute (UTC, PocketBase's default cron timezone)
/// starts each due job, system and extension ones alike. A job runs on its own task, so a
/// slow one delays neither the others nor the next tick; failures are logged.
pub async fn run_schedule(app: Arc<App>) {
    use chrono::{Timelike, Utc};
    loop {
        let now = Utc::now();
        let Some(tick) = (now + chrono::Duration::minutes(1)).with_second(0).and_then(|t| t.with_nanosecond(0)) else { return };
        let wait = (tick - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        for (id, expression) in list(&app) {
            if !is_due(&expression, &tick) {
                continue;
            }
            let app = app.clone();
            tokio::spawn(async move {
                if let Err(e) = run(&app, &id).await {
                    tracing::warn!("cron job {id} failed: {}", e.message);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_due;
    use chrono::{TimeZone, Utc};

    #[test]
    fn due_expressions() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 6, 0, 0).unwrap(); // a Friday
        for expr in ["* * * * *", "0 * * * *", "0 */6 * * *", "@hourly", "0 6 27 11 5", "0-5 6 * * *", "*/15 * * * *"] {
            assert!(is_due(expr, &at), "{expr} should be due at {at}");
        }
        for expr in ["1 * * * *", "0 0 * * *", "0 */5 * * *", "0 6 * * 1", "invalid", "", "@weekly", "@daily"] {
            assert!(!is_due(expr, &at), "{expr} should not be due at {at}");
        }
    }
}
