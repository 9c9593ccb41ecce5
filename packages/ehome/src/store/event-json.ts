import type { EhomeEvent, StoredMedia } from '../platform/events.js';
import type { DeviceSession } from '../platform/registry.js';
import type { NewEvent } from './types.js';

/** A device as the API lists it. */
export interface ApiDevice {
  deviceId: string;
  online: boolean;
  address: string;
  port: number;
  firmware: string;
  version: string;
  /** ISO 8601. */
  lastSeen: string;
  registeredAt: string;
}

export function toApiDevice(s: Readonly<DeviceSession>, online: boolean): ApiDevice {
  return {
    deviceId: s.deviceId,
    online,
    address: s.address,
    port: s.port,
    firmware: s.firmwareVersion,
    version: s.version,
    lastSeen: new Date(s.lastSeen).toISOString(),
    registeredAt: new Date(s.registeredAt).toISOString(),
  };
}

/** A stored picture/video as events reference it: its API URL once the store gave it an id. */
export function mediaJson(m: StoredMedia): Record<string, unknown> {
  return {
    kind: m.kind,
    id: m.id,
    size: m.size,
    channel: m.channel,
    url: m.storeId !== undefined ? `/api/pictures/${m.storeId}` : undefined,
  };
}

/** The DeviceID an event is about, if any. */
export function deviceOf(e: EhomeEvent): string | undefined {
  return 'deviceId' in e ? e.deviceId : e.type === 'media' ? e.media.deviceId : undefined;
}

/** An event as the store keeps it and the API serves it (JSON: times ISO 8601, media by URL). */
export function eventRecord(e: EhomeEvent, at = Date.now()): NewEvent {
  const body: Record<string, unknown> = {};
  switch (e.type) {
    case 'alarm':
      body.alarm = e.alarm;
      body.pictures = e.pictures.map(mediaJson);
      if (e.video) body.video = mediaJson(e.video);
      body.missing = e.missing;
      body.complete = e.complete;
      break;
    case 'media':
      body.media = mediaJson(e.media);
      body.linkedTo = e.linkedTo;
      break;
    case 'online':
      body.device = toApiDevice(e.session, true);
      body.reRegistered = e.reRegistered;
      break;
    default:
      for (const [k, v] of Object.entries(e)) if (k !== 'type' && k !== 'deviceId') body[k] = v;
  }
  return { at, type: e.type, deviceId: deviceOf(e), body };
}
