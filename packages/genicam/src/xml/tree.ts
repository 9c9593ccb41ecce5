/**
 * GenICam XML text -> a small element tree, through the one hardened XML reader of the wire layer
 * (`readXmlDocument` of `@cam/net-utils/wire`: DTDs and entity declarations refused, no entity expansion, only the
 * five predefined entities and character references, linear in the input). This file keeps GenICam's own choices:
 * its larger size and element caps, namespace prefixes dropped, NUL padding of a device's file area removed, and the
 * reader's errors reported as {@link GenicamXmlError} with line and column.
 */
import {
  MalformedError,
  ownText,
  readXmlDocument,
  WireError,
  type XmlElement as WireXmlElement,
  XML_DEFAULTS,
} from '@cam/net-utils/wire';
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

function stripPrefix(tag: string): string {
  const i = tag.indexOf(':');
  return i >= 0 ? tag.slice(i + 1) : tag;
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: end - start + 1 };
}

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
  let root: WireXmlElement;
  try {
    root = readXmlDocument(xml, {
      maxLength: MAX_XML_LENGTH,
      maxElements: MAX_XML_ELEMENTS,
      maxDepth: XML_DEFAULTS.maxDepth,
    });
  } catch (cause) {
    if (!WireError.isInstance(cause)) throw cause;
    const where = MalformedError.isInstance(cause) ? lineColumn(xml, cause.offset) : {};
    throw new GenicamXmlError(cause.message, where, { cause });
  }
  const source = xml;
  const convert = (el: WireXmlElement): XmlElement => {
    const attrs: Record<string, string> = {};
    for (const k of Object.keys(el.attributes)) attrs[stripPrefix(k)] = el.attributes[k] as string;
    return {
      tag: stripPrefix(el.name),
      attrs,
      children: el.children.map(convert),
      text: ownText(source, el).trim(),
    };
  };
  return convert(root);
}
