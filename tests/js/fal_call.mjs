// Runs the real, unmodified @fal-ai/client against the emulator and prints the outcome as JSON.
// usage: node fal_call.mjs EMULATOR_URL FAL_KEY SCENARIO [proxy|middleware]
//
// The client hard-codes its https hosts. Two documented ways point it elsewhere:
// - proxy (the whole setup): fal's proxy protocol, served by the emulator at /fal/proxy;
// - middleware: a requestMiddleware rewriting the hosts (the README's alternative recipe).
// Storage PUTs skip both: the emulator's upload URLs already point at itself.
import { createFalClient } from "@fal-ai/client";

const [base, credentials, scenario, mode = "proxy"] = process.argv.slice(2);
const HOSTS = [
  [/^https:\/\/queue\.fal\.run/, `${base}/fal/queue`],
  [/^https:\/\/fal\.run/, `${base}/fal/run`],
  [/^https:\/\/rest\.fal\.ai/, `${base}/fal/rest`],
];
const fal = createFalClient(
  mode === "proxy"
    ? { credentials, proxyUrl: { url: `${base}/fal/proxy`, when: "always" } }
    : {
        credentials,
        requestMiddleware: async (request) => ({
          ...request,
          url: HOSTS.reduce((url, [host, local]) => url.replace(host, local), request.url),
        }),
      },
);
const BITDANCE = "fal-ai/bitdance";

const scenarios = {
  async subscribe() {
    const statuses = [];
    const result = await fal.subscribe(BITDANCE, {
      input: { prompt: "a cat from node", image_size: "square" },
      logs: true,
      pollInterval: 10,
      onQueueUpdate: (update) => statuses.push([update.status, (update.logs ?? []).length]),
    });
    return { data: result.data, requestId: result.requestId, statuses };
  },
  async subscribeStreaming() {
    const statuses = [];
    const result = await fal.subscribe(BITDANCE, {
      input: { prompt: "streamed status" },
      mode: "streaming",
      logs: true,
      onQueueUpdate: (update) => statuses.push(update.status),
    });
    // the logs as polling would have shown them at the end, for comparison
    const { logs } = await fal.queue.status(BITDANCE, { requestId: result.requestId, logs: true });
    const streamed = [];
    await fal.subscribe(BITDANCE, {
      input: { prompt: "streamed logs" },
      mode: "streaming",
      logs: true,
      onQueueUpdate: (update) => streamed.splice(0, Infinity, ...(update.logs ?? [])),
    });
    return {
      data: result.data,
      requestId: result.requestId,
      statuses,
      polledLogs: logs.map((log) => log.message),
      streamedLogs: streamed.map((log) => log.message),
    };
  },
  async queue() {
    const { request_id } = await fal.queue.submit(BITDANCE, { input: { prompt: "queued" } });
    let early;  // a result asked for too soon: the client's error names the request
    try {
      await fal.queue.result(BITDANCE, { requestId: request_id });
    } catch (error) {
      early = { status: error.status, requestId: error.requestId ?? null, body: error.body };
    }
    const seen = [];
    let status;
    do {
      status = await fal.queue.status(BITDANCE, { requestId: request_id, logs: true });
      seen.push(status.status);
    } while (status.status !== "COMPLETED" && seen.length < 20);
    const result = await fal.queue.result(BITDANCE, { requestId: request_id });
    const other = await fal.queue.submit(BITDANCE, { input: { prompt: "to cancel" } });
    await fal.queue.cancel(BITDANCE, { requestId: other.request_id });
    const cancelled = await fal.queue.status(BITDANCE, { requestId: other.request_id });
    return { seen, data: result.data, requestId: result.requestId, cancelled, early, submitted: request_id };
  },
  async run() {
    const result = await fal.run(BITDANCE, { input: { prompt: "run", output_format: "png" } });
    return { data: result.data, requestId: result.requestId };
  },
  // A GET: the client writes the input into the query string, every value as text.
  async runGet() {
    const input = { prompt: "got", num_images: 2, image_size: "square", sync_mode: false };
    const result = await fal.run(BITDANCE, { input, method: "get" });
    return { data: result.data };
  },
  async stream() {
    const stream = await fal.stream(BITDANCE, { input: { prompt: "streamed" } });
    const events = [];
    for await (const event of stream) events.push(event);
    return { data: await stream.done(), events: events.length };
  },
  async invalid() {
    await fal.run(BITDANCE, { input: { num_images: 99 } });
  },
  // An input over the server's body limit, a dozen times: each answered 413 before its body
  // was read (the client retried the resets that came when the rest of a body was read as
  // a next request's head).
  async oversized() {
    const prompt = "x".repeat(21 * 1024 * 1024);
    const outcomes = [];
    for (let i = 0; i < 12; i++) {
      try {
        await fal.queue.submit(BITDANCE, { input: { prompt } });
        outcomes.push("accepted");
      } catch (error) {
        outcomes.push(error.status ?? String(error.cause?.code ?? error.message));
      }
    }
    return outcomes;
  },
  // A small file (initiate + PUT) and one over 90 MiB (multipart: parts, then complete).
  async upload() {
    const small = await fal.storage.upload(new Blob(["hello from node"], { type: "text/plain" }));
    const big = counting(91 * 1024 * 1024);
    const large = await fal.storage.upload(new Blob([big], { type: "application/octet-stream" }));
    return { small, large, largeSize: big.length };
  },
};

// Bytes 0, 1, …, 250, 0, 1, … (what the tests expect): the first 251 written, then the
// filled part copied onto the rest, doubling (1.7 CPU-s for 91 MiB byte by byte; 0.1 s).
function counting(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < Math.min(251, size); i++) bytes[i] = i;
  for (let filled = 251; filled < size; filled *= 2) bytes.copyWithin(filled, 0, filled);
  return bytes;
}

try {
  console.log(JSON.stringify({ result: await scenarios[scenario]() }));
} catch (error) {
  console.log(JSON.stringify({
    error: String(error.message ?? error), name: error.constructor.name, status: error.status, body: error.body,
  }));
}
