import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import { type Area, type AreaItem, isHorizontalScroll, type Screen } from '../codec/program.js';

/**
 * What the simulated controller's LED screen shows at a moment, as PNG. The frame is composed as SVG and rendered by
 * resvg (@resvg/resvg-js: a well-kept Rust SVG renderer with prebuilt Node binaries on npm, no download at install;
 * engines node >= 10) with the DejaVu fonts of the `dejavu-fonts-ttf` npm package (an open font licence), so text
 * looks the same on every machine: no system font is loaded.
 *
 * Rules (a model of the controller, not a pixel copy of one): the first enabled program plays; each area shows its
 * items one after another, each for its effect duration (video and clock 10 s); text is drawn in DejaVu Sans
 * whatever font the program names (the controller's own font files are not ours to ship), aligned as asked, one line
 * per `\n`; the horizontal scroll effects (21, 22, 26, 27) move it by `inSpeed * 8` px/s, starting from its place;
 * pictures are drawn from the uploaded file (PNG, JPEG, GIF, WebP), fitted as asked; a video shows as a dark box
 * with its name (no decoder here); a clock shows the device's time (and date when asked); brightness dims the whole
 * frame; a closed screen is black.
 */

const require = createRequire(import.meta.url);
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));

/** Fonts every simulated controller has (GetAllFontInfo). */
export const BUILTIN_FONTS: readonly { fontName: string; fileName: string }[] = [
  { fontName: 'DejaVu Sans', fileName: 'DejaVuSans.ttf' },
  { fontName: 'DejaVu Sans Bold', fileName: 'DejaVuSans-Bold.ttf' },
];

export interface FrameInput {
  width: number;
  height: number;
  program: Screen | null;
  /** Time since the program started. */
  elapsedMs: number;
  /** 0..100 percent. */
  brightness: number;
  /** The device's clock. */
  clock: Date;
  loadMedia: (name: string) => Promise<Uint8Array | null>;
}

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));

function itemMs(it: AreaItem): number {
  if (it.kind === 'text' || it.kind === 'image') return Math.max(1, it.effect.duration) * 1000;
  return 10_000;
}

/** The item an area shows `elapsedMs` after the program started, and how long it has been showing. */
export function currentItem(area: Area, elapsedMs: number): { item: AreaItem; sinceMs: number } | null {
  if (area.items.length === 0) return null;
  const total = area.items.reduce((n, it) => n + itemMs(it), 0);
  let t = elapsedMs % total;
  for (const item of area.items) {
    const d = itemMs(item);
    if (t < d) return { item, sinceMs: t };
    t -= d;
  }
  return { item: area.items[0]!, sinceMs: 0 };
}

function sniff(b: Uint8Array): string | null {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  if (b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) return 'image/webp';
  return null;
}

function textSvg(a: Area, it: Extract<AreaItem, { kind: 'text' }>, sinceMs: number): string {
  const f = it.font;
  const lines = it.singleLine ? [it.text.replace(/\n/g, ' ')] : it.text.split('\n');
  const lineHeight = Math.round(f.size * 1.15);
  const block = lineHeight * lines.length;
  let y0: number;
  if (it.valign === 'top') y0 = a.y + f.size * 0.85;
  else if (it.valign === 'bottom') y0 = a.y + a.height - block + f.size * 0.85;
  else y0 = a.y + (a.height - block) / 2 + f.size * 0.85;
  let x = it.align === 'center' ? a.x + a.width / 2 : it.align === 'right' ? a.x + a.width : a.x;
  const anchor = it.align === 'center' ? 'middle' : it.align === 'right' ? 'end' : 'start';
  if (isHorizontalScroll(it.effect.in)) {
    // Estimated width (DejaVu Sans averages about 0.6 em per character).
    const tw = Math.max(...lines.map((l) => l.length)) * f.size * 0.6;
    const cycle = a.width + tw;
    const moved = ((sinceMs / 1000) * Math.max(1, it.effect.inSpeed) * 8) % cycle;
    const left = it.effect.in === 21 || it.effect.in === 26;
    const start = a.x;
    x = left ? start + a.width - ((moved + a.width) % cycle) : start - tw + ((moved + tw) % cycle);
  }
  const weight = f.bold ? ' font-weight="bold"' : '';
  const style = f.italic ? ' font-style="italic"' : '';
  const deco = f.underline ? ' text-decoration="underline"' : '';
  const anchorAttr = isHorizontalScroll(it.effect.in) ? 'start' : anchor;
  const bg = it.background
    ? `<rect x="${a.x}" y="${a.y}" width="${a.width}" height="${a.height}" fill="${it.background}"/>`
    : '';
  const tspans = lines
    .map((l, i) => `<tspan x="${x.toFixed(2)}" y="${(y0 + i * lineHeight).toFixed(2)}">${esc(l)}</tspan>`)
    .join('');
  return `${bg}<text font-family="DejaVu Sans" font-size="${f.size}" fill="${f.color}" text-anchor="${anchorAttr}"${weight}${style}${deco}>${tspans}</text>`;
}

function clockSvg(a: Area, it: Extract<AreaItem, { kind: 'clock' }>, clock: Date): string {
  const iso = clock.toISOString();
  const lines: { text: string; color: string }[] = [];
  if (it.title.display && it.title.value) lines.push({ text: it.title.value, color: it.title.color });
  if (it.date.display) lines.push({ text: iso.slice(0, 10).replace(/-/g, '/'), color: it.date.color });
  if (it.week.display) {
    lines.push({ text: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][clock.getUTCDay()]!, color: it.week.color });
  }
  if (it.time.display) lines.push({ text: iso.slice(11, 19), color: it.time.color });
  if (lines.length === 0) return '';
  const size = Math.max(6, Math.min(Math.floor(a.height / lines.length / 1.15), Math.floor(a.width / 5)));
  const top = a.y + (a.height - lines.length * size * 1.15) / 2;
  return lines
    .map(
      (l, i) =>
        `<text x="${a.x + a.width / 2}" y="${(top + (i + 0.85) * size * 1.15).toFixed(2)}" font-family="DejaVu Sans" font-size="${size}" fill="${l.color}" text-anchor="middle">${esc(l.text)}</text>`,
    )
    .join('');
}

async function areaSvg(a: Area, input: FrameInput, index: number): Promise<string> {
  const cur = currentItem(a, input.elapsedMs);
  if (!cur) return '';
  const { item, sinceMs } = cur;
  let inner = '';
  switch (item.kind) {
    case 'text':
      inner = textSvg(a, item, sinceMs);
      break;
    case 'clock':
      inner = clockSvg(a, item, input.clock);
      break;
    case 'video':
      inner =
        `<rect x="${a.x}" y="${a.y}" width="${a.width}" height="${a.height}" fill="#202020"/>` +
        `<text x="${a.x + 2}" y="${a.y + Math.min(12, a.height - 1)}" font-family="DejaVu Sans" font-size="${Math.min(10, a.height)}" fill="#808080">▶ ${esc(item.file.name)}</text>`;
      break;
    case 'image': {
      const bytes = await input.loadMedia(item.file.name);
      const mime = bytes ? sniff(bytes) : null;
      if (!bytes || !mime) {
        inner = `<rect x="${a.x}" y="${a.y}" width="${a.width}" height="${a.height}" fill="#400000"/>`;
        break;
      }
      const aspect = item.fit === 'center' ? 'xMidYMid meet' : 'none';
      inner = `<image x="${a.x}" y="${a.y}" width="${a.width}" height="${a.height}" preserveAspectRatio="${aspect}" href="data:${mime};base64,${Buffer.from(bytes).toString('base64')}"/>`;
      break;
    }
  }
  const clip = `a${index}`;
  return (
    `<clipPath id="${clip}"><rect x="${a.x}" y="${a.y}" width="${a.width}" height="${a.height}"/></clipPath>` +
    `<g clip-path="url(#${clip})" opacity="${(a.alpha / 255).toFixed(3)}">${inner}</g>`
  );
}

/** The SVG of a frame (exported for tests and for people who want vector output). */
export async function frameSvg(input: FrameInput): Promise<string> {
  const { width, height } = input;
  const parts = [`<rect width="${width}" height="${height}" fill="#000"/>`];
  const p = input.program?.programs.find((q) => !q.disabled);
  if (p) for (const [i, a] of p.areas.entries()) parts.push(await areaSvg(a, input, i));
  const dim = 1 - Math.max(0, Math.min(100, input.brightness)) / 100;
  if (dim > 0) parts.push(`<rect width="${width}" height="${height}" fill="#000" opacity="${dim.toFixed(3)}"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** The frame as PNG bytes. */
export async function renderFrame(input: FrameInput): Promise<Uint8Array> {
  const svg = await frameSvg(input);
  const r = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    shapeRendering: 1,
    textRendering: 1,
  });
  return r.render().asPng();
}
