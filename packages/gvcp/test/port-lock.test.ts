import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireExclusive, withExclusive } from '../../../test-support/port-lock.js';

// The cross-process lock the suites using 127.0.0.1:3956 take turns with; each test uses its own directory.
describe('test-support port lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cam-port-lock-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands the lock to one holder at a time, in turn', async () => {
    const events: string[] = [];
    const holder = async (id: string): Promise<void> => {
      await withExclusive(
        'turns',
        async () => {
          events.push(`in ${id}`);
          await new Promise((r) => setTimeout(r, 30));
          events.push(`out ${id}`);
        },
        { dir, pollMs: 5 },
      );
    };
    await Promise.all(['a', 'b', 'c', 'd'].map(holder));
    expect(events).toHaveLength(8);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]?.startsWith('in ')).toBe(true);
      expect(events[i + 1]).toBe(`out ${events[i]?.slice(3)}`);
    }
    expect(existsSync(join(dir, 'cam-test-lock-turns.lock'))).toBe(false);
  });

  it('holds the pid in the lock file and removes it on release, once', async () => {
    const release = await acquireExclusive('pid', { dir });
    const file = join(dir, 'cam-test-lock-pid.lock');
    expect(readFileSync(file, 'utf8').split(' ')[0]).toBe(String(process.pid));
    release();
    expect(existsSync(file)).toBe(false);
    const again = await acquireExclusive('pid', { dir, timeoutMs: 1000 });
    release(); // a second call must not remove the new holder's file
    expect(existsSync(file)).toBe(true);
    again();
  });

  it('takes over a lock whose process has exited', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    expect(pid).toBeGreaterThan(0);
    writeFileSync(join(dir, 'cam-test-lock-stale.lock'), `${pid} gone\n`);
    const release = await acquireExclusive('stale', { dir, timeoutMs: 5000, pollMs: 10 });
    expect(readFileSync(join(dir, 'cam-test-lock-stale.lock'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    release();
  });

  it('gives up after its bounded wait with an error naming the holder', async () => {
    const release = await acquireExclusive('busy', { dir });
    try {
      await expect(acquireExclusive('busy', { dir, timeoutMs: 200, pollMs: 20 })).rejects.toThrow(
        new RegExp(`timed out after 200 ms .*"busy".*held by pid ${process.pid}`),
      );
    } finally {
      release();
    }
  });

  it('rejects a name that is not a plain file name', async () => {
    await expect(acquireExclusive('../x', { dir })).rejects.toThrow(/invalid lock name/);
  });
});
