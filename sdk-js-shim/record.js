// Record helpers PocketBase's `core.Record` has beyond the basics of pb.js/events.js
// (clone/fresh, raw access, expand helpers, dates, auth field helpers), `DateTime`,
// `e.bindBody`, and the `$apis.requireSuperuserOrOwnerAuth`/`skipSuccessActivityLog`
// middlewares.
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { Record, DynamicModel, $apis, UnauthorizedError, ForbiddenError } = global;

  function copy(v) {
    return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
  }

  // ---------------------------------------------------------------- DateTime

  // PocketBase's types.DateTime: UTC, "2006-01-02 15:04:05.000Z" as text. `new DateTime()`
  // and `new DateTime("")` are now (as in PocketBase); an empty date field gives the zero one.
  class DateTime {
    constructor(value) {
      if (value === undefined || value === null || value === "") this.__ms = Date.now();
      else if (value instanceof DateTime) this.__ms = value.__ms;
      else if (value instanceof Date) this.__ms = value.getTime();
      else if (typeof value === "number") this.__ms = value;
      else this.__ms = parseDate(String(value));
    }
    isZero() { return this.__ms === null; }
    unix() { return this.__ms === null ? -62135596800 : Math.floor(this.__ms / 1000); }
    string() {
      if (this.__ms === null) return "";
      return new Date(this.__ms).toISOString().replace("T", " ");
    }
    toString() { return this.string(); }
    toJSON() { return this.string(); }
    time() { return new Date(this.__ms === null ? -62135596800000 : this.__ms); }
    // durations are Go's (nanoseconds)
    add(ns) { return new DateTime(this.__ms + Math.trunc(Number(ns) / 1e6)); }
    sub(other) { return (this.__ms - new DateTime(other).__ms) * 1e6; }
    addDate(years, months, days) {
      const d = new Date(this.__ms);
      d.setUTCFullYear(d.getUTCFullYear() + (years | 0), d.getUTCMonth() + (months | 0), d.getUTCDate() + (days | 0));
      return new DateTime(d.getTime());
    }
    after(other) { return this.__ms > new DateTime(other).__ms; }
    before(other) { return this.__ms < new DateTime(other).__ms; }
    equal(other) { return this.__ms === new DateTime(other).__ms; }
    compare(other) { const o = new DateTime(other).__ms; return this.__ms < o ? -1 : this.__ms > o ? 1 : 0; }
  }

  // PocketBase's date text (space or T separator, optional fraction and zone); null = zero
  function parseDate(text) {
    const s = text.trim();
    if (!s) return null;
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? s + "T00:00:00Z" : s.replace(" ", "T");
    const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : iso + "Z";
    const ms = Date.parse(withZone);
    return Number.isFinite(ms) ? ms : null;
  }

  // ---------------------------------------------------------------- Record

  function expandedRecords(value) {
    if (value == null) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.filter((v) => v && typeof v === "object").map((v) => (v instanceof Record ? v : Record.__fromHost(v)));
  }

  Object.assign(Record.prototype, {
    // a copy (same collection, data, expand and new/stored state)
    clone() {
      const r = new Record(null);
      r.__collection = this.__collection;
      r.__collectionRef = this.__collectionRef;
      r.__data = copy(this.__data);
      r.__pending = copy(this.__pending);
      r.__new = this.__new;
      if (this.__expand) r.__expand = copy(this.__expand);
      if (this.__original) r.__original = copy(this.__original);
      return r;
    },
    // a copy with only the field values (no expand, no unsaved password)
    fresh() {
      const r = this.clone();
      r.__pending = {};
      r.__expand = undefined;
      r.__hidden = undefined;
      return r;
    },
    getRaw(f) { return this.get(f); },
    setRaw(f, v) { this.__data[f] = v; },
    // sets only fields the collection has (PocketBase's SetIfFieldExists); returns the field
    setIfFieldExists(f, v) {
      const c = this.collection();
      const field = c ? c.fields.find((x) => x.name === f) : null;
      if (field) this.set(f, v);
      return field || null;
    },
    getDateTime(f) {
      const d = new DateTime(0);
      d.__ms = parseDate(this.getString(f));
      return d;
    },
    getGeoPoint(f) {
      const v = this.get(f);
      return { lon: Number(v && v.lon) || 0, lat: Number(v && v.lat) || 0 };
    },
    // JSON field value into `target` (a string is parsed first)
    unmarshalJSONField(f, target) {
      let v = this.get(f);
      if (typeof v === "string") v = v === "" ? null : JSON.parse(v);
      if (v && typeof v === "object" && target && typeof target === "object") Object.assign(target, copy(v));
      return target;
    },
    emailVisibility() { return this.getBool("emailVisibility"); },
    setEmailVisibility(v) { this.set("emailVisibility", !!v); },
    // a random 30 characters password (returned, as PocketBase does)
    setRandomPassword() {
      const p = global.$security.randomString(30);
      this.setPassword(p);
      return p;
    },
    pk() { return this.id; },
    lastSavedPK() { return this.__new ? "" : this.id; },
    markAsNew() { this.__new = true; },
    markAsNotNew() { this.__new = false; },
    baseFilesPath() { const c = this.collection(); return (c ? c.id : "") + "/" + this.id; },
    // the expanded record(s) of a relation field (after an expand)
    expandedOne(rel) { return expandedRecords((this.__expand || {})[rel])[0] || null; },
    expandedAll(rel) { return expandedRecords((this.__expand || {})[rel]); },
    mergeExpand(obj) { this.__expand = Object.assign({}, this.__expand || {}, obj || {}); this.__expandView = undefined; },
    // the email in the API view regardless of emailVisibility
    ignoreEmailVisibility(on) { this.__ignoreEmailVisibility = !!on; },
    // values set on the record that are not fields of its collection
    customData() {
      const c = this.collection();
      const fields = new Set((c ? c.fields : []).map((f) => f.name));
      const out = {};
      for (const k of Object.keys(this.__data)) if (!fields.has(k)) out[k] = this.__data[k];
      return out;
    },
    // the tags its hooks fire with: the collection name and id
    hookTags() { const c = this.collection(); return c ? [c.name, c.id] : []; },
  });

  // (on pb.js's base class: collections found through records are of that class)
  Object.assign(Object.getPrototypeOf(global.Collection).prototype, {
    pk() { return this.id; },
    lastSavedPK() { return this.id || ""; },
    baseFilesPath() { return this.id; },
  });

  // The API view includes the expanded records (their own API views), as PocketBase's
  // PublicExport does; keys stay sorted.
  const baseApiView = Record.prototype.__apiView;
  Record.prototype.__apiView = function () {
    const out = baseApiView.call(this);
    // `hide()` (events.js) and `ignoreEmailVisibility(true)` apply here too, as in PocketBase
    if (this.__hidden) for (const f of this.__hidden) delete out[f];
    if (this.__ignoreEmailVisibility && "email" in this.__data) out.email = this.__data.email;
    if (this.__unhidden) for (const f of this.__unhidden) if (f in this.__data) out[f] = this.__data[f];
    if (this.__expandView !== undefined) {
      // already the requester's view (enrichRecord); `{}` when nothing could be expanded,
      // as PocketBase answers
      out.expand = this.__expandView;
    } else if (this.__expand && Object.keys(this.__expand).length) {
      const expand = {};
      for (const [k, v] of Object.entries(this.__expand)) expand[k] = Array.isArray(v) ? v.map(publicOf) : publicOf(v);
      out.expand = expand;
    }
    return out;
  };

  function publicOf(v) {
    if (v instanceof Record) return v.publicExport();
    if (!v || typeof v !== "object") return v;
    const r = Record.__fromHost(v);
    if (v.expand) r.__expand = v.expand;
    return r.publicExport();
  }

  // Stored records (with an id) grouped by their collection's name: one host call per group.
  function byCollectionName(records) {
    const groups = new Map();
    for (const r of records) {
      const c = r.collection();
      if (!c) continue;
      if (!groups.has(c.name)) groups.set(c.name, []);
      groups.get(c.name).push(r);
    }
    return groups;
  }

  // `$app.expandRecord(record, expands)` / `expandRecords(records, expands)`: the relations
  // of the stored records (without view rules, as PocketBase's app does), merged into
  // their expand. A custom fetch function is not supported (PocketBun fetches itself).
  function expandRecords(records, expands) {
    const paths = (expands || []).map(String).filter(Boolean).join(",");
    const list = (records || []).filter((r) => r instanceof Record && r.id);
    if (!paths) return {};
    const groups = byCollectionName(list);
    for (const [name, group] of groups) {
      const json = pbi.dao(pbi.host.recordsExpand, name, group.map((r) => r.id), paths);
      const byId = new Map(JSON.parse(json).map((x) => [x.id, x]));
      for (const r of group) {
        const found = byId.get(r.id);
        if (found && found.expand) r.mergeExpand(found.expand);
      }
    }
    return {};
  }

  Object.assign(global.$app, {
    expandRecord(record, expands) { return expandRecords([record], expands); },
    expandRecords(records, expands) { return expandRecords(records, expands); },
  });

  // ---------------------------------------------------------------- request event

  // `e.bindBody(target)`: the request body (JSON or form) into an object or DynamicModel
  // (a DynamicModel takes only its own keys, converted to their shape's types)
  function bindBody(target) {
    const body = this.requestInfo().body || {};
    if (target instanceof DynamicModel) {
      const picked = {};
      for (const k of Object.keys(target.__shape)) if (k in body) picked[k] = body[k];
      Object.assign(target, pbi.shaped(target.__shape, picked));
      for (const k of Object.keys(target.__shape)) if (!(k in picked)) target[k] = target.__shape[k];
    } else if (target && typeof target === "object") {
      Object.assign(target, copy(body));
    }
    return target;
  }

  pbi.RequestEvent.prototype.bindBody = bindBody;

  // ---------------------------------------------------------------- $apis

  // `$apis.enrichRecord(s)(e, record(s), ...defaultExpands)`: the records as the request's
  // requester sees them (view rules on `?expand` plus the defaults, email and hidden fields
  // per requester), ready for `e.json`. PocketBun does not run onRecordEnrich here.
  function enrichRecords(e, records, defaults) {
    const list = (records || []).filter((r) => r instanceof Record && r.id);
    const fromQuery = e.request.url.query().get("expand");
    const paths = defaults.map(String).concat(fromQuery ? [fromQuery] : []).filter(Boolean).join(",");
    const auth = e.auth;
    const authCollection = auth && auth.collection() ? auth.collection().name : "";
    const groups = byCollectionName(list);
    for (const [name, group] of groups) {
      const json = pbi.dao(pbi.host.recordsEnrich, name, group.map((r) => r.id), paths, authCollection, auth ? auth.id : "");
      const views = new Map(JSON.parse(json).map((v) => [v.id, v]));
      for (const r of group) {
        const view = views.get(r.id);
        if (!view) continue;
        r.__expand = view.expand;
        r.__expandView = paths ? view.expand || {} : undefined;
        r.__ignoreEmailVisibility = "email" in view;
        const hidden = (r.collection().fields || []).filter((f) => f.hidden && f.name in view).map((f) => f.name);
        r.__unhidden = hidden.length ? new Set(hidden) : undefined;
      }
    }
  }

  Object.assign($apis, {
    enrichRecord(e, record, ...defaultExpands) { enrichRecords(e, [record], defaultExpands); },
    enrichRecords(e, records, ...defaultExpands) { enrichRecords(e, records, defaultExpands); },
    // a superuser, or the auth record whose id is the path parameter `ownerIdPathParam`
    requireSuperuserOrOwnerAuth(ownerIdPathParam) {
      const param = ownerIdPathParam || "id";
      return (e) => {
        if (!e.auth) throw new UnauthorizedError("The request requires superuser or record authorization token.");
        if (e.auth.isSuperuser()) return e.next();
        const ownerId = e.request.pathValue(param);
        if (!ownerId || ownerId !== e.auth.id) throw new ForbiddenError("You are not allowed to perform this request.");
        return e.next();
      };
    },
    // (PocketBun logs every request the same way)
    skipSuccessActivityLog() { return (e) => e.next(); },
  });

  global.DateTime = DateTime;
})(globalThis);
