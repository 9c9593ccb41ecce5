import type { Browser, LaunchOptions } from 'playwright-core';
import { chromium } from 'playwright-core';

/**
 * Headless Chromium for browser tests: always Debian's system browser (`/usr/bin/chromium`, installed by `.ci/run`),
 * never a downloaded build. Tests reach it through `describeInterop('...', ['chromium'], ...)` so a machine without
 * it skips with one notice locally and fails under `CAM_INTEROP=1`.
 */
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

/** Launches the system Chromium headless. Only loopback pages are loaded by our tests; nothing is fetched outside. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_EXECUTABLE,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium refuses its sandbox. The pages are our own, served on loopback.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', ...(options.args ?? [])],
    timeout: 60_000,
    ...options,
  });
}
