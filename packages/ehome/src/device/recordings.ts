import type { RecordedFile } from '../codec/index.js';
import { formatEhomeTime, parseEhomeTime } from '../codec/index.js';

/** One recording of the simulated index: the wire entry plus its channel and file type. */
export interface SimulatedRecording extends RecordedFile {
  channel: number;
  /** File type a QUERYRECORDEDFILES `FileType` selects (255 = all). */
  fileType: number;
}

/**
 * A day of hourly recordings per channel (names `ch0001_...` as in captures), deterministic so tests can compute
 * what a query returns. Every fourth hour is an alarm recording (file type 1), the others scheduled (0).
 */
export function simulatedRecordingIndex(channels: number, day: string): SimulatedRecording[] {
  const base = parseEhomeTime(`${day} 00:00:00`).getTime();
  const out: SimulatedRecording[] = [];
  for (let ch = 1; ch <= channels; ch++) {
    for (let h = 0; h < 24; h++) {
      const start = formatEhomeTime(new Date(base + h * 3_600_000));
      const stop = formatEhomeTime(new Date(base + (h + 1) * 3_600_000 - 1000));
      out.push({
        channel: ch,
        fileType: h % 4 === 3 ? 1 : 0,
        name: `ch${String(ch).padStart(4, '0')}_${String(h + 1).padStart(8, '0')}000${String(ch).padStart(6, '0')}`,
        start,
        stop,
        size: 400_000_000 + h * 1_000_003 + ch * 7,
        flag: 0,
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
