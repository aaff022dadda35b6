// `--weights random[:seed]`: deterministic He-normal weights with VGG-19's shapes; and the HWIO -> OIHW transpose.
import { describe, expect, it } from "vitest";
import { UserError } from "../../companion/errors";
import { hwioToOihw, loadVggWeights, randomVggWeights, VGG19_CONVS } from "../../companion/style/vgg-weights";

const SMALL = VGG19_CONVS.slice(0, 3);

describe("random weights", () => {
  it("have VGG-19's 13 conv shapes up to block5_conv1", async () => {
    const w = await loadVggWeights("random:7");
    expect(w.random).toBe(true);
    expect(w.convs.map((c) => [c.name, c.inC, c.outC, c.kernel.length, c.bias.length])).toEqual(
      VGG19_CONVS.map((c) => [c.name, c.inC, c.outC, c.outC * c.inC * 9, c.outC]),
    );
    expect(w.convs[12].name).toBe("block5_conv1");
  });

  it("are the same for the same seed and differ between seeds; the hash follows the seed", () => {
    const a = randomVggWeights(3, SMALL);
    const b = randomVggWeights(3, SMALL);
    const c = randomVggWeights(4, SMALL);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.hash).not.toBe(a.hash);
    a.convs.forEach((conv, i) => {
      expect(Buffer.from(conv.kernel.buffer).equals(Buffer.from(b.convs[i].kernel.buffer))).toBe(true);
      expect(Buffer.from(conv.kernel.buffer).equals(Buffer.from(c.convs[i].kernel.buffer))).toBe(false);
    });
    // Layers are drawn from independent streams, not one sequence reused.
    expect(a.convs[1].kernel.slice(0, 8)).not.toEqual(a.convs[2].kernel.slice(0, 8));
  });

  it('"random" is seed 0', async () => {
    expect((await loadVggWeights("random")).hash).toBe((await loadVggWeights("random:0")).hash);
  });

  it("are He-normal: mean ~0, std ~sqrt(2 / fan_in) per layer", () => {
    const w = randomVggWeights(11, SMALL);
    for (const conv of w.convs) {
      const n = conv.kernel.length;
      const mean = conv.kernel.reduce((s, x) => s + x, 0) / n;
      const std = Math.sqrt(conv.kernel.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
      const want = Math.sqrt(2 / (conv.inC * 9));
      expect(Math.abs(mean)).toBeLessThan((4 * want) / Math.sqrt(n));
      expect(std / want).toBeGreaterThan(0.97);
      expect(std / want).toBeLessThan(1.03);
    }
  });

  it("reject a malformed spec clearly", async () => {
    for (const spec of ["random:x", "random:-1", "random:"]) {
      const err = await loadVggWeights(spec).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toMatch(/random:<seed>/);
    }
    // Only "random" and "random:…" are specs; anything else is a file path.
    const err = await loadVggWeights("random_weights.h5").catch((e: unknown) => e);
    expect((err as UserError).message).toMatch(/not at random_weights\.h5/);
  });
});

describe("hwioToOihw", () => {
  it("moves every element to its ONNX position", () => {
    const [inC, outC] = [2, 3];
    const src = Float32Array.from({ length: 9 * inC * outC }, (_, j) => j);
    const dst = hwioToOihw(src, inC, outC);
    for (let h = 0; h < 3; h++)
      for (let w = 0; w < 3; w++)
        for (let i = 0; i < inC; i++)
          for (let o = 0; o < outC; o++) {
            expect(dst[((o * inC + i) * 3 + h) * 3 + w]).toBe(src[((h * 3 + w) * inC + i) * outC + o]);
          }
    expect([...dst].sort((x, y) => x - y)).toEqual([...src]);
  });
});
