//! PocketBun's JS runtime plugin: QuickJS inside a `pocketbun:plugin` component.
//!
//! The Rust side is deliberately thin: it owns the QuickJS runtime, exposes the WIT
//! imports to JS as `__host.*` functions and forwards the WIT exports to the JS glue in
//! `sdk-js-shim/pb.js`, which implements PocketBase's API (`routerAdd`, `$app`, `e.json`…).

mod host_fns;
mod security;

use rquickjs::convert::List;
use rquickjs::{Array, CaughtError, Context, Ctx, Function, Object, Runtime, Value};
use std::cell::RefCell;

wit_bindgen::generate!({ world: "js-runtime", path: "../../wit" });

use exports::pocketbun::plugin::guest::Guest;
use pocketbun::plugin::types::{
    ApiError, CronJob, HookResult, HookSubscription, HttpRequest, HttpResponse, InitConfig, Manifest, Route,
};

/// The JS side of the hook API, evaluated in this order before the hook files. `pb.js`
/// defines the core globals and hands its internals to later files as `__pbi`; add new
/// API families as their own files here rather than growing `pb.js`.
const SHIM_FILES: &[(&str, &str)] = &[
    ("pb.js", include_str!("../../../sdk-js-shim/pb.js")),
    ("helpers.js", include_str!("../../../sdk-js-shim/helpers.js")),
    ("app.js", include_str!("../../../sdk-js-shim/app.js")),
    ("security.js", include_str!("../../../sdk-js-shim/security.js")),
    ("http.js", include_str!("../../../sdk-js-shim/http.js")),
    ("os.js", include_str!("../../../sdk-js-shim/os.js")),
    ("template.js", include_str!("../../../sdk-js-shim/template.js")),
    ("collection.js", include_str!("../../../sdk-js-shim/collection.js")),
    ("settings.js", include_str!("../../../sdk-js-shim/settings.js")),
    ("migrations.js", include_str!("../../../sdk-js-shim/migrations.js")),
    ("events.js", include_str!("../../../sdk-js-shim/events.js")),
    ("mails.js", include_str!("../../../sdk-js-shim/mails.js")),
    ("filesystem.js", include_str!("../../../sdk-js-shim/filesystem.js")),
    ("router.js", include_str!("../../../sdk-js-shim/router.js")),
    ("query.js", include_str!("../../../sdk-js-shim/query.js")),
    ("record.js", include_str!("../../../sdk-js-shim/record.js")),
    ("auth.js", include_str!("../../../sdk-js-shim/auth.js")),
    ("extras.js", include_str!("../../../sdk-js-shim/extras.js")),
];

// Deep recursion: QuickJS's own stack check does not work on wasm32 (it reads
// `__builtin_frame_address`, which does not follow the shadow stack), so unbounded
// recursion runs the 1 MiB shadow stack below address 0. Rust's wasm targets link the
// stack first, so that wraps to an out-of-bounds address and traps (the host then
// discards the instance) instead of overwriting data.

struct Js {
    _rt: Runtime,
    ctx: Context,
}

thread_local! {
    static JS: RefCell<Option<Js>> = const { RefCell::new(None) };
}

struct Component;

impl Guest for Component {
    fn init(config: InitConfig) -> Result<Manifest, String> {
        let rt = Runtime::new().map_err(|e| e.to_string())?;
        if config.memory_limit > 0 {
            rt.set_memory_limit(config.memory_limit as usize);
        }
        let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
        let manifest = ctx.with(|ctx| -> Result<Manifest, String> {
            host_fns::install(&ctx).map_err(|e| e.to_string())?;
            security::install(&ctx).map_err(|e| e.to_string())?;
            // top-level `*.pb.js` files are hook scripts; every other file is a module
            // for `require` (sdk-js-shim/os.js)
            let (scripts, modules): (Vec<_>, Vec<_>) = config.files.iter().partition(|f| is_hook_script(&f.name));
            let module_map = Object::new(ctx.clone()).map_err(|e| e.to_string())?;
            for m in modules {
                module_map.set(m.name.as_str(), m.content.as_str()).map_err(|e| e.to_string())?;
            }
            ctx.globals().set("__pbModules", module_map).map_err(|e| e.to_string())?;
            for (name, src) in SHIM_FILES {
                eval(&ctx, name, src)?;
            }
            for f in scripts {
                // `migrate()` registers the migration under the file being evaluated
                let name = f.name.strip_prefix(MIGRATION_PREFIX).unwrap_or(&f.name);
                ctx.globals().set("__pbFile", name).map_err(|e| e.to_string())?;
                eval(&ctx, &f.name, &f.content)?;
            }
            ctx.globals().remove("__pbFile").map_err(|e| e.to_string())?;
            read_manifest(&ctx).map_err(|e| e.to_string())
        })?;
        JS.with(|js| *js.borrow_mut() = Some(Js { _rt: rt, ctx }));
        Ok(manifest)
    }

    fn handle_route(route_id: u32, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        with_js(|ctx| {
            let req = request_object(ctx, request)?;
            let out: Array = call_shim(ctx, "handleRoute", (route_id, req))?;
            match out.get::<u32>(0)? {
                0 => Ok(Ok(HttpResponse { status: out.get(1)?, headers: pairs(out.get(2)?), body: body_bytes(out.get(3)?) })),
                _ => Ok(Err(api_error_from(&out)?)),
            }
        })
    }

    fn handle_hook(hook_id: u32, event_json: String) -> Result<HookResult, ApiError> {
        with_js(|ctx| {
            let out: Array = call_shim(ctx, "handleHook", (hook_id, event_json))?;
            match out.get::<u32>(0)? {
                0 => {
                    let response = match out.get::<Option<Array>>(2)? {
                        Some(r) => Some(HttpResponse { status: r.get(0)?, headers: pairs(r.get(1)?), body: body_bytes(r.get(2)?) }),
                        None => None,
                    };
                    Ok(Ok(HookResult { event_json: out.get(1)?, response }))
                }
                _ => Ok(Err(api_error_from(&out)?)),
            }
        })
    }

    fn run_cron(id: String) -> Result<(), ApiError> {
        with_js(|ctx| {
            let out: Array = call_shim(ctx, "runCron", (id,))?;
            match out.get::<u32>(0)? {
                0 => Ok(Ok(())),
                _ => Ok(Err(api_error_from(&out)?)),
            }
        })
    }
}

impl exports::pocketbun::plugin::migrations::Guest for Component {
    fn registered() -> Vec<String> {
        with_js(|ctx| Ok(Ok(call_shim::<_, Vec<String>>(ctx, "migrations", ())?))).unwrap_or_default()
    }

    fn run(file: String, up: bool) -> Result<(), ApiError> {
        with_js(|ctx| {
            let out: Array = call_shim(ctx, "runMigration", (file, up))?;
            match out.get::<u32>(0)? {
                0 => Ok(Ok(())),
                _ => Ok(Err(api_error_from(&out)?)),
            }
        })
    }
}

export!(Component);

/// Init files named `migration:<file>` are `pb_migrations` files (host/wasm/src/migrations.rs).
const MIGRATION_PREFIX: &str = "migration:";

/// Hook scripts and migrations are evaluated at init; other files are `require` modules.
fn is_hook_script(name: &str) -> bool {
    name.starts_with(MIGRATION_PREFIX) || (!name.contains('/') && (name.ends_with(".pb.js") || name.ends_with(".pb.ts")))
}

fn eval(ctx: &Ctx<'_>, name: &str, src: &str) -> Result<(), String> {
    let mut opts = rquickjs::context::EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.filename = Some(name.to_string());
    ctx.eval_with_options::<(), _>(src, opts).map_err(|e| format!("{name}: {}", describe(ctx, e)))
}

/// Runs `f` in the initialised context and turns a JS failure into an API error. Resource
/// exhaustion (out of memory, stack overflow) aborts the instance instead: QuickJS may be
/// left in a state that is not safe to reuse, and the host replaces trapped instances.
fn with_js<T>(f: impl FnOnce(&Ctx<'_>) -> rquickjs::Result<Result<T, ApiError>>) -> Result<T, ApiError> {
    JS.with(|js| {
        let js = js.borrow();
        let Some(js) = js.as_ref() else {
            return Err(internal_error("the JS runtime was not initialised"));
        };
        js.ctx.with(|ctx| match f(&ctx) {
            Ok(r) => r,
            Err(e) => {
                let msg = describe(&ctx, e);
                if is_resource_exhaustion(&msg) {
                    pocketbun::plugin::log::write(pocketbun::plugin::types::LogLevel::Error, &format!("jsvm: {msg}"));
                    panic!("jsvm: {msg}");
                }
                Err(internal_error(&msg))
            }
        })
    })
}

fn is_resource_exhaustion(msg: &str) -> bool {
    // QuickJS-ng: "InternalError: out of memory", "RangeError: Maximum call stack size exceeded"
    msg.contains("out of memory") || msg.contains("stack size exceeded") || msg.contains("stack overflow")
}

fn call_shim<'js, A, R>(ctx: &Ctx<'js>, name: &str, args: A) -> rquickjs::Result<R>
where
    A: rquickjs::function::IntoArgs<'js>,
    R: rquickjs::FromJs<'js>,
{
    let pb: Object = ctx.globals().get("__pb")?;
    let f: Function = pb.get(name)?;
    f.call(args)
}

fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    match CaughtError::from_error(ctx, e) {
        CaughtError::Exception(ex) => {
            let msg = ex.message().unwrap_or_default();
            let name = ex.get::<_, Option<String>>("name").ok().flatten().unwrap_or_else(|| "Error".into());
            match ex.stack() {
                Some(stack) if !stack.is_empty() => format!("{name}: {msg}\n{stack}"),
                _ => format!("{name}: {msg}"),
            }
        }
        CaughtError::Value(v) => format!("uncaught {v:?}"),
        CaughtError::Error(e) => e.to_string(),
    }
}

fn internal_error(message: &str) -> ApiError {
    ApiError { status: 500, message: message.to_string(), data_json: "{}".into() }
}

/// `[1, status, message, dataJson]` from the shim.
fn api_error_from(out: &Array<'_>) -> rquickjs::Result<ApiError> {
    Ok(ApiError { status: out.get(1)?, message: out.get(2)?, data_json: out.get(3)? })
}

/// `[[name, value], ...]` from JS.
fn pairs(list: Vec<List<(String, String)>>) -> Vec<(String, String)> {
    list.into_iter().map(|List(p)| p).collect()
}

fn body_bytes(body: Value<'_>) -> Vec<u8> {
    if let Some(s) = body.as_string().and_then(|s| s.to_string().ok()) {
        return s.into_bytes();
    }
    // arrays of byte values (e.blob with a number array)
    if let Some(arr) = body.as_array() {
        return arr.iter::<u8>().filter_map(Result::ok).collect();
    }
    Vec::new()
}

fn request_object<'js>(ctx: &Ctx<'js>, r: HttpRequest) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("method", r.method)?;
    o.set("path", r.path)?;
    o.set("query", r.query)?;
    o.set("headers", r.headers.into_iter().map(List).collect::<Vec<_>>())?;
    o.set("params", r.params.into_iter().map(List).collect::<Vec<_>>())?;
    o.set("body", String::from_utf8_lossy(&r.body).into_owned())?;
    o.set("remoteIp", r.remote_ip)?;
    o.set("authJson", r.auth_json)?;
    Ok(o)
}

fn read_manifest(ctx: &Ctx<'_>) -> rquickjs::Result<Manifest> {
    let routes: Vec<List<(u32, String, String)>> = call_shim(ctx, "routes", ())?;
    let hooks: Vec<List<(u32, String, Vec<String>)>> = call_shim(ctx, "hooks", ())?;
    let crons: Vec<List<(String, String)>> = call_shim(ctx, "crons", ())?;
    Ok(Manifest {
        routes: routes.into_iter().map(|List((id, method, path))| Route { id, method, path }).collect(),
        hooks: hooks.into_iter().map(|List((id, name, tags))| HookSubscription { id, name, tags }).collect(),
        crons: crons.into_iter().map(|List((id, expression))| CronJob { id, expression }).collect(),
    })
}
