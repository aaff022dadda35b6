import type { Command } from "commander";

export function registerPrimitives(program: Command): void {
  program
    .command("primitives")
    .description("rebuild an image from primitive shapes found by hill climbing")
    .action(() => {
      throw new Error("stylize primitives is not built yet");
    });
}
