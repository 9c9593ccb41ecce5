// Floor for the heartbeat benchmark: a bare node:dgram server answering every datagram with a fixed
// REGISTER-OK-shaped reply of KEEPALIVE-reply size, no parsing, no sessions. Same IPC as server.ts.
import { createSocket } from 'node:dgram';
import { encodeMessage, request, response } from '../src/index.js';

const reply = encodeMessage(
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
const socket = createSocket('udp4');
let datagrams = 0;
socket.on('message', (_m, r) => {
  datagrams++;
  socket.send(reply, r.port, r.address);
});
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'snapshot') {
    process.send?.({
      cmd: 'snapshot',
      cpu: process.cpuUsage(),
      keepalives: datagrams,
      heap: 0,
      rss: 0,
      online: 0,
      bad: 0,
    });
  } else if (m.cmd === 'exit') socket.close(() => process.exit(0));
});
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(8 * 1024 * 1024);
  process.send?.({ cmd: 'ready', port: socket.address().port, keepAliveSeconds: 2, offlineAfterMissed: 3 });
});
