// Wires Figma events and UI messages to the plugin's actions. `main.ts` only starts it, so tests
// can start it against a stubbed `figma`.
import { post, onUiMessage, errorMessage } from "./bridge";
import { prepareJob } from "./export";
import { localPalette } from "./colour-styles";
import { insertPrimitives } from "./insert-primitives";
import { insertStyle } from "./insert-style";
import { pageOf } from "./placement";
import { describeSelection, layerInfo, requireNode, requireSingleSelection } from "./selection";
import { loadSettings, RELAUNCH_COMMAND, resultSettings, saveSettings } from "./settings";
import type { JobSettings } from "../shared/plugin-messages";

export const UI_SIZE = { width: 340, height: 600 };

export function startPlugin(): void {
  figma.showUI(__html__, { ...UI_SIZE, themeColors: true, title: "Stylize" });
  const relaunch = figma.command === RELAUNCH_COMMAND ? relaunchFromSelection() : Promise.resolve({});
  const sendSelection = () => post({ type: "selection", selection: describeSelection(figma.currentPage.selection) });
  figma.on("selectionchange", sendSelection);

  onUiMessage(async (msg) => {
    switch (msg.type) {
      case "ui-ready":
        post({ type: "init", settings: await loadSettings(), ...(await relaunch) });
        sendSelection();
        return;
      case "save-settings":
        await saveSettings(msg.settings);
        return;
      case "pick-layer": {
        try {
          post({ type: "picked-layer", role: msg.role, layer: layerInfo(requireSingleSelection()) });
        } catch (err) {
          post({ type: "plugin-error", message: `To use a layer as the ${msg.role}: ${errorMessage(err)}` });
        }
        return;
      }
      case "get-colour-styles":
        post({ type: "colour-styles", requestId: msg.requestId, styles: await localPalette() });
        return;
      case "prepare-job":
        post(await prepareJob(msg));
        return;
      case "insert-style": {
        const node = await insertStyle(msg);
        post({ type: "inserted", requestId: msg.requestId, nodeId: node.id, name: node.name, count: 1 });
        return;
      }
      case "insert-primitives": {
        const report = (done: number, total: number) =>
          post({ type: "insert-progress", requestId: msg.requestId, done, total });
        const node = await insertPrimitives(msg, report);
        const count = msg.result.shapes.length;
        post({ type: "inserted", requestId: msg.requestId, nodeId: node.id, name: node.name, count });
        figma.notify(`Inserted “${node.name}”`);
        return;
      }
    }
  });
}

type Relaunch = { relaunch?: JobSettings; relaunchSourceGone?: boolean };

/**
 * Launched from a result's "Stylize again": select its source again (going to the source's page if
 * it is elsewhere) and reuse its settings. If the source is gone, the result is deselected, so the
 * run is never offered on the result itself, and the UI says why.
 */
async function relaunchFromSelection(): Promise<Relaunch> {
  const [node] = figma.currentPage.selection;
  const tagged = node && resultSettings(node);
  if (!tagged) return {};
  const source = tagged.sourceId ? await requireNode(tagged.sourceId, "source").catch(() => null) : null;
  if (!source) {
    figma.currentPage.selection = [];
    return { relaunch: tagged.settings, relaunchSourceGone: true };
  }
  const page = pageOf(source);
  if (page !== figma.currentPage) await figma.setCurrentPageAsync(page);
  figma.currentPage.selection = [source];
  return { relaunch: tagged.settings };
}
