// Mutable collections for migrations and hooks: `new Collection({...})`, the field
// constructors, `collection.fields.add/addAt/getByName/getById/removeById/removeByName`,
// `unmarshal(data, target)`, and `$app.save/delete(collection)`,
// `$app.findCollectionByNameOrId`, `$app.importCollections` on top of the
// `collections.*` WIT imports. Collections cross the boundary as the API's JSON; the host
// validates and syncs tables exactly as for `POST/PATCH /api/collections`.
(function (global) {
  "use strict";

  const { host, hostCall } = global.__pbi;
  const BaseCollection = global.Collection;
  const BaseRecord = global.Record;
  const $app = global.$app;

  function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  // Go's json.Unmarshal into an existing value: nested objects merge, everything else
  // (arrays, scalars, null) replaces.
  function deepMerge(target, src) {
    for (const k of Object.keys(src)) {
      const v = src[k];
      if (isPlainObject(v) && isPlainObject(target[k])) deepMerge(target[k], v);
      else target[k] = v;
    }
    return target;
  }

  // ---------------------------------------------------------------- fields

  class Field {
    constructor(data) {
      if (data) Object.assign(this, JSON.parse(JSON.stringify(data)));
    }
  }

  const FIELD_TYPES = {
    TextField: "text", NumberField: "number", BoolField: "bool", EmailField: "email", URLField: "url",
    EditorField: "editor", DateField: "date", AutodateField: "autodate", SelectField: "select",
    FileField: "file", RelationField: "relation", JSONField: "json", GeoPointField: "geoPoint",
    PasswordField: "password",
  };
  const fieldClasses = {};
  for (const [name, type] of Object.entries(FIELD_TYPES)) {
    fieldClasses[name] = {
      [name]: class extends Field {
        constructor(data) { super(data); this.type = type; }
      },
    }[name];
  }

  function toField(f) {
    return f instanceof Field ? f : new Field(f);
  }

  // PocketBase's FieldsList: an array of fields with lookup and upsert helpers.
  class FieldsList extends Array {
    static get [Symbol.species]() { return Array; }
    getById(id) { return this.find((f) => f.id === id) || null; }
    getByName(name) { return this.find((f) => f.name === name) || null; }
    removeById(id) { this.__remove((f) => f.id === id); }
    removeByName(name) { this.__remove((f) => f.name === name); }
    fieldNames() { return this.map((f) => f.name); }
    asMap() { const m = {}; for (const f of this) m[f.name] = f; return m; }
    // Replaces a field with the same id (or name, when the new one has no id), else appends.
    add(...fields) {
      for (const raw of fields) {
        const f = toField(raw);
        const i = this.__indexOfSame(f);
        if (i >= 0) this[i] = f;
        else this.push(f);
      }
    }
    // Inserts at pos, moving a field with the same id (or name) there.
    addAt(pos, ...fields) {
      let at = Math.max(0, pos | 0);
      for (const raw of fields) {
        const f = toField(raw);
        const i = this.__indexOfSame(f);
        if (i >= 0) this.splice(i, 1);
        this.splice(Math.min(at, this.length), 0, f);
        at++;
      }
    }
    __indexOfSame(f) {
      return f.id ? this.findIndex((x) => x.id === f.id) : this.findIndex((x) => x.name === f.name);
    }
    __remove(pred) {
      for (let i = this.length - 1; i >= 0; i--) if (pred(this[i])) this.splice(i, 1);
    }
  }

  // `owned`: the list was just parsed from the host's JSON, so its field objects become
  // Fields as they are instead of being deep-copied (a copy per field made
  // `$app.findCollectionByNameOrId` cost ~10 µs more than the host call itself)
  function fieldsList(list, owned) {
    const out = new FieldsList();
    for (const f of Array.isArray(list) ? list : []) {
      out.push(f instanceof Field ? f : owned && isPlainObject(f) ? Object.setPrototypeOf(f, Field.prototype) : new Field(f));
    }
    return out;
  }

  // ---------------------------------------------------------------- collections

  class Collection extends BaseCollection {
    constructor(data) {
      super(data ? JSON.parse(JSON.stringify(data)) : {});
      this.fields = fieldsList(this.fields, true);
      if (!Array.isArray(this.indexes)) this.indexes = [];
    }
    // A collection from the host's JSON, freshly parsed: taken over without copying.
    static __fromHost(parsed) {
      const c = Object.create(Collection.prototype);
      Object.assign(c, parsed);
      c.fields = fieldsList(c.fields, true);
      if (!Array.isArray(c.indexes)) c.indexes = [];
      return c;
    }
    // PocketBase's AddIndex: replaces an index with the same name.
    addIndex(name, unique, columns, where) {
      this.removeIndex(name);
      let sql = "CREATE " + (unique ? "UNIQUE " : "") + "INDEX `" + name + "` ON `" + this.name + "` (" + columns + ")";
      if (where) sql += " WHERE " + where;
      this.indexes.push(sql);
    }
    removeIndex(name) {
      this.indexes = this.indexes.filter((sql) => indexName(sql) !== String(name).toLowerCase());
    }
    getIndex(name) {
      return this.indexes.find((sql) => indexName(sql) === String(name).toLowerCase()) || "";
    }
    __refresh(stored) {
      for (const k of Object.keys(this)) delete this[k];
      Object.assign(this, stored);
      this.fields = fieldsList(this.fields, true);
    }
  }

  function indexName(sql) {
    const m = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"\[]?([^\s`"\]]+)/i.exec(sql);
    return m ? m[1].toLowerCase() : "";
  }

  function asCollection(c) {
    return c instanceof Collection ? c : new Collection(c);
  }

  // ---------------------------------------------------------------- unmarshal

  global.unmarshal = function (data, target) {
    const plain = JSON.parse(JSON.stringify(data === undefined ? null : data));
    if (!isPlainObject(plain) || !target || typeof target !== "object") return target;
    if (target instanceof BaseRecord) {
      target.load(plain);
    } else if (target instanceof BaseCollection) {
      const fields = plain.fields;
      delete plain.fields;
      deepMerge(target, plain);
      if (fields !== undefined) target.fields = fieldsList(fields, true);
    } else {
      deepMerge(target, plain);
    }
    return target;
  };

  // ---------------------------------------------------------------- $app

  const baseSave = $app.save;
  const baseDelete = $app.delete;

  $app.findCollectionByNameOrId = function (nameOrId) {
    return Collection.__fromHost(JSON.parse(hostCall(host.collectionFind, String(nameOrId))));
  };
  $app.save = function (model) {
    if (model instanceof BaseCollection) {
      const c = asCollection(model);
      const stored = JSON.parse(hostCall(host.collectionSave, JSON.stringify(c)));
      if (model instanceof Collection) model.__refresh(stored);
      else Object.assign(model, stored);
      return;
    }
    return baseSave.call(this, model);
  };
  $app.delete = function (model) {
    if (model instanceof BaseCollection) {
      hostCall(host.collectionDelete, String(model.id || model.name));
      return;
    }
    return baseDelete.call(this, model);
  };
  $app.importCollections = function (list, deleteMissing) {
    const items = (Array.isArray(list) ? list : []).map((c) => JSON.parse(JSON.stringify(c)));
    hostCall(host.collectionsImport, JSON.stringify(items), !!deleteMissing);
  };

  global.__pbi.deepMerge = deepMerge;
  Object.assign(global, { Collection, Field, FieldsList }, fieldClasses);
})(globalThis);
