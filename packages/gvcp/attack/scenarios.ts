// Attacks on the simulated GigE Vision device (GVCP) and on the host side that trusts a device (connectCamera).
// Loopback only; the attacker sends from 127.0.0.2 so the device can tell it from the legitimate host (127.0.0.1).
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WireError } from '@cam/net-utils';
import { floodInWorker, RSS_SLACK_MIB, rssMiB } from '../../../test-support/attack.js';
import type { AttackOutcome, AttackScenario } from '../../../test-support/hostile-types.js';
import {
  BootstrapRegister,
  connectCamera,
  decodeCommand,
  encodeAck,
  encodeCommand,
  type GvcpAck,
  GvcpClient,
  type GvcpCommand,
  GvcpDevice,
} from '../src/index.js';

const close = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

/** Legitimate reads of a register: how many of `n` succeeded. */
async function legitReads(client: GvcpClient, n: number, errors: string[] = []): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    try {
      await client.readRegister(BootstrapRegister.CCP, { timeoutMs: 3000 });
      ok++;
    } catch (e) {
      errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }
  return ok;
}

/** Random and lying datagrams for a GVCP server. */
export function hostileDatagram(i: number): Uint8Array {
  const kind = i % 5;
  if (kind === 0) return crypto.getRandomValues(new Uint8Array(1 + (i % 600)));
  const base = encodeCommand(
    kind === 1
      ? { type: 'readmem', reqId: (i % 0xfffe) + 1, ackRequired: true, address: 0, count: 512 }
      : kind === 2
        ? { type: 'writereg', reqId: (i % 0xfffe) + 1, ackRequired: true, writes: [{ address: 0x0a00, value: 3 }] }
        : kind === 3
          ? { type: 'readreg', reqId: (i % 0xfffe) + 1, ackRequired: true, addresses: [0x0000, 0x0a00] }
          : { type: 'discovery', reqId: (i % 0xfffe) + 1, ackRequired: true, allowBroadcastAck: false },
  );
  const out = base.slice();
  // lie about the payload length (bytes 4-5), or truncate
  if (i % 2 === 0) {
    out[4] = 0xff;
    out[5] = 0xff;
    return out;
  }
  return out.subarray(0, Math.max(1, out.byteLength - 1 - (i % 8)));
}

const deviceFlood: AttackScenario = {
  target: 'GVCP device (UDP 3956)',
  attack: 'flood of random and lying datagrams from another host (short: 5,000/s; full: 500,000 at full speed)',
  async run({ budget, signal }) {
    const count = budget === 'full' ? 500_000 : 5_000;
    const device = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const port = device.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.1' });
    try {
      await client.takeControl();
      const before = await rssMiB();
      let during = 0;
      const errors: string[] = [];
      const attack = floodInWorker({
        module: import.meta.url,
        generator: 'hostileDatagram',
        port,
        count,
        ...(budget === 'full' ? {} : { ratePerSecond: 5_000 }),
        signal,
      });
      const legit = (async () => {
        for (let i = 0; i < 3; i++) during += await legitReads(client, 1, errors);
      })();
      const [sent] = await Promise.all([attack, legit]);
      // the backlog the flood left in the socket buffer drains first (bounded wait)
      for (let i = 0, last = -1; i < 50; i++) {
        const seen = device.stats.badDatagrams + device.stats.commandsExecuted;
        if (seen === last) break;
        last = seen;
        await new Promise((r) => setTimeout(r, 100));
      }
      const after = await legitReads(client, 3, errors);
      const rssAfter = await rssMiB(200);
      return {
        survived:
          during === 3 && after === 3 && device.stats.heartbeatTimeouts === 0 && rssAfter - before < RSS_SLACK_MIB,
        detail: `${count} datagrams (${sent} bytes); legit reads ${during}/3 during, ${after}/3 after; ${device.stats.badDatagrams} counted bad, ${device.stats.errorAcksSuppressed} error answers suppressed, ${device.stats.busyRejected} busy, ${device.stats.heartbeatTimeouts} heartbeat timeouts${errors.length ? `; ${errors.join('; ')}` : ''}`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    } finally {
      await client.close();
      await device.close();
    }
  },
};

const controlTakeover: AttackScenario = {
  target: 'GVCP device (UDP 3956)',
  attack: 'control takeover: another host writes CCP and switchover without the key',
  async run({ budget }) {
    const tries = budget === 'full' ? 500 : 30;
    const device = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const port = device.address().port;
    const client = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.1' });
    const attacker = await GvcpClient.connect('127.0.0.1', { port, localAddress: '127.0.0.2', retries: 0 });
    try {
      await client.takeControl({ allowSwitchover: true, switchoverKey: 0x1234 });
      const before = await rssMiB();
      let refused = 0;
      for (let i = 0; i < tries; i++) {
        const mode = (['control', 'exclusive', 'switchover'] as const)[i % 3]!;
        try {
          await attacker.takeControl({
            mode,
            switchoverKey: (i + 1) % 0x1234, // never the holder's key
            heartbeatMs: 60_000,
          });
          await attacker.releaseControl().catch(() => {});
        } catch (e) {
          if (WireError.isInstance(e)) refused++;
        }
      }
      // still ours: a write that needs control succeeds
      let held = 0;
      for (let i = 0; i < 3; i++) {
        try {
          await client.writeRegister(BootstrapRegister.HEARTBEAT_TIMEOUT, 3000);
          held++;
        } catch {
          // lost
        }
      }
      const rssAfter = await rssMiB(100);
      return {
        survived: refused === tries && held === 3 && rssAfter - before < RSS_SLACK_MIB,
        detail: `${refused}/${tries} takeover attempts refused; legit writes ${held}/3 after`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    } finally {
      await attacker.close();
      await client.close();
      await device.close();
    }
  },
};

/** A malicious fake device: answers GVCP from a word memory whose first URL register holds `url`. */
async function fakeDevice(
  url: string,
  behaviour: 'memory' | 'endless-pending' = 'memory',
): Promise<{ port: number; close: () => Promise<void> }> {
  const memory = new Map<number, number>();
  const bytes = new TextEncoder().encode(url);
  const padded = new Uint8Array(Math.ceil((bytes.byteLength + 1) / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.byteLength; i += 4) memory.set(BootstrapRegister.FIRST_URL + i, view.getUint32(i));
  const socket = createSocket('udp4');
  const timers = new Set<ReturnType<typeof setInterval>>();
  socket.on('message', (msg, rinfo) => {
    let cmd: GvcpCommand;
    try {
      cmd = decodeCommand(msg);
    } catch {
      return;
    }
    const reply = (ack: GvcpAck): void => {
      socket.send(encodeAck(ack), rinfo.port, rinfo.address);
    };
    if (behaviour === 'endless-pending') {
      // "65 seconds more, please", every 20 ms, for as long as the host listens (bounded by close)
      reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 65_000 });
      const t = setInterval(
        () => reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 65_000 }),
        20,
      );
      timers.add(t);
      return;
    }
    const word = (a: number): number => memory.get(a) ?? 0;
    switch (cmd.type) {
      case 'readreg':
        reply({ type: 'readreg', ackId: cmd.reqId, status: 0, values: cmd.addresses.map(word) });
        break;
      case 'writereg':
        for (const w of cmd.writes) memory.set(w.address, w.value);
        reply({ type: 'writereg', ackId: cmd.reqId, status: 0, index: cmd.writes.length });
        break;
      case 'readmem': {
        const data = new Uint8Array(cmd.count);
        const v = new DataView(data.buffer);
        for (let i = 0; i + 4 <= cmd.count; i += 4) v.setUint32(i, word(cmd.address + i));
        reply({ type: 'readmem', ackId: cmd.reqId, status: 0, address: cmd.address, data });
        break;
      }
      default:
        break;
    }
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    port: socket.address().port,
    close: async () => {
      for (const t of timers) clearInterval(t);
      await close(socket);
    },
  };
}

/** connectCamera against a fake device: must fail with a typed error, quickly, without growing. */
function hostScenario(
  attack: string,
  setup: () => Promise<{
    url: string;
    behaviour?: 'memory' | 'endless-pending';
    stop?: () => Promise<void>;
    sent?: () => number;
  }>,
  options: { maxPendingMs?: number } = {},
): AttackScenario {
  return {
    target: 'connectCamera (GigE host)',
    attack,
    async run({ budget }): Promise<AttackOutcome> {
      const s = await setup();
      const dev = await fakeDevice(s.url, s.behaviour);
      const before = await rssMiB();
      const t0 = Date.now();
      let outcome = 'connected (unexpected)';
      let typed = false;
      try {
        const cam = await connectCamera('127.0.0.1', {
          port: dev.port,
          localAddress: '127.0.0.1',
          tryTimeoutMs: 300,
          ...(budget === 'short' ? { maxPendingMs: 2000 } : {}),
          ...options,
        });
        await cam.close();
      } catch (e) {
        typed = WireError.isInstance(e);
        outcome = e instanceof Error ? `${e.name}: ${e.message.slice(0, 90)}` : String(e);
      } finally {
        await dev.close();
        await s.stop?.();
      }
      const ms = Date.now() - t0;
      const rssAfter = await rssMiB(200);
      return {
        survived: typed && rssAfter - before < RSS_SLACK_MIB + 32,
        detail: `${outcome} after ${ms} ms${s.sent ? `; peer pushed ${(s.sent() / 1048576).toFixed(1)} MiB` : ''}`,
        rssBeforeMiB: before,
        rssAfterMiB: rssAfter,
      };
    },
  };
}

const endlessHttp = hostScenario('device-chosen http: URL with an endless chunked body', async () => {
  let sent = 0;
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  const server = createServer((_req, res) => {
    res.writeHead(200);
    const pump = (): void => {
      while (!res.destroyed && sent < 4 * 1024 * 1024 * 1024) {
        sent += chunk.byteLength;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/endless.xml`,
    sent: () => sent,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
});

const scenarios: AttackScenario[] = [
  deviceFlood,
  controlTakeover,
  hostScenario('device-chosen URL File:///dev/zero', async () => ({ url: 'File:///dev/zero' })),
  hostScenario('device-chosen URL File:///etc/passwd', async () => ({ url: 'File:///etc/passwd' })),
  endlessHttp,
  hostScenario('endless PENDING_ACK', async () => ({ url: 'Local:x.xml;10000;100', behaviour: 'endless-pending' })),
];

export default scenarios;
