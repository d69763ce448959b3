// Runs a seed document's JavaScript example unmodified, after one line of configuration.
// usage: node run_seed_snippet.mjs EMULATOR_URL FAL_KEY SNIPPET_FILE
import { copyFileSync, mkdirSync } from "node:fs";
import { basename } from "node:path";
import { fal } from "@fal-ai/client";

const [base, credentials, snippet] = process.argv.slice(2);
// The only change to the example: where fal is.
fal.config({ credentials, proxyUrl: { url: `${base}/fal/proxy`, when: "always" } });
// Copied beside node_modules so that its `import ... from "@fal-ai/client"` resolves here.
mkdirSync("./.snippets", { recursive: true });
const local = `./.snippets/${basename(snippet)}`;
copyFileSync(snippet, local);
await import(local);
