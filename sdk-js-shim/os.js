// `require()` of CommonJS modules from pb_hooks, the `__hooks` global, and `$os`.
//
// The guest has no file system: the host hands over every `.js`/`.json` file under
// pb_hooks (the `*.pb.js` files in its top level are the hook scripts, the rest are
// modules) and `require` resolves against that set. `__hooks` is the virtual directory
// "/pb_hooks", so PocketBase's idiom `require(`${__hooks}/utils.js`)` works unchanged.
// `$os` offers the environment; process and file APIs throw a clear error.
(function (global) {
  "use strict";

  const HOOKS_DIR = "/pb_hooks";
  const sources = global.__pbModules || {}; // relative path -> source text
  const cache = new Map();

  function normalize(path) {
    const out = [];
    for (const seg of path.split("/")) {
      if (!seg || seg === ".") continue;
      if (seg === "..") out.pop();
      else out.push(seg);
    }
    return out.join("/");
  }

  // "/pb_hooks/a/b.js", "./b" (relative to `fromDir`), "lib/x" (pb_hooks, then node_modules)
  function resolve(request, fromDir) {
    let base;
    if (request.startsWith(HOOKS_DIR + "/")) base = [normalize(request.slice(HOOKS_DIR.length))];
    else if (request.startsWith("./") || request.startsWith("../")) base = [normalize(fromDir + "/" + request)];
    else if (request.startsWith("/")) base = [];
    else base = [normalize(request), normalize("node_modules/" + request)];
    for (const b of base) {
      for (const candidate of [b, b + ".js", b + ".json", b + "/index.js"]) {
        if (Object.prototype.hasOwnProperty.call(sources, candidate)) return candidate;
      }
    }
    throw new Error("Cannot find module '" + request + "' (PocketBun loads modules from pb_hooks only)");
  }

  function load(path) {
    if (cache.has(path)) return cache.get(path).exports;
    const module = { exports: {}, id: path, filename: HOOKS_DIR + "/" + path, loaded: false };
    cache.set(path, module);
    if (path.endsWith(".json")) {
      module.exports = JSON.parse(sources[path]);
    } else {
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
      const localRequire = (req) => load(resolve(String(req), dir));
      const wrapper = new Function("exports", "require", "module", "__filename", "__dirname", sources[path] + "\n//# sourceURL=" + path);
      wrapper.call(module.exports, module.exports, localRequire, module, module.filename, HOOKS_DIR + (dir ? "/" + dir : ""));
    }
    module.loaded = true;
    return module.exports;
  }

  function sandboxed(api) {
    return () => { throw new Error(api + " is not available in the PocketBun sandbox"); };
  }

  const $os = {
    getenv: (name) => global.__host.getenv(String(name)) || "",
    args: [],
  };
  for (const api of ["exec", "cmd", "exit", "readFile", "readDir", "writeFile", "mkdir", "mkdirAll", "remove", "removeAll", "rename", "stat", "truncate", "tempDir", "chmod", "hostname", "getwd"]) {
    $os[api] = sandboxed("$os." + api);
  }

  // goja_nodejs' `process.env`
  const env = new Proxy({}, {
    get: (_, k) => (typeof k === "string" ? global.__host.getenv(k) ?? undefined : undefined),
    has: (_, k) => typeof k === "string" && global.__host.getenv(k) != null,
  });

  Object.assign(global, { require: (req) => load(resolve(String(req), "")), __hooks: HOOKS_DIR, $os, process: { env } });
})(globalThis);
