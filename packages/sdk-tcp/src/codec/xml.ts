import { FrameTooLargeError, MalformedError, ValueOutOfRangeError } from '@cam/net-utils';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { MAX_XML_TOTAL } from './constants.js';

/**
 * The SDK XML envelope: `<sdk guid="..."><in method="...">BODY</in></sdk>` (request) and
 * `<sdk guid="..."><out method="..." result="kSuccess">BODY</out></sdk>` (answer). `result` holds an HErrorCode name.
 *
 * Parsing uses fast-xml-parser with entity processing off and rejects any DOCTYPE (no entity expansion, no
 * billion-laughs); the document is validated first, then `in`/`out` are stop nodes so BODY is kept verbatim.
 */

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

export interface SdkRequest {
  guid: string;
  method: string;
  /** Inner XML of `<in>`, verbatim. */
  body: string;
}
export interface SdkResponse {
  guid: string;
  method: string;
  /** HErrorCode name, `kSuccess` when the call worked. */
  result: string;
  /** Inner XML of `<out>`, verbatim. */
  body: string;
}
export type SdkEnvelope = ({ kind: 'in' } & SdkRequest) | ({ kind: 'out' } & SdkResponse);

const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const ATTR_UNESCAPES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Escapes a value for an XML attribute. */
export function escapeXmlAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ATTR_ESCAPES[c]!);
}

/** Resolves only the five predefined entities and numeric references (nothing user-defined, nothing recursive). */
function unescapeAttribute(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    if (e[0] !== '#') return ATTR_UNESCAPES[e]!;
    const cp = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}

function checkName(value: string, field: string): void {
  if (!/^[A-Za-z_][\w.-]*$/.test(value)) throw new ValueOutOfRangeError(field, `"${value}" is not an XML-safe name`);
}

export function buildSdkRequest(r: SdkRequest): string {
  checkName(r.method, 'method');
  const inner = r.body === '' ? `<in method="${r.method}"/>` : `<in method="${r.method}">${r.body}</in>`;
  return `${XML_DECLARATION}<sdk guid="${escapeXmlAttribute(r.guid)}">${inner}</sdk>`;
}

export function buildSdkResponse(r: SdkResponse): string {
  checkName(r.method, 'method');
  checkName(r.result, 'result');
  const attrs = `method="${r.method}" result="${r.result}"`;
  const inner = r.body === '' ? `<out ${attrs}/>` : `<out ${attrs}>${r.body}</out>`;
  return `${XML_DECLARATION}<sdk guid="${escapeXmlAttribute(r.guid)}">${inner}</sdk>`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  stopNodes: ['sdk.in', 'sdk.out'],
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 bytes of an SDK document; invalid UTF-8 -> MalformedError. */
export function decodeXmlText(bytes: Uint8Array): string {
  if (bytes.byteLength > MAX_XML_TOTAL)
    throw new FrameTooLargeError(bytes.byteLength, MAX_XML_TOTAL, 'SDK XML document');
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new MalformedError(0, 'SDK XML is not valid UTF-8', { cause: error });
  }
}

function attr(node: Record<string, unknown>, name: string, where: string): string {
  const v = node[name];
  if (typeof v !== 'string') throw new MalformedError(0, `<${where}> has no ${name} attribute`);
  return unescapeAttribute(v);
}

/** Parses an SDK document (string or UTF-8 bytes). Throws MalformedError on anything but one well-formed envelope. */
export function parseSdkXml(input: string | Uint8Array): SdkEnvelope {
  // C strings sent with their terminator: tolerate trailing NULs.
  let end = input.length;
  if (typeof input === 'string') while (end > 0 && input.charCodeAt(end - 1) === 0) end--;
  else while (end > 0 && input[end - 1] === 0) end--;
  const xml = typeof input === 'string' ? input.slice(0, end) : decodeXmlText(input.subarray(0, end));
  if (xml.length > MAX_XML_TOTAL) throw new FrameTooLargeError(xml.length, MAX_XML_TOTAL, 'SDK XML document');
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new MalformedError(
      xml.search(/<!(DOCTYPE|ENTITY)/i),
      'SDK XML must not contain a DOCTYPE or ENTITY declaration',
    );
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new MalformedError(
      0,
      `SDK XML is not well-formed: ${valid.err.msg} (line ${valid.err.line}, col ${valid.err.col})`,
    );
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (error) {
    throw new MalformedError(0, `SDK XML could not be parsed: ${(error as Error).message}`, { cause: error });
  }
  const sdk = (doc as Record<string, unknown> | undefined)?.sdk;
  if (typeof sdk !== 'object' || sdk === null || Array.isArray(sdk)) {
    throw new MalformedError(0, 'SDK XML has no single <sdk> root element');
  }
  const s = sdk as Record<string, unknown>;
  const guid = attr(s, 'guid', 'sdk');
  const hasIn = 'in' in s;
  const hasOut = 'out' in s;
  if (hasIn === hasOut) throw new MalformedError(0, '<sdk> must hold exactly one <in> or <out> element');
  const kind = hasIn ? 'in' : 'out';
  const node = s[kind];
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new MalformedError(0, `<sdk> must hold exactly one <${kind}> element`);
  }
  const n = node as Record<string, unknown>;
  const method = attr(n, 'method', kind);
  const text = n['#text'];
  const body = typeof text === 'string' ? text : '';
  if (kind === 'in') return { kind, guid, method, body };
  return { kind, guid, method, result: attr(n, 'result', 'out'), body };
}

/** Reads `name="..."` of the first `<tag ...>` in a body (for small built-in handlers). */
export function bodyAttribute(body: string, tag: string, name: string): string | undefined {
  const m = new RegExp(`<${tag}\\b[^>]*\\b${name}="([^"]*)"`).exec(body);
  return m ? unescapeAttribute(m[1]!) : undefined;
}
