// A/B of the GVCP client: readRegister against one GvcpDevice on 127.0.0.1 (port 0), an older client build
// (BEFORE_DIST=/path/to/old/packages/gvcp/dist/index.js) and this tree's build (pnpm --filter @cam/gvcp build)
// alternating in one process, 12 rounds of 2000 reads. Reports CPU microseconds per read (client and device
// together, the same device for both), which stays steady on a loaded machine where wall time does not.
//   BEFORE_DIST=... flock /tmp/cam-bench.lock node packages/gvcp/bench/client-ab.mjs
const beforeDist = process.env.BEFORE_DIST;
if (!beforeDist) throw new Error('set BEFORE_DIST to the older build of packages/gvcp/dist/index.js');
const before = await import(beforeDist);
const after = await import(new URL('../dist/index.js', import.meta.url).href);
const device = await after.GvcpDevice.start({ address: '127.0.0.1', port: 0 });
const { port } = device.address();
const clients = {
  before: await before.GvcpClient.connect('127.0.0.1', { port }),
  after: await after.GvcpClient.connect('127.0.0.1', { port }),
};
const N = 2000;
const res = { before: [], after: [] };
for (let round = 0; round < 12; round++) {
  for (const side of ['before', 'after']) {
    const c = clients[side];
    for (let i = 0; i < 200; i++) await c.readRegister(0x0938);
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await c.readRegister(0x0938);
    const cu = process.cpuUsage(c0);
    res[side].push((cu.user + cu.system) / N);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const side of ['before', 'after']) {
  const r = res[side];
  console.log(
    `${side}: CPU us per read (client + device) median ${med(r).toFixed(1)}, min ${Math.min(...r).toFixed(1)}`,
  );
}
for (const c of Object.values(clients)) await c.close();
await device.close();
