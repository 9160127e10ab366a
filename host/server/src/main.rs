//! `pocketbun`: a PocketBase-compatible backend in one binary.

mod apis;
mod batch_hooks;
mod cli;
mod commands;
mod http;
mod migrations;
mod auth_hooks;
mod plugin_hooks;
mod plugins;
mod realtime_hooks;
mod record_hooks;
mod request_hooks;

use clap::{CommandFactory, Parser};

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("{} {msg}", chrono::Local::now().format("%Y/%m/%d %H:%M:%S"));
    std::process::exit(1);
}

/// mimalloc instead of glibc malloc: a request allocates and frees many small buffers and
/// boxed futures across the worker threads; glibc spent ~10% of the server's CPU on them
/// (malloc, `_int_free`, `malloc_consolidate`) under a JS hook route load, and returned
/// heap tops to the kernel only to fault them back in on the next request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::Cli::parse();
    if cli.version {
        println!("pocketbun version {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("POCKETBUN_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if cli.global.dev { "debug" } else { "warn" })
        }))
        .with_writer(std::io::stderr)
        .init();
    pocketbun_core::auth::password::configure_from_env();
    let result = match cli.command {
        None => {
            let _ = cli::Cli::command().print_help();
            Ok(())
        }
        Some(cli::Command::Serve(args)) => commands::serve::run(&cli.global, args),
        Some(cli::Command::Migrate { args }) => commands::migrate::run(&cli.global, args),
        Some(cli::Command::Superuser { action }) => commands::superuser::run(&cli.global, action),
    };
    if let Err(e) = result {
        fail(e);
    }
}
