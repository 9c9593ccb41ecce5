import cliProgress from 'cli-progress';

/** A transfer's progress for a person: a bar on a terminal, plain lines otherwise, nothing with --json. */
export interface Progress {
  /** `done` units so far (bytes or frames). */
  update(done: number): void;
  /** Ends the bar (or prints the last plain line). */
  stop(): void;
}

export interface ProgressOptions {
  /** What is moving: `upload logo.bmp`, `grab`, ... */
  label: string;
  /** Units expected in all; unknown totals show count and rate only. */
  total?: number;
  unit: 'bytes' | 'frames';
  /** --json: print nothing. */
  json?: boolean;
  /** Where to draw (default stderr, so stdout stays for results and media). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Plain mode: at most one line per this many ms (default 1000). */
  intervalMs?: number;
  /** `CAM_PROGRESS=plain|bar|off` overrides the choice (default: bar on a terminal, plain lines otherwise). */
  mode?: 'bar' | 'plain' | 'off';
}

function amount(n: number, unit: 'bytes' | 'frames'): string {
  if (unit === 'frames') return `${n} frames`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function rateText(perSecond: number, unit: 'bytes' | 'frames'): string {
  return unit === 'frames' ? `${perSecond.toFixed(1)} fps` : `${amount(Math.round(perSecond), 'bytes')}/s`;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/**
 * Starts showing progress. Long transfers (upload, read, download, playback, recording, grab) call `update` as data
 * moves; the shared helper keeps the style, rate and ETA the same for every command.
 */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const envMode = process.env.CAM_PROGRESS;
  const mode =
    options.mode ??
    (envMode === 'bar' || envMode === 'plain' || envMode === 'off' ? envMode : stream.isTTY ? 'bar' : 'plain');
  if (options.json || mode === 'off') return { update() {}, stop() {} };
  const started = performance.now();
  const { total, unit, label } = options;
  const rate = (done: number): number => done / Math.max((performance.now() - started) / 1000, 1e-3);
  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format:
          total === undefined
            ? `${label} {done} | {rate}`
            : `${label} [{bar}] {percentage}% | {done} of {all} | {rate} | ETA {etaText}`,
        hideCursor: false,
        clearOnComplete: false,
        barsize: 24,
        noTTYOutput: true,
        notTTYSchedule: 1000,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = (done: number) => {
      const r = rate(done);
      return {
        done: amount(done, unit),
        all: total === undefined ? '?' : amount(total, unit),
        rate: rateText(r, unit),
        etaText: total === undefined ? '--' : eta((total - done) / Math.max(r, 1e-9)),
      };
    };
    bar.start(total ?? 0, 0, payload(0));
    let last = 0;
    return {
      update(done) {
        last = done;
        bar.update(done, payload(done));
      },
      stop() {
        bar.update(last, payload(last));
        bar.stop();
      },
    };
  }
  const interval = options.intervalMs ?? 1000;
  let lastLine = Number.NEGATIVE_INFINITY;
  let last = 0;
  const line = (done: number, final: boolean): void => {
    const r = rate(done);
    const pct = total === undefined || total === 0 ? '' : ` ${Math.floor((done / total) * 100)}%`;
    const left = total === undefined || final ? '' : `, ETA ${eta((total - done) / Math.max(r, 1e-9))}`;
    const of = total === undefined ? '' : ` of ${amount(total, unit)}`;
    stream.write(`${label}:${pct} ${amount(done, unit)}${of}, ${rateText(r, unit)}${left}\n`);
  };
  return {
    update(done) {
      last = done;
      const now = performance.now();
      if (now - lastLine >= interval) {
        lastLine = now;
        line(done, false);
      }
    },
    stop() {
      line(last, true);
    },
  };
}
