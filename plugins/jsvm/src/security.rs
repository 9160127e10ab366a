//! `$security`'s primitives, computed inside the guest (no host round trip): hashes,
//! HMACs, constant-time comparison, random strings (WASI randomness), base64url for JWTs
//! and AES-256-GCM in PocketBase's format (base64(nonce || ciphertext || tag)). Exposed
//! to the shim as the global `__crypto`; `sdk-js-shim/security.js` builds the API on it.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::digest::KeyInit as HmacKeyInit;
use hmac::{Hmac, Mac};
use md5::Md5;
use rquickjs::{Ctx, Exception, Function, Object, Result};
use sha2::{Digest, Sha256, Sha512};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_bytes<M: Mac + HmacKeyInit>(text: &str, secret: &str) -> Vec<u8> {
    let mut m = <M as HmacKeyInit>::new_from_slice(secret.as_bytes()).expect("hmac takes any key length");
    m.update(text.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("WASI random_get");
    buf
}

/// `length` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(length: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let n = chars.len() as u32;
    let limit = u32::MAX - (u32::MAX % n);
    let mut out = String::with_capacity(length);
    let mut count = 0;
    while count < length {
        for chunk in random_bytes(4 * (length - count + 4)).chunks_exact(4) {
            let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            if v < limit {
                out.push(chars[(v % n) as usize]);
                count += 1;
                if count == length {
                    break;
                }
            }
        }
    }
    out
}

fn cipher(ctx: &Ctx<'_>, key: &str) -> Result<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key.as_bytes())
        .map_err(|_| Exception::throw_message(ctx, &format!("crypto/aes: invalid key size {}", key.len())))
}

fn encrypt(ctx: Ctx<'_>, data: String, key: String) -> Result<String> {
    let c = cipher(&ctx, &key)?;
    let nonce = random_bytes(12);
    let sealed = c
        .encrypt(Nonce::from_slice(&nonce), data.as_bytes())
        .map_err(|_| Exception::throw_message(&ctx, "cipher: encryption failed"))?;
    let mut out = nonce;
    out.extend_from_slice(&sealed);
    Ok(STANDARD.encode(out))
}

fn decrypt(ctx: Ctx<'_>, text: String, key: String) -> Result<String> {
    let c = cipher(&ctx, &key)?;
    let raw = STANDARD.decode(text.as_bytes()).map_err(|e| Exception::throw_message(&ctx, &format!("illegal base64 data: {e}")))?;
    if raw.len() < 12 {
        return Err(Exception::throw_message(&ctx, "cipher: message authentication failed"));
    }
    let (nonce, sealed) = raw.split_at(12);
    let plain = c
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| Exception::throw_message(&ctx, "cipher: message authentication failed"))?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// Constant time in the contents (Go's `subtle.ConstantTimeCompare`: lengths may leak).
fn equal(a: String, b: String) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn b64url_decode(ctx: Ctx<'_>, s: String) -> Result<String> {
    let raw = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('=').as_bytes())
        .map_err(|e| Exception::throw_message(&ctx, &format!("illegal base64 data: {e}")))?;
    String::from_utf8(raw).map_err(|_| Exception::throw_message(&ctx, "invalid UTF-8 in decoded data"))
}

pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let o = Object::new(ctx.clone())?;
    o.set("md5", Function::new(ctx.clone(), |s: String| hex(&Md5::digest(s.as_bytes())))?)?;
    o.set("sha256", Function::new(ctx.clone(), |s: String| hex(&Sha256::digest(s.as_bytes())))?)?;
    o.set("sha512", Function::new(ctx.clone(), |s: String| hex(&Sha512::digest(s.as_bytes())))?)?;
    o.set("hs256", Function::new(ctx.clone(), |s: String, k: String| hex(&hmac_bytes::<Hmac<Sha256>>(&s, &k)))?)?;
    o.set("hs512", Function::new(ctx.clone(), |s: String, k: String| hex(&hmac_bytes::<Hmac<Sha512>>(&s, &k)))?)?;
    o.set(
        "hs256Base64Url",
        Function::new(ctx.clone(), |s: String, k: String| URL_SAFE_NO_PAD.encode(hmac_bytes::<Hmac<Sha256>>(&s, &k)))?,
    )?;
    o.set("base64UrlEncode", Function::new(ctx.clone(), |s: String| URL_SAFE_NO_PAD.encode(s.as_bytes()))?)?;
    o.set("base64UrlDecode", Function::new(ctx.clone(), b64url_decode)?)?;
    o.set("equal", Function::new(ctx.clone(), equal)?)?;
    o.set("randomString", Function::new(ctx.clone(), |n: f64, alphabet: String| random_string(n.max(0.0) as usize, &alphabet))?)?;
    o.set("encrypt", Function::new(ctx.clone(), encrypt)?)?;
    o.set("decrypt", Function::new(ctx.clone(), decrypt)?)?;
    ctx.globals().set("__crypto", o)
}
