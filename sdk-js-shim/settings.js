// The settings as a model (PocketBase's `core.Settings`): `$app.settings()` returns a copy
// of the app's settings with their secrets (as PocketBase's hooks see the struct), and
// `$app.save(settings)` (also `txApp.save` and a migration's `app.save`) validates,
// stores and reloads them like `PATCH /api/settings` does. Also the global `sleep(ms)`.
// Builds on pb.js (`__pbi`), app.js (`dao`) and collection.js (`deepMerge`).
(function (global) {
  "use strict";

  const { host, dao, deepMerge } = global.__pbi;
  const $app = global.$app;

  // the secrets `JSON.stringify(settings)` leaves out, as PocketBase's MarshalJSON does
  const SECRETS = [["smtp", "password"], ["s3", "secret"], ["backups", "s3", "secret"]];

  function copy(v) {
    return JSON.parse(JSON.stringify(v === undefined ? null : v));
  }

  class Settings {
    constructor(data) { Object.assign(this, copy(data || {})); }
    tableName() { return "_params"; }
    pk() { return "settings"; }
    lastSavedPK() { return "settings"; }
    isNew() { return false; }
    clone() { return new Settings(this.__all()); }
    // PocketBase's Settings.Merge: the other settings' values over these
    merge(other) { deepMerge(this, copy(other instanceof Settings ? other.__all() : other)); }
    string() { return JSON.stringify(this); }
    toJSON() {
      const out = this.__all();
      for (const path of SECRETS) {
        const parent = path.slice(0, -1).reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), out);
        if (parent && typeof parent === "object") delete parent[path[path.length - 1]];
      }
      return out;
    }
    // every field, secrets included (what the host stores)
    __all() {
      const out = {};
      for (const k of Object.keys(this)) out[k] = copy(this[k]);
      return out;
    }
    __refresh(stored) {
      for (const k of Object.keys(this)) delete this[k];
      Object.assign(this, stored);
    }
  }

  // a validation failure is a Go validation error (a 400 with the field errors when it
  // escapes a handler), as for records
  function saveSettings(model) {
    model.__refresh(JSON.parse(dao(host.settingsSave, JSON.stringify(model.__all()))));
  }

  const baseSave = $app.save;
  const baseSaveNoValidate = $app.saveNoValidate;

  Object.assign($app, {
    settings() { return new Settings(JSON.parse(host.settingsFull())); },
    save(model) {
      if (model instanceof Settings) return saveSettings(model);
      return baseSave.call(this, model);
    },
    // (PocketBun stores only valid settings: they are validated either way)
    saveNoValidate(model) {
      if (model instanceof Settings) return saveSettings(model);
      return baseSaveNoValidate.call(this, model);
    },
  });

  // `sleep(ms)`: blocks this handler (not the server); a sleep past the call's time limit
  // ends the call like any over-time call
  global.sleep = function (ms) {
    host.sleep(Number(ms) || 0);
  };

  global.__pbi.Settings = Settings;
})(globalThis);
