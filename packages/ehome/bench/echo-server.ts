// Floor for the heartbeat benchmark: a bare node:dgram server answering every datagram with fixed bytes, no
// parsing, no sessions. Same socket as EhomeServer's (createUdpSocket: the same synchronous lookup for IP
// literals), same receive buffer, same IPC as server.ts. It answers REGISTER-OK bytes until the devices are
// registered, then the very bytes EhomeServer answers their KEEPALIVEs with (same size), so the two are measured
// on the same traffic.
import { encodeMessage, request, response } from '../src/index.js';
import { createUdpSocket } from '../src/transport/udp.js';

const registerReply = encodeMessage(
  response(
    request('REGISTER', 1, {
      netUnitType: 'PU',
      deviceId: 'x',
      firmwareVersion: 'x',
      localIp: 'x',
      localPort: 1,
      devType: 1,
      manufacture: 0,
    }),
    200,
    'OK',
    { keepAliveSeconds: 2 },
  ),
);
// bench/devices.ts sends KEEPALIVE sequence 2, GB2312, version 2.0; the platform answers version 2.5.
const keepaliveReply = encodeMessage(
  response(request('KEEPALIVE', 2, { deviceId: 'x' }, { encoding: 'GB2312' }), 200, 'OK', {}, { version: '2.5' }),
);
let reply = registerReply;
const socket = createUdpSocket('udp4');
let datagrams = 0;
socket.on('message', (_m, r) => {
  datagrams++;
  socket.send(reply, r.port, r.address);
});
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'snapshot') {
    process.send?.({ cmd: 'snapshot', cpu: process.cpuUsage(), keepalives: datagrams, online: 0, bad: 0 });
  } else if (m.cmd === 'memory') {
    // The same forced GC as server.ts does before the CPU windows, so both start from the same state.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    process.send?.({ cmd: 'memory', heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
  } else if (m.cmd === 'steady') {
    reply = keepaliveReply;
    process.send?.({ cmd: 'steady' });
  } else if (m.cmd === 'exit') socket.close(() => process.exit(0));
});
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(8 * 1024 * 1024);
  process.send?.({ cmd: 'ready', port: socket.address().port, keepAliveSeconds: 2, offlineAfterMissed: 3 });
});
