//! The embedded JS runtime end to end, without HTTP: hook files -> manifest -> routes,
//! host imports through a fake core, sandbox limits, and timings (run with
//! `--nocapture` to see them).

use pocketbun_wasm::{
    BoxFuture, CoreError, CoreResult, EngineOptions, HostOptions, HttpRequest, OutboundRequest, OutboundResponse, PluginCore,
    PluginHost, PluginLimits, PluginTx, RecordFilter, RouteError, SaveMode, SqlParam,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct FakeCore;

impl PluginCore for FakeCore {
    fn find_record_by_id(&self, collection: String, id: String) -> BoxFuture<CoreResult<Value>> {
        Box::pin(async move {
            if id == "missing" {
                return Err(CoreError::new(404, "The requested resource wasn't found."));
            }
            Ok(json!({"id": id, "collectionName": collection, "collectionId": "c1", "title": "t"}))
        })
    }
    fn find_records_by_filter(&self, _q: RecordFilter) -> BoxFuture<CoreResult<Vec<Value>>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn save_record(&self, _c: String, data: Map<String, Value>, _m: SaveMode) -> BoxFuture<CoreResult<Value>> {
        Box::pin(async move { Ok(Value::Object(data)) })
    }
    fn delete_record(&self, _c: String, _id: String) -> BoxFuture<CoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
    fn find_collection(&self, name: String) -> BoxFuture<CoreResult<Value>> {
        Box::pin(async move { Ok(json!({"id": "c1", "name": name, "type": "base", "fields": []})) })
    }
    fn db_query(&self, _sql: String, _p: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<Vec<Map<String, Value>>>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn db_exec(&self, _sql: String, _p: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<u64>> {
        Box::pin(async { Ok(0) })
    }
    fn settings(&self) -> Value {
        json!({"meta": {"appName": "Acme"}})
    }
    fn is_dev(&self) -> bool {
        false
    }
    fn begin_transaction(&self, _max: Duration) -> BoxFuture<CoreResult<Arc<dyn PluginTx>>> {
        Box::pin(async { Err(CoreError::new(501, "no transactions in the fake core")) })
    }
    fn send_mail(&self, _m: Value) -> BoxFuture<CoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
    fn http_send(&self, _r: OutboundRequest) -> BoxFuture<CoreResult<OutboundResponse>> {
        Box::pin(async { Err(CoreError::new(501, "no http in the fake core")) })
    }
}

const HOOKS: &str = r#"
routerAdd("GET", "/bench/hook", (e) => e.string(200, "ok"));
routerAdd("GET", "/rec/{id}", (e) => e.json(200, $app.findRecordById("posts", e.request.pathValue("id"))));
routerAdd("GET", "/settings", (e) => e.json(200, { name: $app.settings().meta.appName }));
routerAdd("GET", "/loop", () => { while (true) {} });
routerAdd("GET", "/sleep/{ms}", (e) => { sleep(Number(e.request.pathValue("ms"))); return e.string(200, "awake"); });
routerAdd("GET", "/alloc", () => { const a = []; while (true) a.push("x".repeat(1 << 20) + a.length); });
onRecordCreateRequest((e) => {
  e.record.set("title", e.record.getString("title").toUpperCase());
  e.next();
  e.record.set("afterNext", e.record.id);
}, "posts");
onRecordCreateRequest((e) => { e.record.set("second", true); return e.next(); }, "posts");
onRecordCreateRequest(() => { throw new BadRequestError("no drafts"); }, "drafts");
routerAdd("GET", "/recurse", () => { function f(n) { return f(n + 1) + 1; } return f(0); });
"#;

fn request(path: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: String::new(),
        headers: vec![],
        params: vec![],
        body: vec![],
        remote_ip: "127.0.0.1".into(),
        auth_json: None,
    }
}

async fn load(dir: &std::path::Path, cache: bool, pool_size: usize) -> PluginHost {
    let hooks = dir.join("pb_hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("main.pb.js"), HOOKS).unwrap();
    let opts = HostOptions {
        hooks_dir: Some(hooks),
        plugins_dir: None,
        cache_dir: cache.then(|| dir.join("cache")),
        limits: PluginLimits { call_timeout: Duration::from_millis(300), max_memory_bytes: 64 << 20, pool_size, ..Default::default() },
        engine: EngineOptions { max_memory_bytes: 64 << 20, max_instances: 64 },
    };
    PluginHost::load(opts, Arc::new(FakeCore)).await.unwrap().expect("hooks were found")
}

async fn get(host: &PluginHost, path: &str) -> Result<(u16, String), RouteError> {
    let m = host.match_route("GET", path).expect("route matches");
    let mut req = request(path);
    req.params = m.params.clone();
    let res = PluginHost::handle_route(&m, &req).await?;
    Ok((res.status, String::from_utf8(res.body).unwrap()))
}

/// The process's resident set size (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p) as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_imports_and_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let host = load(dir.path(), false, 2).await;

    assert_eq!(get(&host, "/bench/hook").await.unwrap(), (200, "ok".into()));
    let (status, body) = get(&host, "/rec/abc").await.unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["id"], "abc");
    assert_eq!(get(&host, "/settings").await.unwrap().1, r#"{"name":"Acme"}"#);
    match get(&host, "/rec/missing").await {
        Err(RouteError::Api(e)) => assert_eq!(e.status, 404),
        other => panic!("expected a 404, got {other:?}"),
    }
    assert!(host.match_route("GET", "/nope").is_none());

    // sleep waits in the host; one past the call's time limit (300 ms) ends at the limit
    assert_eq!(get(&host, "/sleep/20").await.unwrap(), (200, "awake".into()));
    let started = Instant::now();
    match get(&host, "/sleep/60000").await {
        Err(RouteError::Failed(f)) => assert!(f.to_string().contains("time limit"), "{f}"),
        other => panic!("expected the time limit, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30), "the sleep was not cut at the limit");
    assert_eq!(get(&host, "/sleep/0").await.unwrap(), (200, "awake".into()));

    // sandbox: each failure is contained to its call, the next call works
    // (the allocation bomb hits the memory cap in ~0.3 s on a quiet machine; under load the
    // time limit may come first, which is just as clean)
    for (path, want) in [("/loop", &["time limit"][..]), ("/alloc", &["trapped", "time limit"]), ("/recurse", &["trapped"])] {
        let started = Instant::now();
        let reason = match get(&host, path).await {
            Err(RouteError::Failed(f)) => f.to_string(),
            other => panic!("{path}: expected a failure, got {other:?}"),
        };
        assert!(want.iter().any(|w| reason.contains(w)), "{path}: {reason}");
        eprintln!("{path}: failed cleanly after {:?}: {}", started.elapsed(), reason.lines().next().unwrap_or_default());
        assert_eq!(get(&host, "/bench/hook").await.unwrap(), (200, "ok".into()), "after {path}");
    }
}

/// Hook chains: handlers of one subscription chain inside the plugin; the last `e.next()`
/// calls back into the host, which runs the default action; code after `e.next()` sees
/// its result. A handler that throws stops the chain before the default action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_chain_with_next() {
    let dir = tempfile::tempdir().unwrap();
    let host = load(dir.path(), false, 1).await;
    let plugin = &host.plugins[0];
    let subs: Vec<(u32, &str, Vec<String>)> =
        plugin.manifest.hooks.iter().map(|h| (h.id, h.name.as_str(), h.tags.clone())).collect();
    assert_eq!(subs, vec![(0, "record-create-request", vec!["posts".to_string()]), (1, "record-create-request", vec!["drafts".to_string()])]);

    let seen = Arc::new(std::sync::Mutex::new(None::<Value>));
    let seen2 = seen.clone();
    let next: pocketbun_wasm::state::HookNext = Box::new(move |mut event: Value| {
        *seen2.lock().unwrap() = Some(event.clone());
        event["record"]["id"] = json!("new1");
        Box::pin(async move { Ok(event) })
    });
    let event = json!({"collection": {"id": "c1", "name": "posts", "type": "base", "fields": []}, "record": {"collectionId": "c1", "title": "hello"}});
    let out = plugin.handle_hook(0, &event.to_string(), next).await.unwrap().unwrap();
    let before = seen.lock().unwrap().clone().expect("e.next() reached the host");
    assert_eq!(before["record"]["title"], "HELLO");
    assert_eq!(before["record"]["second"], true);
    let after: Value = serde_json::from_str(&out.event_json).unwrap();
    assert_eq!(after["record"]["id"], "new1");
    assert_eq!(after["record"]["afterNext"], "new1", "code after e.next() sees the stored record");
    assert!(out.response.is_none());

    let called = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let called2 = called.clone();
    let next: pocketbun_wasm::state::HookNext = Box::new(move |event: Value| {
        called2.store(true, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move { Ok(event) })
    });
    let err = plugin.handle_hook(1, &event.to_string(), next).await.unwrap().unwrap_err();
    assert_eq!((err.status, err.message.as_str()), (400, "No drafts."));
    assert!(!called.load(std::sync::atomic::Ordering::SeqCst), "the default action must not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timings() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let host = load(dir.path(), true, 1).await;
    let cold = t.elapsed();
    drop(host);
    let t = Instant::now();
    let host = load(dir.path(), true, 1).await;
    let cached = t.elapsed();
    let t = Instant::now();
    let host15 = load(dir.path(), true, 15).await;
    let rss_one = resident_bytes();
    host15.plugins[0].prewarm().await.unwrap();
    let cached15 = t.elapsed();
    let per_instance = resident_bytes().saturating_sub(rss_one) / 14;
    drop(host15);

    for _ in 0..1000 {
        get(&host, "/bench/hook").await.unwrap();
    }
    let mut lat = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let t = Instant::now();
        get(&host, "/bench/hook").await.unwrap();
        lat.push(t.elapsed());
    }
    lat.sort();
    let mut imp = Vec::with_capacity(5_000);
    for _ in 0..5_000 {
        let t = Instant::now();
        get(&host, "/rec/abc").await.unwrap();
        imp.push(t.elapsed());
    }
    imp.sort();
    eprintln!("cold load (compile + 1 instance): {cold:?}; cached .cwasm + 1 instance: {cached:?}; cached + 15 warm instances: {cached15:?}");
    eprintln!("resident memory per warm instance (JS runtime booted, hooks loaded): {} KiB", per_instance / 1024);
    eprintln!(
        "warm e.string route: p50 {:?} p99 {:?}; route with one host import + JSON: p50 {:?} p99 {:?}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&imp, 0.5),
        percentile(&imp, 0.99)
    );
    assert!(cached < cold, "the cache must make a restart cheaper");
}
