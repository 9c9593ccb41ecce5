import {
  FrameTooLargeError,
  findElement,
  MalformedError,
  readXmlDocument,
  readXmlFragment,
  ValueOutOfRangeError,
  WireError,
  type XmlElement,
} from '@cam/net-utils/wire';
import { MAX_XML_TOTAL } from './constants.js';

/**
 * The SDK XML envelope: `<sdk guid="..."><in method="...">BODY</in></sdk>` (request) and
 * `<sdk guid="..."><out method="..." result="kSuccess">BODY</out></sdk>` (answer). `result` holds an HErrorCode name.
 *
 * Parsing uses the linear reader of the wire layer (`@cam/net-utils/wire`, xml.ts) (no regular expression over wire input, no entity expansion, any
 * DOCTYPE rejected); the whole document is checked for well-formedness and BODY is kept verbatim.
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
/** Escapes a value for an XML attribute. */
export function escapeXmlAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ATTR_ESCAPES[c]!);
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

function attr(el: XmlElement, name: string): string {
  const v = el.attributes[name];
  if (v === undefined) throw new MalformedError(el.start, `<${el.name}> has no ${name} attribute`);
  return v;
}

/** Parses an SDK document (string or UTF-8 bytes). Throws MalformedError on anything but one well-formed envelope. */
export function parseSdkXml(input: string | Uint8Array): SdkEnvelope {
  // C strings sent with their terminator: tolerate trailing NULs.
  let end = input.length;
  if (typeof input === 'string') while (end > 0 && input.charCodeAt(end - 1) === 0) end--;
  else while (end > 0 && input[end - 1] === 0) end--;
  const xml = typeof input === 'string' ? input.slice(0, end) : decodeXmlText(input.subarray(0, end));
  if (xml.length > MAX_XML_TOTAL) throw new FrameTooLargeError(xml.length, MAX_XML_TOTAL, 'SDK XML document');
  // Only <sdk> and its <in>/<out> are kept; the body is checked for well-formedness and kept verbatim.
  const sdk = readXmlDocument(xml, { keepDepth: 2, maxElements: 1024 });
  if (sdk.name !== 'sdk') throw new MalformedError(sdk.start, 'SDK XML has no <sdk> root element');
  const guid = attr(sdk, 'guid');
  const inner = sdk.children.filter((c) => c.name === 'in' || c.name === 'out');
  if (inner.length !== 1)
    throw new MalformedError(sdk.contentStart, '<sdk> must hold exactly one <in> or <out> element');
  const node = inner[0]!;
  const kind = node.name as 'in' | 'out';
  const method = attr(node, 'method');
  const body = xml.slice(node.contentStart, node.contentEnd);
  if (kind === 'in') return { kind, guid, method, body };
  return { kind, guid, method, result: attr(node, 'result'), body };
}

/**
 * Reads `name="..."` of the first `<tag ...>` in a body (depth-first), or undefined when there is none or the body
 * is not well-formed. Linear in the body: the XML reader of `@cam/net-utils/wire`, no regular expression over wire input
 * (issue #22 item 3); a `<tag` inside CDATA or a comment is not an element and is not matched.
 */
export function bodyAttribute(body: string, tag: string, name: string): string | undefined {
  let elements: XmlElement[];
  try {
    elements = readXmlFragment(body);
  } catch (error) {
    if (WireError.isInstance(error)) return undefined;
    throw error;
  }
  return findElement(elements, tag)?.attributes[name];
}
