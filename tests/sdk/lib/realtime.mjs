// Realtime helpers: an EventSource for the SDK, event collectors and a raw SSE reader.
import { EventSource } from 'eventsource';
import net from 'node:net';

// the SDK's realtime service uses the global EventSource (browsers have one, Node 20 does not)
globalThis.EventSource ??= EventSource;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Collects the events of one SDK subscription: [{action, record}]. */
export async function collect(pb, collection, topic, options = undefined) {
  const events = [];
  const unsubscribe = await pb.collection(collection).subscribe(topic, (e) => events.push(e), options);
  return { events, unsubscribe };
}

/** Waits until `pred()` is true (polling), fails after `ms`. */
export async function waitUntil(pred, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `{action, id}` pairs, sorted (delivery order is not guaranteed across events). */
export function actions(events) {
  return events.map((e) => `${e.action}:${e.record.id}`).sort();
}

/**
 * A raw SSE connection over a socket (no EventSource): returns {clientId, messages, socket,
 * pause(), close(), ended}: `ended` once the server ended the stream
 * or closed the socket. `messages` is filled with {id, event, data} as they are parsed.
 */
export function rawSse(url, { headers = {} } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const messages = [];
    let buf = '';
    let headersDone = false;
    let resolved = false;
    const conn = {
      messages,
      socket,
      headers: '',
      pause: () => socket.pause(),
      close: () => socket.destroy(),
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET /api/realtime HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`);
    });
    socket.on('data', (chunk) => {
      // the last chunk of a chunked body: the server ended the stream
      if (/(^|\r\n)0\r\n\r\n/.test(chunk)) conn.ended = true;
      buf += chunk;
      if (!headersDone) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        conn.headers = buf.slice(0, i);
        buf = buf.slice(i + 4);
        headersDone = true;
      }
      // strip chunked framing lines (hex sizes) loosely: parse SSE blocks by blank lines
      let j;
      while ((j = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, j);
        buf = buf.slice(j + 2);
        const msg = {};
        for (const line of block.split('\n')) {
          const m = /^(id|event|data):\s?(.*)$/.exec(line.replace(/\r$/, ''));
          if (m) msg[m[1]] = m[2];
        }
        if (msg.event) {
          messages.push(msg);
          if (msg.event === 'PB_CONNECT' && !resolved) {
            resolved = true;
            conn.clientId = JSON.parse(msg.data).clientId;
            resolve(conn);
          }
        }
      }
    });
    socket.on('error', (e) => { if (!resolved) reject(e); });
    socket.on('close', () => { conn.ended = true; });
    setTimeout(() => { if (!resolved) reject(new Error('no PB_CONNECT')); }, 10000);
  });
}
