//! A small dedicated thread pool for password hashing and verification.
//!
//! Hashing costs tens of milliseconds of CPU (and 19 MiB of memory for argon2id), so it must
//! neither run on the async workers nor fan out without bound: a burst of sign-ups would
//! otherwise block request handling and leave hundreds of MiB in the allocator. The pool has one
//! thread per CPU; callers wait asynchronously for their turn.

use crossbeam_channel::{unbounded, Sender};
use std::sync::OnceLock;
use tokio::sync::oneshot;

use crate::error::{ApiError, ApiResult};

type Job = Box<dyn FnOnce() + Send>;

fn pool() -> &'static Sender<Job> {
    static POOL: OnceLock<Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = unbounded::<Job>();
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
        for i in 0..n {
            let rx = rx.clone();
            let _ = std::thread::Builder::new().name(format!("password-hasher-{i}")).spawn(move || {
                for job in rx {
                    job();
                }
            });
        }
        tx
    })
}

async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    pool().send(job).map_err(|_| ApiError::internal("the password hasher is not running"))?;
    rx.await.map_err(|_| ApiError::internal("password hashing failed"))
}

/// Hashes on the pool (see [`super::password::hash`]).
pub async fn hash(plain: String, bcrypt_cost: u32) -> ApiResult<String> {
    run(move || super::password::hash(&plain, bcrypt_cost)).await
}

/// Verifies on the pool (see [`super::password::verify`]); any failure is a mismatch.
pub async fn verify(plain: String, stored: String) -> bool {
    run(move || super::password::verify(&plain, &stored)).await.unwrap_or(false)
}

/// Spends one verification's worth of work, for sign-in attempts on unknown identities so
/// their timing matches known ones.
pub async fn verify_dummy(plain: String) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _ = run(move || {
        let stored = DUMMY.get_or_init(|| super::password::hash("pocketbun-timing-equaliser", 0));
        super::password::verify(&plain, stored)
    })
    .await;
}
