import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StartedCam, startProcess } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';

const hostScript = fileURLToPath(new URL('./fixtures/netns-fidelity-host.ts', import.meta.url));
const camSource = fileURLToPath(new URL('../src/cam.ts', import.meta.url));
const sourceWorker = fileURLToPath(new URL('../../../test-support/source-worker.ts', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');
const node = (script: string, args: string[]): string[] => [
  process.execPath,
  '--conditions=@cam/source',
  '--import',
  tsx,
  '--import',
  sourceWorker,
  script,
  ...args,
];

/** Runs a command to completion, bounded; resolves whatever the exit code. */
function run(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const unique = (tag: string): string =>
  `camf${tag}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(0, 15);

/**
 * Network fidelity of `cam gige simulate` (issue #18), for real, inside two network namespaces this test creates
 * and always deletes: a host and a camera joined by two veth pairs on two subnets. Link A (10.216.N.0/24) has a
 * 9000-byte MTU, link B (10.217.N.0/24) 1500. The simulator binds every interface of its namespace, moves its
 * address with `--forceip-hook ip`, and drops DoNotFragment test packets above the egress link's MTU
 * (`--path-mtu egress`). Nothing leaves the namespaces.
 */
describeInterop(
  'cam gige simulate: per-interface answers, FORCEIP, path MTU (netns)',
  ['netns', 'arv-tool-0.8', 'python3 Aravis'],
  () => {
    const hostNs = unique('h');
    const camNs = unique('c');
    const net = 1 + Math.floor(Math.random() * 250);
    const a = { host: `10.216.${net}.1`, cam: `10.216.${net}.2` };
    const b = { host: `10.217.${net}.1`, cam: `10.217.${net}.2`, moved: `10.217.${net}.77` };
    const mac = '02:c2:00:00:18:18';
    const created: string[] = [];
    let camera: StartedCam | undefined;

    const sh = async (...args: string[]): Promise<void> => {
      const r = await run(args[0]!, args.slice(1), 15_000);
      if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    };
    const host = async (args: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const r = await run('ip', ['netns', 'exec', hostNs, ...node(hostScript, [JSON.stringify(args)])], 30_000);
      const line = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.event === 'result' || l.event === 'error');
      if (!line || line.event === 'error') throw new Error(`host script: ${JSON.stringify(line)} ${r.stderr}`);
      return line;
    };
    const inHost = (cmd: string[], timeoutMs = 60_000) => run('ip', ['netns', 'exec', hostNs, ...cmd], timeoutMs);
    const deleteNamespaces = async (): Promise<void> => {
      for (const ns of created.splice(0)) await run('ip', ['netns', 'del', ns], 10_000);
    };

    beforeAll(async () => {
      try {
        for (const ns of [hostNs, camNs]) {
          await sh('ip', 'netns', 'add', ns);
          created.push(ns);
          await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
        }
        for (const [i, link, mtu] of [
          [0, a, 9000],
          [1, b, 1500],
        ] as const) {
          // Created directly inside the namespaces: nothing appears in the root namespace.
          await sh(
            'ip',
            'link',
            'add',
            `vh${i}`,
            'netns',
            hostNs,
            'type',
            'veth',
            'peer',
            'name',
            `vc${i}`,
            'netns',
            camNs,
          );
          for (const [ns, dev, ip] of [
            [hostNs, `vh${i}`, link.host],
            [camNs, `vc${i}`, link.cam],
          ] as const) {
            await sh('ip', '-n', ns, 'link', 'set', dev, 'mtu', String(mtu));
            await sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev);
            await sh('ip', '-n', ns, 'link', 'set', dev, 'up');
          }
        }
        // A veth drops what it is given until the kernel's link watcher activates it (up to about a second after
        // `up`, longer under load): wait until every end reports state UP, bounded, before the camera starts.
        for (let tries = 0; ; tries++) {
          const states = await Promise.all(
            [
              [hostNs, 'vh0'],
              [hostNs, 'vh1'],
              [camNs, 'vc0'],
              [camNs, 'vc1'],
            ].map(([ns, dev]) => run('ip', ['-n', ns as string, '-o', 'link', 'show', 'dev', dev as string])),
          );
          if (states.every((r) => / state UP /.test(r.stdout))) break;
          if (tries >= 100) throw new Error(`veth links not up after 10 s: ${states.map((r) => r.stdout).join(' | ')}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        camera = await startProcess(
          'ip',
          [
            'netns',
            'exec',
            camNs,
            ...node(camSource, [
              'gige',
              'simulate',
              '--port',
              '3956',
              '--mac',
              mac,
              '--serial',
              'NETFID1',
              '--width',
              '320',
              '--height',
              '240',
              '--pixel-format',
              'Mono8',
              '--fps',
              '20',
              '--forceip-hook',
              'ip',
              '--path-mtu',
              'egress',
              '--json',
            ]),
          ],
          { timeoutMs: 170_000 },
        );
        expect(JSON.parse(camera.firstLine)).toMatchObject({ ok: true, address: '0.0.0.0', port: 3956, mac });
      } catch (error) {
        camera?.child.kill('SIGINT');
        await deleteNamespaces();
        throw error;
      }
    }, 60_000);

    afterAll(async () => {
      try {
        if (camera && camera.child.exitCode === null) {
          camera.child.kill('SIGINT');
          expect(await camera.exit).toBe(130); // stopped by SIGINT
        }
      } finally {
        await deleteNamespaces();
      }
      const left = await run('ip', ['netns', 'list']);
      expect(left.stdout).not.toContain(hostNs);
      expect(left.stdout).not.toContain(camNs);
    }, 30_000);

    it('answers from the address each command was sent to, whatever the route back', async () => {
      // On link B, and across: sent from the host's B address to the camera's A address, the answer goes back over
      // link B yet must come from the A address (a socket on 0.0.0.0 would answer from B's).
      expect(await host({ action: 'source', bind: b.host, to: b.cam })).toMatchObject({ from: b.cam, ip: b.cam });
      expect(await host({ action: 'source', bind: b.host, to: a.cam })).toMatchObject({ from: a.cam, ip: a.cam });
      expect(await host({ action: 'source', bind: a.host, to: b.cam })).toMatchObject({ from: b.cam });
      expect(await host({ action: 'read', to: b.cam })).toMatchObject({ ip: b.cam });
    });

    it('Aravis on the second subnet reads the camera there', async () => {
      const r = await inHost(['arv-tool-0.8', '-a', b.cam, 'control', 'DeviceSerialNumber', 'GevCurrentIPAddress']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('NETFID1');
    });

    it('packet-size negotiation learns each link: at most 1500 on link B, above it on link A (our client)', async () => {
      const onB = await host({ action: 'negotiate', to: b.cam, host: b.host, packetSize: 8996 });
      expect(onB).toMatchObject({ verified: true, frame: 'complete' });
      expect(onB.packetSize as number).toBeLessThanOrEqual(1500);
      expect(onB.packetSize as number).toBeGreaterThan(1500 - 32);
      const onA = await host({ action: 'negotiate', to: a.cam, host: a.host, packetSize: 8996 });
      expect(onA).toMatchObject({ verified: true, packetSize: 8996, frame: 'complete' });
    }, 60_000);

    it('streams from the address the host reached, across a crossed route (our receiver filters by it)', async () => {
      // Controlled at the A address, streaming to the host's B address: the route back is link B, where the kernel
      // would pick the B address as source; the receiver accepts packets from the A address alone.
      const crossed = await host({ action: 'negotiate', to: a.cam, host: b.host, packetSize: 1500 });
      expect(crossed).toMatchObject({ frame: 'complete' });
      const straight = await host({ action: 'negotiate', to: b.cam, host: b.host, packetSize: 1500 });
      expect(straight).toMatchObject({ frame: 'complete' });
      // Every stream packet seen by a plain socket comes from the address the host reached.
      const seen = await host({ action: 'streamsource', to: a.cam, host: b.host });
      expect(seen.packets as number).toBeGreaterThan(0);
      expect(seen.sources).toEqual([a.cam]);
    }, 60_000);

    it('packet-size negotiation settles at or just below 1500 on link B (python Aravis)', async () => {
      const script = [
        'import gi',
        "gi.require_version('Aravis', '0.8')",
        'from gi.repository import Aravis',
        `cam = Aravis.Camera.new('${b.cam}')`,
        'cam.gv_set_packet_size(8996)',
        'print(cam.gv_auto_packet_size())',
      ].join('\n');
      const r = await inHost(['/usr/bin/python3', '-c', script]);
      expect(r.code, r.stderr).toBe(0);
      const size = Number(r.stdout.trim());
      expect(size).toBeLessThanOrEqual(1500);
      expect(size).toBeGreaterThan(1500 - 64);
    }, 90_000);

    it('FORCEIP from the host moves the camera; the host then controls it at its new address', async () => {
      const r = await host({ action: 'forceip', mac, ip: b.moved, mask: '255.255.255.0', interface: b.host });
      expect(r).toMatchObject({ acknowledged: true, status: 0, from: b.moved });
      const addrs = await run('ip', ['-n', camNs, '-4', '-o', 'addr', 'show', 'dev', 'vc1']);
      expect(addrs.stdout).toContain(`${b.moved}/24`);
      expect(addrs.stdout).not.toContain(`${b.cam}/`);
      expect(await host({ action: 'source', bind: b.host, to: b.moved })).toMatchObject({ from: b.moved, ip: b.moved });
      expect(await host({ action: 'read', to: b.moved })).toMatchObject({ ip: b.moved });
      // The stream follows: it leaves from the new address.
      const moved = await host({ action: 'streamsource', to: b.moved, host: b.host });
      expect(moved.sources).toEqual([b.moved]);
      // Link A is untouched.
      expect(await host({ action: 'source', bind: a.host, to: a.cam })).toMatchObject({ from: a.cam, ip: a.cam });
      const arv = await inHost(['arv-tool-0.8', '-a', b.moved, 'control', 'DeviceSerialNumber']);
      expect(arv.code, arv.stderr).toBe(0);
      expect(arv.stdout).toContain('NETFID1');
    }, 60_000);

    it('a crossed route on the camera side: stream from the address the host reached; Aravis and our client get frames', async () => {
      // The camera's route to the host's A address now goes over link B: the kernel would pick link B's address as
      // the source of everything a 0.0.0.0 socket sends there. GVCP answers and the stream must still come from A's.
      await sh('ip', '-n', camNs, 'route', 'add', `${a.host}/32`, 'dev', 'vc1');
      const seen = await host({ action: 'streamsource', to: a.cam, host: a.host });
      expect(seen.packets as number).toBeGreaterThan(0);
      expect(seen.sources).toEqual([a.cam]);
      expect(await host({ action: 'negotiate', to: a.cam, host: a.host, packetSize: 1500 })).toMatchObject({
        frame: 'complete',
      });
      const script = [
        'import gi',
        "gi.require_version('Aravis', '0.8')",
        'from gi.repository import Aravis',
        `cam = Aravis.Camera.new('${a.cam}')`,
        'cam.gv_set_packet_size(1500)',
        // Aravis's packet socket listens on the interface that routes to the camera (link A's), which the crossed
        // route bypasses; its UDP socket receives from either link (this Aravis does not check the source address,
        // so this step shows interoperability; the source address is checked above)
        'cam.get_device().set_stream_options(Aravis.GvStreamOption.PACKET_SOCKET_DISABLED)',
        'stream = cam.create_stream(None, None)',
        'stream.push_buffer(Aravis.Buffer.new_allocate(cam.get_payload()))',
        'cam.start_acquisition()',
        'buf = stream.timeout_pop_buffer(5000000)',
        'cam.stop_acquisition()',
        "print('none' if buf is None else buf.get_status().value_nick)",
      ].join('\n');
      const r = await inHost(['/usr/bin/python3', '-c', script]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('success');
    }, 90_000);
  },
);
