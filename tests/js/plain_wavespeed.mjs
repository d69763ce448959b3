// A newcomer's script, as WaveSpeed's docs show it: nothing but WAVESPEED_API_KEY set.
import wavespeed from "wavespeed";

const output = await wavespeed.run("wavespeed-ai/bitdance-14b/text-to-image", { prompt: "a cat" });
console.log(JSON.stringify(output));
