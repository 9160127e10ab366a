//! OAuth2 sign-in (rest-api.md §5): the provider list of `auth-methods`,
//! `POST /api/collections/{c}/auth-with-oauth2` and `GET|POST /api/oauth2-redirect`.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::auth::oauth2::{self, apple_names, AuthUser, Provider};
use pocketbun_core::auth::{self as core_auth, save_auth_record_with};
use pocketbun_core::files::InputFile;
use pocketbun_core::model::{Collection, FieldType};
use pocketbun_core::record::service::{self, CreateSteps, WriteInput};
use pocketbun_core::record::Record;
use pocketbun_core::util::{random_string, ALPHANUMERIC};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::record_auth::{auth_collection, auth_response, form_str};
use crate::auth_hooks::{self as hooks, RequestHook};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::form::{read_form, LOAD_FAILED};

/// The realtime topic the all-in-one OAuth2 flow subscribes to.
pub const OAUTH2_TOPIC: &str = "@oauth2";

fn provider_config(c: &Collection, name: &str) -> Option<Value> {
    c.option("oauth2", "providers")
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .cloned()
}

/// The providers listed by `auth-methods` (only when OAuth2 is enabled): a fresh state and
/// PKCE verifier/challenge each, and an auth URL ending in `&redirect_uri=` for the client to
/// complete.
pub fn provider_list(_ctx: &Ctx, c: &Collection) -> Vec<Value> {
    if c.option("oauth2", "enabled").as_bool() != Some(true) {
        return vec![];
    }
    let configs = c.option("oauth2", "providers").as_array().cloned().unwrap_or_default();
    let mut out = vec![];
    for cfg in configs {
        let Some(p) = Provider::from_config(&cfg) else {
            tracing::debug!("Failed to setup OAuth2 provider {:?}", cfg.get("name"));
            continue;
        };
        let name = p.spec.name;
        let state = random_string(30, ALPHANUMERIC);
        let mut params: Vec<(&str, &str)> = vec![];
        if name == "apple" {
            params.push(("response_mode", "form_post"));
        }
        let (mut verifier, mut challenge, mut method) = (String::new(), String::new(), String::new());
        if p.pkce {
            verifier = random_string(43, ALPHANUMERIC);
            challenge = oauth2::s256_challenge(&verifier);
            method = "S256".into();
        }
        if p.pkce {
            params.push(("code_challenge", challenge.as_str()));
            params.push(("code_challenge_method", method.as_str()));
        }
        let url = p.build_auth_url(&state, &params) + "&redirect_uri=";
        let display = if p.display_name.is_empty() { name.to_string() } else { p.display_name.clone() };
        out.push(json!({
            "name": name,
            "displayName": display,
            "logo": p.spec.logo,
            "state": state,
            "authURL": url,
            "authUrl": url,
            "codeVerifier": verifier,
            "codeChallenge": challenge,
            "codeChallengeMethod": method,
        }));
    }
    out
}

pub async fn auth_with_oauth2(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("oauth2", "enabled").as_bool() != Some(true) {
        return Err(ApiError::forbidden("The collection is not configured to allow OAuth2 authentication.").into());
    }
    let fallback = ctx.auth.clone().filter(|a| a.collection.id == c.id);
    let input = read_form(&ctx, body).await?;
    let (provider_name, code) = (form_str(&input, "provider"), form_str(&input, "code"));
    let code_verifier = form_str(&input, "codeVerifier");
    let mut redirect_url = form_str(&input, "redirectURL");
    if redirect_url.is_empty() {
        redirect_url = form_str(&input, "redirectUrl");
    }
    let create_data = match input.get("createData") {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if !s.is_empty() => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ApiError::bad_request(LOAD_FAILED).into()),
        },
        None | Some(Value::Null) => Map::new(),
        Some(Value::String(_)) => Map::new(),
        Some(_) => return Err(ApiError::bad_request(LOAD_FAILED).into()),
    };
    let mut errs = ValidationErrors::new();
    let cfg = provider_config(&c, &provider_name);
    if provider_name.is_empty() {
        errs.add("provider", FieldError::required());
    } else if provider_name.chars().count() > 100 {
        errs.add("provider", FieldError::new("validation_length_too_long", "The length must be no more than 100.").param("max", 100));
    } else if cfg.is_none() {
        errs.add(
            "provider",
            FieldError::new("validation_invalid_provider", format!("Provider with name {provider_name} is missing or is not enabled."))
                .param("name", provider_name.clone()),
        );
    }
    if code.is_empty() {
        errs.add("code", FieldError::required());
    }
    errs.into_result(LOAD_FAILED)?;

    let cfg = cfg.ok_or_else(|| ApiError::internal("Missing or invalid provider config."))?;
    let mut provider = Provider::from_config(&cfg).ok_or_else(|| ApiError::internal(format!("Failed to init provider {provider_name}")))?;
    provider.redirect_url = redirect_url;

    let token = provider.fetch_token(&code, &code_verifier).await.map_err(|e| {
        tracing::debug!("OAuth2 token exchange failed: {e}");
        ApiError::bad_request("Failed to fetch OAuth2 token.")
    })?;
    let mut user = provider.fetch_auth_user(&token).await.map_err(|e| {
        tracing::debug!("OAuth2 user fetch failed: {e}");
        ApiError::bad_request("Failed to fetch OAuth2 user.")
    })?;
    if provider.spec.name == "apple" && user.name.is_empty() {
        if let Some(name) = apple_names::take(&code) {
            user.name = name;
        }
    }

    // an existing link, the signed-in caller of this collection, or a record with the email
    let (c2, pname, uid) = (c.clone(), provider_name.clone(), user.id.clone());
    let link: Option<(String, String)> = ctx
        .app
        .data
        .read(move |conn| {
            let mut st = conn.prepare(
                "SELECT id, recordRef FROM `_externalAuths` WHERE collectionRef = ?1 AND provider = ?2 AND providerId = ?3 LIMIT 1",
            )?;
            let mut rows = st.query([&c2.id, &pname, &uid])?;
            Ok(match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            })
        })
        .await?;
    let mut record: Option<Record> = None;
    if let Some((_, rec_id)) = &link {
        let (c2, id) = (c.clone(), rec_id.clone());
        let found = ctx.app.data.read(move |conn| pocketbun_core::record::persist::find_by_id(conn, &c2, &id)).await?;
        record = Some(found.ok_or_else(|| ApiError::not_found(""))?);
    } else if let Some(f) = fallback.clone() {
        record = Some(f);
    } else if !user.email.is_empty() {
        record = core_auth::find_by_email(&ctx.app, &c, &user.email).await?;
    }
    // the request hook: handlers may change e.record, e.createData, e.isNewRecord...
    let mut oauth2_user = user.meta_json(false);
    if let Some(m) = oauth2_user.as_object_mut() {
        m.remove("isNew");
    }
    let mut event = Map::new();
    event.insert("providerName".into(), json!(provider_name));
    // PocketBase exposes Go's `OAuth2User` field as `oAuth2User`
    event.insert("oAuth2User".into(), oauth2_user);
    event.insert("createData".into(), Value::Object(create_data.clone()));
    event.insert("isNewRecord".into(), json!(record.is_none()));
    let hook = RequestHook { name: hooks::AUTH_WITH_OAUTH2, collection: &c };
    let (ctx2, c2, input2) = (ctx.clone(), c.clone(), input.clone());
    let link_id = link.map(|l| l.0);
    hooks::around_auth(&ctx, hook, "auth-with-oauth2", &input, record, event, move |flow| async move {
        let create_data = flow.event.get("createData").and_then(Value::as_object).cloned().unwrap_or(create_data);
        let is_new = flow.event.get("isNewRecord").and_then(Value::as_bool).unwrap_or(flow.record.is_none());
        let rec = submit(&ctx2, &c2, &provider_name, &user, flow.record, link_id, create_data).await.map_err(|e| {
            if e.status == 400 && e.message.is_empty() {
                ApiError::bad_request("Failed to authenticate.")
            } else {
                e
            }
        })?;
        let meta = user.meta_json(is_new);
        auth_response(&ctx2, rec, None, "oauth2", &input2, Some(meta)).await
    })
    .await
}

/// PocketBase's oauth2Submit: creates or updates the record and the `_externalAuths` link.
async fn submit(
    ctx: &Ctx,
    c: &Arc<Collection>,
    provider: &str,
    user: &AuthUser,
    record: Option<Record>,
    mut link_id: Option<String>,
    create_data: Map<String, Value>,
) -> Result<Record, ApiError> {
    match record {
        None => {
            if c.is_superusers() {
                return Err(ApiError::bad_request("Failed to authenticate."));
            }
            // the record, its verified state and the link are written in one transaction
            create_record(ctx, c, provider, user, create_data).await
        }
        Some(mut rec) => {
            let mut need_update = false;
            let is_logged = ctx.auth.as_ref().is_some_and(|a| a.id() == rec.id() && a.collection.id == rec.collection.id);
            let verified = rec.get("verified").as_bool().unwrap_or(false);
            if !is_logged && !verified {
                need_update = true;
                let hash = core_auth::random_password_hash(&rec).await?;
                rec.values.insert("password".into(), Value::String(hash));
            }
            // an unverified record keeps at most the new link (pre-hijacking protection)
            let drop_links = !verified;
            if drop_links {
                link_id = None;
            }
            if rec.get_str("email").is_empty() && !user.email.is_empty() {
                need_update = true;
                rec.values.insert("email".into(), Value::String(user.email.clone()));
            }
            let email = rec.get_str("email").to_string();
            if !verified && (email.is_empty() || email == user.email) {
                need_update = true;
                rec.values.insert("verified".into(), Value::Bool(true));
            }
            // the record update and the link changes are one transaction, as in PocketBase
            let identity = link_id.is_none().then(|| (provider.to_string(), user.id.clone()));
            if !need_update && !drop_links && identity.is_none() {
                return Ok(rec);
            }
            let step = core_auth::oauth2_links_step(&ctx.app, drop_links, identity)?;
            if need_update {
                save_auth_record_with(&ctx.app, rec, "Failed to authenticate.", Some(step)).await
            } else {
                core_auth::run_record_step(&ctx.app, rec, step).await
            }
        }
    }
}

/// Whether the OAuth2 username may be assigned to the mapped field (a valid text value that no
/// other record uses yet).
async fn can_assign_username(ctx: &Ctx, c: &Arc<Collection>, field_name: &str, username: &str) -> bool {
    let Some(field) = c.field(field_name) else { return false };
    if field.kind == FieldType::Text && !username.is_empty() && pocketbun_core::record::validate::validate_text(field, username).is_some() {
        return false;
    }
    let Some(index) = pocketbun_core::schema::index::find_single_column_unique_index(&c.indexes, &field.name) else { return true };
    let nocase = index.columns[0].collate.eq_ignore_ascii_case("nocase");
    let (table, col, value) = (c.name.clone(), field.name.clone(), username.to_string());
    ctx.app
        .data
        .read(move |conn| {
            let sql = format!(
                "SELECT 1 FROM {} WHERE {} = ?1{} LIMIT 1",
                pocketbun_core::db::quote_ident(&table),
                pocketbun_core::db::quote_ident(&col),
                if nocase { " COLLATE NOCASE" } else { "" }
            );
            Ok(conn.prepare(&sql)?.exists([&value])?)
        })
        .await
        .map(|exists| !exists)
        .unwrap_or(false)
}

/// PocketBase's OAuth2 sign-up: createData plus the mapped OAuth2 fields (the avatar
/// downloaded into a file field), verified when the email is the OAuth2 one, and the
/// `_externalAuths` link, all in the record's create transaction.
async fn create_record(ctx: &Ctx, c: &Arc<Collection>, provider: &str, user: &AuthUser, create_data: Map<String, Value>) -> Result<Record, ApiError> {
    let mut payload = create_data;
    if payload.get("email").and_then(Value::as_str).unwrap_or_default().is_empty() {
        payload.insert("email".into(), Value::String(user.email.clone()));
    }
    let mapped = |k: &str| c.option("oauth2", "mappedFields").get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (m_id, m_name, m_username, m_avatar) = (mapped("id"), mapped("name"), mapped("username"), mapped("avatarURL"));
    if !m_id.is_empty() && !payload.contains_key(&m_id) {
        payload.insert(m_id, Value::String(user.id.clone()));
    }
    if !m_name.is_empty() && !payload.contains_key(&m_name) {
        payload.insert(m_name, Value::String(user.name.clone()));
    }
    if !m_username.is_empty() && !payload.contains_key(&m_username) && can_assign_username(ctx, c, &m_username, &user.username).await {
        payload.insert(m_username, Value::String(user.username.clone()));
    }
    let mut files = vec![];
    if !m_avatar.is_empty() && !payload.contains_key(&m_avatar) && !user.avatar_url.is_empty() {
        match c.field(&m_avatar) {
            Some(f) if f.kind == FieldType::File => match oauth2::download_avatar(&user.avatar_url).await {
                Ok((name, bytes)) => files.push((m_avatar, vec![InputFile { original_name: name, content: pocketbun_core::files::FileSource::Memory(Arc::new(bytes)) }])),
                Err(e) => tracing::warn!("Failed to retrieve OAuth2 avatar: {e}"),
            },
            _ => {
                payload.insert(m_avatar, Value::String(user.avatar_url.clone()));
            }
        }
    }
    let mut req = ctx.request_info(payload.clone());
    req.context = "oauth2".into();
    req.method = "POST".into();
    let oauth2_email = user.email.clone();
    let steps = CreateSteps {
        // verified as long as the email is the OAuth2 one (even when both are empty)
        before_insert: Some(Box::new(move |rec: &mut Record| {
            if rec.get_str("email") == oauth2_email {
                rec.values.insert("verified".into(), Value::Bool(true));
            }
        })),
        after_insert: Some(core_auth::oauth2_links_step(&ctx.app, false, Some((provider.to_string(), user.id.clone())))?),
    };
    service::create_with(&ctx.app, c.clone(), req, WriteInput { body: payload, files }, steps).await
}

// ---------------------------------------------------------------------------------------------
// /api/oauth2-redirect

const FAILURE_PATH: &str = "../_/#/auth/oauth2-redirect-failure";
const SUCCESS_PATH: &str = "../_/#/auth/oauth2-redirect-success";

fn redirect(is_get: bool, to: &str) -> Response {
    let status = if is_get { StatusCode::TEMPORARY_REDIRECT } else { StatusCode::SEE_OTHER };
    (status, [(header::LOCATION, to.to_string())]).into_response()
}

/// `GET|POST /api/oauth2-redirect`: forwards `{state, code[, error]}` to the realtime client
/// whose id is `state` (subscribed to `@oauth2`), then redirects to the success/failure page.
/// Apple's form_post `user` name is kept for the following `auth-with-oauth2` call.
pub async fn oauth2_redirect(ctx: Ctx, body: Body) -> Response {
    let is_get = ctx.method == "GET";
    let (state, code, error, apple_user) = if is_get {
        (ctx.query.str("state").to_string(), ctx.query.str("code").to_string(), ctx.query.str("error").to_string(), String::new())
    } else {
        match read_form(&ctx, body).await {
            Ok(f) => (form_str(&f, "state"), form_str(&f, "code"), form_str(&f, "error"), form_str(&f, "user")),
            Err(_) => return redirect(false, FAILURE_PATH),
        }
    };
    if state.is_empty() {
        return redirect(is_get, FAILURE_PATH);
    }
    let Some(broker) = pocketbun_core::realtime_hook::broker() else {
        tracing::debug!("no realtime broker registered for the OAuth2 redirect");
        return redirect(is_get, FAILURE_PATH);
    };
    let Some(client_ip) = broker.subscribed_client(&state, OAUTH2_TOPIC) else {
        return redirect(is_get, FAILURE_PATH);
    };
    let finish = |to: &str| {
        broker.unsubscribe(&state, OAUTH2_TOPIC);
        redirect(is_get, to)
    };
    if client_ip.as_deref().is_some_and(|ip| !ip.is_empty() && ip != ctx.real_ip()) {
        return finish(FAILURE_PATH);
    }
    if !apple_user.is_empty() && error.is_empty() && !code.is_empty() {
        apple_names::store_from_redirect(&code, &apple_user);
    }
    let mut data = Map::new();
    data.insert("state".into(), Value::String(state.clone()));
    data.insert("code".into(), Value::String(code.clone()));
    if !error.is_empty() {
        data.insert("error".into(), Value::String(error.clone()));
    }
    broker.send(&state, OAUTH2_TOPIC, &Value::Object(data).to_string());
    if !error.is_empty() || code.is_empty() {
        return finish(FAILURE_PATH);
    }
    finish(SUCCESS_PATH)
}

