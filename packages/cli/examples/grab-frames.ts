// Grab frames from a GigE Vision camera with the GVSP receiver.
// Self-contained: a simulated camera (GVCP + GVSP) runs in this process on 127.0.0.1.
// Run: node --conditions=@cam/source --import tsx packages/cli/examples/grab-frames.ts
import { connectCamera, GvcpDevice } from '@cam/gvcp';
import { attachGvspStreaming, openStream } from '@cam/gvsp';

const device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 320, height: 240, pixelFormat: 'Mono8' });
const streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1', forceFps: 30 });
const port = device.address().port;
try {
  const camera = await connectCamera('127.0.0.1', { port });
  try {
    // openStream sets the stream channel (SCDA/SCP, packet size), starts acquisition through the node map.
    const stream = await openStream(camera.client, {
      deviceAddress: '127.0.0.1',
      gvcpPort: port,
      hostAddress: '127.0.0.1',
      nodeMap: camera.nodeMap,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const frame = await stream.nextFrame({ timeoutMs: 3000 });
        if (!frame) break;
        console.log(`frame ${frame.blockId}: ${frame.status} ${frame.width}x${frame.height} ${frame.pixelFormatName}`);
        frame.release(); // gives the buffer back to the receiver's pool
      }
      const s = stream.stats();
      console.log(`stats: ${s.completedFrames} complete, ${s.failures} failed, ${s.missingPackets} packets missing`);
    } finally {
      await stream.close();
    }
  } finally {
    await camera.close();
  }
} finally {
  await streaming.close();
  await device.close();
}
