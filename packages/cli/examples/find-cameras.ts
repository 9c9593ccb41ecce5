// Find GigE Vision cameras and read a feature through the GenICam node map.
// Self-contained: a simulated camera runs in this process on 127.0.0.1.
// Run: node --conditions=@cam/source --import tsx packages/cli/examples/find-cameras.ts
import { connectCamera, discover, GvcpDevice } from '@cam/gvcp';

const device = await GvcpDevice.start({ address: '127.0.0.1', port: 0, serialNumber: 'EXAMPLE001' });
const port = device.address().port;
try {
  // On a real network: `await discover({ timeoutMs: 1000 })` broadcasts on every interface.
  const cameras = await discover({ address: '127.0.0.1', port, timeoutMs: 1000 });
  for (const c of cameras) console.log(`found ${c.manufacturerName} ${c.modelName} ${c.serialNumber} at ${c.address}`);

  // Connect, take control (heartbeat runs), download the GenICam XML and build the node map.
  const camera = await connectCamera('127.0.0.1', { port });
  try {
    const width = await camera.nodeMap.get('Width');
    const vendor = await camera.nodeMap.get('DeviceVendorName');
    console.log(`DeviceVendorName = ${String(vendor)}, Width = ${String(width)}`);
  } finally {
    await camera.close();
  }
} finally {
  await device.close();
}
