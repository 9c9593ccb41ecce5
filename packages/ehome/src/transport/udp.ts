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
  const f = isIP(address);
  if (f !== 0) {
    callback(null, address, f);
    return;
  }
  dnsLookup(address, { family: typeof family === 'number' ? family : 0 }, (error, resolved, fam) =>
    callback(error, resolved, fam),
  );
}

/** A UDP socket whose sends to IP literals skip the DNS round trip. */
export function createUdpSocket(type: SocketType): Socket {
  return createSocket({ type, lookup: literalLookup as never });
}
