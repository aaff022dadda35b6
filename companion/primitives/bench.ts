import type { Command } from "commander";

export function registerPrimitivesBench(bench: Command): void {
  bench
    .command("primitives")
    .description("hill-climbing engine: wall time and score")
    .action(() => {
      throw new Error("stylize bench primitives is not built yet");
    });
}
