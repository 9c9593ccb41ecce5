/** Our side of the Aravis comparison, in its own process: GvcpClient + NodeMap + openStream for N seconds. */
import { NodeMap } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpPort } from '@cam/gvcp';
import { gvsp } from './lib.js';

const { openStream } = gvsp;

const [address = '127.0.0.1', secondsText = '3'] = process.argv.slice(2);
const seconds = Number(secondsText);
const client = await GvcpClient.connect(address);
await client.takeControl();
const nodeMap = await NodeMap.load((await fetchGenicamXml(client)).xml, new GvcpPort(client));
const stream = await openStream(client, {
  nodeMap,
  hostAddress: '127.0.0.1',
  packetSize: 1500,
  negotiatePacketSize: false,
  slots: 16,
});
const cpu0 = process.cpuUsage();
let completed = 0;
let failed = 0;
let bytes = 0;
const ac = new AbortController();
const timer = setTimeout(() => ac.abort(), seconds * 1000);
for await (const f of stream.frames({ signal: ac.signal })) {
  if (f.status === 'complete') {
    completed++;
    bytes += f.data.byteLength;
  } else failed++;
}
clearTimeout(timer);
const cpu = process.cpuUsage(cpu0);
await stream.close();
await client.releaseControl().catch(() => {});
await client.close();
process.stdout.write(
  `${JSON.stringify({ completed, failed, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds })}\n`,
);
