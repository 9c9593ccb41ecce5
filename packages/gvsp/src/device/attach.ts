import type { ChunkName } from '@cam/gvcp';
import { pixelFormatInfo, StreamChannelRegister, streamChannelRegister, TestPattern } from '@cam/gvcp/codec';
import { egressMtu } from '@cam/net-utils';
import { SCENE_PIXEL_FORMATS, SceneRenderer, type SensorSettings } from '../engine/scene.js';
import { TestPatternRenderer } from '../engine/test-pattern.js';
import { frameChunkData } from './chunks.js';
import { FrameClock } from './frame-clock.js';
import { GvspSender, type GvspSenderStats, type LossOptions } from './sender.js';

/** SFNC TestPattern values: GreyDiagonalRamp is {@link TestPatternRenderer}'s moving ramp; the still ones the scene draws. */
const TEST_PATTERN_DIAGONAL = TestPattern.GreyDiagonalRamp;
const STILL_PATTERNS: Record<number, SensorSettings['testPattern']> = {
  [TestPattern.Black]: 'Black',
  [TestPattern.White]: 'White',
  [TestPattern.GreyHorizontalRamp]: 'GreyHorizontalRamp',
  [TestPattern.GreyVerticalRamp]: 'GreyVerticalRamp',
};

/** A PACKETRESEND as the device hands it over. */
export interface DeviceResendRequest {
  extendedId: boolean;
  streamChannel: number;
  blockId: bigint;
  firstPacketId: number;
  lastPacketId: number;
}

/**
 * What streaming needs from a simulated GVCP device (@cam/gvcp's `GvcpDevice` has it): acquisition and resend
 * events, the image format, the acquisition settings and the stream channel registers.
 */
export interface StreamingDevice {
  on(event: 'acquisitionStart', listener: (e: { mode: number }) => void): unknown;
  on(event: 'acquisitionStop', listener: () => void): unknown;
  on(event: 'packetResend', listener: (cmd: DeviceResendRequest) => void): unknown;
  on(event: 'fireTestPacket', listener: (e: { streamChannel: number }) => void): unknown;
  /** A FrameStart trigger was accepted: one frame is due (while `triggerMode` is on). */
  on(event: 'frameTrigger', listener: (e: { timestamp: bigint }) => void): unknown;
  off(
    event: 'acquisitionStart' | 'acquisitionStop' | 'packetResend' | 'fireTestPacket' | 'frameTrigger',
    listener: (...args: never[]) => void,
  ): unknown;
  readonly acquiring: boolean;
  /** The register space, when the device has one: SCSP (stream channel source port) is set to the sender's port. */
  readonly registers?: { set(address: number, value: number): void };
  imageFormat(): {
    width: number;
    height: number;
    offsetX: number;
    offsetY: number;
    pixelFormat: number;
    /** The sensor the image is a region of (default: the image itself). */
    sensorWidth?: number;
    sensorHeight?: number;
  };
  /**
   * Acquisition mode (0 continuous, 1 single frame) and frame rate; continuous at `fps` when absent. With
   * `triggerMode` on, frames start only on 'frameTrigger'; `exposureTime` (us) bounds the free-running rate.
   */
  acquisitionSettings?(): {
    mode: number;
    frameRate: number;
    triggerMode?: boolean;
    exposureTime?: number;
    gain?: number;
    blackLevel?: number;
    reverseX?: boolean;
    reverseY?: boolean;
    /** SFNC TestPattern: 0 Off (the scene), 1 Black, 2 White, 3 GreyHorizontalRamp, 4 GreyVerticalRamp, 5 GreyDiagonalRamp (moving). */
    testPattern?: number;
  };
  /**
   * Called after each frame; the device counts it against its acquisition mode and ends a SingleFrame or
   * MultiFrame acquisition itself (returns false then). Without it, a SingleFrame acquisition sends one frame.
   */
  frameDone?(): boolean;
  /** ChunkModeActive and the enabled chunks: frames then carry them after the image (GigE Vision chunk layout). */
  chunkSettings?(): { active: boolean; enabled: ChunkName[] };
  /** A frame began (FrameStart) or its exposure ended (ExposureEnd): the device sends the event when enabled. */
  frameEvent?(name: 'FrameStart' | 'ExposureEnd', e: { frameId: bigint; timestamp: bigint }): unknown;
  streamChannel(n?: number): {
    hostPort: number;
    hostAddress: string;
    packetSize: number;
    packetDelay: number;
    extendedIds: boolean;
    /** SCPS DoNotFragment. */
    doNotFragment?: boolean;
  };
  timestamp(): bigint;
  /** The local address stream packets toward `host` leave from (`0.0.0.0`: the kernel's choice). */
  streamSourceAddress?(host: string): string;
}

export interface AttachStreamingOptions {
  /** Stream channel to serve (default 0). */
  channel?: number;
  /** Frame rate when the device's AcquisitionFrameRate is 0 or absent (default 10). */
  fps?: number;
  /** Override the device's frame rate. */
  forceFps?: number;
  /** Address the stream socket binds (default 0.0.0.0). */
  bindAddress?: string;
  /** Blocks kept for PACKETRESEND (default 32). */
  retainBlocks?: number;
  loss?: LossOptions;
  /** Payload bandwidth cap in bytes per second (default: none, SCPD paces). */
  bandwidth?: number;
  /**
   * Path MTU of the emulated link (IP datagram bytes). A packet larger than it with SCPS DoNotFragment set is not
   * delivered (as a router drops it), so a host's packet-size negotiation settles at or below it; without
   * DoNotFragment it would be fragmented on the way and is delivered. `'egress'`: the MTU of the interface that
   * reaches the stream's host (read from the system, `/sys/class/net/IF/mtu` on Linux), as a camera knows its
   * link; the kernel would otherwise fragment an oversized datagram silently. Default: no limit.
   */
  pathMtu?: number | 'egress';
}

/** A running streaming attachment; `close()` detaches it from the device. */
export interface GvspStreaming extends AsyncDisposable {
  readonly sender: GvspSender;
  /** Frames sent since the attachment. */
  readonly framesSent: number;
  readonly streaming: boolean;
  stats(): GvspSenderStats & {
    frames: number;
    triggersDropped: number;
    /** Test packets and frames the emulated path MTU kept from arriving (DoNotFragment, larger than pathMtu). */
    testPacketsNotDelivered: number;
    framesNotDelivered: number;
  };
  close(): Promise<void>;
}

/**
 * Makes a simulated {@link StreamingDevice} (a `GvcpDevice`) stream: on AcquisitionStart it sends a moving test pattern at the
 * configured size, pixel format and frame rate to the stream channel's SCDA:SCP, answers PACKETRESEND from its
 * kept blocks and fires test packets when SCPS bit 31 is written.
 */
export async function attachGvspStreaming(
  device: StreamingDevice,
  options: AttachStreamingOptions = {},
): Promise<GvspStreaming> {
  const channel = options.channel ?? 0;
  const sender = await GvspSender.open({
    bindAddress: options.bindAddress ?? '0.0.0.0',
    retainBlocks: options.retainBlocks ?? 32,
    ...(options.loss ? { loss: options.loss } : {}),
    ...(options.bandwidth ? { bandwidth: options.bandwidth } : {}),
    streamChannel: channel,
  });
  // SCSP: the UDP port every stream packet of this channel leaves from, so a host can accept only that port
  device.registers?.set(streamChannelRegister(channel, StreamChannelRegister.SCSP), sender.socket.address().port);
  let frames = 0;
  let running = false;
  let generation = 0;
  let loop: Promise<void> = Promise.resolve();

  /**
   * Bound to every address, the stream leaves from the device's address its host reached (as GVCP answers do), not
   * the kernel's choice for the route back: hosts accept stream packets from the camera's address alone.
   */
  const bindSource = async (): Promise<void> => {
    if ((options.bindAddress ?? '0.0.0.0') !== '0.0.0.0' || !device.streamSourceAddress) return;
    const ch = device.streamChannel(channel);
    if (ch.hostPort === 0) return;
    await sender.bindSource(device.streamSourceAddress(ch.hostAddress));
    device.registers?.set(streamChannelRegister(channel, StreamChannelRegister.SCSP), sender.socket.address().port);
  };

  const configure = (): boolean => {
    const ch = device.streamChannel(channel);
    if (ch.hostPort === 0) return false;
    sender.setDestination(ch.hostAddress, ch.hostPort);
    sender.packetSize = ch.packetSize >= 576 ? ch.packetSize : 1500;
    sender.extendedId = ch.extendedIds;
    // SCPD counts timestamp ticks; this device's timestamp ticks in ns
    if (!options.bandwidth) sender.packetDelayUs = ch.packetDelay / 1000;
    return true;
  };

  const clock = new FrameClock();
  const timing = () => {
    const settings = device.acquisitionSettings?.() ?? { mode: 0, frameRate: 0 };
    const fps = options.forceFps ?? (settings.frameRate > 0 ? settings.frameRate : (options.fps ?? 10));
    // a frame cannot be shorter than its exposure (unless the caller forces the rate)
    const exposureMs = options.forceFps === undefined ? (settings.exposureTime ?? 0) / 1000 : 0;
    return { triggerMode: settings.triggerMode === true, periodMs: Math.max(1000 / fps, exposureMs) };
  };

  const scene = new SceneRenderer();
  let sceneBuf = new Uint8Array(0);
  /** The picture of frame `n`: the scene through the sensor settings, or a test pattern. */
  const picture = (n: number, fmt: ReturnType<StreamingDevice['imageFormat']>): Uint8Array | undefined => {
    const a = device.acquisitionSettings?.();
    const testPattern = a?.testPattern ?? TEST_PATTERN_DIAGONAL;
    const name = pixelFormatInfo(fmt.pixelFormat)?.name;
    if (
      testPattern === TEST_PATTERN_DIAGONAL ||
      !(SCENE_PIXEL_FORMATS as readonly (string | undefined)[]).includes(name)
    )
      return undefined;
    const s: SensorSettings = {
      sensorWidth: fmt.sensorWidth ?? fmt.offsetX + fmt.width,
      sensorHeight: fmt.sensorHeight ?? fmt.offsetY + fmt.height,
      width: fmt.width,
      height: fmt.height,
      offsetX: fmt.offsetX,
      offsetY: fmt.offsetY,
      pixelFormat: fmt.pixelFormat,
      exposureTime: a?.exposureTime ?? 10_000,
      gain: a?.gain ?? 0,
      blackLevel: a?.blackLevel ?? 0,
      reverseX: a?.reverseX ?? false,
      reverseY: a?.reverseY ?? false,
    };
    const still = STILL_PATTERNS[testPattern];
    if (still) s.testPattern = still;
    const size = SceneRenderer.byteSize(s);
    if (sceneBuf.byteLength < size) sceneBuf = new Uint8Array(size);
    return scene.render(s, n, Date.now(), sceneBuf);
  };

  /** The emulated link (pathMtu): packets larger than it with DoNotFragment set never arrive. */
  let egress = { host: '', mtu: undefined as number | undefined, at: 0 };
  const pathMtu = (host: string): number | undefined => {
    if (options.pathMtu !== 'egress') return options.pathMtu;
    // Read again at most once a second per host: a link's MTU can change, frames must not each read a file.
    const now = Date.now();
    if (egress.host !== host || now - egress.at > 1000) egress = { host, mtu: egressMtu(host), at: now };
    return egress.mtu;
  };
  const blockedByPathMtu = (): boolean => {
    if (options.pathMtu === undefined) return false;
    const ch = device.streamChannel(channel);
    if (ch.doNotFragment !== true) return false;
    const mtu = pathMtu(ch.hostAddress);
    return mtu !== undefined && ch.packetSize > mtu;
  };

  const run = async (gen: number, mode: number): Promise<void> => {
    let pattern: TestPatternRenderer | undefined;
    let buf: Uint8Array | undefined;
    for (let n = 0; running && gen === generation; n++) {
      const frameStart = await clock.next(timing);
      if (!frameStart || !running || gen !== generation) break;
      if (!configure()) break;
      await bindSource().catch(() => {});
      const fmt = device.imageFormat();
      let data = picture(n, fmt);
      if (!data) {
        if (
          !pattern ||
          pattern.width !== fmt.width ||
          pattern.height !== fmt.height ||
          pattern.pixelFormat !== fmt.pixelFormat
        ) {
          pattern = new TestPatternRenderer({ width: fmt.width, height: fmt.height, pixelFormat: fmt.pixelFormat });
          buf = new Uint8Array(pattern.byteSize);
        }
        data = pattern.render(n, buf);
      }
      const timestamp = frameStart.timestamp ?? device.timestamp();
      const chunks = device.chunkSettings?.();
      const a = device.acquisitionSettings?.();
      // the frame's events: it starts now, its exposure ends ExposureTime later (1 GHz ticks)
      const frameId = sender.nextBlockId;
      device.frameEvent?.('FrameStart', { frameId, timestamp });
      device.frameEvent?.('ExposureEnd', {
        frameId,
        timestamp: timestamp + BigInt(Math.round((a?.exposureTime ?? 0) * 1000)),
      });
      try {
        if (blockedByPathMtu()) framesNotDelivered++;
        else
          await sender.sendImage({
            pixelFormat: fmt.pixelFormat,
            width: fmt.width,
            height: fmt.height,
            offsetX: fmt.offsetX,
            offsetY: fmt.offsetY,
            data,
            timestamp,
            ...(chunks?.active
              ? {
                  chunkData: frameChunkData(data.byteLength, chunks.enabled, {
                    timestamp,
                    frameId,
                    exposureTime: a?.exposureTime ?? 0,
                    gain: a?.gain ?? 0,
                  }),
                }
              : {}),
          });
        frames++;
      } catch {
        break;
      }
      if (device.frameDone) {
        if (!device.frameDone()) break;
      } else if (mode === 1) {
        break; // SingleFrame
      }
    }
  };

  const onStart = ({ mode }: { mode: number }): void => {
    running = true;
    clock.reset();
    const gen = ++generation;
    loop = loop.then(() => run(gen, mode)).catch(() => {});
  };
  const onStop = (): void => {
    running = false;
    generation++;
    clock.reset();
  };
  const onTrigger = ({ timestamp }: { timestamp: bigint }): void => {
    if (running) clock.trigger(timestamp);
  };
  const onResend = (cmd: DeviceResendRequest): void => {
    if (cmd.streamChannel !== channel) return;
    configure();
    sender.handlePacketResend(cmd);
  };
  const onTest = ({ streamChannel }: { streamChannel: number }): void => {
    if (streamChannel !== channel) return;
    // the device announces the write before it stores the new SCPS size: read it once the write has landed
    setImmediate(async () => {
      if (closed || !configure()) return;
      await bindSource().catch(() => {});
      if (closed) return;
      const ch = device.streamChannel(channel);
      if (blockedByPathMtu()) {
        testPacketsNotDelivered++;
        return;
      }
      sender.sendTestPacket(ch.packetSize);
    });
  };
  let closed = false;
  let testPacketsNotDelivered = 0;
  let framesNotDelivered = 0;
  device.on('acquisitionStart', onStart);
  device.on('acquisitionStop', onStop);
  device.on('packetResend', onResend);
  device.on('fireTestPacket', onTest);
  device.on('frameTrigger', onTrigger);
  if (device.acquiring) onStart({ mode: device.acquisitionSettings?.().mode ?? 0 });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    device.off('acquisitionStart', onStart);
    device.off('acquisitionStop', onStop);
    device.off('packetResend', onResend);
    device.off('fireTestPacket', onTest);
    device.off('frameTrigger', onTrigger);
    onStop();
    await loop;
    await sender.close();
  };
  return {
    sender,
    get framesSent() {
      return frames;
    },
    get streaming() {
      return running;
    },
    stats: () => ({
      ...sender.stats(),
      frames,
      triggersDropped: clock.dropped,
      testPacketsNotDelivered,
      framesNotDelivered,
    }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
