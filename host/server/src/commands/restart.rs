//! Restarting the server in place (after a backup restore), as PocketBase does: the process
//! image is replaced by a fresh start of the same binary with the same arguments.

/// Replaces the process with a new start of itself; returns only the error when that fails.
pub fn exec_self() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return e,
    };
    tracing::info!("restarting {}", exe.display());
    std::process::Command::new(exe).args(std::env::args_os().skip(1)).exec()
}
