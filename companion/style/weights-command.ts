// `stylize weights fetch|path|verify`: install and check the VGG-19 weights the style engine needs.
import type { Command } from "commander";
import { UserError } from "../errors";
import { loadVggWeights } from "./vgg-weights";
import {
  defaultWeightsPath,
  FETCH_HINT,
  fetchWeights,
  installWeightsFile,
  KERAS_VGG19_NOTOP,
  verifyWeights,
  weightsInstalled,
} from "./weights";

export function registerWeights(program: Command): void {
  const weights = program
    .command("weights")
    .description("fetch or locate the VGG-19 weights the style engine needs (Keras VGG19 notop, 80 MB)");

  weights
    .command("fetch")
    .description("download the weights into the cache, checking Keras' published MD5")
    .option("--url <url>", "download from this mirror instead (the MD5 is still checked)", KERAS_VGG19_NOTOP.url)
    .option("--from <file>", "install a copy you downloaded yourself (e.g. behind a proxy) instead of downloading")
    .option("--force", "download again even if a verified copy is installed")
    .action(async (opts: { url: string; from?: string; force?: boolean }) =>
      run(async () => {
        const dest = defaultWeightsPath();
        if (opts.from) {
          const path = await installWeightsFile(opts.from, { dest });
          process.stderr.write(`MD5 verified; installed at ${path}\n`);
          process.stdout.write(`${path}\n`);
          return;
        }
        if (!opts.force && weightsInstalled(dest) && (await verifyWeights(dest)).ok) {
          process.stderr.write(`Already installed and verified: ${dest} (use --force to download again)\n`);
          process.stdout.write(`${dest}\n`);
          return;
        }
        process.stderr.write(`Downloading ${opts.url}\n`);
        const bar = progressBar();
        const path = await fetchWeights({ url: opts.url, dest, onProgress: bar.update }).finally(bar.done);
        process.stderr.write(`MD5 verified; saved to ${path}\n`);
        process.stdout.write(`${path}\n`);
      }),
    );

  weights
    .command("path")
    .description("print where the weights are (stdout) and whether they are installed (stderr)")
    .action(() => {
      const path = defaultWeightsPath();
      process.stdout.write(`${path}\n`);
      process.stderr.write(weightsInstalled(path) ? "installed\n" : `not installed. ${FETCH_HINT}\n`);
    });

  weights
    .command("verify")
    .description("check the installed weights: MD5 and the VGG-19 layer shapes")
    .argument("[file]", "a weights file to check instead of the installed one")
    .action(async (file?: string) =>
      run(async () => {
        process.stdout.write(await verifyReport(file ?? defaultWeightsPath()));
      }),
    );
}

/**
 * What `weights verify` prints. The shapes decide: a file with VGG-19's layer shapes is usable even
 * when its MD5 is not Keras' (re-saved or converted copies); only unusable files throw (UserError).
 */
export async function verifyReport(path: string): Promise<string> {
  const { ok, md5 } = await verifyWeights(path);
  const w = await loadVggWeights(path);
  const params = w.convs.reduce((n, c) => n + c.kernel.length + c.bias.length, 0);
  const origin = ok
    ? "matches Keras' published hash: the original file"
    : `is not Keras' published ${KERAS_VGG19_NOTOP.md5}: not the original download (a converted or re-saved copy); ` +
      "usable with --weights, but its values are not checked";
  return (
    `${path}\n  valid VGG-19 weights: ${w.convs.length} convolutions, ${params.toLocaleString("en")} parameters, shapes OK\n` +
    `  MD5 ${md5} ${origin}\n`
  );
}

/** Print a UserError as one line and exit 1; let real bugs keep their stack. */
async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  }
}

/** A one-line progress bar on stderr when it is a terminal; a line per 10% otherwise (logs, CI). */
function progressBar() {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let lastTenth = -1;
  let lastDraw = 0;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return {
    update(got: number, total?: number) {
      const now = Date.now();
      const secs = Math.max((now - start) / 1000, 1e-3);
      const rate = got / secs;
      if (!total) {
        if (tty && now - lastDraw > 100) process.stderr.write(`\r${mb(got)} MB  ${mb(rate)} MB/s   `);
        lastDraw = now;
        return;
      }
      const frac = Math.min(got / total, 1);
      const eta = rate > 0 ? Math.round((total - got) / rate) : 0;
      const text = `${(frac * 100).toFixed(0).padStart(3)}%  ${mb(got)}/${mb(total)} MB  ${mb(rate)} MB/s  ETA ${eta}s`;
      if (tty) {
        if (now - lastDraw < 100 && got < total) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(frac * width);
        process.stderr.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}   `);
      } else if (Math.floor(frac * 10) > lastTenth) {
        lastTenth = Math.floor(frac * 10);
        process.stderr.write(`${text}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write("\n");
    },
  };
}
