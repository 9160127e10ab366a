// PocketBase's `$mails` helpers: the auth emails of a stored record, rendered from the
// collection's templates by the host and sent through the mailer hooks
// (`onMailerRecord*Send`, then `onMailerSend`). Builds on pb.js (`__pbi`).
(function (global) {
  "use strict";

  const pbi = global.__pbi;

  function send(kind, record, extra) {
    if (!record || !record.id) throw new Error("$mails: a saved record is required");
    const c = record.collection();
    const args = Object.assign({ collection: c ? c.id : record.__collectionRef, id: record.id }, extra);
    pbi.hostCall(pbi.host.mailSendRecord, kind, JSON.stringify(args));
  }

  // (`app` is accepted for PocketBase compatibility; the host's app sends)
  global.$mails = {
    sendRecordVerification(app, record) { send("verification", record, {}); },
    sendRecordPasswordReset(app, record) { send("password-reset", record, {}); },
    sendRecordChangeEmail(app, record, newEmail) { send("email-change", record, { newEmail: String(newEmail || "") }); },
    sendRecordOTP(app, record, otpId, password) { send("otp", record, { otpId: String(otpId || ""), password: String(password || "") }); },
    sendRecordAuthAlert(app, record, info) { send("auth-alert", record, { info: String(info || "") }); },
  };
})(globalThis);
