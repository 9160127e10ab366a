// PocketBase's `$filesystem` file constructors, limited to the sandbox: files from bytes and
// from URLs (through `$http`, so the host's HTTP allowlist applies). Local paths and
// multipart headers are not reachable from the sandbox. A file is assigned to a file field
// (`record.set("doc", file)`) and stored by `$app.save(record)` like an upload.
(function (global) {
  "use strict";

  const pbi = global.__pbi;

  class File {
    constructor(bytes, name) {
      const clean = String(name || "file");
      this.originalName = clean;
      // the stored name (with PocketBase's random suffix) is given by the host on save
      this.name = clean;
      this.size = bytes.length;
      Object.defineProperty(this, "__bytes", { value: bytes });
    }

    // what the host reads in a record's JSON
    toJSON() {
      return { __pbFile: { name: this.originalName, base64: pbi.base64(this.__bytes) } };
    }
  }

  function toBytes(data) {
    if (typeof data === "string") return pbi.utf8Encode(data);
    if (data instanceof ArrayBuffer) return Array.from(new Uint8Array(data));
    if (Array.isArray(data) || ArrayBuffer.isView(data)) return Array.from(data, (b) => b & 255);
    throw new TypeError("$filesystem.fileFromBytes: expected bytes (an array, Uint8Array, ArrayBuffer or string)");
  }

  function unavailable(name) {
    return () => { throw new Error("$filesystem." + name + " is not available in the PocketBun sandbox"); };
  }

  global.$filesystem = {
    fileFromBytes(bytes, name) { return new File(toBytes(bytes), name); },
    fileFromURL(url, secTimeout) {
      const res = global.$http.send({ url: String(url), method: "GET", timeout: secTimeout > 0 ? secTimeout : 120 });
      if (res.statusCode < 200 || res.statusCode > 399) {
        throw new BadRequestError("failed to download url " + url + " (" + res.statusCode + ")");
      }
      const name = String(url).split(/[?#]/)[0].split("/").pop() || "file";
      return new File(res.body, decodeURIComponent(name));
    },
    fileFromPath: unavailable("fileFromPath"),
    fileFromMultipart: unavailable("fileFromMultipart"),
    s3: unavailable("s3"),
    local: unavailable("local"),
  };
})(globalThis);
