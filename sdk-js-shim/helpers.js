// PocketBase's global conversion helpers for Go values as JS sees them: byte slices are
// arrays of numbers, so hooks write `toString(e.message.data)` or `toBytes("text")`.
// `pbi.utf8Decode`/`pbi.utf8Encode` are shared with the later shim files.
(function (global) {
  "use strict";

  const pbi = global.__pbi;

  function utf8Decode(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] & 0xff);
    try { return decodeURIComponent(escape(s)); } catch (_) { return s; }
  }

  function utf8Encode(text) {
    const bytes = [];
    for (const ch of String(text)) {
      const c = ch.codePointAt(0);
      if (c < 0x80) bytes.push(c);
      else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return bytes;
  }

  function isBytes(v) {
    return (Array.isArray(v) && v.every((b) => typeof b === "number")) || ArrayBuffer.isView(v);
  }

  // `toString(value, maxBytes?)`: strings as they are, bytes decoded as UTF-8, other values as
  // JSON (PocketBase's cast.ToString of a Go value).
  function toString(value, maxBytes) {
    let s;
    if (value === null || value === undefined) s = "";
    else if (typeof value === "string") s = value;
    else if (isBytes(value)) s = utf8Decode(Array.from(value));
    else if (typeof value === "object") s = JSON.stringify(value);
    else s = String(value);
    return maxBytes > 0 && s.length > maxBytes ? s.slice(0, maxBytes) : s;
  }

  // `toBytes(value, maxBytes?)`: the UTF-8 bytes of `toString(value)`.
  function toBytes(value, maxBytes) {
    const b = isBytes(value) ? Array.from(value) : utf8Encode(toString(value));
    return maxBytes > 0 && b.length > maxBytes ? b.slice(0, maxBytes) : b;
  }

  pbi.utf8Decode = utf8Decode;
  pbi.utf8Encode = utf8Encode;
  Object.assign(global, { toString, toBytes, readerToString: toString });
})(globalThis);
