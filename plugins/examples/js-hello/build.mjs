// Builds dist/js-hello.wasm from src/plugin.js: `npm ci && node build.mjs`.
import { componentize } from "@bytecodealliance/componentize-js";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const { component } = await componentize({
  sourcePath: here("./src/plugin.js"),
  witPath: here("../../../wit"),
  worldName: "plugin",
  // no outgoing fetch and no wasi:http incoming handler: the plugin reaches the outside
  // only through the pocketbun:plugin imports (stdio, clocks and random stay: they are
  // plain WASI the host provides, and stdio carries engine error messages)
  disableFeatures: ["http", "fetch-event"],
});
await mkdir(here("./dist"), { recursive: true });
await writeFile(here("./dist/js-hello.wasm"), component);
console.log(`dist/js-hello.wasm: ${component.byteLength} bytes`);
