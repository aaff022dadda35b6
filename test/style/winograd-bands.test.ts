// Winograd's bands, in arithmetic only (no GPU): at the largest sizes every VGG-19 layer's
// dispatches stay within WebGPU's grid limits and the scratch budget, and the bands cover each
// layer's blocks exactly once.
import { describe, expect, it } from "vitest";
import { GRID_X } from "../../shared/style/webgpu/gemm";
import { TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { blocksOf, POSITIONS, SCRATCH_BYTES, scratchFloatsFor, winogradConv } from "../../shared/style/webgpu/winograd";
import { poolsAfter } from "../../shared/style/vgg";
import { randomVggWeights } from "../../companion/style/vgg-weights";

const convs = randomVggWeights(0).convs;
const fake = (name: string) => ({ label: name }) as unknown as GPUBuffer;
const io = { u: fake("u"), src: fake("src"), dst: fake("dst"), v: fake("v"), prod: fake("prod"), bias: fake("bias") };

describe("Winograd bands", () => {
  for (const [h, w] of [
    [2048, 2048],
    [2048, 512],
    [32, 2048],
    [48, 80],
  ])
    it(`${w}×${h}: grids within limits, scratch within budget, every block once`, () => {
      const budget = SCRATCH_BYTES / 4;
      let [lh, lw] = [h, w];
      const layers = convs.map((c, i) => {
        const at = { c, h: lh, w: lw };
        if (poolsAfter(convs, i)) [lh, lw] = [lh / 2, lw / 2];
        return at;
      });
      const floats = Math.max(...layers.map((l) => scratchFloatsFor(l.c.inC, l.c.outC, l.h, l.w, budget)));
      expect(floats).toBeLessThanOrEqual(budget);
      for (const tiles of TILE_CANDIDATES)
        for (const { c, h: lh, w: lw } of layers.slice(1)) {
          const ds = winogradConv(io, c.inC, c.outC, lh, lw, tiles, floats);
          for (const d of ds) for (const g of d.groups) expect(g).toBeLessThanOrEqual(65535);
          const { rows, cols } = blocksOf(lh, lw);
          let next = 0;
          for (const input of ds.filter((d) => d.buffers[0] === io.src)) {
            const [n, ch, , , off] = new Uint32Array(input.params);
            const blocks = n / ch;
            expect(off).toBe(next); // contiguous bands
            expect(POSITIONS * Math.max(c.inC, c.outC) * blocks).toBeLessThanOrEqual(floats);
            expect(Math.ceil(blocks / tiles.tn)).toBeLessThanOrEqual(GRID_X);
            next += blocks;
          }
          expect(next).toBe(rows * cols);
        }
    });
});
