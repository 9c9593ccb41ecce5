import { createSocket, type RemoteInfo } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { GvspSender } from '../src/index.js';

/** The first datagram on `socket`, bounded. */
function first(socket: ReturnType<typeof createSocket>): Promise<RemoteInfo> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
    socket.once('message', (_m, rinfo) => {
      clearTimeout(t);
      resolve(rinfo);
    });
  });
}

describe('GvspSender.bindSource', () => {
  it('moves the stream socket to one local address and keeps its source port', async () => {
    const rx = createSocket('udp4');
    await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
    await using sender = await GvspSender.open({ bindAddress: '0.0.0.0' });
    try {
      const port = sender.socket.address().port;
      sender.setDestination('127.0.0.1', rx.address().port);
      await sender.bindSource('127.0.0.2');
      expect(sender.socket.address()).toMatchObject({ address: '127.0.0.2', port });
      const got = first(rx);
      sender.sendTestPacket(576);
      expect(await got).toMatchObject({ address: '127.0.0.2', port });
      // the same address again changes nothing
      const socket = sender.socket;
      await sender.bindSource('127.0.0.2');
      expect(sender.socket).toBe(socket);
    } finally {
      rx.close();
    }
  });

  it('leaves a socket it was given alone', async () => {
    const own = createSocket('udp4');
    await new Promise<void>((resolve) => own.bind(0, '127.0.0.1', resolve));
    const sender = await GvspSender.open({ socket: own });
    await sender.bindSource('127.0.0.2');
    expect(sender.socket).toBe(own);
    await sender.close();
    own.close();
  });
});
