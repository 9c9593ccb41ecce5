/**
 * The browser side of `cam view`: a start page to open devices and, per GigE Vision camera, the live canvas, its
 * statistics and plots, and the GenICam feature tree. Pixel conversion is the CLI's own pure module, bundled here.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { canDisplay, type DisplayImage } from '../../image/convert.js';
import {
  decodeFrameMessage,
  type FrameHeader,
  type ScGvmpFrameHeader,
  type ScGvmpStatsMessage,
  type StatsMessage,
} from '../protocol.js';
import { canvas2dView, type FrameView, webglView } from './frame-view.js';

const token = new URLSearchParams(location.search).get('token');
/**
 * `?render=2d` or `?render=webgl` forces a way to draw; by default WebGL 2 on a real GPU, the 2D canvas on a software
 * one (SwiftShader: measured costlier per frame than the 2D canvas there, see BENCHMARKS.md).
 */
const renderMode = new URLSearchParams(location.search).get('render');
const app = document.getElementById('app') as HTMLElement;

/** What tests and the benchmark read from the page. */
interface ViewerState {
  displayed: number;
  dropped: number;
  delays: number[];
  last: FrameHeader | ScGvmpFrameHeader | undefined;
  stats: StatsMessage | ScGvmpStatsMessage | undefined;
  errors: string[];
  /** Milliseconds each shown frame took from its message's arrival to drawn (decode, convert, upload, draw). */
  drawMs: number[];
  /** How the GigE view draws ('webgl' or '2d'). */
  render: string | undefined;
  /** RGBA bytes of a rectangle of the view's canvas, rows top down, whatever draws it. */
  readPixels: ((x: number, y: number, w: number, h: number) => Uint8Array) | undefined;
}
const state: ViewerState = {
  displayed: 0,
  dropped: 0,
  delays: [],
  drawMs: [],
  last: undefined,
  stats: undefined,
  errors: [],
  render: undefined,
  readPixels: undefined,
};
(globalThis as unknown as { camViewer: ViewerState }).camViewer = state;

class ApiError extends Error {
  override readonly name: string;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (token) headers.set('x-cam-token', token);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  const body = (await res.json().catch(() => ({}))) as { error?: { name: string; message: string } };
  if (!res.ok) throw new ApiError(body.error?.name ?? `HTTP ${res.status}`, body.error?.message ?? res.statusText);
  return body as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// ------------------------------------------------------------------ start page

interface DeviceInfo {
  id: string;
  kind: string;
  address: string;
  streaming: boolean;
}

let teardown: (() => void) | undefined;

async function showStart(): Promise<void> {
  const list = el('ul', { class: 'devices' });
  const kind = el(
    'select',
    { name: 'kind' },
    el('option', { value: 'gige' }, 'GigE Vision camera'),
    el('option', { value: 'scgvmp' }, 'smart camera (SC_GVMP)'),
    el('option', { value: 'ehome' }, 'EHome platform (URL of its HTTP API)'),
    el('option', { value: 'sdk' }, 'Huidu LED controller (SDK TCP)'),
  );
  const address = el('input', { name: 'address', placeholder: '192.168.1.20', required: '' });
  const port = el('input', { name: 'port', placeholder: '3956', size: '6' });
  const msg = el('span', { class: 'error' });
  const form = el(
    'form',
    { id: 'add-gige' },
    kind,
    ' at ',
    address,
    ' port ',
    port,
    ' ',
    el('button', { type: 'submit' }, 'Open'),
    ' ',
    msg,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    msg.textContent = 'opening...';
    api<DeviceInfo>('/api/devices', {
      method: 'POST',
      body: JSON.stringify({ kind: kind.value, address: address.value.trim(), port: port.value.trim() }),
    }).then(
      (d) => {
        location.hash = `#/${d.kind}/${d.id}`;
      },
      (e: Error) => {
        msg.textContent = `${e.name}: ${e.message}`;
      },
    );
  });
  // discovery: unicast to an address, or a broadcast on every interface only when that box is ticked
  const findAddress = el('input', { name: 'address', placeholder: 'address (empty: broadcast)' });
  const findPort = el('input', { name: 'port', placeholder: '3956', size: '6' });
  const broadcast = el('input', { type: 'checkbox', name: 'broadcast' });
  const found = el('ul', { id: 'found' });
  const find = el(
    'form',
    { id: 'discover' },
    findAddress,
    ' port ',
    findPort,
    ' ',
    el('label', {}, broadcast, ' broadcast on every interface'),
    ' ',
    el('button', { type: 'submit' }, 'Find'),
  );
  find.addEventListener('submit', (ev) => {
    ev.preventDefault();
    found.replaceChildren(el('li', {}, 'looking...'));
    api<{ address: string; port: number; model: string; serial: string; mac: string }[]>('/api/discover', {
      method: 'POST',
      body: JSON.stringify({
        address: findAddress.value.trim(),
        port: findPort.value.trim(),
        broadcast: broadcast.checked,
      }),
    }).then(
      (cams) => {
        found.replaceChildren(...(cams.length === 0 ? [el('li', {}, 'no camera answered')] : []));
        for (const d of cams) {
          const b = el('button', { type: 'button' }, 'Open');
          b.onclick = () => {
            kind.value = 'gige';
            address.value = d.address;
            port.value = String(d.port);
            form.requestSubmit();
          };
          found.append(
            el(
              'li',
              { 'data-camera': `${d.address}:${d.port}` },
              `${d.model} ${d.serial} ${d.mac} at ${d.address}:${d.port} `,
              b,
            ),
          );
        }
      },
      (e: Error) => {
        found.replaceChildren(el('li', { class: 'error' }, `${e.name}: ${e.message}`));
      },
    );
  });
  app.replaceChildren(
    el('h2', {}, 'Devices'),
    list,
    el('h3', {}, 'Open a device (by its unicast address)'),
    form,
    el('h3', {}, 'Find GigE Vision cameras'),
    find,
    found,
  );
  const devices = await api<DeviceInfo[]>('/api/devices');
  if (devices.length === 0) list.append(el('li', {}, 'none open yet'));
  for (const d of devices)
    list.append(el('li', {}, el('a', { href: `#/${d.kind}/${d.id}` }, `${d.kind} ${d.address}`), ` (${d.id})`));
}

// ------------------------------------------------------------------ pixels

function pixelText(img: DisplayImage | Uint8Array | undefined, width: number, x: number, y: number): string {
  if (!img) return '';
  const i = y * width + x;
  if (img instanceof Uint8Array) return String(img[i]);
  if (img.kind === 'rgb8') return `${img.pixels[3 * i]},${img.pixels[3 * i + 1]},${img.pixels[3 * i + 2]}`;
  if (img.kind === 'gray16') return String((img.pixels[i] as number) >> (16 - img.significantBits));
  return String(img.pixels[i]);
}

// ------------------------------------------------------------------ GigE view

function socketUrl(kind: string, id: string): string {
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/${kind}/${encodeURIComponent(id)}${q}`;
}

interface FeatureView {
  name: string;
  displayName: string;
  depth: number;
  category: string | undefined;
  interface: string;
  access: string;
  unit?: string;
  min?: string;
  max?: string;
  inc?: string;
  description?: string;
  entries?: string[];
  value?: string;
  error?: string;
}

function plot(title: string, series: string[], target: HTMLElement): { push(t: number, values: number[]): void } {
  const data: number[][] = [[], ...series.map(() => [])];
  const colours = ['#2a7', '#27c', '#c72', '#c27'];
  const u = new uPlot(
    {
      title,
      width: 300,
      height: 140,
      series: [{}, ...series.map((label, i) => ({ label, stroke: colours[i] ?? '#888' }))],
      axes: [{ show: false }, {}],
      legend: { show: true },
    },
    data as uPlot.AlignedData,
    target,
  );
  return {
    push(t, values) {
      data[0]?.push(t);
      for (const [i, v] of values.entries()) data[i + 1]?.push(v);
      if ((data[0]?.length ?? 0) > 120) for (const d of data) d.shift();
      u.setData(data as uPlot.AlignedData);
    },
  };
}

async function showGige(id: string): Promise<void> {
  const canvas = el('canvas', { id: 'frame', width: '1', height: '1' });
  const view: FrameView =
    (renderMode === '2d' ? undefined : webglView(canvas, renderMode === 'webgl')) ?? canvas2dView(canvas);
  state.render = view.kind;
  state.readPixels = (x, y, w, h) => view.readPixels(x, y, w, h);
  const overlay = el('div', { class: 'overlay', id: 'overlay' }, 'waiting for frames');
  const stage = el('div', { class: 'stage', id: 'stage' }, canvas, overlay);
  const status = el('div', { class: 'status', id: 'status' });
  const probe = el('div', { class: 'status', id: 'probe' }, 'pixel: move over the image');
  const recordInfo = el('span', { id: 'record-info' });
  const btn = (id: string, label: string): HTMLButtonElement => el('button', { id, type: 'button' }, label);
  const start = btn('start', 'Start');
  const stop = btn('stop', 'Stop');
  const snapshot = btn('snapshot', 'Snapshot PNG');
  const record = btn('record', 'Record');
  const fit = btn('fit', 'Fit');
  const one = btn('one', '1:1');
  const plots = el('div', { class: 'plots' });
  const tree = el('div', { class: 'tree', id: 'features' }, 'loading features...');
  app.replaceChildren(
    el(
      'div',
      { class: 'gige' },
      el(
        'section',
        {},
        el('div', { class: 'toolbar' }, start, stop, snapshot, record, fit, one, recordInfo),
        stage,
        status,
        probe,
        plots,
      ),
      el('section', {}, el('h3', {}, 'Features'), tree),
    ),
  );
  (document.getElementById('where') as HTMLElement).textContent = id;
  const rate = plot('frames/s and MB/s', ['fps', 'MB/s'], plots);
  const loss = plot('packets', ['resent', 'missing'], plots);

  // zoom and pan: a CSS transform of the canvas; the canvas itself holds the frame at 1:1
  let zoom = 1;
  let panX = 0;
  let panY = 0;
  const apply = (): void => {
    canvas.style.transform = `translate(${panX}px, ${panY}px) scale(${zoom})`;
  };
  const fitToStage = (): void => {
    const z = Math.min(stage.clientWidth / canvas.width, stage.clientHeight / canvas.height);
    zoom = Number.isFinite(z) && z > 0 ? z : 1;
    panX = (stage.clientWidth - canvas.width * zoom) / 2;
    panY = (stage.clientHeight - canvas.height * zoom) / 2;
    apply();
  };
  fit.onclick = fitToStage;
  one.onclick = () => {
    zoom = 1;
    panX = 0;
    panY = 0;
    apply();
  };
  stage.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      const r = stage.getBoundingClientRect();
      const mx = ev.clientX - r.left;
      const my = ev.clientY - r.top;
      const k = Math.exp(-ev.deltaY / 500);
      const z = Math.min(64, Math.max(0.05, zoom * k));
      panX = mx - ((mx - panX) * z) / zoom;
      panY = my - ((my - panY) * z) / zoom;
      zoom = z;
      apply();
    },
    { passive: false },
  );
  let drag: { x: number; y: number } | undefined;
  stage.addEventListener('pointerdown', (ev) => {
    drag = { x: ev.clientX - panX, y: ev.clientY - panY };
    stage.setPointerCapture(ev.pointerId);
  });
  stage.addEventListener('pointerup', () => {
    drag = undefined;
  });
  let lastImage: DisplayImage | Uint8Array | undefined;
  let mouse: { x: number; y: number } | undefined;
  const showProbe = (): void => {
    if (!mouse || !state.last) return;
    const x = Math.floor((mouse.x - panX) / zoom);
    const y = Math.floor((mouse.y - panY) / zoom);
    if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) probe.textContent = 'pixel: outside the image';
    else probe.textContent = `pixel (${x}, ${y}) = ${pixelText(lastImage, canvas.width, x, y)}`;
  };
  stage.addEventListener('pointermove', (ev) => {
    if (drag) {
      panX = ev.clientX - drag.x;
      panY = ev.clientY - drag.y;
      apply();
    }
    const r = stage.getBoundingClientRect();
    mouse = { x: ev.clientX - r.left, y: ev.clientY - r.top };
    showProbe();
  });

  // frames
  let firstFrame = true;
  const ws = new WebSocket(socketUrl('gige', id));
  ws.binaryType = 'arraybuffer';
  const showStats = (): void => {
    const s = state.stats as StatsMessage | undefined;
    const last = state.last;
    status.textContent = s
      ? `${s.frameRate.toFixed(1)} fps  ${(s.bytesPerSecond / 1e6).toFixed(2)} MB/s  complete ${s.completedFrames}  failed ${s.failures}  resent ${s.resentPackets}  missing ${s.missingPackets}  dropped for display ${state.dropped}${s.error ? `  error: ${s.error}` : ''}`
      : '';
    overlay.replaceChildren(
      `frame ${last?.frame ?? '-'}  shown ${state.displayed}`,
      ...(state.dropped > 0 ? [el('span', { class: 'drop' }, `  dropped ${state.dropped}`)] : []),
    );
  };
  // the status line and overlay follow frames at most 10 times a second (a DOM update a frame costs the renderer a
  // style, layout and paint at 60 fps); the last frame's numbers are always shown
  let statusAt = 0;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  const showStatsSoon = (): void => {
    if (statusTimer !== undefined) return;
    const wait = statusAt + 100 - performance.now();
    if (wait <= 0) {
      statusAt = performance.now();
      showStats();
      return;
    }
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      statusAt = performance.now();
      showStats();
    }, wait);
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') {
      const s = JSON.parse(ev.data) as StatsMessage;
      if (s.type !== 'stats') return;

      state.stats = s;
      recordInfo.textContent = s.recording ? `recording to ${s.recording}` : '';
      record.textContent = s.recording ? 'Stop recording' : 'Record';
      const t = Date.now() / 1000;
      rate.push(t, [s.frameRate, s.bytesPerSecond / 1e6]);
      loss.push(t, [s.resentPackets, s.missingPackets]);
      showStats();
      return;
    }
    try {
      const { header, pixels } = decodeFrameMessage(ev.data as ArrayBuffer);
      if (!canDisplay(header.pixelFormat)) throw new Error(`pixel format ${header.pixelFormat} cannot be shown`);
      const t0 = performance.now();
      lastImage = view.draw(header, pixels);
      state.drawMs.push(performance.now() - t0);
      if (state.drawMs.length > 10_000) state.drawMs.splice(0, 5_000);
      if (firstFrame) fitToStage();
      firstFrame = false;
      state.displayed++;
      state.dropped = header.dropped;
      state.last = header;
      const delay = performance.timeOrigin + performance.now() - header.completedAt;
      state.delays.push(delay);
      if (state.delays.length > 10_000) state.delays.splice(0, 5_000);
      showStatsSoon();
      showProbe();
    } catch (e) {
      state.errors.push(e instanceof Error ? e.message : String(e));
      overlay.textContent = state.errors.at(-1) ?? '';
    } finally {
      ws.send('{"type":"ack"}');
    }
  };
  ws.onclose = () => {
    overlay.textContent = 'disconnected';
  };
  teardown = () => ws.close();

  start.onclick = () => void api(`/api/gige/${id}/commands/AcquisitionStart`, { method: 'POST' });
  stop.onclick = () => void api(`/api/gige/${id}/commands/AcquisitionStop`, { method: 'POST' });
  snapshot.onclick = () => {
    canvas.toBlob((blob) => {
      if (!blob) return;
      const a = el('a', { href: URL.createObjectURL(blob), download: `cam-${id}-frame-${state.last?.frame ?? 0}.png` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    }, 'image/png');
  };
  record.onclick = () => {
    const on = !(state.stats as StatsMessage | undefined)?.recording;
    api<{ file?: string; frames?: number }>(`/api/gige/${id}/record`, {
      method: 'POST',
      body: JSON.stringify({ on }),
    }).then(
      (r) => {
        recordInfo.textContent = on ? `recording to ${r.file}` : `recorded ${r.frames} frames to ${r.file}`;
      },
      (e: Error) => {
        recordInfo.textContent = `${e.name}: ${e.message}`;
      },
    );
  };

  await renderFeatures(id, tree);
}

/** The feature tree: categories as collapsible groups, each feature with its editor, meta data and inline errors. */
async function renderFeatures(id: string, tree: HTMLElement): Promise<void> {
  let features: FeatureView[];
  try {
    features = await api<FeatureView[]>(`/api/gige/${id}/features`);
  } catch (e) {
    tree.textContent = `${(e as Error).name}: ${(e as Error).message}`;
    return;
  }
  const groups = new Map<string, HTMLElement>();
  tree.replaceChildren();
  const refresh = async (): Promise<void> => {
    const fresh = await api<FeatureView[]>(`/api/gige/${id}/features`).catch(() => undefined);
    if (!fresh) return;
    for (const f of fresh) {
      const row = tree.querySelector<HTMLElement>(`[data-feature="${CSS.escape(f.name)}"]`);
      const v = row?.querySelector<HTMLInputElement | HTMLSelectElement | HTMLElement>('.value');
      if (!v || f.value === undefined || v === document.activeElement) continue;
      if (v instanceof HTMLInputElement && v.type === 'checkbox') v.checked = f.value === 'true';
      else if (v instanceof HTMLInputElement || v instanceof HTMLSelectElement) v.value = f.value;
      else v.textContent = f.value;
    }
  };
  for (const f of features) {
    const parent = (f.category && groups.get(f.category)) || tree;
    if (f.interface === 'ICategory') {
      const details = el('details', { 'data-category': f.name }, el('summary', {}, f.displayName));
      if (f.depth <= 2) details.open = true;
      groups.set(f.name, details);
      parent.append(details);
      continue;
    }
    const err = el('span', { class: 'error' });
    const writable = f.access === 'RW' || f.access === 'WO';
    const send = (value: string): void => {
      err.textContent = '';
      api<{ value?: string }>(`/api/gige/${id}/features/${encodeURIComponent(f.name)}`, {
        method: 'PUT',
        body: JSON.stringify({ value }),
      }).then(
        () => void refresh(),
        (e: Error) => {
          err.textContent = `${e.name}: ${e.message}`;
          void refresh();
        },
      );
    };
    let editor: HTMLElement;
    if (f.interface === 'ICommand') {
      const b = el('button', { type: 'button', class: 'value' }, 'Execute');
      b.disabled = !writable;
      b.onclick = () => {
        err.textContent = '';
        api(`/api/gige/${id}/commands/${encodeURIComponent(f.name)}`, { method: 'POST' }).then(
          () => void refresh(),
          (e: Error) => {
            err.textContent = `${e.name}: ${e.message}`;
          },
        );
      };
      editor = b;
    } else if (!writable) {
      editor = el('span', { class: 'value ro' }, f.value ?? f.error ?? '');
    } else if (f.interface === 'IEnumeration') {
      const s = el('select', { class: 'value' }, ...(f.entries ?? []).map((n) => el('option', { value: n }, n)));
      s.value = f.value ?? '';
      s.onchange = () => send(s.value);
      editor = s;
    } else if (f.interface === 'IBoolean') {
      const c = el('input', { type: 'checkbox', class: 'value' });
      c.checked = f.value === 'true';
      c.onchange = () => send(String(c.checked));
      editor = c;
    } else {
      const i = el('input', { type: 'text', class: 'value', value: f.value ?? '' });
      i.onkeydown = (ev) => {
        if (ev.key === 'Enter') send(i.value);
      };
      editor = i;
    }
    const range =
      f.min !== undefined || f.max !== undefined
        ? ` [${f.min ?? ''}..${f.max ?? ''}${f.inc && f.inc !== '1' ? ` step ${f.inc}` : ''}]`
        : '';
    const meta = `${f.interface.slice(1)} ${f.access}${f.unit ? ` ${f.unit}` : ''}${range}`;
    parent.append(
      el(
        'div',
        { class: 'feature', 'data-feature': f.name, 'data-access': f.access, title: f.description ?? '' },
        el('label', {}, f.displayName),
        el('span', {}, editor, ' ', err),
        el('span', { class: 'meta' }, meta, f.description ? ` — ${f.description}` : ''),
      ),
    );
  }
}

// ------------------------------------------------------------------ SC_GVMP view

/** A smart camera's JPEG stream: each payload decoded by the browser's own JPEG decoder onto a canvas. */
async function showScGvmp(id: string): Promise<void> {
  const canvas = el('canvas', { id: 'frame', width: '1', height: '1' });
  const ctx = canvas.getContext('2d', { alpha: false }) as CanvasRenderingContext2D;
  state.render = '2d';
  state.readPixels = (x, y, w, h) => new Uint8Array(ctx.getImageData(x, y, w, h).data.buffer);
  const overlay = el('div', { class: 'overlay', id: 'overlay' }, 'waiting for frames');
  const stage = el('div', { class: 'stage', id: 'stage' }, canvas, overlay);
  const status = el('div', { class: 'status', id: 'status' });
  const plots = el('div', { class: 'plots' });
  app.replaceChildren(el('h3', {}, 'Smart camera (SC_GVMP)'), stage, status, plots);
  (document.getElementById('where') as HTMLElement).textContent = id;
  const rate = plot('frames/s', ['fps'], plots);
  const ws = new WebSocket(socketUrl('scgvmp', id));
  ws.binaryType = 'arraybuffer';
  const show = (): void => {
    const s = state.stats as ScGvmpStatsMessage | undefined;
    status.textContent = s
      ? `${s.frameRate.toFixed(1)} fps  frames ${s.framesReceived}  missing ${s.framesMissing}  reconnects ${s.reconnects}  restarts ${s.restarts}  state ${s.state}  dropped for display ${state.dropped}${s.error ? `  last error: ${s.error}` : ''}`
      : '';
    overlay.replaceChildren(
      `frame ${state.last?.frame ?? '-'}  shown ${state.displayed}`,
      ...(state.dropped > 0 ? [el('span', { class: 'drop' }, `  dropped ${state.dropped}`)] : []),
    );
  };
  ws.onmessage = async (ev) => {
    if (typeof ev.data === 'string') {
      const s = JSON.parse(ev.data) as ScGvmpStatsMessage;
      if (s.type !== 'stats') return;
      state.stats = s;
      rate.push(Date.now() / 1000, [s.frameRate]);
      show();
      return;
    }
    try {
      const { header, pixels } = decodeFrameMessage<ScGvmpFrameHeader>(ev.data as ArrayBuffer);
      if (header.kind !== 'JPEG') throw new Error(`payload kind ${header.kind} is not shown (JPEG only)`);
      const bitmap = await createImageBitmap(new Blob([pixels], { type: 'image/jpeg' }));
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        const z = Math.min(stage.clientWidth / bitmap.width, stage.clientHeight / bitmap.height);
        canvas.style.transform = `scale(${Number.isFinite(z) && z > 0 ? z : 1})`;
      }
      ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      state.displayed++;
      state.dropped = header.dropped;
      state.last = header;
      state.delays.push(performance.timeOrigin + performance.now() - header.completedAt);
      if (state.delays.length > 10_000) state.delays.splice(0, 5_000);
      show();
    } catch (e) {
      state.errors.push(e instanceof Error ? e.message : String(e));
      overlay.textContent = state.errors.at(-1) ?? '';
    } finally {
      ws.send('{"type":"ack"}');
    }
  };
  ws.onclose = () => {
    overlay.textContent = 'disconnected';
  };
  teardown = () => ws.close();
}

// ------------------------------------------------------------------ EHome view

interface EhomeDeviceRow {
  deviceId: string;
  online: boolean;
  address?: string;
  model?: string;
}

interface EhomeEvent {
  id: number;
  at: string;
  type: string;
  deviceId?: string;
  alarm?: Record<string, unknown>;
  pictures?: { id: string; url?: string }[];
  complete?: boolean;
}

/** Media Source Extensions: the platform's fragmented MP4 (H.264) appended as it arrives, kept near the live edge. */
function playPreview(video: HTMLVideoElement, url: string, info: HTMLElement): () => void {
  const abort = new AbortController();
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  ms.addEventListener(
    'sourceopen',
    () => {
      // the codec string only has to name H.264: the decoder is configured from the init segment's avcC
      const sb = ms.addSourceBuffer('video/mp4; codecs="avc1.4d401e"');
      const queue: Uint8Array<ArrayBuffer>[] = [];
      let received = 0;
      const pump = (): void => {
        if (sb.updating || ms.readyState !== 'open') return;
        const b = sb.buffered;
        // bounded memory: drop what is well behind the playhead; stay within a second of the live edge
        if (b.length > 0 && video.currentTime - (b.start(0) as number) > 20) {
          sb.remove(0, video.currentTime - 10);
          return;
        }
        if (b.length > 0 && (b.end(b.length - 1) as number) - video.currentTime > 1.5)
          video.currentTime = (b.end(b.length - 1) as number) - 0.3;
        const next = queue.shift();
        if (next) sb.appendBuffer(next);
      };
      sb.addEventListener('updateend', pump);
      const headers = new Headers();
      if (token) headers.set('x-cam-token', token);
      fetch(url, { headers, signal: abort.signal })
        .then(async (res) => {
          if (!res.ok || !res.body) {
            const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
            throw new Error(`preview: HTTP ${res.status} ${body.error?.message ?? ''}`);
          }
          const reader = res.body.getReader();
          void video.play().catch(() => {});
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            received += value.byteLength;
            queue.push(value as Uint8Array<ArrayBuffer>);
            info.textContent = `preview: ${(received / 1e6).toFixed(2)} MB received, playing at ${video.currentTime.toFixed(1)} s`;
            pump();
          }
          info.textContent = `preview ended after ${(received / 1e6).toFixed(2)} MB`;
        })
        .catch((e: Error) => {
          if (!abort.signal.aborted) info.textContent = `${e.name}: ${e.message}`;
        });
    },
    { once: true },
  );
  return () => {
    abort.abort();
    URL.revokeObjectURL(video.src);
  };
}

async function showEhome(id: string): Promise<void> {
  const devices = el('tbody', { id: 'ehome-devices' });
  const alarms = el('ul', { id: 'alarms' });
  const video = el('video', { id: 'preview', width: '640', height: '360', controls: '' });
  video.muted = true;
  video.playsInline = true;
  const info = el('div', { class: 'status', id: 'preview-info' }, 'pick a device to preview');
  app.replaceChildren(
    el(
      'div',
      { class: 'gige' },
      el('section', {}, el('h3', {}, 'Preview'), video, info, el('h3', {}, 'Alarms'), alarms),
      el(
        'section',
        {},
        el('h3', {}, 'Devices'),
        el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'device'), el('th', {}, 'state'), el('th', {})))),
      ),
    ),
  );
  (app.querySelector('table') as HTMLTableElement).append(devices);
  (document.getElementById('where') as HTMLElement).textContent = id;
  let stopPreview: (() => void) | undefined;
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  const renderDevices = async (): Promise<void> => {
    const list = await api<EhomeDeviceRow[]>(`/api/ehome/${id}/devices`);
    devices.replaceChildren(
      ...list.map((d) => {
        const b = el('button', { type: 'button', class: 'preview' }, 'Preview');
        b.onclick = () => {
          stopPreview?.();
          info.textContent = `opening the preview of ${d.deviceId}...`;
          stopPreview = playPreview(
            video,
            `/api/ehome/${id}/devices/${encodeURIComponent(d.deviceId)}/preview?seconds=3600`,
            info,
          );
        };
        b.disabled = !d.online;
        return el(
          'tr',
          { 'data-device': d.deviceId, 'data-online': String(d.online) },
          el('td', {}, d.deviceId),
          el('td', { class: d.online ? 'online' : 'offline' }, d.online ? 'online' : 'offline'),
          el('td', {}, b),
        );
      }),
    );
  };
  const alarmRow = (e: EhomeEvent): HTMLElement => {
    const what = Object.entries(e.alarm ?? {})
      .filter(([, v]) => typeof v !== 'object')
      .slice(0, 4)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const pics = (e.pictures ?? []).flatMap((p) => {
      const m = /\/api\/pictures\/([A-Za-z0-9_.-]+)$/.exec(p.url ?? '');
      return m
        ? [el('img', { src: `/api/ehome/${id}/pictures/${m[1]}${q}`, alt: `picture ${p.id}`, height: '90' })]
        : [];
    });
    return el('li', { 'data-event': String(e.id) }, `${e.at} ${e.deviceId ?? ''} ${what} `, ...pics);
  };
  const seen = new Set<number>();
  // The platform commits an alarm before its pictures arrive (it acknowledges only what is stored) and links them
  // into the same event later, which the live stream does not send again: an incomplete alarm is read again until
  // its pictures are linked (every 0.5 s, at most 60 times).
  const completeLater = (e: EhomeEvent, tries = 60): void => {
    if (e.complete !== false || tries <= 0 || e.deviceId === undefined) return;
    const device = encodeURIComponent(e.deviceId);
    setTimeout(() => {
      void api<{ events: EhomeEvent[] }>(
        `/api/ehome/${id}/events?type=alarm&device=${device}&after=${e.id - 1}&limit=1`,
      )
        .then(({ events }) => {
          const now = events.find((x) => x.id === e.id);
          if (!now) return;
          if (now.complete === false) return completeLater(now, tries - 1);
          alarms.querySelector(`li[data-event="${e.id}"]`)?.replaceWith(alarmRow(now));
        })
        .catch(() => completeLater(e, tries - 1));
    }, 500);
  };
  const addAlarm = (e: EhomeEvent): void => {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    alarms.prepend(alarmRow(e));
    while (alarms.children.length > 100) alarms.lastElementChild?.remove();
    completeLater(e);
  };
  const events = new EventSource(`/api/ehome/${id}/events/stream${q ? `${q}&` : '?'}type=alarm`);
  events.addEventListener('alarm', (ev) => addAlarm(JSON.parse((ev as MessageEvent<string>).data) as EhomeEvent));
  const past = await api<{ events: EhomeEvent[] }>(`/api/ehome/${id}/events?type=alarm&limit=50`);
  for (const e of past.events) addAlarm(e);
  await renderDevices();
  const timer = setInterval(() => void renderDevices().catch(() => {}), 2000);
  teardown = () => {
    clearInterval(timer);
    events.close();
    stopPreview?.();
  };
}

// ------------------------------------------------------------------ Huidu LED controller view

interface UploadJob {
  id: number;
  name: string;
  sent: number;
  total: number;
  resumedFrom: number;
  done: boolean;
  error?: string;
}

async function showSdk(id: string): Promise<void> {
  const info = el('table', { id: 'sdk-info' });
  const files = el('tbody', { id: 'sdk-files' });
  const file = el('input', { type: 'file', id: 'upload-file' });
  const type = el(
    'select',
    { id: 'upload-type' },
    ...['image', 'video', 'font', 'firmware', 'config', 'fpga'].map((t) => el('option', { value: t }, t)),
  );
  const go = el('button', { type: 'button', id: 'upload' }, 'Upload');
  const bar = el('progress', { id: 'upload-progress', max: '1', value: '0' });
  const status = el('span', { id: 'upload-info' });
  app.replaceChildren(
    el('h3', {}, 'LED controller'),
    info,
    el('h3', {}, 'Files'),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el('tr', {}, el('th', {}, 'name'), el('th', {}, 'size'), el('th', {}, 'type'), el('th', {}, 'md5')),
      ),
      files,
    ),
    el('h3', {}, 'Upload'),
    el('div', { class: 'toolbar' }, file, type, go, bar, status),
  );
  (document.getElementById('where') as HTMLElement).textContent = id;
  const d = await api<Record<string, unknown>>(`/api/sdk/${id}/info`);
  info.replaceChildren(
    ...Object.entries(d).map(([k, v]) => el('tr', { 'data-key': k }, el('th', {}, k), el('td', {}, String(v)))),
  );
  const listFiles = async (): Promise<void> => {
    const list = await api<{ name: string; size: number; type: string; md5: string }[]>(`/api/sdk/${id}/files`);
    files.replaceChildren(
      ...list.map((f) =>
        el(
          'tr',
          { 'data-file': f.name },
          el('td', {}, f.name),
          el('td', {}, String(f.size)),
          el('td', {}, f.type),
          el('td', {}, f.md5),
        ),
      ),
    );
  };
  await listFiles();
  let poll: ReturnType<typeof setInterval> | undefined;
  go.onclick = () => {
    const f = file.files?.[0];
    if (!f) {
      status.textContent = 'choose a file first';
      return;
    }
    status.textContent = `sending ${f.name} to the viewer...`;
    api<UploadJob>(`/api/sdk/${id}/uploads?name=${encodeURIComponent(f.name)}&type=${encodeURIComponent(type.value)}`, {
      method: 'POST',
      body: f,
      headers: { 'content-type': 'application/octet-stream' },
    }).then(
      (job) => {
        clearInterval(poll);
        poll = setInterval(() => {
          api<UploadJob>(`/api/sdk/${id}/uploads/${job.id}`).then(
            (j) => {
              bar.max = Math.max(1, j.total);
              bar.value = j.sent;
              status.textContent = j.error
                ? j.error
                : `${j.name}: ${j.sent} of ${j.total} bytes${j.resumedFrom ? ` (resumed from ${j.resumedFrom})` : ''}${j.done ? ', done' : ''}`;
              if (j.done) {
                clearInterval(poll);
                void listFiles();
              }
            },
            (e: Error) => {
              clearInterval(poll);
              status.textContent = `${e.name}: ${e.message}`;
            },
          );
        }, 200);
      },
      (e: Error) => {
        status.textContent = `${e.name}: ${e.message}`;
      },
    );
  };
  teardown = () => clearInterval(poll);
}

function route(): void {
  teardown?.();
  teardown = undefined;
  (document.getElementById('where') as HTMLElement).textContent = '';
  const m = /^#\/(gige|scgvmp|ehome|sdk)\/([A-Za-z0-9-]+)$/.exec(location.hash);
  const views = { gige: showGige, scgvmp: showScGvmp, ehome: showEhome, sdk: showSdk };
  const shown = m?.[2] ? views[m[1] as keyof typeof views](m[2]) : showStart();
  shown.catch((e: Error) => {
    app.replaceChildren(el('p', { class: 'error' }, `${e.name}: ${e.message}`));
  });
}

window.addEventListener('hashchange', route);
route();
