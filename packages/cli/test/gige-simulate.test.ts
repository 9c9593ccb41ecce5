import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { decodeAck, encodeCommand } from '@cam/gvcp';
import { describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

const camSource = fileURLToPath(new URL('../src/cam.ts', import.meta.url));

interface Started {
  child: ChildProcess;
  firstLine: string;
  output: () => { stdout: string; stderr: string };
  exit: Promise<number | null>;
}

/** Starts `cam ...` from source and resolves once it printed its first stdout line (killed after 20 s regardless). */
function startCam(args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@cam/source', '--import', 'tsx', camSource, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let resolved = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const exit = new Promise<number | null>((r) =>
      child.on('exit', (code) => {
        clearTimeout(killer);
        r(code);
      }),
    );
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (!resolved && nl >= 0) {
        resolved = true;
        resolve({ child, firstLine: stdout.slice(0, nl), output: () => ({ stdout, stderr }), exit });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    void exit.then((code) => {
      if (!resolved) reject(new Error(`cam exited with ${code} before printing: ${stderr}`));
    });
  });
}

async function discoveryAck(port: number): Promise<ReturnType<typeof decodeAck>> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const reply = new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no DISCOVERY_ACK')), 3000);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    s.send(
      encodeCommand({ type: 'discovery', reqId: 1, ackRequired: true, allowBroadcastAck: false }),
      port,
      '127.0.0.1',
    );
    return decodeAck(new Uint8Array(await reply));
  } finally {
    s.close();
  }
}

describe('cam gige simulate', () => {
  it('--json prints one JSON line with address, port, serial and MAC, answers DISCOVERY, stops on SIGINT', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--serial',
      'CLI7',
      '--json',
    ]);
    try {
      const info = JSON.parse(run.firstLine) as {
        ok: boolean;
        address: string;
        port: number;
        serial: string;
        mac: string;
      };
      expect(info).toMatchObject({ ok: true, address: '127.0.0.1', serial: 'CLI7' });
      expect(info.port).toBeGreaterThan(0);
      expect(info.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const ack = await discoveryAck(info.port);
      expect(ack.type === 'discovery' && ack.device).toMatchObject({ serialNumber: 'CLI7', mac: info.mac });
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exit).toBe(0);
    // Exactly one JSON document on stdout.
    expect(run.output().stdout.trim().split('\n')).toHaveLength(1);
  });

  it('prints where it listens for a person and stops on SIGTERM', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--mac',
      '02:12:34:56:78:9a',
    ]);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.firstLine).toMatch(/listening on 127\.0\.0\.1:\d+ \(serial \S+, MAC 02:12:34:56:78:9a\)/);
    expect(run.output().stdout).toMatch(/stopped \(SIGTERM\)/);
  });

  it('rejects bad options with a usage error', async () => {
    const r = await runCam(['gige', 'simulate', '--address', 'not-an-ip', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
    const m = await runCam(['gige', 'simulate', '--mac', 'xx']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/MAC/);
  });
});
