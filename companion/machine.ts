// One line describing the machine a benchmark ran on, for the benches' headers.
import { availableParallelism, cpus, totalmem } from "node:os";

/** e.g. "AMD EPYC 7B13 × 16 cores, 128 GB, Node v22.11.0" */
export function machineInfo(): string {
  const model = cpus()[0]?.model.trim() || "unknown CPU";
  return `${model} × ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`;
}
