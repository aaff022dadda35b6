// The job board: admission limits, one waiting line per job kind with a cap on running jobs, and
// fairness across clients (the next slot goes to the client that was served longest ago).
import type { Limits } from "./config";
import { abortError, UserError } from "../errors";

export type JobKind = "style" | "primitives";
export type JobState = "collecting" | "waiting" | "running";

export interface Job {
  readonly client: string;
  readonly id: string;
  readonly kind: JobKind;
  readonly abort: AbortController;
  state: JobState;
}

interface Waiting {
  job: Job;
  /**
   * Its place in line, taken when its images are in (not when it was admitted): a job whose images
   * decode sooner than an earlier one's would otherwise be told a position the later one then takes.
   */
  line: number;
  start: () => void;
}

export class JobQueue {
  private readonly jobs = new Set<Job>();
  private readonly waiting: Waiting[] = [];
  private readonly running: Record<JobKind, number> = { style: 0, primitives: 0 };
  /** Tick at which each client last got a slot; smaller = served longer ago. */
  private readonly lastServed = new Map<string, number>();
  private line = 0;
  private tick = 0;

  constructor(
    private readonly limits: Pick<Limits, "maxJobsPerClient" | "maxQueue">,
    private readonly concurrency: Record<JobKind, number>,
  ) {}

  /** Register a new job (it then collects its images). Throws a `busy`/`duplicate-job` UserError. */
  admit(client: string, id: string, kind: JobKind): Job {
    const mine = this.of(client);
    if (mine.some((j) => j.id === id)) {
      throw new UserError("duplicate-job", `A job with id "${id}" is already running; use a new id.`);
    }
    if (mine.length >= this.limits.maxJobsPerClient) {
      throw new UserError(
        "busy",
        `You already have ${mine.length} jobs in progress (the limit is ${this.limits.maxJobsPerClient}); wait for one to finish.`,
      );
    }
    const notRunning = [...this.jobs].filter((j) => j.state !== "running").length;
    if (notRunning >= this.limits.maxQueue) {
      throw new UserError("busy", `The companion is busy (${notRunning} jobs waiting); try again in a moment.`);
    }
    const job: Job = { client, id, kind, abort: new AbortController(), state: "collecting" };
    this.jobs.add(job);
    return job;
  }

  /**
   * Put an admitted job in line and run `run` when a slot is free. Returns its position
   * (0 = starting now, n = n-th in line) and the run's outcome; the slot is released when
   * `run` settles. Aborting the job while it waits rejects with an AbortError.
   */
  enqueue<T>(job: Job, run: (signal: AbortSignal) => Promise<T>): { position: number; done: Promise<T> } {
    let position = 0;
    const done = new Promise<T>((resolve, reject) => {
      const signal = job.abort.signal;
      if (signal.aborted) return reject(abortError());
      const entry: Waiting = {
        job,
        line: ++this.line,
        start: () => {
          signal.removeEventListener("abort", onAbort);
          // A runner that throws synchronously fails its job, not the queue.
          Promise.resolve()
            .then(() => run(signal))
            .then(resolve, reject);
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortError());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      job.state = "waiting";
      this.waiting.push(entry);
      this.pump();
      position = (job.state as JobState) === "running" ? 0 : 1 + this.order(job.kind).indexOf(entry);
    });
    // Free the slot whatever happened, then start the next job.
    done.then(
      () => this.release(job),
      () => this.release(job),
    );
    return { position, done };
  }

  /** Forget a job that never reached the line (refused images, cancelled while collecting). */
  release(job: Job): void {
    if (!this.jobs.delete(job)) return;
    if (job.state === "running") this.running[job.kind]--;
    this.pump();
  }

  find(client: string, id: string): Job | undefined {
    return this.of(client).find((j) => j.id === id);
  }

  of(client: string): Job[] {
    return [...this.jobs].filter((j) => j.client === client);
  }

  forget(client: string): void {
    this.lastServed.delete(client);
  }

  stats(): { jobs: number; waiting: number; running: number } {
    return {
      jobs: this.jobs.size,
      waiting: this.waiting.length,
      running: this.running.style + this.running.primitives,
    };
  }

  private order(kind: JobKind): Waiting[] {
    const served = (w: Waiting) => this.lastServed.get(w.job.client) ?? 0;
    return this.waiting.filter((w) => w.job.kind === kind).sort((a, b) => served(a) - served(b) || a.line - b.line);
  }

  private pump(): void {
    for (const kind of ["style", "primitives"] as const) {
      while (this.running[kind] < this.concurrency[kind]) {
        const next = this.order(kind)[0];
        if (!next) break;
        this.waiting.splice(this.waiting.indexOf(next), 1);
        this.running[kind]++;
        next.job.state = "running";
        this.lastServed.set(next.job.client, ++this.tick);
        next.start();
      }
    }
  }
}
