import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WireError } from '@cam/net-utils';
import { findElement, readXmlFragment, type XmlElement } from '@cam/net-utils/wire';
import { type Screen as ProgramSet, parseProgramXml, programToXml } from '../codec/program.js';
import { escapeXmlAttribute } from '../codec/xml.js';
import { md5File } from '../transport/files.js';
import type { SdkMethodHandler, SdkMethodResult } from './method.js';
import { BUILTIN_FONTS, renderFrame } from './render.js';

/**
 * The state of a simulated Huidu controller and the vendor methods that read and change it: name, network, time and
 * time zone, luminance (fixed, by schedule), screen on/off, reboot, fonts, files, programs. It is the controller's
 * model, kept apart from the network server (`SdkDevice` serves it). With a directory the state is saved to
 * `<dir>/.controller.json` after each change and read back at start; files live in the same directory.
 *
 * Answers follow the layouts the vendor's host libraries read (README, *Method set*): e.g. GetFiles
 * `<files><file name md5 size existSize type/></files>`, GetDeviceName `<name value/>`.
 */

export interface ControllerState {
  name: string;
  timezone: string;
  /** `YYYY-MM-DD hh:mm:ss` set by SetTimeInfo, with the moment it was set (ms), or '' for the host clock. */
  time: string;
  timeSetAt: number;
  sync: string;
  luminance: {
    mode: 'default' | 'ploys' | 'sensor';
    default: number;
    ploy: LuminanceStep[];
    sensor: { min: number; max: number; time: number };
  };
  switchTime: { open: boolean; ployEnabled: boolean; items: { enable: boolean; start: string; end: string }[] };
  screenOn: boolean;
  reboots: number;
  /** Program XML as accepted by AddProgram ('' for none). */
  program: string;
  /** When the current program started (ms since 1970). */
  programSince: number;
}

export interface LuminanceStep {
  enable: boolean;
  start: string;
  percent: number;
}

export interface ControllerOptions {
  /** Screen width and height in pixels (default 128 x 64). */
  width?: number;
  height?: number;
  dir?: string;
  deviceId: string;
}

const FILE_TYPES = ['image', 'video', 'font', 'firmware', 'config', 'fpga'];
const MEDIA_EXT: Record<string, number> = {
  png: 0,
  jpg: 0,
  jpeg: 0,
  bmp: 0,
  gif: 0,
  webp: 0,
  mp4: 1,
  avi: 1,
  mkv: 1,
  mov: 1,
  wmv: 1,
  flv: 1,
  ts: 1,
  webm: 1,
  ttf: 2,
  ttc: 2,
  otf: 2,
  bdf: 2,
  bin: 3,
  xml: 4,
};
const TIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const CLOCK_RE = /^\d{2}:\d{2}:\d{2}$/;
const NAME_RE = /^[^/\\\0]+$/;

/** Why a program was refused, as the controller would say it (result + reason). */
export class ProgramRejected extends Error {
  constructor(
    readonly result: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class ControllerModel {
  readonly width: number;
  readonly height: number;
  readonly state: ControllerState;
  /** The parsed current program (null when none). */
  private current: ProgramSet | null = null;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: ControllerOptions,
    state: ControllerState,
  ) {
    this.width = options.width ?? 128;
    this.height = options.height ?? 64;
    this.state = state;
    if (state.program) {
      try {
        this.current = parseProgramXml(state.program);
      } catch {
        state.program = '';
      }
    }
  }

  static async open(options: ControllerOptions): Promise<ControllerModel> {
    const fresh: ControllerState = {
      name: 'cam simulated controller',
      timezone: '(UTC+00:00)UTC',
      time: '',
      timeSetAt: 0,
      sync: 'none',
      luminance: { mode: 'default', default: 100, ploy: [], sensor: { min: 1, max: 100, time: 5 } },
      switchTime: { open: true, ployEnabled: false, items: [] },
      screenOn: true,
      reboots: 0,
      program: '',
      programSince: Date.now(),
    };
    if (options.dir) {
      try {
        const saved = JSON.parse(
          await readFile(join(options.dir, '.controller.json'), 'utf8'),
        ) as Partial<ControllerState>;
        Object.assign(fresh, saved);
      } catch {
        // no saved state yet (or unreadable): start fresh
      }
    }
    return new ControllerModel(options, fresh);
  }

  get program(): ProgramSet | null {
    return this.current;
  }

  /** The device clock: the time set by SetTimeInfo advanced by the time since, or the host clock. */
  now(at = Date.now()): Date {
    if (this.state.time && TIME_RE.test(this.state.time)) {
      const base = Date.parse(`${this.state.time.replace(' ', 'T')}Z`);
      if (Number.isFinite(base)) return new Date(base + (at - this.state.timeSetAt));
    }
    return new Date(at);
  }

  /** Brightness in percent now (fixed, or the last enabled schedule step at or before the device's time of day). */
  luminanceNow(at = Date.now()): number {
    const l = this.state.luminance;
    if (l.mode !== 'ploys') return l.default;
    const t = this.now(at).toISOString().slice(11, 19);
    let value = l.default;
    for (const s of [...l.ploy].sort((a, b) => a.start.localeCompare(b.start)))
      if (s.enable && s.start <= t) value = s.percent;
    return value;
  }

  /** The frame the screen shows at `at` (default now) as PNG bytes. */
  async snapshot(at = Date.now()): Promise<Uint8Array> {
    return renderFrame({
      width: this.width,
      height: this.height,
      program: this.state.screenOn ? this.current : null,
      elapsedMs: Math.max(0, at - this.state.programSince),
      brightness: this.state.screenOn ? this.luminanceNow(at) : 0,
      clock: this.now(at),
      loadMedia: (name) => this.loadMedia(name),
    });
  }

  private async loadMedia(name: string): Promise<Uint8Array | null> {
    const dir = this.options.dir;
    if (!dir || !NAME_RE.test(name) || name === '.' || name === '..') return null;
    const path = join(dir, name);
    const s = await stat(path).catch(() => null);
    if (!s?.isFile() || s.size > 32 * 1024 * 1024) return null;
    return readFile(path);
  }

  private save(): void {
    const dir = this.options.dir;
    if (!dir) return;
    const text = JSON.stringify(this.state);
    this.saving = this.saving
      .then(async () => {
        const tmp = join(dir, '.controller.json.tmp');
        await writeFile(tmp, text);
        await rename(tmp, join(dir, '.controller.json'));
      })
      .catch(() => {});
  }

  /** Waits for pending state writes. */
  async flush(): Promise<void> {
    await this.saving;
  }

  /** Checks a program like the controller: areas inside the screen, media present, fonts known. */
  async validate(s: ProgramSet): Promise<void> {
    const files = await this.fileNames();
    const fonts = new Set([
      ...BUILTIN_FONTS.map((f) => f.fontName),
      ...BUILTIN_FONTS.map((f) => f.fileName),
      ...files.filter((f) => /\.(ttf|otf|ttc|bdf)$/i.test(f)),
    ]);
    for (const p of s.programs) {
      for (const [i, a] of p.areas.entries()) {
        if (a.x < 0 || a.y < 0 || a.x + a.width > this.width || a.y + a.height > this.height) {
          throw new ProgramRejected(
            'kInvalidParam',
            `area ${i} (${a.x},${a.y} ${a.width}x${a.height}) is outside the ${this.width}x${this.height} screen`,
          );
        }
        for (const it of a.items) {
          if ((it.kind === 'image' || it.kind === 'video') && !files.includes(it.file.name)) {
            throw new ProgramRejected('kDownloadingFile', `media file ${it.file.name} is not on the controller`);
          }
          if ((it.kind === 'image' || it.kind === 'video') && it.file.md5) {
            const md5 = await md5File(join(this.options.dir!, it.file.name));
            if (md5 !== it.file.md5)
              throw new ProgramRejected('kDownloadingFile', `media file ${it.file.name} has another MD5`);
          }
          if (it.kind === 'text' && !fonts.has(it.font.name)) {
            throw new ProgramRejected('kInvalidParam', `font ${it.font.name} is not known (GetAllFontInfo)`);
          }
        }
      }
    }
  }

  private async fileNames(): Promise<string[]> {
    const dir = this.options.dir;
    if (!dir) return [];
    try {
      return (await readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .slice(0, 10_000);
    } catch {
      return [];
    }
  }

  /** The vendor methods this model answers. */
  handlers(): Record<string, SdkMethodHandler> {
    const st = this.state;
    const changed = <T>(v: T): T => {
      this.save();
      return v;
    };
    const body = (b: string): XmlElement[] | null => {
      try {
        return readXmlFragment(b, { maxElements: 20_000 });
      } catch (error) {
        if (WireError.isInstance(error)) return null;
        throw error;
      }
    };
    const attr = (els: XmlElement[] | null, tag: string, name: string): string | undefined =>
      els ? findElement(els, tag)?.attributes[name] : undefined;
    const invalid: SdkMethodResult = { result: 'kInvalidParam' };
    const x = escapeXmlAttribute;
    return {
      GetDeviceInfo: () =>
        `<device id="${x(this.options.deviceId)}" name="${x(st.name)}" model="CAM-SIM" cpu="sim"/>` +
        `<version fpga="0" app="1.0.0" kernel="0"/><screen width="${this.width}" height="${this.height}" rotation="0"/>`,
      GetDeviceName: () => `<name value="${x(st.name)}"/>`,
      SetDeviceName: ({ body: b }) => {
        const v = attr(body(b), 'name', 'value');
        if (v === undefined || v.length === 0 || v.length > 128) return invalid;
        st.name = v;
        return changed('');
      },
      GetNetworkInfo: () => this.eth(),
      GetEth0Info: () => this.eth(),
      GetTimeInfo: () => {
        const t = this.now().toISOString().replace('T', ' ').slice(0, 19);
        return `<timezone value="${x(st.timezone)}"/><summer enable="false"/><sync value="${x(st.sync)}"/><time value="${t}"/>`;
      },
      SetTimeInfo: ({ body: b }) => {
        const els = body(b);
        const t = attr(els, 'time', 'value');
        const tz = attr(els, 'timezone', 'value');
        const sync = attr(els, 'sync', 'value');
        if (t === undefined && tz === undefined) return invalid;
        if (t !== undefined) {
          if (!TIME_RE.test(t) || !Number.isFinite(Date.parse(`${t.replace(' ', 'T')}Z`))) return invalid;
          st.time = t;
          st.timeSetAt = Date.now();
        }
        if (tz !== undefined) {
          if (tz.length > 64) return invalid;
          st.timezone = tz;
        }
        if (sync !== undefined && ['none', 'gps', 'network', 'auto'].includes(sync)) st.sync = sync;
        return changed('');
      },
      GetLuminancePloy: () => {
        const l = st.luminance;
        const items = l.ploy
          .map((p) => `<item enable="${p.enable}" start="${p.start}" percent="${p.percent}"/>`)
          .join('');
        return `<mode value="${l.mode}"/><default value="${l.default}"/><ploy>${items}</ploy><sensor min="${l.sensor.min}" max="${l.sensor.max}" time="${l.sensor.time}"/>`;
      },
      SetLuminancePloy: ({ body: b }) => {
        const els = body(b);
        if (!els) return invalid;
        const mode = attr(els, 'mode', 'value') ?? st.luminance.mode;
        const def = Number(attr(els, 'default', 'value') ?? st.luminance.default);
        if (!['default', 'ploys', 'sensor'].includes(mode) || !Number.isInteger(def) || def < 1 || def > 100)
          return invalid;
        const ploy: LuminanceStep[] = [];
        const ployEl = findElement(els, 'ploy');
        for (const it of ployEl?.children ?? []) {
          if (it.name !== 'item') continue;
          const percent = Number(it.attributes.percent);
          const start = it.attributes.start ?? '';
          if (!CLOCK_RE.test(start) || !Number.isInteger(percent) || percent < 1 || percent > 100 || ploy.length >= 48)
            return invalid;
          ploy.push({ enable: it.attributes.enable === 'true', start, percent });
        }
        st.luminance = { ...st.luminance, mode: mode as ControllerState['luminance']['mode'], default: def, ploy };
        return changed('');
      },
      GetSwitchTime: () => {
        const s = st.switchTime;
        const items = s.items.map((i) => `<item enable="${i.enable}" start="${i.start}" end="${i.end}"/>`).join('');
        return `<open enable="${s.open}"/><ploy enable="${s.ployEnabled}">${items}</ploy>`;
      },
      SetSwitchTime: ({ body: b }) => {
        const els = body(b);
        if (!els) return invalid;
        const items: ControllerState['switchTime']['items'] = [];
        for (const it of findElement(els, 'ploy')?.children ?? []) {
          if (it.name !== 'item') continue;
          const { start = '', end = '' } = it.attributes;
          if (!CLOCK_RE.test(start) || !CLOCK_RE.test(end) || items.length >= 48) return invalid;
          items.push({ enable: it.attributes.enable === 'true', start, end });
        }
        st.switchTime = {
          open: (attr(els, 'open', 'enable') ?? String(st.switchTime.open)) === 'true',
          ployEnabled: (attr(els, 'ploy', 'enable') ?? 'false') === 'true',
          items,
        };
        return changed('');
      },
      OpenScreen: () => {
        st.screenOn = true;
        return changed('');
      },
      CloseScreen: () => {
        st.screenOn = false;
        return changed('');
      },
      Reboot: () => {
        // The program restarts from its beginning; the screen comes back on.
        st.reboots++;
        st.screenOn = true;
        st.programSince = Date.now();
        return changed('');
      },
      GetAllFontInfo: async () => {
        const fonts = BUILTIN_FONTS.map(
          (f) =>
            `<font fontName="${x(f.fontName)}" fileName="${x(f.fileName)}" bold="false" italic="false" underline="false"/>`,
        );
        for (const n of await this.fileNames()) {
          if (MEDIA_EXT[n.split('.').pop()?.toLowerCase() ?? ''] === 2) {
            fonts.push(`<font fontName="${x(n)}" fileName="${x(n)}" bold="false" italic="false" underline="false"/>`);
          }
        }
        return `<fonts>${fonts.join('')}</fonts>`;
      },
      ReloadAllFonts: () => '',
      GetFiles: async () => {
        const dir = this.options.dir;
        const parts: string[] = [];
        for (const n of (await this.fileNames()).slice(0, 1000)) {
          const path = join(dir!, n);
          const s = await stat(path).catch(() => null);
          if (!s) continue;
          const md5 = await md5File(path);
          const type = FILE_TYPES[MEDIA_EXT[n.split('.').pop()?.toLowerCase() ?? ''] ?? 0] ?? 'image';
          parts.push(`<file name="${x(n)}" md5="${md5}" size="${s.size}" existSize="${s.size}" type="${type}"/>`);
        }
        return `<files>${parts.join('')}</files>`;
      },
      DeleteFiles: async ({ body: b }) => {
        const els = body(b);
        const filesEl = els ? findElement(els, 'files') : undefined;
        if (!filesEl) return invalid;
        const out: string[] = [];
        for (const f of filesEl.children.slice(0, 1000)) {
          if (f.name !== 'file') continue;
          const n = f.attributes.name ?? '';
          let result = 'kSuccess';
          if (!this.options.dir || !NAME_RE.test(n) || n === '.' || n === '..' || n.startsWith('.'))
            result = 'kFileNotFound';
          else {
            const path = join(this.options.dir, n);
            const s = await stat(path).catch(() => null);
            if (!s?.isFile()) result = 'kFileNotFound';
            else await rm(path, { force: true });
          }
          out.push(`<file name="${x(n)}" result="${result}"/>`);
        }
        return `<files>${out.join('')}</files>`;
      },
      AddProgram: ({ body: b }) => this.setProgram(b),
      UpdateProgram: ({ body: b }) => this.setProgram(b),
      DeleteProgram: () => {
        st.program = '';
        this.current = null;
        return changed('');
      },
      GetProgram: () => st.program,
      GetCurrentPlayProgramGUID: () => `<program guid="${x(this.current?.programs[0]?.guid ?? '')}"/>`,
      /** Simulator only: the current frame as base64 PNG (`cam sdk snapshot`). */
      CamGetScreenSnapshot: async ({ body: b }) => {
        const at = attr(body(b), 'snapshot', 'atMs');
        const atMs = at === undefined ? Date.now() : this.state.programSince + Number(at);
        if (!Number.isFinite(atMs)) return invalid;
        const png = await this.snapshot(atMs);
        return `<image type="png" width="${this.width}" height="${this.height}">${Buffer.from(png).toString('base64')}</image>`;
      },
    };
  }

  private eth(): string {
    return (
      '<eth valid="true"><enable value="true"/><dhcp auto="false"/>' +
      '<address ip="127.0.0.1" netmask="255.0.0.0" gateway="0.0.0.0" dns="0.0.0.0"/></eth>'
    );
  }

  private async setProgram(b: string): Promise<SdkMethodResult> {
    let s: ProgramSet;
    try {
      s = parseProgramXml(b);
    } catch (error) {
      if (!WireError.isInstance(error)) throw error;
      return { result: 'kInvalidParam', body: `<reason value="${escapeXmlAttribute(error.message.slice(0, 300))}"/>` };
    }
    try {
      await this.validate(s);
    } catch (error) {
      if (!(error instanceof ProgramRejected)) throw error;
      return { result: error.result, body: `<reason value="${escapeXmlAttribute(error.reason)}"/>` };
    }
    this.current = s;
    this.state.program = programToXml(s);
    this.state.programSince = Date.now();
    this.save();
    return '';
  }
}
