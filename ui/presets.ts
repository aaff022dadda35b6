// Draft / standard / high: a few good starting points per mode. Editing an advanced option turns
// the preset into "custom".
import type { Mode, Preset, Settings } from "../shared/plugin-messages";
import type { PrimitivesOptions, StyleOptions } from "../shared/protocol";

type Named = Exclude<Preset, "custom">;

export const STYLE_PRESETS: Record<Named, Partial<StyleOptions>> = {
  draft: { size: 256, iters: 60 },
  standard: { size: 512, iters: 300 }, // = the companion's defaults
  high: { size: 1024, iters: 500 },
};

export const PRIMITIVES_PRESETS: Record<Named, Partial<PrimitivesOptions>> = {
  draft: { count: 50, workSize: 128 },
  standard: { count: 100, workSize: 256 }, // = the companion's defaults
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
