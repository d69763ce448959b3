// Runs the real, unmodified @fal-ai/client realtime and client-mode stream against the
// emulator and prints the outcome as JSON.
// usage: node --experimental-websocket fal_realtime.mjs EMULATOR_URL FAL_KEY SCENARIO
//
// The client hard-codes wss://fal.run and https://*.fal.run / rest.fal.ai. As fal_call.mjs
// does for HTTP, the test side points them at the emulator: a `fetch` that rewrites the
// hosts (fal-protocol.md, recipe D's "custom fetch"), and a WebSocket class that does the
// same for wss://fal.run (the client opens `new WebSocket(url)` on the global).
import { createFalClient } from "@fal-ai/client";

const [base, credentials, scenario] = process.argv.slice(2);
const HOSTS = [
  [/^https:\/\/queue\.fal\.run/, `${base}/fal/queue`],
  [/^https:\/\/fal\.run/, `${base}/fal/run`],
  [/^https:\/\/rest\.fal\.ai/, `${base}/fal/rest`],
  [/^wss:\/\/fal\.run/, `${base.replace(/^http/, "ws")}/fal/run`],
];
const local = (url) => HOSTS.reduce((u, [host, to]) => u.replace(host, to), String(url));
const NativeWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(url, protocols) {
    super(local(url), protocols);
  }
};
const fal = createFalClient({ credentials, fetch: (url, init) => fetch(local(url), init) });
const LCM = "fal-ai/fast-lcm-diffusion";

// Sends each input once the previous result came (the client throttles quicker sends),
// and resolves with every result, or rejects with the first error.
function session(app, inputs, options = {}) {
  return new Promise((resolve, reject) => {
    const results = [];
    const timer = setTimeout(() => reject(new Error("no result within 20 s")), 20000);
    const connection = fal.realtime.connect(app, {
      ...options,
      throttleInterval: 0,
      onResult(result) {
        results.push(result);
        if (results.length === inputs.length) {
          clearTimeout(timer);
          connection.close();
          resolve(results);
        } else {
          connection.send(inputs[results.length]);
        }
      },
      onError(error) {
        clearTimeout(timer);
        connection.close();
        reject(error);
      },
    });
    connection.send(inputs[0]);
  });
}

const summary = (results) =>
  results.map((r) => ({ prompt: r.prompt, url: r.images[0].url.slice(0, 30), width: r.images[0].width }));

const scenarios = {
  async connect() {
    const inputs = ["first", "second", "third"].map((prompt) => ({ prompt, image_size: "square" }));
    return summary(await session(LCM, inputs));
  },
  async json() {
    const results = await session(LCM, [{ prompt: "as json", image_size: "square" }], {
      encodeMessage: (input) => JSON.stringify(input),
    });
    return summary(results);
  },
  async tokenProvider() {
    // A backend's token endpoint, as fal's docs show it: here the emulator's /tokens/.
    // (docs/realtime.md shows this one: the client names the app with its path)
    const tokenProvider = async (app) => {
      const response = await fetch(`${base}/fal/rest/tokens/`, {
        method: "POST",
        headers: { authorization: `Key ${credentials}`, "content-type": "application/json" },
        body: JSON.stringify({ allowed_apps: [app.split("/")[1]], token_expiration: 10 }),
      });
      return response.json();
    };
    const inputs = [{ prompt: "provided token", image_size: "square" }];
    return summary(await session(LCM, inputs, { tokenProvider, tokenExpirationSeconds: 10 }));
  },
  // An app whose results carry the image bytes (RawImage.content): a Uint8Array here.
  async rawBytes() {
    const frame = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC";
    const [result] = await session("fal-ai/flux-2/klein/realtime", [{ image_url: frame }]);
    const { content, content_type, width } = result.images[0];
    const jpeg = content instanceof Uint8Array && content[0] === 0xff && content[1] === 0xd8;
    return { jpeg, bytes: content.length, content_type, width };
  },
  async invalid() {
    await session(LCM, [{ prompt: 42 }]);
  },
  async stream() {
    const stream = await fal.stream("fal-ai/bitdance", {
      input: { prompt: "client mode" },
      connectionMode: "client",
    });
    const events = [];
    for await (const event of stream) events.push(event);
    const data = await stream.done();
    return { events: events.length, url: data.images[0].url, requestId: stream.requestId };
  },
};

try {
  console.log(JSON.stringify({ result: await scenarios[scenario]() }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error.message ?? error), status: error.status, body: error.body }));
}
process.exit(0);
