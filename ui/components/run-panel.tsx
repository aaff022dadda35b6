// A running or finished job: progress with ETA, live preview, Cancel, and what to do next.
import { useEffect, useRef } from "preact/hooks";
import { drawCanvas } from "../draw";
import { batchProgressText, batchSummaryText, formatEta } from "../messages";
import type { RunState } from "../runner";
import { Text } from "./text";

type Props = { run: RunState; onCancel(): void; onRetry(): void; onInsertPartial(): void };

const PHASE_TEXT: Record<RunState["phase"], string> = {
  exporting: "Exporting the layer…",
  running: "Working…",
  cancelling: "Cancelling…",
  inserting: "Adding the result to your document…",
  done: "Done",
  cancelled: "Cancelled — your document was not changed.",
  failed: "Stopped — your document was not changed.",
};

/** "Stylize as shapes" runs two jobs: which one is working. */
const STAGE_TEXT: Record<NonNullable<RunState["stage"]>, string> = { painting: "Painting…", shapes: "Shapes…" };

export function RunPanel({ run, onCancel, onRetry, onInsertPartial }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvasRef.current && run.canvas) drawCanvas(canvasRef.current, run.canvas);
  }, [run.canvas, run.canvas?.shapes.length]);

  const p = run.insert && run.phase === "inserting" ? run.insert : run.progress;
  const pct = p && p.total > 0 ? Math.round((100 * p.done) / p.total) : 0;
  const active = ["exporting", "running", "cancelling", "inserting"].includes(run.phase);
  const shapes = run.mode === "primitives" || run.stage === "shapes";
  const unit = shapes ? "shapes" : "iterations";
  const batch = run.batch;
  const ended = !!batch && !active;
  const failedLayers = batch?.failures.length ?? 0;
  let line =
    run.phase === "done" && run.inserted ? `Added “${run.inserted.name}” beside the layer.` : PHASE_TEXT[run.phase];
  if (run.phase === "running" && run.stage) line = STAGE_TEXT[run.stage];
  if (batch)
    line = ended ? batchSummaryText(batch, run.phase === "cancelled") : `${batchProgressText(batch)} — ${line}`;
  return (
    <section class="run" aria-label="Progress" data-testid="run" data-phase={run.phase} data-stage={run.stage}>
      <p class="phase" role="status" aria-live="polite" data-testid="run-line">
        <Text>{line}</Text>
      </p>
      {active && p && (
        <>
          <div
            class="bar"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            aria-label="Progress"
          >
            <div style={{ width: `${pct}%` }} />
          </div>
          <p class="hint">
            {p.done} / {p.total} {run.phase === "inserting" ? "layers" : unit}
            {run.phase === "running" && run.progress?.etaMs !== undefined ? ` · ${formatEta(run.progress.etaMs)}` : ""}
          </p>
        </>
      )}
      {run.notes?.map((note) => (
        <p class="hint" key={note} data-testid="run-note">
          {note}
        </p>
      ))}
      {run.phase === "failed" && !ended && (
        <p class="error" role="alert" data-testid="run-error">
          <Text>{run.message ?? ""}</Text>
        </p>
      )}
      <div class="row">
        {(run.phase === "running" || (batch && active && run.phase !== "cancelling")) && (
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
        {(run.phase === "cancelled" || run.phase === "failed") && run.partial && run.partial.shapes.length > 0 && (
          <button type="button" class="secondary" onClick={onInsertPartial}>
            Insert the {run.partial.shapes.length} shapes found so far
          </button>
        )}
        {(run.phase === "failed" || (ended && failedLayers > 0)) && (
          <button type="button" class="secondary" onClick={onRetry}>
            {ended && failedLayers > 0 ? `Retry the ${failedLayers} that failed` : "Retry"}
          </button>
        )}
      </div>
      {shapes && run.canvas && (
        <canvas ref={canvasRef} class="preview" aria-label={`Preview: ${run.canvas.shapes.length} shapes so far`} />
      )}
      {/* as shapes: the painting shows until the first shapes replace it */}
      {run.mode === "style" && run.previewUrl && !(shapes && run.canvas) && (
        <img class="preview" src={run.previewUrl} alt={shapes ? "The painting" : "Styled preview so far"} />
      )}
    </section>
  );
}
