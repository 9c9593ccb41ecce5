import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canUseNetns, describeInterop } from '../../../test-support/interop.js';
import {
  acquireExclusive,
  GVCP_PORT_LOCK,
  LOCKED_HOOK_TIMEOUT_MS,
  type Release,
} from '../../../test-support/port-lock.js';
import { GvcpDevice, PixelFormat } from '../src/index.js';
import { JsonLineChild, nodeArgs, run, serveDeviceScript, uniqueNetnsName } from './fixtures/device/child.js';

const hostScript = fileURLToPath(new URL('./fixtures/device/netns-host.ts', import.meta.url));

/**
 * Aravis (arv-tool-0.8, which only talks to port 3956) against our GvcpDevice, with tshark checking our traffic.
 * When this process may create network namespaces, everything runs in a private one (its own loopback, so no other
 * test's camera on 127.0.0.1:3956 gets in the way); otherwise on the host loopback, holding GVCP_PORT_LOCK (as every
 * suite using 127.0.0.1:3956 does) and retrying the bind of 3956 for a while in case a process not under the lock
 * is just letting it go.
 */
describeInterop('Aravis arv-tool-0.8 against our GvcpDevice', ['arv-tool-0.8', 'tshark'], () => {
  const options = { address: '127.0.0.1', port: 3956, serialNumber: 'G2ARV1', modelName: 'AravisInterop' };
  let useNetns = canUseNetns();
  const ns = uniqueNetnsName('arv');
  const prefix: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cam-gvcp-arv-'));
  const pcap = join(dir, 'gvcp.pcapng');
  let device: JsonLineChild | undefined;
  let capture: JsonLineChild | undefined;
  let release: Release | undefined;
  const inNs = (command: string, args: string[], timeoutMs = 30_000) => {
    const all = [...prefix, command, ...args];
    return run(all[0]!, all.slice(1), timeoutMs);
  };

  beforeAll(async () => {
    if (useNetns) {
      // Root without the right to create namespaces (some containers): fall back to the host loopback.
      const add = await run('ip', ['netns', 'add', ns]);
      useNetns = add.code === 0 && (await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])).code === 0;
      if (useNetns) prefix.push('ip', 'netns', 'exec', ns);
      else await run('ip', ['netns', 'del', ns]);
    }
    if (!useNetns) release = await acquireExclusive(GVCP_PORT_LOCK);
    // Capture first: tshark prints "Capturing on" on stderr once it listens.
    const [tc, ta] = [
      prefix[0] ?? 'tshark',
      [
        ...prefix.slice(1),
        ...(prefix.length ? ['tshark'] : []),
        '-i',
        'lo',
        '-f',
        'udp port 3956 or udp port 3957',
        '-a',
        'duration:60',
        '-w',
        pcap,
      ],
    ];
    capture = new JsonLineChild(tc, ta);
    for (let i = 0; i < 100 && !capture.stderr.includes('Capturing on'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const [cmd, args] = nodeArgs(prefix, serveDeviceScript, [
      JSON.stringify({ ...options, bindRetryMs: useNetns ? 0 : 20_000, lifetimeMs: 90_000 }),
    ]);
    device = new JsonLineChild(cmd, args);
    await device.waitFor('listening', 30_000);
  }, LOCKED_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      await device?.stop();
      if (capture && capture.child.exitCode === null) {
        capture.child.kill('SIGINT');
        const t = setTimeout(() => capture?.child.kill('SIGKILL'), 5000);
        await capture.exited;
        clearTimeout(t);
      }
      if (prefix.length > 0) await run('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      release?.();
    }
  }, 30_000);

  it('arv-tool reads Width, Height and PixelFormat', async () => {
    const r = await inNs('arv-tool-0.8', ['-a', '127.0.0.1', 'control', 'Width', 'Height', 'PixelFormat'], 20_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Width = 640\b/);
    expect(r.stdout).toMatch(/Height = 480\b/);
    expect(r.stdout).toMatch(/PixelFormat = Mono8/);
  });

  it('a value arv-tool writes is what our device holds', async () => {
    const r = await inNs(
      'arv-tool-0.8',
      ['-a', '127.0.0.1', 'control', 'Width=320', 'Height=200', 'PixelFormat=BayerRG8'],
      20_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const dump = await device!.dump();
    expect(dump).toMatchObject({ width: 320, height: 200, pixelFormat: PixelFormat.BayerRG8 });
    const back = await inNs(
      'arv-tool-0.8',
      ['-a', '127.0.0.1', 'control', 'Width', 'PayloadSize', 'DeviceSerialNumber', 'GevSCPSPacketSize'],
      20_000,
    );
    expect(back.stdout).toMatch(/Width = 320\b/);
    expect(back.stdout).toMatch(/PayloadSize = 64000\b/);
    expect(back.stdout).toMatch(/DeviceSerialNumber = G2ARV1/);
    expect(back.stdout).toMatch(/GevSCPSPacketSize = 1500/);
  });

  it('arv-tool downloads our GenICam XML', async () => {
    const r = await inNs('arv-tool-0.8', ['-a', '127.0.0.1', 'genicam'], 20_000);
    expect(r.code, r.stderr).toBe(0);
    const expected = new GvcpDevice(options).genicamXml;
    expect(r.stdout.trim()).toBe(expected.trim());
  });

  it('our client exercises every command against it (for the capture)', async () => {
    const [cmd, args] = nodeArgs(prefix, hostScript, [
      JSON.stringify({ action: 'exercise', address: '127.0.0.1', port: 3956, messagePort: 3957 }),
    ]);
    const child = new JsonLineChild(cmd, args);
    const kill = setTimeout(() => child.child.kill('SIGKILL'), 30_000);
    await child.exited;
    clearTimeout(kill);
    expect(
      child.lines.find((l) => l.event === 'result'),
      child.stderr,
    ).toMatchObject({
      discovery: 1,
      registers: [256, 128, 256 * 128],
      memory: 248,
      errors: ['WRITE_PROTECT', 'INVALID_ADDRESS', 'INVALID_ADDRESS'],
      slow: 7,
      eventType: 'event',
      action: 1,
      unknown: 0x8001,
      eventToDevice: 0x8001,
    });
  }, 40_000);

  it('tshark decodes our traffic with no malformed packets or expert errors', async () => {
    // Stop the capture (it writes the file on exit), after giving dumpcap a moment to write the last packets.
    await new Promise((r) => setTimeout(r, 1500));
    capture!.child.kill('SIGINT');
    const t = setTimeout(() => capture?.child.kill('SIGKILL'), 10_000);
    await capture!.exited;
    clearTimeout(t);
    // The message channel port carries GVCP too (EVENT from the device, EVENT_ACK from the host).
    const decodeAs = ['-d', 'udp.port==3957,gvcp'];
    const fields = (filter: string, ...names: string[]) =>
      run('tshark', ['-r', pcap, ...decodeAs, '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])]);
    const fromDevice = await fields('gvcp && udp.srcport == 3956', 'frame.number');
    expect(fromDevice.code, fromDevice.stderr).toBe(0);
    expect(fromDevice.stdout.trim().split('\n').length).toBeGreaterThan(20);
    // Every kind of message we send is there: DISCOVERY, READREG, WRITEREG, READMEM, WRITEMEM, PENDING and ACTION
    // acks, EVENT (and the host's EVENT_ACK), NOT_IMPLEMENTED.
    const kinds = await fields('gvcp', 'gvcp.cmd.command', 'gvcp.ack', 'gvcp.cmd.status');
    for (const code of [
      '0x0003',
      '0x0081',
      '0x0083',
      '0x0085',
      '0x0087',
      '0x0089',
      '0x0101',
      '0x00c0',
      '0x00c1',
      '0x8001',
    ]) {
      expect(kinds.stdout.toLowerCase(), kinds.stdout.slice(0, 2000)).toContain(code);
    }
    const bad = await fields('_ws.malformed || _ws.expert.severity >= error', 'frame.number');
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stdout.trim()).toBe('');
    const expert = await run('tshark', ['-r', pcap, ...decodeAs, '-q', '-z', 'expert,error']);
    expect(expert.stdout).not.toMatch(/^\s*Error\b/m);
  });
});
