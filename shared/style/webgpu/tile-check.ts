// Before a tile candidate is timed, it computes a small convolution and its input gradient (in one
// GEMM and split along K), and the results are checked against plain JavaScript: a driver that
// miscompiles one tile size (it happens) loses that candidate, instead of every job on that GPU
// getting a wrong gradient. The kernels on fixed tiles (the image's gradient, the Grams and their backward product) are checked
// the same way once per device; if one is wrong, that GPU is not used.
import {
  CONV_BACKWARD,
  CONV_FORWARD,
  type Dispatch,
  FEW_ROWS,
  type GemmSpec,
  gemmLaunch,
  gemmShader,
  gramBackwardSpec,
  gramSlices,
  gramSpec,
  SQUARE,
  type Tiles,
} from "./gemm";
import { directConv } from "./direct-conv";
import { recordable } from "./dispatch";
import { COPY_DST, COPY_SRC, MAP_READ, STORAGE } from "./flags";
import { mapForReading, withErrorScopes } from "./limits";
import { blocksOf, POSITIONS, winogradConv, winogradWeights } from "./winograd";

/**
 * Odd sizes, so that every edge of the output has partial tiles; more output rows than any tile
 * holds, so that tiles below the first row run too.
 */
const ROWS = 136;
const CHANNELS = 20;
const SIDE = 13;
const PX = SIDE * SIDE;
/** Gram checks: channels over two 64-tiles (one off the diagonal, mirrored), pixels in two slices. */
const GRAM_C = 72;
const GRAM_PX = 2100;
/**
 * Winograd checks: 72 channels in (more than two steps of the deepest tile's k-loop); 35×35 (18
 * blocks a row, the last half outside) in bands of 8 block rows: 144 blocks a band, more than any
 * tile's width, so a band's GEMM has a second column of tiles; three bands, the last a short one.
 */
const WINO_CHANNELS = 72;
const WINO_SIDE = 35;
const WINO_BAND_ROWS = 8;

/** Deterministic values in (−1, 1). */
function values(n: number, seed: number) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898 + seed) * 0.9;
  return out;
}

/** What a check runs: a GEMM's launch, its storage buffers in binding order, and the answer. */
interface Case {
  M: number;
  N: number;
  K: number;
  H: number;
  W: number;
  coef?: number;
  kPer?: number;
  grid?: [number, number, number];
  /** Bindings 1… (the output among them, with its starting content). */
  buffers: Float32Array<ArrayBuffer>[];
  out: number;
  want: Float32Array<ArrayBuffer>;
}

export type CheckKind = "forward" | "backward" | "gram" | "gram backward";

/**
 * What the convolution kernels compute, in JavaScript, `rows` outputs from `channels` inputs:
 * forward relu(conv3x3(src) + bias), or the input gradient conv3x3 over the gradient where the
 * activation is > 0 (the weights already flipped and transposed). Weights k-major ([in·9][rows]).
 */
function convCase(kind: "forward" | "backward", rows: number, side = SIDE, channels = CHANNELS): Case {
  const px = side * side;
  const wt = values(channels * 9 * rows, 1);
  const a = kind === "forward" ? values(rows, 2) : values(channels * px, 4); // bias, or the activation
  const b = values(channels * px, 3); // the source, or the gradient
  const want = new Float32Array(rows * px);
  for (let m = 0; m < rows; m++)
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        let sum = kind === "forward" ? a[m] : 0;
        for (let i = 0; i < channels; i++)
          for (let tap = 0; tap < 9; tap++) {
            const sy = y + Math.floor(tap / 3) - 1;
            const sx = x + (tap % 3) - 1;
            if (sy < 0 || sx < 0 || sy >= side || sx >= side) continue;
            const at = i * px + sy * side + sx;
            const v = kind === "forward" ? b[at] : a[at] > 0 ? b[at] : 0;
            sum += wt[(i * 9 + tap) * rows + m] * v;
          }
        want[m * px + y * side + x] = kind === "forward" ? Math.max(sum, 0) : sum;
      }
  const out = new Float32Array(rows * px);
  return { M: rows, N: px, K: channels * 9, H: side, W: side, buffers: [wt, a, b, out], out: 3, want };
}

/** The Gram's partial sums: slice s of dst = F·(F∘mask)ᵀ over that slice's pixels (all C×C, mirrored). */
function gramCase(masked: boolean): Case {
  const c = GRAM_C;
  const f = values(c * GRAM_PX, 5);
  const mask = values(GRAM_PX, 6).map(Math.abs);
  const { slices, kPer } = gramSlices(c, GRAM_PX, SQUARE.tm, SQUARE.tk);
  const want = new Float32Array(slices * c * c);
  for (let s = 0; s < slices; s++)
    for (let m = 0; m < c; m++)
      for (let n = 0; n < c; n++) {
        let sum = 0;
        for (let k = s * kPer; k < Math.min(GRAM_PX, (s + 1) * kPer); k++)
          sum += f[m * GRAM_PX + k] * f[n * GRAM_PX + k] * (masked ? mask[k] : 1);
        want[(s * c + m) * c + n] = sum;
      }
  const tiles = Math.ceil(c / SQUARE.tn);
  const dst = new Float32Array(want.length).fill(7); // an element left unwritten shows
  const buffers = masked ? [f, dst, mask] : [f, dst];
  return { M: c, N: c, K: GRAM_PX, H: 0, W: 0, kPer, grid: [tiles, tiles, slices], buffers, out: 1, want };
}

/** The style gradient's product: dst += coef·D·(F∘mask), D symmetric (C×C), F over the pixels. */
function gramBackwardCase(masked: boolean): Case {
  const c = GRAM_C;
  const d = new Float32Array(c * c);
  const r = values(c * c, 7);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) d[i * c + j] = r[Math.min(i, j) * c + Math.max(i, j)];
  const f = values(c * PX, 8);
  const mask = values(PX, 9).map(Math.abs);
  const dst = values(c * PX, 10);
  const coef = 0.5;
  const want = new Float32Array(c * PX);
  for (let m = 0; m < c; m++)
    for (let n = 0; n < PX; n++) {
      let sum = 0;
      for (let k = 0; k < c; k++) sum += d[k * c + m] * f[k * PX + n];
      want[m * PX + n] = dst[m * PX + n] + coef * sum * (masked ? mask[n] : 1);
    }
  const buffers = masked ? [d, f, dst, mask] : [d, f, dst];
  return { M: c, N: PX, K: c, H: SIDE, W: SIDE, coef, buffers, out: 2, want };
}

function caseOf(kind: CheckKind, rows: number, masked: boolean): Case {
  // Few rows (the image's gradient) come with a 256-wide tile: 17×17 pixels reach a second column of tiles.
  if (kind === "forward" || kind === "backward") return convCase(kind, rows, rows <= FEW_ROWS.tm ? 17 : SIDE);
  return kind === "gram" ? gramCase(masked) : gramBackwardCase(masked);
}

const verdicts = new WeakMap<GPUDevice, Map<string, Promise<boolean>>>();

/** Asked once per device and key; a failure (a lost device) is not a verdict. */
function once(device: GPUDevice, key: string, check: () => Promise<boolean>): Promise<boolean> {
  const known = verdicts.get(device) ?? new Map<string, Promise<boolean>>();
  verdicts.set(device, known);
  let verdict = known.get(key);
  if (!verdict) {
    verdict = check();
    known.set(key, verdict);
    verdict.catch(() => known.delete(key));
  }
  return verdict;
}

/**
 * Whether the convolution and its input gradient with these tiles compute right on this device
 * (the wide and the deep trial share the answer).
 */
export function tilesComputeRightly(device: GPUDevice, tiles: Tiles): Promise<boolean> {
  return once(
    device,
    JSON.stringify(tiles),
    async () =>
      (await gemmComputesRightly(device, tiles, CONV_FORWARD, "forward")) &&
      (await gemmComputesRightly(device, tiles, CONV_BACKWARD, "backward")) &&
      (await splitConvComputesRightly(device, tiles)),
  );
}

/**
 * Whether `conv` (directConv; tests pass broken ones) split along K computes the check's
 * convolution and its input gradient right: 180 deep in slices of 64 (the last one short).
 */
export async function splitConvComputesRightly(device: GPUDevice, tiles: Tiles, conv = directConv) {
  for (const kind of ["forward", "backward"] as const) {
    const c = convCase(kind, ROWS);
    const kPer = Math.ceil(64 / tiles.tk) * tiles.tk;
    const split = { slices: Math.ceil(c.K / kPer), kPer };
    const ok = await withBuffers(device, c, async ([wt, a, src, dst]) => {
      const part = device.createBuffer({ size: split.slices * c.M * c.N * 4, usage: STORAGE });
      try {
        const passes = conv(kind, { wt, a, src, dst, part }, c.M, c.K, c.H, c.W, tiles, split);
        return matches(c.want, await runDispatches(device, passes, dst));
      } finally {
        part.destroy();
      }
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * Whether the kernels on fixed tiles compute right on this device: the image's gradient, the Grams,
 * masked or not. A kernel the device refuses, or work it loses or hangs on, is a GpuError instead.
 */
export function fixedTilesComputeRightly(device: GPUDevice): Promise<boolean> {
  return once(device, "fixed", () =>
    withErrorScopes(device, async () => {
      if (!(await gemmComputesRightly(device, FEW_ROWS, CONV_BACKWARD, "backward", 3))) return false;
      for (const masked of [false, true]) {
        if (!(await gemmComputesRightly(device, SQUARE, gramSpec(masked), "gram", 0, masked))) return false;
        if (!(await gemmComputesRightly(device, SQUARE, gramBackwardSpec(masked), "gram backward", 0, masked)))
          return false;
      }
      return true;
    }),
  );
}

/**
 * Whether `spec` (the kernel of `kind`; tests pass broken ones) with these tiles computes right:
 * within 1e-4 of the largest output, about a hundred times float32's rounding here. `rows`: a
 * convolution's output rows; `masked`: a Gram's.
 */
export async function gemmComputesRightly(
  device: GPUDevice,
  tiles: Tiles,
  spec: GemmSpec,
  kind: CheckKind,
  rows = ROWS,
  masked = false,
) {
  const c = caseOf(kind, rows, masked);
  return withBuffers(device, c, async (storage) => {
    const launch = gemmLaunch(tiles, c.M, c.N, c.K, c.H, c.W, c.coef, c.kPer);
    const pass = {
      code: gemmShader(spec, tiles),
      params: launch.params,
      buffers: storage,
      groups: c.grid ?? launch.groups,
    };
    return matches(c.want, await runDispatches(device, [pass], storage[c.out]));
  });
}

/**
 * Whether a convolution and its input gradient by Winograd's transforms (./winograd), with these
 * tiles for the 16 GEMMs, compute right on this device (asked once per device and tiles).
 */
export function winogradComputesRightly(device: GPUDevice, tiles: Tiles): Promise<boolean> {
  return once(device, `winograd ${JSON.stringify(tiles)}`, () => winogradConvComputesRightly(device, tiles));
}

/**
 * Whether `conv` (winogradConv; tests pass broken ones) computes the check's convolution and its
 * input gradient right, in bands (WINO_*).
 */
export async function winogradConvComputesRightly(device: GPUDevice, tiles: Tiles, conv = winogradConv) {
  for (const kind of ["forward", "backward"] as const) {
    const c = convCase(kind, ROWS, WINO_SIDE, WINO_CHANNELS);
    const scratch = WINO_BAND_ROWS * POSITIONS * Math.max(c.M, WINO_CHANNELS) * blocksOf(WINO_SIDE, WINO_SIDE).cols;
    const ok = await withBuffers(device, c, async ([wt, a, src, dst]) => {
      const [u, v, prod] = [POSITIONS * WINO_CHANNELS * c.M, scratch, scratch].map((floats) =>
        device.createBuffer({ size: floats * 4, usage: STORAGE }),
      );
      try {
        // The case's weights are k-major ([in·9][out], already flipped and transposed for the gradient).
        const io = kind === "forward" ? { u, src, dst, v, prod, bias: a } : { u, src, dst, v, prod, act: a };
        const passes = [
          winogradWeights(wt, u, WINO_CHANNELS, c.M),
          ...conv(io, WINO_CHANNELS, c.M, WINO_SIDE, WINO_SIDE, tiles, scratch),
        ];
        return matches(c.want, await runDispatches(device, passes, dst));
      } finally {
        for (const b of [u, v, prod]) b.destroy();
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** Within 1e-4 of the largest output: about a hundred times float32's rounding here. */
function matches(want: Float32Array, got: Float32Array): boolean {
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return want.every((v, i) => Math.abs(got[i] - v) <= 1e-4 * scale);
}

/** The case's buffers on the device for `work`, destroyed after. */
async function withBuffers<T>(device: GPUDevice, c: Case, work: (storage: GPUBuffer[]) => Promise<T>): Promise<T> {
  const storage = c.buffers.map((d) => {
    const buf = device.createBuffer({ size: d.byteLength, usage: STORAGE | COPY_DST | COPY_SRC });
    device.queue.writeBuffer(buf, 0, d);
    return buf;
  });
  try {
    return await work(storage);
  } finally {
    for (const buf of storage) buf.destroy();
  }
}

/** Run dispatches in one pass and read `out` back. */
async function runDispatches(device: GPUDevice, dispatches: Dispatch[], out: GPUBuffer): Promise<Float32Array> {
  const work = recordable(device, dispatches);
  const read = device.createBuffer({ size: out.size, usage: MAP_READ | COPY_DST });
  try {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    work.record(pass);
    pass.end();
    enc.copyBufferToBuffer(out, 0, read, 0, out.size);
    device.queue.submit([enc.finish()]);
    await mapForReading(device, read); // a GPU that hangs here is destroyed (GpuError "timeout")
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    return got;
  } finally {
    work.destroy();
    read.destroy();
  }
}
