// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (file descriptors 3 and
// 4: NUL-terminated JSON messages), so the browser test needs no npm package and no WebSocket.
// Launches the system's Chromium; never downloads a browser.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class Browser {
  /**
   * Starts a headless Chromium with a fresh profile (removed by close()).
   * @param {string} executable e.g. /usr/bin/chromium
   */
  static launch(executable, extraArgs = []) {
    const profile = mkdtempSync(join(tmpdir(), "edgeformer-chromium-"));
    const child = spawn(executable, [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", `--user-data-dir=${profile}`,
      "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-extensions",
      "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", ...extraArgs, "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true });
    // Its own process group (detached): close() and an early exit end every process it started.
    const killGroup = () => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    };
    process.on("exit", killGroup);
    return new Browser(child, profile, killGroup);
  }

  constructor(child, profile, killGroup) {
    this.child = child;
    this.killGroup = killGroup;
    this.profile = profile;
    this.nextId = 0;
    this.pending = new Map();  // id -> {resolve, reject, method}
    this.listeners = [];  // (message) => void, for events
    this.stderr = "";
    child.stderr.on("data", (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    let buffer = Buffer.alloc(0);
    child.stdio[4].on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end; (end = buffer.indexOf(0)) >= 0; buffer = buffer.subarray(end + 1)) {
        this.dispatch(JSON.parse(buffer.subarray(0, end).toString("utf8")));
      }
    });
    this.exited = new Promise((resolve) => child.on("exit", resolve));
    this.exited.then((code) => {
      for (const { reject, method } of this.pending.values()) {
        reject(new Error(`chromium exited (${code}) during ${method}: ${this.stderr.slice(-2000)}`));
      }
      this.pending.clear();
    });
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`));
      else call?.resolve(message.result);
    } else {
      for (const listener of [...this.listeners]) listener(message);
    }
  }

  /** Sends a command (to a page's session when sessionId is given); resolves to its result. */
  send(method, params = {}, sessionId = undefined) {
    const id = ++this.nextId;
    const message = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify(message) + "\0");
    });
  }

  /** A new tab, attached: its session's send() and the events it receives. */
  async newPage() {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    return {
      send: (method, params) => this.send(method, params, sessionId),
      // Calls fn(params) for each of the page's `method` events.
      on: (method, fn) => this.listeners.push((m) => m.sessionId === sessionId && m.method === method && fn(m.params)),
      // Calls fn(params) for its next `method` event for which fn returns true, and no more.
      once: (method, fn) => {
        const listener = (m) => {
          if (m.sessionId === sessionId && m.method === method && fn(m.params) === true) {
            this.listeners.splice(this.listeners.indexOf(listener), 1);
          }
        };
        this.listeners.push(listener);
      },
    };
  }

  async close() {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((resolve) => setTimeout(resolve, 5000))]);
    } catch {
      // already gone
    }
    this.killGroup();  // its helper processes may outlive the browser process
    await this.exited;
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
