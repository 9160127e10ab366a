// PocketBase's event hook families (`onRecordCreate`, `onRecordsListRequest`,
// `onRecordEnrich`, ...) on top of pb.js: registration functions and the event objects.
//
// The host sends each event as JSON and gets it back after the handlers ran (see
// `__pb.handleHook`). Known keys become live objects (`record` -> Record, `records` ->
// Record[], `collection` -> Collection, `collections` -> Collection[], `error` -> ApiError, `request` -> the request
// API of routes); every other key is plain data the handlers may change in place
// (`e.message.subject = ...`, `e.token = ...`) and is sent back as it is.
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { Record, Collection, ApiError } = global;

  // ---------------------------------------------------------------- registration

  // PocketBase's JS names; the host fires them under kebab-case names without the `on`
  // (`onRecordAuthWithOAuth2Request` -> "record-auth-with-oauth2-request").
  const HOOKS = [
    "onBootstrap", "onServe", "onTerminate",
    "onRecordValidate", "onRecordEnrich",
    "onRecordCreate", "onRecordCreateExecute", "onRecordAfterCreateSuccess", "onRecordAfterCreateError",
    "onRecordUpdate", "onRecordUpdateExecute", "onRecordAfterUpdateSuccess", "onRecordAfterUpdateError",
    "onRecordDelete", "onRecordDeleteExecute", "onRecordAfterDeleteSuccess", "onRecordAfterDeleteError",
    "onRecordsListRequest", "onRecordViewRequest", "onRecordCreateRequest", "onRecordUpdateRequest", "onRecordDeleteRequest",
    "onRecordAuthRequest", "onRecordAuthWithPasswordRequest", "onRecordAuthRefreshRequest",
    "onRecordAuthWithOTPRequest", "onRecordAuthWithOAuth2Request", "onRecordRequestOTPRequest",
    "onRecordRequestPasswordResetRequest", "onRecordConfirmPasswordResetRequest",
    "onRecordRequestVerificationRequest", "onRecordConfirmVerificationRequest",
    "onRecordRequestEmailChangeRequest", "onRecordConfirmEmailChangeRequest",
    "onCollectionValidate",
    "onCollectionCreate", "onCollectionCreateExecute", "onCollectionAfterCreateSuccess", "onCollectionAfterCreateError",
    "onCollectionUpdate", "onCollectionUpdateExecute", "onCollectionAfterUpdateSuccess", "onCollectionAfterUpdateError",
    "onCollectionDelete", "onCollectionDeleteExecute", "onCollectionAfterDeleteSuccess", "onCollectionAfterDeleteError",
    "onCollectionsListRequest", "onCollectionViewRequest", "onCollectionCreateRequest", "onCollectionUpdateRequest",
    "onCollectionDeleteRequest", "onCollectionsImportRequest",
    "onSettingsListRequest", "onSettingsUpdateRequest", "onSettingsReload",
    "onMailerSend", "onMailerRecordVerificationSend", "onMailerRecordPasswordResetSend",
    "onMailerRecordEmailChangeSend", "onMailerRecordOTPSend", "onMailerRecordAuthAlertSend",
    "onRealtimeConnectRequest", "onRealtimeSubscribeRequest", "onRealtimeMessageSend",
    "onFileDownloadRequest", "onFileTokenRequest",
    "onBackupCreate", "onBackupRestore",
    "onModelValidate",
    "onModelCreate", "onModelCreateExecute", "onModelAfterCreateSuccess", "onModelAfterCreateError",
    "onModelUpdate", "onModelUpdateExecute", "onModelAfterUpdateSuccess", "onModelAfterUpdateError",
    "onModelDelete", "onModelDeleteExecute", "onModelAfterDeleteSuccess", "onModelAfterDeleteError",
    "onBatchRequest",
  ];

  function hookName(fnName) {
    return fnName.slice(2)
      .replace("OAuth2", "Oauth2")
      .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
      .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
      .toLowerCase();
  }

  for (const fnName of HOOKS) {
    const name = hookName(fnName);
    global[fnName] = (handler, ...tags) => pbi.registerHook(name, handler, tags.map(String));
  }

  // ---------------------------------------------------------------- Record extras

  // Fields left out of the API response (onRecordEnrich: `e.record.hide("secret")`).
  Record.prototype.hide = function (...fields) {
    this.__hidden = this.__hidden || new Set();
    for (const f of fields) this.__hidden.add(String(f));
    return this;
  };
  Record.prototype.unhide = function (...fields) {
    if (this.__hidden) for (const f of fields) this.__hidden.delete(String(f));
    return this;
  };
  // The model's table, as PocketBase's models report it (handy in the generic onModel* hooks).
  Record.prototype.tableName = function () { return this.collection().name; };
  Collection.prototype.tableName = function () { return "_collections"; };
  // Accepted for compatibility: every key set on a PocketBun record is exported.
  Record.prototype.withCustomData = function () { return this; };
  Record.prototype.expand = function () { return this.__expand || {}; };
  Record.prototype.setExpand = function (v) { this.__expand = v || undefined; };
  Record.prototype.original = function () {
    const r = Record.__fromHost(Object.assign({ collectionId: this.__collectionRef }, this.__original || this.__data));
    r.__collection = this.__collection;
    return r;
  };

  function recordIn(obj) {
    const r = Record.__fromHost(obj);
    if (obj.collectionName) r.__collectionName = obj.collectionName;
    if (obj.expand) r.__expand = obj.expand;
    r.__original = Object.assign({}, r.__data);
    return r;
  }

  function recordOut(r) {
    const out = r.__payload();
    if (r.__hidden) for (const f of r.__hidden) delete out[f];
    const c = r.__collection;
    if (c) { out.collectionId = c.id; out.collectionName = c.name; }
    else {
      if (r.__collectionRef) out.collectionId = r.__collectionRef;
      if (r.__collectionName) out.collectionName = r.__collectionName;
    }
    if (r.__expand) out.expand = r.__expand;
    return out;
  }

  function plain(v) {
    return v === undefined ? null : JSON.parse(JSON.stringify(v));
  }

  // ---------------------------------------------------------------- realtime client

  // `e.client` of the realtime hooks (PocketBase's subscriptions.Client). Changes are sent
  // back with the event and applied by the host: subscriptions, store values, queued
  // messages and discard().
  function RealtimeClient(data) {
    this.__d = data;
  }
  RealtimeClient.prototype = {
    id() { return this.__d.id; },
    channel() { throw new Error("client.channel() is not available in PocketBun: use client.send(message)"); },
    subscriptions(...prefixes) {
      const out = {};
      for (const [k, v] of Object.entries(this.__d.subscriptions)) {
        if (!prefixes.length || prefixes.some((p) => k.startsWith(p))) out[k] = v;
      }
      return out;
    },
    subscribe(...subs) {
      for (const s of subs) if (String(s).trim()) this.__d.subscriptions[String(s)] = { query: {}, headers: {} };
    },
    unsubscribe(...subs) {
      if (!subs.length) this.__d.subscriptions = {};
      for (const s of subs) delete this.__d.subscriptions[String(s)];
    },
    hasSubscription(sub) { return Object.prototype.hasOwnProperty.call(this.__d.subscriptions, String(sub)); },
    get(key) { const v = this.__d.store[key]; return v === undefined ? null : v; },
    set(key, value) { this.__d.store[key] = plain(value); },
    unset(key) { delete this.__d.store[key]; },
    discard() { this.__d.discarded = true; },
    isDiscarded() { return !!this.__d.discarded; },
    send(message) { this.__d.outbox.push({ name: String(message.name), data: message.data }); },
  };

  // ---------------------------------------------------------------- events

  // A collection's JSON (as opposed to a record's): it has its fields and no collectionId.
  // the settings as the model of the generic model hooks (table `_params`)
  function isSettingsJson(v) {
    return v.meta !== null && typeof v.meta === "object" && "smtp" in v && "rateLimits" in v && !("collectionId" in v);
  }

  function isCollectionJson(v) {
    return Array.isArray(v.fields) && typeof v.type === "string" && !("collectionId" in v);
  }

  function wrap(ev) {
    const e = ev.request ? pbi.requestEvent(ev.request) : { app: global.$app };
    for (const k of Object.keys(ev)) {
      const v = ev[k];
      switch (k) {
        case "request": break;
        case "record": e.record = v ? recordIn(v) : null; break;
        case "records": e.records = (v || []).map(recordIn); break;
        case "collection": e.collection = v ? new Collection(v) : null; break;
        // the generic onModel* hooks: a record or a collection
        case "model": e.model = !v ? null : isSettingsJson(v) ? new pbi.Settings(v) : isCollectionJson(v) ? new Collection(v) : recordIn(v); break;
        case "collections": e.collections = (v || []).map((c) => new Collection(c)); break;
        case "auth": if (!ev.request) e.auth = v ? recordIn(v) : null; break;
        case "error": e.error = v ? new ApiError(v.status, v.message, v.data) : null; break;
        case "requestInfo": e.requestInfo = v; break;
        case "client": e.client = new RealtimeClient(v); break;
        default: e[k] = v;
      }
    }
    if (e.result && e.records) e.result.items = e.records;
    if (e.result && e.collections) e.result.items = e.collections;
    return e;
  }

  function snapshot(e, ev) {
    const out = {};
    for (const k of Object.keys(ev)) {
      switch (k) {
        case "request": case "error": case "requestInfo": case "auth": break;
        case "record": out.record = e.record ? recordOut(e.record) : null; break;
        case "records": out.records = (e.records || []).map(recordOut); break;
        case "collection": out.collection = e.collection ? plain(e.collection) : null; break;
        case "model": out.model = !e.model ? null : e.model instanceof Record ? recordOut(e.model) : e.model instanceof pbi.Settings ? e.model.__all() : plain(e.model); break;
        case "collections": out.collections = plain(e.collections || []); break;
        case "client": out.client = e.client ? e.client.__d : null; break;
        case "result": {
          const r = Object.assign({}, e.result);
          if (Array.isArray(r.items)) r.items = r.items.map((x) => (x instanceof Record ? recordOut(x) : x));
          out.result = plain(r);
          break;
        }
        default: out[k] = plain(e[k]);
      }
    }
    return out;
  }

  // What the host gets back after `e.next()`: refresh the live objects from it.
  function refresh(e, after) {
    if (after.record && e.record) {
      e.record.__refresh(after.record);
      if (after.record.expand) e.record.__expand = after.record.expand;
    }
    if (after.collection && e.collection) e.collection.__refresh(after.collection);
    if (after.model && e.model) e.model.__refresh(after.model);
    // the host applied the client's changes (and sent its outbox) in the default action
    if (after.client && e.client instanceof RealtimeClient) e.client.__d = after.client;
    for (const k of Object.keys(after)) {
      if (!["record", "records", "collection", "collections", "model", "result", "request", "error", "auth", "client"].includes(k)) e[k] = after[k];
    }
  }

  global.RealtimeClient = RealtimeClient;
  // `new SubscriptionMessage({name, data})` for `e.client.send(...)`.
  global.SubscriptionMessage = function SubscriptionMessage(d) {
    this.name = (d && d.name) || "";
    this.data = (d && d.data) || "";
  };

  global.__pb.handleHook = function (id, eventJson) {
    pbi.resetCache();
    const sub = pbi.hookSubs[id];
    const ev = JSON.parse(eventJson);
    const e = wrap(ev);
    try {
      pbi.runChain(e, sub ? sub.handlers : [], () => {
        const after = JSON.parse(pbi.hostCall(pbi.host.hookNext, JSON.stringify(snapshot(e, ev))));
        refresh(e, after);
      });
    } catch (err) {
      return pbi.errorTuple(err);
    }
    return [0, JSON.stringify(snapshot(e, ev)), e.__response ? e.__response() : null];
  };
})(globalThis);
