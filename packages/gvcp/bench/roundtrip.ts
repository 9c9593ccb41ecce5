import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BootstrapRegister, discover, GvcpClient } from '../src/index.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./aravis_read_register.py', import.meta.url));

async function answers(): Promise<boolean> {
  return (await discover({ address: '127.0.0.1', timeoutMs: 300 })).length > 0;
}

/** Uses the fake camera already on 127.0.0.1:3956, or starts one (stopped by the returned function). */
export async function ensureFakeCamera(): Promise<() => Promise<void>> {
  if (await answers()) return async () => {};
  const camera: ChildProcess = spawn('arv-fake-gv-camera-0.8', ['-i', '127.0.0.1', '-s', 'BENCH'], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while (!(await answers())) {
    if (Date.now() > deadline || camera.exitCode !== null) throw new Error('arv-fake-gv-camera-0.8 did not answer');
  }
  return async () => {
    if (camera.exitCode !== null) return;
    const exited = new Promise((r) => camera.once('exit', r));
    camera.kill('SIGTERM');
    await exited;
  };
}

/** Mean microseconds per readRegister over `n` reads (after a warm-up), with our client. */
export async function oursReadRegister(n: number, address = BootstrapRegister.HEARTBEAT_TIMEOUT): Promise<number> {
  const client = await GvcpClient.connect('127.0.0.1', { capabilities: 0 });
  try {
    for (let i = 0; i < 1000; i++) await client.readRegister(address);
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await client.readRegister(address);
    return Number(process.hrtime.bigint() - t) / 1000 / n;
  } finally {
    await client.close();
  }
}

/** Mean microseconds per read_register over `n` reads, timed inside python with Aravis 0.8. */
export async function aravisReadRegister(n: number, address = BootstrapRegister.HEARTBEAT_TIMEOUT): Promise<number> {
  const { stdout } = await run('/usr/bin/python3', [script, String(n), `0x${address.toString(16)}`], {
    timeout: 60_000,
  });
  return (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { us_per_read: number }).us_per_read;
}

/**
 * Mean microseconds per READREG with a bare connected node:dgram socket and no client logic (no retries, timers or
 * promises): the floor any Node client can reach on this machine.
 */
export async function rawDgramReadRegister(n: number, address = BootstrapRegister.HEARTBEAT_TIMEOUT): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const { encodeCommand } = await import('../src/index.js');
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => s.connect(3956, '127.0.0.1', r));
  let id = 0;
  const next = () => {
    id = id >= 0xffff ? 1 : id + 1;
    return encodeCommand({ type: 'readreg', reqId: id, ackRequired: true, addresses: [address] });
  };
  try {
    const t = process.hrtime.bigint();
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      // A lost datagram would stall the loop: give up rather than hang.
      const guard = setTimeout(() => reject(new Error('raw loop lost a datagram')), 30_000);
      s.on('message', () => {
        if (++done >= n) {
          clearTimeout(guard);
          resolve();
          return;
        }
        s.send(next());
      });
      s.send(next());
    });
    return Number(process.hrtime.bigint() - t) / 1000 / n;
  } finally {
    s.close();
  }
}
