// Smaller pieces of PocketBase's JS API: `$filepath` (Go's path/filepath on slash paths;
// no file system, so glob/walk throw), the `null*()` DynamicModel shape helpers, `Cookie`
// and `e.setCookie`, `$app.findRecordById` with optional query filters, and
// `$app.reloadSettings()`, the system auth record finders (`findAllExternalAuthsByRecord`, ...),
// `truncateCollection`, `isCollectionNameUnique`, `deleteTable`, `vacuum`, `e.isTLS/getAll/setAll`.
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { $app, Record } = global;

  // ---------------------------------------------------------------- $filepath

  function clean(path) {
    const p = String(path);
    if (p === "") return ".";
    const rooted = p.startsWith("/");
    const out = [];
    for (const seg of p.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (!rooted) out.push("..");
      } else out.push(seg);
    }
    const joined = out.join("/");
    if (rooted) return "/" + joined;
    return joined === "" ? "." : joined;
  }

  function base(path) {
    let p = String(path);
    if (p === "") return ".";
    p = p.replace(/\/+$/, "");
    if (p === "") return "/";
    return p.slice(p.lastIndexOf("/") + 1);
  }

  function globRegex(pattern) {
    let re = "^";
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i];
      if (ch === "*") re += "[^/]*";
      else if (ch === "?") re += "[^/]";
      else if (ch === "[") {
        const end = pattern.indexOf("]", i + 1);
        if (end < 0) throw new Error("syntax error in pattern");
        re += "[" + pattern.slice(i + 1, end) + "]";
        i = end;
      } else if (ch === "\\" && i + 1 < pattern.length) re += "\\" + pattern[++i];
      else re += ch.replace(/[.+^${}()|\]\\]/g, "\\$&");
    }
    return new RegExp(re + "$");
  }

  const noFileSystem = (name) => () => { throw new Error("$filepath." + name + " needs a file system, which PocketBun's JS hooks do not have"); };

  const $filepath = {
    base,
    clean,
    dir(path) {
      const p = String(path);
      return clean(p.slice(0, p.lastIndexOf("/") + 1));
    },
    ext(path) {
      const p = String(path);
      for (let i = p.length - 1; i >= 0 && p[i] !== "/"; i--) if (p[i] === ".") return p.slice(i);
      return "";
    },
    join(...parts) {
      const list = parts.map(String).filter((s) => s !== "");
      return list.length ? clean(list.join("/")) : "";
    },
    split(path) {
      const p = String(path);
      const i = p.lastIndexOf("/");
      return [p.slice(0, i + 1), p.slice(i + 1)];
    },
    splitList(path) { return String(path) === "" ? [] : String(path).split(":"); },
    isAbs(path) { return String(path).startsWith("/"); },
    fromSlash(path) { return String(path); },
    toSlash(path) { return String(path); },
    match(pattern, name) { return globRegex(String(pattern)).test(String(name)); },
    rel(basePath, targetPath) {
      const b = clean(basePath), t = clean(targetPath);
      if (b === t) return ".";
      if (b.startsWith("/") !== t.startsWith("/")) throw new Error("Rel: can't make " + targetPath + " relative to " + basePath);
      const bs = b === "." || b === "/" ? [] : b.replace(/^\//, "").split("/");
      const ts = t === "." || t === "/" ? [] : t.replace(/^\//, "").split("/");
      let i = 0;
      while (i < bs.length && i < ts.length && bs[i] === ts[i]) i++;
      if (bs.slice(i).includes("..")) throw new Error("Rel: can't make " + targetPath + " relative to " + basePath);
      return bs.slice(i).map(() => "..").concat(ts.slice(i)).join("/") || ".";
    },
    glob: noFileSystem("glob"),
    walk: noFileSystem("walk"),
    walkDir: noFileSystem("walkDir"),
  };

  // ---------------------------------------------------------------- null* shape helpers

  // Shape values for nullable columns: NULL stays null, anything else converts like the
  // typed shapes (see app.js `shaped`); unfilled they serialize as null.
  const nullable = (kind) => () => new pbi.NullShape(kind);

  // ---------------------------------------------------------------- cookies

  const SAME_SITE = { 2: "Lax", 3: "Strict", 4: "None" };

  // Go's http.Cookie (the fields hooks set)
  class Cookie {
    constructor(data) {
      Object.assign(this, { name: "", value: "", path: "", domain: "", expires: null, maxAge: 0, secure: false, httpOnly: false, sameSite: 0 }, data || {});
    }
    // Go's Cookie.String(): the Set-Cookie header value
    string() {
      const needsQuotes = /[ ,]/.test(String(this.value));
      let s = this.name + "=" + (needsQuotes ? '"' + this.value + '"' : this.value);
      if (this.path) s += "; Path=" + this.path;
      if (this.domain) s += "; Domain=" + String(this.domain).replace(/^\./, "");
      const expires = this.expires ? new Date(typeof this.expires.time === "function" ? this.expires.time() : this.expires) : null;
      if (expires && !isNaN(expires.getTime()) && expires.getUTCFullYear() >= 1601) s += "; Expires=" + expires.toUTCString().replace(/GMT$/, "GMT");
      if (this.maxAge > 0) s += "; Max-Age=" + Math.trunc(this.maxAge);
      else if (this.maxAge < 0) s += "; Max-Age=0";
      if (this.httpOnly) s += "; HttpOnly";
      if (this.secure) s += "; Secure";
      if (SAME_SITE[this.sameSite]) s += "; SameSite=" + SAME_SITE[this.sameSite];
      return s;
    }
  }

  Object.assign(pbi.RequestEvent.prototype, {
    setCookie(cookie) {
      const c = cookie instanceof Cookie ? cookie : new Cookie(cookie);
      this.response.header().add("Set-Cookie", c.string());
    },
    // PocketBun serves plain HTTP (TLS ends at a proxy, as PocketBase's r.TLS would be nil)
    isTLS() { return false; },
    // the per-request store as a whole
    getAll() { return Object.assign({}, this.__store || {}); },
    setAll(values) { this.__store = Object.assign({}, values || {}); },
  });

  // ---------------------------------------------------------------- system records

  // the rows of a system auth collection (`_externalAuths`, `_mfas`, `_otps`,
  // `_authOrigins`) that belong to a record or a collection, oldest first
  function systemRecords(system, where) {
    return $app.recordQuery(system).where(global.$dbx.hashExp(where)).orderBy("created ASC").all(global.arrayOf(new Record()));
  }
  const byRecord = (system) => function (record) {
    return systemRecords(system, { collectionRef: record.collection().id, recordRef: record.id });
  };
  const byCollection = (system) => function (collection) {
    return systemRecords(system, { collectionRef: $app.findCollectionByNameOrId(collection.id || collection).id });
  };
  // deletes one by one through $app.delete (the delete hooks fire, as in PocketBase)
  const deleteAllByRecord = (system) => function (record) {
    for (const r of byRecord(system)(record)) this.delete(r);
  };

  // ---------------------------------------------------------------- $app

  const baseFindRecordById = $app.findRecordById;
  Object.assign($app, {
    // findRecordById(collection, id, ...optFilters): each filter gets the record query
    // (`(q) => { q.andWhere($dbx.hashExp({status: "active"})) }`; a returned Error fails the lookup)
    findRecordById(collection, id, ...optFilters) {
      const filters = optFilters.filter((f) => typeof f === "function");
      if (!filters.length) return baseFindRecordById.call(this, collection, id);
      const q = this.recordQuery(collection).andWhere(global.$dbx.hashExp({ id: String(id) }));
      for (const f of filters) {
        const err = f(q);
        if (err instanceof Error) throw err;
      }
      return q.one(new Record());
    },
    // the settings are always the stored ones (a no-op kept for compatibility)
    reloadSettings() {},
    findAllExternalAuthsByRecord: byRecord("_externalAuths"),
    findAllExternalAuthsByCollection: byCollection("_externalAuths"),
    findAllMFAsByRecord: byRecord("_mfas"),
    findAllMFAsByCollection: byCollection("_mfas"),
    findAllOTPsByRecord: byRecord("_otps"),
    findAllOTPsByCollection: byCollection("_otps"),
    findAllAuthOriginsByRecord: byRecord("_authOrigins"),
    findAllAuthOriginsByCollection: byCollection("_authOrigins"),
    deleteAllExternalAuthsByRecord: deleteAllByRecord("_externalAuths"),
    deleteAllMFAsByRecord: deleteAllByRecord("_mfas"),
    deleteAllOTPsByRecord: deleteAllByRecord("_otps"),
    deleteAllAuthOriginsByRecord: deleteAllByRecord("_authOrigins"),
    // deletes every record through $app.delete (hooks, cascades and files as for any delete)
    truncateCollection(collection) {
      const c = this.findCollectionByNameOrId(collection.id || collection);
      if (c.isView()) throw new Error("view collections cannot be truncated since they don't store their own records");
      for (const r of this.findAllRecords(c)) this.delete(r);
    },
    isCollectionNameUnique(name, ...excludeIds) {
      const rows = this.db().select("id").from("_collections").where(global.$dbx.exp("LOWER([[name]]) = {:n}", { n: String(name).toLowerCase() })).all();
      return !rows.some((r) => !excludeIds.includes(r.id));
    },
    deleteTable(name) { this.db().newQuery("DROP TABLE IF EXISTS {{" + String(name) + "}}").execute(); },
    vacuum() { this.db().newQuery("VACUUM").execute(); },
  });

  Object.assign(global, {
    $filepath, Cookie,
    nullString: nullable("string"), nullInt: nullable("int"), nullFloat: nullable("float"), nullBool: nullable("bool"),
    nullArray: nullable("array"), nullObject: nullable("object"),
  });
})(globalThis);
