import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCommand, encodeAck, type GvcpCommand, GvcpDevice } from '@cam/gvcp';
import { DEFAULT_REGISTER_MAP, encodeFrameHeader, frameFlags, gvcpRegisterHost, mcdaAddress } from '@cam/sc-gvmp';
import {
  buildSdkResponse,
  encodePacket,
  encodeSdkCall,
  parseSdkXml,
  SdkCallAssembler,
  SdkPacketDecoder,
} from '@cam/sdk-tcp';
import { afterEach, describe, expect, it } from 'vitest';
import { type CamRun, runCam } from '../../../test-support/cli.js';

// Host commands attacked as processes (issue #22): each `cam` command that talks to a device (or a platform) is run
// against a malicious fake peer on loopback. It must exit 1 with a typed error that says what the peer did, within
// the test's timeout (runCam kills it after `timeoutMs`, which would show as code null), with a bounded peak RSS.

/** Peak RSS a host command may reach against a hostile peer (Node with tsx from source uses ~100-150 MiB). */
const RSS_BOUND_MIB = 400;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function expectTypedFailure(r: CamRun, pattern: RegExp): void {
  expect(r.code, `exit code (null = killed by the test's timeout); stderr: ${r.stderr}`).toBe(1);
  expect(r.stderr).toMatch(pattern);
  if (r.maxRssMiB !== undefined) expect(r.maxRssMiB).toBeLessThan(RSS_BOUND_MIB);
  console.log(`peak RSS ${r.maxRssMiB?.toFixed(0) ?? '?'} MiB: ${r.stderr.split('\n')[0]?.slice(0, 140)}`);
}

/** A GVCP "device" on 127.0.0.1 that answers every command with `answer` (a hostile one). */
async function gvcpPeer(
  answer: (cmd: GvcpCommand | undefined, raw: Buffer, reply: (bytes: Uint8Array) => void) => void,
): Promise<number> {
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (msg, rinfo: RemoteInfo) => {
    let cmd: GvcpCommand | undefined;
    try {
      cmd = decodeCommand(msg);
    } catch {
      cmd = undefined;
    }
    answer(cmd, msg, (bytes) => socket.send(bytes, rinfo.port, rinfo.address));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return socket.address().port;
}

/** Memory of a device whose first URL register holds `url`; everything else reads 0. */
function urlMemory(url: string): (address: number, count: number) => Uint8Array {
  const bytes = new TextEncoder().encode(url);
  return (address, count) => {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const at = address + i - 0x200;
      out[i] = at >= 0 && at < bytes.byteLength ? bytes[at]! : 0;
    }
    return out;
  };
}

/** An honest-looking GVCP device (readreg, readmem, writereg) whose URL register says `url`. */
function urlDevice(url: string): Promise<number> {
  const memory = urlMemory(url);
  return gvcpPeer((cmd, _raw, reply) => {
    if (cmd === undefined) return;
    if (cmd.type === 'readmem')
      reply(
        encodeAck({
          type: 'readmem',
          ackId: cmd.reqId,
          status: 0,
          address: cmd.address,
          data: memory(cmd.address, cmd.count),
        }),
      );
    else if (cmd.type === 'readreg')
      reply(encodeAck({ type: 'readreg', ackId: cmd.reqId, status: 0, values: cmd.addresses.map(() => 0) }));
    else if (cmd.type === 'writereg')
      reply(encodeAck({ type: 'writereg', ackId: cmd.reqId, status: 0, index: cmd.writes.length }));
  });
}

/** An HTTP server on 127.0.0.1 whose every answer is `handle`. */
async function httpPeer(handle: Parameters<typeof createHttpServer>[1]): Promise<number> {
  const server: HttpServer = createHttpServer(handle!);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

/** Writes `chunk` until the response is closed or `limit` bytes went out (bounded), with backpressure. */
function endless(res: import('node:http').ServerResponse, chunk: Uint8Array, limit = 2 * 1024 * 1024 * 1024): void {
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed && sent < limit) {
      sent += chunk.byteLength;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('error', () => {});
  pump();
}

describe('cam gige against hostile GVCP devices', () => {
  it('gige read: a device answering every command with PENDING_ACK forever -> a typed error in bounded time', async () => {
    const port = await gvcpPeer((cmd, _raw, reply) => {
      if (cmd) reply(encodeAck({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: 60_000 }));
    });
    const r = await runCam(['gige', 'read', '127.0.0.1', '0x0934', '--port', String(port)], { timeoutMs: 30_000 });
    expectTypedFailure(r, /pending/i);
  }, 40_000);

  it('gige info: garbage and acks for other requests -> a typed timeout, no crash', async () => {
    const port = await gvcpPeer((cmd, raw, reply) => {
      reply(crypto.getRandomValues(new Uint8Array(1 + (raw.byteLength % 600))));
      if (cmd) reply(encodeAck({ type: 'readreg', ackId: (cmd.reqId + 1) & 0xffff || 1, status: 0, values: [1] }));
    });
    const r = await runCam(['gige', 'info', '127.0.0.1', '--port', String(port), '--timeout', '200']);
    expectTypedFailure(r, /TimeoutError|timed out/);
  }, 30_000);

  it('gige read: acks that lie about their length (a readmem ack longer than asked) -> a typed error', async () => {
    const port = await gvcpPeer((cmd, _raw, reply) => {
      if (cmd?.type === 'readmem') {
        const ack = encodeAck({
          type: 'readmem',
          ackId: cmd.reqId,
          status: 0,
          address: cmd.address,
          data: new Uint8Array(cmd.count + 64),
        });
        reply(ack);
      } else if (cmd?.type === 'readreg') {
        const ack = encodeAck({ type: 'readreg', ackId: cmd.reqId, status: 0, values: cmd.addresses.map(() => 0) });
        ack[4] = 0xff; // length field: 0xff.. bytes that are not there
        reply(ack);
      }
    });
    const r = await runCam(['gige', 'read', '127.0.0.1', '0x0934', '--port', String(port), '--timeout', '200']);
    expectTypedFailure(r, /Error/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, 30_000);

  it('gige features: a device-chosen http: URL with an endless chunked body -> refused at the byte cap, RSS bounded', async () => {
    const http = await httpPeer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      endless(res, new TextEncoder().encode(`<a>${'x'.repeat(64 * 1024)}</a>`));
    });
    const port = await urlDevice(`http://127.0.0.1:${http}/camera.xml`);
    const r = await runCam(['gige', 'features', '127.0.0.1', '--port', String(port)], { timeoutMs: 60_000 });
    expectTypedFailure(r, /MiB|too large|larger|limit|cap/i);
  }, 70_000);

  it('gige features: a device-chosen http: URL that never answers -> a typed timeout', async () => {
    const http = await httpPeer(() => {
      // never answers
    });
    const port = await urlDevice(`http://127.0.0.1:${http}/camera.xml`);
    const r = await runCam(['gige', 'features', '127.0.0.1', '--port', String(port), '--fetch-timeout', '1000'], {
      timeoutMs: 30_000,
    });
    expectTypedFailure(r, /timed out|TimeoutError/i);
  }, 40_000);

  for (const args of [
    ['write', 'Width=8'],
    ['stream', '--seconds', '1'],
  ]) {
    it(`gige ${args[0]}: a device-chosen File:///dev/zero URL is refused before anything is read`, async () => {
      const port = await urlDevice('File:///dev/zero');
      const r = await runCam(['gige', args[0]!, '127.0.0.1', ...args.slice(1), '--port', String(port)]);
      expectTypedFailure(r, /File: URLs are refused/);
    }, 30_000);
  }
});

/** A GVCP device whose SC_GVMP registers start a stream by connecting to MCDA:MCP and handing the socket to `evil`. */
async function hostileSmartCamera(evil: (socket: Socket) => void): Promise<number> {
  const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
  cleanups.push(() => gvcp.close());
  const host = gvcpRegisterHost(gvcp);
  const regs = { mcda: 0, mcp: 0, start: 0 };
  const sockets: Socket[] = [];
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
  });
  const r = DEFAULT_REGISTER_MAP;
  const rw = (get: () => number, set: (v: number) => void) => ({ read: get, write: (v: number) => set(v) });
  host.defineRegister(
    r.mcda,
    rw(
      () => regs.mcda,
      (v) => (regs.mcda = v),
    ),
  );
  host.defineRegister(
    r.mcp,
    rw(
      () => regs.mcp,
      (v) => (regs.mcp = v),
    ),
  );
  host.defineRegister(
    r.streamState,
    rw(
      () => (regs.start === 1 ? 2 : 0),
      () => {},
    ),
  );
  host.defineRegister(
    r.errCode,
    rw(
      () => 0,
      () => {},
    ),
  );
  host.defineRegister(
    r.streamStart,
    rw(
      () => regs.start,
      (v) => {
        regs.start = v;
        if (v !== 1) return;
        const s = connect({ host: mcdaAddress(regs.mcda), port: regs.mcp });
        s.on('error', () => {});
        sockets.push(s);
        s.once('connect', () => evil(s));
      },
    ),
  );
  return gvcp.address().port;
}

describe('cam scgvmp grab against hostile smart cameras', () => {
  it('reports the protocol error that closed the image connection, not "timed out" (issue #22 item 8)', async () => {
    const port = await hostileSmartCamera((s) => s.write('this is not an SC_GVMP frame at all'));
    const r = await runCam(['scgvmp', 'grab', '127.0.0.1', '--port', String(port), '--timeout', '3000']);
    expectTypedFailure(r, /BadMagicError/);
    expect(r.stderr).toMatch(
      /the image connection was closed by BadMagicError: .*frame magic 0x7468 is not the SC_GVMP magic/,
    );
  }, 30_000);

  it('reports it in the JSON error document too', async () => {
    const port = await hostileSmartCamera((s) => s.write(new Uint8Array(64).fill(0xee)));
    const r = await runCam(['scgvmp', 'grab', '127.0.0.1', '--port', String(port), '--timeout', '3000', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout || r.stderr) as { ok: boolean; error: { message: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toMatch(/BadMagicError/);
  }, 30_000);

  it('a lying 64 MiB length then a byte trickle: cut for the minimum data rate (SlowFrameError), RSS bounded', async () => {
    let trickle: ReturnType<typeof setInterval> | undefined;
    cleanups.push(() => clearInterval(trickle));
    const port = await hostileSmartCamera((s) => {
      s.write(encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 64 * 1024 * 1024 }));
      trickle = setInterval(() => s.destroyed || s.write(Uint8Array.of(1)), 50);
    });
    const r = await runCam(['scgvmp', 'grab', '127.0.0.1', '--port', String(port), '--timeout', '9000'], {
      timeoutMs: 30_000,
    });
    expectTypedFailure(r, /SlowFrameError: the camera sent \d+ bytes of a frame/);
  }, 40_000);

  it('an announcement over the cap (4 GiB) is refused before allocating', async () => {
    const port = await hostileSmartCamera((s) => {
      s.write(encodeFrameHeader({ flags: frameFlags('RAW'), seq: 0, payloadLength: 0xfffffff0 }));
    });
    const r = await runCam(['scgvmp', 'grab', '127.0.0.1', '--port', String(port), '--timeout', '3000']);
    expectTypedFailure(r, /FrameTooLargeError/);
  }, 30_000);
});

/** A Huidu controller that negotiates like a real one and answers every call with `evil`. */
async function hostileController(evil: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const decoder = new SdkPacketDecoder();
    const asm = new SdkCallAssembler();
    socket.on('data', (chunk: Buffer) => {
      let packets: ReturnType<SdkPacketDecoder['push']>;
      try {
        packets = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const p of packets) {
        if (p.type === 'kSDKServiceAsk') socket.write(encodePacket({ type: 'kSDKServiceAnswer', version: p.version }));
        else if (p.type === 'kSDKCmdAsk') {
          const whole = asm.push(p);
          if (!whole) continue;
          const env = parseSdkXml(whole);
          if (env.method === 'GetIFVersion') {
            const xml = buildSdkResponse({ guid: 'ab'.repeat(16), method: env.method, result: 'kSuccess', body: '' });
            socket.write(encodeSdkCall(new TextEncoder().encode(xml), 'kSDKCmdAnswer'));
          } else evil(socket);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

/** Chunks of a kSDKCmdAnswer announcing `total` bytes, continuing without end (bounded by the socket's life). */
function endlessAnswer(socket: Socket, total: number): void {
  const chunk = new Uint8Array(12 + 9204).fill(0x41);
  const view = new DataView(chunk.buffer);
  view.setUint16(0, chunk.byteLength, true);
  view.setUint16(2, 0x2004, true);
  view.setUint32(4, total, true);
  let index = 0;
  const pump = (): void => {
    while (!socket.destroyed && index < 1 << 30) {
      view.setUint32(8, index, true);
      index += 9204;
      if (!socket.write(chunk.slice())) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

describe('cam sdk against hostile Huidu controllers', () => {
  it('sdk call: an endless answer whose chunks announce 2 GiB -> a typed error, RSS bounded', async () => {
    const port = await hostileController((s) => endlessAnswer(s, 0x7fffffff));
    const r = await runCam(['sdk', 'call', '127.0.0.1', 'GetDeviceInfo', '--port', String(port), '--timeout', '5000']);
    expectTypedFailure(r, /kXmlCmdTooLong|too long|2147483647|FrameTooLarge/i);
  }, 30_000);

  it('sdk call: garbage after negotiation -> a typed error', async () => {
    const port = await hostileController((s) => s.write(crypto.getRandomValues(new Uint8Array(4096))));
    const r = await runCam(['sdk', 'call', '127.0.0.1', 'GetDeviceInfo', '--port', String(port), '--timeout', '3000']);
    expectTypedFailure(r, /Error/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('sdk read: an endless answer -> a typed error, RSS bounded', async () => {
    const port = await hostileController((s) => endlessAnswer(s, 2 * 1024 * 1024 - 1));
    const r = await runCam([
      'sdk',
      'read',
      '127.0.0.1',
      'a.png',
      '--port',
      String(port),
      '--timeout',
      '3000',
      '--out',
      '/dev/null',
    ]);
    expectTypedFailure(r, /Error/);
  }, 30_000);

  it('sdk upload: a controller that negotiates, then ignores the file transfer -> a typed timeout', async () => {
    const port = await hostileController((s) => s.write(crypto.getRandomValues(new Uint8Array(4096))));
    const dir = await mkdtemp(join(tmpdir(), 'cam-hostile-upload-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'a.png');
    await writeFile(file, new Uint8Array(100_000).fill(7));
    const r = await runCam(['sdk', 'upload', '127.0.0.1', file, '--port', String(port), '--timeout', '3000']);
    expectTypedFailure(r, /TimeoutError: file start .*timed out/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('sdk call: a controller that stops answering -> a typed timeout', async () => {
    const port = await hostileController(() => {});
    const r = await runCam(['sdk', 'call', '127.0.0.1', 'GetDeviceInfo', '--port', String(port), '--timeout', '1000']);
    expectTypedFailure(r, /timed out|TimeoutError/i);
  }, 30_000);
});

describe('cam ehome client commands against a hostile platform URL', () => {
  it('ehome devices: an endless JSON body -> refused at the byte cap, RSS bounded', async () => {
    const port = await httpPeer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      endless(res, new TextEncoder().encode(`${'{"deviceId":"x","online":true},'.repeat(2000)}`));
    });
    const r = await runCam(['ehome', 'devices', '--platform', `http://127.0.0.1:${port}`], { timeoutMs: 60_000 });
    expectTypedFailure(r, /larger than|limit|cap/i);
  }, 70_000);

  it('ehome devices: a platform that accepts and never answers -> a typed timeout', async () => {
    const port = await httpPeer(() => {});
    const r = await runCam(['ehome', 'devices', '--platform', `http://127.0.0.1:${port}`, '--timeout', '1000'], {
      timeoutMs: 30_000,
    });
    expectTypedFailure(r, /did not answer|timed out/i);
  }, 40_000);

  it('ehome devices: an error status with an endless body -> the status, RSS bounded', async () => {
    const port = await httpPeer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      endless(res, new Uint8Array(64 * 1024).fill(0x20));
    });
    const r = await runCam(['ehome', 'devices', '--platform', `http://127.0.0.1:${port}`], { timeoutMs: 60_000 });
    expectTypedFailure(r, /HTTP_500|larger than/);
  }, 70_000);

  it('ehome devices: device strings with terminal escapes are printed visibly escaped', async () => {
    const port = await httpPeer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify([
          {
            deviceId: 'cam\x1b[2J\rOK',
            online: true,
            address: '127.0.0.1',
            port: 1,
            firmware: 'x\x07',
            lastSeen: 'now',
          },
        ]),
      );
    });
    const r = await runCam(['ehome', 'devices', '--platform', `http://127.0.0.1:${port}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).toContain('\\x1b[2J');
  }, 30_000);
});
