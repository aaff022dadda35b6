// Settings persist per user in figma.clientStorage; results remember theirs for "Stylize again".
import { parseSettings, type Settings } from "../shared/plugin-messages";

const STORAGE_KEY = "stylize-settings";
/** Plugin data keys on inserted results. */
export const RESULT_SETTINGS_KEY = "stylize-settings";
export const RESULT_SOURCE_KEY = "stylize-source";
export const RELAUNCH_COMMAND = "stylize-again";

export async function loadSettings(): Promise<Settings> {
  return parseSettings(await figma.clientStorage.getAsync(STORAGE_KEY));
}

export function saveSettings(settings: Settings): Promise<void> {
  return figma.clientStorage.setAsync(STORAGE_KEY, settings);
}

/** Mark a result so its "Stylize again" button re-runs with the same settings on the same source. */
export function tagResult(node: SceneNode, source: SceneNode, settings: Settings): void {
  node.setPluginData(RESULT_SETTINGS_KEY, JSON.stringify(settings));
  node.setPluginData(RESULT_SOURCE_KEY, source.id);
  node.setRelaunchData({ [RELAUNCH_COMMAND]: `Re-run Stylize on “${source.name}” with the same settings` });
}

/** Settings stored on a result node, if it is one. */
export function resultSettings(node: BaseNode): { settings: Settings; sourceId: string } | null {
  const raw = node.getPluginData(RESULT_SETTINGS_KEY);
  if (!raw) return null;
  try {
    return { settings: parseSettings(JSON.parse(raw)), sourceId: node.getPluginData(RESULT_SOURCE_KEY) };
  } catch {
    return null;
  }
}
