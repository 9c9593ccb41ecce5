import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** True when CI asks for interop tests to be mandatory (`CAM_INTEROP=1`). */
export const interopRequired = process.env.CAM_INTEROP === '1';

/** True when `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when /usr/bin/python3 can import `gi` and load Aravis 0.8. */
export function hasPythonAravis(): boolean {
  try {
    execFileSync(
      '/usr/bin/python3',
      ['-c', "import gi; gi.require_version('Aravis', '0.8'); from gi.repository import Aravis"],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** True when this process may create network namespaces (root with `ip netns`). */
export function canUseNetns(): boolean {
  return process.getuid?.() === 0 && hasCommand('ip');
}

/**
 * `describe` for a suite that needs external peers. When a peer is missing the suite is skipped with a visible
 * notice, except under CAM_INTEROP=1, where a missing peer is a failing test.
 */
export function describeInterop(name: string, peers: Record<string, boolean>, body: () => void): void {
  const missing = Object.entries(peers)
    .filter(([, ok]) => !ok)
    .map(([peer]) => peer);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (interopRequired) {
    describe(name, () => {
      it('has its interop peers installed', () => {
        throw new Error(`CAM_INTEROP=1 but missing: ${missing.join(', ')} (see .ci/run for the install step)`);
      });
    });
    return;
  }
  process.stderr.write(`[interop] skipping "${name}": missing ${missing.join(', ')} (set CAM_INTEROP=1 to require)\n`);
  describe.skip(name, body);
}
