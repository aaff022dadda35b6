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

export const STYLE_PRESETS: Record<Named, Partial<StyleOptions>> = {
  draft: { size: 256, iters: Math.max(1, Math.round(styleDefaults.iters / 2)) },
  standard: { size: styleDefaults.size, iters: styleDefaults.iters },
  high: { size: 1024, iters: styleDefaults.iters * 2 },
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
