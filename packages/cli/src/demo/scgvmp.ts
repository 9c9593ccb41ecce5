import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GvcpClient, GvcpDevice } from '@cam/gvcp';
import { attachToGvcpDevice, payloadKindName, ScGvmpDevice, startStream } from '@cam/sc-gvmp';
import type { DemoPart } from './runner.js';

const FRAMES = 5;

/** SC_GVMP: a smart camera's TCP image channel, set up through GVCP register writes. */
export const scGvmpPart: DemoPart = {
  name: 'scgvmp',
  title: 'SC_GVMP smart camera: start the TCP channel, receive frames, stop',
  timeoutMs: 15_000,
  async run(ctx) {
    const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0, modelName: 'Smart camera (simulated)' });
    ctx.defer(() => gvcp.close());
    const camera = new ScGvmpDevice({ fps: 25, testPattern: { width: 320, height: 240 } });
    ctx.defer(() => camera.close());
    attachToGvcpDevice(camera, gvcp);
    const deviceStates: string[] = [camera.state];
    camera.on('state', (c) => deviceStates.push(c.state));
    ctx.progress(`smart camera on 127.0.0.1:${gvcp.address().port} (GVCP), SC_GVMP registers plugged in`);

    const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port });
    ctx.defer(() => client.close());
    await client.takeControl({ signal: ctx.signal });
    const stream = await startStream(client, { pollIntervalMs: 50, signal: ctx.signal });
    ctx.defer(() => stream.close());
    ctx.check(
      'channel set up',
      true,
      `host listens on ${stream.localAddress}:${stream.port}; wrote MCDA, MCP, STREAM_START=1; device reached Streaming`,
    );

    const files: string[] = [];
    const seqs: number[] = [];
    for await (const f of stream) {
      const ext = payloadKindName(f.kind) === 'JPEG' ? 'jpg' : 'bin';
      const file = join(ctx.out, `frame-${String(f.seq).padStart(2, '0')}.${ext}`);
      await writeFile(file, f.payload);
      files.push(file);
      seqs.push(f.seq);
      ctx.progress(`frame seq ${f.seq}: ${payloadKindName(f.kind)}, ${f.payload.length} bytes`);
      if (seqs.length === FRAMES) break;
    }
    const inOrder = seqs.every((s, i) => s === i);
    ctx.check(
      'frames',
      seqs.length === FRAMES && inOrder,
      `${seqs.length} frames, Seq ${seqs.join(',')}, no gaps`,
      files,
    );
    await stream.stop();
    ctx.check('stop', camera.state === 'Idle', `STREAM_START=0, device back to ${camera.state}`);
    ctx.check(
      'state machine',
      deviceStates.join(' -> ').includes('Connecting -> Streaming'),
      deviceStates.join(' -> '),
    );
  },
};
