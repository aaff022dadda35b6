import type { Command } from "commander";

export function registerStyle(program: Command): void {
  program
    .command("style")
    .description("neural style transfer (VGG-19, Gatys et al.) on ONNX Runtime")
    .action(() => {
      throw new Error("stylize style is not built yet");
    });
}
