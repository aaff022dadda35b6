// Where the VGG-19 weights live on this machine, and downloading them safely:
// stream to a temp file beside the destination, check Keras' published MD5, then rename atomically.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, statSync } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { abortError, UserError } from "../errors";

/** The Keras Applications VGG19 "notop" weights (the original Caffe weights), as keras/applications/vgg19.py names them. */
export const KERAS_VGG19_NOTOP = {
  fileName: "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
  url: "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
  /** Keras' `file_hash`; 32 hex digits, so Keras checks it as MD5. */
  md5: "253f8cb515780f3b799900260a226db6",
} as const;

export const FETCH_HINT =
  "Run `npx stylize weights fetch` to download them (80 MB, once), or pass --weights random for a non-artistic test run.";

/** Give up on a download that sends nothing for this long. */
const STALL_MS = 30_000;

/** STYLIZE_CACHE_DIR, else $XDG_CACHE_HOME/stylize, else the OS's per-user cache folder. */
export function cacheDir(): string {
  return cacheDirFor(process.env, process.platform, homedir());
}

export function cacheDirFor(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (env.STYLIZE_CACHE_DIR) return resolve(env.STYLIZE_CACHE_DIR);
  // The XDG spec says relative paths are invalid and must be ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "stylize");
  if (platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "stylize", "Cache");
  if (platform === "darwin") return join(home, "Library", "Caches", "stylize");
  return join(home, ".cache", "stylize");
}

export function defaultWeightsPath(): string {
  return join(cacheDir(), KERAS_VGG19_NOTOP.fileName);
}

/** True when a non-empty file is there (`verifyWeights` checks its content). */
export function weightsInstalled(path: string = defaultWeightsPath()): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Check a file against the MD5 Keras publishes; returns the actual digest and whether it matched. */
export async function verifyWeights(
  path: string = defaultWeightsPath(),
  md5: string = KERAS_VGG19_NOTOP.md5,
): Promise<{ ok: boolean; md5: string }> {
  if (!existsSync(path)) throw new UserError("weights-missing", `No weights file at ${path}. ${FETCH_HINT}`);
  const actual = await md5File(path);
  return { ok: actual === md5.toLowerCase(), md5: actual };
}

export interface FetchOptions {
  url?: string;
  md5?: string;
  dest?: string;
  onProgress?: (got: number, total?: number) => void;
  signal?: AbortSignal;
}

/** Download, verify and install the weights; returns the installed path. Leaves no partial file on failure. */
export async function fetchWeights(opts: FetchOptions = {}): Promise<string> {
  const url = opts.url ?? KERAS_VGG19_NOTOP.url;
  const md5 = (opts.md5 ?? KERAS_VGG19_NOTOP.md5).toLowerCase();
  const dest = resolve(opts.dest ?? defaultWeightsPath());
  const temp = await tempBeside(dest);
  // One controller for the caller's cancel and our stall timer.
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ctl.abort();
    }, STALL_MS);
  };
  try {
    if (opts.signal?.aborted) throw abortError();
    kick();
    const res = await fetch(url, { redirect: "follow", signal: ctl.signal }).catch((err) => {
      throw failure(err, url, stalled, opts.signal);
    });
    if (!res.ok || !res.body) {
      throw new UserError(
        "weights-missing",
        `Cannot download ${url}: the server answered ${res.status} ${res.statusText}.`,
      );
    }
    const total = Number(res.headers.get("content-length")) || undefined;
    const hash = createHash("md5");
    let got = 0;
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    const tap = async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        kick();
        hash.update(chunk);
        got += chunk.length;
        opts.onProgress?.(got, total);
        yield chunk;
      }
    };
    await pipeline(body, tap, createWriteStream(temp)).catch((err) => {
      if (DISK_ERRORS.has(causeCode(err) ?? "")) throw err; // reported below as a save problem
      throw failure(err, url, stalled, opts.signal);
    });
    if (total !== undefined && got !== total) {
      throw new UserError(
        "weights-missing",
        `The download of ${url} stopped after ${got} of ${total} bytes. Try again.`,
      );
    }
    const actual = hash.digest("hex");
    if (actual !== md5) {
      throw new UserError(
        "weights-missing",
        `The downloaded file's MD5 is ${actual} but Keras publishes ${md5}: it is corrupt or not the VGG-19 weights. Nothing was saved; try again.`,
      );
    }
    await rename(temp, dest);
    return dest;
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof UserError || (err instanceof Error && err.name === "AbortError")) throw err;
    throw new UserError("weights-missing", `Cannot save the weights to ${dest}: ${errText(err)}. ${CACHE_HINT}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

const CACHE_HINT = "Set STYLIZE_CACHE_DIR to a writable folder with 100 MB free.";
const DISK_ERRORS = new Set(["ENOSPC", "EACCES", "EPERM", "EROFS", "EDQUOT"]);

/** A temp name in dest's folder (so the final rename is atomic), creating the folder. */
async function tempBeside(dest: string): Promise<string> {
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (err) {
    throw new UserError("weights-missing", `Cannot create ${dirname(dest)}: ${errText(err)}. ${CACHE_HINT}`);
  }
  return join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString("hex")}.part`);
}

/** Install a file the user downloaded themselves (e.g. behind a proxy): same MD5 check, same atomic rename. */
export async function installWeightsFile(src: string, opts: { md5?: string; dest?: string } = {}): Promise<string> {
  const md5 = (opts.md5 ?? KERAS_VGG19_NOTOP.md5).toLowerCase();
  const dest = resolve(opts.dest ?? defaultWeightsPath());
  const { ok, md5: actual } = await verifyWeights(src, md5);
  if (!ok) {
    throw new UserError(
      "weights-missing",
      `${src} has MD5 ${actual} but Keras publishes ${md5} for ${KERAS_VGG19_NOTOP.fileName}: it is not that file, or it is incomplete. Nothing was installed.`,
    );
  }
  if (resolve(src) === dest) return dest;
  const temp = await tempBeside(dest);
  try {
    await copyFile(src, temp);
    await rename(temp, dest);
    return dest;
  } catch (err) {
    await rm(temp, { force: true });
    throw new UserError("weights-missing", `Cannot save the weights to ${dest}: ${errText(err)}. ${CACHE_HINT}`);
  }
}

/** Turn a fetch/stream failure into words a user can act on. */
function failure(err: unknown, url: string, stalled: boolean, signal?: AbortSignal): Error {
  if (signal?.aborted) return abortError();
  if (stalled)
    return new UserError("weights-missing", `The download of ${url} stalled for ${STALL_MS / 1000} s. Try again.`);
  const code = causeCode(err);
  const why =
    code === "ECONNREFUSED"
      ? "the connection was refused"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "the host name could not be resolved (are you offline?)"
        : code === "ECONNRESET" || code === "UND_ERR_SOCKET" || /terminated|other side closed/i.test(errText(err))
          ? "the connection was cut before the file was complete"
          : errText(err);
  const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
  const proxyNote = proxy ? " Node 20's fetch does not use HTTPS_PROXY." : "";
  return new UserError(
    "weights-missing",
    `Cannot download ${url}: ${why}.${proxyNote} Or download it in a browser and run \`npx stylize weights fetch --from <file>\`.`,
  );
}

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return err.message + cause;
}
