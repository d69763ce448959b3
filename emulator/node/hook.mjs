// provider-emulator's Node hook: `node --import <this file> app.mjs` (or
// NODE_OPTIONS=--import=<this file>) sends every request of the unmodified clients
// (@fal-ai/client, the wavespeed SDK: both use the global fetch, fal's realtime the global
// WebSocket) for a provider's real host to the emulator at $PROVIDER_EMULATOR_URL, onto
// that host's surface (https://queue.fal.run/x -> $PROVIDER_EMULATOR_URL/fal/queue/x), as
// the emulator itself maps a request addressed to a real host. Any other host fails loudly,
// as in-process interception does in Python, unless PROVIDER_EMULATOR_UNMATCHED=pass.
// See docs/javascript.md.
import { readFileSync } from "node:fs";

// real host -> surface: hosts.json copies the emulator's own table (HOST_SURFACES in
// emulator/providers/registry.py), and tests/node/test_hook.py keeps the copy equal
const SURFACES = JSON.parse(readFileSync(new URL("./hosts.json", import.meta.url), "utf8"));
const WEB = new Set(["http:", "https:", "ws:", "wss:"]);

function refuse(message) {
  process.stderr.write(`provider-emulator: ${message}\n`);
  process.exit(2);
}

const setting = process.env.PROVIDER_EMULATOR_URL;
if (!setting) {
  refuse(
    "PROVIDER_EMULATOR_URL is not set. This Node hook sends the providers' requests to the " +
      "emulator at that URL (e.g. PROVIDER_EMULATOR_URL=http://127.0.0.1:8000, where " +
      "`provider-emulator serve` listens), and will not let them reach the real APIs.",
  );
}
const emulator = URL.canParse(setting) ? new URL(setting) : null;
if (!emulator || !["http:", "https:"].includes(emulator.protocol)) {
  refuse(`PROVIDER_EMULATOR_URL is not an http(s) URL: ${JSON.stringify(setting)}`);
}
const unmatched = process.env.PROVIDER_EMULATOR_UNMATCHED || "fail";
if (!["fail", "pass"].includes(unmatched)) {
  refuse(`PROVIDER_EMULATOR_UNMATCHED is "fail" or "pass", not ${JSON.stringify(unmatched)}`);
}
const root = emulator.origin + emulator.pathname.replace(/\/$/, "");

/** A request to a host the emulator does not stand for, while unmatched requests fail. */
class UnmatchedRequest extends Error {
  name = "UnmatchedRequest";
}

/** Where a request for `url` goes: the emulator's surface for a provider host, the URL
 * itself for the emulator's own or a scheme that reaches no network (data:, blob:). */
function route(url, method) {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || !WEB.has(parsed.protocol) || parsed.host === emulator.host) return url;
  const surface = SURFACES[parsed.hostname.toLowerCase()];
  if (surface !== undefined) {
    const socket = parsed.protocol.startsWith("ws");
    const base = socket ? root.replace(/^http/, "ws") : root;
    return `${base}/${surface}${parsed.pathname}${parsed.search}`;
  }
  if (unmatched === "pass") return url;
  const message =
    `${method} ${parsed.href} is not a provider host, and unmatched requests fail ` +
    "(set PROVIDER_EMULATOR_UNMATCHED=pass to let them through)";
  process.stderr.write(`provider-emulator: ${message}\n`); // loud even if the caller swallows it
  throw new UnmatchedRequest(`provider-emulator: ${message}`);
}

const nativeFetch = globalThis.fetch;
globalThis.fetch = function fetch(input, init) {
  const request = input instanceof Request ? input : null;
  const url = request ? request.url : String(input);
  let target;
  try {
    target = route(url, (init?.method ?? request?.method ?? "GET").toUpperCase());
  } catch (error) {
    return Promise.reject(error); // as fetch fails: a rejected promise, never a throw
  }
  if (target === url) return nativeFetch(input, init);
  return nativeFetch(request ? new Request(target, request) : target, init);
};

// Node 22 has a global WebSocket; Node 20 has one with --experimental-websocket.
const NativeWebSocket = globalThis.WebSocket;
if (NativeWebSocket) {
  globalThis.WebSocket = class WebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(route(String(url), "WebSocket"), protocols);
    }
  };
}
