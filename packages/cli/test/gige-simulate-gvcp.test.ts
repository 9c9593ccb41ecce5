import { FeatureRegister as F, GvcpClient } from '@cam/gvcp';
import { openStream } from '@cam/gvsp';
import { afterEach, describe, expect, it } from 'vitest';
import { type StartedCam, startCam } from '../../../test-support/cli.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

describe('cam gige simulate keeps answering GVCP while it streams', () => {
  // A simulator asked for more frames than it can send is always behind its frame clock. A frame of 9000-byte
  // packets (146 at 1280x1024) never reached the sender's every-256-packets yield, and a frame start that is due
  // came back without a turn of the event loop: the frames followed each other in microtasks and the GVCP socket
  // was never read (AcquisitionStop timed out). At 1000 fps this simulator is behind on any machine.
  it('GVCP reads keep succeeding during a 1280x1024 stream of 9000-byte packets it cannot keep up with', async () => {
    const sim: StartedCam = await startCam(
      [
        'gige',
        'simulate',
        '--address',
        '127.0.0.1',
        '--port',
        '0',
        '--width',
        '1280',
        '--height',
        '1024',
        '--fps',
        '1000',
        '--pixel-format',
        'Mono8',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    cleanup.push(async () => {
      if (sim.child.exitCode === null) {
        sim.child.kill('SIGINT');
        await Promise.race([sim.exit, new Promise((r) => setTimeout(r, 5000))]);
        if (sim.child.exitCode === null) sim.child.kill('SIGKILL');
      }
    });
    const port = (JSON.parse(sim.firstLine) as { port: number }).port;
    const client = await GvcpClient.connect('127.0.0.1', { port, tryTimeoutMs: 500 });
    cleanup.push(() => client.close());
    await client.takeControl();
    const stream = await openStream(client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      packetSize: 9000,
      payloadSize: 1280 * 1024,
      startAcquisition: () => client.writeRegister(F.AcquisitionStart, 1),
      stopAcquisition: () => client.writeRegister(F.AcquisitionStop, 1),
    });
    cleanup.push(() => stream.close());
    expect(stream.packetSize).toBe(9000);
    // frames arrive (complete or not: the receiver may lose some at this rate), and between them every GVCP read
    // is answered (a read tries 4 times, 500 ms each: a simulator that never reads its socket fails it)
    let frames = 0;
    let reads = 0;
    for (let i = 0; i < 30; i++) {
      const f = await stream.nextFrame({ timeoutMs: 5000 });
      if (f) {
        frames++;
        f.release();
      }
      await client.readRegister(0x0938); // heartbeat timeout
      reads++;
    }
    expect(frames).toBeGreaterThan(0);
    expect(reads).toBe(30);
    // and stopping works (the write that timed out before)
    await stream.close();
  }, 120_000);
});
