/**
 * Device side: the simulated recording index. Any day has recordings, derived from the date alone (no state, no
 * "today"): per channel, one recording in each hour, starting at a minute and second and lasting 10..60 s, all taken
 * from a hash of (day, channel, hour). A recording's size is what its download weighs (the caller says how to
 * weigh a stretch of video), so the index and the download agree on length, times and bytes.
 */
import type { RecordedFile } from '../codec/index.js';
import { formatEhomeTime, parseEhomeTime } from '../codec/index.js';

/** One recording of the simulated index: the wire entry plus its channel and file type. */
export interface SimulatedRecording extends RecordedFile {
  channel: number;
  /** File type a QUERYRECORDEDFILES `FileType` selects (255 = all). */
  fileType: number;
  /** Start, ms since the epoch (device time taken as UTC). */
  startMs: number;
  /** Length in ms (a whole number of seconds); `stop` is `start` plus this. */
  durationMs: number;
}

/** Bytes a download of `durationMs` of video starting at `startMs` (device time) carries. */
export type RecordingSizer = (startMs: number, durationMs: number) => number;

/** Most days one query may span (a year): a wider range is answered for its first 366 days. */
export const MAX_QUERY_DAYS = 366;

const DAY_MS = 86_400_000;

/** FNV-1a over a string: a small deterministic hash, enough to spread recordings over an hour. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A recording's file name: channel and start time, so a name alone finds it again (`ch0001_20260101003512`). */
function recordingName(channel: number, start: string): string {
  return `ch${String(channel).padStart(4, '0')}_${start.replace(/[- :]/g, '')}`;
}

/**
 * The recordings of one day (`YYYY-MM-DD`) on channels 1..`channels`, in channel then time order. Every fourth
 * hour's recording is an alarm recording (file type 1), the others scheduled (0). `size` comes from `sizeOf`
 * (default: 0 bytes, for an index without media). `onlyChannel` lists that channel alone (the same entries).
 */
export function simulatedRecordingIndex(
  channels: number,
  day: string,
  sizeOf: RecordingSizer = () => 0,
  onlyChannel?: number,
): SimulatedRecording[] {
  const base = parseEhomeTime(`${day} 00:00:00`).getTime();
  const out: SimulatedRecording[] = [];
  for (let ch = onlyChannel ?? 1; ch <= (onlyChannel ?? channels); ch++) {
    for (let h = 0; h < 24; h++) {
      const r = hash(`${day}/${ch}/${h}`);
      const startMs = base + h * 3_600_000 + (r % 3540) * 1000; // 00:00 .. 58:59 into the hour
      const durationMs = (10 + ((r >>> 12) % 51)) * 1000;
      const start = formatEhomeTime(new Date(startMs));
      out.push({
        channel: ch,
        fileType: h % 4 === 3 ? 1 : 0,
        name: recordingName(ch, start),
        start,
        stop: formatEhomeTime(new Date(startMs + durationMs)),
        size: sizeOf(startMs, durationMs),
        flag: 0,
        startMs,
        durationMs,
      });
    }
  }
  return out;
}

/** Recordings of `channel` overlapping [start, stop] of `fileType` (255 = any), in time order. */
export function querySimulated(
  index: readonly SimulatedRecording[],
  channel: number,
  fileType: number,
  start: string,
  stop: string,
): SimulatedRecording[] {
  // `YYYY-MM-DD HH:MM:SS` sorts as text.
  return index
    .filter(
      (r) =>
        r.channel === channel && (fileType === 255 || r.fileType === fileType) && r.stop >= start && r.start <= stop,
    )
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The recordings of every day from `start` to `stop` (at most {@link MAX_QUERY_DAYS} days), on one channel. */
export function simulatedRecordingsBetween(
  channels: number,
  channel: number,
  start: string,
  stop: string,
  sizeOf?: RecordingSizer,
): SimulatedRecording[] {
  if (!(channel >= 1 && channel <= channels)) return [];
  const from = parseEhomeTime(`${start.slice(0, 10)} 00:00:00`).getTime();
  const to = parseEhomeTime(`${stop.slice(0, 10)} 00:00:00`).getTime();
  const out: SimulatedRecording[] = [];
  for (let day = from, n = 0; day <= to && n < MAX_QUERY_DAYS; day += DAY_MS, n++) {
    out.push(...simulatedRecordingIndex(channels, formatEhomeTime(new Date(day)).slice(0, 10), sizeOf, channel));
  }
  return out;
}

/** The recording called `name` (as {@link simulatedRecordingIndex} names them), if it exists on `channel`. */
export function findSimulatedRecording(
  channels: number,
  channel: number,
  name: string,
  sizeOf?: RecordingSizer,
): SimulatedRecording | undefined {
  const m = /^ch(\d{4})_(\d{4})(\d{2})(\d{2})\d{6}$/.exec(name);
  if (!m || Number(m[1]) !== channel || channel > channels) return undefined;
  const day = `${m[2]}-${m[3]}-${m[4]}`;
  if (Number.isNaN(Date.parse(`${day}T00:00:00Z`))) return undefined;
  return simulatedRecordingIndex(channels, day, sizeOf, channel).find((r) => r.name === name);
}
