// Downloading the weights, against a server on 127.0.0.1 (never the internet).
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../companion/errors";
import {
  cacheDir,
  cacheDirFor,
  defaultWeightsPath,
  fetchWeights,
  installWeightsFile,
  KERAS_VGG19_NOTOP,
  verifyWeights,
  weightsInstalled,
} from "../../companion/style/weights";

const BODY = randomBytes(300_000);
const MD5 = createHash("md5").update(BODY).digest("hex");

let server: Server;
let base: string;
let cache: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    if (req.url === "/weights.h5") return send(200, { "content-length": BODY.length }, BODY);
    if (req.url === "/moved") return send(302, { location: "/weights.h5" });
    if (req.url === "/truncated") {
      // Promise the whole file, send half, hang up.
      res.writeHead(200, { "content-length": BODY.length });
      res.write(BODY.subarray(0, BODY.length / 2), () => res.socket?.destroy());
      return;
    }
    if (req.url === "/slow") {
      res.writeHead(200, { "content-length": BODY.length });
      res.write(BODY.subarray(0, 1000)); // then nothing: the client cancels
      return;
    }
    send(404, { "content-type": "text/plain" }, Buffer.from("not found"));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), "stylize-cache-"));
  process.env.STYLIZE_CACHE_DIR = cache;
  return () => rmSync(cache, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe("weights-missing");
  return err as UserError;
}

describe("fetchWeights", () => {
  it("downloads into the cache, verifies the MD5 and reports progress", async () => {
    const progress: Array<[number, number | undefined]> = [];
    const path = await fetchWeights({
      url: `${base}/weights.h5`,
      md5: MD5,
      onProgress: (g, t) => progress.push([g, t]),
    });
    expect(path).toBe(defaultWeightsPath());
    expect(path.startsWith(cache)).toBe(true);
    expect(readFileSync(path).equals(BODY)).toBe(true);
    expect(readdirSync(cache)).toEqual([KERAS_VGG19_NOTOP.fileName]);
    expect(progress.at(-1)).toEqual([BODY.length, BODY.length]);
    expect(progress.every(([g], i) => i === 0 || g > progress[i - 1][0])).toBe(true);
    expect(weightsInstalled()).toBe(true);
    expect(await verifyWeights(path, MD5)).toEqual({ ok: true, md5: MD5 });
    expect((await verifyWeights(path)).ok).toBe(false); // not the real Keras file
  });

  it("follows redirects", async () => {
    const dest = join(cache, "sub", "w.h5");
    expect(await fetchWeights({ url: `${base}/moved`, md5: MD5, dest })).toBe(dest);
    expect(readFileSync(dest).equals(BODY)).toBe(true);
  });

  it("on a checksum mismatch leaves no file behind, neither temp nor final", async () => {
    const err = await failure(fetchWeights({ url: `${base}/weights.h5`, md5: "0".repeat(32) }));
    expect(err.message).toMatch(new RegExp(`MD5 is ${MD5} but Keras publishes 0{32}.*Nothing was saved`));
    expect(readdirSync(cache)).toEqual([]);
    expect(weightsInstalled()).toBe(false);
  });

  it("keeps an existing file when a new download fails", async () => {
    await fetchWeights({ url: `${base}/weights.h5`, md5: MD5 });
    await failure(fetchWeights({ url: `${base}/weights.h5`, md5: "1".repeat(32) }));
    expect(readdirSync(cache)).toEqual([KERAS_VGG19_NOTOP.fileName]);
    expect(readFileSync(defaultWeightsPath()).equals(BODY)).toBe(true);
  });

  it("says what the server answered on a 404", async () => {
    const err = await failure(fetchWeights({ url: `${base}/missing.h5`, md5: MD5 }));
    expect(err.message).toMatch(/missing\.h5: the server answered 404 Not Found/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("says the connection was refused when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const err = await failure(fetchWeights({ url: `http://127.0.0.1:${port}/w.h5`, md5: MD5 }));
    expect(err.message).toMatch(/connection was refused/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("fails cleanly on a truncated transfer", async () => {
    const err = await failure(fetchWeights({ url: `${base}/truncated`, md5: MD5 }));
    expect(err.message).toMatch(/cut before the file was complete|stopped after \d+ of \d+ bytes/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("stops on abort with an AbortError and removes the partial file", async () => {
    const ctl = new AbortController();
    const p = fetchWeights({ url: `${base}/slow`, md5: MD5, signal: ctl.signal, onProgress: () => ctl.abort() });
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    expect(readdirSync(cache)).toEqual([]);
  });
});

describe("installWeightsFile (a copy downloaded by hand)", () => {
  it("installs a file with the right MD5 and refuses, leaving nothing, one with the wrong MD5", async () => {
    const src = join(cache, "..", `${cache.split("/").pop()}-download.h5`);
    writeFileSync(src, BODY);
    try {
      await failure(installWeightsFile(src));
      expect(readdirSync(cache)).toEqual([]);
      expect(await installWeightsFile(src, { md5: MD5 })).toBe(defaultWeightsPath());
      expect(readFileSync(defaultWeightsPath()).equals(BODY)).toBe(true);
      expect(readdirSync(cache)).toEqual([KERAS_VGG19_NOTOP.fileName]);
    } finally {
      rmSync(src, { force: true });
    }
  });

  it("names the fetch command when the file does not exist", async () => {
    expect((await failure(installWeightsFile(join(cache, "nope.h5")))).message).toMatch(/npx stylize weights fetch/);
  });
});

describe("cache location", () => {
  it("honours STYLIZE_CACHE_DIR, then XDG_CACHE_HOME, then the OS convention", () => {
    expect(cacheDir()).toBe(cache);
    const home = "/home/ada";
    expect(cacheDirFor({ XDG_CACHE_HOME: "/xdg" }, "linux", home)).toBe("/xdg/stylize");
    expect(cacheDirFor({ XDG_CACHE_HOME: "relative" }, "linux", home)).toBe("/home/ada/.cache/stylize");
    expect(cacheDirFor({}, "linux", home)).toBe("/home/ada/.cache/stylize");
    expect(cacheDirFor({}, "darwin", home)).toBe("/home/ada/Library/Caches/stylize");
    expect(cacheDirFor({ LOCALAPPDATA: "/appdata" }, "win32", home)).toBe(join("/appdata", "stylize", "Cache"));
    expect(cacheDirFor({ STYLIZE_CACHE_DIR: "/override", XDG_CACHE_HOME: "/xdg" }, "linux", home)).toBe("/override");
    expect(defaultWeightsPath()).toBe(join(cache, "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"));
  });
});

describe("stylize weights (CLI)", () => {
  const cli = join(process.cwd(), "dist", "companion", "stylize.js");
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [cli, "weights", ...args], {
      env: { ...process.env, STYLIZE_CACHE_DIR: cache },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it.runIf(existsSync(cli))("path prints the cache path and that nothing is installed", async () => {
    const r = await run(["path"]);
    expect(r.stdout.trim()).toBe(join(cache, KERAS_VGG19_NOTOP.fileName));
    expect(r.stderr).toMatch(/not installed.*npx stylize weights fetch/);
  });

  it.runIf(existsSync(cli))(
    "fetch from a mirror with the wrong file exits 1 with the MD5 error and saves nothing",
    async () => {
      const r = await run(["fetch", "--url", `${base}/weights.h5`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: The downloaded file's MD5 is [0-9a-f]{32} but Keras publishes 253f8cb5/);
      expect(readdirSync(cache)).toEqual([]);
    },
  );
});
