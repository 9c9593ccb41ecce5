import {
  elementText,
  MalformedError,
  readXmlFragment,
  ValueOutOfRangeError,
  type XmlElement,
} from '@cam/net-utils/wire';
import { escapeXmlAttribute } from './xml.js';

/**
 * The vendor's program XML (the body of AddProgram / GetProgram), as the vendor's host libraries write it:
 *
 * ```xml
 * <screen timeStamps="…">
 *   <program type="normal" id="0" guid="…" name="…">
 *     <playControl count="1" disabled="false"/>
 *     <area guid="…" name="…" alpha="255">
 *       <rectangle x="0" y="0" width="64" height="32"/>
 *       <resources>
 *         <text guid name singleLine [background]><style align valign/><string>…</string>
 *               <font name size color bold italic underline/><effect in out inSpeed outSpeed duration/></text>
 *         <image guid name fit><effect …/><file name [md5]/></image>
 *         <video guid name aspectRatio><file name [md5]/></video>
 *         <clock guid name type [timezone] adjust><title value color display/><date format color display/>
 *                <week format color display/><time format color display/></clock>
 *       </resources>
 *     </area>
 *   </program>
 * </screen>
 * ```
 *
 * Sources: KryQ/node-huidu-sdk `src/ProgramPlanner/*.ts` and alparslanahmed/huidi-led `program.go` (from the vendor's
 * C# SDK 2.0.10); effect numbers from the latter's `EffectType`. Pure: no I/O. `programToXml` and `parseProgramXml`
 * round-trip every {@link Screen} (test/program.prop.test.ts).
 */

/** Effect numbers of `<effect in/out>` (vendor `EffectType`). */
export const Effect = {
  immediate: 0,
  leftMove: 1,
  rightMove: 2,
  upMove: 3,
  downMove: 4,
  fade: 17,
  leftScroll: 21,
  rightScroll: 22,
  upScroll: 23,
  downScroll: 24,
  random: 25,
  leftScrollLoop: 26,
  rightScrollLoop: 27,
  upScrollLoop: 28,
  downScrollLoop: 29,
} as const;
export type EffectName = keyof typeof Effect;
/** Largest effect number (29). */
export const MAX_EFFECT = 29;

/** True for the continuous horizontal scrolls (21, 22, 26, 27), which the vendor shows as one line. */
export function isHorizontalScroll(effect: number): boolean {
  return effect === 21 || effect === 22 || effect === 26 || effect === 27;
}

export interface ItemEffect {
  /** Entry effect number, 0..29. */
  in: number;
  out: number;
  /** 0..10 (vendor: 1 slow .. 10 fast; 0 for none). */
  inSpeed: number;
  outSpeed: number;
  /** Seconds the item stays, 0..86400. */
  duration: number;
}

export interface FontSpec {
  /** Font name as the controller knows it (GetAllFontInfo `fontName`, or a font file name). */
  name: string;
  /** Pixels, 1..1024. */
  size: number;
  /** `#rrggbb`. */
  color: string;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

export type HAlign = 'left' | 'center' | 'right';
export type VAlign = 'top' | 'middle' | 'bottom';

export interface TextItem {
  kind: 'text';
  guid: string;
  name: string;
  text: string;
  font: FontSpec;
  align: HAlign;
  valign: VAlign;
  singleLine: boolean;
  /** `#rrggbb` or '' for none. */
  background: string;
  effect: ItemEffect;
}

export interface MediaFile {
  /** File name on the controller (a single path component). */
  name: string;
  /** 32 lowercase hex, or '' when not given. */
  md5: string;
}

export type ImageFit = 'fill' | 'center' | 'stretch' | 'tile';

export interface ImageItem {
  kind: 'image';
  guid: string;
  name: string;
  file: MediaFile;
  fit: ImageFit;
  effect: ItemEffect;
}

export interface VideoItem {
  kind: 'video';
  guid: string;
  name: string;
  file: MediaFile;
  aspectRatio: boolean;
}

export interface ClockPart {
  display: boolean;
  color: string;
  /** Vendor format number (date 1..7, week 1..3, time 1..4); the title has none (0). */
  format: number;
}

export interface ClockItem {
  kind: 'clock';
  guid: string;
  name: string;
  type: 'digital' | 'dial';
  /** e.g. `+8:00`, or '' for the controller's own. */
  timezone: string;
  /** `hh:mm:ss` with an optional sign. */
  adjust: string;
  title: ClockPart & { value: string };
  date: ClockPart;
  week: ClockPart;
  time: ClockPart;
}

export type AreaItem = TextItem | ImageItem | VideoItem | ClockItem;

export interface Area {
  guid: string;
  name: string;
  /** 0..255. */
  alpha: number;
  x: number;
  y: number;
  width: number;
  height: number;
  items: AreaItem[];
}

export interface Program {
  guid: string;
  name: string;
  type: 'normal';
  id: number;
  /** Times played before the next program (1..999). */
  playCount: number;
  disabled: boolean;
  areas: Area[];
}

export interface Screen {
  /** Seconds since 1970, or 0 when absent. */
  timeStamps: number;
  programs: Program[];
}

/** Limits of a parsed program (a device's say-so never allocates beyond these). */
export const PROGRAM_LIMITS = {
  programs: 64,
  areasPerProgram: 64,
  itemsPerArea: 256,
  textLength: 64 * 1024,
  coordinate: 16384,
} as const;

// ---- writing ----

const b = (v: boolean): string => (v ? 'true' : 'false');
const a = (name: string, value: string | number): string => ` ${name}="${escapeXmlAttribute(String(value))}"`;

function effectXml(e: ItemEffect): string {
  return `<effect${a('in', e.in)}${a('out', e.out)}${a('inSpeed', e.inSpeed)}${a('outSpeed', e.outSpeed)}${a('duration', e.duration)}/>`;
}

function fileXml(f: MediaFile): string {
  return `<file${a('name', f.name)}${f.md5 ? a('md5', f.md5) : ''}/>`;
}

function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function itemXml(item: AreaItem): string {
  const head = `${a('guid', item.guid)}${a('name', item.name)}`;
  switch (item.kind) {
    case 'text': {
      const f = item.font;
      return (
        `<text${head}${a('singleLine', b(item.singleLine))}${item.background ? a('background', item.background) : ''}>` +
        `<style${a('align', item.align)}${a('valign', item.valign)}/>` +
        `<string>${escapeText(item.text)}</string>` +
        `<font${a('name', f.name)}${a('size', f.size)}${a('color', f.color)}${a('bold', b(f.bold))}${a('italic', b(f.italic))}${a('underline', b(f.underline))}/>` +
        `${effectXml(item.effect)}</text>`
      );
    }
    case 'image':
      return `<image${head}${a('fit', item.fit)}>${effectXml(item.effect)}${fileXml(item.file)}</image>`;
    case 'video':
      return `<video${head}${a('aspectRatio', b(item.aspectRatio))}>${fileXml(item.file)}</video>`;
    case 'clock': {
      const part = (tag: string, p: ClockPart, extra = ''): string =>
        `<${tag}${extra}${tag === 'title' ? '' : a('format', p.format)}${a('color', p.color)}${a('display', b(p.display))}/>`;
      return (
        `<clock${head}${a('type', item.type)}${item.timezone ? a('timezone', item.timezone) : ''}${a('adjust', item.adjust)}>` +
        part('title', item.title, a('value', item.title.value)) +
        part('date', item.date) +
        part('week', item.week) +
        part('time', item.time) +
        '</clock>'
      );
    }
  }
}

/** The `<screen>` element of a program set: the body of AddProgram, and what GetProgram answers. */
export function programToXml(screen: Screen): string {
  const programs = screen.programs.map((p) => {
    const areas = p.areas.map(
      (ar) =>
        `<area${a('guid', ar.guid)}${a('name', ar.name)}${a('alpha', ar.alpha)}>` +
        `<rectangle${a('x', ar.x)}${a('y', ar.y)}${a('width', ar.width)}${a('height', ar.height)}/>` +
        `<resources>${ar.items.map(itemXml).join('')}</resources></area>`,
    );
    return (
      `<program${a('type', p.type)}${a('id', p.id)}${a('guid', p.guid)}${a('name', p.name)}>` +
      `<playControl${a('count', p.playCount)}${a('disabled', b(p.disabled))}/>${areas.join('')}</program>`
    );
  });
  const ts = screen.timeStamps ? a('timeStamps', screen.timeStamps) : '';
  return `<screen${ts}>${programs.join('')}</screen>`;
}

// ---- reading ----

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

function need(el: XmlElement, name: string): XmlElement {
  const c = child(el, name);
  if (!c) throw new MalformedError(el.start, `program XML: <${el.name}> has no <${name}>`);
  return c;
}

function str(el: XmlElement, name: string, fallback?: string): string {
  const v = el.attributes[name];
  if (v !== undefined) return v;
  if (fallback !== undefined) return fallback;
  throw new MalformedError(el.start, `program XML: <${el.name}> has no ${name} attribute`);
}

function int(el: XmlElement, name: string, min: number, max: number, fallback?: number): number {
  const v = el.attributes[name];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new MalformedError(el.start, `program XML: <${el.name}> has no ${name} attribute`);
  }
  const n = v.length > 0 && v.length <= 16 && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new MalformedError(el.start, `program XML: <${el.name} ${name}> is not an integer in ${min}..${max}`);
  }
  return n;
}

function bool(el: XmlElement, name: string, fallback: boolean): boolean {
  const v = el.attributes[name];
  if (v === undefined) return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new MalformedError(el.start, `program XML: <${el.name} ${name}> is not true or false`);
}

function oneOf<T extends string>(el: XmlElement, name: string, values: readonly T[], fallback: T): T {
  const v = el.attributes[name] ?? fallback;
  if (!(values as readonly string[]).includes(v)) {
    throw new MalformedError(el.start, `program XML: <${el.name} ${name}> must be one of ${values.join(', ')}`);
  }
  return v as T;
}

function color(el: XmlElement, name: string, fallback: string): string {
  const v = (el.attributes[name] ?? fallback).toLowerCase();
  if (v === '') return v;
  if (v.length !== 7 || v[0] !== '#' || !/^#[0-9a-f]{6}$/.test(v)) {
    throw new MalformedError(el.start, `program XML: <${el.name} ${name}> is not a #rrggbb colour`);
  }
  return v;
}

function readEffect(el: XmlElement | undefined): ItemEffect {
  if (!el) return { in: 0, out: 0, inSpeed: 0, outSpeed: 0, duration: 10 };
  return {
    in: int(el, 'in', 0, MAX_EFFECT, 0),
    out: int(el, 'out', 0, MAX_EFFECT, 0),
    inSpeed: int(el, 'inSpeed', 0, 10, 0),
    outSpeed: int(el, 'outSpeed', 0, 10, 0),
    duration: int(el, 'duration', 0, 86_400, 10),
  };
}

function readFile(el: XmlElement): MediaFile {
  const f = need(el, 'file');
  const md5 = str(f, 'md5', '').toLowerCase();
  if (md5 !== '' && !/^[0-9a-f]{32}$/.test(md5))
    throw new MalformedError(f.start, 'program XML: <file md5> is not 32 hex');
  return { name: str(f, 'name'), md5 };
}

function readClockPart(el: XmlElement | undefined, maxFormat: number): ClockPart {
  if (!el) return { display: false, color: '#ff0000', format: maxFormat === 0 ? 0 : 1 };
  return {
    display: bool(el, 'display', false),
    color: color(el, 'color', '#ff0000'),
    format: maxFormat === 0 ? 0 : int(el, 'format', 1, maxFormat, 1),
  };
}

function readItem(source: string, el: XmlElement): AreaItem | undefined {
  const guid = str(el, 'guid', '');
  const name = str(el, 'name', '');
  switch (el.name) {
    case 'text': {
      const font = child(el, 'font');
      const style = child(el, 'style');
      const s = child(el, 'string');
      const text = s ? elementText(source, s) : '';
      if (text.length > PROGRAM_LIMITS.textLength) {
        throw new MalformedError(el.start, `program XML: text longer than ${PROGRAM_LIMITS.textLength} characters`);
      }
      return {
        kind: 'text',
        guid,
        name,
        text,
        font: {
          name: font ? str(font, 'name', 'DejaVu Sans') : 'DejaVu Sans',
          size: font ? int(font, 'size', 1, 1024, 12) : 12,
          color: font ? color(font, 'color', '#ff0000') : '#ff0000',
          bold: font ? bool(font, 'bold', false) : false,
          italic: font ? bool(font, 'italic', false) : false,
          underline: font ? bool(font, 'underline', false) : false,
        },
        align: style ? oneOf(style, 'align', ['left', 'center', 'right'], 'left') : 'left',
        valign: style ? oneOf(style, 'valign', ['top', 'middle', 'bottom'], 'middle') : 'middle',
        singleLine: bool(el, 'singleLine', false),
        background: color(el, 'background', ''),
        effect: readEffect(child(el, 'effect')),
      };
    }
    case 'image':
      return {
        kind: 'image',
        guid,
        name,
        file: readFile(el),
        fit: oneOf(el, 'fit', ['fill', 'center', 'stretch', 'tile'], 'fill'),
        effect: readEffect(child(el, 'effect')),
      };
    case 'video':
      return { kind: 'video', guid, name, file: readFile(el), aspectRatio: bool(el, 'aspectRatio', false) };
    case 'clock': {
      const title = child(el, 'title');
      return {
        kind: 'clock',
        guid,
        name,
        type: oneOf(el, 'type', ['digital', 'dial'], 'digital'),
        timezone: str(el, 'timezone', ''),
        adjust: str(el, 'adjust', '00:00:00'),
        title: { ...readClockPart(title, 0), value: title ? str(title, 'value', '') : '' },
        date: readClockPart(child(el, 'date'), 7),
        week: readClockPart(child(el, 'week'), 3),
        time: readClockPart(child(el, 'time'), 4),
      };
    }
    default:
      return undefined; // other resource kinds (html5, weather, …) are kept out of the model
  }
}

function capped<T>(list: T[], max: number, what: string, at: number): T[] {
  if (list.length > max) throw new MalformedError(at, `program XML: more than ${max} ${what}`);
  return list;
}

/**
 * Reads program XML (a `<screen>` element, or the whole AddProgram body holding one) into a {@link Screen}.
 * Malformed XML, a missing element or an out-of-range value -> MalformedError; other resource kinds are skipped.
 */
export function parseProgramXml(xml: string): Screen {
  const top = readXmlFragment(xml, { maxElements: 20_000 });
  const screenEl = top.find((e) => e.name === 'screen');
  if (!screenEl) throw new MalformedError(0, 'program XML: no <screen> element');
  const C = PROGRAM_LIMITS.coordinate;
  const programs = capped(
    screenEl.children.filter((c) => c.name === 'program'),
    PROGRAM_LIMITS.programs,
    'programs',
    screenEl.start,
  ).map((p, index): Program => {
    const play = child(p, 'playControl');
    const areas = capped(
      p.children.filter((c) => c.name === 'area'),
      PROGRAM_LIMITS.areasPerProgram,
      'areas in a program',
      p.start,
    ).map((ar): Area => {
      const r = need(ar, 'rectangle');
      const res = child(ar, 'resources');
      const items = capped(res ? res.children : [], PROGRAM_LIMITS.itemsPerArea, 'items in an area', ar.start)
        .map((it) => readItem(xml, it))
        .filter((it): it is AreaItem => it !== undefined);
      return {
        guid: str(ar, 'guid', ''),
        name: str(ar, 'name', ''),
        alpha: int(ar, 'alpha', 0, 255, 255),
        x: int(r, 'x', -C, C),
        y: int(r, 'y', -C, C),
        width: int(r, 'width', 1, C),
        height: int(r, 'height', 1, C),
        items,
      };
    });
    const type = str(p, 'type', 'normal');
    if (type !== 'normal')
      throw new MalformedError(p.start, `program XML: program type "${type.slice(0, 20)}" is not supported`);
    return {
      guid: str(p, 'guid', ''),
      name: str(p, 'name', ''),
      type: 'normal',
      id: int(p, 'id', 0, 1_000_000, index),
      playCount: play ? int(play, 'count', 1, 999, 1) : 1,
      disabled: play ? bool(play, 'disabled', false) : false,
      areas,
    };
  });
  return { timeStamps: int(screenEl, 'timeStamps', 0, Number.MAX_SAFE_INTEGER, 0), programs };
}

// ---- building ----

let guidCounter = 0;
function newGuid(prefix: string): string {
  guidCounter = (guidCounter + 1) % 1e9;
  return `${prefix}-${Date.now().toString(36)}-${guidCounter.toString(36)}`;
}

const HEX = /^#[0-9a-fA-F]{6}$/;
function checkColor(value: string, field: string): string {
  if (!HEX.test(value)) throw new ValueOutOfRangeError(field, `"${value}" is not a #rrggbb colour`);
  return value.toLowerCase();
}

/** Options of {@link textItem}. */
export interface TextOptions {
  font?: string;
  size?: number;
  color?: string;
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
  align?: HAlign;
  valign?: VAlign;
  background?: string;
  /** Entry effect by name or number (default immediate); scrolls make the text one line. */
  effect?: EffectName | number;
  /** Effect speed 1..10 (default 4). */
  speed?: number;
  /** Seconds shown (default 10). */
  duration?: number;
  name?: string;
}

function effectNumber(e: EffectName | number | undefined): number {
  const n = typeof e === 'string' ? Effect[e] : (e ?? 0);
  if (!Number.isInteger(n) || n < 0 || n > MAX_EFFECT) throw new ValueOutOfRangeError('effect', `${String(e)}`);
  return n;
}

/** A text item with the vendor's defaults filled in. */
export function textItem(text: string, o: TextOptions = {}): TextItem {
  const effect = effectNumber(o.effect);
  const speed = o.speed ?? 4;
  if (!Number.isInteger(speed) || speed < 0 || speed > 10)
    throw new ValueOutOfRangeError('speed', `${speed} is not 0..10`);
  return {
    kind: 'text',
    guid: newGuid('text'),
    name: o.name ?? '',
    text,
    font: {
      name: o.font ?? 'DejaVu Sans',
      size: o.size ?? 12,
      color: checkColor(o.color ?? '#ff0000', 'color'),
      bold: o.bold ?? false,
      italic: o.italic ?? false,
      underline: o.underline ?? false,
    },
    align: o.align ?? 'left',
    valign: o.valign ?? 'middle',
    singleLine: isHorizontalScroll(effect),
    background: o.background ? checkColor(o.background, 'background') : '',
    effect: { in: effect, out: 0, inSpeed: speed, outSpeed: 0, duration: o.duration ?? 10 },
  };
}

/** A picture item; `file` is the name on the controller (see `sendProgram` for uploading it). */
export function imageItem(
  file: string,
  o: { fit?: ImageFit; md5?: string; effect?: EffectName | number; duration?: number; name?: string } = {},
): ImageItem {
  return {
    kind: 'image',
    guid: newGuid('image'),
    name: o.name ?? '',
    file: { name: file, md5: o.md5?.toLowerCase() ?? '' },
    fit: o.fit ?? 'fill',
    effect: { in: effectNumber(o.effect), out: 0, inSpeed: 4, outSpeed: 0, duration: o.duration ?? 10 },
  };
}

/** A video item. */
export function videoItem(file: string, o: { aspectRatio?: boolean; md5?: string; name?: string } = {}): VideoItem {
  return {
    kind: 'video',
    guid: newGuid('video'),
    name: o.name ?? '',
    file: { name: file, md5: o.md5?.toLowerCase() ?? '' },
    aspectRatio: o.aspectRatio ?? false,
  };
}

/** A digital clock showing the time (and optionally the date and weekday) in one colour. */
export function clockItem(
  o: { color?: string; date?: boolean; week?: boolean; timezone?: string; title?: string; name?: string } = {},
): ClockItem {
  const c = checkColor(o.color ?? '#ff0000', 'color');
  return {
    kind: 'clock',
    guid: newGuid('clock'),
    name: o.name ?? '',
    type: 'digital',
    timezone: o.timezone ?? '',
    adjust: '00:00:00',
    title: { display: o.title !== undefined, color: c, format: 0, value: o.title ?? '' },
    date: { display: o.date ?? false, color: c, format: 1 },
    week: { display: o.week ?? false, color: c, format: 1 },
    time: { display: true, color: c, format: 1 },
  };
}

/** An area at (x, y) of width × height holding the items, shown one after another. */
export function area(
  rect: { x: number; y: number; width: number; height: number },
  items: AreaItem[],
  o: { alpha?: number; name?: string } = {},
): Area {
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isInteger(rect[k])) throw new ValueOutOfRangeError(k, `${rect[k]} is not an integer`);
  }
  if (rect.width < 1 || rect.height < 1) throw new ValueOutOfRangeError('size', 'an area is at least 1x1');
  return { guid: newGuid('area'), name: o.name ?? '', alpha: o.alpha ?? 255, ...rect, items };
}

/** A program of areas; `screen()` wraps one or more into what AddProgram takes. */
export function program(areas: Area[], o: { name?: string; playCount?: number } = {}): Program {
  return {
    guid: newGuid('program'),
    name: o.name ?? 'program',
    type: 'normal',
    id: 0,
    playCount: o.playCount ?? 1,
    disabled: false,
    areas,
  };
}

/** A program set (ids numbered in order); the time stamp is now. */
export function screen(programs: Program[]): Screen {
  return {
    timeStamps: Math.round(Date.now() / 1000),
    programs: programs.map((p, id) => ({ ...p, id })),
  };
}

/** The media files a screen refers to (image and video items), each name once. */
export function programMedia(s: Screen): MediaFile[] {
  const seen = new Map<string, MediaFile>();
  for (const p of s.programs)
    for (const ar of p.areas)
      for (const it of ar.items) if (it.kind === 'image' || it.kind === 'video') seen.set(it.file.name, it.file);
  return [...seen.values()];
}
