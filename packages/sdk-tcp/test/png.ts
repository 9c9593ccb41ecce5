import { Resvg } from '@resvg/resvg-js';

/** A solid-colour PNG of w x h (made with resvg, the renderer the simulator uses). */
export function solidPng(width: number, height: number, color: string): Uint8Array {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="${color}"/></svg>`;
  return new Resvg(svg).render().asPng();
}

/** RGBA pixels of a PNG, decoded by drawing it 1:1 with resvg. */
export function pngPixels(png: Uint8Array, width: number, height: number): Uint8Array {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<image width="${width}" height="${height}" image-rendering="optimizeSpeed" href="data:image/png;base64,${Buffer.from(png).toString('base64')}"/></svg>`;
  return new Uint8Array(new Resvg(svg).render().pixels);
}

/** Counts the pixels inside a rectangle whose colour passes `test`. */
export function countPixels(
  rgba: Uint8Array,
  width: number,
  rect: { x: number; y: number; width: number; height: number },
  test: (r: number, g: number, b: number) => boolean,
): number {
  let n = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      const i = (y * width + x) * 4;
      if (test(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!)) n++;
    }
  }
  return n;
}
