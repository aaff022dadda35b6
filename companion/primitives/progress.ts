// A progress bar on stderr: shapes done, score, ETA. Redrawn in place on a terminal; on a pipe
// or log file, one line per tenth of the work.
export class Progress {
  private lastLine = -1;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, score: number, elapsedMs: number): void {
    const eta = done > 0 ? ((this.total - done) * elapsedMs) / done : 0;
    const width = 24;
    const filled = Math.round((width * done) / this.total);
    const text = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${this.total} shapes  score ${score.toFixed(5)}  ETA ${formatMs(eta)}`;
    if (this.out.isTTY) {
      this.out.write(`\r${text}\x1b[K`);
    } else {
      const step = Math.floor((10 * done) / this.total);
      if (step !== this.lastLine || done === this.total) {
        this.lastLine = step;
        this.out.write(`${text}\n`);
      }
    }
  }

  done(): void {
    if (this.out.isTTY) this.out.write("\n");
  }
}

function formatMs(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
