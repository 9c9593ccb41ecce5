/**
 * Our side of the Aravis comparison, in its own process: GvcpClient + NodeMap + openStream (worker receive loop
 * unless BENCH_OURS_WORKER=0) for N seconds, counting frames like aravis_stream.py does. Prints one JSON line like
 * aravis_stream.py: completed and failed frames, missed ones (block ids never seen), underruns (frames dropped
 * for want of a slot), bytes, CPU of this process (all threads) over the acquisition.
 */
import { NodeMap } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpPort } from '@cam/gvcp';
import { gvsp } from './lib.js';

const { openStream } = gvsp;

const [address = '127.0.0.1', secondsText = '3'] = process.argv.slice(2);
const seconds = Number(secondsText);
// BENCH_OURS_ENGINE: worker (JS engine in a worker, the default), main (JS engine), native (recvmmsg), ring
const variant = process.env.BENCH_OURS_ENGINE ?? (process.env.BENCH_OURS_WORKER === '0' ? 'main' : 'worker');
const worker = variant === 'worker';
const native = variant === 'native' || variant === 'ring';
const client = await GvcpClient.connect(address);
await client.takeControl();
const nodeMap = await NodeMap.load((await fetchGenicamXml(client)).xml, new GvcpPort(client));
// CPU is measured over the same window as aravis_stream.py's: from just before AcquisitionStart (the receiver,
// like Aravis's stream, already exists) to just after AcquisitionStop
let cpu0 = process.cpuUsage();
let cpu1: NodeJS.CpuUsage | undefined;
let t0 = performance.now();
let t1 = 0;
const stream = await openStream(client, {
  nodeMap,
  hostAddress: '127.0.0.1',
  packetSize: 1500,
  negotiatePacketSize: false,
  slots: 16,
  worker,
  engine: native ? 'native' : 'js',
  ...(native ? { capture: variant === 'ring' ? ('packet-ring' as const) : ('recvmmsg' as const) } : {}),
  startAcquisition: async () => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    await nodeMap.execute('AcquisitionStart');
  },
  stopAcquisition: async () => {
    await nodeMap.execute('AcquisitionStop');
    cpu1 = process.cpuUsage(cpu0);
    t1 = performance.now();
  },
});
let completed = 0;
let failed = 0;
let bytes = 0;
const ac = new AbortController();
const timer = setTimeout(() => ac.abort(), seconds * 1000);
for await (const f of stream.frames({ signal: ac.signal })) {
  if (f.status === 'complete') {
    completed++;
    bytes += f.data.byteLength;
  } else {
    failed++;
    if (process.env.BENCH_DEBUG) process.stderr.write(`${f.blockId} ${f.status} ${JSON.stringify(f.packets)}\n`);
  }
}
clearTimeout(timer);
const st = stream.receiver.stats();
if (process.env.BENCH_DEBUG)
  process.stderr.write(
    `${JSON.stringify((stream.receiver as unknown as { host: { nativeStats?(): unknown } }).host.nativeStats?.())}\n`,
  );
await stream.close();
const cpu = cpu1 ?? process.cpuUsage(cpu0);
const elapsed = ((t1 || performance.now()) - t0) / 1000;
await client.releaseControl().catch(() => {});
await client.close();
process.stdout.write(
  `${JSON.stringify({
    completed,
    failed,
    missed: st.missingFrames,
    underruns: st.droppedFrames + st.underruns,
    bytes,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    seconds: elapsed,
    worker,
    engine: `${stream.engine.name}/${stream.engine.capture}`,
  })}\n`,
);
