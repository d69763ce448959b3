// Calls catalogue endpoints with the real @fal-ai/client (fal's proxy protocol, served by
// the emulator at /fal/proxy) and prints [{id, data | error}] as JSON.
// usage: node fal_catalogue.mjs EMULATOR_URL FAL_KEY '[[endpoint_id, input], …]'
import { createFalClient } from "@fal-ai/client";

const [base, credentials, callsJson] = process.argv.slice(2);
const fal = createFalClient({ credentials, proxyUrl: { url: `${base}/fal/proxy`, when: "always" } });
const outcome = [];
for (const [id, input] of JSON.parse(callsJson)) {
  try {
    const result = await fal.subscribe(id, { input, pollInterval: 10 });
    outcome.push({ id, data: result.data });
  } catch (error) {
    outcome.push({ id, error: String(error), body: error.body ?? null });
  }
}
process.stdout.write(JSON.stringify(outcome));
