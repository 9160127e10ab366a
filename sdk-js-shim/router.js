// `routerUse`: global middlewares around every request (built-in APIs, static files and
// plugin routes), with PocketBase's semantics: `(e) => { ...; return e.next() }` or
// `new Middleware(fn, priority, id)`; lower priorities run first, equal ones in
// registration order, and a middleware with the id of an earlier one replaces it.
//
// The host fires the hook "router-use" only when some plugin subscribed. Its event is
// `{request}`; the last `e.next()` asks the host to serve the request (with the request
// headers and the auth changed here, and the response headers set so far) and gets back
// `{response: {status, headers}}`, so `e.status()`/`e.written()` tell what the request
// answered. A middleware that answers itself (`e.json(...)`) without `e.next()` is the
// response; one that throws answers with the error envelope.
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { Middleware } = global;
  const HOOK = "router-use";

  const middlewares = []; // {fn, priority, id, seq}, sorted
  let seq = 0;
  let hookId = -1;

  function entry(m) {
    if (typeof m === "function") return { fn: m, priority: 0, id: "" };
    if (m instanceof Middleware || (m && typeof m.fn === "function")) {
      if (typeof m.fn !== "function") throw new Error("routerUse: the middleware function is missing");
      return { fn: m.fn, priority: Number(m.priority) || 0, id: m.id ? String(m.id) : "" };
    }
    throw new Error("routerUse: expected a function or Middleware");
  }

  global.routerUse = function (...list) {
    for (const m of list) {
      const x = entry(m);
      x.seq = seq++;
      if (x.id) {
        const i = middlewares.findIndex((y) => y.id === x.id);
        if (i >= 0) middlewares.splice(i, 1);
      }
      middlewares.push(x);
    }
    middlewares.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    if (hookId < 0) {
      // the handler list of the subscription stays unused: handleMiddlewares runs them
      pbi.registerHook(HOOK, () => undefined, []);
      hookId = pbi.hookSubs.find((s) => s.name === HOOK && !s.tags.length).id;
    }
  };

  function headerList(map) {
    const out = [];
    for (const k of Object.keys(map)) for (const v of map[k]) out.push([k, v]);
    return out;
  }

  function handleMiddlewares(eventJson) {
    pbi.resetCache();
    const ev = JSON.parse(eventJson);
    const e = pbi.requestEvent(ev.request);
    // response headers of an earlier plugin's middlewares
    if (Array.isArray(ev.responseHeaders)) for (const h of ev.responseHeaders) e.__resHeaders.push(h);
    let inner = null;
    const auth = e.auth;
    e.status = () => (inner ? inner.status : e.__body ? e.__body.status : 0);
    e.written = () => !!inner || e.__body !== undefined;
    try {
      pbi.runChain(e, middlewares.map((m) => m.fn), () => {
        const out = { request: ev.request, responseHeaders: e.__resHeaders.slice() };
        const headers = e.__p.headers();
        if (headers.__changed) {
          out.request = Object.assign({}, ev.request, { headers: headerList(headers) });
          out.requestHeadersChanged = true;
        } else if (ev.requestHeadersChanged) {
          out.requestHeadersChanged = true;
        }
        if (e.auth !== auth) {
          // `e.auth = record` (or null): the handlers get that auth instead of the token's
          out.authChanged = true;
          out.auth = e.auth ? [e.auth.__collectionRef || e.auth.collection().id, e.auth.id] : null;
        } else if (ev.authChanged) {
          out.authChanged = true;
          out.auth = ev.auth;
        }
        const after = JSON.parse(pbi.hostCall(pbi.host.hookNext, JSON.stringify(out)));
        inner = after.response || { status: 200, headers: [] };
      });
    } catch (err) {
      return pbi.errorTuple(err);
    } finally {
      e.next = undefined; // the chain closure refers to `e`: break the cycle
    }
    // once the request was served its response wins (a later write is ignored, as in Go)
    return [0, "{}", inner ? null : e.__response()];
  }

  const handleHook = global.__pb.handleHook;
  global.__pb.handleHook = function (id, eventJson) {
    return id === hookId ? handleMiddlewares(eventJson) : handleHook(id, eventJson);
  };
})(globalThis);
