import type { Port } from '@cam/genicam';
import { GvcpPort } from '@cam/gvcp';
import { ScpsBits, StreamChannelRegister, streamChannelRegister } from '@cam/gvcp/codec';
import { type CallOptions, interfaceFor, ipv4ToU32, ProtocolError, ValueOutOfRangeError } from '@cam/net-utils';
import type { GvspFrame } from '../engine/frame.js';
import type { GvspReceiverOptions, ReceiveEngineReport } from './engine-host.js';
import { GvspReceiver, type GvspReceiverStats } from './receiver.js';

/** Register access to the camera (a GvcpClient satisfies it). */
export interface StreamRegisterAccess {
  readRegister(address: number, options?: CallOptions): Promise<number>;
  writeRegister(address: number, value: number, options?: CallOptions): Promise<void>;
  /** The camera's IP address (GvcpClient has it). */
  readonly address?: string;
}

/** The part of a GenICam node map streaming needs (@cam/genicam's NodeMap satisfies it). */
export interface StreamNodeMap {
  execute(name: string, options?: CallOptions): Promise<void>;
  getInteger?(name: string, options?: CallOptions): Promise<bigint>;
}

export interface OpenStreamOptions
  extends Omit<GvspReceiverOptions, 'payloadSize' | 'device' | 'packetSize'>,
    CallOptions {
  /** Camera IP (default `camera.address`). */
  deviceAddress?: string;
  /** Camera GVCP port, where PACKETRESEND goes (default 3956). */
  gvcpPort?: number;
  /** Stream channel (default 0). */
  channel?: number;
  /** Address written to SCDA (default: this host's interface on the camera's subnet). */
  hostAddress?: string;
  /** Largest packet size to use (default 1500); negotiated down with test packets unless `negotiatePacketSize` is false. */
  packetSize?: number;
  negotiatePacketSize?: boolean;
  /** SCPD value (inter-packet delay in timestamp ticks), written when given. */
  packetDelay?: number;
  /** Bytes per frame (default: the node map's `PayloadSize`). */
  payloadSize?: number;
  /** Starts/stops acquisition with `AcquisitionStart` / `AcquisitionStop`. */
  nodeMap?: StreamNodeMap;
  /** Used instead of the node map when given. */
  startAcquisition?: () => Promise<void>;
  stopAcquisition?: () => Promise<void>;
}

/** An open stream: a receiver bound to the camera's stream channel, acquisition running. */
export interface GvspStream extends AsyncDisposable {
  readonly receiver: GvspReceiver;
  /** Which receive engine runs (`native` when @cam/gvsp-native loads, unless `engine: 'js'`), and why. */
  readonly engine: ReceiveEngineReport;
  readonly packetSize: number;
  /** False when the camera sent no test packet (the packet size was then used as asked, unverified). */
  readonly packetSizeVerified: boolean;
  readonly hostAddress: string;
  readonly port: number;
  frames(options?: { signal?: AbortSignal; timeoutMs?: number }): AsyncGenerator<GvspFrame, void, undefined>;
  nextFrame(options?: CallOptions): Promise<GvspFrame | undefined>;
  stats(): GvspReceiverStats;
  /** Stops acquisition, clears SCP, closes the receiver. */
  close(): Promise<void>;
}

const MIN_PACKET = 576;

/**
 * Configures stream channel `channel` of a camera (SCDA, SCP, packet size found with test packets, SCPD) to a
 * new {@link GvspReceiver}, and starts acquisition. The caller must hold control of the camera.
 */
export async function openStream(camera: StreamRegisterAccess, options: OpenStreamOptions = {}): Promise<GvspStream> {
  const deviceAddress = options.deviceAddress ?? camera.address;
  if (!deviceAddress)
    throw new ValueOutOfRangeError('deviceAddress', 'the camera address is unknown; pass deviceAddress');
  const channel = options.channel ?? 0;
  const base = streamChannelRegister(channel, 0);
  const call: CallOptions = { signal: options.signal, timeoutMs: options.timeoutMs };
  const hostAddress = options.hostAddress ?? interfaceFor(deviceAddress)?.address;
  if (!hostAddress) {
    throw new ValueOutOfRangeError(
      'hostAddress',
      `no local interface is on ${deviceAddress}'s subnet; pass hostAddress`,
    );
  }
  let payloadSize = options.payloadSize;
  if (payloadSize === undefined && options.nodeMap?.getInteger) {
    payloadSize = Number(await options.nodeMap.getInteger('PayloadSize', call));
  }
  if (payloadSize === undefined || payloadSize <= 0) {
    throw new ValueOutOfRangeError('payloadSize', 'unknown: pass payloadSize or a node map with PayloadSize');
  }
  const wanted = options.packetSize ?? 1500;
  // SCSP, the source port of the channel's packets (optional in GigE Vision: 0 or an error when the camera does not
  // say): with it the receiver accepts that port alone, so no other process on the camera's host can feed it
  let sourcePort = options.sourcePort;
  if (sourcePort === undefined && options.sourceAddress !== 'any') {
    const scsp = await camera.readRegister(base + StreamChannelRegister.SCSP, call).catch(() => 0);
    if ((scsp & 0xffff) !== 0) sourcePort = scsp & 0xffff;
  }
  const receiver = await GvspReceiver.open({
    ...options,
    ...(sourcePort !== undefined ? { sourcePort } : {}),
    payloadSize,
    address: options.address ?? (hostAddress === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0'),
    device: { address: deviceAddress, port: options.gvcpPort ?? 3956 },
    streamChannel: channel,
  });
  try {
    await camera.writeRegister(base + StreamChannelRegister.SCDA, ipv4ToU32(hostAddress), call);
    await camera.writeRegister(base + StreamChannelRegister.SCP, receiver.port, call);
    let packetSize = wanted;
    let verified = false;
    if (options.negotiatePacketSize ?? true) {
      const fire = async (size: number): Promise<boolean> => {
        const wait = receiver.waitForTestPacket(size, 200);
        // DoNotFragment: a size the path cannot carry whole must fail the probe, not arrive in fragments
        await camera.writeRegister(
          base + StreamChannelRegister.SCPS,
          (ScpsBits.FIRE_TEST_PACKET | ScpsBits.DO_NOT_FRAGMENT | size) >>> 0,
          call,
        );
        return wait;
      };
      if (await fire(wanted)) verified = true;
      else if (await fire(MIN_PACKET)) {
        // bisect between the smallest size that got through and the first that did not
        let lo = MIN_PACKET;
        let hi = wanted;
        while (hi - lo > 32) {
          const mid = (lo + hi) >> 1;
          if (await fire(mid)) lo = mid;
          else hi = mid;
        }
        packetSize = lo;
        verified = true;
      }
    }
    await camera.writeRegister(base + StreamChannelRegister.SCPS, packetSize, call);
    const granted = (await camera.readRegister(base + StreamChannelRegister.SCPS, call)) & 0xffff;
    if (granted >= MIN_PACKET && granted !== packetSize) packetSize = granted;
    receiver.setPacketSize(packetSize);
    if (options.packetDelay !== undefined) {
      await camera.writeRegister(base + StreamChannelRegister.SCPD, options.packetDelay, call);
    }
    if (options.startAcquisition) await options.startAcquisition();
    else if (options.nodeMap) await options.nodeMap.execute('AcquisitionStart', call);
    else throw new ValueOutOfRangeError('nodeMap', 'pass a node map or startAcquisition to start the camera');
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      const errors: unknown[] = [];
      try {
        if (options.stopAcquisition) await options.stopAcquisition();
        else await options.nodeMap?.execute('AcquisitionStop', call);
      } catch (e) {
        errors.push(e);
      }
      try {
        await camera.writeRegister(base + StreamChannelRegister.SCP, 0, call);
      } catch (e) {
        errors.push(e);
      }
      await receiver.close();
      if (errors.length > 0) {
        throw new ProtocolError(`stopping the stream failed: ${String((errors[0] as Error)?.message ?? errors[0])}`);
      }
    };
    return {
      receiver,
      engine: receiver.engine,
      packetSize,
      packetSizeVerified: verified,
      hostAddress,
      port: receiver.port,
      frames: (o) => receiver.frames(o),
      nextFrame: (o) => receiver.nextFrame(o),
      stats: () => receiver.stats(),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await receiver.close();
    throw e;
  }
}

/** Register and memory access (a GvcpClient has it). */
export interface MemoryAccess extends StreamRegisterAccess {
  readMemory(address: number, length: number, options?: CallOptions): Promise<Uint8Array>;
  writeMemory(address: number, data: Uint8Array, options?: CallOptions): Promise<void>;
}

/**
 * A GenICam port over GVCP register and memory access.
 * @deprecated use `new GvcpPort(client)` from `@cam/gvcp` (or `connectCamera`); this is that same Port. Like it,
 * 4-byte accesses use READREG/WRITEREG only when the node map asks for register access (legacy schema < 1.1).
 */
export function gvcpNodeMapPort(access: MemoryAccess): Port {
  return new GvcpPort(access);
}
