import {
  MalformedError,
  ownText,
  readXmlDocument,
  ValueOutOfRangeError,
  WireError,
  type XmlElement as WireXmlElement,
  XmlDeclarationError,
  XmlEntityRefError,
} from '@cam/net-utils/wire';
import { FieldTypeError, MAX_SIGNAL_BYTES, XmlEntityError, XmlSyntaxError } from './errors.js';

/** A parsed element: its text, or its children by tag (a repeated tag gives an array). */
export type XmlNode = string | XmlElement | XmlNode[];
export interface XmlElement {
  [tag: string]: XmlNode;
}

/** An arbitrary XML subtree carried as data (ConfigXML): element text, children by tag, repeated tags as arrays. */
export type XmlTree = { readonly [tag: string]: XmlTreeValue };
export type XmlTreeValue = string | XmlTree | readonly (string | XmlTree)[];

/** The largest element depth and element count a signal may have (a 1500-byte signal never needs more). */
export const MAX_XML_DEPTH = 12;
export const MAX_XML_ELEMENTS = 400;

/**
 * Parses one XML document with the wire layer's hardened reader (`readXmlDocument` of `@cam/net-utils/wire`: DTDs
 * and entity declarations refused, only predefined entities and character references, linear in its input), with
 * the tighter depth and element caps of a signal. The result keeps the shape the field table reads: each element's
 * text, or its children by tag (a repeated tag gives an array); attributes are ignored. Text is returned raw (its
 * references resolved later by {@link unescapeText}, which knows the field's name for the error message).
 */
export function parseXml(text: string): XmlElement {
  let root: WireXmlElement;
  try {
    root = readXmlDocument(text, {
      maxDepth: MAX_XML_DEPTH,
      maxElements: MAX_XML_ELEMENTS,
      maxLength: MAX_SIGNAL_BYTES,
    });
  } catch (e) {
    if (XmlDeclarationError.isInstance(e) || XmlEntityRefError.isInstance(e)) {
      throw new XmlEntityError(e.message.replace(/^malformed input at offset \d+: /, ''), e.offset);
    }
    if (MalformedError.isInstance(e)) throw new XmlSyntaxError(e.what, 0, 0, e.offset);
    if (WireError.isInstance(e)) throw new XmlSyntaxError(e.message);
    throw e;
  }
  const doc: XmlElement = {};
  setChild(doc, root.name, toNode(text, root));
  return doc;
}

function setChild(parent: XmlElement, tag: string, node: XmlNode): void {
  // defineProperty: a tag named __proto__ must become an own key, not the object's prototype.
  const existing = Object.hasOwn(parent, tag) ? parent[tag] : undefined;
  const value = existing === undefined ? node : Array.isArray(existing) ? [...existing, node] : [existing, node];
  Object.defineProperty(parent, tag, { value, enumerable: true, writable: true, configurable: true });
}

function toNode(source: string, el: WireXmlElement): XmlNode {
  if (el.children.length === 0) return rawText(source, el.contentStart, el.contentEnd).trim();
  const out: XmlElement = {};
  for (const child of el.children) setChild(out, child.name, toNode(source, child));
  const own = ownText(source, el).trim();
  if (own !== '') setChild(out, '#text', own);
  return out;
}

/** Character data of `source[from, to)` as written (references not resolved), CDATA unwrapped, comments and PIs left out. */
function rawText(source: string, from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    const lt = source.indexOf('<', i);
    const stop = lt < 0 || lt > to ? to : lt;
    out += source.slice(i, stop);
    if (stop === to) break;
    if (source.startsWith('<![CDATA[', stop)) {
      const k = source.indexOf(']]>', stop + 9);
      out += source.slice(stop + 9, k);
      i = k + 3;
    } else if (source.startsWith('<!--', stop)) i = source.indexOf('-->', stop + 4) + 3;
    else i = source.indexOf('?>', stop + 2) + 2; // a processing instruction (a leaf has no tags)
  }
  return out;
}

const REF = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z_][A-Za-z0-9._-]{0,30});?/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Resolves the five predefined entities and character references; any other reference is refused. */
export function unescapeText(raw: string, field: string): string {
  if (raw.indexOf('&') < 0) return raw;
  return raw.replace(REF, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new FieldTypeError(field, 'text with well-formed references', raw);
    if (name.charCodeAt(0) === 0x23) {
      const cp = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      if (!isXmlCodePoint(cp)) throw new FieldTypeError(field, 'text with valid character references', raw);
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED[name];
    if (v === undefined) throw new XmlEntityError(`reference to undefined entity &${name}; in ${field} refused`);
    return v;
  });
}

function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** True when `value` holds a character XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F). */
function hasNonXmlChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c < 0xd800) continue;
    if (c === 0x9 || c === 0xa || c === 0xd) continue;
    if (c < 0x20 || c === 0xfffe || c === 0xffff) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = value.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return true;
      i++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}
const WS = /^[ \t\n\r]+|[ \t\n\r]+$/g;

/**
 * Escapes element text. Besides `& < >`, CR is written as `&#13;` (parsers normalise CR LF) and leading or
 * trailing whitespace as character references, because the parser trims values: so every string round-trips.
 */
export function escapeText(value: string, field: string): string {
  if (hasNonXmlChar(value)) throw new ValueOutOfRangeError(field, 'contains a character XML 1.0 cannot carry');
  let s = value.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
  s = s.replace(WS, (ws) => {
    let out = '';
    for (const c of ws) out += `&#${c.charCodeAt(0)};`;
    return out;
  });
  return s;
}

const TAG = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const FORBIDDEN_TAGS = new Set(['__proto__', 'constructor', 'prototype']);

/** Checks a tag name for an {@link XmlTree} (tags come from callers in ConfigXML). */
export function checkTagName(tag: string, field: string): void {
  if (!TAG.test(tag) || FORBIDDEN_TAGS.has(tag) || /^xml/i.test(tag)) {
    throw new ValueOutOfRangeError(field, `${JSON.stringify(tag)} is not a usable XML element name`);
  }
}

/** Writes an {@link XmlTree} as elements, in key order. */
export function writeTree(tree: XmlTree, field: string, out: string[], depth = 0): void {
  if (depth > MAX_XML_DEPTH - 3) throw new ValueOutOfRangeError(field, `nested deeper than ${MAX_XML_DEPTH - 3}`);
  for (const tag of Object.keys(tree)) {
    checkTagName(tag, `${field}.${tag}`);
    const v = tree[tag]!;
    const items = Array.isArray(v) ? (v as readonly (string | XmlTree)[]) : [v as string | XmlTree];
    for (const it of items) {
      if (typeof it === 'string') out.push(`<${tag}>${escapeText(it, `${field}.${tag}`)}</${tag}>`);
      else if (typeof it === 'object' && it !== null && !Array.isArray(it)) {
        out.push(`<${tag}>`);
        writeTree(it, `${field}.${tag}`, out, depth + 1);
        out.push(`</${tag}>`);
      } else throw new ValueOutOfRangeError(`${field}.${tag}`, 'must be a string, an object or an array of them');
    }
  }
}

/** Converts a parsed element into an {@link XmlTree}, resolving text references. */
export function readTree(node: XmlNode, field: string): XmlTree | string {
  if (typeof node === 'string') return unescapeText(node, field);
  if (Array.isArray(node)) throw new FieldTypeError(field, 'a single element');
  const out: Record<string, XmlTreeValue> = {};
  for (const tag of Object.keys(node)) {
    if (FORBIDDEN_TAGS.has(tag)) throw new FieldTypeError(`${field}.${tag}`, 'a usable element name');
    if (tag === '#text') throw new FieldTypeError(field, 'elements or text, not both');
    const v = node[tag]!;
    if (Array.isArray(v)) {
      out[tag] = v.map((it) => {
        if (Array.isArray(it)) throw new FieldTypeError(`${field}.${tag}`, 'an element');
        return readTree(it, `${field}.${tag}`);
      });
    } else out[tag] = readTree(v, `${field}.${tag}`);
  }
  return out;
}
