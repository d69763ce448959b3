// A browser-style script: the status stream in connectionMode "client", where the client
// asks for a temporary token and sends it as ?fal_jwt_token= with no Authorization header
// (fal's docs: for a server proxy that does not stream). Under the Node hook, unmodified.
import { fal } from "@fal-ai/client";

const BITDANCE = "fal-ai/bitdance";
const statuses = [];
const result = await fal.subscribe(BITDANCE, {
  input: { prompt: "a cat in client mode" },
  mode: "streaming",
  connectionMode: "client",
  onQueueUpdate: (update) => statuses.push(update.status),
});
const { request_id: requestId } = await fal.queue.submit(BITDANCE, { input: { prompt: "again" } });
const stream = await fal.queue.streamStatus(BITDANCE, { requestId, connectionMode: "client" });
const done = await stream.done();
console.log(
  JSON.stringify({ prompt: result.data.prompt, completed: statuses.at(-1), streamed: done.status }),
);
