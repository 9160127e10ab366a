// `$security`: PocketBase's hashing, random, JWT and encryption helpers. The primitives
// are Rust code inside the guest (`__crypto`, plugins/jsvm/src/security.rs); JWTs are
// HS256 like PocketBase's (golang-jwt) and fail with golang-jwt's messages.
(function (global) {
  "use strict";

  const c = global.__crypto;
  const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const HEADER = JSON.stringify({ alg: "HS256", typ: "JWT" });

  // Go's json.Marshal of a map: keys sorted (recursively)
  function sortedJson(v) {
    if (Array.isArray(v)) return "[" + v.map(sortedJson).join(",") + "]";
    if (v && typeof v === "object") {
      if (typeof v.toJSON === "function") return sortedJson(v.toJSON());
      return "{" + Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => JSON.stringify(k) + ":" + sortedJson(v[k])).join(",") + "}";
    }
    return JSON.stringify(v === undefined ? null : v);
  }

  function malformed(why) { return new Error("token is malformed: " + why); }

  function decodePart(part, what) {
    let text;
    try { text = c.base64UrlDecode(part); } catch (e) { throw malformed("could not base64 decode " + what + ": " + e.message); }
    try {
      const v = JSON.parse(text);
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch (_) { /* below */ }
    throw malformed("could not JSON decode " + what);
  }

  function split(token) {
    const parts = String(token).split(".");
    if (parts.length !== 3) throw malformed("token contains an invalid number of segments");
    return parts;
  }

  // golang-jwt's validator: exp, nbf (and iat when asked), with Go's messages
  function validateClaims(claims, withIssuedAt) {
    const now = Math.floor(Date.now() / 1000);
    const num = (k) => (typeof claims[k] === "number" ? claims[k] : null);
    if (num("exp") !== null && now >= num("exp")) throw new Error("token has invalid claims: token is expired");
    if (num("nbf") !== null && now < num("nbf")) throw new Error("token has invalid claims: token is not valid yet");
    if (withIssuedAt && num("iat") !== null && now < num("iat")) throw new Error("token has invalid claims: token used before issued");
  }

  const $security = {
    md5: (s) => c.md5(String(s)),
    sha256: (s) => c.sha256(String(s)),
    sha512: (s) => c.sha512(String(s)),
    hs256: (s, secret) => c.hs256(String(s), String(secret)),
    hs512: (s, secret) => c.hs512(String(s), String(secret)),
    equal: (a, b) => c.equal(String(a), String(b)),
    randomString: (n) => c.randomString(Number(n) || 0, ALPHABET),
    randomStringWithAlphabet: (n, alphabet) => c.randomString(Number(n) || 0, String(alphabet)),
    // PocketBase's pseudorandom variants use math/rand; a CSPRNG is a fine stand-in
    pseudorandomString: (n) => c.randomString(Number(n) || 0, ALPHABET),
    pseudorandomStringWithAlphabet: (n, alphabet) => c.randomString(Number(n) || 0, String(alphabet)),
    randomStringByRegex() {
      throw new Error("$security.randomStringByRegex is not available in the PocketBun sandbox");
    },

    createJWT(payload, signingKey, secDuration) {
      const claims = Object.assign({ exp: Math.floor(Date.now() / 1000) + (Number(secDuration) || 0) }, payload || {});
      const unsigned = c.base64UrlEncode(HEADER) + "." + c.base64UrlEncode(sortedJson(claims));
      return unsigned + "." + c.hs256Base64Url(unsigned, String(signingKey));
    },
    parseJWT(token, verificationKey) {
      const parts = split(token);
      const header = decodePart(parts[0], "header");
      const claims = decodePart(parts[1], "claims");
      if (header.alg !== "HS256") throw new Error("token signature is invalid: signing method " + header.alg + " is invalid");
      const expected = c.hs256Base64Url(parts[0] + "." + parts[1], String(verificationKey));
      if (!c.equal(expected, parts[2])) throw new Error("token signature is invalid: signature is invalid");
      validateClaims(claims, false);
      return claims;
    },
    parseUnverifiedJWT(token) {
      const parts = split(token);
      decodePart(parts[0], "header");
      const claims = decodePart(parts[1], "claims");
      validateClaims(claims, true);
      return claims;
    },

    encrypt: (data, key) => c.encrypt(String(data), String(key)),
    decrypt: (cipherText, key) => c.decrypt(String(cipherText), String(key)),
  };

  Object.assign(global, { $security });
})(globalThis);
