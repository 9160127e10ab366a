// A minimal SMTP server on loopback that stores every delivered message, for the auth tests.
// Speaks just enough ESMTP for PocketBase (Go net/smtp) and PocketBun (lettre): EHLO/HELO,
// optional AUTH PLAIN/LOGIN (always accepted), MAIL, RCPT, DATA, RSET, NOOP, QUIT. No TLS.
import { createServer } from 'node:net';

function decodeQuotedPrintable(s) {
  const bytes = [];
  const src = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(src[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded words (`=?utf-8?b?…?=` / `=?utf-8?q?…?=`). */
export function decodeHeader(v) {
  return v.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_, _cs, enc, text) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')));
}

function parseHeaders(block) {
  const headers = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/** Splits a MIME entity and collects its text/html and text/plain parts (recursively). */
function parseEntity(raw, out) {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep < 0 ? raw : raw.slice(0, sep);
  const body = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
  const headers = parseHeaders(head);
  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const p of parts) {
      if (p.startsWith('--')) break;
      parseEntity(p.replace(/^\r?\n/, ''), out);
    }
    return headers;
  }
  const enc = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  let text = body;
  if (enc === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (enc === 'quoted-printable') text = decodeQuotedPrintable(body);
  if (type.startsWith('text/html')) out.html = text;
  else if (type.startsWith('text/plain')) out.text = text;
  return headers;
}

export function parseMessage(raw, envelope = {}) {
  const out = { html: '', text: '' };
  const headers = parseEntity(raw, out);
  return {
    ...out,
    headers,
    subject: decodeHeader(headers.subject ?? ''),
    from: decodeHeader(headers.from ?? ''),
    to: decodeHeader(headers.to ?? ''),
    envelopeFrom: envelope.from,
    envelopeTo: envelope.to ?? [],
    raw,
  };
}

/** Starts the sink. Returns {port, messages, waitFor(pred, ms), clear(), close()}. */
export async function startSmtpSink() {
  const messages = [];
  const waiters = [];
  const server = createServer((sock) => {
    let buf = '';
    let inData = false;
    let authStep = null;
    let env = { from: '', to: [] };
    const reply = (s) => sock.write(`${s}\r\n`);
    reply('220 localhost ESMTP sink');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const raw = buf.slice(0, end).replace(/\r\n\.\./g, '\r\n.');
          buf = buf.slice(end + 5);
          inData = false;
          const msg = parseMessage(raw, env);
          messages.push(msg);
          env = { from: '', to: [] };
          reply('250 OK queued');
          for (const w of [...waiters]) w();
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (authStep === 'user') { authStep = 'pass'; reply('334 UGFzc3dvcmQ6'); continue; }
        if (authStep === 'pass') { authStep = null; reply('235 Authenticated'); continue; }
        const cmd = line.split(' ')[0].toUpperCase();
        if (cmd === 'EHLO') { sock.write('250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n'); }
        else if (cmd === 'HELO') reply('250 localhost');
        else if (cmd === 'AUTH') {
          if (/^AUTH LOGIN/i.test(line)) { authStep = 'user'; reply('334 VXNlcm5hbWU6'); } else reply('235 Authenticated');
        } else if (cmd === 'MAIL') { env.from = /<([^>]*)>/.exec(line)?.[1] ?? ''; reply('250 OK'); }
        else if (cmd === 'RCPT') { env.to.push(/<([^>]*)>/.exec(line)?.[1] ?? ''); reply('250 OK'); }
        else if (cmd === 'DATA') { inData = true; reply('354 End data with <CR><LF>.<CR><LF>'); }
        else if (cmd === 'QUIT') { reply('221 Bye'); sock.end(); return; }
        else reply('250 OK');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    messages,
    clear() { messages.length = 0; },
    /** Resolves with the first stored message matching `pred` (waits for new ones). */
    waitFor(pred, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = messages.find(pred);
          if (m) { waiters.splice(waiters.indexOf(check), 1); clearTimeout(timer); resolve(m); return true; }
          return false;
        };
        const timer = setTimeout(() => { waiters.splice(waiters.indexOf(check), 1); reject(new Error('no matching email within ' + ms + ' ms')); }, ms);
        waiters.push(check);
        check();
      });
    },
    close() { return new Promise((r) => server.close(r)); },
  };
}
