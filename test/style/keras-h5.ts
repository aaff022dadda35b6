// Writes HDF5 files laid out like Keras weight files (legacy h5 format), for the weights tests.
import h5wasm, { type Group } from "h5wasm/node";
import type { ConvSpec } from "../../companion/style/vgg-weights";

/**
 * "keras2": /<layer>/<layer>/kernel:0 + bias:0, listed in `weight_names` (tf.keras 2.x).
 * "keras1": /<layer>/<layer>_W_1:0 + <layer>_b_1:0 (the 2016 files Keras Applications still serves).
 * "chunked": like keras2, but `weight_names` split into weight_names0/1 (Keras does this for long lists).
 * "bare":   /<layer>/vars/kernel + bias and no attributes at all (the reader must search the group).
 */
export type KerasLayout = "keras2" | "keras1" | "chunked" | "bare";

/** Kernel value at HWIO (h, w, i, o) is its flat HWIO index (exact in float32), so a wrong transpose shows. */
export function kernelValue(c: ConvSpec, h: number, w: number, i: number, o: number): number {
  return ((h * 3 + w) * c.inC + i) * c.outC + o;
}

/** Bias o of layer number `layer`: tells layers apart. */
export function biasValue(layer: number, o: number): number {
  return layer * 1000 + o;
}

export async function writeKerasH5(path: string, convs: readonly ConvSpec[], layout: KerasLayout = "keras2") {
  await h5wasm.ready;
  // h5py's default ("earliest") writes superblock v0; h5wasm's own default writes v2: cover both.
  const f = new h5wasm.File(path, "w", layout === "keras1" ? { libver: ["earliest", "latest"] } : {});
  try {
    if (layout !== "bare")
      writeNames(f, "layer_names", ["input_1", ...convs.map((c) => c.name), "block5_pool"], layout);
    f.create_group("input_1");
    convs.forEach((c, layer) => {
      const kernel = Float32Array.from({ length: 9 * c.inC * c.outC }, (_, j) => j);
      const bias = Float32Array.from({ length: c.outC }, (_, o) => biasValue(layer, o));
      const g = f.create_group(c.name);
      const [sub, kName, bName] =
        layout === "keras2" || layout === "chunked"
          ? [c.name, "kernel:0", "bias:0"]
          : layout === "keras1"
            ? ["", `${c.name}_W_1:0`, `${c.name}_b_1:0`]
            : ["vars", "kernel", "bias"];
      const holder = sub ? g.create_group(sub) : g;
      const prefix = sub && layout !== "bare" ? `${sub}/` : "";
      if (layout !== "bare") writeNames(g, "weight_names", [prefix + kName, prefix + bName], layout);
      // Bias written first in the file, so the reader must not rely on storage order.
      holder.create_dataset({ name: bName, data: bias, shape: [c.outC] });
      holder.create_dataset({ name: kName, data: kernel, shape: [3, 3, c.inC, c.outC] });
      // A same-shaped decoy that `weight_names` does not list (and sorts first): the list must win.
      if (layout !== "bare") {
        g.create_dataset({
          name: "a_decoy",
          data: new Float32Array(kernel.length).fill(-1),
          shape: [3, 3, c.inC, c.outC],
        });
      }
    });
  } finally {
    f.close();
  }
}

/** h5py (which wrote the real files) stores name lists as fixed-length byte strings; tf.keras 2 files too. */
function writeNames(target: Group, name: string, names: string[], layout: KerasLayout) {
  const width = Math.max(...names.map((n) => n.length));
  if (layout === "keras1") target.create_attribute(name, names, [names.length], `S${width}`);
  else if (layout === "chunked") {
    for (const [i, n] of names.entries()) target.create_attribute(`${name}${i}`, [n]);
  } else target.create_attribute(name, names);
}
