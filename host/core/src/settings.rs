//! Application settings: masking for API output, validation of PATCHes and the optional
//! at-rest encryption selected with `--encryptionEnv`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};

/// AES-256-GCM with a 32-byte key; stored form is base64(nonce || ciphertext).
pub struct SettingsCipher {
    cipher: Aes256Gcm,
}

impl SettingsCipher {
    pub fn from_key(key: &str) -> ApiResult<Self> {
        if key.len() != 32 {
            return Err(ApiError::internal("the settings encryption key must be exactly 32 characters"));
        }
        let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Self { cipher })
    }

    pub fn encrypt(&self, plain: &[u8]) -> ApiResult<Vec<u8>> {
        let nonce_bytes: [u8; 12] = rand::random();
        let mut out = nonce_bytes.to_vec();
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plain)
            .map_err(|_| ApiError::internal("settings encryption failed"))?;
        out.extend(ct);
        Ok(base64::engine::general_purpose::STANDARD.encode(out).into_bytes())
    }

    pub fn decrypt(&self, stored: &[u8]) -> ApiResult<Vec<u8>> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(stored)
            .map_err(|_| ApiError::internal("the stored settings are neither JSON nor encrypted"))?;
        if raw.len() < 12 {
            return Err(ApiError::internal("invalid encrypted settings"));
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| ApiError::internal("failed to decrypt the stored settings (wrong key?)"))
    }
}

const SECRET_PATHS: [&[&str]; 3] = [&["smtp", "password"], &["s3", "secret"], &["backups", "s3", "secret"]];

/// The settings as the API returns them: secrets removed.
pub fn masked(settings: &Value) -> Value {
    let mut out = settings.clone();
    for path in SECRET_PATHS {
        if let Some(m) = object_at(&mut out, &path[..path.len() - 1]) {
            m.remove(path[path.len() - 1]);
        }
    }
    out
}

fn rate_limit_label_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^(\w+ /[\w/-]*|/[\w/-]*|\w+:\w+|\*:\w+|\w+)$").expect("static regex")
    })
}

fn object_at<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut node = v;
    for p in path {
        node = node.get_mut(*p)?;
    }
    node.as_object_mut()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |node, key| node.get(*key).unwrap_or(&Value::Null))
}

/// Validates the settings PocketBase validates on save.
pub fn validate(settings: &Value) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    let mut meta = ValidationErrors::new();
    let app_name = s(settings, &["meta", "appName"]).as_str().unwrap_or_default();
    if app_name.is_empty() {
        meta.add("appName", FieldError::required());
    } else if app_name.chars().count() > 255 {
        meta.add("appName", FieldError::new("validation_length_out_of_range", "The length must be between 1 and 255.").param("max", 255).param("min", 1));
    }
    let app_url = s(settings, &["meta", "appURL"]).as_str().unwrap_or_default();
    if app_url.is_empty() {
        meta.add("appURL", FieldError::required());
    } else if !crate::validate::is_url(app_url) {
        meta.add("appURL", FieldError::new("validation_is_url", "Must be a valid URL."));
    }
    if s(settings, &["meta", "senderName"]).as_str().unwrap_or_default().is_empty() {
        meta.add("senderName", FieldError::required());
    }
    let sender = s(settings, &["meta", "senderAddress"]).as_str().unwrap_or_default();
    if sender.is_empty() {
        meta.add("senderAddress", FieldError::required());
    } else if !crate::validate::is_email(sender) {
        meta.add("senderAddress", FieldError::new("validation_is_email", "Must be a valid email address."));
    }
    errs.nest("meta", meta);

    if s(settings, &["smtp", "enabled"]).as_bool() == Some(true) {
        let mut smtp = ValidationErrors::new();
        if s(settings, &["smtp", "host"]).as_str().unwrap_or_default().is_empty() {
            smtp.add("host", FieldError::required());
        }
        if s(settings, &["smtp", "port"]).as_i64().unwrap_or(0) == 0 {
            smtp.add("port", FieldError::required());
        }
        let method = s(settings, &["smtp", "authMethod"]).as_str().unwrap_or_default();
        if !["", "PLAIN", "LOGIN"].contains(&method) {
            smtp.add("authMethod", FieldError::new("validation_in_invalid", "Must be a valid value."));
        }
        errs.nest("smtp", smtp);
    }
    if s(settings, &["s3", "enabled"]).as_bool() == Some(true) {
        let mut s3 = ValidationErrors::new();
        for key in ["bucket", "region", "endpoint", "accessKey", "secret"] {
            if s(settings, &["s3", key]).as_str().unwrap_or_default().is_empty() {
                s3.add(key, FieldError::required());
            }
        }
        errs.nest("s3", s3);
    }
    if s(settings, &["batch", "enabled"]).as_bool() == Some(true) {
        let mut batch = ValidationErrors::new();
        for key in ["maxRequests", "timeout"] {
            if s(settings, &["batch", key]).as_i64().unwrap_or(0) <= 0 {
                batch.add(key, FieldError::required());
            }
        }
        errs.nest("batch", batch);
    }
    let mut rl = ValidationErrors::new();
    if let Some(rules) = s(settings, &["rateLimits", "rules"]).as_array() {
        let mut rules_errs = ValidationErrors::new();
        for (i, rule) in rules.iter().enumerate() {
            let mut re = ValidationErrors::new();
            let label = rule.get("label").and_then(Value::as_str).unwrap_or_default();
            if label.is_empty() {
                re.add("label", FieldError::required());
            } else if !rate_limit_label_re().is_match(label) {
                re.add("label", FieldError::new("validation_match_invalid", "Must be in a valid format."));
            }
            if rule.get("maxRequests").and_then(Value::as_i64).unwrap_or(0) < 1 {
                re.add("maxRequests", FieldError::required());
            }
            if rule.get("duration").and_then(Value::as_i64).unwrap_or(0) < 1 {
                re.add("duration", FieldError::required());
            }
            let aud = rule.get("audience").and_then(Value::as_str).unwrap_or_default();
            if !["", "@guest", "@auth"].contains(&aud) {
                re.add("audience", FieldError::new("validation_in_invalid", "Must be a valid value."));
            }
            rules_errs.nest(i.to_string(), re);
        }
        rl.nest("rules", rules_errs);
    }
    errs.nest("rateLimits", rl);
    errs.into_result("An error occurred while saving the new settings.")
}

/// The shape of the settings document: defaults plus the secret keys and one template item
/// for each array, used to apply PATCHes like Go's json.Unmarshal into the settings struct.
fn template() -> Value {
    let mut t = crate::store::settings::defaults();
    let set = |t: &mut Value, path: &[&str], v: Value| {
        if let Some(m) = object_at(t, &path[..path.len() - 1]) {
            m.insert(path[path.len() - 1].to_string(), v);
        }
    };
    for path in SECRET_PATHS {
        set(&mut t, path, Value::String(String::new()));
    }
    let rule = serde_json::json!([{"label": "", "audience": "", "duration": 0, "maxRequests": 0}]);
    set(&mut t, &["rateLimits", "rules"], rule);
    for path in [&["superuserIPs"][..], &["rateLimits", "excludedIPs"], &["trustedProxy", "headers"]] {
        set(&mut t, path, serde_json::json!([""]));
    }
    t
}

/// Merges `patch` into `target` following `template`'s types: unknown keys are ignored,
/// objects merge key by key, arrays are replaced, a value of the wrong type is an error.
fn merge_typed(target: &mut Value, patch: &Value, template: &Value) -> Result<(), String> {
    if patch.is_null() {
        return Ok(());
    }
    match template {
        Value::Object(t) => {
            let p = patch.as_object().ok_or("expected an object")?;
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            for (k, pv) in p {
                let Some(tv) = t.get(k) else { continue };
                let slot = target.as_object_mut().map(|m| m.entry(k.clone()).or_insert(Value::Null));
                if let Some(slot) = slot {
                    if slot.is_null() {
                        *slot = tv.clone();
                    }
                    merge_typed(slot, pv, tv)?;
                }
            }
        }
        Value::Array(t) => {
            let items = patch.as_array().ok_or("expected an array")?;
            let item_template = t.first().cloned().unwrap_or(Value::String(String::new()));
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let mut v = item_template.clone();
                merge_typed(&mut v, item, &item_template)?;
                out.push(v);
            }
            *target = Value::Array(out);
        }
        Value::Bool(_) if patch.is_boolean() => *target = patch.clone(),
        Value::Number(_) if patch.is_number() => *target = patch.clone(),
        Value::String(_) if patch.is_string() => *target = patch.clone(),
        _ => return Err("invalid value type".into()),
    }
    Ok(())
}

/// Applies a PATCH body (deep merge, arrays replaced, unknown keys ignored). Secrets not sent,
/// or sent empty, keep their stored value (the dashboard never has it to send back).
pub fn apply_patch(current: &Value, patch: &Map<String, Value>) -> Result<Value, String> {
    let mut next = current.clone();
    merge_typed(&mut next, &Value::Object(patch.clone()), &template())?;
    for path in SECRET_PATHS {
        let new_empty = s(&next, path).as_str().map(str::is_empty).unwrap_or(true);
        let old_v = s(current, path).clone();
        if new_empty {
            if let Some(m) = object_at(&mut next, &path[..path.len() - 1]) {
                if old_v.as_str().is_some_and(|o| !o.is_empty()) {
                    m.insert(path[path.len() - 1].to_string(), old_v);
                } else {
                    m.remove(path[path.len() - 1]);
                }
            }
        }
    }
    Ok(next)
}

/// The settings as a model of PocketBase's generic model hooks (`onModelUpdate`,
/// `onModelValidate`, `onModelUpdateExecute`, `onModelAfterUpdateSuccess|Error`, tag
/// `_params`), with the settings JSON as `e.model`.
#[derive(Clone)]
struct SettingsModel(Value);

impl crate::model_hooks::HookedModel for SettingsModel {
    const KEY: &'static str = "model";

    fn export(&self) -> Value {
        self.0.clone()
    }

    /// A handler's changes merge like a PATCH (so secrets a handler's JSON left out stay).
    fn apply(model: crate::model_hooks::Shared<Self>, exported: Value, value: Value) -> crate::hooks::HookFuture<ApiResult<()>> {
        Box::pin(async move {
            if value == exported {
                return Ok(());
            }
            let Some(patch) = value.as_object() else { return Ok(()) };
            let current = model.lock().0.clone();
            let next = apply_patch(&current, patch).map_err(|_| ApiError::bad_request("Failed to load the submitted data due to invalid formatting."))?;
            model.lock().0 = next;
            Ok(())
        })
    }
}

const SETTINGS_TABLE: &str = "_params";

const UPDATE_HOOKS: crate::model_hooks::Names = crate::model_hooks::Names {
    outer: "model-update",
    validate: Some("model-validate"),
    execute: "model-update-execute",
    success: "model-after-update-success",
    error: "model-after-update-error",
};

/// Validates and stores new settings in `db` (the app's database or an open transaction),
/// makes them the app's settings and fires `onSettingsReload`, as PocketBase does after
/// every settings save (`PATCH /api/settings`, `$app.save(settings)`). The save runs the
/// generic model hooks of table `_params` around it, as PocketBase's settings model does.
pub async fn save(app: &crate::App, db: &crate::db::DbScope, next: Value) -> ApiResult<()> {
    let cipher = app.cipher();
    let db = db.clone();
    // (a handler may end the chain without the write: then nothing changes)
    let written = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = written.clone();
    let write = move |m: SettingsModel| -> crate::hooks::HookFuture<ApiResult<SettingsModel>> {
        Box::pin(async move {
            let to_store = m.0.clone();
            db.write(move |conn| crate::store::settings::save(conn, &to_store, cipher.as_deref())).await?;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(m)
        })
    };
    let tags = [SETTINGS_TABLE.to_string(), SETTINGS_TABLE.to_string()];
    let stored = match crate::model_hooks::chain::<SettingsModel>(&app.hooks, tags, "update", &UPDATE_HOOKS) {
        None => {
            validate(&next)?;
            write(SettingsModel(next)).await?
        }
        Some(chain) => {
            let check: crate::model_hooks::Step<SettingsModel> = Box::new(|m| {
                let r = validate(&m.lock().0);
                Box::pin(async move { r })
            });
            chain.run(SettingsModel(next), &UPDATE_HOOKS, Some(check), Box::new(write)).await?
        }
    };
    if written.load(std::sync::atomic::Ordering::SeqCst) {
        app.set_settings(stored.0);
        reload_hook(app).await;
    }
    Ok(())
}

/// `onSettingsReload`: after the settings were (re)loaded; handlers only observe (a
/// failure is logged).
pub async fn reload_hook(app: &crate::App) {
    let Some(hooks) = app.hooks.get() else { return };
    if let Err(e) = crate::hooks::notify(&hooks, "settings-reload", &[], || serde_json::json!({})).await {
        tracing::warn!("onSettingsReload failed: {}", e.message);
    }
}
