import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { postgresBinDir } from './postgres.js';

/**
 * The one skip policy for tests that need something outside the repository (a real peer such as Aravis, a decoder
 * such as ffprobe, root for network namespaces). Locally a test whose tool is missing is skipped with one visible
 * notice line naming the tool and the Debian package that brings it; with `CAM_INTEROP=1` (CI) a missing tool is a
 * failing test. Every such test goes through {@link describeInterop} or {@link itInterop}; `.ci/run` installs every
 * package named in {@link EXTERNAL_TOOLS}.
 */

/** True when CI asks for interop tests to be mandatory (`CAM_INTEROP=1`). */
export const interopRequired = process.env.CAM_INTEROP === '1';

/** True when `command` is on the PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' });
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
      { stdio: 'ignore' },
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

export { postgresBinDir };

/** Everything a test may need from outside the repository: how to tell it is there, and what installs it. */
export const EXTERNAL_TOOLS = {
  'arv-fake-gv-camera-0.8': { available: () => hasCommand('arv-fake-gv-camera-0.8'), install: 'aravis-tools-cli' },
  'arv-tool-0.8': { available: () => hasCommand('arv-tool-0.8'), install: 'aravis-tools-cli' },
  'python3 Aravis': { available: hasPythonAravis, install: 'gir1.2-aravis-0.8 python3-gi' },
  tshark: { available: () => hasCommand('tshark'), install: 'tshark' },
  ffprobe: { available: () => hasCommand('ffprobe'), install: 'ffmpeg' },
  ffmpeg: { available: () => hasCommand('ffmpeg'), install: 'ffmpeg' },
  djpeg: { available: () => hasCommand('djpeg'), install: 'libjpeg-turbo-progs' },
  chromium: { available: () => existsSync('/usr/bin/chromium'), install: 'chromium' },
  postgresql: { available: () => postgresBinDir() !== undefined, install: 'postgresql' },
  netns: { available: canUseNetns, install: 'iproute2, and running as root' },
  npm: { available: () => hasCommand('npm'), install: 'npm (comes with Node.js)' },
} as const satisfies Record<string, { available: () => boolean; install: string }>;

/** The name of a tool in {@link EXTERNAL_TOOLS}. */
export type ExternalTool = keyof typeof EXTERNAL_TOOLS;

const availability = new Map<ExternalTool, boolean>();

/** Whether `tool` is there (asked once per process). */
export function hasTool(tool: ExternalTool): boolean {
  let ok = availability.get(tool);
  if (ok === undefined) {
    ok = EXTERNAL_TOOLS[tool].available();
    availability.set(tool, ok);
  }
  return ok;
}

/** The tools of `tools` that are missing, each with the Debian package that brings it. */
export function missingTools(tools: readonly ExternalTool[]): string[] {
  return tools.filter((t) => !hasTool(t)).map((t) => `${t} (Debian: ${EXTERNAL_TOOLS[t].install})`);
}

/**
 * Accepts the tool names of {@link EXTERNAL_TOOLS} or, for a condition that is not a tool (a kernel feature, say), a
 * record of `label: available`.
 */
type Needs = readonly ExternalTool[] | Readonly<Record<string, boolean>>;

function missingOf(needs: Needs): string[] {
  if (Array.isArray(needs)) return missingTools(needs as readonly ExternalTool[]);
  return Object.entries(needs)
    .filter(([, ok]) => !ok)
    .map(([label]) =>
      label in EXTERNAL_TOOLS ? `${label} (Debian: ${EXTERNAL_TOOLS[label as ExternalTool].install})` : label,
    );
}

function notice(kind: string, name: string, missing: string[]): void {
  process.stderr.write(
    `[interop] skipping ${kind} "${name}": missing ${missing.join(', ')} (CAM_INTEROP=1 makes this a failure)\n`,
  );
}

function missingError(missing: string[]): Error {
  return new Error(`CAM_INTEROP=1 but missing: ${missing.join(', ')} (.ci/run installs them)`);
}

/**
 * `describe` for a suite that needs outside tools. When one is missing the suite is skipped with one notice line,
 * except under CAM_INTEROP=1, where the suite is one failing test that names what is missing.
 */
export function describeInterop(name: string, needs: Needs, body: () => void): void {
  const missing = missingOf(needs);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (interopRequired) {
    describe(name, () => {
      it('has its outside tools installed', () => {
        throw missingError(missing);
      });
    });
    return;
  }
  notice('suite', name, missing);
  describe.skip(name, body);
}

/** `it` for one test that needs outside tools; same policy as {@link describeInterop}. */
export function itInterop(name: string, needs: Needs, fn: () => unknown | Promise<unknown>, timeoutMs?: number): void {
  const missing = missingOf(needs);
  if (missing.length === 0) {
    it(name, fn, timeoutMs);
    return;
  }
  if (interopRequired) {
    it(name, () => {
      throw missingError(missing);
    });
    return;
  }
  notice('test', name, missing);
  it.skip(name, fn);
}

/**
 * For a check inside a test that only runs where a tool is (an extra ffprobe pass over a file the test wrote):
 * true when the tool is there; when it is missing, false with one notice line, or under CAM_INTEROP=1 a thrown error.
 */
export function requireTool(tool: ExternalTool, what: string): boolean {
  if (hasTool(tool)) return true;
  const missing = missingTools([tool]);
  if (interopRequired) throw missingError(missing);
  notice('check', what, missing);
  return false;
}
