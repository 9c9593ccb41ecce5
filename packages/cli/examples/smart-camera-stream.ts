// Receive a smart camera's SC_GVMP image stream (TCP channel set up by GVCP register writes).
// Self-contained: a simulated smart camera runs in this process on 127.0.0.1.
// Run: node --conditions=@cam/source --import tsx packages/cli/examples/smart-camera-stream.ts
import { GvcpClient, GvcpDevice } from '@cam/gvcp';
import { attachToGvcpDevice, payloadKindName, ScGvmpDevice, startStream } from '@cam/sc-gvmp';

const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
const device = new ScGvmpDevice({ fps: 25, testPattern: { width: 160, height: 120 } });
attachToGvcpDevice(device, gvcp);
try {
  const client = await GvcpClient.connect('127.0.0.1', { port: gvcp.address().port });
  try {
    await client.takeControl();
    const stream = await startStream(client); // listens on TCP, writes MCDA/MCP, then STREAM_START=1
    try {
      let n = 0;
      for await (const f of stream) {
        console.log(`frame seq ${f.seq}: ${payloadKindName(f.kind)}, ${f.payload.length} bytes`);
        if (++n === 3) break;
      }
      await stream.stop(); // STREAM_START=0
      console.log(`stopped, device state ${device.state}`);
    } finally {
      await stream.close();
    }
  } finally {
    await client.close();
  }
} finally {
  device.close();
  await gvcp.close();
}
