import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import {
  type AreaItem,
  area,
  clockItem,
  type EffectName,
  imageItem,
  LedClient,
  parseSdkXml,
  program,
  refusalReason,
  SDK_PORT,
  SdkResultError,
  screen,
  textItem,
  videoItem,
} from '@cam/sdk-tcp';
import type { Command } from 'commander';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';

/**
 * `cam sdk program|screen|luminance|time|files|snapshot`: what people do with an LED screen, through the typed
 * host API (`LedClient`) of @cam/sdk-tcp.
 */

interface NetOptions {
  port?: string;
  timeout?: string;
  json?: boolean;
}

async function open(host: string, o: NetOptions): Promise<LedClient> {
  const port = o.port === undefined ? SDK_PORT : parseNumber(o.port, 'port');
  if (port > 0xffff) throw new UsageError(`port ${port} is above 65535`);
  const timeoutMs = o.timeout === undefined ? 10_000 : parseNumber(o.timeout, 'timeout');
  return LedClient.connect(host, { port, timeoutMs, defaultTimeoutMs: timeoutMs });
}

function net(c: Command): Command {
  return c
    .option('--port <n>', `TCP port (default ${SDK_PORT})`)
    .option('--timeout <ms>', 'timeout of connect and each call (default 10000)')
    .option('--json', 'print one JSON document');
}

/** Runs `body` with a connected client, prints its result, reports errors (SdkResultError with the reason). */
async function withClient(
  host: string,
  o: NetOptions,
  body: (c: LedClient) => Promise<{ json: Record<string, unknown>; text: string }>,
): Promise<void> {
  const json = o.json === true;
  let client: LedClient | undefined;
  try {
    client = await open(host, o);
    const out = await body(client);
    if (json) printJson({ ok: true, host, ...out.json });
    else process.stdout.write(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
  } catch (error) {
    if (SdkResultError.isInstance(error)) {
      process.exitCode = 1;
      let reason: string | undefined;
      try {
        reason = refusalReason(parseSdkXml(error.xml).body);
      } catch {
        reason = undefined;
      }
      if (json)
        printJson({ ok: false, error: { name: error.name, message: error.message }, result: error.result, reason });
      else process.stderr.write(`cam: ${error.method} answered ${error.result}${reason ? `: ${reason}` : ''}\n`);
    } else reportError(error, json);
  } finally {
    client?.destroy();
  }
}

/** The program file: areas with items, media as local paths (relative to the file). */
interface ProgramFile {
  name?: string;
  areas: {
    x: number;
    y: number;
    width: number;
    height: number;
    items: ({ type: 'text'; text: string } & Record<string, unknown>)[] | Record<string, unknown>[];
  }[];
}

function field<T>(o: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== type) throw new UsageError(`program: "${key}" must be a ${type}`);
  return v as T;
}

/** Reads a program file into a screen and the media it names (name on the controller -> local path). */
export async function readProgramFile(
  path: string,
): Promise<{ screen: ReturnType<typeof screen>; media: Record<string, string> }> {
  let doc: ProgramFile;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as ProgramFile;
  } catch (error) {
    throw new UsageError(`${path}: not a JSON program file (${(error as Error).message})`);
  }
  if (!Array.isArray(doc.areas) || doc.areas.length === 0)
    throw new UsageError(`${path}: "areas" must be a non-empty list`);
  const base = dirname(resolve(path));
  const media: Record<string, string> = {};
  const areas = doc.areas.map((a, i) => {
    for (const k of ['x', 'y', 'width', 'height'] as const) {
      if (!Number.isInteger(a[k])) throw new UsageError(`${path}: area ${i} needs an integer "${k}"`);
    }
    if (!Array.isArray(a.items)) throw new UsageError(`${path}: area ${i} needs "items"`);
    const items = a.items.map((raw): AreaItem => {
      const it = raw as Record<string, unknown>;
      const type = it.type;
      const file = (): string => {
        const f = field<string>(it, 'file', 'string');
        if (!f) throw new UsageError(`${path}: a ${String(type)} item needs "file"`);
        const name = field<string>(it, 'name', 'string') ?? basename(f);
        media[name] = resolve(base, f);
        return name;
      };
      switch (type) {
        case 'text': {
          const text = field<string>(it, 'text', 'string');
          if (text === undefined) throw new UsageError(`${path}: a text item needs "text"`);
          const opt = (k: string, t: 'string' | 'number' | 'boolean') => field(it, k, t);
          const o: Parameters<typeof textItem>[1] = {};
          if (opt('font', 'string') !== undefined) o.font = opt('font', 'string') as string;
          if (opt('size', 'number') !== undefined) o.size = opt('size', 'number') as number;
          if (opt('color', 'string') !== undefined) o.color = opt('color', 'string') as string;
          if (opt('bold', 'boolean') !== undefined) o.bold = opt('bold', 'boolean') as boolean;
          if (opt('align', 'string') !== undefined) o.align = opt('align', 'string') as 'left' | 'center' | 'right';
          if (opt('valign', 'string') !== undefined) o.valign = opt('valign', 'string') as 'top' | 'middle' | 'bottom';
          if (opt('speed', 'number') !== undefined) o.speed = opt('speed', 'number') as number;
          if (opt('duration', 'number') !== undefined) o.duration = opt('duration', 'number') as number;
          const eff = it.effect;
          if (eff !== undefined) o.effect = eff as EffectName | number;
          return textItem(text, o);
        }
        case 'image': {
          const fit = field<string>(it, 'fit', 'string') as 'fill' | 'center' | 'stretch' | 'tile' | undefined;
          return imageItem(file(), fit ? { fit } : {});
        }
        case 'video':
          return videoItem(file());
        case 'clock': {
          const color = field<string>(it, 'color', 'string');
          const date = field<boolean>(it, 'date', 'boolean');
          return clockItem({ ...(color ? { color } : {}), ...(date !== undefined ? { date } : {}) });
        }
        default:
          throw new UsageError(`${path}: item type must be text, image, video or clock, got ${JSON.stringify(type)}`);
      }
    });
    return area({ x: a.x, y: a.y, width: a.width, height: a.height }, items);
  });
  return { screen: screen([program(areas, { name: doc.name ?? basename(path) })]), media };
}

export function registerSdkScreen(sdk: Command): void {
  const prog = sdk.command('program').description('programs (what the screen shows): send');
  net(
    prog
      .command('send')
      .description('upload the media a program names (MD5, resume), then send the program (AddProgram)')
      .argument('<host>', 'controller address')
      .argument(
        '<program.json>',
        'program file (JSON): areas, each with x, y, width, height and items (text, image, video, clock)',
      ),
  ).action(async (host: string, file: string, o: NetOptions) => {
    await withClient(host, o, async (c) => {
      const { screen: s, media } = await readProgramFile(file);
      let last = '';
      const sent = await c.sendProgram(s, {
        media,
        onProgress: (p) => {
          const line =
            p.phase === 'upload'
              ? `upload ${p.file} ${p.upload.total === 0 ? 100 : Math.floor((p.upload.sent / p.upload.total) * 100)}%`
              : p.phase === 'skip'
                ? `${p.file} already on the controller`
                : `program (${p.bytes} bytes)`;
          if (line !== last) process.stderr.write(`${line}\n`);
          last = line;
        },
      });
      const areas = sent.programs[0]?.areas.length ?? 0;
      return { json: { areas, media: Object.keys(media) }, text: `sent program with ${areas} area(s)` };
    });
  });

  net(
    sdk
      .command('screen')
      .description('turn the screen on or off (OpenScreen/CloseScreen)')
      .argument('<host>', 'controller address')
      .argument('<state>', 'on | off'),
  ).action(async (host: string, state: string, o: NetOptions) => {
    if (state !== 'on' && state !== 'off') {
      reportError(new UsageError('state must be on or off'), o.json === true);
      return;
    }
    await withClient(host, o, async (c) => {
      if (state === 'on') await c.screenOn();
      else await c.screenOff();
      return { json: { screen: state }, text: `screen ${state}` };
    });
  });

  net(
    sdk
      .command('luminance')
      .description('show the brightness, or set it (percent, or a schedule)')
      .argument('<host>', 'controller address')
      .argument('[percent]', 'fixed brightness 1..100')
      .option('--schedule <steps>', 'brightness by time of day: hh:mm:ss=percent,… e.g. 07:00:00=100,20:00:00=30'),
  ).action(async (host: string, percent: string | undefined, o: NetOptions & { schedule?: string }) => {
    await withClient(host, o, async (c) => {
      if (o.schedule !== undefined) {
        const schedule = o.schedule.split(',').map((s) => {
          const [start = '', p = ''] = s.split('=');
          if (!/^\d{2}:\d{2}:\d{2}$/.test(start)) throw new UsageError(`--schedule: "${s}" is not hh:mm:ss=percent`);
          return { start, percent: parseNumber(p, 'percent') };
        });
        await c.setLuminance({ schedule, ...(percent ? { default: parseNumber(percent, 'percent') } : {}) });
      } else if (percent !== undefined) {
        const p = parseNumber(percent, 'percent');
        if (p < 1 || p > 100) throw new UsageError('percent must be 1..100');
        await c.setLuminance(p);
      }
      const l = await c.luminance();
      const steps = l.mode === 'ploys' ? l.ploy.map((s) => `${s.start}=${s.percent}%`).join(', ') : '';
      return {
        json: { luminance: l },
        text: `luminance ${l.mode}: ${l.default}%${steps ? `; schedule ${steps}` : ''}`,
      };
    });
  });

  net(
    sdk
      .command('time')
      .description('show the controller clock and time zone, or set them')
      .argument('<host>', 'controller address')
      .option('--set <time>', '"YYYY-MM-DD hh:mm:ss" (UTC) or "now"')
      .option('--timezone <tz>', 'time zone as the controller names it, e.g. "(UTC+08:00)Beijing"'),
  ).action(async (host: string, o: NetOptions & { set?: string; timezone?: string }) => {
    await withClient(host, o, async (c) => {
      if (o.set !== undefined || o.timezone !== undefined) {
        const t = o.set === undefined || o.set === 'now' ? new Date() : o.set;
        await c.setTime(t, o.timezone === undefined ? {} : { timezone: o.timezone });
      }
      const t = await c.timeInfo();
      return { json: { time: t }, text: `${t.time} ${t.timezone} (sync ${t.sync})` };
    });
  });

  net(
    sdk
      .command('files')
      .description('list the files on the controller (name, size, md5, type), or delete some')
      .argument('<host>', 'controller address')
      .option('--delete <names...>', 'delete these files'),
  ).action(async (host: string, o: NetOptions & { delete?: string[] }) => {
    await withClient(host, o, async (c) => {
      const deleted = o.delete ? await c.deleteFiles(o.delete) : [];
      const files = await c.files();
      const lines = [
        ...deleted.map((d) => `deleted ${d.name}: ${d.result}`),
        ...files.map((f) => `${f.name}\t${f.size}\t${f.md5}\t${f.type}`),
      ];
      return { json: { deleted, files }, text: lines.length ? lines.join('\n') : 'no files' };
    });
  });

  net(
    sdk
      .command('snapshot')
      .description("save what a simulated controller's screen shows now as PNG (cam sdk simulate)")
      .argument('<sim>', 'address of the simulated controller')
      .option('--out <file>', 'PNG file (default snapshot.png)')
      .option('--at-ms <ms>', 'the frame this long after the program started, instead of now'),
  ).action(async (host: string, o: NetOptions & { out?: string; atMs?: string }) => {
    await withClient(host, o, async (c) => {
      const at = o.atMs === undefined ? '' : `<snapshot atMs="${parseNumber(o.atMs, 'at-ms')}"/>`;
      const r = await c.sdk.call('CamGetScreenSnapshot', at);
      const m = /^<image type="png" width="(\d+)" height="(\d+)">([A-Za-z0-9+/=]*)<\/image>$/.exec(r.body);
      if (!m) throw new UsageError(`${host} is not a cam simulated controller (no snapshot in the answer)`);
      const out = o.out ?? 'snapshot.png';
      const png = Buffer.from(m[3]!, 'base64');
      await writeFile(out, png);
      return {
        json: { path: out, width: Number(m[1]), height: Number(m[2]), bytes: png.length },
        text: `${m[1]}x${m[2]} -> ${out}`,
      };
    });
  });
}
