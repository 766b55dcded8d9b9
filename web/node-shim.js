// Prepended to edgeformer-wasm.mjs (--extern-pre-js). This Emscripten's node support calls
// require() and reads __dirname, which ES modules do not have: under node they are defined here,
// in this module's scope only (nothing global); elsewhere they stay undefined and unused.
var require, __dirname;
if (typeof process == "object" && typeof process.versions == "object" && typeof process.versions.node == "string") {
  require = (await import("node:module")).createRequire(import.meta.url);
  __dirname = require("node:path").dirname(require("node:url").fileURLToPath(import.meta.url));
}
