// A primitives job: one "image" part; shapes are streamed in batches as the engine accepts them.
import type { PrimitivesJob } from "../../../shared/protocol";
import type { Shape } from "../../../shared/shapes";
import { abortError } from "../../errors";
import { loadImage, type RgbaImage } from "../../image";
import { Batcher, type JobSpec } from "./job";

export function primitivesJob(msg: PrimitivesJob): JobSpec<RgbaImage> {
  const { id, options } = msg;
  return {
    parts: ["image"],
    // The engine works at `workSize`; decoding straight to it keeps queued jobs small in memory.
    prepare: (parts, maxImagePixels) =>
      loadImage(parts.get("image")!, { maxSide: options.workSize, maxInputPixels: maxImagePixels }),

    async run(image, { io, signal, engines, config }) {
      const started = Date.now();
      const session = await engines.createPrimitives(image, options, { workers: config.primitivesWorkers, signal });
      try {
        const { width, height, background } = session;
        const shapes: Shape[] = [];
        let score = session.initialScore;
        const batch = new Batcher<Shape>((items) => {
          const from = shapes.length - items.length;
          io.send({ type: "shapes", id, width, height, background, from, shapes: items, score });
          const done = shapes.length;
          const etaMs = ((Date.now() - started) / done) * (options.count - done);
          io.send({ type: "progress", id, done, total: options.count, value: score, etaMs: Math.round(etaMs) });
        });
        for await (const ev of session.shapes()) {
          shapes.push(ev.shape);
          score = ev.score;
          batch.push(ev.shape);
        }
        // The engine ends quietly when aborted; a cancelled job must not report a result.
        if (signal.aborted) throw abortError();
        batch.flush();
        io.send({
          type: "result",
          kind: "primitives",
          id,
          result: { width, height, background, shapes, score },
          ms: Date.now() - started,
        });
      } finally {
        await session.close();
      }
    },
  };
}
