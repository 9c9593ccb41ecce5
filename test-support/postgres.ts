import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// No vitest import here: benchmarks use this file too.

/** The directory of Debian's PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`), newest version first. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(`${root}/${v}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : `${root}/${versions[0]}/bin`;
}

/** A PostgreSQL server a test started: its URL, and `stop()` which stops it and removes its data. */
export interface TestPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** The uid/gid of the `postgres` user (initdb refuses to run as root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * Starts Debian's PostgreSQL on a free loopback port with its data in a new temporary directory: `initdb` (trust
 * authentication, loopback only), then the server in the foreground (its process is ours, so a crashed test leaves
 * nothing behind once `stop()` or the process exit kills it). As root, both run as the `postgres` user via `runuser`
 * with the directory chowned to it. Resolves once the server accepts connections (bounded: 30 s).
 */
export async function startPostgres(options: { database?: string } = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'cam-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? postgresUser() : undefined;
  if (asRoot && !user) throw new Error('running as root needs the postgres user to run initdb');
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (cmd: string, args: string[]): [string, string[]] =>
    user ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const [initCmd, initArgs] = run(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'cam',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const port = await freeTcpPort();
  const [pgCmd, pgArgs] = run(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    dir,
    '-c',
    'fsync=off',
    '-c',
    'max_connections=100',
  ]);
  const child: ChildProcess = spawn(pgCmd, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (log.length < 20_000) log += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // pg_ctl waits until the server is down (a signal to runuser would not reach postgres itself).
      const [ctlCmd, ctlArgs] = run(join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast', '-w', '-t', '20']);
      try {
        execFileSync(ctlCmd, ctlArgs, { stdio: 'pipe', timeout: 30_000 });
      } catch {
        child.kill('SIGKILL');
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const database = options.database ?? 'postgres';
  const until = Date.now() + 30_000;
  const pg = (await import('pg')).default;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`postgres exited at start: ${log}`);
    }
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'cam', database: 'postgres' });
    try {
      await c.connect();
      if (database !== 'postgres') await c.query(`create database ${database}`);
      await c.end();
      break;
    } catch {
      await c.end().catch(() => {});
      if (Date.now() > until) {
        await stop();
        throw new Error(`postgres did not accept connections within 30 s: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url: `postgres://cam@127.0.0.1:${port}/${database}`, port, stop };
}
