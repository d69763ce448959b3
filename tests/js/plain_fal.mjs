// A newcomer's script, as fal's docs show it: nothing but FAL_KEY set. Run under the Node
// hook (NODE_OPTIONS=--import=…/hook.mjs), it reaches the emulator unmodified.
import { fal } from "@fal-ai/client";

const result = await fal.subscribe("fal-ai/bitdance", { input: { prompt: "a cat" } });
console.log(JSON.stringify(result.data));
