// Settings persist per user in figma.clientStorage; results remember theirs for "Stylize again".
import {
  type JobSettings,
  JobSettingsSchema,
  jobSettings,
  parseSettings,
  type Settings,
} from "../shared/plugin-messages";
import * as v from "valibot";

const STORAGE_KEY = "stylize-settings";
/** Plugin data keys on inserted results. */
export const RESULT_SETTINGS_KEY = "stylize-settings";
export const RESULT_SOURCE_KEY = "stylize-source";
export const RELAUNCH_COMMAND = "stylize-again";
/** Figma refuses relaunch descriptions of 1000 characters or more; long layer names are cut to fit. */
const MAX_NAME_IN_DESCRIPTION = 120;

export async function loadSettings(): Promise<Settings> {
  return parseSettings(await figma.clientStorage.getAsync(STORAGE_KEY));
}

export function saveSettings(settings: Settings): Promise<void> {
  return figma.clientStorage.setAsync(STORAGE_KEY, settings);
}

const shortName = (name: string) =>
  name.length > MAX_NAME_IN_DESCRIPTION ? `${name.slice(0, MAX_NAME_IN_DESCRIPTION - 1)}…` : name;

/**
 * Mark a result so its "Stylize again" button re-runs with the same settings on the same source.
 * Only the job settings go into the document (anyone with the file can read plugin data), never the
 * pairing token or the companion address.
 */
export function tagResult(node: SceneNode, source: SceneNode, settings: JobSettings): void {
  node.setPluginData(RESULT_SETTINGS_KEY, JSON.stringify(jobSettings(settings)));
  node.setPluginData(RESULT_SOURCE_KEY, source.id);
  node.setRelaunchData({
    [RELAUNCH_COMMAND]: `Re-run Stylize on “${shortName(source.name)}” with the same settings`,
  });
}

/** Settings stored on a result node, if it is one. */
export function resultSettings(node: BaseNode): { settings: JobSettings; sourceId: string } | null {
  const raw = node.getPluginData(RESULT_SETTINGS_KEY);
  if (!raw) return null;
  try {
    const settings = v.parse(JobSettingsSchema, JSON.parse(raw));
    return { settings, sourceId: node.getPluginData(RESULT_SOURCE_KEY) };
  } catch {
    return null;
  }
}
