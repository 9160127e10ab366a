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

/// glibc gives free memory at the top of a heap back to the kernel once it exceeds 128 KiB
/// (and grows that limit only for mmapped chunks). A request's buffers and boxed futures
/// cross it, so the worker's heap shrank and grew on every request, each time faulting in
/// freshly zeroed pages (~7% of perf samples under a JS hook route load, in
/// `clear_page_erms`; gone with this). Keep a few MiB per arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() {
    tune_malloc();
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
