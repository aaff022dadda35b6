import type { Command } from "commander";

export function registerWeights(program: Command): void {
  program
    .command("weights")
    .description("fetch or locate the VGG-19 weights the style engine needs")
    .action(() => {
      throw new Error("stylize weights is not built yet");
    });
}
