// `$http.send`: outgoing HTTP through the host's `http-client` import (host allowlist:
// POCKETBUN_HTTP_ALLOW). The result has PocketBase's shape: statusCode, headers (Go's
// canonical names -> value lists), cookies (by name), body (bytes), raw (text), json.
(function (global) {
  "use strict";

  const { host, utf8Decode } = global.__pbi;

  // Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type"
  function canonical(name) {
    return String(name).toLowerCase().replace(/(^|-)([a-z])/g, (_, d, ch) => d + ch.toUpperCase());
  }

  // A Set-Cookie header as Go's http.Cookie (the fields hooks use)
  function parseCookie(line) {
    const [pair, ...attrs] = String(line).split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) return null;
    const cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: "", domain: "", maxAge: 0, secure: false, httpOnly: false, sameSite: 0, raw: String(line) };
    for (const a of attrs) {
      const i = a.indexOf("=");
      const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
      const v = i < 0 ? "" : a.slice(i + 1).trim();
      if (k === "path") cookie.path = v;
      else if (k === "domain") cookie.domain = v;
      else if (k === "max-age") cookie.maxAge = parseInt(v, 10) || 0;
      else if (k === "secure") cookie.secure = true;
      else if (k === "httponly") cookie.httpOnly = true;
      else if (k === "samesite") cookie.sameSite = { lax: 2, strict: 3, none: 4 }[v.toLowerCase()] || 1;
    }
    return cookie;
  }

  function send(config) {
    const cfg = config || {};
    const method = String(cfg.method || "GET").toUpperCase();
    let timeout = parseInt(cfg.timeout, 10);
    if (!(timeout > 0)) timeout = 120;
    const headers = [];
    for (const k of Object.keys(cfg.headers || {})) headers.push([k, String(cfg.headers[k])]);
    let body = "";
    if (cfg.data && typeof cfg.data === "object" && Object.keys(cfg.data).length) body = JSON.stringify(cfg.data);
    else if (cfg.body !== undefined && cfg.body !== null) body = typeof cfg.body === "string" ? cfg.body : String(cfg.body);
    let reply;
    try {
      reply = host.httpSend(method, String(cfg.url || ""), headers, body, timeout * 1000);
    } catch (err) {
      // a Go error in PocketBase (an uncaught one answers 400)
      if (err && err.__hostError) throw new Error(err.message);
      throw err;
    }
    const [status, resHeaders, bytes] = reply;
    const result = { statusCode: status, headers: {}, cookies: {}, body: Array.from(bytes), raw: "", json: null };
    for (const [k, v] of resHeaders) {
      const name = canonical(k);
      (result.headers[name] = result.headers[name] || []).push(v);
      if (name === "Set-Cookie") {
        const cookie = parseCookie(v);
        if (cookie) result.cookies[cookie.name] = cookie;
      }
    }
    result.raw = utf8Decode(bytes);
    if (result.raw.length) {
      try {
        const v = JSON.parse(result.raw);
        result.json = v !== null && typeof v === "object" ? v : null;
      } catch (_) { result.json = null; }
    }
    return result;
  }

  Object.assign(global, { $http: { send } });
})(globalThis);
