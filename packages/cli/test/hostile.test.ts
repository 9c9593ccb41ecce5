import { createSocket, type Socket } from 'node:dgram';
import { decodeCommand, encodeAck, type GvcpCommand } from '@cam/gvcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';
import { terminalSafe } from '../src/output.js';

/** A device whose first URL register holds `url` (a hostile one: it chooses what the host reads and prints). */
async function urlDevice(url: string): Promise<Socket> {
  const memory = new Map<number, number>();
  const bytes = new TextEncoder().encode(url);
  const padded = new Uint8Array(Math.ceil((bytes.byteLength + 1) / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.byteLength; i += 4) memory.set(0x200 + i, view.getUint32(i));
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let cmd: GvcpCommand;
    try {
      cmd = decodeCommand(msg);
    } catch {
      return;
    }
    if (cmd.type !== 'readmem') return;
    const data = new Uint8Array(cmd.count);
    const v = new DataView(data.buffer);
    for (let i = 0; i + 4 <= cmd.count; i += 4) v.setUint32(i, memory.get(cmd.address + i) ?? 0);
    socket.send(
      encodeAck({ type: 'readmem', ackId: cmd.reqId, status: 0, address: cmd.address, data }),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return socket;
}

describe('terminalSafe', () => {
  it('shows escape sequences, CR and bidi overrides as visible escapes', () => {
    expect(terminalSafe('a\x1b[2Jb\rc\u202ed\ne')).toBe('a\\x1b[2Jb\\x0dc\\u202ed\\x0ae');
    expect(terminalSafe('line1\nline2\tx\x07', true)).toBe('line1\nline2\tx\\x07');
  });
});

describe('cam gige genicam against a hostile device (issue #22, items 2 and 8)', () => {
  let zero: Socket;
  let evil: Socket;
  beforeAll(async () => {
    zero = await urlDevice('File:///dev/zero');
    evil = await urlDevice('File:///etc/\x1b[2J\x1b[31mpasswd\rOK');
  });
  afterAll(() => {
    zero.close();
    evil.close();
  });

  it('refuses a device-chosen File: URL (no /dev/zero read) and says how to allow a directory', async () => {
    const r = await runCam(['gige', 'genicam', '127.0.0.1', '--port', String(zero.address().port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/File: URLs are refused unless allowFileUrlsIn names a directory/);
  });

  it('prints the device-supplied URL in an error without its escape sequences or carriage return', async () => {
    const r = await runCam(['gige', 'genicam', '127.0.0.1', '--port', String(evil.address().port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toContain('\\x1b[2J');
  });

  it('reads a File: URL inside --allow-file-urls only as a regular file', async () => {
    const r = await runCam([
      'gige',
      'genicam',
      '127.0.0.1',
      '--port',
      String(zero.address().port),
      '--allow-file-urls',
      '/dev',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a regular file/);
  });
});
