// `stylize bench <engine>`: each benchmark lives beside the engine it measures.
import type { Command } from "commander";
import { registerClusterBench } from "./cluster/bench";
import { registerPrimitivesBench } from "./primitives/bench";
import { registerLoadBench } from "./server/bench-load";
import { registerStyleBench } from "./style/bench";
import { registerQualityBench } from "./style/bench-quality";

export function registerBench(program: Command): void {
  const bench = program.command("bench").description("measure the engines and the server on this machine");
  registerPrimitivesBench(bench);
  registerStyleBench(bench);
  registerQualityBench(bench);
  registerLoadBench(bench);
  registerClusterBench(bench);
}
