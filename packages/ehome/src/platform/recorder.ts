import { eventRecord } from '../store/event-json.js';
import type { EhomeStore, RetentionPolicy } from '../store/types.js';
import type { AlarmParams, EhomeEvent, StoredMedia } from './events.js';
import type { DeviceSession } from './registry.js';

type Log = (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;

/**
 * What the platform writes to its store: alarms and uploads committed before they are acknowledged (the caller
 * awaits), other events, sessions and command history written behind (a failure is logged, never thrown into the
 * datagram loop), sessions' `lastSeen` refreshed in batches, and the retention policy enforced once a minute.
 */
export class PlatformRecorder {
  private lastTouch = 0;
  private lastRetention = 0;
  private retentionRunning = false;
  private failures = 0;

  constructor(
    readonly store: EhomeStore,
    private readonly log: Log,
    private readonly retention: RetentionPolicy | undefined,
    private readonly removeFiles: (files: { path: string; size: number }[]) => Promise<void>,
    private readonly touchEveryMs = 15_000,
  ) {}

  /** Writes that failed (the store refused or broke); each is logged too. */
  get writeFailures(): number {
    return this.failures;
  }

  private behind(what: string, p: Promise<unknown>): void {
    p.catch((e: unknown) => {
      this.failures++;
      this.log('warn', `store: ${what} not written`, { error: e instanceof Error ? e.message : String(e) });
    });
  }

  /**
   * Commits an alarm as it arrived (its pictures still to come) and resolves with its event id; a resend of an
   * alarm already stored (same device, Sequence and AlarmTime) resolves with the first one's id.
   */
  alarm(
    deviceId: string,
    alarm: AlarmParams,
    sequence: number,
    at: number,
  ): Promise<{ id: number; duplicate: boolean }> {
    const missing = [...alarm.picIds, ...(alarm.videoId !== undefined ? [alarm.videoId] : [])];
    const record = eventRecord(
      { type: 'alarm', deviceId, alarm, pictures: [], video: undefined, missing, complete: false, receivedAt: at },
      at,
    );
    return this.store.appendAlarm(record, JSON.stringify([deviceId, sequence, alarm.alarmTime]));
  }

  /** Commits an upload's record and sets its `storeId`. */
  async media(m: StoredMedia): Promise<void> {
    m.storeId = await this.store.addMedia({
      deviceId: m.deviceId,
      kind: m.kind,
      mediaId: m.id,
      path: m.path,
      size: m.size,
      channel: m.channel,
      receivedAt: m.receivedAt,
    });
  }

  /**
   * Writes an event behind. An alarm committed at arrival (`eventId`) is not written again: the store links an
   * alarm and its uploads in the transaction that commits the second of them (see `store/links.ts`), so the link
   * is never a separate write that a crash could lose.
   */
  event(e: EhomeEvent): void {
    if (e.type === 'dropped') return; // a flood of bad datagrams must not become a flood of writes
    if (e.type === 'alarm' && e.eventId !== undefined) return;
    const record = eventRecord(e, e.type === 'alarm' ? e.receivedAt : Date.now());
    this.behind(`${e.type} event`, this.store.appendEvent(record));
  }

  session(s: DeviceSession, online: boolean): void {
    this.behind('session', this.store.putSession({ ...s }, online));
  }

  command(
    deviceId: string,
    command: string,
    started: number,
    status: number | undefined,
    error: Error | undefined,
  ): void {
    this.behind(
      'command',
      this.store.addCommand({
        at: started,
        deviceId,
        command,
        status,
        durationMs: Date.now() - started,
        error: error ? `${error.name}: ${error.message}` : undefined,
      }),
    );
  }

  /** Called by the platform's sweep: batches `lastSeen`, runs retention when due. */
  tick(now: number, sessions: Iterable<DeviceSession>): void {
    if (now - this.lastTouch >= this.touchEveryMs) {
      const since = this.lastTouch;
      this.lastTouch = now;
      const seen: { deviceId: string; lastSeen: number }[] = [];
      for (const s of sessions) if (s.lastSeen > since) seen.push({ deviceId: s.deviceId, lastSeen: s.lastSeen });
      this.behind('lastSeen', this.store.touchSessions(seen));
    }
    if (this.retention && !this.retentionRunning && now - this.lastRetention >= 60_000) {
      this.lastRetention = now;
      void this.enforceRetention();
    }
  }

  /** Runs the retention policy now (also once a minute from {@link tick}); deletes the files whose rows went. */
  async enforceRetention(): Promise<void> {
    if (!this.retention || this.retentionRunning) return;
    this.retentionRunning = true;
    try {
      const r = await this.store.enforceRetention(this.retention);
      await this.removeFiles(r.paths);
      if (r.events + r.media + r.commands > 0) {
        this.log('info', 'retention', { events: r.events, media: r.media, commands: r.commands });
      }
    } catch (e) {
      this.failures++;
      this.log('warn', 'store: retention failed', { error: e instanceof Error ? e.message : String(e) });
    } finally {
      this.retentionRunning = false;
    }
  }
}
