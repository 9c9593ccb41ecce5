import { type CallOptions, MalformedError } from '@cam/net-utils';
import { elementText, findElement, readXmlFragment, type XmlElement } from '@cam/net-utils/wire';
import { type MediaFile, parseProgramXml, programMedia, programToXml, type Screen } from '../codec/program.js';
import { escapeXmlAttribute } from '../codec/xml.js';
import {
  type ReadFileResult,
  SdkClient,
  type SdkClientOptions,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
} from './client.js';
import { md5Bytes, md5File } from './files.js';

/**
 * A typed host API for what people do with an LED screen, on top of the XML calls of {@link SdkClient}: device info
 * and name, network, time and time zone, luminance (fixed and by schedule), screen on/off, reboot, fonts, files and
 * programs. Each method is one vendor method (README, *Method set*); answers are read with the package's linear XML
 * reader and checked, and a result other than kSuccess rejects with `SdkResultError`.
 */

export interface DeviceInfo {
  id: string;
  name: string;
  model: string;
  appVersion: string;
  width: number;
  height: number;
  rotation: number;
}

export interface NetworkInfo {
  dhcp: boolean;
  ip: string;
  netmask: string;
  gateway: string;
  dns: string;
}

export interface TimeInfo {
  timezone: string;
  sync: string;
  /** `YYYY-MM-DD hh:mm:ss` (device clock). */
  time: string;
}

export interface Luminance {
  mode: 'default' | 'ploys' | 'sensor';
  /** Fixed brightness in percent (1..100). */
  default: number;
  /** Schedule: from `start` (hh:mm:ss) the brightness is `percent`. */
  ploy: { enable: boolean; start: string; percent: number }[];
}

export interface FontInfo {
  fontName: string;
  fileName: string;
}

export interface DeviceFile {
  name: string;
  md5: string;
  size: number;
  existSize: number;
  type: string;
}

/** Progress of {@link LedClient.sendProgram}: uploading each media file, then sending the program. */
export type SendProgramProgress =
  | { phase: 'upload'; file: string; index: number; count: number; upload: UploadProgress }
  | { phase: 'skip'; file: string; index: number; count: number }
  | { phase: 'program'; bytes: number };

export interface SendProgramOptions extends CallOptions {
  /**
   * Where each media file the program names comes from (path or bytes), by its name on the controller. A file not
   * given here must already be on the controller (checked with GetFiles).
   */
  media?: Record<string, string | Uint8Array>;
  onProgress?: (p: SendProgramProgress) => void;
}

function num(el: XmlElement | undefined, name: string, fallback = 0): number {
  const v = el?.attributes[name];
  const n = v === undefined ? fallback : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export class LedClient {
  private constructor(readonly sdk: SdkClient) {}

  static async connect(host: string, options: SdkClientOptions = {}): Promise<LedClient> {
    return new LedClient(await SdkClient.connect(host, options));
  }

  /** Wraps a connected {@link SdkClient}. */
  static over(sdk: SdkClient): LedClient {
    return new LedClient(sdk);
  }

  private async body(method: string, inner = '', options: CallOptions = {}): Promise<XmlElement[]> {
    const r = await this.sdk.call(method, inner, options);
    return readXmlFragment(r.body, { maxElements: 50_000 });
  }

  async deviceInfo(options?: CallOptions): Promise<DeviceInfo> {
    const els = await this.body('GetDeviceInfo', '', options);
    const d = findElement(els, 'device');
    const v = findElement(els, 'version');
    const s = findElement(els, 'screen');
    if (!d || !s) throw new MalformedError(0, 'GetDeviceInfo: no <device> or <screen> in the answer');
    return {
      id: d.attributes.id ?? '',
      name: d.attributes.name ?? '',
      model: d.attributes.model ?? '',
      appVersion: v?.attributes.app ?? '',
      width: num(s, 'width'),
      height: num(s, 'height'),
      rotation: num(s, 'rotation'),
    };
  }

  async deviceName(options?: CallOptions): Promise<string> {
    return findElement(await this.body('GetDeviceName', '', options), 'name')?.attributes.value ?? '';
  }

  async setDeviceName(name: string, options?: CallOptions): Promise<void> {
    await this.sdk.call('SetDeviceName', `<name value="${escapeXmlAttribute(name)}"/>`, options);
  }

  async networkInfo(options?: CallOptions): Promise<NetworkInfo> {
    const els = await this.body('GetNetworkInfo', '', options);
    const a = findElement(els, 'address');
    return {
      dhcp: findElement(els, 'dhcp')?.attributes.auto === 'true',
      ip: a?.attributes.ip ?? '',
      netmask: a?.attributes.netmask ?? '',
      gateway: a?.attributes.gateway ?? '',
      dns: a?.attributes.dns ?? '',
    };
  }

  async timeInfo(options?: CallOptions): Promise<TimeInfo> {
    const els = await this.body('GetTimeInfo', '', options);
    return {
      timezone: findElement(els, 'timezone')?.attributes.value ?? '',
      sync: findElement(els, 'sync')?.attributes.value ?? '',
      time: findElement(els, 'time')?.attributes.value ?? '',
    };
  }

  /** Sets the clock (`Date` or `YYYY-MM-DD hh:mm:ss`) and optionally the time zone, e.g. `(UTC+08:00)Beijing`. */
  async setTime(time: Date | string, options: CallOptions & { timezone?: string } = {}): Promise<void> {
    const t = typeof time === 'string' ? time : time.toISOString().replace('T', ' ').slice(0, 19);
    const tz = options.timezone === undefined ? '' : `<timezone value="${escapeXmlAttribute(options.timezone)}"/>`;
    await this.sdk.call('SetTimeInfo', `${tz}<sync value="none"/><time value="${escapeXmlAttribute(t)}"/>`, options);
  }

  async luminance(options?: CallOptions): Promise<Luminance> {
    const els = await this.body('GetLuminancePloy', '', options);
    const mode = findElement(els, 'mode')?.attributes.value ?? 'default';
    return {
      mode: mode === 'ploys' || mode === 'sensor' ? mode : 'default',
      default: num(findElement(els, 'default'), 'value', 100),
      ploy: (findElement(els, 'ploy')?.children ?? [])
        .filter((c) => c.name === 'item')
        .map((c) => ({
          enable: c.attributes.enable === 'true',
          start: c.attributes.start ?? '',
          percent: num(c, 'percent'),
        })),
    };
  }

  /** Fixed brightness (percent), or a schedule of `{ start: 'hh:mm:ss', percent }` steps. */
  async setLuminance(
    value: number | { default?: number; schedule: { start: string; percent: number }[] },
    options?: CallOptions,
  ): Promise<void> {
    const check = (p: number): number => {
      if (!Number.isInteger(p) || p < 1 || p > 100) throw new RangeError(`brightness ${p} is not 1..100`);
      return p;
    };
    let inner: string;
    if (typeof value === 'number') {
      inner = `<mode value="default"/><default value="${check(value)}"/><ploy/><sensor max="100" time="5" min="1"/>`;
    } else {
      const items = value.schedule
        .map((s) => `<item enable="true" start="${escapeXmlAttribute(s.start)}" percent="${check(s.percent)}"/>`)
        .join('');
      inner = `<mode value="ploys"/><default value="${check(value.default ?? 100)}"/><ploy>${items}</ploy><sensor max="100" time="5" min="1"/>`;
    }
    await this.sdk.call('SetLuminancePloy', inner, options);
  }

  async screenOn(options?: CallOptions): Promise<void> {
    await this.sdk.call('OpenScreen', '', options);
  }

  async screenOff(options?: CallOptions): Promise<void> {
    await this.sdk.call('CloseScreen', '', options);
  }

  async reboot(options?: CallOptions): Promise<void> {
    await this.sdk.call('Reboot', '', options);
  }

  async fonts(options?: CallOptions): Promise<FontInfo[]> {
    const fonts = findElement(await this.body('GetAllFontInfo', '', options), 'fonts');
    return (fonts?.children ?? [])
      .filter((c) => c.name === 'font')
      .map((c) => ({ fontName: c.attributes.fontName ?? '', fileName: c.attributes.fileName ?? '' }));
  }

  /** GetFiles in the vendor layout `files/file` (name, md5, size, existSize, type). */
  async files(options?: CallOptions): Promise<DeviceFile[]> {
    const files = findElement(await this.body('GetFiles', '', options), 'files');
    return (files?.children ?? [])
      .filter((c) => c.name === 'file')
      .map((c) => ({
        name: c.attributes.name ?? '',
        md5: c.attributes.md5 ?? '',
        size: num(c, 'size'),
        existSize: num(c, 'existSize'),
        type: c.attributes.type ?? '',
      }));
  }

  /** Deletes files; returns each name with its result (kSuccess or kFileNotFound). */
  async deleteFiles(names: string[], options?: CallOptions): Promise<{ name: string; result: string }[]> {
    const inner = `<files>${names.map((n) => `<file name="${escapeXmlAttribute(n)}"/>`).join('')}</files>`;
    const files = findElement(await this.body('DeleteFiles', inner, options), 'files');
    return (files?.children ?? []).map((c) => ({ name: c.attributes.name ?? '', result: c.attributes.result ?? '' }));
  }

  /** Uploads a file (MD5, resume from what the controller holds): {@link SdkClient.upload}. */
  upload(source: string | Uint8Array, options?: UploadOptions): Promise<UploadResult> {
    return this.sdk.upload(source, options);
  }

  /** Reads a file back, MD5 checked: {@link SdkClient.readFile}. */
  readFile(name: string, options?: CallOptions): Promise<ReadFileResult> {
    return this.sdk.readFile(name, options);
  }

  /** The program set the controller holds (null when none). */
  async program(options?: CallOptions): Promise<Screen | null> {
    const r = await this.sdk.call('GetProgram', '', options);
    return r.body.trim() === '' ? null : parseProgramXml(r.body);
  }

  /**
   * Uploads the media the program names (MD5 and resume by {@link SdkClient.upload}; a file the controller already
   * holds with the same MD5 is skipped), fills in each item's MD5, then sends the program with AddProgram.
   */
  async sendProgram(screen: Screen, options: SendProgramOptions = {}): Promise<Screen> {
    const { media = {}, onProgress, ...call } = options;
    const wanted = programMedia(screen);
    const present = new Map((await this.files(call)).map((f) => [f.name, f]));
    const md5s = new Map<string, string>();
    for (const [index, m] of wanted.entries()) {
      const source = media[m.name];
      const count = wanted.length;
      if (source === undefined) {
        const have = present.get(m.name);
        if (!have) throw new MalformedError(0, `sendProgram: media ${m.name} is neither given nor on the controller`);
        md5s.set(m.name, have.md5);
        onProgress?.({ phase: 'skip', file: m.name, index, count });
        continue;
      }
      const md5 = typeof source === 'string' ? await md5File(source) : md5Bytes(source);
      md5s.set(m.name, md5);
      const have = present.get(m.name);
      if (have && have.md5 === md5) {
        onProgress?.({ phase: 'skip', file: m.name, index, count });
        continue;
      }
      const ext = m.name.split('.').pop()?.toLowerCase() ?? '';
      const type = ['mp4', 'avi', 'mkv', 'mov', 'wmv', 'flv', 'ts', 'webm'].includes(ext) ? 'video' : 'image';
      await this.sdk.upload(source, {
        ...call,
        name: m.name,
        md5,
        type,
        onProgress: (upload) => onProgress?.({ phase: 'upload', file: m.name, index, count, upload }),
      });
    }
    const withMd5 = fillMd5(screen, md5s);
    const xml = programToXml(withMd5);
    onProgress?.({ phase: 'program', bytes: xml.length });
    await this.sdk.call('AddProgram', xml, call);
    return withMd5;
  }

  async close(): Promise<void> {
    await this.sdk.close();
  }

  destroy(): void {
    this.sdk.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function fillMd5(s: Screen, md5s: Map<string, string>): Screen {
  const file = (f: MediaFile): MediaFile => ({ name: f.name, md5: md5s.get(f.name) ?? f.md5 });
  return {
    ...s,
    programs: s.programs.map((p) => ({
      ...p,
      areas: p.areas.map((a) => ({
        ...a,
        items: a.items.map((it) => (it.kind === 'image' || it.kind === 'video' ? { ...it, file: file(it.file) } : it)),
      })),
    })),
  };
}

/** Reads the `<reason value>` a controller adds to a refused AddProgram (our simulator does). */
export function refusalReason(body: string): string | undefined {
  try {
    const els = readXmlFragment(body);
    const r = findElement(els, 'reason');
    return r ? (r.attributes.value ?? elementText(body, r)) : undefined;
  } catch {
    return undefined;
  }
}
