import { isIP } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodeMessageGeneral,
  type EhomeMessage,
  encodeMessage,
  ID_PATTERN,
  keepaliveScan,
  request,
  response,
  scanKeepalive,
} from '../src/index.js';
import { KeepaliveAnswers, platformVersion } from '../src/platform/keepalive-answers.js';
import { isDottedQuad } from '../src/transport/udp.js';

/** A decode result or the name of the error it threw, so the two paths can be compared whatever happens. */
function outcome(f: () => EhomeMessage): EhomeMessage | string {
  try {
    return f();
  } catch (e) {
    return (e as Error).name;
  }
}

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

const deviceId = fc.stringMatching(ID_PATTERN);
const sequence = fc.integer({ min: 0, max: 0xffffffff });

// KEEPALIVE-like documents around the canonical shape: valid and invalid labels, versions, sequences, methods,
// DeviceIDs, XML and non-XML whitespace, and occasional extras (comments, attributes, references, CDATA).
const ws = fc.string({ unit: fc.constantFrom(' ', '\t', '\r', '\n', '\r\n', '\f', '\v', '\u00a0'), maxLength: 3 });
const plainWs = fc.string({ unit: fc.constantFrom(' ', '\t', '\r', '\n', '\r\n'), maxLength: 3 });
const anyWs = fc.oneof({ weight: 40, arbitrary: plainWs }, { weight: 1, arbitrary: ws });
const label = fc.constantFrom('UTF-8', 'utf-8', 'Utf8', 'GB2312', 'gb2312', 'GbK', 'GB18030', 'cp936', 'EUC-CN');
const oddLabel = fc.constantFrom('latin1', 'UTF-16', 'UTF-8 ', 'UTF_8', 'utf-9', '', 'U\rF-8', 'gb2312x');
const version = fc.oneof(
  { weight: 9, arbitrary: fc.stringMatching(/^\d{1,2}(\.\d{1,2}){0,2}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\d{0,3}(\.\d{0,3}){0,3}[a ]?$/) },
);
const sequenceText = fc.oneof(
  { weight: 8, arbitrary: sequence.map(String) },
  { weight: 1, arbitrary: fc.stringMatching(/^0{1,3}\d{1,8}$/) },
  fc.constantFrom('4294967296', '99999999999', '', '-1', '1 ', ' 1', '+1', '1e3', '0x1'),
);
const idText = fc.oneof(
  { weight: 9, arbitrary: deviceId },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('', 'a b', ' a', 'a&amp;b', '&#65;', 'é1', 'x'.repeat(65), 'a<b', '<![CDATA[a]]>', 'a<!-- c -->'),
      fc.string({ maxLength: 70 }),
    ),
  },
);
const method = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('', '<Method>CONTROL</Method>') },
  { weight: 1, arbitrary: fc.constantFrom('<Method>PARAM</Method>', '<Method>control</Method>') },
);
const extra = fc.oneof(
  { weight: 20, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('<!-- c -->', '<Pad/>', '<DeviceID>d2</DeviceID>', '<?pi x?>') },
);

const keepaliveLike = fc
  .record({
    label: fc.oneof({ weight: 12, arbitrary: label }, { weight: 1, arbitrary: oddLabel }),
    space: fc.boolean(),
    version,
    seq: sequenceText,
    method,
    id: idText,
    extra,
    at: fc.nat(8),
    w: fc.array(anyWs, { minLength: 12, maxLength: 12 }),
    root: fc.oneof({ weight: 20, arbitrary: fc.constant('PPVSPMessage') }, fc.constantFrom('ppvspmessage', 'Other')),
    bom: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map((d) => {
    const w = d.w;
    const parts = [
      `${w[1]}<${d.root}>`,
      `${w[2]}<Version>${d.version}</Version>`,
      `${w[3]}<Sequence>${d.seq}</Sequence>`,
      `${w[4]}<CommandType>REQUEST</CommandType>`,
      `${w[5]}${d.method}`,
      `${w[6]}<Command>KEEPALIVE</Command>`,
      `${w[7]}<Params>${w[8]}<DeviceID>${d.id}</DeviceID>${w[9]}</Params>`,
      `${w[10]}</${d.root}>${w[11]}`,
    ];
    parts.splice(d.at, 0, d.extra);
    const decl = `<?xml version="1.0" encoding="${d.label}"${d.space ? ' ' : ''}?>`;
    return `${d.bom ? '\u00ef\u00bb\u00bf' : ''}${decl}${parts.join('')}`;
  })
  .map(bytesOf);

describe('KEEPALIVE fast path (byte scanner) vs the general path', () => {
  test.prop([deviceId, sequence, fc.constantFrom('2.0', '4.0', '2.5', '10.1.2'), fc.constantFrom('UTF-8', 'GB2312')])(
    'reads every KEEPALIVE the encoder writes, with the same fields as the full parser',
    (id, seq, v, encoding) => {
      const req = request('KEEPALIVE', seq, { deviceId: id }, { version: v, encoding: encoding as 'UTF-8' | 'GB2312' });
      const bytes = encodeMessage(req);
      const scan = keepaliveScan();
      expect(scanKeepalive(bytes, scan)).toBe(true);
      expect(scan.sequence).toBe(seq);
      expect(decodeMessage(bytes)).toEqual(req);
      expect(decodeMessageGeneral(bytes)).toEqual(req);
    },
  );

  test.prop([keepaliveLike], { numRuns: 3000 })(
    'accepts only what the general path accepts, and gives the same message',
    (bytes) => {
      const general = outcome(() => decodeMessageGeneral(bytes));
      if (scanKeepalive(bytes, keepaliveScan())) expect(typeof general).toBe('object');
      expect(outcome(() => decodeMessage(bytes))).toEqual(general);
    },
  );

  test.prop(
    [
      deviceId,
      sequence,
      fc.constantFrom('UTF-8', 'GB2312'),
      fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set', 'insert', 'delete')), {
        minLength: 1,
        maxLength: 3,
      }),
    ],
    { numRuns: 3000 },
  )('agrees with the general path on KEEPALIVEs with bytes changed, inserted or deleted', (id, seq, enc, edits) => {
    const bytes = Array.from(
      encodeMessage(request('KEEPALIVE', seq, { deviceId: id }, { encoding: enc as 'UTF-8' | 'GB2312' })),
    );
    for (const [at, value, op] of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'set') bytes[Math.min(i, bytes.length - 1)] = value;
      else if (op === 'insert') bytes.splice(i, 0, value);
      else bytes.splice(i, 1);
    }
    const mutated = Uint8Array.from(bytes);
    const general = outcome(() => decodeMessageGeneral(mutated));
    if (scanKeepalive(mutated, keepaliveScan())) expect(typeof general).toBe('object');
    expect(outcome(() => decodeMessage(mutated))).toEqual(general);
  });

  it('leaves what it does not take to the general path, which still reads it', () => {
    const ka = (s: string): Uint8Array => new TextEncoder().encode(s);
    const body =
      '<PPVSPMessage><Version>2.0</Version><Sequence>9</Sequence><CommandType>REQUEST</CommandType>' +
      '<Command>KEEPALIVE</Command><Params><DeviceID>d1</DeviceID></Params></PPVSPMessage>';
    const variants = [
      body, // no declaration
      `<?xml version='1.0' encoding='UTF-8'?>${body}`, // single quotes
      `\ufeff<?xml version="1.0" encoding="UTF-8"?>${body}`, // BOM
      `<?xml version="1.0" encoding="UTF-8"?><!-- hello -->${body}`, // comment
      `<?xml version="1.0" encoding="UTF-8"?>${body.replace('<DeviceID>d1', '<DeviceID>&#100;1')}`, // reference
    ];
    for (const v of variants) {
      const bytes = ka(v);
      expect(scanKeepalive(bytes, keepaliveScan())).toBe(false);
      expect(decodeMessage(bytes)).toMatchObject({ command: 'KEEPALIVE', sequence: 9, params: { deviceId: 'd1' } });
    }
  });
});

describe('prepared KEEPALIVE answers', () => {
  const scanned = (id: string, seq: number, v: string, enc: 'UTF-8' | 'GB2312') => {
    const bytes = encodeMessage(request('KEEPALIVE', seq, { deviceId: id }, { version: v, encoding: enc }));
    const scan = keepaliveScan();
    expect(scanKeepalive(bytes, scan)).toBe(true);
    return { bytes, scan };
  };

  test.prop([
    fc.array(
      fc.tuple(
        sequence,
        fc.constantFrom('2.0', '4.0', '2.1', '5.0'),
        fc.constantFrom('UTF-8' as const, 'GB2312' as const),
        fc.boolean(),
      ),
      { minLength: 1, maxLength: 40 },
    ),
  ])('are exactly what encodeMessage gives, call after call, and never touch a handed-over buffer', (calls) => {
    const answers = new KeepaliveAnswers();
    const handed: { bytes: Uint8Array; copy: Uint8Array }[] = [];
    for (const [seq, v, enc, handOver] of calls) {
      const { bytes, scan } = scanned('dev', seq, v, enc);
      const out = answers.answer(bytes, scan);
      const req = request('KEEPALIVE', seq, { deviceId: 'dev' }, { version: v, encoding: enc });
      const expected = encodeMessage(response(req, 200, 'OK', {}, { version: platformVersion(v) }));
      expect(Buffer.from(out)).toEqual(Buffer.from(expected));
      expect(Buffer.from(answers.template(v, enc).encode(seq))).toEqual(Buffer.from(expected));
      if (handOver) {
        answers.handOver(out);
        handed.push({ bytes: out, copy: Uint8Array.from(out) });
      }
    }
    for (const h of handed) expect(h.bytes).toEqual(h.copy);
  });

  it('reuses one buffer per digit count while the socket does not keep it', () => {
    const answers = new KeepaliveAnswers();
    const a = scanned('d', 1234, '2.0', 'UTF-8');
    const b = scanned('d', 5678, '2.0', 'UTF-8');
    const first = answers.answer(a.bytes, a.scan);
    expect(answers.answer(b.bytes, b.scan)).toBe(first);
    answers.handOver(first);
    expect(answers.answer(a.bytes, a.scan)).not.toBe(first);
    expect(Buffer.from(first).includes('<Sequence>5678</Sequence>')).toBe(true);
  });
});

describe('IPv4 literal check of the UDP lookup', () => {
  const quad = fc
    .array(fc.oneof(fc.nat(300).map(String), fc.stringMatching(/^\d{1,4}$/)), { minLength: 3, maxLength: 5 })
    .map((p) => p.join('.'));
  test.prop([fc.oneof(quad, fc.string({ maxLength: 16 }), fc.ipV4(), fc.ipV6())], { numRuns: 3000 })(
    'agrees with isIP(s) === 4',
    (s) => {
      expect(isDottedQuad(s)).toBe(isIP(s) === 4);
    },
  );
});
