import { readFile } from 'node:fs/promises';
import {
  decodeGvspPacket,
  type GvspPacket,
  GvspReceiver,
  GvspSender,
  gvspPayloadTypeName,
  gvspStatusName,
  pixelFormatByName,
  pixelFormatName,
  TestPattern,
} from '@cam/gvsp';
import { fromHex, isIpv4, WireError } from '@cam/net-utils';
import type { Command } from 'commander';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';

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

/** `cam gvsp ...`: GVSP tools (decode captures, send test streams). */
export function registerGvsp(program: Command): void {
  const gvsp = program
    .command('gvsp')
    .description('GigE Vision streaming tools: decode captures, send and receive test streams');

  gvsp
    .command('decode')
    .description('decode the GVSP packets of a capture (JSON with packets[].payload_hex, as in shared/captures)')
    .argument('<capture.json>')
    .option('--json', 'print one JSON document')
    .action(async (file: string, opts: { json?: boolean }) => {
      const json = Boolean(opts.json);
      try {
        const doc = JSON.parse(await readFile(file, 'utf8')) as {
          packets?: { proto?: string; payload_hex?: string }[];
        };
        if (!Array.isArray(doc.packets)) throw new UsageError(`${file} has no "packets" array`);
        const out: unknown[] = [];
        let bad = 0;
        for (const [i, p] of doc.packets.entries()) {
          if (p.proto !== undefined && p.proto !== 'gvsp') continue;
          if (typeof p.payload_hex !== 'string') continue;
          try {
            const d = decodeGvspPacket(fromHex(p.payload_hex));
            out.push(json ? { index: i, ...d } : `#${i} ${describe(d)}`);
          } catch (e) {
            if (!WireError.isInstance(e)) throw e;
            bad++;
            out.push(
              json ? { index: i, error: { name: e.name, message: e.message } } : `#${i} ${e.name}: ${e.message}`,
            );
          }
        }
        if (json) printJson({ ok: true, packets: out, malformed: bad });
        else process.stdout.write(`${out.join('\n')}\n${out.length} GVSP packets, ${bad} malformed\n`);
      } catch (e) {
        reportError(e, json);
      }
    });

  gvsp
    .command('send')
    .description('send a moving test pattern over GVSP to ADDRESS:PORT (answers PACKETRESEND on --resend-port)')
    .argument('<destination>', 'ADDRESS:PORT of the receiver')
    .option('--width <n>', 'image width (default 640)')
    .option('--height <n>', 'image height (default 480)')
    .option('--pixel-format <name>', 'PFNC name (default Mono8)')
    .option('--fps <n>', 'frames per second (default 30)')
    .option('--frames <n>', 'frames to send (default 100)')
    .option('--packet-size <bytes>', 'SCPS packet size (default 1500)')
    .option('--bandwidth <bytes/s>', 'pace packets to this payload rate')
    .option('--extended-id', 'use 64-bit block ids')
    .option('--resend-port <n>', 'answer PACKETRESEND on this UDP port (0 = any)')
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
        const pattern = new TestPattern({ width: num('width', 640), height: num('height', 480), pixelFormat: pf.id });
        const sender = await GvspSender.open({
          destination: to,
          packetSize: num('packetSize', 1500),
          extendedId: opts.extendedId === true,
          ...(opts.bandwidth !== undefined ? { bandwidth: num('bandwidth', 0) } : {}),
          ...(opts.resendPort !== undefined ? { resendPort: num('resendPort', 0) } : {}),
          loss: {
            drop: ratio(opts.lossRatio as string | undefined, 'loss ratio'),
            reorder: ratio(opts.reorderRatio as string | undefined, 'reorder ratio'),
            duplicate: ratio(opts.duplicateRatio as string | undefined, 'duplicate ratio'),
          },
        });
        if (!json && sender.resendPort !== undefined)
          process.stderr.write(`answering PACKETRESEND on port ${sender.resendPort}\n`);
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
        if (json) printJson({ ok: true, frames, stats: sender.stats() });
        else process.stderr.write(`\n${JSON.stringify(sender.stats())}\n`);
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
    .option('--device <address:port>', 'where PACKETRESEND goes (default: sender address, port 3956)')
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
          else process.stdout.write(`${n} frames ${JSON.stringify(statuses)}\n${JSON.stringify(stats, null, 2)}\n`);
        }
      } catch (e) {
        reportError(e, json);
      }
    });
}
