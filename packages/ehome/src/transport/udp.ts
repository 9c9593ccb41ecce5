import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * `node:dgram` resolves the destination of every `send` through `dns.lookup`, which for an IP literal still
 * defers the send by a tick. Replies go to the IP a datagram came from, so literals are answered synchronously
 * and only names go to DNS.
 */
function literalLookup(address: string, family: unknown, callback: LookupCallback): void {
  // Every reply goes to a dotted quad from `rinfo`: a character scan instead of `isIP`'s regular expression.
  if (isDottedQuad(address)) {
    callback(null, address, 4);
    return;
  }
  const f = isIP(address);
  if (f !== 0) {
    callback(null, address, f);
    return;
  }
  dnsLookup(address, { family: typeof family === 'number' ? family : 0 }, (error, resolved, fam) =>
    callback(error, resolved, fam),
  );
}

/** True for an IPv4 address in dotted-quad form (`isIP(s) === 4` for those, without a regular expression). */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      // Node's isIP refuses leading zeros ("01"), so this does too.
      if (digits === 0 || value > 255 || (digits > 1 && s.charCodeAt(i - digits) === 0x30)) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      digits++;
    } else return false;
  }
  return parts === 4;
}

/** A UDP socket whose sends to IP literals skip the DNS round trip. */
export function createUdpSocket(type: SocketType): Socket {
  return createSocket({ type, lookup: literalLookup as never });
}
