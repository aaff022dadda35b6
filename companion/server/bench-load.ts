// `stylize bench load`: the companion under many concurrent plugin windows (see load.ts).
import type { Command } from "commander";
import { machineInfo } from "../machine";
import { runLoad } from "./load";

interface Flags {
  clients: string;
  jobs: string;
  shapes: string;
  size: string;
  maxRssMb: string;
  workers?: string;
}

export function registerLoadBench(bench: Command): void {
  bench
    .command("load")
    .description("companion under concurrent clients: each submits its jobs at once; all must finish or get `busy`")
    .option("--clients <n>", "concurrent paired clients", "20")
    .option("--jobs <n>", "primitives jobs each client submits at once", "5")
    .option("--shapes <n>", "shapes per job", "10")
    .option("--size <px>", "image side (and working size) in pixels", "48")
    .option("--workers <n>", "worker threads per primitives job (default: the engine's choice)")
    .option("--max-rss-mb <mb>", "fail if the process's peak resident memory exceeds this", "1500")
    .action(async (flags: Flags) => {
      const n = (name: string, text: string) => {
        const v = Number(text);
        if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1 (got "${text}")`);
        return v;
      };
      const spec = {
        clients: n("clients", flags.clients),
        jobsPerClient: n("jobs", flags.jobs),
        shapes: n("shapes", flags.shapes),
        size: n("size", flags.size),
        server: { primitivesWorkers: flags.workers ? n("workers", flags.workers) : undefined },
      };
      const limit = n("max-rss-mb", flags.maxRssMb);
      console.log(
        `Load: ${spec.clients} clients x ${spec.jobsPerClient} primitives jobs at once ` +
          `(${spec.size}x${spec.size} px, ${spec.shapes} triangles each), default server limits`,
      );
      console.log(`Machine: ${machineInfo()}`);
      const r = await runLoad(spec);
      console.log(`jobs       ${r.jobs}: ${r.completed} completed, ${r.busy} busy, ${r.failed.length} failed`);
      console.log(
        `latency    p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, max ${r.latencyMs.max} ms (submit → result)`,
      );
      console.log(
        `wall       ${(r.wallMs / 1000).toFixed(1)} s (${((r.completed / r.wallMs) * 1000).toFixed(1)} jobs/s)`,
      );
      console.log(
        `memory     RSS ${r.rssMb.baseline} MB before, ${r.rssMb.peak} MB peak, ${r.rssMb.end} MB after (limit ${limit} MB)`,
      );
      console.log(`afterwards ${r.leftover.jobs} jobs and ${r.leftover.clients} clients left on the server`);
      for (const f of r.failed.slice(0, 10)) console.log(`  failed: ${f}`);
      const ok =
        r.failed.length === 0 && r.completed + r.busy === r.jobs && r.rssMb.peak <= limit && r.leftover.jobs === 0;
      console.log(ok ? "PASS" : "FAIL");
      if (!ok) process.exitCode = 1;
    });
}
