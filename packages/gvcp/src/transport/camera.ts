import { NodeMap, type NodeMapOptions, type Port, type PortAccessOptions, portFromRegisterAccess } from '@cam/genicam';
import { ValueOutOfRangeError } from '@cam/net-utils';
import { type ControlOptions, GvcpClient, type GvcpClientOptions, type RegisterAccess } from './client.js';
import { type FetchGenicamOptions, fetchGenicamXml, type GenicamFile } from './genicam.js';

/**
 * The GenICam `Port` of a GigE Vision device: 4-byte register accesses (legacy endianness, `register` set) go
 * through READREG / WRITEREG, everything else through READMEM / WRITEMEM. Writes that are not whole aligned
 * 32-bit words are completed by reading the words they touch first (WRITEMEM moves whole words only).
 *
 * The one implementation is `@cam/genicam`'s `portFromRegisterAccess` (it lives there because genicam cannot
 * depend on gvcp); this class is the GVCP-facing name for it and also takes `number` addresses.
 */
export class GvcpPort implements Port {
  readonly #port: Port;

  constructor(readonly device: RegisterAccess) {
    this.#port = portFromRegisterAccess(device);
  }

  async read(address: bigint | number, length: number, opts?: PortAccessOptions): Promise<Uint8Array> {
    return this.#port.read(toBigAddress(address), length, opts);
  }

  async write(address: bigint | number, data: Uint8Array, opts?: PortAccessOptions): Promise<void> {
    return this.#port.write(toBigAddress(address), data, opts);
  }
}

function toBigAddress(address: bigint | number): bigint {
  if (typeof address === 'bigint') return address;
  if (!Number.isSafeInteger(address)) throw new ValueOutOfRangeError('address', `${address} is not an integer address`);
  return BigInt(address);
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
