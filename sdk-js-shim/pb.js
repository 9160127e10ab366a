// PocketBase's JS hook API on top of the pocketbun:plugin WIT imports (`__host.*`).
//
// Loaded into every QuickJS instance before the pb_hooks files. Each instance runs all
// hook files itself, so (unlike PocketBase's goja pool) handlers may also use variables of
// their file's top level; top-level code therefore runs once per pooled instance.
// The host calls back through `__pb.*` (see plugins/jsvm/src/lib.rs):
//   routes()/hooks()/crons()    the manifest, after the hook files ran
//   handleRoute(id, req)        -> [0, status, headers, body] | [1, status, message, dataJson]
//   handleHook(id, eventJson)   -> [0, eventJson, response|null] | [1, ...error]
//   runCron(id)                 -> [0] | [1, ...error]
// Resource exhaustion (out of memory, call stack) is rethrown so the host drops the instance.
(function (global) {
  "use strict";

  const host = global.__host;

  // ---------------------------------------------------------------- errors

  const DEFAULT_MESSAGES = {
    400: "Something went wrong while processing your request.",
    401: "Missing or invalid authentication.",
    403: "You are not allowed to perform this request.",
    404: "The requested resource wasn't found.",
    429: "Too Many Requests.",
    500: "Something went wrong while processing your request.",
  };

  // PocketBase's inflector.Sentenize: upper-case first letter, trailing period.
  function sentenize(s) {
    s = String(s == null ? "" : s).trim();
    if (!s) return "";
    s = s[0].toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + ".";
  }

  class ApiError extends Error {
    constructor(status, message, data) {
      status = Number(status) || 400;
      const msg = sentenize(message) || DEFAULT_MESSAGES[status] || DEFAULT_MESSAGES[400];
      super(msg);
      this.name = "ApiError";
      this.status = status;
      this.data = data && typeof data === "object" ? data : {};
    }
    toJSON() {
      return { data: this.data, message: this.message, status: this.status };
    }
  }
  class BadRequestError extends ApiError { constructor(m, d) { super(400, m, d); } }
  class UnauthorizedError extends ApiError { constructor(m, d) { super(401, m, d); } }
  class ForbiddenError extends ApiError { constructor(m, d) { super(403, m, d); } }
  class NotFoundError extends ApiError { constructor(m, d) { super(404, m, d); } }
  class TooManyRequestsError extends ApiError { constructor(m, d) { super(429, m, d); } }
  class InternalServerError extends ApiError { constructor(m, d) { super(500, m, d); } }

  class ValidationError {
    constructor(code, message) { this.code = code; this.message = message; }
    toJSON() { return { code: this.code, message: this.message }; }
  }

  function isResourceExhaustion(err) {
    if (!err || typeof err !== "object") return false;
    const m = String(err.message || "");
    return err.name === "InternalError" || /out of memory|stack size exceeded|stack overflow/i.test(m);
  }

  // Host calls throw `{__hostError, status, message, data}`; surface them as ApiError.
  function hostCall(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      if (err && err.__hostError) throw new ApiError(err.status, err.message, err.data);
      throw err;
    }
  }

  // The envelope for a failed handler, as PocketBase's router does: API errors keep
  // their status, anything else is a 400 (and logged).
  function errorTuple(err) {
    if (isResourceExhaustion(err)) throw err;
    if (err instanceof ApiError) return [1, err.status, err.message, JSON.stringify(err.data)];
    // Go-like errors of $app and friends (app.js) convert like PocketBase's router does
    if (err && typeof err.__toApiError === "function") return errorTuple(err.__toApiError());
    if (err && err.__hostError) return [1, err.status, err.message, JSON.stringify(err.data || {})];
    log("error", "pb_hooks handler failed: " + describe(err));
    return [1, 400, DEFAULT_MESSAGES[400], "{}"];
  }

  function describe(err) {
    if (err && typeof err === "object" && err.stack) return String(err) + "\n" + err.stack;
    return String(err);
  }

  // ---------------------------------------------------------------- logging

  function log(level, ...parts) {
    host.log(level, parts.map((p) => (typeof p === "string" ? p : safeJson(p))).join(" "));
  }
  function safeJson(v) {
    try { return JSON.stringify(v); } catch (_) { return String(v); }
  }
  global.console = {
    log: (...a) => log("info", ...a),
    info: (...a) => log("info", ...a),
    debug: (...a) => log("debug", ...a),
    warn: (...a) => log("warn", ...a),
    error: (...a) => log("error", ...a),
  };

  // ---------------------------------------------------------------- collections & records

  // Collections fetched during one host call (records need them for hidden fields).
  let collectionCache = new Map();

  function findCollection(nameOrId) {
    let c = collectionCache.get(nameOrId);
    if (!c) {
      c = new Collection(JSON.parse(hostCall(host.collectionFind, nameOrId)));
      collectionCache.set(c.id, c);
      collectionCache.set(c.name, c);
    }
    return c;
  }

  class Collection {
    constructor(data) {
      Object.assign(this, data || {});
      if (!Array.isArray(this.fields)) this.fields = [];
    }
    isAuth() { return this.type === "auth"; }
    isBase() { return this.type === "base"; }
    isView() { return this.type === "view"; }
  }

  const META_KEYS = ["collectionId", "collectionName", "expand"];

  function sortedKeys(obj) {
    const sorted = {};
    for (const k of Object.keys(obj).sort()) sorted[k] = obj[k];
    return sorted;
  }

  class Record {
    // new Record(collection, data?) like PocketBase; the host also builds records with
    // `Record.__fromHost(json)`.
    constructor(collection, data) {
      let c = collection;
      if (typeof c === "string") c = findCollection(c);
      this.__collection = c || null;
      this.__data = {};
      this.__new = true;
      this.__pending = {};
      if (data) this.load(data);
    }
    static __fromHost(obj) {
      const r = new Record(null);
      r.__collectionRef = obj.collectionId || obj.collectionName;
      for (const k of Object.keys(obj)) if (!META_KEYS.includes(k)) r.__data[k] = obj[k];
      r.__new = false;
      return r;
    }
    get id() { return this.__data.id || ""; }
    set id(v) { this.__data.id = v; }
    collection() {
      if (!this.__collection && this.__collectionRef) this.__collection = findCollection(this.__collectionRef);
      return this.__collection;
    }
    isNew() { return this.__new; }
    get(f) { return this.__data[f] === undefined ? null : this.__data[f]; }
    set(f, v) {
      if (f === "password" || f === "passwordConfirm") this.__pending[f] = v;
      else this.__data[f] = v;
    }
    load(obj) { for (const k of Object.keys(obj || {})) this.set(k, obj[k]); }
    getString(f) { const v = this.get(f); return v == null ? "" : typeof v === "string" ? v : String(v); }
    getInt(f) { const n = Number(this.get(f)); return Number.isFinite(n) ? Math.trunc(n) : 0; }
    getInt64(f) { return this.getInt(f); }
    getFloat(f) { const n = Number(this.get(f)); return Number.isFinite(n) ? n : 0; }
    getBool(f) { const v = this.get(f); return v === true || v === "true" || v === 1 || v === "1"; }
    getStringSlice(f) {
      const v = this.get(f);
      if (v == null || v === "") return [];
      return Array.isArray(v) ? v.map(String) : [String(v)];
    }
    email() { return this.getString("email"); }
    setEmail(v) { this.set("email", v); }
    verified() { return this.getBool("verified"); }
    setVerified(v) { this.set("verified", !!v); }
    setPassword(p) { this.__pending.password = p; this.__pending.passwordConfirm = p; }
    isSuperuser() { const c = this.collection(); return !!c && c.name === "_superusers"; }
    fieldsData() { return Object.assign({}, this.__data); }
    // The API view with its keys sorted, as PocketBase's JSON has them.
    publicExport() { return sortedKeys(this.__apiView()); }
    // The API view's values (key order open): hidden fields and a non-visible email left out.
    __apiView() {
      const c = this.collection();
      const out = {};
      const hidden = new Set((c ? c.fields : []).filter((f) => f.hidden).map((f) => f.name));
      const showEmail = this.__data.emailVisibility === true;
      for (const k of Object.keys(this.__data)) {
        if (hidden.has(k)) continue;
        if (k === "email" && c && c.isAuth() && !showEmail) continue;
        out[k] = this.__data[k];
      }
      if (c) { out.collectionId = c.id; out.collectionName = c.name; }
      return out;
    }
    toJSON() { return this.publicExport(); }
    __payload() { return Object.assign({}, this.__data, this.__pending); }
    __refresh(obj) {
      const fresh = Record.__fromHost(obj);
      this.__data = fresh.__data;
      this.__pending = {};
      this.__new = false;
    }
  }

  function collectionNameOf(record) {
    const c = record.collection();
    if (!c) throw new BadRequestError("The record has no collection.");
    return c.name;
  }

  // ---------------------------------------------------------------- $app

  // `{:name}` placeholders are passed through; the host binds them.
  function query(sql) {
    let params = {};
    return {
      bind(p) { params = Object.assign({}, params, p || {}); return this; },
      execute() { const n = hostCall(host.dbExec, sql, params); return { rowsAffected: () => n }; },
      all(target) {
        const rows = JSON.parse(hostCall(host.dbQuery, sql, params));
        if (Array.isArray(target)) { target.length = 0; for (const r of rows) target.push(r); }
        return rows;
      },
      one(target) {
        const rows = JSON.parse(hostCall(host.dbQuery, sql, params));
        if (!rows.length) throw new NotFoundError("sql: no rows in result set");
        if (target && typeof target === "object") Object.assign(target, rows[0]);
        return rows[0];
      },
    };
  }

  function kvStore() {
    return {
      get(k) { const v = host.kvGet(String(k)); return v === undefined || v === null ? null : JSON.parse(v); },
      set(k, v) { host.kvSet(String(k), JSON.stringify(v === undefined ? null : v)); },
      has(k) { const v = host.kvGet(String(k)); return v !== undefined && v !== null; },
      remove(k) { host.kvDelete(String(k)); },
      getOrSet(k, fn) {
        if (!this.has(k)) this.set(k, fn());
        return this.get(k);
      },
    };
  }

  const $app = {
    findRecordById(coll, id) {
      return Record.__fromHost(JSON.parse(hostCall(host.recordFindById, collArg(coll), String(id))));
    },
    findRecordsByFilter(coll, filter, sort, limit, offset, params) {
      const json = hostCall(host.recordFindByFilter, collArg(coll), String(filter || ""), String(sort || ""),
        Math.max(0, limit | 0), Math.max(0, offset | 0), JSON.stringify(params || {}));
      return JSON.parse(json).map(Record.__fromHost);
    },
    findFirstRecordByFilter(coll, filter, params) {
      const list = this.findRecordsByFilter(coll, filter, "", 1, 0, params);
      if (!list.length) throw new NotFoundError("sql: no rows in result set");
      return list[0];
    },
    findFirstRecordByData(coll, field, value) {
      return this.findFirstRecordByFilter(coll, field + " = {:v}", { v: value });
    },
    findCollectionByNameOrId(x) { return findCollection(String(x)); },
    save(model) {
      if (!(model instanceof Record)) unsupported("$app.save(collection)");
      const stored = hostCall(host.recordSave, collectionNameOf(model), JSON.stringify(model.__payload()));
      model.__refresh(JSON.parse(stored));
    },
    delete(model) {
      if (!(model instanceof Record)) unsupported("$app.delete(collection)");
      hostCall(host.recordDelete, collectionNameOf(model), model.id);
    },
    db() { return { newQuery: query }; },
    store() { return kvStore(); },
    logger() {
      const kv = (msg, rest) => [msg].concat(rest.length ? [safeJson(rest)] : []);
      return {
        debug: (m, ...r) => log("debug", ...kv(m, r)),
        info: (m, ...r) => log("info", ...kv(m, r)),
        warn: (m, ...r) => log("warn", ...kv(m, r)),
        error: (m, ...r) => log("error", ...kv(m, r)),
      };
    },
  };

  function collArg(c) {
    return c instanceof Collection ? c.name : String(c);
  }

  function unsupported(api) {
    throw new Error(api + " is not supported by PocketBun's JS runtime yet");
  }

  // ---------------------------------------------------------------- request events

  function decode(s) {
    try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (_) { return s; }
  }

  function parseQuery(raw) {
    const out = {};
    if (!raw) return out;
    for (const part of raw.split("&")) {
      if (!part) continue;
      const i = part.indexOf("=");
      const k = decode(i < 0 ? part : part.slice(0, i));
      const v = i < 0 ? "" : decode(part.slice(i + 1));
      (out[k] = out[k] || []).push(v);
    }
    return out;
  }

  function values(map) {
    return {
      get: (k) => (map[k] && map[k].length ? map[k][0] : ""),
      has: (k) => k in map,
      values: (k) => (map[k] || []).slice(),
      all: () => map,
    };
  }

  function headerMap(list) {
    const m = {};
    for (const [k, v] of list) (m[k.toLowerCase()] = m[k.toLowerCase()] || []).push(v);
    return m;
  }

  function parseBody(headers, body) {
    const ct = (headers["content-type"] || [""])[0];
    if (!body) return {};
    if (ct.indexOf("application/json") >= 0) {
      try { const v = JSON.parse(body); return v && typeof v === "object" ? v : {}; } catch (_) { return {}; }
    }
    if (ct.indexOf("application/x-www-form-urlencoded") >= 0) {
      const q = parseQuery(body);
      const out = {};
      for (const k of Object.keys(q)) out[k] = q[k].length === 1 ? q[k][0] : q[k];
      return out;
    }
    return {};
  }

  // The raw request from the host and what is parsed from it on first use. Shared by
  // the event and its `request`/`url` views, none of which points back at the event:
  // without reference cycles QuickJS frees a request's objects as soon as it ends,
  // instead of leaving them to its (full-heap) cycle collector.
  class RequestParts {
    constructor(raw) { this.raw = raw; this.__headers = undefined; this.__query = undefined; }
    headers() { return this.__headers || (this.__headers = headerMap(this.raw.headers)); }
    query() { return this.__query || (this.__query = parseQuery(this.raw.query)); }
  }

  // The `e` of routes, middlewares and request hooks. Built once per request, so
  // everything lives on prototypes and the views (request, url, response) are made on
  // first use: a handler that only calls `e.string()` costs a few small objects instead
  // of ~40 closures.
  class RequestEvent {
    constructor(raw) {
      this.app = $app;
      this.__p = new RequestParts(raw);
      this.__raw = raw;
      this.__resHeaders = [];
      this.__body = undefined;
      this.__auth = undefined;
      this.__req = undefined;
      this.__res = undefined;
      this.__store = undefined;
    }
    get request() { return this.__req || (this.__req = new EventRequest(this.__p)); }
    set request(v) { this.__req = v; }
    get response() { return this.__res || (this.__res = new EventResponse(this.__resHeaders)); }
    set response(v) { this.__res = v; }
    get auth() {
      if (this.__auth === undefined) this.__auth = this.__raw.authJson ? Record.__fromHost(JSON.parse(this.__raw.authJson)) : null;
      return this.__auth;
    }
    set auth(v) { this.__auth = v; }
    hasSuperuserAuth() { return !!this.auth && this.auth.isSuperuser(); }
    realIP() { return this.__raw.remoteIp; }
    remoteIP() { return this.__raw.remoteIp; }
    requestInfo() {
      const headers = this.__p.headers();
      const queryMap = this.__p.query();
      const snake = {};
      for (const k of Object.keys(headers)) snake[k.replace(/-/g, "_")] = headers[k][0];
      const q = {};
      for (const k of Object.keys(queryMap)) q[k] = queryMap[k][0];
      return { auth: this.auth, body: parseBody(headers, this.__raw.body), query: q, headers: snake, method: this.__raw.method, context: "default" };
    }
    written() { return this.__body !== undefined; }
    status() { return this.__body === undefined ? 0 : this.__body.status; }
    json(status, data) { this.__write(status, "application/json", JSON.stringify(data === undefined ? null : data)); }
    string(status, text) { this.__write(status, "text/plain; charset=utf-8", String(text)); }
    html(status, html) { this.__write(status, "text/html; charset=utf-8", String(html)); }
    xml(status, data) { this.__write(status, "application/xml; charset=utf-8", String(data)); }
    blob(status, contentType, bytes) { this.__write(status, contentType, Array.isArray(bytes) ? bytes : String(bytes)); }
    noContent(status) { this.__write(status || 204, null, ""); }
    redirect(status, url) { this.response.header().set("Location", url); this.__write(status || 302, null, ""); }
    badRequestError(m, d) { return new BadRequestError(m, d); }
    notFoundError(m, d) { return new NotFoundError(m, d); }
    forbiddenError(m, d) { return new ForbiddenError(m, d); }
    unauthorizedError(m, d) { return new UnauthorizedError(m, d); }
    tooManyRequestsError(m, d) { return new TooManyRequestsError(m, d); }
    internalServerError(m, d) { return new InternalServerError(m, d); }
    error(s, m, d) { return new ApiError(s, m, d); }
    // per-request store
    get(k) { return this.__store ? this.__store[k] : undefined; }
    set(k, v) { (this.__store || (this.__store = {}))[k] = v; }
    __write(status, contentType, data) {
      const h = this.__resHeaders;
      if (contentType && !h.some((x) => x[0].toLowerCase() === "content-type")) h.push(["Content-Type", contentType]);
      this.__body = { status: status | 0 || 200, data };
    }
    __response() { return this.__body === undefined ? null : [this.__body.status, this.__resHeaders, this.__body.data]; }
  }

  class EventRequest {
    constructor(parts) {
      this.__p = parts;
      this.method = parts.raw.method;
      this.remoteAddr = parts.raw.remoteIp;
      this.__url = undefined;
    }
    get host() { return (this.__p.headers().host || [""])[0]; }
    get url() { return this.__url || (this.__url = new EventUrl(this.__p)); }
    get header() { return new RequestHeader(this.__p.headers()); }
    pathValue(k) {
      for (const [name, v] of this.__p.raw.params) if (name === k) return v;
      return "";
    }
  }

  class EventUrl {
    constructor(parts) { this.__p = parts; this.path = parts.raw.path; this.rawQuery = parts.raw.query; }
    query() { return values(this.__p.query()); }
    string() { return this.path + (this.rawQuery ? "?" + this.rawQuery : ""); }
  }

  class RequestHeader {
    constructor(map) { this.__map = map; }
    get(k) { return (this.__map[String(k).toLowerCase()] || [""])[0]; }
    values(k) { return this.__map[String(k).toLowerCase()] || []; }
    // changes before `e.next()` in a routerUse middleware reach the request's handler
    set(k, v) { this.__map[String(k).toLowerCase()] = [String(v)]; this.__changed(); }
    add(k, v) { const key = String(k).toLowerCase(); (this.__map[key] = this.__map[key] || []).push(String(v)); this.__changed(); }
    del(k) { delete this.__map[String(k).toLowerCase()]; this.__changed(); }
    __changed() { Object.defineProperty(this.__map, "__changed", { value: true, configurable: true }); }
  }

  class EventResponse {
    constructor(list) { this.__list = list; }
    header() { return new ResponseHeader(this.__list); }
  }

  class ResponseHeader {
    constructor(list) { this.__list = list; }
    set(k, v) {
      const l = this.__list, key = String(k).toLowerCase();
      for (let i = l.length - 1; i >= 0; i--) if (l[i][0].toLowerCase() === key) l.splice(i, 1);
      l.push([String(k), String(v)]);
    }
    add(k, v) { this.__list.push([String(k), String(v)]); }
    get(k) { const key = String(k).toLowerCase(); const h = this.__list.find((x) => x[0].toLowerCase() === key); return h ? h[1] : ""; }
  }

  function requestEvent(raw) {
    return new RequestEvent(raw);
  }

  // Runs fns as a chain: each `e.next()` calls the following one, the last one's
  // `e.next()` calls `last` (if any). A returned error value counts as thrown.
  function runChain(e, fns, last) {
    let i = 0;
    e.next = function () {
      if (i < fns.length) {
        const r = fns[i++].call(undefined, e);
        if (r instanceof Error) throw r;
        return r;
      }
      i++;
      return last ? last(e) : undefined;
    };
    return e.next();
  }

  // ---------------------------------------------------------------- registration

  const routes = []; // {id, method, path, handler, middlewares}
  const hookSubs = []; // {id, name, tags, handlers}
  const crons = new Map(); // id -> {expr, fn}

  class Middleware {
    constructor(fn, priority, id) { this.fn = fn; this.priority = priority || 0; this.id = id || ""; }
  }

  function middlewareFn(m) {
    if (typeof m === "function") return m;
    if (m instanceof Middleware) return m.fn;
    if (m && typeof m.fn === "function") return m.fn;
    throw new Error("invalid middleware: expected a function or Middleware");
  }

  global.routerAdd = function (method, path, handler, ...middlewares) {
    if (typeof handler !== "function") throw new Error("routerAdd: the handler must be a function");
    const mws = middlewares.map(middlewareFn);
    routes.push({ id: routes.length, method: String(method).toUpperCase(), path: String(path), handler, middlewares: mws, chain: mws.concat([handler]) });
  };

  // routerUse: router.js
  function registerHook(name, handler, tags) {
    if (typeof handler !== "function") throw new Error("the hook handler must be a function");
    const key = name + "|" + tags.join(",");
    let sub = hookSubs.find((s) => s.key === key);
    if (!sub) {
      sub = { id: hookSubs.length, key, name, tags, handlers: [] };
      hookSubs.push(sub);
    }
    sub.handlers.push(handler);
  }

  // the on* registration functions and their event objects live in events.js

  global.cronAdd = function (id, expr, fn) {
    if (typeof fn !== "function") throw new Error("cronAdd: the handler must be a function");
    crons.set(String(id), { expr: String(expr), fn });
  };
  global.cronRemove = function (id) { crons.delete(String(id)); };

  // ---------------------------------------------------------------- $apis

  const $apis = {
    requireAuth(...collections) {
      return (e) => {
        if (!e.auth) throw new UnauthorizedError("The request requires valid record authorization token.");
        const c = e.auth.collection();
        if (collections.length && !collections.some((x) => x === c.name || x === c.id)) {
          throw new ForbiddenError("The authorized record is not allowed to perform this action.");
        }
        return e.next();
      };
    },
    requireSuperuserAuth() {
      return (e) => {
        if (!e.auth) throw new UnauthorizedError("The request requires valid record authorization token.");
        if (!e.auth.isSuperuser()) throw new ForbiddenError("The authorized record is not allowed to perform this action.");
        return e.next();
      };
    },
    requireGuestOnly() {
      return (e) => {
        if (e.auth) throw new BadRequestError("The request can be accessed only by guests.");
        return e.next();
      };
    },
  };

  // ---------------------------------------------------------------- host entry points

  global.__pb = {
    routes: () => routes.map((r) => [r.id, r.method, r.path]),
    hooks: () => hookSubs.map((s) => [s.id, s.name, s.tags]),
    crons: () => Array.from(crons.entries()).map(([id, c]) => [id, c.expr]),

    handleRoute(id, raw) {
      collectionCache = new Map();
      const route = routes[id];
      const e = requestEvent(raw);
      try {
        if (!route) throw new NotFoundError();
        runChain(e, route.chain);
      } catch (err) {
        return errorTuple(err);
      } finally {
        e.next = undefined; // the chain closure refers to `e`: break the cycle
      }
      const res = e.__response() || [200, [], ""];
      return [0, res[0], res[1], res[2]];
    },

    // handleHook(id, eventJson): defined by events.js

    runCron(id) {
      collectionCache = new Map();
      const c = crons.get(id);
      try {
        if (c) c.fn();
      } catch (err) {
        return errorTuple(err);
      }
      return [0];
    },
  };

  // internals for the shim files evaluated after this one (see plugins/jsvm/src/lib.rs);
  // not part of the public hook API
  Object.defineProperty(global, "__pbi", {
    value: {
      host, hostCall, errorTuple, sortedKeys, registerHook, requestEvent, RequestEvent, runChain, findCollection, log, hookSubs,
      resetCache() { collectionCache = new Map(); },
    },
    enumerable: false,
  });

  Object.assign(global, {
    $app, $apis, Record, Collection, Middleware,
    ApiError, BadRequestError, UnauthorizedError, ForbiddenError, NotFoundError,
    TooManyRequestsError, InternalServerError, ValidationError,
  });
})(globalThis);
