/**
 * XML text -> a small element tree, with fast-xml-parser. Entity expansion is off: DTD entities are never
 * expanded (no "billion laughs"); the five predefined XML entities and numeric character references are decoded
 * here, and any other entity reference is an error.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { GenicamXmlError } from '../errors.js';

export interface XmlElement {
  /** Tag name without namespace prefix. */
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated, trimmed character data directly inside this element. */
  readonly text: string;
}

/** Largest XML document accepted, in characters. GenICam files of large cameras reach a few MiB. */
export const MAX_XML_LENGTH = 64 * 1024 * 1024;
/** Most elements accepted in one document. */
export const MAX_XML_ELEMENTS = 2_000_000;
const MAX_XML_DEPTH = 64;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes predefined entities and character references; throws on any other entity. */
export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,32});/g, (whole, name: string) => {
    const pre = PREDEFINED[name];
    if (pre !== undefined) return pre;
    const m = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(name);
    if (m !== null) {
      const ref = m[1] as string;
      const code = ref.startsWith('x') ? Number.parseInt(ref.slice(1), 16) : Number.parseInt(ref, 10);
      if (code > 0 && code <= 0x10ffff) return String.fromCodePoint(code);
    }
    throw new GenicamXmlError(`entity reference ${whole} is not expanded (only the XML predefined entities are)`);
  });
}

type Raw = Record<string, unknown>;

function stripPrefix(tag: string): string {
  const i = tag.indexOf(':');
  return i >= 0 ? tag.slice(i + 1) : tag;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  allowBooleanAttributes: false,
});

/** Parses XML text into the tree of its document element. Throws {@link GenicamXmlError} when malformed. */
export function parseXml(input: string | Uint8Array): XmlElement {
  let xml: string;
  if (typeof input === 'string') {
    xml = input;
  } else {
    if (input.byteLength > MAX_XML_LENGTH * 2)
      throw new GenicamXmlError(`document of ${input.byteLength} bytes exceeds the limit of ${MAX_XML_LENGTH * 2}`);
    xml = new TextDecoder('utf-8', { fatal: false }).decode(input);
  }
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  // Devices pad the XML file area with NULs; they are not part of the document.
  const nul = xml.indexOf('\0');
  if (nul >= 0) {
    if (/[^\0]/.test(xml.slice(nul))) throw new GenicamXmlError('NUL character inside the document');
    xml = xml.slice(0, nul);
  }
  if (xml.length > MAX_XML_LENGTH)
    throw new GenicamXmlError(`document of ${xml.length} characters exceeds the limit of ${MAX_XML_LENGTH}`);
  if (xml.trim().length === 0) throw new GenicamXmlError('empty document');
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    throw new GenicamXmlError(valid.err.msg, { line: valid.err.line, column: valid.err.col });
  }
  let raw: unknown;
  try {
    raw = parser.parse(xml);
  } catch (cause) {
    throw new GenicamXmlError(cause instanceof Error ? cause.message : String(cause), {}, { cause });
  }
  let count = 0;
  const convert = (item: Raw, tag: string, depth: number): XmlElement => {
    if (++count > MAX_XML_ELEMENTS) throw new GenicamXmlError(`more than ${MAX_XML_ELEMENTS} elements`);
    if (depth > MAX_XML_DEPTH) throw new GenicamXmlError(`elements nested deeper than ${MAX_XML_DEPTH}`);
    const attrsRaw = (item[':@'] ?? {}) as Record<string, unknown>;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrsRaw)) attrs[stripPrefix(k)] = decodeXmlText(String(v));
    const children: XmlElement[] = [];
    let text = '';
    const body = item[tag];
    if (Array.isArray(body)) {
      for (const child of body as Raw[]) {
        const key = Object.keys(child).find((k) => k !== ':@');
        if (key === undefined) continue;
        if (key === '#text') text += decodeXmlText(String(child[key]));
        else if (key === '#cdata') {
          for (const c of child[key] as Raw[]) text += String(c['#text'] ?? '');
        } else children.push(convert(child, key, depth + 1));
      }
    }
    return { tag: stripPrefix(tag), attrs, children, text: text.trim() };
  };
  const roots = (Array.isArray(raw) ? raw : []) as Raw[];
  for (const r of roots) {
    const key = Object.keys(r).find(
      (k) => k !== ':@' && !k.startsWith('#') && !k.startsWith('?') && !k.startsWith('!'),
    );
    if (key !== undefined) return convert(r, key, 0);
  }
  throw new GenicamXmlError('no document element');
}
