import { FrameTooLargeError, fromHex, MalformedError, TrailingBytesError, toHex, WireError } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import { MAX_XML_CHUNK, MAX_XML_TOTAL, VENDOR_CPP_XML_CHUNK } from '../src/codec/constants.js';
import {
  describeErrorCode,
  errorCodeName,
  errorCodeTable,
  errorCodeValue,
  HErrorCode,
} from '../src/codec/error-codes.js';
import {
  decodePacket,
  decodeSearchDatagram,
  encodePacket,
  encodeSearchDatagram,
  type SdkPacket,
} from '../src/codec/packets.js';
import { encodeSdkCall, SdkCallAssembler, SdkChunkError, SdkPacketDecoder } from '../src/codec/sdk-call.js';
import { buildSdkRequest, buildSdkResponse, parseSdkXml } from '../src/codec/xml.js';

describe('packet layouts (vendor byte order: little-endian, len counts the whole packet)', () => {
  it('transport version ask and both answer variants', () => {
    expect(toHex(encodePacket({ type: 'kSDKServiceAsk', version: 0x1000007 }))).toBe('0800012007000001');
    expect(decodePacket(fromHex('0800022005000001'))).toEqual({ type: 'kSDKServiceAnswer', version: 0x1000005 });
    // The C# demo's HVersionAnswer carries a u16 status: 10 bytes.
    expect(decodePacket(fromHex('0a000220050000010000'))).toEqual({
      type: 'kSDKServiceAnswer',
      version: 0x1000005,
      status: 0,
    });
    expect(toHex(encodePacket({ type: 'kSDKServiceAnswer', version: 0x1000005, status: 0 }))).toBe(
      '0a000220050000010000',
    );
  });

  it('heartbeat, error answer, file end', () => {
    expect(toHex(encodePacket({ type: 'kTcpHeartbeatAsk' }))).toBe('04005f00');
    expect(toHex(encodePacket({ type: 'kTcpHeartbeatAnswer' }))).toBe('04006000');
    expect(toHex(encodePacket({ type: 'kErrorAnswer', code: HErrorCode.kVersionTooLow }))).toBe('060000200300');
    expect(toHex(encodePacket({ type: 'kFileEndAsk' }))).toBe('04000580');
    expect(decodePacket(fromHex('060006800e00'))).toEqual({ type: 'kFileEndAnswer', status: 14 });
  });

  it('SDK call chunk: [len][0x2003][total][index][xml]', () => {
    const p = encodePacket({ type: 'kSDKCmdAsk', total: 5, index: 2, data: new Uint8Array([0x61, 0x62, 0x63]) });
    expect(toHex(p)).toBe('0f000320050000000200000061626' + '3');
  });

  it('FileStartAsk: md5 33 bytes at 4, u64 size at 37, i16 type at 45, name NUL-terminated at 47', () => {
    const md5 = '0123456789abcdef0123456789abcdef';
    const p = encodePacket({ type: 'kFileStartAsk', md5, size: 0x0102030405, fileType: 1, name: 'a.mp4' });
    expect(p.byteLength).toBe(47 + 6);
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    expect(v.getUint16(0, true)).toBe(53);
    expect(v.getUint16(2, true)).toBe(0x8001);
    expect(new TextDecoder().decode(p.subarray(4, 36))).toBe(md5);
    expect(p[36]).toBe(0);
    expect(v.getBigUint64(37, true)).toBe(0x0102030405n);
    expect(v.getInt16(45, true)).toBe(1);
    expect(new TextDecoder().decode(p.subarray(47, 52))).toBe('a.mp4');
    expect(p[52]).toBe(0);
    expect(decodePacket(p)).toEqual({ type: 'kFileStartAsk', md5, size: 0x0102030405, fileType: 1, name: 'a.mp4' });
  });

  it('FileStartAnswer is 14 bytes, ReadFileAnswer 49', () => {
    expect(toHex(encodePacket({ type: 'kFileStartAnswer', status: 0, existSize: 9216 }))).toBe(
      '0e00028000000024000000000000',
    );
    expect(encodePacket({ type: 'kReadFileAnswer', status: 0, md5: '', size: 0, fileType: 0 }).byteLength).toBe(49);
  });

  it('FileListStartAsk follows HFileListStartAsk', () => {
    const p = encodePacket({ type: 'kFileListStartAsk', fileCount: 2, totalSize: 300, sessionId: 'abc' });
    expect(toHex(p)).toBe('1200fc8002002c010000000000006162630' + '0');
  });

  it('UDP search ask and answer', () => {
    expect(toHex(encodeSearchDatagram({ type: 'kSearchDeviceAsk', version: 0x1000007 }))).toBe('070000010110');
    const answer = encodeSearchDatagram({
      type: 'kSearchDeviceAnswer',
      version: 0x1000007,
      deviceId: 'C16-D00-A1',
      data: new Uint8Array([1, 2]),
    });
    expect(answer.byteLength).toBe(6 + 15 + 2);
    expect(decodeSearchDatagram(answer)).toEqual({
      type: 'kSearchDeviceAnswer',
      version: 0x1000007,
      deviceId: 'C16-D00-A1',
      data: new Uint8Array([1, 2]),
    });
    expect(() => decodeSearchDatagram(fromHex('070000010120'))).toThrow(MalformedError);
  });

  it('rejects bad packets with typed errors', () => {
    expect(() => decodePacket(fromHex('04003412'))).toThrow(/unknown SDK TCP command 0x1234/);
    expect(() => decodePacket(fromHex('0200ff'))).toThrow(WireError);
    expect(() => decodePacket(fromHex('0800012007000001ff'))).toThrow(TrailingBytesError);
    expect(() => decodePacket(fromHex('06000120070000'))).toThrow(WireError);
    // Length field larger than 9 * 1024.
    expect(() => decodePacket(fromHex('01240320'))).toThrow(FrameTooLargeError);
    // Chunk running past total.
    expect(() =>
      decodePacket(fromHex('0f0003200300000000000000616263'.replace(/^0f0003200300/, '0f0003200200'))),
    ).toThrow(MalformedError);
    // File name without terminator.
    const bad = encodePacket({ type: 'kReadFileAsk', name: 'ab' });
    bad[bad.length - 1] = 0x63;
    expect(() => decodePacket(bad)).toThrow(/not NUL-terminated/);
  });
});

describe('HErrorCode tables', () => {
  it('agree on 0..33 and differ from 34 on', () => {
    for (let i = 0; i <= 33; i++) expect(errorCodeName(i, 'hcatnet')).toBe(errorCodeName(i, 'classic'));
    expect(errorCodeValue('kInvalidGUID', 'hcatnet')).toBe(45);
    expect(errorCodeValue('kInvalidGUID', 'classic')).toBe(43);
    expect(errorCodeName(34, 'hcatnet')).toBe('kDownloadingFile');
    expect(errorCodeName(34, 'classic')).toBe('kScreenNodeIsNull');
    expect(errorCodeValue('kDownloadingFile', 'classic')).toBeUndefined();
    expect(HErrorCode.kInvalidXmlIndex).toBe(21);
    expect(HErrorCode.kXmlCmdTooLong).toBe(20);
    expect(describeErrorCode(999)).toBe('code 999');
    expect(errorCodeTable('hcatnet').length).toBe(errorCodeTable('classic').length + 3);
  });
});

describe('XML envelope', () => {
  it('builds and parses the GetIFVersion exchange of the vendor document', () => {
    const req = buildSdkRequest({ guid: '##GUID', method: 'GetIFVersion', body: '<version value="1000000"/>' });
    expect(req).toBe(
      '<?xml version="1.0" encoding="utf-8"?><sdk guid="##GUID"><in method="GetIFVersion"><version value="1000000"/></in></sdk>',
    );
    expect(parseSdkXml(req)).toEqual({
      kind: 'in',
      guid: '##GUID',
      method: 'GetIFVersion',
      body: '<version value="1000000"/>',
    });
    const ans = buildSdkResponse({
      guid: 'a'.repeat(32),
      method: 'GetIFVersion',
      result: 'kSuccess',
      body: '<version value="1000000"/>',
    });
    expect(parseSdkXml(new TextEncoder().encode(ans))).toMatchObject({
      kind: 'out',
      result: 'kSuccess',
      guid: 'a'.repeat(32),
    });
  });

  it('tolerates a UTF-8 BOM and a trailing NUL terminator', () => {
    const doc = new TextEncoder().encode(`\ufeff${buildSdkRequest({ guid: 'g', method: 'M', body: '' })}\0`);
    expect(parseSdkXml(doc)).toMatchObject({ kind: 'in', guid: 'g', method: 'M' });
  });

  it('keeps the body verbatim and does not expand entities', () => {
    const body = '<text>a &amp; b &lt; c</text><x y="1"/>';
    expect(parseSdkXml(buildSdkRequest({ guid: 'g', method: 'M', body })).body).toBe(body);
  });

  it('rejects DOCTYPE, entities, malformed and foreign documents', () => {
    expect(() => parseSdkXml('<!DOCTYPE sdk [<!ENTITY a "aaaa">]><sdk guid="g"><in method="M">&a;</in></sdk>')).toThrow(
      MalformedError,
    );
    expect(() => parseSdkXml('<sdk guid="g"><in method="M"></out></sdk>')).toThrow(/not well-formed/);
    expect(() => parseSdkXml('<root/>')).toThrow(/<sdk>/);
    expect(() => parseSdkXml('<sdk guid="g"><in method="A"/><in method="B"/></sdk>')).toThrow(MalformedError);
    expect(() => parseSdkXml('<sdk><in method="A"/></sdk>')).toThrow(/guid/);
    expect(() => parseSdkXml(new Uint8Array([0x3c, 0xff, 0xfe]))).toThrow(/UTF-8/);
  });
});

describe('SDK call chunking', () => {
  const doc = (n: number) => new Uint8Array(n).fill(0x41);

  it('a 1-byte document is one 13-byte packet', () => {
    const out = encodeSdkCall(doc(1));
    expect(out.byteLength).toBe(13);
    expect(decodePacket(out)).toMatchObject({ total: 1, index: 0 });
  });

  it('exactly one chunk at 9 * 1024 - 12 bytes, two at one byte more', () => {
    expect(encodeSdkCall(doc(MAX_XML_CHUNK)).byteLength).toBe(9 * 1024);
    const two = new SdkPacketDecoder().push(encodeSdkCall(doc(MAX_XML_CHUNK + 1)));
    expect(two.map((p) => (p.type === 'kSDKCmdAsk' ? [p.index, p.data.byteLength] : null))).toEqual([
      [0, MAX_XML_CHUNK],
      [MAX_XML_CHUNK, 1],
    ]);
  });

  it('vendor C++ chunk size 9200 on request; both decode and reassemble', () => {
    for (const chunkSize of [MAX_XML_CHUNK, VENDOR_CPP_XML_CHUNK]) {
      const d = doc(20_000).map((_, i) => i & 0xff);
      const packets = new SdkPacketDecoder().push(encodeSdkCall(d, 'kSDKCmdAsk', { chunkSize }));
      expect(packets[0]!.type === 'kSDKCmdAsk' && packets[0]!.data.byteLength).toBe(chunkSize);
      const asm = new SdkCallAssembler();
      let whole: Uint8Array | undefined;
      for (const p of packets) if (p.type === 'kSDKCmdAsk') whole = asm.push(p);
      expect(whole).toEqual(d);
    }
  });

  it('2 MiB is the largest document', () => {
    expect(encodeSdkCall(doc(MAX_XML_TOTAL)).byteLength).toBe(
      MAX_XML_TOTAL + Math.ceil(MAX_XML_TOTAL / MAX_XML_CHUNK) * 12,
    );
    expect(() => encodeSdkCall(doc(MAX_XML_TOTAL + 1))).toThrow(FrameTooLargeError);
  });

  it('assembler: bad index -> kInvalidXmlIndex, too long -> kXmlCmdTooLong', () => {
    const asm = new SdkCallAssembler();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(SdkChunkError.isInstance(e)).toBe(true);
        return (e as SdkChunkError).code;
      }
      return 'no error';
    };
    expect(code(() => asm.push({ total: 10, index: 3, data: doc(2) }))).toBe(HErrorCode.kInvalidXmlIndex);
    expect(asm.push({ total: 10, index: 0, data: doc(4) })).toBeUndefined();
    expect(code(() => asm.push({ total: 10, index: 5, data: doc(2) }))).toBe(HErrorCode.kInvalidXmlIndex);
    expect(asm.busy).toBe(false);
    asm.push({ total: 10, index: 0, data: doc(4) });
    expect(code(() => asm.push({ total: 11, index: 4, data: doc(2) }))).toBe(HErrorCode.kInvalidXmlIndex);
    expect(code(() => asm.push({ total: MAX_XML_TOTAL + 1, index: 0, data: doc(2) }))).toBe(HErrorCode.kXmlCmdTooLong);
    asm.push({ total: 6, index: 0, data: doc(4) });
    expect(code(() => asm.push({ total: 6, index: 4, data: doc(3) }))).toBe(HErrorCode.kXmlCmdTooLong);
  });
});

describe('stream decoder', () => {
  it('checks the header before buffering a body', () => {
    const d = new SdkPacketDecoder();
    expect(() => d.push(fromHex('0124'))).not.toThrow();
    expect(() => d.push(fromHex('0320'))).toThrow(FrameTooLargeError);
    const e = new SdkPacketDecoder();
    expect(() => e.push(fromHex('10009999'))).toThrow(/unknown SDK TCP command/);
  });

  it('decodes packets split byte by byte', () => {
    const packets: SdkPacket[] = [
      { type: 'kTcpHeartbeatAsk' },
      { type: 'kSDKServiceAsk', version: 7 },
      { type: 'kFileContentAsk', data: new Uint8Array([1, 2, 3]) },
    ];
    const bytes = new Uint8Array(packets.reduce((n, p) => n + encodePacket(p).byteLength, 0));
    let o = 0;
    for (const p of packets) {
      const b = encodePacket(p);
      bytes.set(b, o);
      o += b.byteLength;
    }
    const d = new SdkPacketDecoder();
    const out: SdkPacket[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
    expect(out).toEqual(packets);
    d.end();
  });
});
