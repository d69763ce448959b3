// Runs the real, unmodified @fal-ai/client against the emulator and prints the outcome as JSON.
// usage: node fal_call.mjs EMULATOR_URL FAL_KEY SCENARIO
// The client hard-codes its https hosts; its requestMiddleware sends them to the emulator
// (fal's documented hook, the README's recipe). Storage PUTs skip the middleware: the
// emulator's upload URLs already point at itself.
import { createFalClient } from "@fal-ai/client";

const [base, credentials, scenario] = process.argv.slice(2);
const HOSTS = [
  [/^https:\/\/queue\.fal\.run/, `${base}/fal/queue`],
  [/^https:\/\/fal\.run/, `${base}/fal/run`],
  [/^https:\/\/rest\.fal\.ai/, `${base}/fal/rest`],
];
const fal = createFalClient({
  credentials,
  requestMiddleware: async (request) => ({
    ...request,
    url: HOSTS.reduce((url, [host, local]) => url.replace(host, local), request.url),
  }),
});

const scenarios = {
  // A small file (initiate + PUT) and one over 90 MiB (multipart: parts, then complete).
  async upload() {
    const small = await fal.storage.upload(new Blob(["hello from node"], { type: "text/plain" }));
    const big = new Uint8Array(91 * 1024 * 1024).map((_, i) => i % 251);
    const large = await fal.storage.upload(new Blob([big], { type: "application/octet-stream" }));
    return { small, large, largeSize: big.length };
  },
};

try {
  console.log(JSON.stringify({ result: await scenarios[scenario]() }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error.message ?? error), name: error.constructor.name, status: error.status }));
}
