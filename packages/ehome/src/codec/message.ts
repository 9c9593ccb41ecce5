import { BufferTooSmallError, ValueOutOfRangeError } from '@cam/net-utils/wire';
import { decodeSignalText, encodeSignalText, type SignalEncoding, sniffEncoding } from './charset.js';
import {
  COMMANDS,
  type CommandName,
  isCommandName,
  type Method,
  Methods,
  type RequestParams,
  type ResponseParams,
} from './commands.js';
import {
  FieldTypeError,
  MAX_SIGNAL_BYTES,
  MissingFieldError,
  SignalTooLargeError,
  UnknownCommandError,
  XmlSyntaxError,
} from './errors.js';
import { asciiText, keepaliveScan, scanKeepalive } from './keepalive.js';
import { type Fields, type Infer, readFields, writeFields } from './schema.js';
import { escapeText, parseXml, unescapeText, type XmlElement, type XmlNode } from './xml.js';

/** What every signal carries besides its params. */
export interface Envelope {
  /** `<Version>`: "2.0" for EHome 2.0 devices, "4.0" for 4.0; platforms answered "2.5" in captures. */
  version: string;
  /** `<Sequence>`: a response echoes the request's. */
  sequence: number;
  /** Character encoding declared in the XML declaration; default UTF-8. */
  encoding?: SignalEncoding;
}

/** A request (`<CommandType>REQUEST</CommandType>`) of command `C`. */
export type EhomeRequestOf<C extends CommandName> = Envelope & {
  kind: 'request';
  command: C;
  params: RequestParams<C>;
};
/**
 * A response of command `C` (`<WhichCommand>`). `params` is present exactly when the status is 2xx (errors carry
 * none we rely on).
 */
export type EhomeResponseOf<C extends CommandName> = Envelope & {
  kind: 'response';
  command: C;
  status: number;
  description: string;
  params?: ResponseParams<C>;
};
export type EhomeRequest = { [C in CommandName]: EhomeRequestOf<C> }[CommandName];
export type EhomeResponse = { [C in CommandName]: EhomeResponseOf<C> }[CommandName];
/** Any signal. */
export type EhomeMessage = EhomeRequest | EhomeResponse;
/** What the encoder takes: any signal, including ones typed with a generic command. */
export type EncodableMessage = EhomeMessage | EhomeRequestOf<CommandName> | EhomeResponseOf<CommandName>;

const VERSION = /^\d{1,2}(\.\d{1,2}){0,2}$/;
const U32 = 0xffffffff;

function envelopeText(el: XmlElement, tag: string, required: boolean): string | undefined {
  const path = `PPVSPMessage.${tag}`;
  const v = Object.hasOwn(el, tag) ? el[tag] : undefined;
  if (v === undefined) {
    if (required) throw new MissingFieldError(path);
    return undefined;
  }
  if (typeof v !== 'string') throw new FieldTypeError(path, 'text (once)');
  return unescapeText(v, path);
}

function parseSequence(s: string): number {
  if (!/^\d{1,10}$/.test(s) || Number(s) > U32) {
    throw new FieldTypeError('PPVSPMessage.Sequence', 'an integer in 0..4294967295', s);
  }
  return Number(s);
}

/**
 * Decodes one signal (one UDP datagram). Checks the size first (at most 1500 bytes), honours the declared
 * encoding, refuses DTDs/entities, and checks every field of the command's table. Throws a typed error naming
 * the field on any problem, and {@link UnknownCommandError} for a well-formed message of a command it does not know.
 */
export function decodeMessage(bytes: Uint8Array): EhomeMessage {
  if (bytes.byteLength > MAX_SIGNAL_BYTES) throw new SignalTooLargeError(bytes.byteLength);
  const scan = keepaliveScan();
  if (scanKeepalive(bytes, scan)) {
    return {
      kind: 'request',
      version: asciiText(bytes, scan.versionStart, scan.versionEnd),
      sequence: scan.sequence,
      encoding: scan.encoding,
      command: 'KEEPALIVE',
      params: { deviceId: asciiText(bytes, scan.deviceIdStart, scan.deviceIdEnd) },
    };
  }
  return decodeMessageGeneral(bytes);
}

/**
 * {@link decodeMessage} without the KEEPALIVE fast path: declaration sniffing, text decoding, the XML parser and
 * the field table for every signal. Exported for the tests that check both paths agree.
 */
export function decodeMessageGeneral(bytes: Uint8Array): EhomeMessage {
  if (bytes.byteLength > MAX_SIGNAL_BYTES) throw new SignalTooLargeError(bytes.byteLength);
  const encoding = sniffEncoding(bytes);
  return decodeMessageText(decodeSignalText(bytes, encoding), encoding);
}

/**
 * Decodes a signal already turned into text (`encoding` is recorded in the result). Text longer than
 * {@link MAX_SIGNAL_BYTES} characters is refused before parsing ({@link SignalTooLargeError}): every character is at
 * least one byte on the wire, so no signal can be longer.
 */
export function decodeMessageText(textValue: string, encoding: SignalEncoding = 'UTF-8'): EhomeMessage {
  if (textValue.length > MAX_SIGNAL_BYTES) throw new SignalTooLargeError(textValue.length);
  const doc = parseXml(textValue);
  const keys = Object.keys(doc);
  if (keys.length !== 1 || keys[0] !== 'PPVSPMessage') {
    throw new XmlSyntaxError(`root element must be <PPVSPMessage>, got <${keys.join('>, <') || 'nothing'}>`);
  }
  const rootNode = doc.PPVSPMessage!;
  if (typeof rootNode !== 'object' || Array.isArray(rootNode)) {
    throw new FieldTypeError('PPVSPMessage', 'child elements');
  }
  const root = rootNode;
  const version = envelopeText(root, 'Version', true)!;
  if (!VERSION.test(version)) throw new FieldTypeError('PPVSPMessage.Version', 'a version like 2.0', version);
  const sequence = parseSequence(envelopeText(root, 'Sequence', true)!);
  const commandType = envelopeText(root, 'CommandType', true)!;
  if (commandType !== 'REQUEST' && commandType !== 'RESPONSE') {
    throw new FieldTypeError('PPVSPMessage.CommandType', 'REQUEST or RESPONSE', commandType);
  }
  const method = envelopeText(root, 'Method', false);
  if (method !== undefined && !Object.hasOwn(Methods, method)) {
    throw new FieldTypeError('PPVSPMessage.Method', `one of ${Object.keys(Methods).join(', ')}`, method);
  }
  const params: XmlNode = Object.hasOwn(root, 'Params') ? root.Params! : '';
  if (commandType === 'REQUEST') {
    const command = envelopeText(root, 'Command', true)!;
    if (!isCommandName(command)) throw new UnknownCommandError(command, 'REQUEST', sequence, version);
    const d = COMMANDS[command];
    if (method !== undefined && method !== d.method) {
      throw new FieldTypeError('PPVSPMessage.Method', `${d.method} for ${command}`, method);
    }
    return {
      kind: 'request',
      version,
      sequence,
      encoding,
      command,
      params: readFields(d.request as Fields, params, 'Params'),
    } as EhomeRequest;
  }
  const command = envelopeText(root, 'WhichCommand', true)!;
  if (!isCommandName(command)) throw new UnknownCommandError(command, 'RESPONSE', sequence, version);
  const statusText = envelopeText(root, 'Status', true)!;
  if (!/^\d{3}$/.test(statusText)) throw new FieldTypeError('PPVSPMessage.Status', 'a 3-digit status', statusText);
  const status = Number(statusText);
  const description = envelopeText(root, 'Description', false) ?? '';
  const out: Record<string, unknown> = { kind: 'response', version, sequence, encoding, command, status, description };
  if (status >= 200 && status < 300) out.params = readFields(COMMANDS[command].response as Fields, params, 'Params');
  return out as unknown as EhomeResponse;
}

/**
 * Encodes a signal: XML declaration naming the encoding, the envelope, the params in table order. Throws
 * {@link ValueOutOfRangeError} naming a field that does not fit and {@link SignalTooLargeError} above 1500 bytes.
 */
export function encodeMessage(message: EncodableMessage): Uint8Array {
  const encoding = message.encoding ?? 'UTF-8';
  const bytes = encodeSignalText(messageToXml(message), encoding);
  if (bytes.byteLength > MAX_SIGNAL_BYTES) throw new SignalTooLargeError(bytes.byteLength);
  return bytes;
}

/** The length in bytes {@link encodeMessage} produces. */
export function encodedLengthMessage(message: EncodableMessage): number {
  return encodeSignalText(messageToXml(message), message.encoding ?? 'UTF-8').byteLength;
}

/** The XML text of a signal (before character encoding). */
export function messageToXml(message: EncodableMessage): string {
  const encoding = message.encoding ?? 'UTF-8';
  if (!VERSION.test(message.version)) throw new ValueOutOfRangeError('PPVSPMessage.Version', 'must look like 2.0');
  if (!Number.isSafeInteger(message.sequence) || message.sequence < 0 || message.sequence > U32) {
    throw new ValueOutOfRangeError('PPVSPMessage.Sequence', 'must be an integer in 0..4294967295');
  }
  if (!isCommandName(message.command)) throw new ValueOutOfRangeError('PPVSPMessage.Command', 'unknown command');
  const d = COMMANDS[message.command];
  const out: string[] = [
    `<?xml version="1.0" encoding="${encoding}"?>`,
    '<PPVSPMessage>',
    `<Version>${message.version}</Version>`,
    `<Sequence>${message.sequence}</Sequence>`,
  ];
  if (message.kind === 'request') {
    out.push('<CommandType>REQUEST</CommandType>');
    if (d.emitMethod) out.push(`<Method>${d.method as Method}</Method>`);
    out.push(`<Command>${message.command}</Command>`);
    writeParams(d.request as Fields, message.params, out);
  } else {
    if (!Number.isInteger(message.status) || message.status < 100 || message.status > 999) {
      throw new ValueOutOfRangeError('PPVSPMessage.Status', 'must be a 3-digit status');
    }
    out.push(
      '<CommandType>RESPONSE</CommandType>',
      `<WhichCommand>${message.command}</WhichCommand>`,
      `<Status>${message.status}</Status>`,
      `<Description>${escapeText(message.description, 'PPVSPMessage.Description')}</Description>`,
    );
    if (message.params === undefined) out.push('<Params/>');
    else writeParams(d.response as Fields, message.params, out);
  }
  out.push('</PPVSPMessage>', '');
  return out.join('\r\n');
}

function writeParams(fields: Fields, params: unknown, out: string[]): void {
  const inner: string[] = [];
  writeFields(fields, params as Infer<Fields>, 'Params', inner);
  if (inner.length === 0) out.push('<Params/>');
  else out.push('<Params>', ...inner, '</Params>');
}

/**
 * A prepared encoder for responses that differ only in `<Sequence>` (the KEEPALIVE answer, sent 10,000 times a
 * second on a large platform): the signal is encoded once around a placeholder and each call splices in the digits.
 * Produces exactly the bytes {@link encodeMessage} would.
 */
export class ResponseTemplate {
  /** Bytes through `<Sequence>`. */
  readonly head: Uint8Array;
  /** Bytes from `</Sequence>` to the end. */
  readonly tail: Uint8Array;

  constructor(
    command: CommandName,
    status: number,
    description: string,
    params: ResponseParams<CommandName> | undefined,
    options: { version: string; encoding: SignalEncoding },
  ) {
    const probe = {
      kind: 'response',
      version: options.version,
      sequence: 0,
      encoding: options.encoding,
      command,
      status,
      description,
      ...(params === undefined ? {} : { params }),
    } as EhomeResponseOf<CommandName>;
    const whole = encodeMessage(probe);
    const marker = encodeSignalText('<Sequence>0</Sequence>', options.encoding);
    const at = indexOfBytes(whole, marker);
    if (at < 0) throw new ValueOutOfRangeError('PPVSPMessage.Sequence', 'template has no sequence element');
    this.head = whole.slice(0, at + 10); // through "<Sequence>"
    this.tail = whole.slice(at + marker.length - 11); // from "</Sequence>"
    if (this.head.length + 10 + this.tail.length > MAX_SIGNAL_BYTES) {
      throw new SignalTooLargeError(this.head.length + 10 + this.tail.length);
    }
  }

  /** The length of the answer for `sequence`. */
  encodedLength(sequence: number): number {
    return this.head.length + sequenceDigits(sequence) + this.tail.length;
  }

  /** The answer for `sequence` in fresh bytes. */
  encode(sequence: number): Uint8Array {
    const out = new Uint8Array(this.encodedLength(sequence));
    this.encodeInto(sequence, out, 0);
    return out;
  }

  /**
   * Writes the answer for `sequence` into `out` at `offset`; returns the bytes written. Throws
   * {@link BufferTooSmallError} when it does not fit.
   */
  encodeInto(sequence: number, out: Uint8Array, offset: number): number {
    const n = this.encodedLength(sequence);
    if (!Number.isInteger(offset) || offset < 0 || out.length - offset < n) {
      throw new BufferTooSmallError(n, out.length - offset);
    }
    out.set(this.head, offset);
    this.writeSequence(sequence, out, offset);
    out.set(this.tail, offset + n - this.tail.length);
    return n;
  }

  /**
   * Rewrites only the digits of an answer already in `out` at `offset` (head and tail in place, as
   * {@link encodeInto} wrote them for a sequence with as many digits). The KEEPALIVE hot path writes 1-10 bytes.
   */
  writeSequence(sequence: number, out: Uint8Array, offset: number): void {
    let v = sequence;
    for (let i = offset + this.head.length + sequenceDigits(sequence) - 1; i >= offset + this.head.length; i--) {
      out[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
}

/** Decimal digits of a sequence (1-10); throws for anything that is not a sequence. */
export function sequenceDigits(sequence: number): number {
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > U32) {
    throw new ValueOutOfRangeError('PPVSPMessage.Sequence', 'must be an integer in 0..4294967295');
  }
  let d = 1;
  for (let p = 10; sequence >= p && d < 10; p *= 10) d++;
  return d;
}

/**
 * A prepared encoder for responses that differ only in `<Sequence>` ({@link ResponseTemplate} as a function).
 * Produces exactly the bytes {@link encodeMessage} would.
 */
export function responseTemplate<C extends CommandName>(
  command: C,
  status: number,
  description: string,
  params: ResponseParams<C> | undefined,
  options: { version: string; encoding: SignalEncoding },
): (sequence: number) => Uint8Array {
  const t = new ResponseTemplate(command, status, description, params as ResponseParams<CommandName>, options);
  return (sequence) => t.encode(sequence);
}

// ---- constructors ---------------------------------------------------------------------------------------------

/** Builds a request. */
export function request<C extends CommandName>(
  command: C,
  sequence: number,
  params: RequestParams<C>,
  options: { version?: string; encoding?: SignalEncoding } = {},
): EhomeRequestOf<C> {
  return {
    kind: 'request',
    version: options.version ?? '2.0',
    sequence,
    encoding: options.encoding ?? 'UTF-8',
    command,
    params,
  } as EhomeRequestOf<C>;
}

/** Builds the response to `req` (same command, sequence and encoding). */
export function response<C extends CommandName>(
  req: EhomeRequestOf<C>,
  status: number,
  description: string,
  params?: ResponseParams<C>,
  options: { version?: string } = {},
): EhomeResponseOf<C> {
  const out = {
    kind: 'response',
    version: options.version ?? req.version,
    sequence: req.sequence,
    encoding: req.encoding ?? 'UTF-8',
    command: req.command,
    status,
    description,
  } as EhomeResponseOf<C>;
  if (params !== undefined) out.params = params;
  return out;
}

export { MAX_SIGNAL_BYTES };

/** First offset of `needle` in `haystack`, or -1 (no Buffer: the codec runs in browsers too). */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  outer: for (
    let i = haystack.indexOf(first ?? 0);
    i >= 0 && i + needle.length <= haystack.length;
    i = haystack.indexOf(first ?? 0, i + 1)
  ) {
    for (let k = 1; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
