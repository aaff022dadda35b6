// A style job: "content", "style:i" and optional "mask:i" parts; progress and PNG previews are
// streamed, and the styled PNG follows the `result` message as the binary part "result".
import type { StyleJob } from "../../../shared/protocol";
import { UserError } from "../../errors";
import { encodePng, loadImage } from "../../image";
import type { StyleInputs } from "../engines";
import { FETCH_HINT } from "../../style/weights";
import type { JobSpec, Part } from "./job";

export function styleJob(msg: StyleJob): JobSpec<StyleInputs> {
  const { id, options, styles } = msg;
  const masks = msg.masks ?? [];
  if (options.styleBlend && options.styleBlend.length !== styles) {
    throw new UserError(
      "bad-message",
      `options.styleBlend has ${options.styleBlend.length} weights for ${styles} styles`,
    );
  }
  if (masks.some((i) => i >= styles) || new Set(masks).size !== masks.length) {
    throw new UserError("bad-message", `masks must name distinct styles between 0 and ${styles - 1}`);
  }
  const styleParts = Array.from({ length: styles }, (_, i) => `style:${i}` as Part);
  const maskParts = masks.map((i) => `mask:${i}` as Part);

  return {
    parts: ["content", ...styleParts, ...maskParts],

    async preflight({ engines, config }) {
      const w = await engines.weights(config.weights);
      if (!w.installed) {
        throw new UserError(
          "weights-missing",
          `The VGG-19 style weights are not installed at ${w.spec}. ${FETCH_HINT}`,
        );
      }
    },

    async prepare(parts, maxInputPixels) {
      // Decode no larger than the engine will use (the style may be scaled up by styleScale).
      const side = options.size;
      const styleSide = Math.ceil(options.size * Math.max(1, options.styleScale));
      const load = (part: Part, maxSide: number) =>
        loadImage(parts.get(part)!, { maxSide, maxInputPixels, name: partName(part, styles) });
      const [content, ...rest] = await Promise.all([
        load("content", side),
        ...styleParts.map((p) => load(p, styleSide)),
        ...maskParts.map((p) => load(p, side)),
      ]);
      const styleImgs = rest.slice(0, styles);
      const maskOf = (i: number) => (masks.includes(i) ? rest[styles + masks.indexOf(i)] : undefined);
      const maskImgs = masks.length ? styleImgs.map((_, i) => maskOf(i)) : undefined;
      return { content, styles: styleImgs, masks: maskImgs };
    },

    async run(inputs, { io, signal, engines, config }) {
      const weights = (await engines.weights(config.weights)).spec;
      const result = await engines.runStyle(inputs, {
        options,
        weights,
        signal,
        onProgress: (p) =>
          io.send({
            type: "progress",
            id,
            done: p.iter,
            total: p.total,
            value: p.loss,
            etaMs: p.etaMs,
            terms: p.terms,
            scale: p.scale,
            scales: p.scales,
          }),
        onNote: (message) => io.send({ type: "note", id, message }),
        onPreview: async (img, iter) => {
          if (io.congested()) return; // previews are optional; never let them pile up
          const png = await encodePng(img);
          io.send({ type: "preview", id, width: img.width, height: img.height, done: iter });
          io.sendPart("preview", png);
        },
      });
      const png = await encodePng(result.image);
      io.send({
        type: "result",
        kind: "style",
        id,
        width: result.image.width,
        height: result.image.height,
        device: result.device,
        ...(result.fallback ? { fallback: result.fallback } : {}),
        ms: Math.round(result.ms),
      });
      io.sendPart("result", png);
    },
  };
}

/** A style job's part as the designer knows it, for messages ("Cannot decode style image 2: …"). */
function partName(part: Part, styles: number): string {
  const [kind, index] = part.split(":");
  const which = styles > 1 ? ` ${Number(index) + 1}` : "";
  if (kind === "style") return `the style image${which}`;
  if (kind === "mask") return `the region layer${which && ` of style${which}`}`;
  return "the layer's image";
}
