import { WireError } from '@cam/net-utils';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import {
  area,
  decodePacket,
  decodeSearchDatagram,
  encodePacket,
  encodeSdkCall,
  encodeSearchDatagram,
  imageItem,
  parseProgramXml,
  parseSdkXml,
  program,
  programToXml,
  readXmlDocument,
  readXmlFragment,
  SdkCallAssembler,
  type SdkPacket,
  SdkPacketDecoder,
  screen,
  textItem,
} from '../src/codec/index.js';
import { buildSdkRequest, buildSdkResponse } from '../src/codec/xml.js';

/**
 * Every exported decoder and streaming decoder of @cam/sdk-tcp, for `pnpm fuzz` (runner in test-support) and the
 * short run in test/fuzz.test.ts. Seeds come from the package's own encoders.
 */

const utf8 = new TextEncoder();
const isWire = (e: unknown): boolean => WireError.isInstance(e);

const MD5 = '0123456789abcdef0123456789abcdef';
const packets: SdkPacket[] = [
  { type: 'kTcpHeartbeatAsk' },
  { type: 'kTcpHeartbeatAnswer' },
  { type: 'kErrorAnswer', code: 7 },
  { type: 'kSDKServiceAsk', version: 0x1000007 },
  { type: 'kSDKServiceAnswer', version: 0x1000005, status: 0 },
  { type: 'kSDKCmdAsk', total: 5, index: 0, data: utf8.encode('<sdk/') },
  { type: 'kFileStartAsk', md5: MD5, size: 1234, fileType: 1, name: 'clip.mp4' },
  { type: 'kFileStartAnswer', status: 0, existSize: 99 },
  { type: 'kFileContentAsk', data: new Uint8Array([1, 2, 3, 4, 5]) },
  { type: 'kFileEndAsk' },
  { type: 'kFileEndAnswer', status: 0 },
  { type: 'kReadFileAsk', name: 'a.png' },
  { type: 'kReadFileAnswer', status: 0, md5: MD5, size: 10, fileType: 0 },
  { type: 'kFileListStartAsk', fileCount: 2, totalSize: 100, sessionId: 's1' },
  { type: 'kFileListEndAsk' },
];

const docs = [
  buildSdkRequest({ guid: '##GUID', method: 'GetIFVersion', body: '<version value="1000000"/>' }),
  buildSdkRequest({ guid: 'ab'.repeat(16), method: 'SetTimeInfo', body: '<time value="2026-01-02 03:04:05"/>' }),
  buildSdkResponse({
    guid: 'ab'.repeat(16),
    method: 'GetFiles',
    result: 'kSuccess',
    body: '<files><file name="a.png" md5="0" size="1" existSize="1" type="image"/></files>',
  }),
  buildSdkRequest({ guid: 'g', method: 'AddProgram', body: '<![CDATA[x]]><!-- c --><a b="&lt;&#65;"/>' }),
];

const programs = [
  programToXml(
    screen([
      program([
        area({ x: 0, y: 0, width: 64, height: 16 }, [textItem('Hello <&>', { effect: 'leftScrollLoop' })]),
        area({ x: 64, y: 0, width: 32, height: 32 }, [imageItem('logo.png', { md5: 'ab'.repeat(16) })]),
      ]),
    ]),
  ),
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function pieces(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of cuts) {
    if (c <= from || c >= input.byteLength) continue;
    out.push(input.subarray(from, c));
    from = c;
  }
  out.push(input.subarray(from));
  return out;
}

const text = new TextDecoder('utf-8', { fatal: false });

const targets: FuzzTarget[] = [
  {
    name: 'sdk-tcp decodePacket',
    seeds: () => packets.map(encodePacket),
    run: (input) => {
      decodePacket(input);
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp SdkPacketDecoder',
    seeds: () => [
      concat(packets.map(encodePacket)),
      encodeSdkCall(utf8.encode(docs[1]!), 'kSDKCmdAsk', { chunkSize: 16 }),
    ],
    run: (input, cuts) => {
      const d = new SdkPacketDecoder();
      for (const p of pieces(input, cuts)) d.push(p);
      d.end();
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp SdkCallAssembler',
    seeds: () => docs.map((d) => encodeSdkCall(utf8.encode(d), 'kSDKCmdAsk', { chunkSize: 40 })),
    run: (input, cuts) => {
      const d = new SdkPacketDecoder();
      const asm = new SdkCallAssembler();
      for (const piece of pieces(input, cuts)) {
        for (const p of d.push(piece)) {
          if (p.type !== 'kSDKCmdAsk' && p.type !== 'kSDKCmdAnswer') continue;
          const whole = asm.push(p);
          if (whole) parseSdkXml(whole);
        }
      }
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp decodeSearchDatagram',
    seeds: () => [
      encodeSearchDatagram({ type: 'kSearchDeviceAsk', version: 0x1000007 }),
      encodeSearchDatagram({
        type: 'kSearchDeviceAnswer',
        version: 0x1000007,
        deviceId: 'C16-0001',
        data: new Uint8Array([1, 2]),
      }),
    ],
    run: (input) => {
      decodeSearchDatagram(input);
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp parseSdkXml',
    seeds: () => docs.map((d) => utf8.encode(d)),
    run: (input) => {
      parseSdkXml(input);
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp readXmlFragment',
    seeds: () => [...docs, ...programs].map((d) => utf8.encode(d)),
    run: (input) => {
      const s = text.decode(input);
      readXmlFragment(s);
      readXmlDocument(s);
    },
    isExpectedError: isWire,
  },
  {
    name: 'sdk-tcp parseProgramXml',
    seeds: () => programs.map((d) => utf8.encode(d)),
    run: (input) => {
      parseProgramXml(text.decode(input));
    },
    isExpectedError: isWire,
  },
];

export default targets;
