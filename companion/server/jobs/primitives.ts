// A primitives job: one "image" part; shapes are streamed in batches as the engine accepts them.
import { marksFocus, NO_FOCUS } from "../../../shared/primitives/controls";
import { streamPrimitives } from "../../../shared/primitives/stream";
import type { PrimitivesJob } from "../../../shared/protocol";
import { abortError, UserError } from "../../errors";
import { loadImage, type RgbaImage } from "../../image";
import type { JobSpec } from "./job";

type Inputs = { image: RgbaImage; focus?: RgbaImage };

export function primitivesJob(msg: PrimitivesJob): JobSpec<Inputs> {
  const { id, options } = msg;
  return {
    parts: msg.focus ? ["image", "focus"] : ["image"],
    // The engine works at `workSize`; decoding straight to it keeps queued jobs small in memory.
    async prepare(parts, maxImagePixels) {
      const load = (bytes: Uint8Array, name: string) =>
        loadImage(bytes, { maxSide: options.workSize, maxInputPixels: maxImagePixels, name });
      const focusPart = parts.get("focus");
      const focus = focusPart ? await load(focusPart, "the focus layer's image") : undefined;
      if (focus && !marksFocus(focus.data)) throw new UserError("bad-message", `The focus layer's image ${NO_FOCUS}.`);
      return { image: await load(parts.get("image")!, "the layer's image"), focus };
    },

    async run({ image, focus }, { io, signal, engines, config }) {
      const run = { workers: config.primitivesWorkers, signal, focus };
      const session = await engines.createPrimitives(image, options, run);
      try {
        if (!(await streamPrimitives(session, id, options, (m) => io.send(m), signal))) throw abortError();
      } finally {
        await session.close();
      }
    },
  };
}
