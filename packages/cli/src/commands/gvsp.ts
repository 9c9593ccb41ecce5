import { readFile, stat } from 'node:fs/promises';
import {
  decodeGvspPacket,
  type GvspPacket,
  GvspReceiver,
  GvspSender,
  gvspPayloadTypeName,
  gvspStatusName,
  pixelFormatByName,
  pixelFormatName,
  TestPatternRenderer,
} from '@cam/gvsp';
import { fromHex, isIpv4, WireError } from '@cam/net-utils';
import type { Command } from 'commander';
import { captureKind, readCaptureDatagrams } from '../capture/pcap.js';
import { interruptSignal } from '../interrupt.js';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';

/** Largest capture file `decode` reads (it is read whole). */
const MAX_CAPTURE_BYTES = 512 * 1024 * 1024;

/** One decoded (or malformed) GVSP packet of a capture, for the table and JSON. */
interface DecodedRow {
  index: number;
  timeUs?: number;
  from?: string;
  to?: string;
  packet?: GvspPacket;
  error?: { name: string; message: string };
}

/** The table `cam gvsp decode` prints for people. */
function decodeTable(rows: DecodedRow[]): string {
  const t0 = rows.find((r) => r.timeUs !== undefined)?.timeUs ?? 0;
  const head = ['frame', 'time ms', 'from -> to', 'block', 'packet', 'kind', 'details'];
  const body = rows.map((r) => {
    const time = r.timeUs === undefined ? '' : ((r.timeUs - t0) / 1000).toFixed(3);
    const route = r.from ? `${r.from} -> ${r.to}` : '';
    if (!r.packet)
      return [String(r.index + 1), time, route, '', '', 'MALFORMED', `${r.error?.name}: ${r.error?.message}`];
    const h = r.packet.header;
    return [
      String(r.index + 1),
      time,
      route,
      String(h.blockId),
      String(h.packetId),
      KIND_NAMES[r.packet.kind],
      details(r.packet),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

function details(p: GvspPacket): string {
  const full = describe(p);
  // describe() starts with "block N packet M KIND": the table has those columns already
  return full.replace(/^block \S+ packet \S+( \(ext\))? \S+ ?/, '');
}

const KIND_NAMES: Record<GvspPacket['kind'], string> = {
  leader: 'LEADER',
  trailer: 'TRAILER',
  payload: 'PAYLOAD',
  allIn: 'ALL-IN',
  h264: 'H264',
  multizone: 'MULTIZONE',
  multipart: 'MULTIPART',
  gendc: 'GENDC',
  status: 'STATUS',
};

function describe(p: GvspPacket): string {
  const h = p.header;
  let s = `block ${h.blockId} packet ${h.packetId}${h.extendedId ? ' (ext)' : ''} ${KIND_NAMES[p.kind]}`;
  if (h.status !== 0) s += ` status ${gvspStatusName(h.status)}`;
  if (p.kind === 'leader' || p.kind === 'allIn') {
    const l = p.leader as unknown as Record<string, unknown>;
    s += ` ${gvspPayloadTypeName(p.leader.payloadType)}${p.leader.chunksAppended ? '+chunks' : ''}`;
    if (typeof l.sizeX === 'number') s += ` ${pixelFormatName(l.pixelFormat as number)} ${l.sizeX}x${l.sizeY}`;
    if (typeof l.timestamp === 'bigint') s += ` ts ${l.timestamp}`;
  }
  if (p.kind === 'trailer')
    s += ` ${gvspPayloadTypeName(p.trailer.payloadType)}${p.trailer.sizeY !== undefined ? ` size_y ${p.trailer.sizeY}` : ''}`;
  if ('data' in p) s += ` ${p.data.byteLength} data bytes`;
  return s;
}

function hostPort(text: string): { address: string; port: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (!m || !isIpv4(m[1]!)) throw new UsageError(`"${text}" is not ADDRESS:PORT`);
  return { address: m[1]!, port: parseNumber(m[2]!, 'port') };
}

function ratio(text: string | undefined, what: string): number {
  if (text === undefined) return 0;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new UsageError(`${what} "${text}" is not a number in 0..1`);
  return v;
}

/** Statistics as `name  value` lines (nested objects flattened with dots), not raw JSON. */
function statsTable(stats: Record<string, unknown>, prefix = ''): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(stats)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      lines.push(statsTable(v as Record<string, unknown>, `${prefix}${k}.`));
    else
      lines.push(
        `${`${prefix}${k}`.padEnd(28)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v)}`,
      );
  }
  return lines.join('\n');
}

/** `cam gvsp ...`: GVSP tools (decode captures, send test streams). */
export function registerGvsp(program: Command): void {
  const gvsp = program
    .command('gvsp')
    .description('GigE Vision streaming tools: decode captures, send and receive test streams');

  gvsp
    .command('decode')
    .description('decode the GVSP packets of a capture: pcap or pcapng (tshark, tcpdump, Wireshark), or a JSON capture')
    .argument('<capture>', 'a .pcap, .pcapng or JSON capture (packets[].payload_hex)')
    .option(
      '--port <n>',
      'only UDP datagrams to or from this port are GVSP (default: every one that decodes, GVCP port 3956 excepted)',
    )
    .option('--limit <n>', 'print at most this many packets (default: all)')
    .option('--json', 'print one JSON document')
    .action(async (file: string, opts: { json?: boolean; port?: string; limit?: string }) => {
      const json = Boolean(opts.json);
      try {
        const port = opts.port === undefined ? undefined : parseNumber(opts.port, 'port');
        const limit = opts.limit === undefined ? Number.POSITIVE_INFINITY : parseNumber(opts.limit, 'limit');
        const size = (await stat(file)).size;
        if (size > MAX_CAPTURE_BYTES)
          throw new UsageError(
            `${file} is ${size} bytes; decode reads captures up to ${MAX_CAPTURE_BYTES} bytes (cut it with editcap)`,
          );
        const bytes = await readFile(file);
        const rows: DecodedRow[] = [];
        let bad = 0;
        let other = 0;
        let total = 0;
        const add = (row: Omit<DecodedRow, 'packet' | 'error'>, payload: Uint8Array, strict: boolean): void => {
          try {
            const packet = decodeGvspPacket(payload);
            total++;
            if (rows.length < limit) rows.push({ ...row, packet });
          } catch (e) {
            if (!WireError.isInstance(e)) throw e;
            if (!strict) {
              other++;
              return;
            }
            bad++;
            total++;
            if (rows.length < limit) rows.push({ ...row, error: { name: e.name, message: e.message } });
          }
        };
        if (captureKind(bytes)) {
          for (const d of readCaptureDatagrams(bytes)) {
            const gvcp = d.sourcePort === 3956 || d.destinationPort === 3956;
            const chosen = port === undefined ? !gvcp : d.sourcePort === port || d.destinationPort === port;
            if (!chosen) {
              other++;
              continue;
            }
            add(
              {
                index: d.index,
                timeUs: d.timeUs,
                from: `${d.source}:${d.sourcePort}`,
                to: `${d.destination}:${d.destinationPort}`,
              },
              d.payload,
              port !== undefined,
            );
          }
        } else {
          let doc: { packets?: { proto?: string; payload_hex?: string }[] };
          try {
            doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
          } catch {
            throw new UsageError(`${file} is neither pcap, pcapng nor a JSON capture`);
          }
          if (!Array.isArray(doc.packets)) throw new UsageError(`${file} has no "packets" array`);
          for (const [i, p] of doc.packets.entries()) {
            if (p.proto !== undefined && p.proto !== 'gvsp') continue;
            if (typeof p.payload_hex !== 'string') continue;
            add({ index: i }, fromHex(p.payload_hex), true);
          }
        }
        if (json) {
          printJson({
            ok: true,
            packets: rows.map((r) => ({
              index: r.index,
              ...(r.timeUs === undefined ? {} : { timeUs: r.timeUs, from: r.from, to: r.to }),
              ...(r.packet ?? {}),
              ...(r.error ? { error: r.error } : {}),
            })),
            gvspPackets: total,
            malformed: bad,
            otherDatagrams: other,
          });
        } else {
          process.stdout.write(`${decodeTable(rows)}\n`);
          process.stdout.write(
            `${total} GVSP packets, ${bad} malformed${other > 0 ? `, ${other} other datagrams skipped` : ''}${rows.length < total ? ` (first ${rows.length} shown)` : ''}\n`,
          );
        }
      } catch (e) {
        reportError(e, json);
      }
    });

  gvsp
    .command('send')
    .description(
      'send a moving test pattern over GVSP to ADDRESS:PORT, answering PACKETRESEND on the GVCP port 3956 as a camera does (where cam gvsp receive asks)',
    )
    .argument('<destination>', 'ADDRESS:PORT of the receiver')
    .option('--width <n>', 'image width (default 640)')
    .option('--height <n>', 'image height (default 480)')
    .option('--pixel-format <name>', 'PFNC name (default Mono8)')
    .option('--fps <n>', 'frames per second (default 30)')
    .option('--frames <n>', 'frames to send (default 100)')
    .option('--packet-size <bytes>', 'SCPS packet size (default 1500)')
    .option('--bandwidth <bytes/s>', 'pace packets to this payload rate')
    .option('--extended-id', 'use 64-bit block ids')
    .option(
      '--resend-port <n>',
      'answer PACKETRESEND on this UDP port (default: 3956, or any free port when taken; 0 = any)',
    )
    .option('--loss-ratio <r>', 'share of packets dropped (0..1)')
    .option('--reorder-ratio <r>', 'share of packets reordered (0..1)')
    .option('--duplicate-ratio <r>', 'share of packets sent twice (0..1)')
    .option('--json', 'print one JSON document')
    .action(async (dest: string, opts: Record<string, string | boolean | undefined>) => {
      const json = Boolean(opts.json);
      try {
        const to = hostPort(dest);
        const num = (k: string, d: number): number => (opts[k] === undefined ? d : parseNumber(String(opts[k]), k));
        const pf = pixelFormatByName(String(opts.pixelFormat ?? 'Mono8'));
        if (!pf) throw new UsageError(`unknown pixel format "${String(opts.pixelFormat)}"`);
        const pattern = new TestPatternRenderer({
          width: num('width', 640),
          height: num('height', 480),
          pixelFormat: pf.id,
        });
        const open = (resendPort: number) =>
          GvspSender.open({
            destination: to,
            packetSize: num('packetSize', 1500),
            extendedId: opts.extendedId === true,
            ...(opts.bandwidth !== undefined ? { bandwidth: num('bandwidth', 0) } : {}),
            resendPort,
            loss: {
              drop: ratio(opts.lossRatio as string | undefined, 'loss ratio'),
              reorder: ratio(opts.reorderRatio as string | undefined, 'reorder ratio'),
              duplicate: ratio(opts.duplicateRatio as string | undefined, 'duplicate ratio'),
            },
          });
        // like a camera, answer resends on the GVCP port, where `cam gvsp receive` sends them by default
        let sender: GvspSender;
        if (opts.resendPort !== undefined) sender = await open(num('resendPort', 0));
        else {
          try {
            sender = await open(3956);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
            sender = await open(0);
            process.stderr.write(
              `port 3956 is taken: answering PACKETRESEND on ${sender.resendPort}; receive with --device ${to.address === '127.0.0.1' ? '127.0.0.1' : 'THIS-HOST'}:${sender.resendPort}\n`,
            );
          }
        }
        const resendPort = sender.resendPort; // read while the socket is open
        if (!json) process.stderr.write(`answering PACKETRESEND on UDP port ${resendPort}\n`);
        const frames = num('frames', 100);
        const fps = num('fps', 30);
        const buf = new Uint8Array(pattern.byteSize);
        const start = performance.now();
        try {
          for (let i = 0; i < frames; i++) {
            await sender.sendImage({
              pixelFormat: pf.id,
              width: pattern.width,
              height: pattern.height,
              data: pattern.render(i, buf),
            });
            if (!json) process.stderr.write(`\rframe ${i + 1}/${frames}`);
            const wait = start + ((i + 1) * 1000) / Math.max(1, fps) - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          // keep answering resends for the last frames for a moment
          if (sender.resendPort !== undefined) await new Promise((r) => setTimeout(r, 300));
        } finally {
          await sender.close();
        }
        if (json) printJson({ ok: true, frames, resendPort, stats: sender.stats() });
        else {
          process.stderr.write('\n');
          process.stdout.write(`${statsTable(sender.stats() as unknown as Record<string, unknown>)}\n`);
        }
      } catch (e) {
        reportError(e, json);
      }
    });

  gvsp
    .command('receive')
    .description('receive a GVSP stream on a UDP port (e.g. from cam gvsp send) and print statistics')
    .option('--port <n>', 'UDP port (default 0: any free one, printed)')
    .option('--payload-size <bytes>', 'largest frame payload (default 640*480*4)')
    .option('--packet-size <bytes>', 'SCPS packet size of the sender (default: learned)')
    .option(
      '--device <address:port>',
      "where PACKETRESEND goes (default: the sender's address, port 3956, where cam gvsp send answers)",
    )
    .option('--frames <n>', 'stop after this many frames (default 100)')
    .option('--seconds <s>', 'stop after this long (default 10)')
    .option('--no-resend', 'do not ask for missing packets')
    .option('--json', 'print one JSON document')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const json = Boolean(opts.json);
      try {
        const num = (k: string, d: number): number => (opts[k] === undefined ? d : parseNumber(String(opts[k]), k));
        const rx = await GvspReceiver.open({
          port: num('port', 0),
          payloadSize: num('payloadSize', 640 * 480 * 4),
          ...(opts.packetSize !== undefined ? { packetSize: num('packetSize', 1500) } : {}),
          ...(typeof opts.device === 'string' ? { device: hostPort(opts.device) } : {}),
          resend: opts.resend !== false,
        });
        if (!json) process.stderr.write(`listening on UDP port ${rx.port}\n`);
        const frames = num('frames', 100);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), num('seconds', 10) * 1000);
        using interrupt = interruptSignal();
        interrupt.signal.addEventListener('abort', () => controller.abort(), { once: true });
        const statuses: Record<string, number> = {};
        let n = 0;
        try {
          for await (const f of rx.frames({ signal: controller.signal })) {
            statuses[f.status] = (statuses[f.status] ?? 0) + 1;
            f.release();
            if (++n >= frames) break;
          }
        } finally {
          clearTimeout(timer);
          const stats = rx.stats();
          await rx.close();
          if (json) printJson({ ok: true, port: rx.port, frames: n, statuses, stats });
          else {
            const byStatus = Object.entries(statuses)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ');
            process.stdout.write(
              `${n} frames${byStatus ? ` (${byStatus})` : ''} on UDP port ${rx.port}\n${statsTable(stats as unknown as Record<string, unknown>)}\n`,
            );
          }
        }
      } catch (e) {
        reportError(e, json);
      }
    });
}
