import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCam } from '../../../test-support/cli.js';
import { main } from '../src/main.js';
import { createProgram } from '../src/program.js';
import { spawnCam, until } from './helpers.js';

/** Every leaf command as its words (`gige grab`, `sdk upload`, ...). */
function leaves(cmd: Command, prefix: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [prefix];
  return subs.flatMap((c) => leaves(c, [...prefix, c.name()]));
}

/** Runs main in this process with output captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'cam', ...args]);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

const commands = leaves(createProgram());

afterEach(() => {
  process.exitCode = undefined;
});

describe('exit-code contract: 0 success, 1 runtime failure, 2 usage error, 130 on SIGINT', () => {
  it('knows every command of the tree', () => {
    expect(commands.length).toBeGreaterThan(25);
    expect(commands).toContainEqual(['gige', 'exec']);
    expect(commands).toContainEqual(['gvsp', 'decode']);
  });

  it.each(commands.map((c) => [c.join(' '), c]))('%s: --help exits 0, a parser error exits 2', async (_, words) => {
    const help = await run([...(words as string[]), '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: cam ${(words as string[]).join(' ')}`);
    const bad = await run([...(words as string[]), '--no-such-option-anywhere']);
    expect(bad.code).toBe(2);
    // an unknown option, or a required option missing before it: both the parser's own errors
    expect(bad.stderr).toMatch(/unknown option '--no-such-option-anywhere'|required option/);
    const badJson = await run([...(words as string[]), '--no-such-option-anywhere', '--json']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
  });

  it('an unknown command, a missing argument and --version follow the contract', async () => {
    expect((await run(['no-such-command'])).code).toBe(2);
    expect((await run(['gige', 'info'])).code).toBe(2);
    expect((await run(['--version'])).code).toBe(0);
    expect((await run([])).code).toBe(0); // no command: the program's help
  });

  it('runtime failures exit 1 for every kind of command', async () => {
    // a TCP port nothing listens on, and a UDP port nothing answers on
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const closed = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const udp = String(closed);
    const failures: string[][] = [
      ['gige', 'info', '127.0.0.1', '--port', udp, '--timeout', '50'],
      ['gige', 'read', '127.0.0.1', '0x0934', '--port', udp, '--timeout', '50'],
      ['gige', 'write', '127.0.0.1', '0x0a00=2', '--port', udp, '--timeout', '50'],
      ['gige', 'exec', '127.0.0.1', 'AcquisitionStart', '--port', udp, '--timeout', '50'],
      ['gige', 'features', '127.0.0.1', '--port', udp, '--timeout', '50'],
      ['gige', 'describe', '127.0.0.1', '--port', udp, '--timeout', '50'],
      ['gige', 'readmem', '127.0.0.1', '0', '4', '--port', udp, '--timeout', '50'],
      ['gige', 'genicam', '127.0.0.1', '--port', udp, '--timeout', '50'],
      ['gige', 'discover', '--address', '127.0.0.1', '--port', udp, '--timeout', '50'],
      ['gvsp', 'decode', '/nonexistent/capture.pcap'],
      ['scgvmp', 'grab', '127.0.0.1', '--port', udp, '--timeout', '300'],
      ['sdk', 'call', `127.0.0.1:${closed}`, 'GetDeviceInfo'],
      ['ehome', 'preview', '--server', '127.0.0.1:0', '--id', 'x', '--seconds', '1', '--wait', '1'],
    ];
    for (const args of failures) {
      const r = await run([...args, '--json']);
      // discover finding nothing is a success with no devices; everything else here fails at run time
      if (args[1] === 'discover') expect(r.code, args.join(' ')).toBe(0);
      else {
        expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toMatch(/"ok": ?false/);
      }
    }
  }, 120_000);

  it('a hint line follows common failures (timeout, missing file, port in use)', async () => {
    const t = await run(['gige', 'info', '127.0.0.1', '--port', '9', '--timeout', '50']);
    expect(t.stderr).toMatch(/^cam: TimeoutError: .*\nhint: no answer in time: check the address/m);
    const f = await run(['gvsp', 'decode', '/nonexistent/x.pcap']);
    expect(f.stderr).toMatch(/^hint: no such file or directory "\/nonexistent\/x.pcap"/m);
    const held = createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', () => r()));
    try {
      const port = String((held.address() as { port: number }).port);
      // the simulated SDK controller listens on TCP: the port is taken
      const r = await run(['sdk', 'simulate', '--address', '127.0.0.1', '--port', port, '--exit-after', '100']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^hint: port \d+ is taken by another process/m);
    } finally {
      await new Promise<void>((r) => held.close(() => r()));
    }
  });
});

describe('SIGINT: long-running commands stop cleanly, print their summary and exit 130', () => {
  const cases: { name: string; args: string[]; ready: RegExp; summary: RegExp }[] = [
    {
      name: 'gige simulate',
      args: ['gige', 'simulate', '--address', '127.0.0.1', '--port', '0'],
      ready: /listening on/,
      summary: /^stopped \(SIGINT\)/m,
    },
    {
      name: 'scgvmp simulate',
      args: ['scgvmp', 'simulate', '--address', '127.0.0.1', '--port', '0'],
      ready: /smart camera on/,
      summary: /^stopped: /m,
    },
    {
      name: 'ehome serve',
      args: [
        'ehome',
        'serve',
        '--address',
        '127.0.0.1',
        '--port',
        '0',
        '--alarm-port',
        '0',
        '--picture-port',
        '0',
        '--store',
        'memory',
      ],
      ready: /EHome platform on/,
      summary: /device\(s\) online at exit/,
    },
    {
      name: 'sdk simulate',
      args: ['sdk', 'simulate', '--address', '127.0.0.1', '--port', '0'],
      ready: /simulated SDK controller/,
      summary: /simulated SDK controller/,
    },
    {
      name: 'gvsp receive',
      args: ['gvsp', 'receive', '--seconds', '60'],
      ready: /listening on UDP port/,
      summary: /^0 frames on UDP port \d+$/m,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const cam = spawnCam(c.args);
      const deadline = Date.now() + 30_000;
      while (!c.ready.test(cam.stdout() + cam.stderr()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(cam.stdout() + cam.stderr()).toMatch(c.ready);
      cam.child.kill('SIGINT');
      expect(await cam.exit, cam.stderr()).toBe(130);
      expect(cam.stdout()).toMatch(c.summary);
    }, 60_000);
  }

  it('scgvmp grab: stops the stream, prints the summary', async () => {
    const sim = spawnCam(['scgvmp', 'simulate', '--address', '127.0.0.1', '--port', '0', '--fps', '20'], 90_000);
    try {
      const deadline = Date.now() + 30_000;
      while (!/on 127\.0\.0\.1:\d+/.test(sim.stdout()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const port = /on 127\.0\.0\.1:(\d+)/.exec(sim.stdout())![1]!;
      const grab = spawnCam([
        'scgvmp',
        'grab',
        '127.0.0.1',
        '--port',
        port,
        '--frames',
        '100000',
        '--timeout',
        '60000',
      ]);
      while (!/^frame \d+: JPEG/m.test(grab.stdout()) && Date.now() < deadline + 30_000)
        await new Promise((r) => setTimeout(r, 50));
      grab.child.kill('SIGINT');
      expect(await grab.exit, grab.stderr()).toBe(130);
      expect(grab.stdout()).toMatch(/^received \d+ frames, \d+ bytes, \d+ missing; stream Idle$/m);
    } finally {
      sim.child.kill('SIGINT');
      await sim.exit;
    }
  }, 90_000);

  it('a command with nothing to clean up ends at once with 130', async () => {
    // gige discover waits for replies; SIGINT during the wait
    const cam = spawnCam(['gige', 'discover', '--address', '127.0.0.1', '--port', '9', '--timeout', '20000']);
    // discover has bound its UDP socket (so main runs) once one of the process's sockets is in the UDP table
    const hasSocket = (): boolean => {
      try {
        const pid = cam.child.pid;
        const inodes = readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
          try {
            const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
            return m ? [m[1]!] : [];
          } catch {
            return [];
          }
        });
        const udp = readFileSync(`/proc/${pid}/net/udp`, 'utf8').split('\n').slice(1);
        return udp.some((line) => inodes.includes(line.trim().split(/\s+/)[9] ?? ''));
      } catch {
        return false;
      }
    };
    await until(hasSocket, 'discover to bind its socket');
    cam.child.kill('SIGINT');
    expect(await cam.exit).toBe(130);
  }, 60_000);
});

describe('CLI from source', () => {
  it('exits 2 for a parser error in a real process too', async () => {
    const r = await runCam(['gige', 'grab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'ip'/);
  });
});
