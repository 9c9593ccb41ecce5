import { createServer, type Server } from 'node:net';
import { MalformedError, WireError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_XML_CHUNK, MAX_XML_TOTAL } from '../src/codec/constants.js';
import { HErrorCode } from '../src/codec/error-codes.js';
import {
  SdkErrorAnswerError,
  SdkResultError,
  VersionNegotiationError,
  VersionTooLowError,
} from '../src/codec/errors.js';
import { encodePacket } from '../src/codec/packets.js';
import { buildSdkRequest } from '../src/codec/xml.js';
import { SdkClient } from '../src/transport/client.js';
import { RawHost, type Rig, startRig } from './helpers.js';

let rig: Rig | undefined;
const raws: RawHost[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await rig?.close();
  rig = undefined;
});

async function raw(): Promise<RawHost> {
  const r = await RawHost.connect(rig!.device.port);
  raws.push(r);
  return r;
}

/** A fake device that answers the version ask with fixed bytes. */
async function fakeDevice(answer: Uint8Array): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.write(answer));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

describe('transport version negotiation (device rule)', () => {
  it('in the supported range: the device echoes the version', async () => {
    rig = await startRig({ minVersion: 0x1000005, maxVersion: 0x1000009 });
    const c = await rig.connect({ version: 0x1000007 });
    expect(c.version).toBe(0x1000007);
    const r = await raw();
    r.send({ type: 'kSDKServiceAsk', version: 0x1000005 });
    expect(await r.next()).toEqual({ type: 'kSDKServiceAnswer', version: 0x1000005 });
  });

  it('above the maximum: the device answers its maximum and the host adopts it', async () => {
    rig = await startRig({ minVersion: 0x1000005, maxVersion: 0x1000007 });
    const c = await rig.connect({ version: 0x1000009 });
    expect(c.version).toBe(0x1000007);
    expect(c.guid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('below the minimum: kVersionTooLow, the host disconnects with a typed error', async () => {
    rig = await startRig({ minVersion: 0x1000007 });
    const r = await raw();
    r.send({ type: 'kSDKServiceAsk', version: 0x1000005 });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kVersionTooLow });
    const err = await rig.connect({ version: 0x1000005 }).catch((e: unknown) => e);
    expect(VersionTooLowError.isInstance(err)).toBe(true);
    expect((err as VersionTooLowError).code).toBe(3);
  });

  it('the 10-byte answer variant is accepted (device option encodes it)', async () => {
    rig = await startRig({ versionAnswerWithStatus: true });
    const r = await raw();
    r.send({ type: 'kSDKServiceAsk', version: 0x1000009 });
    expect(await r.next()).toEqual({ type: 'kSDKServiceAnswer', version: 0x1000009, status: 0 });
    const c = await rig.connect();
    expect(c.version).toBe(0x1000009);
  });

  it('host: an answer higher than offered fails and closes', async () => {
    const port = await fakeDevice(encodePacket({ type: 'kSDKServiceAnswer', version: 0x2000000 }));
    const err = await SdkClient.connect('127.0.0.1', { port, timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(VersionNegotiationError.isInstance(err)).toBe(true);
  });

  it('host: garbage from the device is a typed error and a closed connection', async () => {
    const port = await fakeDevice(new Uint8Array([0x10, 0x00, 0x99, 0x99, 1, 2, 3]));
    const err = await SdkClient.connect('127.0.0.1', { port, timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(MalformedError.isInstance(err)).toBe(true);
  });
});

describe('GetIFVersion and the guid', () => {
  it('issues a different 32-hex guid per connection and rejects a wrong one with kInvalidGUID', async () => {
    rig = await startRig();
    const a = await rig.connect();
    const b = await rig.connect();
    expect(a.guid).toMatch(/^[0-9a-f]{32}$/);
    expect(b.guid).not.toBe(a.guid);
    // a's guid on b's connection:
    const err = await b
      .callRaw(buildSdkRequest({ guid: a.guid, method: 'GetDeviceInfo', body: '' }))
      .catch((e: unknown) => e);
    expect(SdkResultError.isInstance(err)).toBe(true);
    expect((err as SdkResultError).result).toBe('kInvalidGUID');
    // A call before GetIFVersion has no guid to match either.
    const r = await raw();
    r.send({ type: 'kSDKServiceAsk', version: 0x1000009 });
    await r.next();
    const env = await r.call(buildSdkRequest({ guid: '##GUID', method: 'GetDeviceInfo', body: '' }));
    expect(env).toMatchObject({ kind: 'out', result: 'kInvalidGUID' });
    // With its own guid it works.
    expect((await b.call('GetDeviceInfo')).result).toBe('kSuccess');
  });
});

describe('SDK calls', () => {
  it('built-ins, user handlers, unknown methods, error results', async () => {
    rig = await startRig({ handlers: { Echo: ({ body }) => body, Refuse: () => ({ result: 'kPermissionDenied' }) } });
    const c = await rig.connect();
    expect((await c.call('GetDeviceInfo')).body).toContain('<device id=');
    // call(xml): a whole document, sent verbatim.
    const whole = await c.call(buildSdkRequest({ guid: c.guid, method: 'Echo', body: '<z/>' }), { timeoutMs: 2000 });
    expect(whole).toMatchObject({ method: 'Echo', result: 'kSuccess', body: '<z/>' });
    expect((await c.call('Echo', '<a x="1">t &amp; u</a>')).body).toBe('<a x="1">t &amp; u</a>');
    await c.call('SetTimeInfo', '<time value="2026-01-02 03:04:05"/>');
    expect((await c.call('GetTimeInfo')).body).toContain('2026-01-02 03:04:05');
    const unknown = await c.call('NoSuchMethod').catch((e: unknown) => e);
    expect((unknown as SdkResultError).result).toBe('kInvalidMethod');
    const refused = await c.call('Refuse').catch((e: unknown) => e);
    expect((refused as SdkResultError).result).toBe('kPermissionDenied');
    // Still usable.
    expect((await c.call('Echo', '<b/>')).body).toBe('<b/>');
  });

  it('a whole document of exactly one chunk is one packet; one byte more is two', async () => {
    rig = await startRig({ handlers: { Echo: ({ body }) => body } });
    const c = await rig.connect();
    const envelope = buildSdkRequest({ guid: c.guid, method: 'Echo', body: '<p></p>' }).length;
    const oneChunkBody = `<p>${'x'.repeat(MAX_XML_CHUNK - envelope)}</p>`;
    expect(buildSdkRequest({ guid: c.guid, method: 'Echo', body: oneChunkBody }).length).toBe(MAX_XML_CHUNK);
    let before = rig.device.stats.sdkCmdPackets;
    expect((await c.call('Echo', oneChunkBody)).body).toBe(oneChunkBody);
    expect(rig.device.stats.sdkCmdPackets - before).toBe(1);
    before = rig.device.stats.sdkCmdPackets;
    const twoChunkBody = `<p>${'x'.repeat(MAX_XML_CHUNK - envelope + 1)}</p>`;
    expect((await c.call('Echo', twoChunkBody)).body).toBe(twoChunkBody);
    expect(rig.device.stats.sdkCmdPackets - before).toBe(2);
  });

  it('a 2 MiB call in both directions, with either chunk size', async () => {
    rig = await startRig({
      handlers: { Size: ({ body }) => `<n v="${body.length}"/>`, Echo: ({ body }) => body },
      chunkSize: 9200,
    });
    for (const chunkSize of [MAX_XML_CHUNK, 9200]) {
      const c = await rig.connect({ chunkSize });
      const sizeEnvelope = buildSdkRequest({ guid: c.guid, method: 'Size', body: '<p></p>' }).length;
      const big = `<p>${'y'.repeat(MAX_XML_TOTAL - sizeEnvelope)}</p>`;
      expect(buildSdkRequest({ guid: c.guid, method: 'Size', body: big }).length).toBe(MAX_XML_TOTAL);
      const before = rig.device.stats.sdkCmdPackets;
      expect((await c.call('Size', big)).body).toBe(`<n v="${big.length}"/>`);
      expect(rig.device.stats.sdkCmdPackets - before).toBe(Math.ceil(MAX_XML_TOTAL / chunkSize));
      // A 2 MiB answer back (the device splits at 9200 like the vendor C++).
      const back = `<q>${'z'.repeat(MAX_XML_TOTAL - 200)}</q>`;
      expect((await c.call('Echo', back)).body.length).toBe(back.length);
      // One byte more than 2 MiB is refused before sending.
      await expect(c.call('Size', `${big}x`)).rejects.toThrow(/exceeds/);
      c.destroy();
    }
  });

  it('a 1-byte call is not XML: kErrorAnswer kParseXmlFailed, then the device wants a new negotiation', async () => {
    rig = await startRig();
    const r = await raw();
    await r.handshake();
    r.send({ type: 'kSDKCmdAsk', total: 1, index: 0, data: new Uint8Array([0x3c]) });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kParseXmlFailed });
    r.send({ type: 'kSDKCmdAsk', total: 1, index: 0, data: new Uint8Array([0x3c]) });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kProcessError });
  });

  it('chunk index errors: kInvalidXmlIndex and kXmlCmdTooLong', async () => {
    rig = await startRig();
    const r = await raw();
    await r.handshake();
    r.send({ type: 'kSDKCmdAsk', total: 100, index: 10, data: new Uint8Array(5) });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kInvalidXmlIndex });
    await r.handshake();
    r.send({ type: 'kSDKCmdAsk', total: 100, index: 0, data: new Uint8Array(50) });
    r.send({ type: 'kSDKCmdAsk', total: 100, index: 60, data: new Uint8Array(40) });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kInvalidXmlIndex });
    await r.handshake();
    r.send({ type: 'kSDKCmdAsk', total: MAX_XML_TOTAL + 1, index: 0, data: new Uint8Array(50) });
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kXmlCmdTooLong });
    expect(rig.device.stats.errorAnswers).toBe(3);
  });

  it('host: an error answer rejects with its code; the next call renegotiates by itself', async () => {
    rig = await startRig();
    const c = await rig.connect();
    const firstGuid = c.guid;
    const err = await c.callRaw('<sdk guid="x"><in method="A"></sdk>').catch((e: unknown) => e);
    expect(SdkErrorAnswerError.isInstance(err)).toBe(true);
    expect((err as SdkErrorAnswerError).code).toBe(HErrorCode.kParseXmlFailed);
    expect((err as SdkErrorAnswerError).codeName).toBe('kParseXmlFailed');
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
    expect(c.guid).not.toBe(firstGuid);
  });

  it('one call at a time: concurrent calls are queued and all answered', async () => {
    rig = await startRig({ handlers: { Echo: ({ body }) => body } });
    const c = await rig.connect();
    const bodies = Array.from({ length: 20 }, (_, i) => `<i v="${i}">${'p'.repeat(i * 1000)}</i>`);
    const answers = await Promise.all(bodies.map((b) => c.call('Echo', b)));
    expect(answers.map((a) => a.body)).toEqual(bodies);
  });

  it('random bytes from a host: the device closes that connection and keeps serving', async () => {
    rig = await startRig();
    const r = await raw();
    r.send(new Uint8Array([0x08, 0x00, 0x77, 0x77, 1, 2, 3, 4]));
    await r.waitClosed();
    expect(rig.device.stats.badPackets).toBeGreaterThan(0);
    const c = await rig.connect();
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });

  it('calls honour signal and timeout', async () => {
    rig = await startRig({ handlers: { Slow: () => new Promise((r) => setTimeout(() => r(''), 500)) } });
    const c = await rig.connect();
    const err = await c.call('Slow', '', { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(WireError.isInstance(err) && err.name).toBe('TimeoutError');
    const ac = new AbortController();
    const p = c.call('Slow', '', { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toThrow();
    // The late answers are not mistaken for later calls: the client renegotiates first.
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });
});

describe('connection limit', () => {
  it('closes connections beyond maxConnections', async () => {
    rig = await startRig({ maxConnections: 1 });
    const c = await rig.connect();
    const r = await raw();
    await r.waitClosed();
    expect(rig.device.stats.refusedConnections).toBe(1);
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });
});

describe('device options', () => {
  it('rejects a device id longer than 15 bytes at start', async () => {
    const { SdkDevice } = await import('../src/device/device.js');
    await expect(SdkDevice.start({ address: '127.0.0.1', port: 0, deviceId: 'x'.repeat(16) })).rejects.toThrow(
      /deviceId/,
    );
  });
});

describe('UDP search', () => {
  it('finds the device on 127.0.0.1 and counts bad datagrams', async () => {
    rig = await startRig({ deviceId: 'SIM-0001' });
    const found = await SdkClient.search({ address: '127.0.0.1', port: rig.device.udpPort, waitMs: 300 });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ address: '127.0.0.1', deviceId: 'SIM-0001', version: 0x1000007 });
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(new Uint8Array([1, 2, 3]), rig!.device.udpPort, '127.0.0.1', () => r()));
    s.close();
    const { until } = await import('./helpers.js');
    await until(() => rig!.device.stats.badDatagrams === 1);
  });
});
