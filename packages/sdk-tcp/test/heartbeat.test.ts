import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RawHost, type Rig, startRig, until } from './helpers.js';

let rig: Rig | undefined;
const raws: RawHost[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await rig?.close();
  rig = undefined;
  vi.useRealTimers();
});

describe('heartbeats (fake timers, real sockets on 127.0.0.1)', () => {
  it('host: a heartbeat after 30 s of sending nothing; any sending restarts the count', async () => {
    rig = await startRig();
    const c = await rig.connect();
    vi.advanceTimersByTime(29_999);
    expect(c.stats.heartbeatsSent).toBe(0);
    vi.advanceTimersByTime(1);
    expect(c.stats.heartbeatsSent).toBe(1);
    await until(() => rig!.device.stats.heartbeatAsks === 1);
    vi.advanceTimersByTime(20_000);
    await c.call('GetDeviceInfo');
    vi.advanceTimersByTime(20_000);
    expect(c.stats.heartbeatsSent).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(c.stats.heartbeatsSent).toBe(2);
  });

  it('host heartbeats keep the connection past the 60 s silence limit', async () => {
    rig = await startRig();
    const c = await rig.connect();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(15_000);
      await until(() => rig!.device.stats.heartbeatAsks === Math.floor(((i + 1) * 15) / 30));
    }
    expect(rig.device.stats.droppedSilentHosts).toBe(0);
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });

  it('device: sends nothing on its own (no heartbeat loop), and drops a host silent for 60 s', async () => {
    rig = await startRig();
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    r.packets.length = 0;
    vi.advanceTimersByTime(59_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.closed).toBe(false);
    expect(r.packets).toEqual([]);
    vi.advanceTimersByTime(1);
    await r.waitClosed();
    expect(r.packets).toEqual([]);
    expect(rig.device.stats.droppedSilentHosts).toBe(1);
  });

  it('device: an unsolicited answer from the host gets no reply; asks are answered at most once a second', async () => {
    rig = await startRig();
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    r.packets.length = 0;
    for (let i = 0; i < 50; i++) r.send({ type: 'kTcpHeartbeatAnswer' });
    for (let i = 0; i < 50; i++) r.send({ type: 'kTcpHeartbeatAsk' });
    await until(() => rig!.device.stats.heartbeatAsks === 50);
    expect(rig.device.stats.heartbeatAsksIgnored).toBe(49);
    await until(() => r.packets.length === 1);
    expect(r.packets).toEqual([{ type: 'kTcpHeartbeatAnswer' }]);
    vi.advanceTimersByTime(1000);
    r.send({ type: 'kTcpHeartbeatAsk' });
    await until(() => r.packets.length === 2);
  });

  it('device: a host heartbeat is answered and counts as hearing from the host', async () => {
    rig = await startRig();
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    vi.advanceTimersByTime(50_000);
    r.send({ type: 'kTcpHeartbeatAsk' });
    await until(() => rig!.device.stats.heartbeatAsks === 1);
    expect(await r.next((p) => p.type === 'kTcpHeartbeatAnswer')).toEqual({ type: 'kTcpHeartbeatAnswer' });
    vi.advanceTimersByTime(50_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.closed).toBe(false);
    vi.advanceTimersByTime(10_000);
    await r.waitClosed();
  });
});
