// Talk to a Huidu LED controller over the SDK TCP protocol: negotiate, call a method, upload a file.
// Self-contained: a simulated controller runs in this process on 127.0.0.1.
// Run: node --conditions=@cam/source --import tsx packages/cli/examples/huidu-controller.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkClient, SdkDevice } from '@cam/sdk-tcp';

const dir = await mkdtemp(join(tmpdir(), 'cam-sdk-example-'));
const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, search: false });
try {
  const client = await SdkClient.connect('127.0.0.1', { port: device.port });
  try {
    console.log(`negotiated version 0x${client.version.toString(16)}, guid ${client.guid}`);
    const info = await client.call('GetDeviceInfo', '');
    console.log(`GetDeviceInfo -> ${info.result} (${info.body.length} bytes of XML)`);

    const file = new TextEncoder().encode('hello from @cam\n'.repeat(4096));
    const up = await client.upload(file, {
      name: 'example.bin',
      onProgress: (p) => {
        if (p.sent === p.total) console.log(`upload progress ${p.sent}/${p.total}`);
      },
    });
    console.log(`uploaded ${up.size} bytes, MD5 ${up.md5}`);
  } finally {
    await client.close();
  }
} finally {
  await device.close();
  await rm(dir, { recursive: true, force: true });
}
