import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type DanglingReference, type FeatureValue, NodeMap, type NodeType, type Port } from '@cam/genicam';
import { connectCamera, unzipOne } from '@cam/gvcp';
import type { Command } from 'commander';
import { action, printJson, terminalSafe } from '../output.js';

/** The Aravis tools `--aravis` runs (Debian package aravis-tools-cli). */
export const ARAVIS_FAKE_CAMERA = 'arv-fake-gv-camera-0.8';
export const ARAVIS_TOOL = 'arv-tool-0.8';
/** Features per `arv-tool control` call: bounded command lines; each call parses the whole XML again. */
const CONTROL_BATCH = 200;
/** Listed per category in text output before "... and N more". */
const LIST_LIMIT = 20;

const VALUE_TYPES: ReadonlySet<NodeType> = new Set<NodeType>([
  'Integer',
  'Float',
  'Boolean',
  'String',
  'Enumeration',
  'IntReg',
  'MaskedIntReg',
  'FloatReg',
  'StringReg',
  'IntConverter',
  'Converter',
  'IntSwissKnife',
  'SwissKnife',
]);
const FLOAT_TYPES: ReadonlySet<string> = new Set(['Float', 'FloatReg', 'Converter', 'SwissKnife']);

/** A port for a node map that is only inspected: any read or write is refused. */
const NO_DEVICE: Port = {
  read: () => Promise.reject(new Error('no device: the file is checked offline')),
  write: () => Promise.reject(new Error('no device: the file is checked offline')),
};

export interface AravisComparison {
  /** Features both sides read with the same value. */
  agree: number;
  /** Features both sides read, with different values. */
  mismatch: { feature: string; aravis: string; ours: string }[];
  /** Features Aravis reads and we refuse (our error). */
  onlyAravis: { feature: string; aravis: string; error: string }[];
  /** Features we read and Aravis refuses. */
  onlyOurs: { feature: string; ours: string }[];
  /** Features neither side reads. */
  neither: number;
  /** Features whose read made the fake camera exit (not compared; it was started again). */
  killsFakeCamera: string[];
}

export interface FileCheck {
  file: string;
  ok: boolean;
  /** Loading failed (not an XML GenICam document, zip problem, ...). */
  error?: string;
  vendor?: string;
  model?: string;
  schema?: string;
  nodes: number;
  byType: Record<string, number>;
  unsupported: { node: string; type: string }[];
  dangling: DanglingReference[];
  warnings: string[];
  aravis?: AravisComparison | { error: string };
}

/** The XML text of a GenICam file: plain, or the one file of a .zip (recognised by its signature). */
export async function readGenicamFile(file: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(file));
  const zipped = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  return zipped ? unzipOne(bytes) : bytes;
}

/** Loads a GenICam file offline and reports unsupported nodes, dangling references and a summary. */
export async function checkGenicamXml(file: string, xml: Uint8Array): Promise<FileCheck> {
  const result: FileCheck = {
    file,
    ok: false,
    nodes: 0,
    byType: {},
    unsupported: [],
    dangling: [],
    warnings: [],
  };
  let map: NodeMap;
  try {
    map = await NodeMap.load(xml, NO_DEVICE);
  } catch (e) {
    result.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return result;
  }
  result.vendor = map.vendorName;
  result.model = map.modelName;
  result.schema = `${map.schemaVersion.major}.${map.schemaVersion.minor}.${map.schemaVersion.subMinor}`;
  for (const name of map.names()) {
    const type = map.typeOf(name);
    if (type === 'EnumEntry') continue;
    result.nodes++;
    result.byType[type] = (result.byType[type] ?? 0) + 1;
  }
  result.unsupported = [...map.unsupported].map(([node, type]) => ({ node, type }));
  result.dangling = map.danglingReferences();
  result.warnings = [...map.warnings];
  result.ok = result.unsupported.length === 0 && result.dangling.length === 0;
  return result;
}

/** True when nothing is bound to 127.0.0.1:3956 (we can bind it for a moment ourselves). */
async function gvcpPortFree(): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(3956, '127.0.0.1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

const run = promisify(execFile);

/**
 * `arv-tool control A B` lines such as `Width = 512 min:1 max:2048 inc:1` or `Gain = 0 dB`: the value with the unit
 * still attached and the range dropped. A name without such a line is one Aravis refused.
 */
export function controlValues(out: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\S+) = (.*)$/.exec(line);
    if (m !== null) values.set(m[1] as string, (m[2] as string).replace(/ (?:min|max|inc):\S+/g, ''));
  }
  return values;
}

/** C printf `%g` (what arv-tool prints for a double). */
export function printfG(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(5).split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(Number(x.toPrecision(6)));
}

function asAravisPrints(v: FeatureValue, type: NodeType): string {
  if (typeof v === 'number' && FLOAT_TYPES.has(type)) return printfG(v);
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return String(v);
}

/** Restarts of the fake camera one comparison may do (it dies on some reads of vendor files' addresses). */
const MAX_RESTARTS = 300;

/** An `arv-fake-gv-camera-0.8 -i 127.0.0.1 -g FILE` that can be restarted when a read kills it. */
class FakeCameraProcess {
  private child: ChildProcess | undefined;
  restarts = 0;
  constructor(private readonly xmlPath: string) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.child = spawn(ARAVIS_FAKE_CAMERA, ['-i', '127.0.0.1', '-g', this.xmlPath], { stdio: 'ignore' });
    this.child.once('error', () => {});
  }

  /** Starts it again and waits until `ready` answers (bounded); throws after {@link MAX_RESTARTS}. */
  async restart(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    await this.stop();
    if (++this.restarts > MAX_RESTARTS) throw new Error(`${ARAVIS_FAKE_CAMERA} died more than ${MAX_RESTARTS} times`);
    this.start();
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (!this.running || Date.now() > deadline) throw new Error(`${ARAVIS_FAKE_CAMERA} did not start again`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts Aravis's fake camera on 127.0.0.1:3956 with `xmlPath`, reads every value feature with arv-tool and with our
 * client + node map (loaded from the XML the camera serves over GVCP), and compares. A feature whose read kills the
 * fake camera (it has happened with vendor files: its memory is not theirs) is found by splitting the batch,
 * listed in `killsFakeCamera`, and the camera is started again. The camera is always stopped at the end.
 */
export async function compareWithAravis(xmlPath: string, timeoutMs: number): Promise<AravisComparison> {
  if (!(await gvcpPortFree()))
    throw new Error('127.0.0.1:3956 is in use (another camera or test): --aravis needs the GVCP port to itself');
  const fake = new FakeCameraProcess(xmlPath);
  fake.start();
  try {
    // connect (and load the camera's own XML over GVCP), retrying while the camera starts: bounded
    const deadline = Date.now() + timeoutMs;
    let camera: Awaited<ReturnType<typeof connectCamera>> | undefined;
    for (let attempt = 0; camera === undefined; attempt++) {
      if (!fake.running) throw new Error(`${ARAVIS_FAKE_CAMERA} exited at start with this file`);
      try {
        camera = await connectCamera('127.0.0.1', { control: false, tryTimeoutMs: 200, retries: 1 });
      } catch (e) {
        if (Date.now() > deadline || attempt > 100)
          throw new Error(`${ARAVIS_FAKE_CAMERA} did not answer: ${e instanceof Error ? e.message : e}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const client = camera.client;
    const ready = (): Promise<boolean> =>
      client.readRegister(0, { tryTimeoutMs: 200, retries: 0 }).then(
        () => true,
        () => false,
      );
    try {
      const map = camera.nodeMap;
      const names = map.names().filter((n) => !n.startsWith('EnumEntry_') && VALUE_TYPES.has(map.typeOf(n)));
      const aravis = new Map<string, string>();
      const killers = new Set<string>();
      const readBatch = async (batch: string[]): Promise<void> => {
        // arv-tool would wait out its timeouts for every remaining feature of a camera that died: stop it at once
        const abort = new AbortController();
        const watch = setInterval(() => {
          if (!fake.running) abort.abort();
        }, 100);
        const { stdout } = await run(ARAVIS_TOOL, ['-a', '127.0.0.1', 'control', ...batch], {
          timeout: 60_000,
          maxBuffer: 4 * 1024 * 1024,
          signal: abort.signal,
        })
          .catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))
          .finally(() => clearInterval(watch));
        if (fake.running) {
          for (const [k, v] of controlValues(stdout)) aravis.set(k, v);
          return;
        }
        await fake.restart(ready, timeoutMs);
        if (batch.length === 1) {
          killers.add(batch[0] as string);
          return;
        }
        const half = Math.ceil(batch.length / 2);
        await readBatch(batch.slice(0, half));
        await readBatch(batch.slice(half));
      };
      for (let i = 0; i < names.length; i += CONTROL_BATCH) await readBatch(names.slice(i, i + CONTROL_BATCH));
      const result: AravisComparison = {
        agree: 0,
        mismatch: [],
        onlyAravis: [],
        onlyOurs: [],
        neither: 0,
        killsFakeCamera: [...killers],
      };
      map.invalidateCache();
      for (const feature of names) {
        if (killers.has(feature)) continue;
        let ours: string | undefined;
        let error = '';
        try {
          ours = asAravisPrints(await map.get(feature), map.typeOf(feature));
        } catch (e) {
          error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        }
        if (!fake.running) {
          // our read killed it: the same register reads that kill it for arv-tool
          result.killsFakeCamera.push(feature);
          await fake.restart(ready, timeoutMs);
          map.invalidateCache();
          continue;
        }
        let theirs = aravis.get(feature);
        if (theirs === '(null)') theirs = undefined; // arv-tool's printf of a NULL string: it could not read it
        if (theirs !== undefined && ours !== undefined) {
          // arv-tool appends the unit (`0 Hz`); ours is the same value when the units agree
          const unit = await map.describe(feature).then(
            (d) => d.unit,
            () => undefined,
          );
          if (unit && theirs.endsWith(` ${unit}`)) theirs = theirs.slice(0, -unit.length - 1);
        }
        if (theirs === undefined && ours === undefined) result.neither++;
        else if (theirs === undefined) result.onlyOurs.push({ feature, ours: ours as string });
        else if (ours === undefined) result.onlyAravis.push({ feature, aravis: theirs, error });
        else if (ours === theirs) result.agree++;
        else result.mismatch.push({ feature, aravis: theirs, ours });
      }
      return result;
    } finally {
      await camera.close();
    }
  } finally {
    await fake.stop();
  }
}

function more<T>(list: T[], show: (x: T) => string): string {
  const lines = list.slice(0, LIST_LIMIT).map((x) => `    ${terminalSafe(show(x))}\n`);
  if (list.length > LIST_LIMIT) lines.push(`    ... and ${list.length - LIST_LIMIT} more\n`);
  return lines.join('');
}

function printCheck(c: FileCheck): void {
  const out = process.stdout;
  if (c.error !== undefined) {
    out.write(`${terminalSafe(c.file)}: FAIL: ${terminalSafe(c.error)}\n`);
    return;
  }
  const types = Object.entries(c.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  out.write(
    `${terminalSafe(c.file)}: ${c.ok ? 'ok' : 'FAIL'} (${terminalSafe(c.vendor ?? '')} ${terminalSafe(c.model ?? '')}, schema ${c.schema}, ${c.nodes} nodes)\n`,
  );
  out.write(`  nodes by type: ${types}\n`);
  out.write(`  unsupported: ${c.unsupported.length}\n${more(c.unsupported, (u) => `${u.node} <${u.type}>`)}`);
  out.write(
    `  dangling references: ${c.dangling.length}\n${more(c.dangling, (d) => `${d.node}: <${d.element}>${d.target}`)}`,
  );
  if (c.warnings.length > 0) out.write(`  warnings: ${c.warnings.length}\n${more(c.warnings, (w) => w)}`);
  const a = c.aravis;
  if (a === undefined) return;
  if ('error' in a) {
    out.write(`  aravis: FAIL: ${terminalSafe(a.error)}\n`);
    return;
  }
  out.write(
    `  aravis: ${a.agree} agree, ${a.mismatch.length} mismatch, ${a.onlyAravis.length} only Aravis reads, ${a.onlyOurs.length} only we read, ${a.neither} neither, ${a.killsFakeCamera.length} kill the fake camera\n`,
  );
  out.write(more(a.mismatch, (m) => `mismatch ${m.feature}: Aravis ${m.aravis}, ours ${m.ours}`));
  out.write(more(a.onlyAravis, (m) => `only Aravis ${m.feature} = ${m.aravis} (ours: ${m.error})`));
  out.write(more(a.onlyOurs, (m) => `only ours ${m.feature} = ${m.ours}`));
  out.write(more(a.killsFakeCamera, (f) => `kills ${ARAVIS_FAKE_CAMERA}: ${f}`));
}

interface CheckOptions {
  aravis?: boolean;
  json?: boolean;
  timeout?: string;
}

export function registerGenicam(program: Command): void {
  const genicam = program.command('genicam').description('GenICam XML files, offline');
  genicam
    .command('check')
    .description(
      'load GenICam XML files (.xml or .zip) and report unsupported nodes, dangling references and a summary; ' +
        `--aravis also serves each file with ${ARAVIS_FAKE_CAMERA} on 127.0.0.1:3956 and compares every feature ` +
        `${ARAVIS_TOOL} reads with ours (exit 1 on any unsupported node, dangling reference or mismatch)`,
    )
    .argument('<files...>')
    .option('--aravis', `compare values with Aravis (${ARAVIS_FAKE_CAMERA}, ${ARAVIS_TOOL}; loopback only)`)
    .option('--timeout <ms>', 'how long to wait for the fake camera to answer (default 10000)')
    .option('--json', 'print one JSON document')
    .action(
      action(async (files: string[], opts: CheckOptions) => {
        const timeoutMs = opts.timeout === undefined ? 10_000 : Number(opts.timeout);
        const checks: FileCheck[] = [];
        for (const file of files) {
          let xml: Uint8Array;
          try {
            xml = await readGenicamFile(file);
          } catch (e) {
            checks.push({
              file,
              ok: false,
              error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
              nodes: 0,
              byType: {},
              unsupported: [],
              dangling: [],
              warnings: [],
            });
            continue;
          }
          const check = await checkGenicamXml(file, xml);
          if (opts.aravis && check.error === undefined) {
            const dir = await mkdtemp(join(tmpdir(), 'cam-genicam-check-'));
            try {
              const path = join(dir, 'camera.xml');
              await writeFile(path, xml);
              check.aravis = await compareWithAravis(path, timeoutMs);
              if (check.aravis.mismatch.length > 0) check.ok = false;
            } catch (e) {
              check.aravis = { error: e instanceof Error ? e.message : String(e) };
              check.ok = false;
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
          }
          checks.push(check);
          if (!opts.json) printCheck(check);
        }
        const ok = checks.every((c) => c.ok);
        if (opts.json) printJson({ ok, files: checks });
        else if (files.length > 1) process.stdout.write(`${checks.filter((c) => c.ok).length}/${checks.length} ok\n`);
        if (!ok) process.exitCode = 1;
      }),
    );
}
