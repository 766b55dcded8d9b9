// A static server for the example page, node only (no packages):
//
//   node examples/web/serve.mjs --package build-web/web [--models DIR] [--port 8080] [--host 127.0.0.1]
//
// serves this folder at /, the JavaScript package (a wasm build's web/ folder) at /edgeformer/,
// and DIR (model files) at /models/, so http://HOST:PORT/?model=models/x.edgf loads DIR/x.edgf.
// .wasm goes out as application/wasm (what streaming compilation needs). GET and HEAD only;
// nothing outside the three folders is served. Prints "serving http://HOST:PORT/" once listening
// (--port 0: a free port, the printed one).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    package: { type: "string" }, models: { type: "string" }, port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
if (!values.package) {
  console.error("usage: node serve.mjs --package BUILD/web [--models DIR] [--port PORT] [--host HOST]");
  process.exit(2);
}
const roots = [["/edgeformer/", resolve(values.package)], ["/", dirname(fileURLToPath(import.meta.url))]];
if (values.models) roots.unshift(["/models/", resolve(values.models)]);
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml",
};

// The file a URL path names, or null when it is outside the served folders.
function fileFor(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes("\0")) return null;
  for (const [prefix, root] of roots) {
    if (!path.startsWith(prefix)) continue;
    const file = resolve(root, "." + sep + path.slice(prefix.length));
    if (file !== root && !file.startsWith(root + sep)) return null;
    return file === root || path.endsWith("/") ? join(file, "index.html") : file;
  }
  return null;
}

const server = createServer(async (req, res) => {
  const file = fileFor(new URL(req.url, "http://x").pathname);
  if (req.method !== "GET" && req.method !== "HEAD") return res.writeHead(405, { allow: "GET, HEAD" }).end();
  const info = file && (await stat(file).catch(() => null));
  if (!info?.isFile()) return res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": "no-cache",
  });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
});
server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  console.log(`serving http://${address.includes(":") ? `[${address}]` : address}:${port}/`);
});
