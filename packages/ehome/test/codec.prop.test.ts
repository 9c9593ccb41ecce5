import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  COMMAND_NAMES,
  COMMANDS,
  type CommandName,
  decodeMessage,
  decodeMessageText,
  type EhomeMessage,
  encodeMessage,
  type Fields,
  implausibleSignal,
  messageToXml,
  request,
  response,
  responseTemplate,
  type Shape,
  SignalTooLargeError,
  type XmlTree,
} from '../src/index.js';

// Text that both GB2312 and UTF-8 carry: ASCII printable, tab/newline/CR, a few CJK, XML specials, and
// leading/trailing spaces (the codec must keep them).
const textChar = fc.constantFrom(...'abcXYZ019 -_.:/&<>"\'\t\n\r中文设备报警图片'.split(''));
const time = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2037-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 19).replace('T', ' '));

function stringArb(s: Extract<Shape, { kind: 'string' }>): fc.Arbitrary<string> {
  if (s.pattern) {
    const pattern = s.pattern;
    if (pattern.source.includes('\\d{4}-(0[1-9]')) return time;
    const fits = (v: string): boolean =>
      v.length >= s.min && v.length <= s.max && pattern.test(v) && /^[\x20-\x7e]*$/.test(v);
    if (pattern.source.includes('https?')) return fc.webUrl({ validSchemes: ['http', 'https'] }).filter(fits);
    return fc.stringMatching(new RegExp(pattern.source)).filter(fits);
  }
  return fc.string({ unit: textChar, minLength: s.min, maxLength: Math.min(s.max, 24) });
}

// element names; XML reserves names that start with "xml" in any case, and the writer refuses them
const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,7}$/).filter((w) => !/^xml/i.test(w));
const treeArb: fc.Arbitrary<XmlTree> = fc.letrec<{ tree: XmlTree }>((tie) => ({
  tree: fc.dictionary(
    word,
    fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: textChar, maxLength: 12 }),
      tie('tree').filter((t) => Object.keys(t).length > 0),
      fc.array(fc.string({ unit: textChar, maxLength: 8 }), { minLength: 2, maxLength: 3 }),
    ),
    { minKeys: 0, maxKeys: 3 },
  ),
})).tree;

function recordArb(name: string): fc.Arbitrary<unknown> {
  const n = fc.integer({ min: 0, max: 2 ** 40 });
  if (name === 'RecordedFile') {
    return fc.record({
      name: fc.stringMatching(/^[A-Za-z0-9_]{1,30}$/),
      start: time,
      stop: time,
      size: n,
      flag: fc.integer({ min: 0, max: 255 }),
    });
  }
  if (name === 'PictureEntry') {
    return fc.record({ picId: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), time, size: n });
  }
  const keys = name.split('-');
  return fc.record(Object.fromEntries(keys.map((k) => [k, fc.integer({ min: 0, max: 100000 })])));
}

function shapeArb(s: Shape): fc.Arbitrary<unknown> {
  switch (s.kind) {
    case 'string':
      return stringArb(s);
    case 'int':
      return fc.integer({ min: Math.max(s.min, -(2 ** 40)), max: Math.min(s.max, 2 ** 40) });
    case 'enum':
      return fc.constantFrom(...s.values);
    case 'record':
      return recordArb(s.name);
    case 'list':
      return fc.array(shapeArb(s.item), { maxLength: Math.min(s.max, 4) });
    case 'object':
      return fieldsArb(s.fields);
    case 'tree':
      return treeArb;
  }
}

function fieldsArb(fields: Fields): fc.Arbitrary<Record<string, unknown>> {
  const required: Record<string, fc.Arbitrary<unknown>> = {};
  const keys: string[] = [];
  for (const [k, f] of Object.entries(fields)) {
    required[k] = shapeArb(f.shape);
    if (!f.optional) keys.push(k);
  }
  return fc.record(required, { requiredKeys: keys });
}

const envelope = fc.record({
  version: fc.constantFrom('2.0', '2.5', '4.0'),
  sequence: fc.integer({ min: 0, max: 0xffffffff }),
  encoding: fc.constantFrom('UTF-8' as const, 'GB2312' as const),
});

function requestArb(command: CommandName): fc.Arbitrary<EhomeMessage> {
  return fc
    .tuple(envelope, fieldsArb(COMMANDS[command].request as Fields))
    .map(([e, params]) => ({ kind: 'request', ...e, command, params }) as EhomeMessage);
}

function responseArb(command: CommandName): fc.Arbitrary<EhomeMessage> {
  const ok = fc
    .tuple(envelope, fieldsArb(COMMANDS[command].response as Fields), fc.string({ unit: textChar, maxLength: 16 }))
    .map(
      ([e, params, description]) =>
        ({ kind: 'response', ...e, command, status: 200, description, params }) as EhomeMessage,
    );
  const failed = fc
    .tuple(envelope, fc.constantFrom(400, 401, 403, 404, 500, 501), fc.string({ unit: textChar, maxLength: 16 }))
    .map(([e, status, description]) => ({ kind: 'response', ...e, command, status, description }) as EhomeMessage);
  return fc.oneof(ok, failed);
}

/** Encodes, skipping (fc.pre) the rare generated message that would exceed 1500 bytes. */
function encodeOrSkip(m: EhomeMessage): Uint8Array {
  try {
    return encodeMessage(m);
  } catch (e) {
    if (SignalTooLargeError.isInstance(e)) fc.pre(false);
    throw e;
  }
}

describe('round trip of every message type', () => {
  for (const command of COMMAND_NAMES) {
    test.prop([requestArb(command)], { numRuns: 150 })(`${command} request`, (m) => {
      const bytes = encodeOrSkip(m);
      expect(implausibleSignal(bytes)).toBeUndefined();
      expect(decodeMessage(bytes)).toEqual(m);
    });
    test.prop([responseArb(command)], { numRuns: 150 })(`${command} response`, (m) => {
      const bytes = encodeOrSkip(m);
      expect(implausibleSignal(bytes)).toBeUndefined();
      expect(decodeMessage(bytes)).toEqual(m);
    });
  }
});

describe('KEEPALIVE fast path', () => {
  test.prop([requestArb('KEEPALIVE'), fc.constantFrom('', ' ', '\r\n', '\n  ')])(
    'gives what the full parser gives, whatever the whitespace',
    (m, ws) => {
      const xml = messageToXml(m).replaceAll('\r\n', ws === '' ? '' : `\r\n${ws}`);
      const bytes = encodeOrSkip({ ...m });
      const viaFull = decodeMessageText(xml, m.encoding ?? 'UTF-8');
      expect(decodeMessage(new TextEncoder().encode(xml.replace(/encoding="[^"]+"/, 'encoding="UTF-8"')))).toEqual({
        ...viaFull,
        encoding: 'UTF-8',
      });
      expect(decodeMessage(bytes)).toEqual(m);
    },
  );
});

describe('response template', () => {
  test.prop([
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.constantFrom('2.5', '4.0'),
    fc.constantFrom('UTF-8' as const, 'GB2312' as const),
  ])('gives exactly the bytes encodeMessage gives', (sequence, version, encoding) => {
    const t = responseTemplate('KEEPALIVE', 200, 'OK', {}, { version, encoding });
    const req = request('KEEPALIVE', sequence, { deviceId: 'd' }, { encoding });
    expect(Buffer.from(t(sequence))).toEqual(Buffer.from(encodeMessage(response(req, 200, 'OK', {}, { version }))));
  });
});

describe('any bytes', () => {
  test.prop([fc.uint8Array({ maxLength: 1600 })], { numRuns: 2000 })('give a message or a typed error', (bytes) => {
    const refused = implausibleSignal(bytes);
    try {
      decodeMessage(bytes);
      // the platform's byte pre-check never refuses what the decoder accepts
      expect(refused).toBeUndefined();
    } catch (e) {
      expect((e as Error).name).toMatch(/Error$/);
      expect((e as { constructor: { errorName?: string } }).constructor.errorName).toBeDefined();
    }
  });
});

describe('byte pre-check of the platform (implausibleSignal)', () => {
  test.prop([requestArb('REGISTER'), fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 1000 })(
    'refuses no mutated signal that still decodes',
    (m, at, flip) => {
      const bytes = Uint8Array.from(encodeOrSkip(m));
      const i = at % bytes.length;
      bytes[i] = bytes[i]! ^ flip;
      let decoded = true;
      try {
        decodeMessage(bytes);
      } catch {
        decoded = false;
      }
      if (decoded) expect(implausibleSignal(bytes)).toBeUndefined();
    },
  );
});
