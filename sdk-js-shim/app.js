// `$app`'s data access (PocketBase's DAO: find*, count, save, validate, delete, db()),
// `$dbx` expressions, `DynamicModel`/`arrayOf`, `$app.runInTransaction` and the mailer
// (`$app.newMailClient()`, `MailerMessage`). Builds on pb.js (`__pbi`).
//
// Errors thrown by these methods are Go-like errors (`DaoError`), as PocketBase's `$app`
// throws Go errors: `err.message` is Go's text ("sql: no rows in result set"); when a
// handler lets one escape, the response is what PocketBase's router makes of a plain
// error (a 404 for "no rows", else a 400 with the validation errors as data).
(function (global) {
  "use strict";

  const { host, log, findCollection } = global.__pbi;
  const $app = global.$app;
  const { Record, Collection, ApiError } = global;

  const NO_ROWS = "sql: no rows in result set";

  class DaoError extends Error {
    constructor(message, status, data) {
      super(message);
      this.name = "Error";
      this.status = status || 400;
      this.data = data && typeof data === "object" ? data : {};
    }
    // PocketBase's router.ToApiError for a non-API error
    __toApiError() {
      if (this.message === NO_ROWS) return new ApiError(404, "");
      return new ApiError(400, "", this.data);
    }
  }

  // ozzo-validation's Errors.Error(): "field: message; other: message.", nested errors in
  // parentheses ("meta: (appName: Cannot be blank.).")
  function validationText(data) {
    const text = (d) => Object.keys(d).sort().map((k) => {
      const v = d[k];
      if (v && typeof v === "object" && typeof v.code === "string") return k + ": " + String(v.message || "");
      if (v && typeof v === "object") return k + ": (" + text(v) + ")";
      return k + ": " + String(v);
    }).join("; ");
    return text(data) + ".";
  }

  // Runs a host import; its errors become DaoErrors with Go-like messages.
  function dao(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      if (!err || !err.__hostError) throw err;
      if (err.status === 404) throw new DaoError(NO_ROWS, 404);
      const data = err.data || {};
      throw new DaoError(Object.keys(data).length ? validationText(data) : err.message, err.status, data);
    }
  }

  // Record writes: an API error a record hook threw (e.g. `BadRequestError` in
  // onRecordValidate) reaches the caller unchanged, as PocketBase passes hook errors through
  // `app.Save`; the core's own failures ("Failed to create record." + field errors) become
  // DaoErrors like Go's validation errors.
  function daoWrite(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      const own = err && err.__hostError && err.status !== 404 && err.message && !String(err.message).startsWith("Failed to ");
      if (own) throw new ApiError(err.status, err.message, err.data || {});
      return dao(() => { throw err; });
    }
  }

  // (pb.js caches collections for the duration of one host call)
  function collectionOf(c) {
    if (c instanceof Collection) return c;
    try {
      return findCollection(String(c));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new DaoError(NO_ROWS, 404);
      throw err;
    }
  }

  function fromHost(json) {
    return JSON.parse(json).map(Record.__fromHost);
  }

  // ---------------------------------------------------------------- $dbx

  // An expression renders to SQL text with `{:name}` placeholders, adding its values to
  // `params` under unique names (so several expressions can be combined).
  class Expression {
    constructor(render) { this.__render = render; }
    build(params) { return this.__render(params); }
  }

  let paramSeq = 0;
  function bindValue(params, value) {
    const name = "dbx" + paramSeq++;
    params[name] = value;
    return "{:" + name + "}";
  }

  function col(name) { return "[[" + String(name) + "]]"; }

  function joined(op, exprs) {
    const list = exprs.filter(Boolean);
    return new Expression((p) => {
      const parts = list.map((e) => e.build(p)).filter((s) => s);
      if (!parts.length) return "";
      return parts.length === 1 ? parts[0] : parts.map((s) => "(" + s + ")").join(" " + op + " ");
    });
  }

  function inExp(negate, column, values) {
    return new Expression((p) => {
      if (!values.length) return negate ? "" : "0=1";
      if (values.length === 1 && values[0] === null) return col(column) + (negate ? " IS NOT NULL" : " IS NULL");
      return col(column) + (negate ? " NOT IN (" : " IN (") + values.map((v) => bindValue(p, v)).join(", ") + ")";
    });
  }

  // dbx's LikeExp: every value becomes `%value%` with the LIKE wildcards escaped
  function likeExp(not, or, column, values) {
    return new Expression((p) => {
      const parts = values.map((v) => {
        const escaped = String(v).replace(/\\/g, "\\\\").replace(/%/g, "\\%").replace(/_/g, "\\_");
        return col(column) + (not ? " NOT LIKE " : " LIKE ") + bindValue(p, "%" + escaped + "%") + " ESCAPE '\\'";
      });
      return parts.join(or ? " OR " : " AND ");
    });
  }

  const $dbx = {
    exp(sql, params) {
      return new Expression((p) => {
        let text = String(sql);
        for (const k of Object.keys(params || {})) {
          const name = bindValue(p, params[k]);
          text = text.split("{:" + k + "}").join(name);
        }
        return text;
      });
    },
    hashExp(obj) {
      return new Expression((p) => {
        const parts = [];
        for (const k of Object.keys(obj || {}).sort()) {
          const v = obj[k];
          if (v === null || v === undefined) parts.push(col(k) + " IS NULL");
          else if (Array.isArray(v)) parts.push(inExp(false, k, v).build(p));
          else if (v instanceof Expression) parts.push(v.build(p));
          else parts.push(col(k) + "=" + bindValue(p, v));
        }
        return parts.length > 1 ? parts.map((s) => "(" + s + ")").join(" AND ") : parts.join("");
      });
    },
    not(e) { return new Expression((p) => { const s = e.build(p); return s ? "NOT (" + s + ")" : ""; }); },
    and: (...e) => joined("AND", e),
    or: (...e) => joined("OR", e),
    in: (column, ...values) => inExp(false, column, values),
    notIn: (column, ...values) => inExp(true, column, values),
    like: (column, ...values) => likeExp(false, false, column, values),
    notLike: (column, ...values) => likeExp(true, false, column, values),
    orLike: (column, ...values) => likeExp(false, true, column, values),
    orNotLike: (column, ...values) => likeExp(true, true, column, values),
    exists: (e) => new Expression((p) => "EXISTS (" + e.build(p) + ")"),
    notExists: (e) => new Expression((p) => "NOT EXISTS (" + e.build(p) + ")"),
    between: (column, from, to) => new Expression((p) => col(column) + " BETWEEN " + bindValue(p, from) + " AND " + bindValue(p, to)),
    notBetween: (column, from, to) => new Expression((p) => col(column) + " NOT BETWEEN " + bindValue(p, from) + " AND " + bindValue(p, to)),
  };

  // dbx quoting: `{{table}}` and `[[column]]` (dotted names quote each part)
  function quoteNames(sql) {
    const q = (name) => name.split(".").map((part) => "`" + part.replace(/`/g, "``") + "`").join(".");
    return String(sql).replace(/\{\{([^{}]+)\}\}/g, (_, n) => q(n.trim())).replace(/\[\[([^\[\]]+)\]\]/g, (_, n) => q(n.trim()));
  }

  function whereOf(exprs, params) {
    const parts = exprs.filter(Boolean).map((e) => (e instanceof Expression ? e.build(params) : "")).filter((s) => s);
    return parts.length ? " WHERE " + parts.map((s) => "(" + s + ")").join(" AND ") : "";
  }

  // ---------------------------------------------------------------- DynamicModel

  class DynamicModel {
    constructor(shape) {
      Object.defineProperty(this, "__shape", { value: Object.assign({}, shape || {}), enumerable: false });
      Object.assign(this, shape || {});
    }
  }

  function arrayOf(model) {
    const arr = [];
    Object.defineProperty(arr, "__template", { value: model, enumerable: false });
    return arr;
  }

  // The shape value of `nullString()`, `nullInt()`, ... (extras.js): a nullable column.
  class NullShape {
    constructor(kind) { this.kind = kind; }
    toJSON() { return null; }
  }
  const NULL_SAMPLES = { string: "", int: 0, float: 0, bool: false, array: [], object: {} };

  // Converts a row to the shape of a DynamicModel (PocketBase scans into typed fields).
  function shaped(shape, row) {
    const out = new DynamicModel(shape);
    for (const k of Object.keys(shape)) {
      if (!(k in row)) continue;
      const v = row[k];
      let d = shape[k];
      if (d instanceof NullShape) {
        if (v === null || v === undefined) { out[k] = null; continue; }
        d = NULL_SAMPLES[d.kind];
      }
      if (typeof d === "string") out[k] = v === null ? "" : String(v);
      else if (typeof d === "number") out[k] = shape[k] instanceof NullShape && shape[k].kind === "int" ? Math.trunc(Number(v) || 0) : Number(v) || 0;
      else if (typeof d === "boolean") out[k] = v === true || v === 1 || v === "1" || v === "true";
      else if (d !== null && typeof d === "object" && typeof v === "string") {
        try { out[k] = JSON.parse(v); } catch (_) { out[k] = Array.isArray(d) ? [] : {}; }
      } else out[k] = v;
    }
    return out;
  }

  // ---------------------------------------------------------------- db().newQuery

  function newQuery(sql) {
    let params = {};
    const rows = () => JSON.parse(dao(host.dbQuery, quoteNames(sql), params));
    return {
      bind(p) { params = Object.assign({}, params, p || {}); return this; },
      execute() {
        const n = dao(host.dbExec, quoteNames(sql), params);
        return { rowsAffected: () => n, lastInsertId: () => 0 };
      },
      all(target) {
        const list = rows();
        if (Array.isArray(target)) {
          const tpl = target.__template;
          target.length = 0;
          for (const r of list) target.push(tpl instanceof DynamicModel ? shaped(tpl.__shape, r) : r);
        }
        return list;
      },
      one(target) {
        const list = rows();
        if (!list.length) throw new DaoError(NO_ROWS, 404);
        if (target instanceof DynamicModel) Object.assign(target, shaped(target.__shape, list[0]));
        else if (target && typeof target === "object") Object.assign(target, list[0]);
        return list[0];
      },
    };
  }

  // ---------------------------------------------------------------- records

  // Loads full records by id, in the order of `ids` (the filter language binds each id).
  function recordsByIds(name, ids) {
    const byId = new Map();
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const params = {};
      const filter = chunk.map((id, j) => { params["id" + j] = id; return "id = {:id" + j + "}"; }).join(" || ");
      const json = dao(host.recordFindByFilter, name, filter, "", 0, 0, JSON.stringify(params));
      for (const r of fromHost(json)) byId.set(r.id, r);
    }
    return ids.map((id) => byId.get(id)).filter(Boolean);
  }

  // Records whose rows match dbx expressions (the SQL picks the ids and their order).
  function recordsWhere(collection, exprs, tail) {
    const c = collectionOf(collection);
    const params = {};
    // `*` (not just the id, which SQLite would read from the id index in id order) keeps
    // the table's row order, as PocketBase's record queries have it
    const sql = "SELECT * FROM {{" + c.name + "}}" + whereOf(exprs, params) + (tail || "");
    const ids = JSON.parse(dao(host.dbQuery, quoteNames(sql), params)).map((r) => r.id);
    return recordsByIds(c.name, ids);
  }

  function payloadOf(model) {
    if (!(model instanceof Record)) {
      throw new Error("PocketBun's $app can only save, validate and delete records (collections are managed with migrations/the API)");
    }
    const c = model.collection();
    if (!c) throw new DaoError("the record has no collection");
    return [c.name, JSON.stringify(model.__payload())];
  }

  function checkAuth(c) {
    if (!c.isAuth()) throw new DaoError(JSON.stringify(c.name) + " is not an auth collection");
  }

  // ---------------------------------------------------------------- transactions

  let inTransaction = false;

  // PocketBase's txApp: the same API; every call of this instance runs in the open
  // transaction (so the outer $app joins it too, where PocketBase would wait for the lock).
  const txApp = Object.create($app);
  txApp.isTransactional = () => true;

  function runInTransaction(fn) {
    if (typeof fn !== "function") throw new Error("runInTransaction: expected a function");
    if (inTransaction) {
      // PocketBase runs a nested transaction function in the outer transaction
      fn(txApp);
      return;
    }
    dao(host.txBegin);
    inTransaction = true;
    let ok = false;
    try {
      const r = fn(txApp);
      if (r instanceof Error) throw r;
      ok = true;
    } finally {
      inTransaction = false;
      if (ok) {
        dao(host.txCommit);
      } else {
        try { host.txRollback(); } catch (e) { log("warn", "rollback failed: " + (e && e.message)); }
      }
    }
  }

  // ---------------------------------------------------------------- mail

  class MailerMessage {
    constructor(data) {
      this.from = { address: "", name: "" };
      this.to = [];
      this.bcc = [];
      this.cc = [];
      this.subject = "";
      this.html = "";
      this.text = "";
      this.headers = {};
      this.attachments = {};
      this.inlineAttachments = {};
      Object.assign(this, data || {});
    }
  }

  function mailAddress(a) {
    if (!a) return { address: "", name: "" };
    if (typeof a === "string") return { address: a, name: "" };
    return { address: String(a.address || ""), name: String(a.name || "") };
  }

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function base64(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }

  const utf8 = global.__pbi.utf8Encode;

  // Attachments travel to the host as base64: strings are sent as their UTF-8 text, byte
  // arrays (Array, Uint8Array, ArrayBuffer) as they are.
  function attachmentsOut(map) {
    const out = {};
    for (const [name, v] of Object.entries(map || {})) {
      if (v instanceof ArrayBuffer) out[name] = base64(new Uint8Array(v));
      else if (Array.isArray(v) || ArrayBuffer.isView(v)) out[name] = base64(v);
      else out[name] = base64(utf8(v));
    }
    return out;
  }

  // (shared with later shim files, e.g. filesystem.js)
  global.__pbi.base64 = base64;

  function mailClient() {
    return {
      send(message) {
        const m = message || {};
        const payload = {
          from: mailAddress(m.from),
          to: (m.to || []).map(mailAddress),
          cc: (m.cc || []).map(mailAddress),
          bcc: (m.bcc || []).map(mailAddress),
          subject: String(m.subject || ""),
          html: String(m.html || ""),
          text: String(m.text || ""),
          headers: m.headers || {},
          attachments: attachmentsOut(m.attachments),
          inlineAttachments: attachmentsOut(m.inlineAttachments),
        };
        dao(host.mailSend, JSON.stringify(payload));
      },
    };
  }

  // ---------------------------------------------------------------- $app

  Object.assign($app, {
    findCollectionByNameOrId(x) { return collectionOf(x); },
    findCachedCollectionByNameOrId(x) { return collectionOf(x); },
    findAllCollections(...types) {
      const rows = JSON.parse(dao(host.dbQuery, "SELECT id FROM _collections ORDER BY rowid", {}));
      const all = rows.map((r) => collectionOf(r.id));
      return types.length ? all.filter((c) => types.includes(c.type)) : all;
    },
    hasTable(name) {
      const rows = JSON.parse(dao(host.dbQuery, "SELECT 1 AS x FROM sqlite_schema WHERE type IN ('table', 'view') AND name = {:n} LIMIT 1", { n: String(name) }));
      return rows.length > 0;
    },
    tableColumns(name) {
      return JSON.parse(dao(host.dbQuery, "SELECT name FROM pragma_table_info({:n})", { n: String(name) })).map((r) => r.name);
    },
    findRecordById(collection, id) {
      const c = collectionOf(collection);
      return Record.__fromHost(JSON.parse(dao(host.recordFindById, c.name, String(id))));
    },
    findRecordsByIds(collection, ids, ...exprs) {
      const list = (ids || []).map(String);
      if (!list.length) return [];
      return recordsWhere(collection, [$dbx.in("id", ...list)].concat(exprs));
    },
    findAllRecords(collection, ...exprs) { return recordsWhere(collection, exprs); },
    findFirstRecordByData(collection, key, value) {
      const list = recordsWhere(collection, [$dbx.hashExp({ [key]: value })], " LIMIT 1");
      if (!list.length) throw new DaoError(NO_ROWS, 404);
      return list[0];
    },
    findRecordsByFilter(collection, filter, sort, limit, offset, params) {
      const c = collectionOf(collection);
      const json = dao(host.recordFindByFilter, c.name, String(filter || ""), String(sort || ""),
        Math.max(0, limit | 0), Math.max(0, offset | 0), JSON.stringify(params || {}));
      return fromHost(json);
    },
    findFirstRecordByFilter(collection, filter, params) {
      const list = this.findRecordsByFilter(collection, filter, "", 1, 0, params);
      if (!list.length) throw new DaoError(NO_ROWS, 404);
      return list[0];
    },
    countRecords(collection, ...exprs) {
      const c = collectionOf(collection);
      const params = {};
      const sql = "SELECT COUNT(*) AS n FROM {{" + c.name + "}}" + whereOf(exprs, params);
      return JSON.parse(dao(host.dbQuery, quoteNames(sql), params))[0].n;
    },
    findAuthRecordByEmail(collection, email) {
      const c = collectionOf(collection);
      checkAuth(c);
      // case-insensitive only when a unique single-column email index says so (PocketBase)
      const nocase = (c.indexes || []).some((ix) => /^\s*CREATE\s+UNIQUE\s+INDEX/i.test(ix) &&
        /\(\s*[`"\[]?email[`"\]]?\s+COLLATE\s+NOCASE\s*\)/i.test(ix));
      const expr = nocase ? $dbx.exp("[[email]] = {:email} COLLATE NOCASE", { email: String(email) }) : $dbx.hashExp({ email: String(email) });
      const list = recordsWhere(c, [expr], " LIMIT 1");
      if (!list.length) throw new DaoError(NO_ROWS, 404);
      return list[0];
    },
    save(model) {
      const [name, json] = payloadOf(model);
      model.__refresh(JSON.parse(daoWrite(host.recordSave, name, json)));
    },
    saveNoValidate(model) {
      const [name, json] = payloadOf(model);
      model.__refresh(JSON.parse(daoWrite(host.recordSaveNoValidate, name, json)));
    },
    validate(model) {
      const [name, json] = payloadOf(model);
      daoWrite(host.recordValidate, name, json);
    },
    delete(model) {
      const [name] = payloadOf(model);
      daoWrite(host.recordDelete, name, model.id);
    },
    db() { return { newQuery }; },
    nonconcurrentDB() { return this.db(); },
    concurrentDB() { return this.db(); },
    isDev() { return host.devMode(); },
    isTransactional() { return false; },
    runInTransaction,
    newMailClient() { return mailClient(); },
  });

  global.__pbi.DaoError = DaoError;
  // for the query builders of query.js
  Object.assign(global.__pbi, { Expression, bindValue, quoteNames, whereOf, shaped, NullShape, recordsByIds, dao, collectionOf, NO_ROWS });
  Object.assign(global, { $dbx, DynamicModel, arrayOf, MailerMessage });
})(globalThis);
