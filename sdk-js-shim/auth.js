// Auth record helpers on top of the `auth` WIT imports: `record.newAuthToken()` and the
// other token makers, `record.validatePassword()`, `$app.findAuthRecordByToken()` and
// `$apis.recordAuthResponse()`. Builds on pb.js/app.js (`__pbi`).
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { host, dao, DaoError } = pbi;
  const { Record, $app, $apis } = global;

  // the stored auth record behind `r` (tokens are signed with its stored token key)
  function storedRef(r) {
    const c = r.collection();
    if (!c || r.isNew() || !r.id) throw new DaoError("the record must be saved before it can have tokens");
    return [c.name, r.id];
  }

  function token(r, kind, durationSecs, newEmail) {
    const [collection, id] = storedRef(r);
    return dao(host.authNewToken, collection, id, kind, durationSecs || 0, newEmail || "");
  }

  Object.assign(Record.prototype, {
    newAuthToken() { return token(this, "auth"); },
    // durations are Go's (nanoseconds); 0 = the collection's auth token duration
    newStaticAuthToken(durationNs) { return token(this, "static-auth", Math.floor((Number(durationNs) || 0) / 1e9)); },
    newFileToken() { return token(this, "file"); },
    newVerificationToken() { return token(this, "verification"); },
    newPasswordResetToken() { return token(this, "password-reset"); },
    newEmailChangeToken(newEmail) { return token(this, "email-change", 0, String(newEmail || "")); },
    // a new token key (saved with the record): every token issued before becomes invalid
    refreshTokenKey() { this.setTokenKey(global.$security.randomString(50)); },
    setTokenKey(key) { this.__tokenKey = String(key); this.set("tokenKey", this.__tokenKey); },
    // (stored token keys are handed to no plugin: only a key set on this object is known)
    tokenKey() { return this.__tokenKey || this.getString("tokenKey"); },
    // a password set on this object (not saved yet) is the one checked, as PocketBase
    // checks the record's current hash
    validatePassword(password) {
      if (this.__pending && typeof this.__pending.password === "string") return this.__pending.password === String(password);
      const c = this.collection();
      if (!c || this.isNew() || !this.id) return false;
      try {
        return host.authValidatePassword(c.name, this.id, String(password));
      } catch (err) {
        if (err && err.__hostError) return false;
        throw err;
      }
    },
  });

  // PocketBase's FindAuthRecordByToken(token, ...validTypes): any token type when none is
  // given ("auth", "file", "verification", "passwordReset", "emailChange")
  $app.findAuthRecordByToken = function (tokenText, ...types) {
    let claims;
    try {
      claims = global.$security.parseUnverifiedJWT(String(tokenText));
    } catch (_) {
      throw new DaoError("invalid or expired token");
    }
    const kind = String((claims && claims.type) || "");
    if (!kind || (types.length && !types.includes(kind))) throw new DaoError("invalid or expired token");
    const json = dao(host.authFindByToken, String(tokenText), kind);
    return Record.__fromHost(JSON.parse(json));
  };

  // `$apis.recordAuthResponse(e, record, authMethod, meta?)`: answers like a sign-in
  // (`{token, record, meta?}`, the record with its email). PocketBun's version does not run
  // the API's extra sign-in steps (authRule, MFA, auth alerts, onRecordAuthRequest, expand).
  $apis.recordAuthResponse = function (e, record, authMethod, meta) {
    const out = { record: pbi.sortedKeys(Object.assign(record.__apiView(), { email: record.email() })), token: record.newAuthToken() };
    if (meta !== undefined && meta !== null) out.meta = meta;
    return e.json(200, out);
  };
})(globalThis);
