import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import {
  GvspPayloadType,
  GvspReceiver,
  GvspSender,
  imagePartSpecific,
  PixelFormat,
  TestPatternRenderer,
} from '../src/index.js';

const run = promisify(execFile);

describeInterop('tshark decodes our GVSP', ['tshark'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'cam-gvsp-tshark-'));
  let capture: ChildProcess | undefined;
  afterAll(() => {
    if (capture && capture.exitCode === null) capture.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds no malformed packet in every payload type we send, standard and extended ids, with resends', async () => {
    const rx = await GvspReceiver.open({ address: '127.0.0.1', payloadSize: 200_000, packetSize: 1400 });
    const sender = await GvspSender.open({
      bindAddress: '127.0.0.1',
      resendPort: 0,
      packetSize: 1400,
      loss: { drop: 0.02, seed: 4 },
    });
    rx.setDevice('127.0.0.1', sender.resendPort!);
    sender.setDestination('127.0.0.1', rx.port);
    const pcap = join(dir, 'gvsp.pcapng');
    try {
      capture = spawn('tshark', ['-i', 'lo', '-f', `udp dst port ${rx.port}`, '-w', pcap, '-a', 'duration:60'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      capture.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      // tshark (dumpcap) can take seconds to start on a busy machine; it says so on stderr once it listens
      for (let i = 0; i < 250 && !err.includes('Capturing on'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toContain('Capturing on');
      await new Promise((r) => setTimeout(r, 500));
      const pattern = new TestPatternRenderer({ width: 160, height: 120, pixelFormat: PixelFormat.Mono8 });
      const rgb = new TestPatternRenderer({ width: 64, height: 32, pixelFormat: PixelFormat.RGB8 });
      for (const extendedId of [false, true]) {
        sender.extendedId = extendedId;
        await sender.sendImage({ pixelFormat: pattern.pixelFormat, width: 160, height: 120, data: pattern.render(1) });
        await sender.sendImage({
          pixelFormat: rgb.pixelFormat,
          width: 64,
          height: 32,
          data: rgb.render(2),
          chunkData: new Uint8Array(16).fill(7),
          chunkLayoutId: 3,
        });
        const common = { fieldInfo: 0, genericFlags: 0, chunksAppended: false };
        await sender.sendBlock({
          leader: { ...common, payloadType: GvspPayloadType.RAW_DATA, timestamp: 5n, payloadSize: 3000n },
          trailer: { reserved: 0, payloadType: GvspPayloadType.RAW_DATA, chunksAppended: false },
          data: new Uint8Array(3000).fill(1),
        });
        await sender.sendBlock({
          leader: {
            ...common,
            payloadType: GvspPayloadType.JPEG,
            timestamp: 6n,
            payloadSize: 2000n,
            timestampTickFrequency: 1_000_000_000n,
            dataFormat: 0,
          },
          trailer: { reserved: 0, payloadType: GvspPayloadType.JPEG, chunksAppended: false },
          data: new Uint8Array(2000).fill(2),
        });
        await sender.sendBlock({
          leader: { ...common, payloadType: GvspPayloadType.FILE, timestamp: 7n, payloadSize: 100n, fileName: 'a.bin' },
          trailer: { reserved: 0, payloadType: GvspPayloadType.FILE, chunksAppended: false },
          data: new Uint8Array(100).fill(3),
        });
        await sender.sendBlock({
          leader: { ...common, payloadType: GvspPayloadType.CHUNK_DATA, timestamp: 8n },
          trailer: { reserved: 0, payloadType: GvspPayloadType.CHUNK_DATA, chunksAppended: false, payloadLength: 64 },
          data: new Uint8Array(64).fill(4),
        });
        if (extendedId) {
          const part = (len: number) => ({
            dataType: 1,
            partLength: len,
            format: PixelFormat.Mono8,
            sourceId: 0,
            additionalZones: 0,
            zoneDirection: 0,
            dataPurposeId: 0,
            regionId: 0,
            dataTypeSpecific: imagePartSpecific({
              sizeX: 50,
              sizeY: len / 50,
              offsetX: 0,
              offsetY: 0,
              paddingX: 0,
              paddingY: 0,
            }),
          });
          await sender.sendBlock({
            leader: {
              ...common,
              payloadType: GvspPayloadType.MULTIPART,
              timestamp: 9n,
              parts: [part(2500), part(1000)],
            },
            trailer: {
              reserved: 0,
              payloadType: GvspPayloadType.MULTIPART,
              chunksAppended: false,
              parts: [
                { dataType: 1, partLength: 2500, typeSpecific0: 50, typeSpecific1: 0 },
                { dataType: 1, partLength: 1000, typeSpecific0: 20, typeSpecific1: 0 },
              ],
            },
            data: new Uint8Array(3500).fill(5),
          });
        }
        await sender.sendBlock({
          leader: { ...common, payloadType: GvspPayloadType.RAW_DATA, timestamp: 10n, payloadSize: 500n },
          trailer: { reserved: 0, payloadType: GvspPayloadType.RAW_DATA, chunksAppended: false },
          data: new Uint8Array(500).fill(6),
          allIn: true,
        });
      }
      // let resends finish
      for (let i = 0; i < 40 && rx.stats().completedFrames < 15; i++) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 300));
      capture.kill('SIGINT');
      await new Promise((r) => capture?.once('exit', r));
    } finally {
      await sender.close();
      await rx.close();
    }
    const decode = await run(
      'tshark',
      ['-r', pcap, '-d', `udp.port==${rx.port},gvsp`, '-T', 'fields', '-e', 'gvsp.format', '-e', '_ws.malformed'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const lines = decode.stdout.trim().split('\n');
    expect(lines.length).toBe(sender.stats().packets);
    expect(lines.every((l) => l.split('\t')[0] !== '')).toBe(true);
    const bad = await run(
      'tshark',
      ['-r', pcap, '-d', `udp.port==${rx.port},gvsp`, '-Y', '_ws.malformed || _ws.expert.severity >= error'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    expect(bad.stdout.trim()).toBe('');
    expect(sender.stats().resentPackets).toBeGreaterThan(0);
  }, 90_000);
});
