// `stylize bench <engine>`: each benchmark lives beside the engine it measures.
import type { Command } from "commander";
import { registerClusterBench } from "./cluster/bench";
import { registerPrimitivesBench } from "./primitives/bench";
import { registerLoadBench } from "./server/bench-load";
import { registerStyleBench } from "./style/bench";

export function registerBench(program: Command): void {
  const bench = program.command("bench").description("measure the engines and the server on this machine");
  registerPrimitivesBench(bench);
  registerStyleBench(bench);
  registerLoadBench(bench);
  registerClusterBench(bench);
}
