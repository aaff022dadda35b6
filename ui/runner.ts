// One Stylize run, end to end: plugin exports the layer → companion job (live progress/preview)
// → plugin inserts the result. The document is only touched in the last step. A batch (several
// layers selected) runs that once per layer, in the selection's order, with the same settings.
// "Stylize as shapes" chains two jobs: the style job, then a primitives job on the painting.
import { jobSettings, type LayerInfo, STYLE_NAME_MAX, type Settings } from "../shared/plugin-messages";
import type { ServerMessage } from "../shared/protocol";
import type { ShapeList } from "../shared/shapes";
import type { FrameHeader } from "../shared/frames";
import { onPluginMessage, requestPlugin } from "./bridge";
import { type Canvas, Job, type JobChannel, type JobOutcome, type JobRequest, newJobId, type Progress } from "./job";
import { pngDataUrl } from "./data-url";
import { composeMask } from "./mask";
import { type JobSite, jobErrorText } from "./messages";
import { workSizeOf } from "./presets";

export type StyleFile = { name: string; bytes: Uint8Array };
export type RunInput = {
  settings: Settings;
  styleFiles: StyleFile[];
  styleLayers: LayerInfo[];
  mask: LayerInfo | null;
  /** Primitives: the layer marking where detail matters. */
  focus?: LayerInfo | null;
  /** The layers to run on (the selection when Run was pressed); none: the one selected layer. */
  layers?: LayerInfo[];
  /** Style mode: paint, then rebuild the painting from shapes (settings.primitives) as vectors. */
  asShapes?: boolean;
};

/**
 * Where a batch stands: the layer it is on (1-based), what is done, what failed and why. Whether it
 * ended early is derived from these (batchStopped in messages.ts).
 */
export type BatchState = {
  index: number;
  total: number;
  layer: string;
  done: number;
  failures: { layer: string; message: string }[];
};

export type RunState = {
  phase: "exporting" | "running" | "cancelling" | "inserting" | "done" | "cancelled" | "failed";
  mode: Settings["mode"];
  progress?: Progress;
  previewUrl?: string;
  canvas?: Canvas;
  insert?: { done: number; total: number };
  /** Plain-language error (phase "failed"). */
  message?: string;
  /** Shapes found before a cancel or failure, offered for insertion. */
  partial?: ShapeList | null;
  inserted?: { name: string; count: number };
  /** The companion's notes about this job (random weights, device fallback). */
  notes?: string[];
  /** Set while and after several layers run. */
  batch?: BatchState;
  /** "Stylize as shapes": which of its two jobs is running (the preview shows its picture). */
  stage?: "painting" | "shapes";
};

/** Failures that every further layer would hit too: a batch stops on them instead of repeating them. */
const STOPS_BATCH = new Set(["disconnected", "weights-missing", "unauthorized", "device-unavailable", "busy"]);
type OneOutcome = "done" | "cancelled" | "failed" | "failed-for-all";

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * The styles' names for the result's layer name ("<layer> — styled as <names>"), short enough for
 * the plugin (STYLE_NAME_MAX): each name without its extension and cut to 60 characters; when
 * they are still too long together, the last ones become "+ N more".
 */
function styleNameFor(names: string[]): string {
  const each = names.map((n) => cut(n.replace(/\.[a-z0-9]+$/i, ""), 60));
  let name = each.join(" + ");
  for (let k = each.length - 1; name.length > STYLE_NAME_MAX && k > 0; k--) {
    name = `${each.slice(0, k).join(" + ")} + ${each.length - k} more`;
  }
  return cut(name, STYLE_NAME_MAX);
}

export class Runner {
  private job: Job | null = null;
  private state: RunState | null = null;
  private sourceId = "";
  private batch: BatchState | undefined;
  /** Cancel pressed: the current job ends and no further layer starts. */
  private stopRequested = false;
  /** "Stylize as shapes": the styles' name for the frame, also for shapes inserted after a cancel. */
  private shapesStyle: string | undefined;
  last: RunInput | null = null;

  constructor(
    /** The companion, or for primitives with no companion the engine inside the plugin. */
    private readonly channel: (kind: JobRequest["kind"]) => JobChannel,
    private readonly onChange: (s: RunState | null) => void,
  ) {}

  get busy(): boolean {
    return !!this.state && ["exporting", "running", "cancelling", "inserting"].includes(this.state.phase);
  }

  onMessage(msg: ServerMessage): void {
    this.job?.onMessage(msg);
  }
  onFrame(h: FrameHeader, p: Uint8Array): void {
    this.job?.onFrame(h, p);
  }
  onDisconnect(): void {
    if (!this.job?.inPlugin) this.job?.disconnected();
  }

  /** Ends the current job and starts no further layer; a result being inserted is kept. */
  cancel(): void {
    if (!this.busy || !this.state || this.stopRequested) return;
    this.stopRequested = true;
    this.set({ ...this.state, phase: "cancelling" });
    this.job?.cancel();
  }

  async run(input: RunInput): Promise<void> {
    if (this.busy) return;
    this.last = input;
    this.stopRequested = false;
    this.batch = undefined;
    const layers = input.layers ?? [];
    if (layers.length <= 1) {
      await this.runOne(input, layers[0]);
      return;
    }
    const batch: BatchState = { index: 0, total: layers.length, layer: "", done: 0, failures: [] };
    const failed: LayerInfo[] = [];
    // each layer's notes (a device fallback, a run that ended early), kept past the next layer's start
    const noted = new Map<string, string[]>();
    let ran = 0;
    for (const [i, layer] of layers.entries()) {
      if (this.stopRequested) break;
      this.batch = batch;
      Object.assign(batch, { index: i + 1, layer: layer.name });
      const outcome = await this.runOne(input, layer);
      ran++;
      for (const note of this.state?.notes ?? []) noted.set(note, [...(noted.get(note) ?? []), layer.name]);
      if (outcome === "done") batch.done++;
      else if (outcome === "cancelled") break;
      else {
        batch.failures.push({ layer: layer.name, message: this.state?.message ?? "" });
        failed.push(layer);
        if (outcome === "failed-for-all") break;
      }
    }
    // "Retry" re-runs just the layers that failed
    if (failed.length) this.last = { ...input, layers: failed };
    const s = this.state!;
    const phase = s.phase === "cancelled" || this.stopRequested ? "cancelled" : batch.done ? "done" : "failed";
    // a note every layer had is said once; others name their layers
    const notes = [...noted].map(([note, on]) => (on.length === ran ? note : `${on.join(", ")}: ${note}`));
    this.set({ ...s, phase, batch: { ...batch }, notes: notes.length ? notes : undefined });
  }

  /** One layer (or the selected one), from export to its inserted result; never throws. */
  private async runOne(input: RunInput, layer: LayerInfo | undefined): Promise<OneOutcome> {
    const { settings } = input;
    const mode = settings.mode;
    const asShapes = mode === "style" && !!input.asShapes;
    this.shapesStyle = undefined;
    this.set({ phase: "exporting", mode, ...(asShapes && { stage: "painting" as const }) });
    try {
      const images = await requestPlugin(
        {
          type: "prepare-job",
          requestId: newJobId(),
          sourceId: layer?.id,
          workSize: workSizeOf(settings),
          styleLayerIds: mode === "style" ? input.styleLayers.map((l) => l.id) : [],
          // the region mask (style) or the focus layer (primitives): both exported the same way
          maskLayerId: (mode === "style" ? input.mask : input.focus)?.id,
        },
        "job-images",
      );
      this.sourceId = images.source.id;
      let request: JobRequest;
      // A layer's transparency is kept: transparent parts stay empty (a mask in the result); a
      // painting's alpha is its layer's, so the same holds for "Stylize as shapes".
      const shapeOptions = { ...settings.primitives, background: "none" as const };
      // Stop asked for between two steps: end here, nothing inserted.
      const stopHere = () => {
        if (this.stopRequested) this.set({ ...this.state!, phase: "cancelled", partial: null });
        return this.stopRequested;
      };
      if (mode === "primitives") {
        const focus = await composeMask(images, "focus");
        request = { kind: "primitives", options: shapeOptions, image: images.content, focus };
      } else {
        // the protocol takes a job's style images with the job: each layer of a batch sends them again
        const styles = [...input.styleFiles.map((f) => f.bytes), ...images.styles.map((s) => s.png)];
        if (styles.length === 0)
          throw new Error("Choose a style image first: upload one, or use a layer as the style.");
        const blend = settings.style.styleBlend?.length === styles.length ? settings.style.styleBlend : undefined;
        const options = { ...settings.style, styleBlend: blend };
        const mask = await composeMask(images, "region");
        request = { kind: "style", options, content: images.content, styles, mask };
      }
      if (stopHere()) return "cancelled";
      const styleName = styleNameFor([
        ...input.styleFiles.map((f) => f.name),
        ...images.styles.map((s) => s.layer.name),
      ]);
      let outcome: JobOutcome;
      try {
        outcome = await this.startJob(request, mode, asShapes ? { stage: "painting" } : {});
        if (asShapes && outcome.kind === "style") {
          if (stopHere()) return "cancelled";
          const painting = { stage: "shapes" as const, previewUrl: pngDataUrl(outcome.png), notes: this.state?.notes };
          this.shapesStyle = styleName;
          outcome = await this.startJob(
            { kind: "primitives", options: shapeOptions, image: outcome.png },
            mode,
            painting,
          );
        }
      } catch (err) {
        // not connected: the next layer would not get further
        this.fail(err);
        return "failed-for-all";
      }
      const site: JobSite = this.job?.inPlugin ? "plugin" : "companion"; // where the last job ran
      this.job = null;
      switch (outcome.kind) {
        case "primitives":
          await this.insertPrimitives(outcome.result, false, settings);
          return "done";
        case "style": {
          this.set({ ...this.state!, phase: "inserting", previewUrl: pngDataUrl(outcome.png) });
          const done = await requestPlugin(
            {
              type: "insert-style",
              requestId: newJobId(),
              sourceId: this.sourceId,
              styleName,
              png: outcome.png.slice(), // its own buffer: Figma would read a view's whole buffer
              settings: jobSettings(settings),
            },
            "inserted",
          );
          this.set({ ...this.state!, phase: "done", inserted: { name: done.name, count: done.count } });
          return "done";
        }
        case "cancelled":
          this.set({ ...this.state!, phase: "cancelled", partial: outcome.partial });
          return "cancelled";
        case "failed":
          this.set({
            ...this.state!,
            phase: "failed",
            message: jobErrorText(outcome.code, outcome.message, site),
            partial: outcome.partial,
          });
          return STOPS_BATCH.has(outcome.code) ? "failed-for-all" : "failed";
      }
    } catch (err) {
      this.fail(err);
      return "failed";
    }
  }

  /** After a cancel: put the shapes found so far into the document. */
  async insertPartial(): Promise<void> {
    const partial = this.state?.partial;
    if (!partial || !this.last) return;
    this.batch = undefined; // the panel now reports this one insertion, not the batch
    try {
      await this.insertPrimitives(partial, true, this.last.settings);
    } catch (err) {
      this.set({ ...this.state!, phase: "failed", message: err instanceof Error ? err.message : String(err) });
    }
  }

  private fail(err: unknown): void {
    this.job = null;
    const mode = this.last?.settings.mode ?? "primitives";
    this.set({
      ...(this.state ?? { mode }),
      phase: "failed",
      message: err instanceof Error ? err.message : String(err),
    });
  }

  /** `carry`: what the new job's state starts with (the stage; the painting while the shapes come). */
  private startJob(request: JobRequest, mode: Settings["mode"], carry: Partial<RunState> = {}) {
    const job = new Job(this.channel(request.kind), request, {
      onProgress: (progress) => this.set({ ...this.state!, progress }),
      onPreview: (png) => this.set({ ...this.state!, previewUrl: pngDataUrl(png) }),
      onShapes: (canvas) => this.set({ ...this.state!, canvas }),
      onNote: (note) => this.set({ ...this.state!, notes: [...(this.state!.notes ?? []), note] }),
    });
    this.job = job;
    this.set({ ...carry, phase: "running", mode });
    job.start(); // throws when not connected: reported as the run's error
    return job.outcome;
  }

  private async insertPrimitives(result: ShapeList, partial: boolean, settings: Settings): Promise<void> {
    const requestId = newJobId();
    this.set({ ...this.state!, phase: "inserting", insert: { done: 0, total: result.shapes.length } });
    const off = onPluginMessage((m) => {
      if (m.type === "insert-progress" && m.requestId === requestId) {
        this.set({ ...this.state!, insert: { done: m.done, total: m.total } });
      }
    });
    try {
      const done = await requestPlugin(
        {
          type: "insert-primitives",
          requestId,
          sourceId: this.sourceId,
          result,
          partial,
          settings: jobSettings(settings),
          ...(this.shapesStyle && { styleName: this.shapesStyle }),
        },
        "inserted",
      );
      this.set({ ...this.state!, phase: "done", partial: null, inserted: { name: done.name, count: done.count } });
    } finally {
      off();
    }
  }

  /** Every state of a batch carries where the batch stands. */
  private set(s: RunState): void {
    // once Cancel is pressed, the designer sees "Cancelling…" until the run ends (an insertion finishes first)
    if (this.stopRequested && ["exporting", "running", "inserting"].includes(s.phase))
      s = { ...s, phase: "cancelling" };
    this.state = this.batch ? { ...s, batch: { ...this.batch } } : s;
    this.onChange(this.state);
  }
}
