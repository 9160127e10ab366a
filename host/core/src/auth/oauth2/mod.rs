//! OAuth2 providers (auth.md §6): a data-driven registry of PocketBase's providers with
//! their default endpoints, scopes, PKCE flag, display name, list order and logo, plus the
//! per-provider mapping of the user info JSON to an [`AuthUser`].
//!
//! Every endpoint can be overridden by the collection's provider config (`authURL`,
//! `tokenURL`, `userInfoURL`), which is how the SDK tests point each provider at a mock on
//! loopback. Apple and OIDC additionally honour `extra.jwksURL` (PocketBase's OIDC does; for
//! Apple it is a PocketBun extension since PocketBase hardcodes Apple's key set URL).
//!
//! The logos are simple SVGs written for PocketBun (a brand-coloured badge with the initial),
//! not PocketBase's artwork.

pub mod apple_secret;
mod client;
mod user;

pub use client::{download_avatar, Token};
pub use user::AuthUser;

use serde_json::{Map, Value};

/// How a provider turns its responses into an [`AuthUser`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Oidc,
    Google,
    Github,
    Microsoft,
    Apple,
    Discord,
    Gitlab,
    Facebook,
    Yandex,
    Gitea,
    Spotify,
    Strava,
    Box,
    Wakatime,
    Livechat,
    Kakao,
    Twitch,
    Patreon,
    Trakt,
    Mailcow,
    Notion,
    Instagram,
    Bitbucket,
    Gitee,
    Twitter,
    Vk,
    Linear,
    Monday,
    Lark,
    Planningcenter,
}

/// The built-in defaults of one provider name.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub display_name: &'static str,
    pub order: i32,
    pub pkce: bool,
    pub scopes: &'static [&'static str],
    pub auth_url: &'static str,
    pub token_url: &'static str,
    pub user_info_url: &'static str,
    pub logo: &'static str,
    pub kind: Kind,
}

macro_rules! logo {
    ($color:literal, $letter:literal) => {
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256"><circle cx="128" cy="128" r="128" fill=""##,
            $color,
            r##""/><text x="128" y="170" font-family="Arial,sans-serif" font-size="96" font-weight="bold" text-anchor="middle" fill="#fff">"##,
            $letter,
            "</text></svg>"
        )
    };
}

const OIDC_LOGO: &str = logo!("#ff6200", "ID");

const fn oidc(name: &'static str) -> Spec {
    Spec {
        name,
        display_name: "OIDC",
        order: 99,
        pkce: true,
        scopes: &["openid", "email", "profile"],
        auth_url: "",
        token_url: "",
        user_info_url: "",
        logo: OIDC_LOGO,
        kind: Kind::Oidc,
    }
}

/// Apple's JSON Web Key Set (used to verify its id_tokens).
pub const APPLE_JWKS_URL: &str = "https://appleid.apple.com/auth/keys";

static SPECS: &[Spec] = &[
    Spec {
        name: "apple",
        display_name: "Apple",
        order: 1,
        pkce: true,
        scopes: &["name", "email"],
        auth_url: "https://appleid.apple.com/auth/authorize",
        token_url: "https://appleid.apple.com/auth/token",
        user_info_url: "",
        logo: logo!("#000000", "A"),
        kind: Kind::Apple,
    },
    Spec {
        name: "google",
        display_name: "Google",
        order: 2,
        pkce: true,
        scopes: &["https://www.googleapis.com/auth/userinfo.profile", "https://www.googleapis.com/auth/userinfo.email"],
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        user_info_url: "https://www.googleapis.com/oauth2/v3/userinfo",
        logo: logo!("#4285f4", "G"),
        kind: Kind::Google,
    },
    Spec {
        name: "microsoft",
        display_name: "Microsoft",
        order: 3,
        pkce: true,
        scopes: &["User.Read"],
        auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        user_info_url: "https://graph.microsoft.com/v1.0/me",
        logo: logo!("#00adef", "M"),
        kind: Kind::Microsoft,
    },
    Spec {
        name: "facebook",
        display_name: "Facebook",
        order: 5,
        pkce: true,
        scopes: &["email"],
        auth_url: "https://www.facebook.com/v3.2/dialog/oauth",
        token_url: "https://graph.facebook.com/v3.2/oauth/access_token",
        user_info_url: "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
        logo: logo!("#1877f2", "f"),
        kind: Kind::Facebook,
    },
    Spec {
        name: "github",
        display_name: "GitHub",
        order: 7,
        pkce: true,
        scopes: &["read:user", "user:email"],
        auth_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        user_info_url: "https://api.github.com/user",
        logo: logo!("#161614", "GH"),
        kind: Kind::Github,
    },
    Spec {
        name: "gitlab",
        display_name: "GitLab",
        order: 8,
        pkce: true,
        scopes: &["read_user"],
        auth_url: "https://gitlab.com/oauth/authorize",
        token_url: "https://gitlab.com/oauth/token",
        user_info_url: "https://gitlab.com/api/v4/user",
        logo: logo!("#fc6d26", "GL"),
        kind: Kind::Gitlab,
    },
    Spec {
        name: "discord",
        display_name: "Discord",
        order: 12,
        pkce: true,
        scopes: &["identify", "email"],
        auth_url: "https://discord.com/api/oauth2/authorize",
        token_url: "https://discord.com/api/oauth2/token",
        user_info_url: "https://discord.com/api/users/@me",
        logo: logo!("#5865f2", "D"),
        kind: Kind::Discord,
    },
    Spec {
        name: "yandex",
        display_name: "Yandex",
        order: 4,
        pkce: true,
        scopes: &["login:email", "login:avatar", "login:info"],
        auth_url: "https://oauth.yandex.com/authorize",
        token_url: "https://oauth.yandex.com/token",
        user_info_url: "https://login.yandex.ru/info",
        logo: logo!("#fc3f1d", "Y"),
        kind: Kind::Yandex,
    },
    Spec {
        name: "gitea",
        display_name: "Gitea/Forgejo",
        order: 11,
        pkce: true,
        scopes: &["read:user", "user:email"],
        auth_url: "https://gitea.com/login/oauth/authorize",
        token_url: "https://gitea.com/login/oauth/access_token",
        user_info_url: "https://gitea.com/api/v1/user",
        logo: logo!("#609926", "G"),
        kind: Kind::Gitea,
    },
    Spec {
        name: "spotify",
        display_name: "Spotify",
        order: 21,
        pkce: true,
        scopes: &["user-read-private"],
        auth_url: "https://accounts.spotify.com/authorize",
        token_url: "https://accounts.spotify.com/api/token",
        user_info_url: "https://api.spotify.com/v1/me",
        logo: logo!("#1ed760", "S"),
        kind: Kind::Spotify,
    },
    Spec {
        name: "strava",
        display_name: "Strava",
        order: 25,
        pkce: true,
        scopes: &["profile:read_all"],
        auth_url: "https://www.strava.com/oauth/authorize",
        token_url: "https://www.strava.com/api/v3/oauth/token",
        user_info_url: "https://www.strava.com/api/v3/athlete",
        logo: logo!("#fc4c02", "S"),
        kind: Kind::Strava,
    },
    Spec {
        name: "kakao",
        display_name: "Kakao",
        order: 14,
        pkce: true,
        scopes: &["account_email", "profile_nickname", "profile_image"],
        auth_url: "https://kauth.kakao.com/oauth/authorize",
        token_url: "https://kauth.kakao.com/oauth/token",
        user_info_url: "https://kapi.kakao.com/v2/user/me",
        logo: logo!("#fee500", "K"),
        kind: Kind::Kakao,
    },
    Spec {
        name: "notion",
        display_name: "Notion",
        order: 17,
        pkce: true,
        scopes: &[],
        auth_url: "https://api.notion.com/v1/oauth/authorize",
        token_url: "https://api.notion.com/v1/oauth/token",
        user_info_url: "https://api.notion.com/v1/users/me",
        logo: logo!("#000000", "N"),
        kind: Kind::Notion,
    },
    Spec {
        name: "box",
        display_name: "Box",
        order: 20,
        pkce: true,
        scopes: &["root_readonly"],
        auth_url: "https://account.box.com/api/oauth2/authorize",
        token_url: "https://api.box.com/oauth2/token",
        user_info_url: "https://api.box.com/2.0/users/me",
        logo: logo!("#0061d5", "B"),
        kind: Kind::Box,
    },
    Spec {
        name: "wakatime",
        display_name: "WakaTime",
        order: 26,
        pkce: true,
        scopes: &["email"],
        auth_url: "https://wakatime.com/oauth/authorize",
        token_url: "https://wakatime.com/oauth/token",
        user_info_url: "https://wakatime.com/api/v1/users/current",
        logo: logo!("#2f2f2f", "W"),
        kind: Kind::Wakatime,
    },
    Spec {
        name: "livechat",
        display_name: "LiveChat",
        order: 27,
        pkce: true,
        scopes: &[],
        auth_url: "https://accounts.livechat.com/",
        token_url: "https://accounts.livechat.com/token",
        user_info_url: "https://accounts.livechat.com/v2/accounts/me",
        logo: logo!("#ff5100", "L"),
        kind: Kind::Livechat,
    },
    Spec {
        name: "trakt",
        display_name: "Trakt",
        order: 22,
        pkce: true,
        scopes: &[],
        auth_url: "https://trakt.tv/oauth/authorize",
        token_url: "https://api.trakt.tv/oauth/token",
        user_info_url: "https://api.trakt.tv/users/settings",
        logo: logo!("#ed1c24", "T"),
        kind: Kind::Trakt,
    },
    Spec {
        name: "twitch",
        display_name: "Twitch",
        order: 23,
        pkce: true,
        scopes: &["user:read:email"],
        auth_url: "https://id.twitch.tv/oauth2/authorize",
        token_url: "https://id.twitch.tv/oauth2/token",
        user_info_url: "https://api.twitch.tv/helix/users",
        logo: logo!("#9146ff", "T"),
        kind: Kind::Twitch,
    },
    Spec {
        name: "patreon",
        display_name: "Patreon",
        order: 24,
        pkce: true,
        scopes: &["identity", "identity[email]"],
        auth_url: "https://www.patreon.com/oauth2/authorize",
        token_url: "https://www.patreon.com/api/oauth2/token",
        user_info_url: "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified",
        logo: logo!("#000000", "P"),
        kind: Kind::Patreon,
    },
    Spec {
        name: "mailcow",
        display_name: "mailcow",
        order: 28,
        pkce: true,
        scopes: &["profile"],
        auth_url: "",
        token_url: "",
        user_info_url: "",
        logo: logo!("#0a6ebd", "m"),
        kind: Kind::Mailcow,
    },
    Spec {
        name: "instagram2",
        display_name: "Instagram",
        order: 6,
        pkce: true,
        scopes: &["instagram_business_basic"],
        auth_url: "https://www.instagram.com/oauth/authorize",
        token_url: "https://api.instagram.com/oauth/access_token",
        user_info_url: "https://graph.instagram.com/me?fields=id,username,account_type,user_id,name,profile_picture_url,followers_count,follows_count,media_count",
        logo: logo!("#e1306c", "I"),
        kind: Kind::Instagram,
    },
    Spec {
        name: "bitbucket",
        display_name: "Bitbucket",
        order: 9,
        pkce: false,
        scopes: &["account"],
        auth_url: "https://bitbucket.org/site/oauth2/authorize",
        token_url: "https://bitbucket.org/site/oauth2/access_token",
        user_info_url: "https://api.bitbucket.org/2.0/user",
        logo: logo!("#2684ff", "B"),
        kind: Kind::Bitbucket,
    },
    Spec {
        name: "gitee",
        display_name: "Gitee",
        order: 10,
        pkce: true,
        scopes: &["user_info", "emails"],
        auth_url: "https://gitee.com/oauth/authorize",
        token_url: "https://gitee.com/oauth/token",
        user_info_url: "https://gitee.com/api/v5/user",
        logo: logo!("#c71d23", "G"),
        kind: Kind::Gitee,
    },
    Spec {
        name: "twitter",
        display_name: "X/Twitter",
        order: 13,
        pkce: true,
        scopes: &["users.read", "users.email", "tweet.read"],
        auth_url: "https://x.com/i/oauth2/authorize",
        token_url: "https://api.x.com/2/oauth2/token",
        user_info_url: "https://api.x.com/2/users/me?user.fields=id,name,username,profile_image_url,confirmed_email",
        logo: logo!("#000000", "X"),
        kind: Kind::Twitter,
    },
    Spec {
        name: "vk",
        display_name: "ВКонтакте",
        order: 15,
        // VK rejects requests with PKCE parameters
        pkce: false,
        scopes: &["email"],
        auth_url: "https://oauth.vk.com/authorize",
        token_url: "https://oauth.vk.com/access_token",
        user_info_url: "https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131",
        logo: logo!("#0077ff", "VK"),
        kind: Kind::Vk,
    },
    Spec {
        name: "linear",
        display_name: "Linear",
        order: 16,
        // Linear answers with an error when PKCE is used
        pkce: false,
        scopes: &["read"],
        auth_url: "https://linear.app/oauth/authorize",
        token_url: "https://api.linear.app/oauth/token",
        user_info_url: "https://api.linear.app/graphql",
        logo: logo!("#222326", "L"),
        kind: Kind::Linear,
    },
    Spec {
        name: "monday",
        display_name: "monday.com",
        order: 18,
        pkce: true,
        scopes: &["me:read"],
        auth_url: "https://auth.monday.com/oauth2/authorize",
        token_url: "https://auth.monday.com/oauth2/token",
        user_info_url: "https://api.monday.com/v2",
        logo: logo!("#fb275d", "m"),
        kind: Kind::Monday,
    },
    Spec {
        name: "lark",
        display_name: "Lark",
        order: 19,
        pkce: true,
        scopes: &[],
        auth_url: "https://accounts.feishu.cn/open-apis/authen/v1/authorize",
        token_url: "https://open.feishu.cn/open-apis/authen/v2/oauth/token",
        user_info_url: "https://open.feishu.cn/open-apis/authen/v1/user_info",
        logo: logo!("#3370ff", "L"),
        kind: Kind::Lark,
    },
    Spec {
        name: "planningcenter",
        display_name: "Planning Center",
        order: 29,
        pkce: true,
        scopes: &["people"],
        auth_url: "https://api.planningcenteronline.com/oauth/authorize",
        token_url: "https://api.planningcenteronline.com/oauth/token",
        user_info_url: "https://api.planningcenteronline.com/people/v2/me",
        logo: logo!("#2565f4", "PC"),
        kind: Kind::Planningcenter,
    },
    oidc("oidc"),
    oidc("oidc2"),
    oidc("oidc3"),
];

/// The known provider names (unsorted registry order).
pub fn specs() -> &'static [Spec] {
    SPECS
}

pub fn find_spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// `GET /api/collections/meta/oauth2-providers`: every provider sorted by order, then name.
pub fn provider_list() -> Vec<Value> {
    let mut list: Vec<&Spec> = SPECS.iter().collect();
    list.sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(b.name)));
    list.iter()
        .map(|s| serde_json::json!({"name": s.name, "displayName": s.display_name, "logo": s.logo}))
        .collect()
}

/// A provider initialised from a collection's `oauth2.providers[]` entry.
#[derive(Debug, Clone)]
pub struct Provider {
    pub spec: &'static Spec,
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: String,
    pub token_url: String,
    pub user_info_url: String,
    pub display_name: String,
    pub pkce: bool,
    pub scopes: Vec<String>,
    pub extra: Map<String, Value>,
    pub redirect_url: String,
}

fn cfg_str(cfg: &Value, key: &str) -> String {
    cfg.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Provider {
    /// `InitProvider`: the registry defaults overridden by the non-empty config values.
    pub fn from_config(cfg: &Value) -> Option<Provider> {
        let spec = find_spec(cfg.get("name")?.as_str()?)?;
        let pick = |key: &str, default: &str| {
            let v = cfg_str(cfg, key);
            if v.is_empty() {
                default.to_string()
            } else {
                v
            }
        };
        let mut p = Provider {
            spec,
            client_id: cfg_str(cfg, "clientId"),
            client_secret: cfg_str(cfg, "clientSecret"),
            auth_url: pick("authURL", spec.auth_url),
            token_url: pick("tokenURL", spec.token_url),
            user_info_url: pick("userInfoURL", spec.user_info_url),
            display_name: pick("displayName", spec.display_name),
            pkce: cfg.get("pkce").and_then(Value::as_bool).unwrap_or(spec.pkce),
            scopes: spec.scopes.iter().map(|s| s.to_string()).collect(),
            extra: cfg.get("extra").and_then(Value::as_object).cloned().unwrap_or_default(),
            redirect_url: String::new(),
        };
        if spec.kind == Kind::Microsoft
            && !p.extra_str("idTokenEmailClaim").is_empty()
            && !p.scopes.iter().any(|s| s == "openid")
        {
            p.scopes.push("openid".into());
        }
        Some(p)
    }

    pub fn extra_str(&self, key: &str) -> String {
        match self.extra.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        }
    }

    /// The authorization URL (golang.org/x/oauth2's AuthCodeURL: sorted, query-escaped params).
    pub fn build_auth_url(&self, state: &str, extra_params: &[(&str, &str)]) -> String {
        let mut params: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id.clone()),
            ("state".into(), state.into()),
        ];
        if !self.redirect_url.is_empty() {
            params.push(("redirect_uri".into(), self.redirect_url.clone()));
        }
        if !self.scopes.is_empty() {
            params.push(("scope".into(), self.scopes.join(" ")));
        }
        for (k, v) in extra_params {
            params.retain(|(pk, _)| pk.as_str() != *k);
            params.push(((*k).into(), (*v).into()));
        }
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let query = params.iter().map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v))).collect::<Vec<_>>().join("&");
        let sep = if self.auth_url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{query}", self.auth_url)
    }
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The S256 PKCE challenge of a verifier (base64url without padding of its SHA-256).
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The Apple sign-in name forwarded by `oauth2-redirect` (form_post `user` field), kept for a
/// minute under the authorization code so that `auth-with-oauth2` can use it.
pub mod apple_names {
    use parking_lot::Mutex;
    use std::collections::HashMap;
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    fn store() -> &'static Mutex<HashMap<String, (String, Instant)>> {
        static S: OnceLock<Mutex<HashMap<String, (String, Instant)>>> = OnceLock::new();
        S.get_or_init(Default::default)
    }

    /// Parses Apple's `{"name":{"firstName":…,"lastName":…}}` and stores the full name.
    pub fn store_from_redirect(code: &str, user_json: &str) {
        if user_json.is_empty() || code.len() > 1000 {
            return;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(user_json) else { return };
        let part = |k: &str| v.get("name").and_then(|n| n.get(k)).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        let mut full = format!("{} {}", part("firstName"), part("lastName"));
        if full.len() > 150 {
            let mut end = 150;
            while !full.is_char_boundary(end) {
                end -= 1;
            }
            full.truncate(end);
        }
        let full = full.trim().to_string();
        if full.is_empty() {
            return;
        }
        let mut m = store().lock();
        m.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(60));
        m.insert(code.to_string(), (full, Instant::now()));
    }

    /// Takes (and removes) the stored name for an authorization code.
    pub fn take(code: &str) -> Option<String> {
        let (name, at) = store().lock().remove(code)?;
        (at.elapsed() < Duration::from_secs(60)).then_some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auth_url_is_sorted_and_escaped() {
        let mut p = Provider::from_config(&json!({"name": "google", "clientId": "id 1"})).unwrap();
        let url = p.build_auth_url("st", &[("code_challenge", "abc"), ("code_challenge_method", "S256")]);
        assert_eq!(
            url,
            "https://accounts.google.com/o/oauth2/v2/auth?client_id=id+1&code_challenge=abc&code_challenge_method=S256&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.profile+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&state=st"
        );
        p.auth_url = "http://x/auth?a=1".into();
        assert!(p.build_auth_url("s", &[]).starts_with("http://x/auth?a=1&client_id="));
    }

    #[test]
    fn config_overrides_defaults() {
        let p = Provider::from_config(&json!({"name": "oidc2", "authURL": "http://a", "pkce": false, "displayName": "X"})).unwrap();
        assert_eq!((p.auth_url.as_str(), p.pkce, p.display_name.as_str()), ("http://a", false, "X"));
        assert!(Provider::from_config(&json!({"name": "nope"})).is_none());
        let m = Provider::from_config(&json!({"name": "microsoft", "extra": {"idTokenEmailClaim": "email"}})).unwrap();
        assert_eq!(m.scopes, ["User.Read", "openid"]);
    }

    #[test]
    fn list_order() {
        let names: Vec<String> = provider_list().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(names, [
                "apple", "google", "microsoft", "yandex", "facebook", "instagram2", "github", "gitlab", "bitbucket", "gitee", "gitea", "discord",
                "twitter", "kakao", "vk", "linear", "notion", "monday", "lark", "box", "spotify", "trakt", "twitch", "patreon", "strava",
                "wakatime", "livechat", "mailcow", "planningcenter", "oidc", "oidc2", "oidc3"
            ]);
    }

    #[test]
    fn pkce_challenge() {
        // RFC 7636 appendix B
        assert_eq!(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
