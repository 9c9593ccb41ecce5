/**
 * The simulated device's HTTP side: uploading a picture or video to the platform's picture server, and downloading
 * an upgrade package. Both treat the other end as hostile: replies and packages are read up to a limit, never whole.
 */
import { createHash } from 'node:crypto';
import { FrameTooLargeError, ProtocolError } from '@cam/net-utils';

/** Default cap on a picture server's reply. */
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024;

/**
 * Reads a fetch response body as text, refusing more than `limit` bytes (declared or received) with a
 * {@link FrameTooLargeError}; the rest of the body is cancelled, never read.
 */
async function readCappedText(res: Response, limit: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new FrameTooLargeError(declared, limit, what);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new FrameTooLargeError(total, limit, what);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Control characters of a peer's text shown as `\xNN`, so a reply cannot drive the terminal it is printed on. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Where and what {@link uploadMedia} sends. */
export interface UploadRequest {
  /** Picture server host and port from the REGISTER answer (`0.0.0.0` means the signalling server's host). */
  pictureServer: string | undefined;
  pictureServerPort: number | undefined;
  signallingHost: string;
  deviceId: string;
  kind: 'picture' | 'video';
  channel: number;
  id: string;
  body: Uint8Array;
  maxReplyBytes: number;
  signal: AbortSignal;
}

/** POSTs a picture or video to the picture server named at registration; resolves with its size and URL. */
export async function uploadMedia(u: UploadRequest): Promise<{ size: number; url: string }> {
  if (!u.pictureServer || u.pictureServerPort === undefined) {
    throw new ProtocolError('the platform named no picture server in its REGISTER answer');
  }
  const host = u.pictureServer === '0.0.0.0' ? u.signallingHost : u.pictureServer;
  const query = new URLSearchParams({
    DeviceID: u.deviceId,
    [u.kind === 'picture' ? 'PicID' : 'VideoId']: u.id,
    Channel: String(u.channel),
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${u.pictureServerPort}/ehome/${u.kind === 'picture' ? 'pictures' : 'videos'}?${query}`;
  const res = await fetch(url, {
    method: 'POST',
    body: u.body,
    headers: { 'content-type': u.kind === 'picture' ? 'image/jpeg' : 'application/octet-stream' },
    signal: AbortSignal.any([u.signal, AbortSignal.timeout(30_000)]),
  });
  // The reply is the picture server's say-so: read at most `maxReplyBytes` of it, never the whole of an endless one.
  const text = await readCappedText(res, u.maxReplyBytes, 'picture server reply');
  if (!res.ok) {
    throw new ProtocolError(
      `picture server answered ${res.status} ${printable(text.trim()).slice(0, 200)}`,
      res.status,
    );
  }
  return { size: u.body.length, url };
}

/**
 * Downloads an upgrade package, at most `limit` bytes (declared or received), hashing it as it comes; resolves with
 * its size and SHA-256 (hex). Throws a plain `Error` whose message is the reason an UPGRADESTATUS FAILED carries.
 */
export async function downloadUpgrade(
  url: string,
  limit: number,
  signal: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(120_000)]) });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw new Error(`package of ${declared} bytes exceeds ${limit}`);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (bytes > limit) throw new Error(`package exceeds ${limit} bytes`);
    hash.update(chunk);
  }
  return { bytes, sha256: hash.digest('hex') };
}
