import { GvcpStatus } from '../codec/index.js';
import { GvcpDeviceStatusError } from './errors.js';
import type { RegisterSpace } from './registers.js';

/** EventSelector values: the frame events the simulated camera can send on the message channel. */
export const EventSelector = { ExposureEnd: 0, FrameStart: 1 } as const;
export type FrameEventName = keyof typeof EventSelector;

/** Event ids of the frame events (device-specific range, after the test event 0x9000). */
export const FrameEventId = { ExposureEnd: 0x9001, FrameStart: 0x9002 } as const;

/** Bytes of a frame event's data: the frame's block id, then the event's timestamp, 64-bit big-endian each. */
export const FRAME_EVENT_DATA_LENGTH = 16;

/** Registers of the event features. */
export interface EventRegisters {
  EventSelector: number;
  /** EventNotification of each EventSelector entry, 4 bytes apart. */
  EventNotification: number;
}

/** A frame event as sent: what the EVENTDATA carries. */
export interface FrameEvent {
  eventId: number;
  blockId: bigint;
  timestamp: bigint;
  data: Uint8Array;
}

/** The data of a frame event (see {@link FRAME_EVENT_DATA_LENGTH}). */
export function frameEventData(frameId: bigint, timestamp: bigint): Uint8Array {
  const data = new Uint8Array(FRAME_EVENT_DATA_LENGTH);
  const view = new DataView(data.buffer);
  view.setBigUint64(0, BigInt.asUintN(64, frameId));
  view.setBigUint64(8, BigInt.asUintN(64, timestamp));
  return data;
}

/**
 * SFNC EventControl: EventSelector picks a frame event, EventNotification (On / Off) says whether the camera sends
 * it. {@link notify} turns a frame event of the sensor side into an EVENTDATA on the message channel when on.
 */
export class EventControl {
  readonly #r: RegisterSpace;
  readonly #a: EventRegisters;
  readonly #send: (e: FrameEvent) => void;

  constructor(registers: RegisterSpace, addresses: EventRegisters, send: (e: FrameEvent) => void) {
    this.#r = registers;
    this.#a = addresses;
    this.#send = send;
    const n = Object.keys(EventSelector).length;
    const oneOf = (name: string, max: number) => (v: number) => {
      if (v > max) throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in 0..${max}`);
      return undefined;
    };
    registers.define({ address: addresses.EventSelector, name: 'EventSelector', write: oneOf('EventSelector', n - 1) });
    for (let i = 0; i < n; i++) {
      registers.define({
        address: addresses.EventNotification + 4 * i,
        name: `EventNotification${i}`,
        write: oneOf('EventNotification', 1),
      });
    }
  }

  /** Whether EventNotification is On for `name`. */
  enabled(name: FrameEventName): boolean {
    return this.#r.get(this.#a.EventNotification + 4 * EventSelector[name]) === 1;
  }

  /** A frame event happened: sent when its notification is on; returns whether it was. */
  notify(name: FrameEventName, frameId: bigint, timestamp: bigint): boolean {
    if (!this.enabled(name)) return false;
    this.#send({ eventId: FrameEventId[name], blockId: frameId, timestamp, data: frameEventData(frameId, timestamp) });
    return true;
  }
}
