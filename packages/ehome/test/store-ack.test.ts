import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EhomeDevice, MemoryStore, StoreError } from '../src/index.js';
import { Cleanup, startServer, track } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

/** A memory store whose alarm and media writes fail while `broken` is set (a database that is down). */
class FlakyStore extends MemoryStore {
  broken = true;
  override async appendAlarm(...args: Parameters<MemoryStore['appendAlarm']>) {
    if (this.broken) throw new StoreError('database down');
    return super.appendAlarm(...args);
  }
  override async addMedia(...args: Parameters<MemoryStore['addMedia']>) {
    if (this.broken) throw new StoreError('database down');
    return super.addMedia(...args);
  }
}

describe('acknowledged only after the record is committed', () => {
  it('an alarm the store cannot commit is not answered; the resend after the store recovers is, and is stored once', async () => {
    const store = new FlakyStore();
    const server = await startServer(c, { store });
    const port = server.addresses().port;
    const dev = track(
      c,
      new EhomeDevice({
        server: { host: '127.0.0.1', port },
        deviceId: 'ack1',
        localAddress: '127.0.0.1',
        requestAttemptMs: 200,
        maxResends: 10,
      }),
    );
    await dev.start({ timeoutMs: 5000 });
    const raised = dev.raiseAlarm({ pictures: 0, alarmType: 'ACK_TEST' });
    // Resends arrive while the store is down: none is answered.
    await new Promise((r) => setTimeout(r, 500));
    expect(server.stats.alarmsNotStored).toBeGreaterThan(0);
    store.broken = false;
    await raised;
    const q = await store.queryEvents({ type: 'alarm', deviceId: 'ack1' });
    expect(q.events).toHaveLength(1);
    expect(q.events[0]!.body.alarm).toMatchObject({ alarmType: 'ACK_TEST' });
  });

  it('a picture upload the store cannot commit is answered 503 and its file removed', async () => {
    const store = new FlakyStore();
    const server = await startServer(c, { store });
    const dev = track(
      c,
      new EhomeDevice({
        server: { host: '127.0.0.1', port: server.addresses().port },
        deviceId: 'ack2',
        localAddress: '127.0.0.1',
      }),
    );
    await dev.start({ timeoutMs: 5000 });
    await expect(dev.raiseAlarm({ pictures: 1, alarmType: 'PIC_TEST', order: 'before' })).rejects.toThrow(/503/);
    const dir = join(server.pictures!.directory, 'ack2');
    expect(readdirSync(dir).filter((f) => !f.endsWith('.part'))).toEqual([]);
    expect(server.pictures!.storedBytes).toBe(0);
    store.broken = false;
    await dev.raiseAlarm({ pictures: 1, alarmType: 'PIC_TEST', order: 'before' });
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('retention by media bytes deletes the oldest pictures: rows, files and their share of the storage budget', async () => {
    const store = new MemoryStore();
    const server = await startServer(c, { store, retention: { maxMediaBytes: 1 } });
    const dev = track(
      c,
      new EhomeDevice({
        server: { host: '127.0.0.1', port: server.addresses().port },
        deviceId: 'ret1',
        localAddress: '127.0.0.1',
      }),
    );
    await dev.start({ timeoutMs: 5000 });
    for (let i = 0; i < 3; i++) await dev.raiseAlarm({ pictures: 1, order: 'before' });
    const dir = join(server.pictures!.directory, 'ret1');
    expect(readdirSync(dir)).toHaveLength(3);
    await server.enforceRetention();
    // A budget of 1 byte keeps nothing: every picture row and file goes, and the budget is given back.
    expect(readdirSync(dir)).toHaveLength(0);
    expect(server.pictures!.storedBytes).toBe(0);
  });
});
