/**
 * `cam view` benchmark: frames displayed per second in headless Chromium (Debian's, through test-support/browser.ts)
 * against the camera's rate, the receiver's losses, the median delay from a frame's completion in the receiver to its
 * display, and the CPU the viewer adds. The simulated camera and `cam view` (from source, with the browser app built
 * into dist/viewer) run as their own processes on loopback so each one's CPU is read from /proc.
 *
 * Run: `cd packages/cli && node scripts/build-viewer.mjs && flock /tmp/cam-bench.lock node --conditions=@cam/source
 * --import tsx bench/view.ts` (BENCH_SECONDS, default 10, per measurement; BENCH_SIZES=small|large|both, default
 * both; BENCH_PACKET, the 1280x1024 run's packet size, default 1500; BENCH_RENDER=2d|webgl forces a way to draw;
 * BENCH_CHROMIUM_ARGS adds Chromium flags). CPU is per process: the simulator, `cam view`,
 * and each kind of Chromium process (browser, renderer, gpu-process, utility:network...).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CHROMIUM_EXECUTABLE, launchChromium } from '../../../test-support/browser.js';
import { type StartedCam, startCam } from '../../../test-support/cli.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** BENCH_SIZES=small|large|both (default both): 640x480@30, 1280x1024@60. */
const SIZES = process.env.BENCH_SIZES ?? 'both';
/** BENCH_PACKET: the stream packet size of the 1280x1024 run (default 1500). */
const LARGE_PACKET = Number(process.env.BENCH_PACKET ?? 1500);
/** BENCH_RENDER=2d|webgl forces the page's way to draw (default: the page's choice). */
const RENDER = process.env.BENCH_RENDER;
/** BENCH_CHROMIUM_ARGS: extra Chromium flags, space-separated (e.g. `--use-angle=swiftshader`). */
const CHROMIUM_ARGS = (process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter((a) => a !== '');
const TICK = 100; // USER_HZ

/** CPU seconds (user + system) of a process and, with `tree`, all its descendants. */
function cpuSeconds(pid: number, tree = false): number {
  const stat = (p: number): { ppid: number; cpu: number } | undefined => {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK };
    } catch {
      return undefined;
    }
  };
  if (!tree) return stat(pid)?.cpu ?? 0;
  const all = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) all.set(Number(d), s);
  }
  const pids = new Set([pid]);
  for (let grown = true; grown; ) {
    grown = false;
    for (const [p, s] of all)
      if (!pids.has(p) && pids.has(s.ppid)) {
        pids.add(p);
        grown = true;
      }
  }
  let sum = 0;
  for (const p of pids) sum += all.get(p)?.cpu ?? 0;
  return sum;
}

/** Chromium's process kind from its command line (`--type=renderer`, `gpu-process`, ...; none: the browser). */
function chromiumKind(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    if (!cmd[0]?.includes('chrom')) return 'other';
    const t = cmd.find((a) => a.startsWith('--type='))?.slice(7);
    const sub = cmd.find((a) => a.startsWith('--utility-sub-type='))?.slice(19);
    return t === undefined ? 'browser' : sub ? `${t}:${sub}` : t;
  } catch {
    return 'gone';
  }
}

/** CPU seconds per Chromium process kind among `root`'s descendants (excluding the `skip` trees). */
function chromiumCpu(root: number, skip: number[]): Map<string, number> {
  const all = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      all.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK });
    } catch {}
  }
  const out = new Map<string, number>();
  const walk = (p: number): void => {
    for (const [c, s] of all)
      if (s.ppid === p && !skip.includes(c)) {
        const k = chromiumKind(c);
        if (k !== 'other') out.set(k, (out.get(k) ?? 0) + s.cpu);
        walk(c);
      }
  };
  walk(root);
  return out;
}

/** BENCH_DRIVER=cdp (default) or playwright: how the bench drives Chromium (see {@link cdpBrowser}). */
const DRIVER = process.env.BENCH_DRIVER ?? 'cdp';

/** A page the bench reads: evaluate a function of one JSON argument in it. */
interface BenchPage {
  evaluate<T, A = undefined>(fn: (arg: A) => T, arg?: A): Promise<T>;
}
interface BenchBrowser {
  open(url: string): Promise<BenchPage>;
  close(): Promise<void>;
}

async function playwrightBrowser(): Promise<BenchBrowser> {
  const browser = await launchChromium({ args: CHROMIUM_ARGS });
  return {
    async open(url) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(url);
      return { evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never };
    },
    close: () => browser.close(),
  };
}

/**
 * The same headless Chromium with the same flags as test-support/browser.ts, driven over a bare DevTools socket that
 * only evaluates: Playwright enables the Network domain, and Chromium then sends every WebSocket frame the page
 * receives to the driver as base64 (1.7 MB a frame at 1280x1024), which costs the browser process and the driver
 * more CPU than the page itself. No real user has that, so the figures use this driver.
 */
async function cdpBrowser(): Promise<BenchBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cam-view-bench-'));
  const child: ChildProcess = spawn(
    CHROMIUM_EXECUTABLE,
    [
      '--headless',
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--enable-unsafe-swiftshader',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-renderer-backgrounding',
      '--disable-background-timer-throttling',
      '--mute-audio',
      '--hide-scrollbars',
      '--window-size=1400,900',
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      ...CHROMIUM_ARGS,
      'about:blank',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let port = 0;
  for (let i = 0; i < 300 && port === 0; i++) {
    try {
      port = Number(readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]);
    } catch {
      await sleep(100);
    }
  }
  if (!port) throw new Error('Chromium did not open its DevTools port in 30 s');
  const sockets: WebSocket[] = [];
  return {
    async open(url) {
      const t = (await (
        await fetch(`http://127.0.0.1:${port}/json/new?${encodeURIComponent(url)}`, { method: 'PUT' })
      ).json()) as {
        webSocketDebuggerUrl: string;
      };
      const ws = new WebSocket(t.webSocketDebuggerUrl, { maxPayload: 64 * 1024 * 1024 });
      sockets.push(ws);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      let next = 1;
      const waiting = new Map<number, (m: { result?: { result?: { value?: unknown } }; error?: unknown }) => void>();
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id?: number };
        if (m.id !== undefined) waiting.get(m.id)?.(m as never);
      });
      return {
        evaluate<T, A>(fn: (arg: A) => T, arg?: A): Promise<T> {
          const id = next++;
          const expression = `(${fn.toString()})(${JSON.stringify(arg ?? null)})`;
          return new Promise<T>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('evaluate timed out')), 30_000);
            waiting.set(id, (m) => {
              clearTimeout(timer);
              waiting.delete(id);
              if (m.error) reject(new Error(JSON.stringify(m.error)));
              else resolve(m.result?.result?.value as T);
            });
            ws.send(JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }));
          });
        },
      };
    },
    async close() {
      for (const s of sockets) s.terminate();
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await sleep(300); // the zygote's children go after the browser
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

/** Polls `fn` in the page until it is true (at most `timeoutMs`). */
async function waitFor(page: BenchPage, fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(fn).catch(() => false))) {
    if (Date.now() > end) throw new Error(`page condition not met in ${timeoutMs} ms`);
    await sleep(200);
  }
}

interface Stats {
  completedFrames: number;
  failures: number;
  missingPackets: number;
  resentPackets: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(p: StartedCam): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGINT');
  await Promise.race([p.exit, sleep(5000)]);
  if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

async function run(
  width: number,
  height: number,
  fps: number,
  packetSize: number,
): Promise<Record<string, string | number>> {
  const sim = await startCam(
    [
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--width',
      String(width),
      '--height',
      String(height),
      '--fps',
      String(fps),
      '--pixel-format',
      'Mono8',
      '--json',
    ],
    { timeoutMs: 10 * 60_000 },
  );
  // the simulator is stopped whatever fails after it started
  let view: StartedCam;
  let browser: BenchBrowser;
  try {
    view = await startCam(
      [
        'view',
        '--gige',
        '127.0.0.1',
        '--gige-port',
        String(JSON.parse(sim.firstLine).port),
        '--packet-size',
        String(packetSize),
        '--json',
      ],
      { timeoutMs: 10 * 60_000 },
    );
    const started = view;
    browser = await (DRIVER === 'playwright' ? playwrightBrowser() : cdpBrowser()).catch(async (e: unknown) => {
      await stop(started);
      throw e;
    });
  } catch (e) {
    await stop(sim);
    throw e;
  }
  try {
    const { url, open } = JSON.parse(view.firstLine) as { url: string; open: string };
    const stats = async (): Promise<Stats> => (await (await fetch(`${url}api/gige/gige-1/stats`)).json()) as Stats;
    const viewPid = view.child.pid as number;
    const simPid = sim.child.pid as number;
    // Chromium's processes are the rest of this process's tree
    const browserCpuNow = (): number =>
      cpuSeconds(process.pid, true) - cpuSeconds(process.pid) - cpuSeconds(simPid, true) - cpuSeconds(viewPid, true);

    // the receiver alone (no page open): the floor for the viewer's added CPU
    await sleep(2000);
    let s0 = await stats();
    let c0 = cpuSeconds(viewPid);
    let t0 = performance.now();
    await sleep(SECONDS * 1000);
    let s1 = await stats();
    const receiverOnly = (cpuSeconds(viewPid) - c0) / ((performance.now() - t0) / 1000);
    const receiverOnlyFps = ((s1.completedFrames - s0.completedFrames) * 1000) / (performance.now() - t0);

    const target = new URL(open);
    if (RENDER) target.searchParams.set('render', RENDER);
    const page = await browser.open(target.href);
    await waitFor(
      page,
      () => ((globalThis as unknown as { camViewer?: { displayed: number } }).camViewer?.displayed ?? 0) > 10,
      60_000,
    );
    await sleep(2000);
    const shown = () =>
      page.evaluate(() => {
        const v = (globalThis as unknown as { camViewer: { displayed: number; dropped: number; delays: number[] } })
          .camViewer;
        return { displayed: v.displayed, dropped: v.dropped, delays: v.delays.length };
      });
    const d0 = await shown();
    s0 = await stats();
    c0 = cpuSeconds(viewPid);
    const b0 = browserCpuNow();
    const me0 = process.cpuUsage();
    const k0 = chromiumCpu(process.pid, [simPid, viewPid]);
    const sim0 = cpuSeconds(simPid, true);
    t0 = performance.now();
    await sleep(SECONDS * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const d1 = await shown();
    s1 = await stats();
    const viewCpu = (cpuSeconds(viewPid) - c0) / elapsed;
    const browserCpu = (browserCpuNow() - b0) / elapsed;
    const simCpu = (cpuSeconds(simPid, true) - sim0) / elapsed;
    const me = process.cpuUsage(me0);
    const driverCpu = (me.user + me.system) / 1e6 / elapsed;
    const kinds: Record<string, string> = {};
    for (const [k, v] of chromiumCpu(process.pid, [simPid, viewPid]))
      kinds[`Chromium ${k}`] = `${((100 * (v - (k0.get(k) ?? 0))) / elapsed).toFixed(0)}%`;
    const delays = (
      await page.evaluate(
        (from) => (globalThis as unknown as { camViewer: { delays: number[] } }).camViewer.delays.slice(from),
        d0.delays,
      )
    ).sort((a, b) => a - b);
    const draws = (
      await page.evaluate(() =>
        (globalThis as unknown as { camViewer: { drawMs: number[] } }).camViewer.drawMs.slice(-200),
      )
    ).sort((a, b) => a - b);
    const received = (s1.completedFrames - s0.completedFrames) / elapsed;
    const displayed = (d1.displayed - d0.displayed) / elapsed;
    return {
      config: `${width}x${height} Mono8 @ ${fps}, packets of ${packetSize} B`,
      'camera fps (receiver, page open)': received.toFixed(1),
      'displayed fps': displayed.toFixed(1),
      'displayed / camera': `${((100 * displayed) / fps).toFixed(1)}%`,
      'displayed / received': `${((100 * displayed) / received).toFixed(1)}%`,
      'dropped for display': d1.dropped - d0.dropped,
      'receiver failed frames': s1.failures - s0.failures,
      'missing packets': s1.missingPackets - s0.missingPackets,
      'resent packets': s1.resentPackets - s0.resentPackets,
      'median completion-to-display ms': (delays[Math.floor(delays.length / 2)] ?? Number.NaN).toFixed(1),
      'median draw ms (convert + upload + draw)': (draws[Math.floor(draws.length / 2)] ?? Number.NaN).toFixed(2),
      'p90 ms': (delays[Math.floor(delays.length * 0.9)] ?? Number.NaN).toFixed(1),
      'cam view CPU, receiver only': `${(100 * receiverOnly).toFixed(0)}% (${receiverOnlyFps.toFixed(1)} fps)`,
      'cam view CPU, page open': `${(100 * viewCpu).toFixed(0)}%`,
      'viewer added CPU (server)': `${(100 * (viewCpu - receiverOnly)).toFixed(0)}%`,
      render: await page.evaluate(() => (globalThis as unknown as { camViewer: { render: string } }).camViewer.render),
      'Chromium CPU (all processes)': `${(100 * browserCpu).toFixed(0)}%`,
      ...kinds,
      'simulator CPU, page open': `${(100 * simCpu).toFixed(0)}%`,
      [`bench process (${DRIVER} driver) CPU`]: `${(100 * driverCpu).toFixed(0)}%`,
    };
  } finally {
    // the camera processes are stopped even when closing the browser fails
    await browser.close().catch((e: unknown) => console.error('closing Chromium:', e));
    await stop(view);
    await stop(sim);
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`cam view benchmark, ${SECONDS} s per measurement; load average before: ${load()}`);
for (const [w, h, fps, packet] of [
  ...(SIZES === 'large' ? [] : [[640, 480, 30, 1500] as const]),
  ...(SIZES === 'small' ? [] : [[1280, 1024, 60, LARGE_PACKET] as const]),
]) {
  const r = await run(w, h, fps, packet);
  console.log(JSON.stringify({ ...r, 'load average after': load() }, null, 2));
}
