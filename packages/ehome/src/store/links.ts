import type { MediaRecord } from './types.js';

/**
 * How far apart an alarm and an upload it names may arrive and still be linked (the device's PicIDs are not
 * unique forever; a device resends an alarm for a few seconds, and a platform restart takes a few more).
 */
export const LINK_WINDOW_MS = 10 * 60_000;

/** What an alarm's body names: its PicIDs and VideoId (an alarm body without them wants nothing). */
export function wantedMedia(body: Record<string, unknown>): { kind: 'picture' | 'video'; id: string }[] {
  const alarm = body.alarm;
  if (typeof alarm !== 'object' || alarm === null) return [];
  const a = alarm as { picIds?: unknown; videoId?: unknown };
  const out: { kind: 'picture' | 'video'; id: string }[] = [];
  if (Array.isArray(a.picIds)) for (const id of a.picIds) if (typeof id === 'string') out.push({ kind: 'picture', id });
  if (typeof a.videoId === 'string') out.push({ kind: 'video', id: a.videoId });
  return out;
}

/** A stored picture/video as an alarm's body references it (the same shape as `mediaJson` of the platform). */
function reference(m: MediaRecord): Record<string, unknown> {
  return { kind: m.kind, id: m.mediaId, size: m.size, channel: m.channel, url: `/api/pictures/${m.id}` };
}

/**
 * The body of an alarm (committed at `at` for `deviceId`) with `media` linked into it: `pictures` (in PicID
 * order) or `video`, `missing` without it, `complete` once nothing is missing. `undefined` when the alarm does not
 * name it, is another device's, is outside {@link LINK_WINDOW_MS}, or already has it. Pure: the stores call it in
 * the same transaction as the write that commits the second of the two (alarm or upload), so a crash never leaves
 * an alarm and its stored picture unlinked.
 */
export function linkInto(
  body: Record<string, unknown>,
  at: number,
  deviceId: string | undefined,
  media: MediaRecord,
): Record<string, unknown> | undefined {
  if (deviceId !== media.deviceId || Math.abs(media.receivedAt - at) > LINK_WINDOW_MS) return undefined;
  const wanted = wantedMedia(body);
  if (!wanted.some((w) => w.kind === media.kind && w.id === media.mediaId)) return undefined;
  const ref = reference(media);
  const out: Record<string, unknown> = { ...body };
  if (media.kind === 'video') {
    if (body.video !== undefined && body.video !== null) return undefined;
    out.video = ref;
  } else {
    const pictures = Array.isArray(body.pictures) ? (body.pictures as Record<string, unknown>[]) : [];
    if (pictures.some((p) => p.id === media.mediaId)) return undefined;
    const order = wanted.filter((w) => w.kind === 'picture').map((w) => w.id);
    out.pictures = [...pictures, ref].sort((x, y) => order.indexOf(String(x.id)) - order.indexOf(String(y.id)));
  }
  const missing = Array.isArray(body.missing) ? (body.missing as unknown[]) : [];
  const at_ = missing.indexOf(media.mediaId);
  out.missing = at_ < 0 ? missing : [...missing.slice(0, at_), ...missing.slice(at_ + 1)];
  out.complete = (out.missing as unknown[]).length === 0;
  return out;
}
