// What travels through Redis between a front door (`stylize serve --queue`) and its workers
// (`stylize worker`): queue names, pub/sub channels, job data and the events a worker streams back.
// Images travel as base64 PNG inside the job data: fine up to a few MB (a 2048 px style job is
// ~10 MB of PNGs); Redis holds a job until it is done, so it is the only store a cluster needs.
import type { PrimitivesOptions, StyleOptions } from "../../shared/protocol";
import type { Color, Shape } from "../../shared/shapes";
import { encodePng, loadImage, type RgbaImage } from "../image";
import type { StyleProgress, StyleResult } from "../style/engine";

/** One BullMQ queue per job kind, so a worker takes only the kinds it can do. */
export const QUEUE = { primitives: "stylize-primitives", style: "stylize-style" } as const;
export type ClusterKind = keyof typeof QUEUE;

/** Front doors publish `{ jobId }` here; every worker listens and aborts the job if it runs it. */
export const CANCEL_CHANNEL = "stylize:cancel";
/** Set (with a TTL) when a job is cancelled, for a worker that picks it up after the message. */
export const cancelledKey = (jobId: string) => `stylize:cancelled:${jobId}`;
/** Each front door listens on its own channel for the events of the jobs it submitted. */
export const eventsChannel = (frontDoor: string) => `stylize:events:${frontDoor}`;

export interface PrimitivesJobData {
  replyTo: string;
  image: string;
  options: PrimitivesOptions;
}
export interface StyleJobData {
  replyTo: string;
  content: string;
  styles: string[];
  /** Same length as `styles` when present; "" = no mask for that style. */
  masks?: string[];
  options: StyleOptions;
}

export interface PrimitivesDone {
  started: Extract<WorkerEventBody, { t: "started" }>;
  shapes: Shape[];
  scores: number[];
  /** The shapes with their colours refitted at the end (PrimitivesSession.refit), if it ran. */
  refit?: { shapes: Shape[]; score: number } | null;
  /** The run ended before its count: no shape lowered the error any more (PrimitivesSession.exhausted). */
  exhausted?: boolean;
}
/** The engine's StyleResult, with the image as base64 PNG. */
export type StyleDone = Omit<StyleResult, "image"> & { image: string };

/** Events a worker publishes while it runs a job (a retried job starts them again). */
export type WorkerEventBody =
  | { t: "started"; width: number; height: number; background: Color; initialScore: number }
  | { t: "shape"; index: number; shape: Shape; score: number }
  | ({ t: "progress" } & StyleProgress)
  | { t: "preview"; png: string; iter: number }
  | { t: "note"; message: string };
export type WorkerEvent = { jobId: string } & WorkerEventBody;

/** A failed job's reason: a UserError's code and words, so the plugin reads what the worker said. */
export const USER_ERROR_PREFIX = "user-error:";

export async function toPng64(img: RgbaImage): Promise<string> {
  return (await encodePng(img)).toString("base64");
}
export function fromPng64(data: string): Promise<RgbaImage> {
  return loadImage(Buffer.from(data, "base64"));
}
