// Where the plugin runs: Figma desktop, or Figma in a browser, which cannot reach the companion on
// this computer (Safari blocks ws://localhost from an https page; Chromium's Local Network Access
// needs a permission Figma's plugin iframe is not delegated). The user agent is all the iframe has.
export type FigmaHost = "desktop" | "browser" | "safari";

/** Figma desktop is an Electron app: its user agent names Figma and Electron; browsers name neither. */
export function figmaHost(ua: string = typeof navigator === "undefined" ? "" : navigator.userAgent): FigmaHost {
  if (/\bFigma\/|\bElectron\//.test(ua)) return "desktop";
  if (/\bSafari\//.test(ua) && !/(Chrome|Chromium|CriOS|Edg|Firefox|FxiOS)\//.test(ua)) return "safari";
  return "browser";
}
