import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, TimeoutError, ValueOutOfRangeError } from '@cam/net-utils';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BootstrapRegister,
  ClientClosedError,
  ControlLostError,
  discover,
  encodeCommand,
  fetchGenicamXml,
  forceIp,
  GvcpCapability,
  GvcpClient,
  type GvcpCommand,
  GvcpStatus,
  GvcpStatusError,
  heartbeatPeriodFor,
  openMessageChannel,
  sendAction,
} from '../src/index.js';
import { FakePeer, memoryHandler, storeBytes } from './fake-peer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  handler: Parameters<typeof FakePeer.start>[0],
  options: Parameters<typeof GvcpClient.connect>[1] = {},
) {
  const peer = await FakePeer.start(handler);
  cleanups.push(() => peer.close());
  const client = await GvcpClient.connect('127.0.0.1', { port: peer.port, tryTimeoutMs: 200, ...options });
  cleanups.push(() => client.close());
  return { peer, client };
}

describe('GvcpClient requests', () => {
  it('reads and writes registers; req ids start at 1, grow, never 0, and wrap to 1', async () => {
    const memory = new Map<number, number>();
    const { peer, client } = await setup(memoryHandler(memory), { firstReqId: 0xfffe });
    await client.writeRegister(0x1000, 0xdeadbeef);
    expect(await client.readRegister(0x1000)).toBe(0xdeadbeef);
    expect(await client.readRegister(0x1004)).toBe(0);
    const ids = peer.received.map((c) => c.reqId);
    // 0x0934 capability read is skipped for single registers.
    expect(ids).toEqual([0xfffe, 0xffff, 1]);
    expect(peer.received.every((c) => c.ackRequired)).toBe(true);
  });

  it('retransmits the same req_id after a drop and counts it', async () => {
    const memory = new Map<number, number>([[0x2000, 42]]);
    const serve = memoryHandler(memory);
    const { peer, client } = await setup((cmd, ctx) => {
      if (ctx.seen <= 2) return; // drop the first two tries
      serve(cmd, ctx);
    });
    expect(await client.readRegister(0x2000)).toBe(42);
    expect(peer.received.map((c) => c.reqId)).toEqual([1, 1, 1]);
    expect(client.stats.retransmissions).toBe(2);
  });

  it('gives up with TimeoutError after retries + 1 tries', async () => {
    const { peer, client } = await setup(() => {}, { retries: 2, tryTimeoutMs: 30 });
    await expect(client.readRegister(0x2000)).rejects.toSatisfy((e) => TimeoutError.isInstance(e));
    expect(peer.received).toHaveLength(3);
    expect(client.stats.timeouts).toBe(1);
  });

  it('waits as long as PENDING_ACK announces, without retransmitting', async () => {
    const { peer, client } = await setup(
      (cmd, ctx) => {
        ctx.reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 150 });
        ctx.reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 150 }, 120);
        ctx.reply({ type: 'writereg', ackId: cmd.reqId, status: 0, index: 1 }, 240);
      },
      { tryTimeoutMs: 50, retries: 0 },
    );
    await client.writeRegister(0x3000, 1);
    expect(peer.received).toHaveLength(1);
    expect(client.stats.pendingAcks).toBe(2);
  });

  it('ignores acks with the wrong id and malformed datagrams', async () => {
    const { client } = await setup((cmd, ctx) => {
      if (cmd.type !== 'readreg') return;
      ctx.reply({ type: 'readreg', ackId: (cmd.reqId + 7) & 0xffff, status: 0, values: [666] });
      ctx.raw(Uint8Array.of(1, 2, 3));
      ctx.reply({ type: 'readreg', ackId: cmd.reqId, status: 0, values: [7] }, 5);
    });
    expect(await client.readRegister(0x10)).toBe(7);
    expect(client.stats.staleAcks).toBe(1);
    expect(client.stats.malformed).toBe(1);
  });

  it('turns a non-success status into GvcpStatusError with code and name', async () => {
    const { client } = await setup((cmd, ctx) => {
      if (cmd.type === 'writereg')
        ctx.reply({ type: 'writereg', ackId: cmd.reqId, status: GvcpStatus.WRITE_PROTECT, index: 0 });
      else
        ctx.reply({
          type: 'error',
          ackCode: 0x81,
          ackId: cmd.reqId,
          status: GvcpStatus.INVALID_ADDRESS,
          payload: new Uint8Array(0),
        });
    });
    const e1 = await client.writeRegister(0x4, 1).catch((e: unknown) => e);
    expect(GvcpStatusError.isInstance(e1)).toBe(true);
    expect(e1).toMatchObject({ code: 0x8004, statusName: 'WRITE_PROTECT', command: 'writereg', index: 0, address: 4 });
    const e2 = await client.readRegister(0xfff0).catch((e: unknown) => e);
    expect(e2).toMatchObject({ name: 'GvcpStatusError', code: 0x8003, statusName: 'INVALID_ADDRESS' });
    expect((e2 as Error).message).toMatch(/INVALID_ADDRESS \(0x8003\)/);
  });

  it('puts many registers in one packet only when the capability allows it', async () => {
    const memory = new Map<number, number>();
    for (let i = 0; i < 300; i++) memory.set(0x10000 + 4 * i, i * 3);
    const addresses = Array.from({ length: 300 }, (_, i) => 0x10000 + 4 * i);
    const snapshot = new Map(memory);
    const multi = await setup(memoryHandler(memory, GvcpCapability.CONCATENATION));
    expect(await multi.client.readRegisters(addresses)).toEqual(addresses.map((_, i) => i * 3));
    const reads = multi.peer.received.filter((c) => c.type === 'readreg');
    // capability read + ceil(300 / 135) packets
    expect(reads.map((c) => (c.type === 'readreg' ? c.addresses.length : 0))).toEqual([1, 135, 135, 30]);
    await multi.client.writeRegisters(addresses.slice(0, 100).map((address) => ({ address, value: 1 })));
    expect(
      multi.peer.received
        .filter((c) => c.type === 'writereg')
        .map((c) => (c.type === 'writereg' ? c.writes.length : 0)),
    ).toEqual([67, 33]);

    const single = await setup(memoryHandler(snapshot, 0));
    expect(await single.client.readRegisters(addresses.slice(0, 5))).toEqual([0, 3, 6, 9, 12]);
    expect(single.peer.received.filter((c) => c.type === 'readreg')).toHaveLength(1 + 5);
  });

  it('reads and writes memory of any length in legal chunks', async () => {
    const memory = new Map<number, number>();
    const bytes = Uint8Array.from({ length: 1300 }, (_, i) => (i * 7 + 1) & 0xff);
    storeBytes(memory, 0x20000, bytes);
    const { peer, client } = await setup(memoryHandler(memory));
    expect(await client.readMemory(0x20000, 1300)).toEqual(bytes);
    expect(await client.readMemory(0x20003, 9)).toEqual(bytes.subarray(3, 12));
    const counts = peer.received.map((c) => (c.type === 'readmem' ? c.count : -1));
    expect(counts).toEqual([512, 512, 276, 12]);
    expect(peer.received.every((c) => c.type !== 'readmem' || (c.address % 4 === 0 && c.count % 4 === 0))).toBe(true);
    const data = Uint8Array.from({ length: 1100 }, (_, i) => i & 0xff);
    await client.writeMemory(0x30000, data);
    expect(await client.readMemory(0x30000, 1100)).toEqual(data);
    expect(
      peer.received.filter((c) => c.type === 'writemem').map((c) => (c.type === 'writemem' ? c.data.byteLength : 0)),
    ).toEqual([512, 512, 76]);
    await expect(client.writeMemory(0x30001, data)).rejects.toThrow(ValueOutOfRangeError);
    await expect(client.writeMemory(0x30000, data.subarray(0, 3))).rejects.toThrow(/multiple of 4/);
  });

  it('keeps one command outstanding at a time, in call order', async () => {
    const memory = new Map<number, number>();
    let outstanding = 0;
    let maxOutstanding = 0;
    const serve = memoryHandler(memory);
    const { peer, client } = await setup((cmd, ctx) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding--;
        serve(cmd, ctx);
      }, 3);
    });
    const writes = Array.from({ length: 20 }, (_, i) => client.writeRegister(0x100 + 4 * i, i));
    await Promise.all(writes);
    expect(maxOutstanding).toBe(1);
    expect(peer.received.map((c) => (c.type === 'writereg' ? c.writes[0]?.value : -1))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('honours AbortSignal and timeoutMs on a call', async () => {
    // A try lasts 10 s: a call that ended well before that honoured its own timeoutMs (the margin is wide so that
    // a loaded machine cannot make the check fail).
    const { client } = await setup(() => {}, { tryTimeoutMs: 10_000 });
    const ac = new AbortController();
    const p = client.readRegister(0, { signal: ac.signal });
    setTimeout(() => ac.abort(new AbortError('stop')), 20);
    await expect(p).rejects.toThrow('stop');
    const t0 = Date.now();
    await expect(client.readRegister(0, { timeoutMs: 50 })).rejects.toSatisfy((e) => TimeoutError.isInstance(e));
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(client.readRegister(0, { signal: AbortSignal.abort() })).rejects.toBeDefined();
  });

  it('close() fails a command still waiting for its ack, and the ones queued behind it', async () => {
    // A try lasts 10 s: commands failed well before that were failed by close() (wide margin for loaded machines).
    const { client } = await setup(() => {}, { tryTimeoutMs: 10_000, retries: 3 });
    const first = client.readRegister(0);
    const second = client.readRegister(4);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await client.close();
    await expect(first).rejects.toSatisfy((e) => ClientClosedError.isInstance(e));
    await expect(second).rejects.toSatisfy((e) => ClientClosedError.isInstance(e));
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('rejects calls after close', async () => {
    const { client } = await setup(memoryHandler(new Map()));
    await client.close();
    await expect(client.readRegister(0)).rejects.toSatisfy((e) => ClientClosedError.isInstance(e));
    await client.close();
  });

  it('reads device information through READMEM', async () => {
    const memory = new Map<number, number>();
    const info = new Uint8Array(248);
    info.set(new TextEncoder().encode('Acme'), 0x48);
    info.set(new TextEncoder().encode('SN123'), 0xd8);
    info.set([10, 0, 0, 9], 0x24);
    storeBytes(memory, 0, info);
    const { client } = await setup(memoryHandler(memory));
    expect(await client.deviceInfo()).toMatchObject({
      manufacturerName: 'Acme',
      serialNumber: 'SN123',
      ip: '10.0.0.9',
    });
  });
});

describe('GvcpClient control privilege', () => {
  it('derives the heartbeat period from the heartbeat timeout', () => {
    expect(heartbeatPeriodFor(3000)).toBe(1000);
    expect(heartbeatPeriodFor(600)).toBe(200);
    expect(heartbeatPeriodFor(30)).toBe(100);
    expect(heartbeatPeriodFor(0)).toBe(1000);
  });

  it('takes control, sends heartbeats, releases on close', async () => {
    const memory = new Map<number, number>([[BootstrapRegister.HEARTBEAT_TIMEOUT, 300]]);
    const { peer, client } = await setup(memoryHandler(memory));
    await client.takeControl({ mode: 'exclusive' });
    expect(memory.get(BootstrapRegister.CCP)).toBe(1);
    const ccpReadsNow = () =>
      peer.received.filter((c) => c.type === 'readreg' && c.addresses[0] === BootstrapRegister.CCP);
    // Heartbeats every 100 ms; a loaded machine may stretch that, so wait (bounded) for the second one.
    for (let i = 0; i < 200 && (ccpReadsNow().length < 2 || client.stats.heartbeats < 2); i++)
      await new Promise((r) => setTimeout(r, 50));
    const ccpReads = ccpReadsNow();
    expect(ccpReads.length).toBeGreaterThanOrEqual(2);
    expect(client.stats.heartbeats).toBeGreaterThanOrEqual(2);
    await client.close();
    expect(memory.get(BootstrapRegister.CCP)).toBe(0);
  });

  it('switchover presents the key in the CCP high bits; allowSwitchover sets bit 2 and the key register', async () => {
    const memory = new Map<number, number>();
    const { client } = await setup(memoryHandler(memory));
    await client.takeControl({ mode: 'switchover', switchoverKey: 0xbeef, heartbeatMs: 10_000 });
    expect(memory.get(BootstrapRegister.CCP)).toBe(((0xbeef << 16) | 2) >>> 0);
    await client.takeControl({ mode: 'control', allowSwitchover: true, switchoverKey: 0x1234, heartbeatMs: 10_000 });
    expect(memory.get(BootstrapRegister.CCP)).toBe(0x6);
    expect(memory.get(BootstrapRegister.CONTROL_SWITCHOVER_KEY)).toBe(0x1234);
    await client.releaseControl();
    expect(memory.get(BootstrapRegister.CCP)).toBe(0);
  });

  it('reports lost control with an event and a typed rejection of the next call', async () => {
    const memory = new Map<number, number>([[BootstrapRegister.HEARTBEAT_TIMEOUT, 300]]);
    const { client } = await setup(memoryHandler(memory));
    await client.takeControl();
    const lost = new Promise<ControlLostError>((resolve) => client.once('control-lost', resolve));
    memory.set(BootstrapRegister.CCP, 0); // another application took over / the device dropped us
    const e = await lost;
    expect(e.name).toBe('ControlLostError');
    await expect(client.readRegister(0)).rejects.toSatisfy((x) => ControlLostError.isInstance(x));
    expect(await client.readRegister(0)).toBe(0); // reported once
    expect(client.controlPrivilege).toBeUndefined();
  });

  it('treats a heartbeat that gets no answer as lost control', async () => {
    const memory = new Map<number, number>([[BootstrapRegister.HEARTBEAT_TIMEOUT, 300]]);
    const serve = memoryHandler(memory);
    let mute = false;
    const { client } = await setup(
      (cmd, ctx) => {
        if (!mute) serve(cmd, ctx);
      },
      { tryTimeoutMs: 30, retries: 1 },
    );
    await client.takeControl();
    mute = true;
    const e = await new Promise<ControlLostError>((resolve) => client.once('control-lost', resolve));
    expect(e.message).toMatch(/heartbeat failed/);
  });
});

describe('discovery, FORCEIP, ACTION, message channel, GenICam', () => {
  const identity = (reqId: number) =>
    ({
      type: 'discovery',
      ackId: reqId,
      status: 0,
      device: {
        specVersionMajor: 2,
        specVersionMinor: 0,
        deviceMode: 0x80000001,
        mac: '02:00:00:aa:bb:cc',
        ipConfigSupported: 7,
        ipConfigCurrent: 6,
        ip: '127.0.0.1',
        subnetMask: '255.0.0.0',
        defaultGateway: '0.0.0.0',
        manufacturerName: 'Scripted',
        modelName: 'Peer',
        deviceVersion: '1',
        manufacturerInfo: '',
        serialNumber: 'S1',
        userDefinedName: 'cam',
      },
    }) as const;

  it('discovers one device by unicast, with the interface it answered on', async () => {
    const peer = await FakePeer.start((cmd, ctx) => {
      if (cmd.type === 'discovery' && ctx.seen === 2) ctx.reply(identity(cmd.reqId)); // first try dropped
    });
    cleanups.push(() => peer.close());
    const found = await discover({ address: '127.0.0.1', port: peer.port, timeoutMs: 600 });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      manufacturerName: 'Scripted',
      serialNumber: 'S1',
      address: '127.0.0.1',
      port: peer.port,
      interfaceAddress: '127.0.0.1',
    });
    expect(peer.received[0]).toMatchObject({ type: 'discovery', allowBroadcastAck: false });
    const none = await FakePeer.start(() => {});
    cleanups.push(() => none.close());
    expect(await discover({ address: '127.0.0.1', port: none.port, timeoutMs: 90 })).toEqual([]);
  });

  it('validates discovery and FORCEIP arguments before sending anything', async () => {
    await expect(discover({ interface: '203.0.113.77' })).rejects.toSatisfy((e) => ValueOutOfRangeError.isInstance(e));
    await expect(discover({ address: 'camera.local' })).rejects.toThrow(/not an IPv4 address/);
    await expect(discover({ address: '127.0.0.1', timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
    await expect(
      forceIp({ mac: '02:00:00:aa:bb:cc', ip: '10.0.0.300', mask: '255.0.0.0', address: '127.0.0.1' }),
    ).rejects.toThrow(/ip/);
    await expect(discover({ address: '127.0.0.1', signal: AbortSignal.abort() })).rejects.toBeDefined();
  });

  it('sends FORCEIP and reports the ack', async () => {
    const peer = await FakePeer.start((cmd, ctx) => {
      if (cmd.type === 'forceip') ctx.reply({ type: 'forceip', ackId: cmd.reqId, status: 0 });
    });
    cleanups.push(() => peer.close());
    const r = await forceIp({
      mac: '02:00:00:aa:bb:cc',
      ip: '10.1.2.3',
      mask: '255.255.0.0',
      gateway: '10.1.0.1',
      address: '127.0.0.1',
      port: peer.port,
    });
    expect(r).toEqual({ acknowledged: true, status: 0, from: '127.0.0.1' });
    expect(peer.received[0]).toMatchObject({
      type: 'forceip',
      allowBroadcastAck: true,
      mac: '02:00:00:aa:bb:cc',
      ip: '10.1.2.3',
      mask: '255.255.0.0',
      gateway: '10.1.0.1',
    });
  });

  it('sends ACTION (immediate and scheduled) and collects acks', async () => {
    const peer = await FakePeer.start((cmd, ctx) => {
      if (cmd.type === 'action' && cmd.deviceKey === 0x1234 && (cmd.groupMask & 1) !== 0)
        ctx.reply({ type: 'action', ackId: cmd.reqId, status: 0 });
    });
    cleanups.push(() => peer.close());
    const acks = await sendAction({
      deviceKey: 0x1234,
      groupKey: 1,
      groupMask: 1,
      address: '127.0.0.1',
      port: peer.port,
    });
    expect(acks).toEqual([{ address: '127.0.0.1', port: peer.port, status: 0 }]);
    const late = await sendAction({
      deviceKey: 0x1234,
      groupKey: 1,
      groupMask: 3,
      actionTime: 123456789n,
      address: '127.0.0.1',
      port: peer.port,
      timeoutMs: 200,
    });
    expect(late).toHaveLength(1);
    expect(peer.received[1]).toMatchObject({ type: 'action', actionTime: 123456789n });
    expect(
      await sendAction({
        deviceKey: 9,
        groupKey: 1,
        groupMask: 1,
        address: '127.0.0.1',
        port: peer.port,
        timeoutMs: 60,
      }),
    ).toEqual([]);
  });

  it('receives events on the message channel, acknowledging each and dropping retransmissions', async () => {
    const memory = new Map<number, number>();
    const { peer, client } = await setup(memoryHandler(memory));
    const channel = await openMessageChannel(client, { transmissionTimeoutMs: 100, retryCount: 2 });
    cleanups.push(() => channel.close());
    expect(memory.get(BootstrapRegister.MCDA)).toBe(0x7f000001);
    expect(memory.get(BootstrapRegister.MCP)).toBe(channel.local.port);
    expect(memory.get(BootstrapRegister.MCTT)).toBe(100);
    const acks: number[] = [];
    peer.socket.on('message', (msg) => {
      if (msg[0] !== 0x42 && msg.readUInt16BE(2) === 0x00c1) acks.push(msg.readUInt16BE(6));
      if (msg[0] !== 0x42 && msg.readUInt16BE(2) === 0x00c3) acks.push(msg.readUInt16BE(6));
    });
    const ev = { eventId: 0x9001, streamChannel: 0, blockId: 5n, timestamp: 99n };
    const e1 = encodeCommand({ type: 'event', reqId: 10, ackRequired: true, extendedId: false, events: [ev] });
    const e2 = encodeCommand({
      type: 'eventdata',
      reqId: 11,
      ackRequired: true,
      extendedId: true,
      event: { ...ev, blockId: 1n << 40n },
      data: Uint8Array.of(1, 2, 3, 4),
    });
    peer.sendTo(e1, channel.local.port);
    peer.sendTo(e1, channel.local.port); // retransmission
    peer.sendTo(e2, channel.local.port);
    const got: GvcpCommand[] = [];
    for await (const e of channel) {
      got.push(e);
      if (got.length === 2) break;
    }
    expect(got[0]).toMatchObject({ type: 'event', reqId: 10, events: [ev] });
    expect(got[1]).toMatchObject({ type: 'eventdata', reqId: 11, data: Uint8Array.of(1, 2, 3, 4) });
    // The acks are on their way back over loopback: wait for them (bounded).
    for (let i = 0; i < 200 && acks.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(acks.sort()).toEqual([10, 10, 11]);
    expect(channel.stats.duplicates).toBe(1);
    expect(await channel.next({ timeoutMs: 20 })).toBeUndefined(); // nothing more queued
    await channel.close();
    expect(memory.get(BootstrapRegister.MCP)).toBe(0);
    expect(await channel.next()).toBeUndefined();
  });

  it('downloads a zipped GenICam XML, falling back to the second URL register', async () => {
    const memory = new Map<number, number>();
    const xml = `<?xml version="1.0"?>\n<RegisterDescription ModelName="Peer">${'x'.repeat(3000)}</RegisterDescription>\n`;
    const zip = zipSync({ 'peer.xml': new TextEncoder().encode(xml) });
    storeBytes(memory, BootstrapRegister.FIRST_URL, new TextEncoder().encode('Local:broken;zz;10'));
    storeBytes(
      memory,
      BootstrapRegister.SECOND_URL,
      new TextEncoder().encode(`Local:peer.zip;0x40000;${zip.byteLength.toString(16)}?SchemaVersion=1.1.0`),
    );
    storeBytes(memory, 0x40000, zip);
    const { client } = await setup(memoryHandler(memory));
    const file = await fetchGenicamXml(client);
    expect(file).toMatchObject({ urlRegister: 0x400, zipped: true, schemaVersion: '1.1.0', xml });
    storeBytes(memory, BootstrapRegister.SECOND_URL, new Uint8Array(4));
    await expect(fetchGenicamXml(client)).rejects.toThrow(/no GenICam XML found/);
  });

  it('follows File: and http: URLs (zipped over http)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gvcp-genicam-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const xml = '<?xml version="1.0"?>\n<RegisterDescription ModelName="FromFile"/>\n';
    const path = join(dir, 'cam.xml');
    await writeFile(path, xml);
    const memory = new Map<number, number>();
    storeBytes(memory, BootstrapRegister.FIRST_URL, new TextEncoder().encode(`File://${path}?SchemaVersion=1.0.0`));
    const { client } = await setup(memoryHandler(memory));
    expect(await fetchGenicamXml(client, { allowFileUrlsIn: dir })).toMatchObject({
      xml,
      zipped: false,
      schemaVersion: '1.0.0',
      urlRegister: 0x200,
    });

    const zip = zipSync({ 'web.xml': new TextEncoder().encode(xml.replace('FromFile', 'FromWeb')) });
    const server = createServer((req, res) => {
      if (req.url === '/desc/cam.zip') res.end(Buffer.from(zip));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    storeBytes(memory, BootstrapRegister.FIRST_URL, new Uint8Array(512));
    storeBytes(memory, BootstrapRegister.FIRST_URL, new TextEncoder().encode(`http://127.0.0.1:${port}/desc/cam.zip`));
    const web = await fetchGenicamXml(client);
    expect(web).toMatchObject({ zipped: true, location: { scheme: 'http' } });
    expect(web.xml).toContain('FromWeb');
    storeBytes(
      memory,
      BootstrapRegister.FIRST_URL,
      new TextEncoder().encode(`http://127.0.0.1:${port}/missing.xml\0\0\0\0`),
    );
    await expect(fetchGenicamXml(client)).rejects.toThrow(/HTTP 404/);
  });
});
