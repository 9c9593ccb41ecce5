import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkDevice, type SdkDeviceOptions } from '../src/device/device.js';
import { SdkClient, type SdkClientOptions } from '../src/transport/client.js';

export interface Rig {
  device: SdkDevice;
  dir: string;
  connect(options?: SdkClientOptions): Promise<SdkClient>;
  close(): Promise<void>;
}

/** A device on 127.0.0.1, port 0, with a fresh temp directory; `close()` removes everything. */
export async function startRig(options: SdkDeviceOptions = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'cam-sdk-test-'));
  const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, ...options });
  const clients: SdkClient[] = [];
  return {
    device,
    dir,
    async connect(o = {}) {
      const c = await SdkClient.connect('127.0.0.1', { port: device.port, timeoutMs: 5000, ...o });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await device.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
