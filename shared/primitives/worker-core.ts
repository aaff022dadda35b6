// What a search worker does with each message, whatever runs it (a Node worker thread or a Web
// Worker): it owns a copy of the canvas; every worker draws every accepted shape, so all agree.
import type { Found, FromWorker, ToWorker, WorkerInit } from "./messages";
import { FocusPoints } from "./focus-points";
import { Model } from "./model";
import { Rng } from "./rng";
import { Candidate, Searcher } from "./search";

/** Shrink the seed variant's size limit by 2 px every this many iterations. */
const SEED_SHRINK_EVERY = 30;

/** Builds the worker's model from `init`; returns the handler for the messages that follow. */
export function createSearchWorker(init: WorkerInit, send: (msg: FromWorker) => void): (msg: ToWorker) => void {
  const abort = init.abort;
  const aborted = abort ? () => Atomics.load(abort, 0) !== 0 : () => false;
  const extras = { weights: init.weights, palette: init.palette, gradient: init.gradient };
  const model = new Model(init.width, init.height, init.target, init.background, init.alpha, extras);
  const points = init.focus ? new FocusPoints(init.focus, init.width) : null;
  const search = new Searcher(model, init.codes, init.alpha, aborted, points && points.total > 0 ? points : null);
  const best = new Candidate();
  const stops = new Float64Array(4);

  /** Rounds the shape to 1/100 px (compact output) and rescores it as rounded, so all agree. */
  function found(c: Candidate): Found {
    for (let i = 0; i < c.p.length; i++) c.p[i] = Math.round(c.p[i] * 100) / 100;
    search.evaluate(c);
    const f: Found = {
      code: c.code,
      p: Array.from(c.p),
      alpha: c.alpha,
      color: [c.color[0], c.color[1], c.color[2]],
      energy: c.energy,
      climb: c.climb,
    };
    if (model.gradient) {
      model.gradientStops(search.spans, stops);
      f.gradient = { color: [c.color2[0], c.color2[1], c.color2[2]], stops: [stops[0], stops[1], stops[2], stops[3]] };
    }
    return f;
  }

  /** A found shape back into a candidate (ramp over the whole extent, as steps find them). */
  function load(f: Found, c: Candidate): void {
    c.code = f.code;
    c.p.set(f.p);
    c.alpha = f.alpha;
    c.color.set(f.color);
    c.climb = f.climb;
    c.lo = 0;
    c.hi = 1;
    c.turn = 0;
  }

  return (msg) => {
    try {
      if (msg.type === "draw") {
        const f = msg.found;
        search.spans.rasterize(f.code, f.p);
        if (f.gradient) model.drawGradient(search.spans, f.color, f.gradient.color, f.alpha, f.gradient.stops);
        else model.draw(search.spans, f.color[0], f.color[1], f.color[2], f.alpha);
      } else if (msg.type === "refine") {
        load(msg.found, best);
        const ok = search.refine(init.seed, msg.step, init.budget, best);
        send({ type: "found", found: ok ? found(best) : null, aborted: !ok });
      } else if (msg.type === "step") {
        const ok = search.step(init.seed, msg.step, init.budget, init.index, init.workers, best);
        send({ type: "found", found: ok && Number.isFinite(best.energy) ? found(best) : null, aborted: !ok });
      } else {
        // Seed variant: one random shape per iteration until one lowers the error.
        let it = msg.iteration;
        const rng = new Rng(init.seed, it, init.index);
        for (let i = 0; i < msg.tries; i++, it++) {
          const size = Math.max(msg.minSize, msg.startSize - 2 * Math.floor(it / SEED_SHRINK_EVERY));
          if (search.seedStep(rng, msg.minSize, size, 1, best)) {
            send({ type: "found", found: found(best), aborted: false, iteration: it + 1 });
            return;
          }
          if (aborted()) break;
        }
        send({ type: "found", found: null, aborted: aborted(), iteration: it });
      }
    } catch (err) {
      send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  };
}
