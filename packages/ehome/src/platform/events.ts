import { abortReason } from '@cam/net-utils';
import type { RequestParams } from '../codec/index.js';
import type { DeviceSession } from './registry.js';

/** A picture or video stored by the picture server. */
export interface StoredMedia {
  kind: 'picture' | 'video';
  deviceId: string;
  /** PicID or VideoId the device gave. */
  id: string;
  /** Absolute path of the stored file. */
  path: string;
  size: number;
  channel: number | undefined;
  receivedAt: number;
  /** Its id in the platform's store once committed (`GET /api/pictures/{storeId}`). */
  storeId?: number;
}

export type AlarmParams = RequestParams<'ALARM'>;

/** Everything the platform reports. `type` tells them apart; each also has its own emitter event. */
export type EhomeEvent =
  | { type: 'online'; deviceId: string; session: Readonly<DeviceSession>; reRegistered: boolean }
  | { type: 'offline'; deviceId: string; reason: 'timeout' | 'logout'; lastSeen: number }
  | {
      type: 'moved';
      deviceId: string;
      from: { address: string; port: number };
      to: { address: string; port: number };
    }
  | { type: 'refused'; deviceId: string; address: string; port: number; status: number; reason: string }
  | {
      type: 'alarm';
      deviceId: string;
      alarm: AlarmParams;
      pictures: StoredMedia[];
      video: StoredMedia | undefined;
      /** PicIDs / VideoId the alarm named that never arrived (empty when complete). */
      missing: string[];
      complete: boolean;
      receivedAt: number;
      /** Id of the alarm's event in the store (committed before the alarm was acknowledged). */
      eventId?: number;
    }
  | { type: 'media'; media: StoredMedia; linkedTo: 'alarm' | 'capture' | 'none' }
  | {
      type: 'gps';
      deviceId: string;
      gps: RequestParams<'GPS'>;
      /** Signed decimal degrees (EHome sends degrees x 360000 and a hemisphere). */
      latitude: number;
      longitude: number;
    }
  | { type: 'status'; deviceId: string; status: RequestParams<'DEVICESTATUS'> }
  | { type: 'upgrade'; deviceId: string; report: RequestParams<'UPGRADESTATUS'> }
  | { type: 'data'; deviceId: string; data: RequestParams<'TRANSDATA'> }
  | { type: 'dropped'; server: 'cms' | 'ams' | 'picture'; address: string; port: number; reason: string };

export type EhomeEventType = EhomeEvent['type'];
export type EhomeEventOf<T extends EhomeEventType> = Extract<EhomeEvent, { type: T }>;
/** Event map of the typed emitter: one event per type, plus `event` for all of them. */
export type EhomeServerEvents = { [T in EhomeEventType]: [EhomeEventOf<T>] } & { event: [EhomeEvent] };

/**
 * A bounded queue turned into an async iterator. When the consumer falls behind by `max` events the oldest are
 * dropped (and counted) instead of growing without limit.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  dropped = 0;
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failer: ((e: Error) => void) | undefined;
  private done = false;
  private error: Error | undefined;

  constructor(
    private readonly max: number,
    private readonly onClose: () => void,
    signal?: AbortSignal,
  ) {
    if (signal) {
      if (signal.aborted) this.fail(abortReason(signal));
      else signal.addEventListener('abort', () => this.fail(abortReason(signal)), { once: true });
    }
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.failer = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.max) {
      this.items.shift();
      this.dropped++;
    }
    this.items.push(item);
  }

  /** Ends the iteration normally (after queued items). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.onClose();
    if (this.waiter && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  private fail(e: Error): void {
    if (this.done) return;
    this.error = e;
    this.done = true;
    this.items.length = 0;
    this.onClose();
    if (this.failer) {
      const f = this.failer;
      this.waiter = undefined;
      this.failer = undefined;
      f(e);
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failer = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
