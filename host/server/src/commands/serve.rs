//! `pocketbun serve`: bootstrap, installer link, HTTP server with graceful shutdown.

use axum::serve::ListenerExt;
use pocketbun_core::auth::new_auth_token;
use pocketbun_core::superusers::{self, INSTALLER_EMAIL};
use pocketbun_core::util::{random_string, ALPHANUMERIC};
use std::sync::Arc;

use crate::cli::{GlobalFlags, ServeArgs};
use crate::http::{router, ServerOptions, ServerState};

/// PocketBase's installer: with no real superuser, a placeholder account gets a static
/// 30-minute token that the dashboard's install page exchanges for the first superuser.
fn installer_link(app: &pocketbun_core::App, base_url: &str) -> Result<Option<String>, String> {
    if superusers::count(app).map_err(|e| e.message)? > 0 {
        return Ok(None);
    }
    let rec = match superusers::find_by_email(app, INSTALLER_EMAIL).map_err(|e| e.message)? {
        Some(r) => r,
        None => superusers::create(app, INSTALLER_EMAIL, &random_string(30, ALPHANUMERIC))?,
    };
    let token = new_auth_token(&rec, false, Some(30 * 60));
    Ok(Some(format!("{base_url}/_/#/pbinstall/{token}")))
}

pub fn run(g: &GlobalFlags, args: ServeArgs) -> Result<(), String> {
    let app = super::bootstrap(g)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    // the pending pb_migrations run before anything is served, as in PocketBase
    rt.block_on(crate::migrations::run_pending(g, &app))?;
    let addr = if args.http.is_empty() { "127.0.0.1:8090".to_string() } else { args.http.clone() };
    let host = if addr.starts_with(':') { format!("127.0.0.1{addr}") } else { addr.clone() };
    let base_url = format!("http://{host}");
    if let Some(link) = installer_link(&app, &base_url)? {
        println!("\n(!) Launch the URL below in the browser if it hasn't been open already to create your first superuser account:");
        println!("{link}");
        let exe = std::env::args().next().unwrap_or_else(|| "pocketbun".into());
        println!("(you can also create your first superuser by running: {exe} superuser upsert EMAIL PASS)\n");
    }
    let public_dir = g.public_dir();
    rt.block_on(async move {
        let plugins = crate::plugins::load(g, &app).await?;
        crate::plugins::lifecycle(&plugins, "bootstrap", serde_json::json!({})).await.map_err(|e| format!("onBootstrap: {}", e.message))?;
        let lifecycle_plugins = plugins.clone();
        let state = ServerState::new(ServerOptions {
            app: crate::plugins::app_state(g, &app, plugins),
            public_dir: public_dir.is_dir().then(|| Arc::new(public_dir)),
            index_fallback: g.index_fallback,
            origins: Arc::new(args.origins.clone()),
            logs: pocketbun_core::logs::LogWriter::start(app.aux.clone()),
        });
        let listener = tokio::net::TcpListener::bind(&host).await.map_err(|e| format!("failed to listen on {host}: {e}"))?;
        // Nagle would hold a realtime event back until the client ACKs the previous one
        // (up to the peer's delayed-ACK timeout); Go's net/http disables it too.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serve_event = serde_json::json!({"server": {"addr": host}});
        crate::plugins::lifecycle(&lifecycle_plugins, "serve", serve_event).await.map_err(|e| format!("onServe: {}", e.message))?;
        println!("{} Server started at {base_url}", chrono::Local::now().format("%Y/%m/%d %H:%M:%S"));
        println!("├─ REST API:  {base_url}/api/");
        println!("└─ Dashboard: {base_url}/_/");
        tokio::spawn(pocketbun_core::realtime::dispatch::run(app.clone()));
        tokio::spawn(pocketbun_core::crons::run_schedule(app.clone()));
        // /api/oauth2-redirect reaches the realtime clients through this hook
        pocketbun_core::realtime_hook::register(app.realtime.clone());
        let broker = app.realtime.clone();
        let shutdown = async move {
            shutdown_signal().await;
            // PocketBase fires onTerminate on the signal, while the server still runs
            if let Err(e) = crate::plugins::lifecycle(&lifecycle_plugins, "terminate", serde_json::json!({"isRestart": false})).await {
                tracing::error!("onTerminate: {}", e.message);
            }
            // end the SSE streams so the graceful shutdown does not wait for them
            broker.shutdown();
        };
        axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
