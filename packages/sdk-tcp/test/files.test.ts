import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HErrorCode } from '../src/codec/error-codes.js';
import { FileTransferError } from '../src/codec/errors.js';
import { md5Bytes, packFileContent } from '../src/transport/files.js';
import { RawHost, type Rig, startRig, until } from './helpers.js';

let rig: Rig | undefined;
const raws: RawHost[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await rig?.close();
  rig = undefined;
});

describe('file upload', () => {
  it('uploads a file by path with MD5 and progress, and reads it back', async () => {
    rig = await startRig();
    const data = randomBytes(1_500_000);
    const src = join(rig.dir, 'src.bin');
    await writeFile(src, data);
    const c = await rig.connect();
    const progress: number[] = [];
    const received: string[] = [];
    rig.device.on('file', (f) => received.push(f.name));
    const up = await c.upload(src, { name: 'movie.mp4', type: 'video', onProgress: (p) => progress.push(p.sent) });
    expect(up).toMatchObject({
      name: 'movie.mp4',
      size: data.length,
      md5: md5Bytes(data),
      resumedFrom: 0,
      sentBytes: data.length,
    });
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(data.length);
    expect(progress.every((v, i) => i === 0 || v > progress[i - 1]!)).toBe(true);
    expect(Buffer.compare(await readFile(join(rig.dir, 'movie.mp4')), data)).toBe(0);
    expect(received).toEqual(['movie.mp4']);
    const back = await c.readFile('movie.mp4');
    expect(Buffer.compare(back.data, data)).toBe(0);
    expect(back.md5).toBe(md5Bytes(data));
    // Calls still work after transfers.
    expect((await c.call('GetFiles')).body).toContain('name="movie.mp4"');
  });

  it('an empty file and a file already on the device (existSize = size, nothing sent)', async () => {
    rig = await startRig();
    const c = await rig.connect();
    expect(await c.upload(new Uint8Array(0), { name: 'empty.txt' })).toMatchObject({ size: 0, sentBytes: 0 });
    expect((await stat(join(rig.dir, 'empty.txt'))).size).toBe(0);
    const data = randomBytes(50_000);
    await c.upload(data, { name: 'x.png' });
    const again = await c.upload(data, { name: 'x.png' });
    expect(again).toMatchObject({ resumedFrom: 50_000, sentBytes: 0 });
  });

  it('resumes from existSize after a dropped connection', async () => {
    rig = await startRig();
    const data = randomBytes(400_000);
    const md5 = md5Bytes(data);
    // A host that sends 100 000 bytes and drops the connection.
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    r.send({ type: 'kFileStartAsk', md5, size: data.length, fileType: 0, name: 'pic.jpg' });
    expect(await r.next()).toEqual({ type: 'kFileStartAnswer', status: 0, existSize: 0 });
    r.send(packFileContent(data.subarray(0, 100_000)));
    await until(() => rig!.device.stats.fileBytesReceived === 100_000);
    r.close();
    // The SDK client resumes.
    const c = await rig.connect();
    const progress: number[] = [];
    const up = await c.upload(data, { name: 'pic.jpg', onProgress: (p) => progress.push(p.sent) });
    expect(up).toMatchObject({ resumedFrom: 100_000, sentBytes: 300_000 });
    expect(progress[0]).toBe(100_000);
    expect(Buffer.compare(await readFile(join(rig.dir, 'pic.jpg')), data)).toBe(0);
  });

  it('an upload aborted mid-content closes the connection; a new one completes it', async () => {
    rig = await startRig();
    const data = randomBytes(3_000_000);
    const c = await rig.connect();
    const ac = new AbortController();
    const err = await c
      .upload(data, { name: 'big.bin', signal: ac.signal, onProgress: (p) => p.sent > 600_000 && ac.abort() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(c.closed).toBe(true);
    const d = await rig.connect();
    const up = await d.upload(data, { name: 'big.bin' });
    expect(up.resumedFrom + up.sentBytes).toBe(data.length);
    expect(md5Bytes(await readFile(join(rig.dir, 'big.bin')))).toBe(md5Bytes(data));
  });

  it('MD5 mismatch: kFileContentError, nothing stored, the connection stays usable', async () => {
    rig = await startRig();
    const c = await rig.connect();
    const err = await c.upload(randomBytes(30_000), { name: 'bad.bin', md5: '0'.repeat(32) }).catch((e: unknown) => e);
    expect(FileTransferError.isInstance(err)).toBe(true);
    expect((err as FileTransferError).status).toBe(HErrorCode.kFileContentError);
    await expect(stat(join(rig.dir, 'bad.bin'))).rejects.toThrow();
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });

  it('bad names and missing files', async () => {
    rig = await startRig();
    const c = await rig.connect();
    const bad = await c.upload(new Uint8Array(3), { name: '../evil' }).catch((e: unknown) => e);
    expect((bad as FileTransferError).status).toBe(HErrorCode.kInvalidParam);
    const missing = await c.readFile('nothing.bin').catch((e: unknown) => e);
    expect((missing as FileTransferError).status).toBe(HErrorCode.kFileNotFound);
    expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
  });
});

describe.each([true, false])('hashing with hashOffThread: %s', (hashOffThread) => {
  it('many files back to back (hashing buffers reused) arrive intact', async () => {
    rig = await startRig({ hashOffThread });
    const c = await rig.connect();
    for (let i = 0; i < 6; i++) {
      const data = randomBytes(2_500_000 + i * 1_000_003);
      await c.upload(data, { name: `m${i}.bin` });
      expect(md5Bytes(await readFile(join(rig.dir, `m${i}.bin`)))).toBe(md5Bytes(data));
    }
  });

  it('uploads, resumes and detects an MD5 mismatch the same way', async () => {
    rig = await startRig({ hashOffThread });
    const data = randomBytes(300_000);
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    r.send({ type: 'kFileStartAsk', md5: md5Bytes(data), size: data.length, fileType: 0, name: 'h.bin' });
    await r.next();
    r.send(packFileContent(data.subarray(0, 50_000)));
    await until(() => rig!.device.stats.fileBytesReceived === 50_000);
    r.close();
    const c = await rig.connect();
    expect(await c.upload(data, { name: 'h.bin' })).toMatchObject({ resumedFrom: 50_000 });
    expect(md5Bytes(await readFile(join(rig.dir, 'h.bin')))).toBe(md5Bytes(data));
    const bad = await c.upload(randomBytes(10), { name: 'x.bin', md5: 'f'.repeat(32) }).catch((e: unknown) => e);
    expect((bad as FileTransferError).status).toBe(HErrorCode.kFileContentError);
  });
});

describe('a device that stops answering', () => {
  it('upload gives up after the step timeout with a TimeoutError and closes', async () => {
    const { createServer } = await import('node:net');
    const { SdkPacketDecoder, encodeSdkCall } = await import('../src/codec/sdk-call.js');
    const { encodePacket } = await import('../src/codec/packets.js');
    const { buildSdkResponse } = await import('../src/codec/xml.js');
    const { SdkClient } = await import('../src/transport/client.js');
    // Negotiates and answers GetIFVersion, then ignores everything (a hung controller).
    const server = createServer((s) => {
      const d = new SdkPacketDecoder();
      s.on('error', () => {});
      s.on('data', (chunk: Buffer) => {
        for (const p of d.push(chunk)) {
          if (p.type === 'kSDKServiceAsk') s.write(encodePacket({ type: 'kSDKServiceAnswer', version: p.version }));
          if (p.type === 'kSDKCmdAsk') {
            const xml = buildSdkResponse({
              guid: 'a'.repeat(32),
              method: 'GetIFVersion',
              result: 'kSuccess',
              body: '',
            });
            s.write(encodeSdkCall(new TextEncoder().encode(xml), 'kSDKCmdAnswer'));
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const c = await SdkClient.connect('127.0.0.1', { port, defaultTimeoutMs: 300 });
      const err = await c.upload(new Uint8Array(10), { name: 'x' }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('TimeoutError');
      expect(c.closed).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe('device file rules', () => {
  it('too few bytes: kFileNotFinish (partial kept); too many: kInvalidFileData; content outside a transfer: kProcessError', async () => {
    rig = await startRig();
    const data = randomBytes(30_000);
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    await r.handshake();
    const start = {
      type: 'kFileStartAsk',
      md5: md5Bytes(data),
      size: data.length,
      fileType: 0,
      name: 'r.bin',
    } as const;
    r.send(start);
    await r.next();
    r.send(packFileContent(data.subarray(0, 10_000)));
    r.send({ type: 'kFileEndAsk' });
    expect(await r.next()).toEqual({ type: 'kFileEndAnswer', status: HErrorCode.kFileNotFinish });
    r.send(start);
    expect(await r.next()).toEqual({ type: 'kFileStartAnswer', status: 0, existSize: 10_000 });
    r.send(packFileContent(randomBytes(25_000)));
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kInvalidFileData });
    await r.handshake();
    r.send(packFileContent(data.subarray(0, 10)));
    expect(await r.next()).toEqual({ type: 'kErrorAnswer', code: HErrorCode.kProcessError });
  });

  it('without a directory the device refuses files with kCreateFileFailed', async () => {
    const { SdkDevice } = await import('../src/device/device.js');
    const { SdkClient } = await import('../src/transport/client.js');
    const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, search: false });
    try {
      const c = await SdkClient.connect('127.0.0.1', { port: device.port });
      const err = await c.upload(new Uint8Array(5), { name: 'a' }).catch((e: unknown) => e);
      expect((err as FileTransferError).status).toBe(HErrorCode.kCreateFileFailed);
      c.destroy();
    } finally {
      await device.close();
    }
  });
});

describe('file lists', () => {
  it('uploads several files between kFileListStartAsk and kFileListEndAsk', async () => {
    rig = await startRig();
    const c = await rig.connect();
    const a = randomBytes(20_000);
    const b = randomBytes(30_000);
    const seen: number[] = [];
    const results = await c.uploadFiles(
      [
        { source: a, name: 'a.png' },
        { source: b, name: 'b.ttf', type: 'font' },
      ],
      { onProgress: (i) => seen.push(i) },
    );
    expect(results.map((r) => r.name)).toEqual(['a.png', 'b.ttf']);
    expect(seen).toContain(0);
    expect(seen).toContain(1);
    expect(md5Bytes(await readFile(join(rig.dir, 'b.ttf')))).toBe(md5Bytes(b));
  });
});

describe('no SDK call during a file transfer', () => {
  it('host: a call asked for during an upload waits for the upload to end', async () => {
    rig = await startRig();
    const c = await rig.connect();
    const order: string[] = [];
    const up = c.upload(randomBytes(2_000_000), { name: 'a.bin' }).then(() => order.push('upload'));
    const call = c.call('GetDeviceInfo').then(() => order.push('call'));
    await Promise.all([up, call]);
    expect(order).toEqual(['upload', 'call']);
    expect(rig.device.stats.illegalInterleaves).toBe(0);
  });

  it('device: an SDK call inside a transfer is an illegal operation and cancels the negotiation', async () => {
    rig = await startRig();
    const data = randomBytes(50_000);
    const r = await RawHost.connect(rig.device.port);
    raws.push(r);
    const guid = await r.handshake();
    r.send({ type: 'kFileStartAsk', md5: md5Bytes(data), size: data.length, fileType: 0, name: 'f.bin' });
    await r.next();
    r.send(packFileContent(data.subarray(0, 20_000)));
    await r.call(`<sdk guid="${guid}"><in method="GetDeviceInfo"/></sdk>`).then(
      () => expect.unreachable(),
      (e: Error) => expect(e.message).toBe(`error answer ${HErrorCode.kProcessError}`),
    );
    expect(rig.device.stats.illegalInterleaves).toBe(1);
    // Negotiation cancelled: calls and content are refused until a new negotiation.
    await expect(r.call(`<sdk guid="${guid}"><in method="GetDeviceInfo"/></sdk>`)).rejects.toThrow(
      `error answer ${HErrorCode.kProcessError}`,
    );
    const newGuid = await r.handshake();
    expect(newGuid).not.toBe(guid);
    // The partial content was kept: a resume starts at 20 000.
    r.send({ type: 'kFileStartAsk', md5: md5Bytes(data), size: data.length, fileType: 0, name: 'f.bin' });
    expect(await r.next()).toEqual({ type: 'kFileStartAnswer', status: 0, existSize: 20_000 });
  });
});
