// A primitives job: one "image" part; shapes are streamed in batches as the engine accepts them.
import { streamPrimitives } from "../../../shared/primitives/stream";
import type { PrimitivesJob } from "../../../shared/protocol";
import { abortError } from "../../errors";
import { loadImage, type RgbaImage } from "../../image";
import type { JobSpec } from "./job";

export function primitivesJob(msg: PrimitivesJob): JobSpec<RgbaImage> {
  const { id, options } = msg;
  return {
    parts: ["image"],
    // The engine works at `workSize`; decoding straight to it keeps queued jobs small in memory.
    prepare: (parts, maxImagePixels) =>
      loadImage(parts.get("image")!, { maxSide: options.workSize, maxInputPixels: maxImagePixels }),

    async run(image, { io, signal, engines, config }) {
      const session = await engines.createPrimitives(image, options, { workers: config.primitivesWorkers, signal });
      try {
        if (!(await streamPrimitives(session, id, options, (m) => io.send(m), signal))) throw abortError();
      } finally {
        await session.close();
      }
    },
  };
}
