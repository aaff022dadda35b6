// Loading VGG-19 weights from Keras-layout HDF5 files (synthetic, written with h5wasm).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../companion/errors";
import { verifyReport } from "../../companion/style/weights-command";
import {
  type ConvSpec,
  loadVggWeights,
  narrowedConvs,
  readVggFile,
  VGG19_CONVS,
} from "../../companion/style/vgg-weights";
import { biasValue, type KerasLayout, kernelValue, writeKerasH5 } from "./keras-h5";

const dir = mkdtempSync(join(tmpdir(), "stylize-h5-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// VGG-19's layer names with channel counts divided by 16: same structure, 1/256 of the bytes.
const SMALL: ConvSpec[] = narrowedConvs(16);

async function expectUserError(p: Promise<unknown>, pattern: RegExp) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe("weights-missing");
  expect((err as UserError).message).toMatch(pattern);
}

describe.each<KerasLayout>(["keras2", "keras1", "chunked", "bare"])("a %s-layout file", (layout) => {
  it("loads every conv in order, kernels converted HWIO -> OIHW, hash = sha256 of the file", async () => {
    const path = join(dir, `small-${layout}.h5`);
    await writeKerasH5(path, SMALL, layout);
    const w = await readVggFile(path, SMALL);
    expect(w.random).toBe(false);
    expect(w.hash).toBe(createHash("sha256").update(readFileSync(path)).digest("hex"));
    expect(w.convs.map((c) => c.name)).toEqual(SMALL.map((c) => c.name));
    w.convs.forEach((conv, layer) => {
      const spec = SMALL[layer];
      expect([conv.inC, conv.outC]).toEqual([spec.inC, spec.outC]);
      expect(Array.from(conv.bias)).toEqual(Array.from({ length: spec.outC }, (_, o) => biasValue(layer, o)));
      expect(conv.kernel.length).toBe(spec.outC * spec.inC * 9);
      for (let o = 0; o < spec.outC; o++)
        for (let i = 0; i < spec.inC; i++)
          for (let h = 0; h < 3; h++)
            for (let x = 0; x < 3; x++) {
              const got = conv.kernel[((o * spec.inC + i) * 3 + h) * 3 + x];
              if (got !== kernelValue(spec, h, x, i, o)) expect.fail(`${spec.name}[${o},${i},${h},${x}] = ${got}`);
            }
    });
  });
});

describe("loadVggWeights with a file", () => {
  it("loads a full-size VGG-19 file (13 convs, real shapes) and memoises it until the file changes", async () => {
    const path = join(dir, "full.h5");
    await writeKerasH5(path, VGG19_CONVS);
    const w = await loadVggWeights(path);
    expect(w.convs.map((c) => [c.name, c.inC, c.outC, c.kernel.length, c.bias.length])).toEqual(
      VGG19_CONVS.map((c) => [c.name, c.inC, c.outC, c.outC * c.inC * 9, c.outC]),
    );
    const last = VGG19_CONVS[12];
    // OIHW [o=7, i=300, h=2, w=1] comes from HWIO [2, 1, 300, 7].
    expect(w.convs[12].kernel[((7 * 512 + 300) * 3 + 2) * 3 + 1]).toBe(kernelValue(last, 2, 1, 300, 7));
    // Identity checks as booleans: a failing toBe on 80 MB of arrays would take minutes to diff.
    expect((await loadVggWeights(path)) === w).toBe(true);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect((await loadVggWeights(path)) === w).toBe(false);
  });

  it("names the fetch command when the file is absent", async () => {
    await expectUserError(loadVggWeights(join(dir, "nope.h5")), /not at .*nope\.h5.*npx stylize weights fetch/);
  });

  it("refuses a file that is not HDF5", async () => {
    const path = join(dir, "text.h5");
    writeFileSync(path, "not an hdf5 file at all");
    await expectUserError(loadVggWeights(path), /text\.h5 is not usable VGG-19 weights: it is not an HDF5 file/);
  });

  it.each<KerasLayout>(["keras1", "keras2"])("refuses a truncated %s file (superblock v0 and v2)", async (layout) => {
    const path = join(dir, `cut-${layout}.h5`);
    await writeKerasH5(path, SMALL, layout);
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, 5000));
    await expectUserError(readVggFile(path, SMALL), new RegExp(`it is truncated \\(5000 of ${whole.length} bytes\\)`));
  });

  it("turns a corrupt file's HDF5 failure into a clear error", async () => {
    const path = join(dir, "corrupt.h5");
    await writeKerasH5(path, SMALL);
    const bytes = readFileSync(path);
    bytes.fill(0, 48, 4096); // the object headers after the superblock
    writeFileSync(path, bytes);
    await expectUserError(
      readVggFile(path, SMALL),
      /corrupt\.h5 is not usable VGG-19 weights: its HDF5 structure cannot be read, so the file is corrupt/,
    );
  });

  it("refuses HDF5 with the wrong shapes, saying which layer and what was expected", async () => {
    const path = join(dir, "small-for-full.h5");
    await writeKerasH5(path, SMALL);
    await expectUserError(loadVggWeights(path), /"block1_conv1" kernel is \[3, 3, 3, 4\], expected \[3, 3, 3, 64\]/);
  });

  it("refuses HDF5 without the VGG layers", async () => {
    const path = join(dir, "partial.h5");
    await writeKerasH5(path, SMALL.slice(0, 4));
    await expectUserError(readVggFile(path, SMALL), /has no layer "block3_conv1"/);
  });
});

describe("weights verify", () => {
  it("calls a file with VGG-19's shapes valid and says plainly that its MD5 is not Keras'", async () => {
    const path = join(dir, "converted.h5");
    await writeKerasH5(path, VGG19_CONVS);
    const md5 = createHash("md5").update(readFileSync(path)).digest("hex");
    const report = await verifyReport(path);
    expect(report).toMatch(/valid VGG-19 weights: 13 convolutions, [\d,]+ parameters, shapes OK/);
    expect(report).toContain(`MD5 ${md5} is not Keras' published 253f8cb5`);
    expect(report).toMatch(/not the original download/);
  });

  it("still refuses a file without VGG-19's shapes", async () => {
    const path = join(dir, "small-for-verify.h5");
    await writeKerasH5(path, SMALL);
    await expectUserError(verifyReport(path), /small-for-verify\.h5/);
  });
});
