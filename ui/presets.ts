// Draft / standard / high: a few good starting points per mode. Editing an advanced option turns
// the preset into "custom".
import * as v from "valibot";
import type { Mode, Preset, Settings } from "../shared/plugin-messages";
import {
  type PrimitivesOptions,
  PrimitivesOptionsSchema,
  type StyleOptions,
  StyleOptionsSchema,
} from "../shared/protocol";

type Named = Exclude<Preset, "custom">;

// "Standard" is whatever the companion (and CLI) default to, so the two never drift apart.
const styleDefaults = v.parse(StyleOptionsSchema, {});
const primitivesDefaults = v.parse(PrimitivesOptionsSchema, {});

// All three settle the picture at the same coarsest scale (128 px, where the subject is fixed) with
// about the same iterations there, so they look alike: Draft stops at 256 px (two scales), High goes
// on to 1024 px (four scales) and gives each finer scale 10 iterations instead of 6 for the style's
// fine texture. They differ in detail and time, not in look.
export const STYLE_PRESETS: Record<Named, Partial<StyleOptions>> = {
  draft: { size: 256, iters: 80, detailIters: styleDefaults.detailIters },
  standard: { size: styleDefaults.size, iters: styleDefaults.iters, detailIters: styleDefaults.detailIters },
  high: { size: 1024, iters: 112, detailIters: 10 },
};

export const PRIMITIVES_PRESETS: Record<Named, Partial<PrimitivesOptions>> = {
  draft: { count: 50, workSize: 128 },
  standard: { count: primitivesDefaults.count, workSize: primitivesDefaults.workSize },
  high: { count: 1000, workSize: 512 },
};

export const PRESET_LABELS: Record<Preset, string> = {
  draft: "Draft",
  standard: "Standard",
  high: "High",
  custom: "Custom",
};

export function applyPreset(settings: Settings, mode: Mode, preset: Preset): Settings {
  if (preset === "custom") return { ...settings, preset };
  if (mode === "style") return { ...settings, preset, style: { ...settings.style, ...STYLE_PRESETS[preset] } };
  return { ...settings, preset, primitives: { ...settings.primitives, ...PRIMITIVES_PRESETS[preset] } };
}

/** The working resolution (longest side, px) the plugin exports the layer at. */
export const workSizeOf = (s: Settings) => (s.mode === "style" ? s.style.size : s.primitives.workSize);
