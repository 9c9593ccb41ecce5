import { abortReason } from '@cam/net-utils';
import type { AlarmParams, EhomeEventOf, StoredMedia } from './events.js';

interface PendingAlarm {
  deviceId: string;
  alarm: AlarmParams;
  receivedAt: number;
  eventId: number | undefined;
  expires: number;
  pictures: Map<string, StoredMedia | undefined>;
  video: { id: string; media: StoredMedia | undefined } | undefined;
}

interface Waiter {
  resolve: (m: StoredMedia) => void;
  reject: (e: Error) => void;
}

const key = (deviceId: string, kind: 'picture' | 'video', id: string): string => `${deviceId}\u0000${kind}\u0000${id}`;

/**
 * Binds alarms to their pictures and videos by PicID / VideoId whatever the arrival order (seed 002 c: "two
 * asynchronous uploads, bound by PicID and VideoId"). Media that arrives first waits for its alarm; an alarm waits
 * for its media; after `linkTimeoutMs` an alarm is reported with what it has and the rest listed as missing.
 * Every map is bounded by `maxEntries`.
 */
export class MediaLinker {
  private readonly orphans = new Map<string, { media: StoredMedia; expires: number }>();
  private readonly waitingMedia = new Map<string, PendingAlarm>();
  private readonly pending = new Set<PendingAlarm>();
  private readonly captures = new Map<string, Waiter>();

  constructor(
    private readonly linkTimeoutMs: number,
    private readonly maxEntries: number,
    private readonly emitAlarm: (e: EhomeEventOf<'alarm'>) => void,
  ) {}

  /** A stored upload: resolves a capture waiting for it, completes an alarm, or waits for its alarm. */
  onMedia(media: StoredMedia, now: number): 'capture' | 'alarm' | 'none' {
    const k = key(media.deviceId, media.kind, media.id);
    const capture = this.captures.get(k);
    if (capture) {
      this.captures.delete(k);
      capture.resolve(media);
      return 'capture';
    }
    const alarm = this.waitingMedia.get(k);
    if (alarm) {
      this.waitingMedia.delete(k);
      if (media.kind === 'picture') alarm.pictures.set(media.id, media);
      else if (alarm.video) alarm.video.media = media;
      this.completeIfReady(alarm);
      return 'alarm';
    }
    if (this.orphans.size >= this.maxEntries) {
      const oldest = this.orphans.keys().next().value;
      if (oldest !== undefined) this.orphans.delete(oldest);
    }
    this.orphans.set(k, { media, expires: now + this.linkTimeoutMs });
    return 'none';
  }

  /** An alarm: takes the media that already arrived, waits for the rest. */
  onAlarm(deviceId: string, alarm: AlarmParams, now: number, eventId?: number): void {
    const p: PendingAlarm = {
      deviceId,
      alarm,
      receivedAt: now,
      eventId,
      expires: now + this.linkTimeoutMs,
      pictures: new Map(),
      video: alarm.videoId === undefined ? undefined : { id: alarm.videoId, media: undefined },
    };
    const want: [kind: 'picture' | 'video', id: string][] = alarm.picIds.map((id) => ['picture', id]);
    if (alarm.videoId !== undefined) want.push(['video', alarm.videoId]);
    for (const [kind, id] of want) {
      const k = key(deviceId, kind, id);
      const orphan = this.orphans.get(k);
      if (orphan) this.orphans.delete(k);
      if (kind === 'picture') p.pictures.set(id, orphan?.media);
      else if (p.video) p.video.media = orphan?.media;
      if (!orphan) this.waitingMedia.set(k, p);
    }
    if (this.completeIfReady(p)) return;
    if (this.pending.size >= this.maxEntries) {
      const oldest = this.pending.values().next().value;
      if (oldest) this.finish(oldest);
    }
    this.pending.add(p);
  }

  private completeIfReady(p: PendingAlarm): boolean {
    for (const m of p.pictures.values()) if (!m) return false;
    if (p.video && !p.video.media) return false;
    this.finish(p);
    return true;
  }

  private finish(p: PendingAlarm): void {
    this.pending.delete(p);
    const pictures: StoredMedia[] = [];
    const missing: string[] = [];
    for (const [id, m] of p.pictures) {
      if (m) pictures.push(m);
      else {
        missing.push(id);
        this.waitingMedia.delete(key(p.deviceId, 'picture', id));
      }
    }
    if (p.video && !p.video.media) {
      missing.push(p.video.id);
      this.waitingMedia.delete(key(p.deviceId, 'video', p.video.id));
    }
    this.emitAlarm({
      type: 'alarm',
      deviceId: p.deviceId,
      alarm: p.alarm,
      pictures,
      video: p.video?.media,
      missing,
      complete: missing.length === 0,
      receivedAt: p.receivedAt,
      ...(p.eventId !== undefined ? { eventId: p.eventId } : {}),
    });
  }

  /** Waits for the upload of a captured picture (registered before the capture request is sent). */
  waitCapture(deviceId: string, picId: string, signal: AbortSignal): Promise<StoredMedia> {
    const k = key(deviceId, 'picture', picId);
    const orphan = this.orphans.get(k);
    if (orphan) {
      this.orphans.delete(k);
      return Promise.resolve(orphan.media);
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (this.captures.get(k) === w) this.captures.delete(k);
        reject(abortReason(signal));
      };
      const w: Waiter = {
        resolve: (m) => {
          signal.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.captures.set(k, w);
    });
  }

  /** Reports alarms whose media did not arrive in time and forgets stale uploads. */
  sweep(now: number): void {
    for (const p of this.pending) if (p.expires <= now) this.finish(p);
    for (const [k, o] of this.orphans) if (o.expires <= now) this.orphans.delete(k);
  }

  /** A device went offline: its pending alarms are reported as they are, its capture waiters fail. */
  dropDevice(deviceId: string, error: Error): void {
    for (const p of this.pending) if (p.deviceId === deviceId) this.finish(p);
    const prefix = `${deviceId}\u0000`;
    for (const [k, w] of this.captures) {
      if (k.startsWith(prefix)) {
        this.captures.delete(k);
        w.reject(error);
      }
    }
    for (const k of this.orphans.keys()) if (k.startsWith(prefix)) this.orphans.delete(k);
  }

  /** Flushes everything (server closing). */
  close(error: Error): void {
    for (const p of [...this.pending]) this.finish(p);
    for (const w of this.captures.values()) w.reject(error);
    this.captures.clear();
    this.orphans.clear();
  }

  get sizes(): { pendingAlarms: number; orphanMedia: number; captures: number } {
    return { pendingAlarms: this.pending.size, orphanMedia: this.orphans.size, captures: this.captures.size };
  }
}
