// Runs one call of the real, unmodified `wavespeed` npm SDK and prints its outcome as JSON.
// usage: node wavespeed_call.mjs BASE_URL API_KEY '{"method": "run", "model": ..., "input": ..., "options": ...}'
import wavespeed from "wavespeed";

const [baseUrl, apiKey, callJson] = process.argv.slice(2);
const call = JSON.parse(callJson);
// Errors (thrown, or inside runNoThrow's result) keep their class name and message.
const errors = (key, value) =>
  value instanceof Error ? { ...value, name: value.constructor.name, message: value.message } : value;
const client = new wavespeed.Client(apiKey, { baseUrl });
try {
  const result = await client[call.method](call.model, call.input, call.options);
  console.log(JSON.stringify({ result }, errors));
} catch (error) {
  console.log(JSON.stringify({ error: String(error.message ?? error), name: error.constructor.name }));
}
