// `migrate(up, down)` for pb_migrations/*.js. The host hands the migration files to a
// dedicated JS instance as its init files (setting `__pbFile` to the file being evaluated)
// and then calls, through the `pocketbun:plugin/migrations` export:
//   __pb.migrations()              -> the registered file names, sorted
//   __pb.runMigration(file, up)    -> [0] | [1, status, message, dataJson]
// The host runs all pending migrations in one transaction and records them in
// `_migrations`; `up`/`down` get `$app`, as PocketBase's get the transactional app.
(function (global) {
  "use strict";

  const { ApiError } = global;
  const registry = new Map();

  global.migrate = function (up, down) {
    const file = global.__pbFile;
    if (!file) throw new Error("migrate() can only be called from a pb_migrations file");
    registry.set(String(file), { up, down });
  };

  function failure(err) {
    if (err instanceof ApiError) return [1, err.status, err.message, JSON.stringify(err.data || {})];
    if (err && err.__hostError) return [1, err.status, err.message, JSON.stringify(err.data || {})];
    const msg = err && typeof err === "object" && "message" in err ? String(err.message) : String(err);
    return [1, 500, msg, "{}"];
  }

  global.__pb.migrations = () => Array.from(registry.keys()).sort();

  global.__pb.runMigration = function (file, up) {
    const m = registry.get(file);
    try {
      if (!m) throw new Error("no migration registered for " + file);
      const fn = up ? m.up : m.down;
      if (typeof fn === "function") {
        const r = fn(global.$app);
        if (r instanceof Error) throw r;
      }
    } catch (err) {
      return failure(err);
    }
    return [0];
  };
})(globalThis);
