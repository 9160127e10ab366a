// A PocketBun plugin written in plain JavaScript against the `pocketbun:plugin@0.1.0`
// world (wit/plugin.wit), compiled to a component by componentize-js (see build.mjs).
//
// WIT -> JS conventions (componentize-js / jco): interface exports are objects named
// after the interface, records are objects with camelCase fields, `list<u8>` is a
// Uint8Array, `option<T>` is T or undefined, an exported `result<T, E>` returns T or
// throws E, an imported one returns T or throws an Error whose `payload` is E.
import { write as log } from "pocketbun:plugin/log@0.1.0";
import { get as kvGet, set as kvSet } from "pocketbun:plugin/kv@0.1.0";
import { findByFilter } from "pocketbun:plugin/records@0.1.0";
import { next } from "pocketbun:plugin/hooks@0.1.0";

const encoder = new TextEncoder();

function json(status, data) {
  return { status, headers: [["content-type", "application/json"]], body: encoder.encode(JSON.stringify(data)) };
}

function apiError(status, message) {
  return { status, message, dataJson: "{}" };
}

// route id -> handler(request)
const routes = [
  {
    method: "GET",
    path: "/js-plugin/hello/{name}",
    handle(req) {
      const name = (req.params.find(([k]) => k === "name") || [, ""])[1];
      return json(200, { message: `Hello ${name} from a componentize-js plugin` });
    },
  },
  {
    // counts calls in the plugin's key-value store (shared by all its instances)
    method: "POST",
    path: "/js-plugin/counter",
    handle() {
      const n = Number(kvGet("counter") ?? "0") + 1;
      kvSet("counter", String(n));
      return json(200, { counter: n });
    },
  },
  {
    // records of a collection through the records import (the plugin's own rights)
    method: "GET",
    path: "/js-plugin/titles/{collection}",
    handle(req) {
      const collection = req.params.find(([k]) => k === "collection")[1];
      try {
        const list = JSON.parse(findByFilter(collection, "", "title", 0, 0, "{}"));
        return json(200, list.map((r) => r.title));
      } catch (err) {
        // an imported result's error arrives as the thrown error's payload
        if (err && err.payload) throw err.payload;
        throw err;
      }
    },
  },
];

// hook id 0: onRecordCreateRequest for the "notes" collection
function beforeNoteCreate(eventJson) {
  const event = JSON.parse(eventJson);
  const title = String(event.record.title || "").trim();
  if (!title) throw { status: 400, message: "A note needs a title.", dataJson: JSON.stringify({ title: { code: "validation_required", message: "Missing required value." } }) };
  event.record.title = title;
  event.record.body = `${event.record.body || ""} [checked by the js plugin]`;
  const after = next(JSON.stringify(event));
  return { eventJson: after, response: undefined };
}

export const guest = {
  init(_config) {
    log("info", "js-hello plugin instance ready");
    return {
      routes: routes.map((r, id) => ({ id, method: r.method, path: r.path })),
      hooks: [{ id: 0, name: "record-create-request", tags: ["notes"] }],
      crons: [{ id: "js-hello-tick", expression: "*/5 * * * *" }],
    };
  },

  handleRoute(routeId, request) {
    const route = routes[routeId];
    if (!route) throw apiError(404, "The requested resource wasn't found.");
    return route.handle(request);
  },

  handleHook(hookId, eventJson) {
    if (hookId !== 0) throw apiError(500, `unknown hook ${hookId}`);
    return beforeNoteCreate(eventJson);
  },

  runCron(id) {
    const n = Number(kvGet("cron-runs") ?? "0") + 1;
    kvSet("cron-runs", String(n));
    log("info", `cron ${id} ran (${n} times so far)`);
  },
};
