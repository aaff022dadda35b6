// Previews as data: URLs: Figma's plugin iframe may block blob: URLs (its CSP), data: images work.

/** A `data:` URL for PNG bytes. */
export function pngDataUrl(png: Uint8Array): string {
  let binary = "";
  const CHUNK = 0x8000; // String.fromCharCode takes a bounded number of arguments
  for (let i = 0; i < png.length; i += CHUNK) {
    binary += String.fromCharCode(...png.subarray(i, i + CHUNK));
  }
  return `data:image/png;base64,${btoa(binary)}`;
}
