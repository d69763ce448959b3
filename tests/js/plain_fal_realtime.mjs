// A newcomer's realtime script: fal's client opens the global WebSocket to wss://fal.run.
import { fal } from "@fal-ai/client";

const result = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no result within 20 s")), 20000);
  const connection = fal.realtime.connect("fal-ai/fast-lcm-diffusion", {
    onResult(result) {
      clearTimeout(timer);
      connection.close();
      resolve(result);
    },
    onError(error) {
      clearTimeout(timer);
      connection.close();
      reject(error);
    },
  });
  connection.send({ prompt: "a cat in real time", image_size: "square" });
});
console.log(JSON.stringify({ prompt: result.prompt, width: result.images[0].width }));
process.exit(0); // the client keeps its connection's timers
