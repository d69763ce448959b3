// A client under the harness's --command protocol: {endpoint, arguments} as JSON on
// stdin, the output as JSON on stdout, a failure as a non-zero exit. The real, unmodified
// @fal-ai/client: the Node hook the harness loads sends it to the harness's emulation.
//   careful: fal.subscribe; any error fails the call (its message the last stderr line)
//   swallows_errors: returns an empty output on error, as a buggy wrapper does
import { fal } from "@fal-ai/client";
import { text } from "node:stream/consumers";

const mode = process.argv[2] ?? "careful";
const { endpoint, arguments: input } = JSON.parse(await text(process.stdin));
try {
  const result = await fal.subscribe(endpoint, { input, pollInterval: 100 });
  console.log(JSON.stringify(result.data));
} catch (error) {
  if (mode === "swallows_errors") {
    console.log("{}");
  } else {
    console.error(`${error.name}: ${error.message} ${JSON.stringify(error.body ?? "")}`);
    process.exit(1);
  }
}
