// What the JavaScript package's tests share: where the build is, the oracle (edgeformer-run), and
// the test models. Configured by the environment (ctest sets it: web/CMakeLists.txt):
//   EDGEFORMER_WEB_DIR    the package folder (build-*/web), default build-web/web
//   EDGEFORMER_BUILD_DIR  the wasm build with the tools, default the package folder's parent
//   EDGEFORMER_RUN        the oracle: a native edgeformer-run, or a .js one run by node; default
//                         the wasm build's tools/edgeformer-run.js
//   EDGEFORMER_SHARED     the real models' folder (models/aidreams260K); default
//                         EDGEFORMER_SHARED_DIR_DEFAULT (ctest: the build's), else ../shared
//   EDGEFORMER_REQUIRE_SHARED=1: a missing real model fails instead of skipping (default
//                         EDGEFORMER_REQUIRE_SHARED_DEFAULT, ctest: the build's setting)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WEB_DIR = resolve(process.env.EDGEFORMER_WEB_DIR || join(REPO, "build-web/web"));
export const BUILD_DIR = resolve(process.env.EDGEFORMER_BUILD_DIR || dirname(WEB_DIR));
export const ORACLE = resolve(process.env.EDGEFORMER_RUN || join(BUILD_DIR, "tools/edgeformer-run.js"));
export const SHARED = resolve(process.env.EDGEFORMER_SHARED || process.env.EDGEFORMER_SHARED_DIR_DEFAULT || join(REPO, "../shared"));
export const REQUIRE_SHARED = (process.env.EDGEFORMER_REQUIRE_SHARED ?? process.env.EDGEFORMER_REQUIRE_SHARED_DEFAULT) === "1";

// A tool of the build: a native executable, or the wasm build's NAME.js run by this node.
function tool(path, args, options = {}) {
  const [file, argv] = path.endsWith(".js") ? [process.execPath, [path, ...args]] : [path, args];
  return execFileSync(file, argv, { maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "pipe"], ...options });
}

function buildTool(relative) {
  for (const candidate of [join(BUILD_DIR, relative + ".js"), join(BUILD_DIR, relative)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${relative}(.js) is not built in ${BUILD_DIR}`);
}

/** edgeformer-run's stdout (bytes) for a model and arguments. */
export function runOracle(model, args) {
  return tool(ORACLE, [model, ...args]);
}

/** The text a UTF-8 byte string decodes to, U+FFFD for invalid bytes (as the package does). */
export const utf8 = (bytes) => new TextDecoder().decode(bytes);

/** A scratch folder, removed when the process exits. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), "edgeformer-web-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny random-weight model with a tokenizer (edgeformer-synth --shape tiny, int8). */
export function synthModel(dir) {
  tool(buildTool("tools/edgeformer-synth"), ["--shape", "tiny", "--seed", "3", "-o", join(dir, "m.bin"),
    "--tokenizer-output", join(dir, "tok.bin")]);
  return convert(join(dir, "m.bin"), join(dir, "tok.bin"), join(dir, "synth.edgf"));
}

/** aidreams260K (a trained llama2.c checkpoint) as int8, or null when EDGEFORMER_SHARED lacks it. */
export function aidreamsModel(dir) {
  const d = join(SHARED, "models/aidreams260K");
  if (!existsSync(join(d, "model.bin")) || !existsSync(join(d, "tokenizer.bin"))) {
    if (REQUIRE_SHARED) throw new Error(`${d} is missing (EDGEFORMER_REQUIRE_SHARED)`);
    return null;
  }
  return convert(join(d, "model.bin"), join(d, "tokenizer.bin"), join(dir, "aidreams260K.edgf"));
}

function convert(checkpoint, tokenizer, out) {
  tool(buildTool("converter/edgeformer-convert"), [checkpoint, "--tokenizer", tokenizer, "--quant", "int8", "-o", out]);
  return out;
}
