import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { acquireExclusive, GVCP_PORT_LOCK, type Release } from './port-lock.js';

/** The Aravis tools the interop tests use (Debian aravis-tools, aravis-tools-cli). */
export const FAKE_CAMERA = 'arv-fake-gv-camera-0.8';
export const ARV_TOOL = 'arv-tool-0.8';

const run = promisify(execFile);

/** Runs `arv-tool-0.8 -a 127.0.0.1 ...` and returns its stdout (bounded to 20 s). */
export async function arvTool(...args: string[]): Promise<string> {
  const { stdout } = await run(ARV_TOOL, ['-a', '127.0.0.1', ...args], { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 });
  return stdout;
}

/**
 * An `arv-fake-gv-camera-0.8 -i 127.0.0.1` for one test file. `start()` takes the cross-process lock on
 * 127.0.0.1:3956 (suites that need the port take turns) and makes sure a camera answers: one left by a killed run is
 * used as is, else one is started (again if it dies at once), within 15 s. `stop()` ends the camera this helper
 * started and releases the lock. `answers` probes the port (a unicast DISCOVERY from the caller's package).
 */
export class FakeCamera {
  private process: ChildProcess | undefined;
  private release: Release | undefined;

  constructor(
    private readonly answers: () => Promise<boolean>,
    private readonly args: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.release = await acquireExclusive(GVCP_PORT_LOCK);
    await this.ensure();
  }

  /** Starts the camera again if it is not answering (bounded: 15 s). */
  async ensure(): Promise<void> {
    if (await this.answers()) return;
    const deadline = Date.now() + 15_000;
    for (;;) {
      this.process = spawn(FAKE_CAMERA, ['-i', '127.0.0.1', ...this.args], { stdio: 'ignore' });
      const started = Date.now();
      while (this.process.exitCode === null && !(await this.answers()) && Date.now() - started < 3000) {}
      if (await this.answers()) return;
      this.process.kill('SIGTERM');
      this.process = undefined;
      if (Date.now() > deadline) throw new Error(`${FAKE_CAMERA} did not answer on 127.0.0.1:3956`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    try {
      const p = this.process;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await exited;
    } finally {
      this.process = undefined;
      this.release?.();
      this.release = undefined;
    }
  }
}
