import { NodeMap, type NodeMapOptions, type Port, type PortAccessOptions } from '@cam/genicam';
import { ValueOutOfRangeError } from '@cam/net-utils';
import {
  type ControlOptions,
  type GvcpCallOptions,
  GvcpClient,
  type GvcpClientOptions,
  type RegisterAccess,
} from './client.js';
import { type FetchGenicamOptions, fetchGenicamXml, type GenicamFile } from './genicam.js';

function toAddress(address: bigint | number, length: number): number {
  const a = typeof address === 'bigint' ? address : BigInt(address);
  if (a < 0n || a + BigInt(length) > 0x1_0000_0000n) {
    throw new ValueOutOfRangeError(
      'address',
      `0x${a.toString(16)}+${length} is outside the 32-bit GigE Vision address space`,
    );
  }
  return Number(a);
}

function callOptions(opts: PortAccessOptions | undefined): GvcpCallOptions {
  const out: GvcpCallOptions = {};
  if (opts?.signal !== undefined) out.signal = opts.signal;
  if (opts?.timeoutMs !== undefined) out.timeoutMs = opts.timeoutMs;
  return out;
}

/**
 * The GenICam `Port` of a GigE Vision device: 4-byte register accesses (legacy endianness, `register` set) go
 * through READREG / WRITEREG, everything else through READMEM / WRITEMEM. Writes that are not whole aligned
 * 32-bit words are completed by reading the words they touch first (WRITEMEM moves whole words only).
 */
export class GvcpPort implements Port {
  constructor(readonly device: RegisterAccess) {}

  async read(address: bigint | number, length: number, opts?: PortAccessOptions): Promise<Uint8Array> {
    const a = toAddress(address, length);
    const o = callOptions(opts);
    if (opts?.register === true && length === 4 && a % 4 === 0) {
      const v = await this.device.readRegister(a, o);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, v);
      return out;
    }
    return this.device.readMemory(a, length, o);
  }

  async write(address: bigint | number, data: Uint8Array, opts?: PortAccessOptions): Promise<void> {
    const a = toAddress(address, data.byteLength);
    const o = callOptions(opts);
    if (data.byteLength === 0) return;
    if (opts?.register === true && data.byteLength === 4 && a % 4 === 0) {
      await this.device.writeRegister(a, new DataView(data.buffer, data.byteOffset, 4).getUint32(0), o);
      return;
    }
    if (a % 4 === 0 && data.byteLength % 4 === 0) {
      await this.device.writeMemory(a, data, o);
      return;
    }
    const start = a - (a % 4);
    const end = Math.ceil((a + data.byteLength) / 4) * 4;
    const words = await this.device.readMemory(start, end - start, o);
    words.set(data, a - start);
    await this.device.writeMemory(start, words, o);
  }
}

/** Options of {@link connectCamera}. */
export interface ConnectCameraOptions extends GvcpClientOptions, FetchGenicamOptions {
  /** Take control privilege (default `{ mode: 'control' }`); `false` opens the camera read-only (monitor). */
  control?: ControlOptions | false;
  /** Options handed to `NodeMap.load`. */
  nodeMap?: NodeMapOptions;
}

/** A connected camera: the GVCP client, its GenICam node map, and the XML it came from. */
export interface Camera extends AsyncDisposable {
  readonly client: GvcpClient;
  readonly nodeMap: NodeMap;
  readonly genicam: GenicamFile;
  /** Releases control and closes the client. */
  close(): Promise<void>;
}

/**
 * Opens a GigE Vision camera: connects the control channel, takes control (unless `control: false`), downloads the
 * GenICam XML and loads it into a node map whose Port is this client. `await using cam = await connectCamera(ip)`.
 */
export async function connectCamera(address: string, options: ConnectCameraOptions = {}): Promise<Camera> {
  const client = await GvcpClient.connect(address, options);
  try {
    if (options.control !== false) await client.takeControl(options.control ?? {});
    const genicam = await fetchGenicamXml(client, options);
    const nodeMap = await NodeMap.load(genicam.xml, new GvcpPort(client), options.nodeMap ?? {});
    const close = (): Promise<void> => client.close();
    return { client, nodeMap, genicam, close, [Symbol.asyncDispose]: close };
  } catch (e) {
    await client.close();
    throw e;
  }
}
