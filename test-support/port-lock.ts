import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An exclusive lock shared by every process on this machine (vitest runs test files in parallel workers, and other
 * runs may be going on at the same time), for resources that cannot be given port 0, such as 127.0.0.1:3956 (the
 * GVCP port: arv-tool and Aravis only ever talk to 3956).
 *
 * The lock is a file in os.tmpdir() created with `O_CREAT | O_EXCL` (`wx`) holding `<pid> <token>`. It is released by
 * the function `acquireExclusive` returns, and at the latest when the holding process exits. A lock whose pid is no
 * longer running (a worker killed mid-test) is taken over. Waiting is bounded: after `timeoutMs` (120 s by default)
 * `acquireExclusive` throws an error naming the holder.
 */

/** Default bound on the wait for a lock. */
export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

/** The lock that serialises every test using the GVCP port 127.0.0.1:3956. */
export const GVCP_PORT_LOCK = 'gvcp-127.0.0.1-3956';

/** A beforeAll timeout that leaves room for the wait for a lock plus the suite's own set-up. */
export const LOCKED_HOOK_TIMEOUT_MS = DEFAULT_LOCK_TIMEOUT_MS + 60_000;

export interface ExclusiveOptions {
  /** Longest total wait, in ms (default 120 s). */
  timeoutMs?: number;
  /** Delay between attempts, in ms (default 100). */
  pollMs?: number;
  /** Directory of the lock files (default os.tmpdir()). */
  dir?: string;
}

/** Releases a lock; calling it more than once does nothing. */
export type Release = () => void;

/** How long a lock file may stay empty (its creator between open and write) before it counts as abandoned. */
const EMPTY_GRACE_MS = 5_000;
/** How long the takeover guard may be held before it counts as abandoned (a holder does a few syscalls only). */
const GUARD_GRACE_MS = 5_000;

/** Lock files this process holds, removed on exit if the test never released them. */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [path, content] of held) unlinkIfOurs(path, content);
    held.clear();
  });
}

function lockPath(name: string, dir: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error(`invalid lock name ${JSON.stringify(name)}`);
  return join(dir, `cam-test-lock-${name}.lock`);
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function unlinkIfOurs(path: string, content: string): void {
  if (readOrUndefined(path) !== content) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** True when `pid` names a running process (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ageMs(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Creates `path` exclusively with `content`; false when it exists. */
function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The pid in a lock file's content, if it has one. */
function holderPid(content: string | undefined): number | undefined {
  const pid = Number.parseInt(content?.split(/\s/, 1)[0] ?? '', 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Removes the lock file at `path` when its holder is gone. Only one process at a time does this (a second exclusive
 * file guards it), and it re-reads the holder under the guard, so a lock just taken by a live process is never removed.
 */
function removeIfStale(path: string): void {
  const guard = `${path}.takeover`;
  const guardContent = `${process.pid} ${Math.random().toString(36).slice(2)}\n`;
  if (!tryCreate(guard, guardContent)) {
    const age = ageMs(guard);
    // A guard left by a process that died in the middle of a takeover.
    if (age !== undefined && age > GUARD_GRACE_MS && !alive(holderPid(readOrUndefined(guard)) ?? 0)) {
      try {
        unlinkSync(guard);
      } catch {
        // Someone else removed it.
      }
    }
    return;
  }
  try {
    const content = readOrUndefined(path);
    if (content === undefined) return;
    const pid = holderPid(content);
    const stale = pid === undefined ? (ageMs(path) ?? 0) > EMPTY_GRACE_MS : pid !== process.pid && !alive(pid);
    if (stale) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already.
      }
    }
  } finally {
    unlinkIfOurs(guard, guardContent);
  }
}

/** A short description of who holds the lock, for the timeout error. */
function describeHolder(path: string): string {
  const content = readOrUndefined(path);
  const pid = holderPid(content);
  if (pid === undefined) return content === undefined ? 'nobody (it was just released)' : 'an unknown process';
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 300);
  } catch {
    // Not Linux, or the process is gone.
  }
  return `pid ${pid}${command ? ` (${command})` : ''}`;
}

/**
 * Waits (bounded) until this caller holds the lock `name`, then returns the function that releases it. Polls every
 * `pollMs`; takes over a lock whose holder has died; throws after `timeoutMs` with the holder's pid and command line.
 */
export async function acquireExclusive(name: string, options: ExclusiveOptions = {}): Promise<Release> {
  const { timeoutMs = DEFAULT_LOCK_TIMEOUT_MS, pollMs = 100, dir = tmpdir() } = options;
  const path = lockPath(name, dir);
  const content = `${process.pid} ${Date.now().toString(36)}${Math.random().toString(36).slice(2)}\n`;
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / Math.max(1, pollMs)) + 1000;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (tryCreate(path, content)) {
      held.set(path, content);
      installExitHook();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(path);
        unlinkIfOurs(path, content);
      };
    }
    removeIfStale(path);
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for the exclusive test lock "${name}" (${path}), held by ${describeHolder(path)}`,
  );
}

/** Runs `fn` while holding the lock `name` (see acquireExclusive), and releases it however `fn` ends. */
export async function withExclusive<T>(
  name: string,
  fn: () => T | Promise<T>,
  options: ExclusiveOptions = {},
): Promise<T> {
  const release = await acquireExclusive(name, options);
  try {
    return await fn();
  } finally {
    release();
  }
}
