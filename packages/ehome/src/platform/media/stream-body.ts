/**
 * Platform side: what a live stream's HTTP body carries, Annex B H.264 as the device sent it or fragmented MP4 (for
 * a browser's Media Source Extensions or any player that wants a container). One object per stream.
 */
import { Fmp4Muxer } from '../../codec/media/fmp4.js';
import type { AccessUnit } from '../../codec/media/ps.js';

/** Formats a stream body can take. */
export const STREAM_FORMATS = ['h264', 'mp4'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** The MIME type of each format. */
export const STREAM_CONTENT_TYPES: Record<StreamFormat, string> = {
  h264: 'video/h264',
  mp4: 'video/mp4',
};

/** Turns the access units of one stream into body chunks of one format. */
export class StreamBodyEncoder {
  private readonly muxer: Fmp4Muxer | undefined;

  /** `fragment` (mp4 only): one media segment per frame (live, lowest latency) or per GOP. */
  constructor(
    readonly format: StreamFormat,
    options: { fragment?: 'gop' | 'frame' } = {},
  ) {
    this.muxer = format === 'mp4' ? new Fmp4Muxer({ fragment: options.fragment ?? 'frame' }) : undefined;
  }

  get contentType(): string {
    return STREAM_CONTENT_TYPES[this.format];
  }

  /** Chunks to send for this access unit (H.264 only: audio is left out of an mp4 body). */
  push(unit: AccessUnit): Uint8Array[] {
    if (!this.muxer) return [unit.data.slice()];
    if (unit.kind !== 'video' || unit.codec !== 'h264') return [];
    return this.muxer.push({ data: unit.data, pts: unit.pts });
  }

  /** Chunks still held when the stream ends. */
  flush(): Uint8Array[] {
    return this.muxer ? this.muxer.flush() : [];
  }
}
