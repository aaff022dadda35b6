// Built models are cached on disk by weights hash and graph options; a damaged cache is rebuilt.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { StyleNet } from "../../companion/style/session";
import { narrowedConvs, randomVggWeights } from "../../companion/style/vgg-weights";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stylize-cache-"));
  process.env.STYLIZE_CACHE_DIR = dir;
});

const narrow = randomVggWeights(11, narrowedConvs(16));

describe("model cache", () => {
  it("builds once, then loads; options that change the graph get their own entry", async () => {
    const open = async (masked: boolean[]) => {
      const net = await StyleNet.open(narrow, { pooling: "avg", masked, device: "cpu" });
      await net.dispose(); // not release(): that parks the net for reuse
      return net.cacheHit;
    };
    expect(await open([false])).toBe(false);
    expect(readdirSync(join(dir, "models"))).toHaveLength(2); // features + loss
    expect(await open([false])).toBe(true);
    expect(await open([false, true])).toBe(true); // the features graph is shared…
    expect(readdirSync(join(dir, "models"))).toHaveLength(3); // …the loss graph is new
  });

  it("rebuilds a damaged cached model instead of failing", async () => {
    const models = join(dir, "models");
    for (const f of readdirSync(models)) writeFileSync(join(models, f), "not a model");
    const net = await StyleNet.open(narrow, { pooling: "avg", masked: [false], device: "cpu" });
    const f = await net.features(new Float32Array(3 * 32 * 32), 32, 32);
    expect(f.grams).toHaveLength(5);
    await net.dispose(); // not release(): that parks the net for reuse
    expect(net.cacheHit).toBe(false);
  });

  it("parks a released net for the next job with the same graphs, and only that one", async () => {
    const opts = { pooling: "avg" as const, masked: [false], device: "cpu" as const };
    const a = await StyleNet.open(narrow, opts);
    await a.release();
    const b = await StyleNet.open(narrow, opts);
    expect(b).toBe(a); // no new sessions
    await b.release();
    const c = await StyleNet.open(narrow, { ...opts, masked: [true] });
    expect(c).not.toBe(a);
    await c.dispose();
  });
});
