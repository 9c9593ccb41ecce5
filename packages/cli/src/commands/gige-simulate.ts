import {
  FeatureRegister,
  GVCP_PORT,
  GvcpDevice,
  type GvcpDeviceOptions,
  ipRouteForceIpHook,
  SimulatedPixelFormat,
} from '@cam/gvcp';
import { type AttachStreamingOptions, attachGvspStreaming, type GvspStreaming, type StreamingDevice } from '@cam/gvsp';
import { ipv4ToU32, isIpv4, isLoopback, macToBytes, u32ToIpv4 } from '@cam/net-utils';
import type { Command } from 'commander';
import { parseNumber, reportError, UsageError } from '../output.js';

interface SimulateOptions {
  address?: string;
  port?: string;
  serial?: string;
  mac?: string;
  model?: string;
  pixelFormat?: string;
  width?: string;
  height?: string;
  fps?: string;
  packetSize?: string;
  lossRatio?: string;
  count?: string;
  forceipHook?: string;
  pathMtu?: string;
  json?: boolean;
}

/** What the stream side of the simulator takes from the command line. */
interface StreamSettings {
  fps: number | undefined;
  /** Largest GVSP packet (IP + UDP + GVSP) the simulated link carries, like a path MTU. */
  maxPacketSize: number | undefined;
  lossRatio: number;
  /** Emulated path MTU for DoNotFragment packets: bytes, or the egress interface's MTU. */
  pathMtu: number | 'egress' | undefined;
}

function streamSettings(opts: SimulateOptions): StreamSettings {
  const fps = opts.fps === undefined ? undefined : Number(opts.fps);
  if (fps !== undefined && !(fps >= 0.1 && fps <= 1000)) throw new UsageError(`fps "${opts.fps}" is not in 0.1..1000`);
  const maxPacketSize = opts.packetSize === undefined ? undefined : parseNumber(opts.packetSize, 'packet size');
  if (maxPacketSize !== undefined && (maxPacketSize < 576 || maxPacketSize > 9000))
    throw new UsageError(`packet size ${maxPacketSize} is not in 576..9000`);
  const lossRatio = opts.lossRatio === undefined ? 0 : Number(opts.lossRatio);
  if (!(lossRatio >= 0 && lossRatio < 1))
    throw new UsageError(`loss ratio "${opts.lossRatio}" is not in 0..1 (exclusive)`);
  let pathMtu: StreamSettings['pathMtu'];
  if (opts.pathMtu === 'egress') pathMtu = 'egress';
  else if (opts.pathMtu !== undefined) {
    pathMtu = parseNumber(opts.pathMtu, 'path MTU');
    if (pathMtu < 576 || pathMtu > 65_536) throw new UsageError(`path MTU ${pathMtu} is not in 576..65536 or "egress"`);
  }
  return { fps, maxPacketSize, lossRatio, pathMtu };
}

/**
 * The device as the stream sender sees it, with packets above `maxPacketSize` not getting through: test packets
 * larger than that are not fired (so a host's negotiation settles at or below it) and the stream never exceeds it.
 */
function linkLimited(device: GvcpDevice, maxPacketSize: number): StreamingDevice {
  type Listener = (...args: never[]) => void;
  const wrapped = new Map<Listener, (e: { streamChannel: number }) => void>();
  const limited: StreamingDevice = {
    get acquiring() {
      return device.acquiring;
    },
    imageFormat: () => device.imageFormat(),
    acquisitionSettings: () => device.acquisitionSettings(),
    frameDone: () => device.frameDone(),
    chunkSettings: () => device.chunkSettings(),
    frameEvent: (name, e) => device.frameEvent(name, e),
    timestamp: () => device.timestamp(),
    streamChannel: (n?: number) => {
      const ch = device.streamChannel(n);
      return { ...ch, packetSize: Math.min(ch.packetSize, maxPacketSize) };
    },
    on: ((event: string, listener: Listener) => {
      if (event !== 'fireTestPacket') return device.on(event as 'acquisitionStop', listener as () => void);
      const forward = (e: { streamChannel: number }): void => {
        // the device announces the SCPS write before storing the size: look once it has landed
        setImmediate(() => {
          if (device.streamChannel(e.streamChannel).packetSize <= maxPacketSize)
            (listener as (e: { streamChannel: number }) => void)(e);
        });
      };
      wrapped.set(listener, forward);
      return device.on('fireTestPacket', forward);
    }) as StreamingDevice['on'],
    off: (event, listener) => {
      const forward = event === 'fireTestPacket' ? wrapped.get(listener) : undefined;
      if (forward) wrapped.delete(listener);
      return device.off(event as 'acquisitionStop', (forward ?? listener) as () => void);
    },
  };
  return limited;
}

async function startStreaming(device: GvcpDevice, s: StreamSettings, address: string): Promise<GvspStreaming> {
  if (s.fps !== undefined) {
    // AcquisitionFrameRate holds IEEE-754 float bits; set it so the feature reads what the stream does
    const bits = new DataView(new ArrayBuffer(4));
    bits.setFloat32(0, s.fps);
    device.registers.set(FeatureRegister.AcquisitionFrameRate, bits.getUint32(0));
  }
  const options: AttachStreamingOptions = { bindAddress: address };
  if (s.lossRatio > 0) options.loss = { drop: s.lossRatio, onResend: false };
  if (s.pathMtu !== undefined) options.pathMtu = s.pathMtu;
  return attachGvspStreaming(s.maxPacketSize === undefined ? device : linkLimited(device, s.maxPacketSize), options);
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function deviceOptions(opts: SimulateOptions): GvcpDeviceOptions {
  const options: GvcpDeviceOptions = {};
  if (opts.address !== undefined) {
    if (!isIpv4(opts.address)) throw new UsageError(`address "${opts.address}" is not an IPv4 address`);
    options.address = opts.address;
  }
  if (opts.forceipHook !== undefined) {
    if (opts.forceipHook !== 'ip') throw new UsageError(`FORCEIP hook "${opts.forceipHook}" is not one of: ip`);
    if (process.platform !== 'linux') throw new UsageError('--forceip-hook ip needs Linux (iproute2)');
    // Moves the address on the interface that holds it: only meant inside a network namespace.
    options.applyIpConfig = ipRouteForceIpHook();
  }
  options.port = opts.port === undefined ? GVCP_PORT : parseNumber(opts.port, 'port');
  if (options.port > 0xffff) throw new UsageError(`port ${options.port} is not in 0..65535`);
  if (opts.serial !== undefined) {
    if (new TextEncoder().encode(opts.serial).byteLength > 15)
      throw new UsageError('serial number is longer than 15 bytes');
    options.serialNumber = opts.serial;
  }
  if (opts.mac !== undefined) {
    try {
      macToBytes(opts.mac);
    } catch {
      throw new UsageError(`MAC "${opts.mac}" is not like 02:11:22:33:44:55`);
    }
    options.mac = opts.mac;
  }
  if (opts.model !== undefined) {
    if (new TextEncoder().encode(opts.model).byteLength > 31)
      throw new UsageError('model name is longer than 31 bytes');
    options.modelName = opts.model;
  }
  if (opts.pixelFormat !== undefined) {
    if (!(opts.pixelFormat in SimulatedPixelFormat)) {
      throw new UsageError(
        `pixel format "${opts.pixelFormat}" is not one of ${Object.keys(SimulatedPixelFormat).join(', ')}`,
      );
    }
    options.pixelFormat = opts.pixelFormat as keyof typeof SimulatedPixelFormat;
  }
  for (const [key, text] of [
    ['width', opts.width],
    ['height', opts.height],
  ] as const) {
    if (text === undefined) continue;
    const v = parseNumber(text, key);
    if (v < 1 || v > 16_384) throw new UsageError(`${key} ${v} is not in 1..16384`);
    options[key] = v;
    // the default sensor is 1024 x 768; a larger image gets a sensor to match
    if (v > (key === 'width' ? 1024 : 768)) options[key === 'width' ? 'sensorWidth' : 'sensorHeight'] = v;
  }
  return options;
}

/** Most cameras one `--count` starts. */
const MAX_COUNT = 64;

/**
 * Options of camera `i` of `count`: on a loopback address each camera takes the next address (127.0.0.1,
 * 127.0.0.2, ...) on the same port, so Aravis finds them all on 3956; elsewhere the next port (port 0: any free
 * one). A given serial number gets the camera's number appended; without one each derives its own.
 */
function nthCamera(base: GvcpDeviceOptions, i: number, count: number): GvcpDeviceOptions {
  if (count === 1) return base;
  const o: GvcpDeviceOptions = { ...base };
  const address = base.address ?? '0.0.0.0';
  if (isLoopback(address)) {
    const a = ipv4ToU32(address) + i;
    if (a >>> 24 !== 127 || (a & 0xff) === 0xff) throw new UsageError(`${count} cameras from ${address} leave 127/8`);
    o.address = u32ToIpv4(a);
  } else if (base.port !== 0) {
    o.port = (base.port ?? GVCP_PORT) + i;
    if (o.port > 0xffff) throw new UsageError(`${count} cameras from port ${base.port} run past 65535`);
  }
  if (base.serialNumber !== undefined) {
    o.serialNumber = `${base.serialNumber}-${i + 1}`;
    if (new TextEncoder().encode(o.serialNumber).byteLength > 15)
      throw new UsageError(`serial number "${o.serialNumber}" is longer than 15 bytes`);
  }
  return o;
}

/** Registers `cam gige simulate`: a simulated GigE Vision camera (GVCP) that runs until SIGINT / SIGTERM. */
export function registerGigeSimulate(gige: Command): void {
  gige
    .command('simulate')
    .description('run a simulated GigE Vision camera (GVCP on UDP) until stopped with Ctrl-C / SIGTERM')
    .option('--address <ip>', 'address to listen on (default 0.0.0.0: every interface, answers broadcasts)')
    .option('--port <n>', `UDP port (default ${GVCP_PORT}; 0 = any free port)`)
    .option('--serial <s>', 'serial number (at most 15 bytes)')
    .option('--mac <mac>', 'MAC address (default derived from the serial number)')
    .option('--model <name>', 'model name')
    .option('--pixel-format <name>', 'initial PixelFormat (Mono8, Mono16, RGB8Packed, BayerRG8, ...)')
    .option('--width <px>', 'initial image width (default 640)')
    .option('--height <px>', 'initial image height (default 480)')
    .option('--fps <hz>', 'initial AcquisitionFrameRate (default 10)')
    .option('--packet-size <bytes>', 'largest stream packet the link carries (576..9000; default: what the host sets)')
    .option(
      '--loss-ratio <r>',
      'share of stream packets dropped at random, first sends only: resends get through (default 0)',
    )
    .option(
      '--count <n>',
      `cameras in this process (1..${MAX_COUNT}): on 127.0.0.x consecutive addresses, else consecutive ports`,
    )
    .option('--path-mtu <n>', 'drop DoNotFragment packets above n bytes, or "egress": the link MTU to the host')
    .option('--forceip-hook <kind>', '"ip": FORCEIP moves the address with ip addr (inside a netns only)')
    .option('--json', 'print one JSON line per camera with address, port, serial and MAC once listening')
    .action(async (opts: SimulateOptions) => {
      const json = opts.json === true;
      const cameras: { device: GvcpDevice; streaming: GvspStreaming | undefined }[] = [];
      const closeAll = async (): Promise<void> => {
        for (const c of cameras) {
          await c.streaming?.close();
          await c.device.close();
        }
      };
      try {
        const settings = streamSettings(opts);
        const count = opts.count === undefined ? 1 : parseNumber(opts.count, 'count');
        if (count < 1 || count > MAX_COUNT) throw new UsageError(`count ${count} is not in 1..${MAX_COUNT}`);
        const base = deviceOptions(opts);
        if (count > 1 && base.mac !== undefined)
          throw new UsageError('--mac names one camera: leave it out with --count (each derives its own)');
        const stopped = untilStopped();
        for (let i = 0; i < count; i++) {
          const device = new GvcpDevice(nthCamera(base, i, count));
          const camera: (typeof cameras)[number] = { device, streaming: undefined };
          cameras.push(camera);
          const where = await device.listen();
          camera.streaming = await startStreaming(device, settings, where.address);
          announce(device, where, json);
        }
        const signal = await stopped;
        let commands = 0;
        let acks = 0;
        let bad = 0;
        let frames = 0;
        for (const c of cameras) {
          commands += c.device.stats.commandsExecuted;
          acks += c.device.stats.acksSent;
          bad += c.device.stats.badDatagrams;
          frames += c.streaming?.framesSent ?? 0;
        }
        await closeAll();
        if (!json) {
          process.stdout.write(
            `stopped (${signal}): ${commands} commands, ${acks} acks, ${bad} bad datagrams, ${frames} frames streamed\n`,
          );
        }
      } catch (error) {
        await closeAll();
        reportError(error, json);
      }
    });
}

/** Tells where one camera listens: a JSON line, or a sentence and then its control changes. */
function announce(device: GvcpDevice, where: { address: string; port: number }, json: boolean): void {
  const format = device.imageFormat();
  const info = {
    address: where.address,
    port: where.port,
    serial: device.serialNumber,
    mac: device.mac,
    width: format.width,
    height: format.height,
    pixelFormat:
      Object.entries(SimulatedPixelFormat).find(([, v]) => v === format.pixelFormat)?.[0] ??
      `0x${format.pixelFormat.toString(16)}`,
  };
  if (json) {
    // One JSON document, on one line, so a caller can read it as soon as it appears.
    process.stdout.write(`${JSON.stringify({ ok: true, ...info })}\n`);
  } else {
    process.stdout.write(
      `GigE Vision camera simulator listening on ${info.address}:${info.port} (serial ${info.serial}, MAC ${info.mac}), streams ${info.width}x${info.height} ${info.pixelFormat} on AcquisitionStart; Ctrl-C to stop\n`,
    );
    device.on('controlChange', (c) => {
      const who = c.primary ? ` ${c.primary.address}:${c.primary.port} (${c.primary.privilege})` : '';
      process.stdout.write(`control ${c.reason}${who}\n`);
    });
    device.on('forceIp', (c) => process.stdout.write(`FORCEIP: now ${c.ip}/${c.subnetMask} gateway ${c.gateway}\n`));
  }
}
