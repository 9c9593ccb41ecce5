import { ipv4ToU32, u32ToIpv4, ValueOutOfRangeError } from '@cam/net-utils/wire';

/**
 * Addresses of the five SC_GVMP registers in the device's GVCP register space. Every register is a 32-bit GVCP
 * register (GVCP reads and writes whole aligned 32-bit words); narrower values sit in its low bits.
 */
export interface ScGvmpRegisterMap {
  /** MCDA: host IPv4 address, the whole 32 bits, network order (as the note says). */
  mcda: number;
  /** MCP: host TCP port in bits 0..15 (bits 16..31 zero), like the GigE Vision MCP layout. */
  mcp: number;
  /** STREAM_START: 1 start, 0 stop (bit 0; other values are refused). */
  streamStart: number;
  /** STREAM_STATE: 0 Idle, 1 Connecting, 2 Streaming, 3 Error (read-only). */
  streamState: number;
  /** ERR_CODE: last error, bits 0..15 (read-only). */
  errCode: number;
}

/**
 * Default base, in the manufacturer-specific register space (GigE Vision reserves everything below 0xA000 for the
 * bootstrap registers, including the UDP message channel at 0x0B00/0x0B10). Not 0xA000 itself: cameras, and
 * @cam/gvcp's GvcpDevice, put their GenICam feature registers at the start of that space; SC_GVMP takes its own
 * 4 KiB page at 0xB000.
 */
export const SC_GVMP_REGISTER_BASE = 0xb000;

/** The default layout at `base`: MCDA, MCP, STREAM_START, STREAM_STATE, ERR_CODE at +0x0, +0x4, +0x8, +0xC, +0x10. */
export function registerMapAt(base: number): ScGvmpRegisterMap {
  return resolveRegisterMap({
    mcda: base,
    mcp: base + 0x4,
    streamStart: base + 0x8,
    streamState: base + 0xc,
    errCode: base + 0x10,
  });
}

/** The default map: MCDA 0xB000, MCP 0xB004, STREAM_START 0xB008, STREAM_STATE 0xB00C, ERR_CODE 0xB010. */
export const DEFAULT_REGISTER_MAP: Readonly<ScGvmpRegisterMap> = Object.freeze(registerMapAt(SC_GVMP_REGISTER_BASE));

/**
 * Completes a partial map with the defaults and checks it: every address a 4-byte aligned u32, all distinct.
 * Throws {@link ValueOutOfRangeError} otherwise.
 */
export function resolveRegisterMap(map: Partial<ScGvmpRegisterMap> = {}): ScGvmpRegisterMap {
  const out: ScGvmpRegisterMap = {
    mcda: map.mcda ?? SC_GVMP_REGISTER_BASE,
    mcp: map.mcp ?? SC_GVMP_REGISTER_BASE + 0x4,
    streamStart: map.streamStart ?? SC_GVMP_REGISTER_BASE + 0x8,
    streamState: map.streamState ?? SC_GVMP_REGISTER_BASE + 0xc,
    errCode: map.errCode ?? SC_GVMP_REGISTER_BASE + 0x10,
  };
  const seen = new Map<number, string>();
  for (const [name, address] of Object.entries(out)) {
    if (!Number.isSafeInteger(address) || address < 0 || address > 0xfffffffc || address % 4 !== 0) {
      throw new ValueOutOfRangeError(`registers.${name}`, `${address} is not a 4-byte aligned 32-bit register address`);
    }
    const other = seen.get(address);
    if (other !== undefined) {
      throw new ValueOutOfRangeError(`registers.${name}`, `0x${address.toString(16)} is already used by ${other}`);
    }
    seen.set(address, name);
  }
  return out;
}

/** MCDA register value for an IPv4 address (network order: 192.168.1.2 -> 0xC0A80102). */
export function mcdaValue(address: string): number {
  return ipv4ToU32(address);
}

/** IPv4 address held by an MCDA value. */
export function mcdaAddress(value: number): string {
  return u32ToIpv4(value >>> 0);
}

/** MCP register value for a port (bits 0..15). */
export function mcpValue(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 0xffff)
    throw new ValueOutOfRangeError('MCP', `${port} is not a TCP port`);
  return port;
}
