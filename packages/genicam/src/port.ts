import { type CallOptions, ValueOutOfRangeError } from '@cam/net-utils/wire';

/**
 * Options the node map passes to every {@link Port} call.
 *
 * `register` is set for GenICam schema < 1.1 ("legacy endianness", GenICam standard appendix on GigE Vision
 * endianness): a 4-byte access is then a 32-bit device register access (GVCP READREG / WRITEREG) rather than a
 * memory block access (READMEM / WRITEMEM). The bytes are big-endian in both cases. A port that has no register
 * command may ignore the flag.
 */
export interface PortAccessOptions extends CallOptions {
  register?: boolean | undefined;
}

/**
 * Byte access to a device's register space: what a GenICam `Port` node reads and writes through.
 *
 * Addresses are `bigint` because the GenApi address space is 64-bit (USB3 Vision and GenCP use addresses above
 * 2^53, where `number` silently loses bits); the node map always passes a non-negative bigint below 2^64. An
 * implementation for a 32-bit address space (GigE Vision) checks the range and converts with `Number(address)`.
 * Implementations may declare the parameter as `bigint | number`. `length` is a `number` because it is a small,
 * bounded byte count (never above {@link NodeMapOptions.maxRegisterLength}).
 *
 * `read` must resolve with exactly `length` bytes; the node map treats anything else as an error. Rejections
 * should be typed `@cam/net-utils` errors (TimeoutError, ProtocolError, AbortError, ...).
 */
export interface Port {
  read(address: bigint, length: number, opts?: PortAccessOptions): Promise<Uint8Array>;
  write(address: bigint, data: Uint8Array, opts?: PortAccessOptions): Promise<void>;
}

/** One recorded access of a {@link MemoryPort}. */
export interface PortAccess {
  readonly op: 'read' | 'write';
  readonly address: bigint;
  readonly length: number;
  readonly register: boolean;
}

/**
 * A Port over an in-memory byte array starting at address `base`: for tests, for simulated devices and for reading
 * a node map offline. Accesses outside the array reject with ValueOutOfRangeError. Records every access in `log`
 * (bounded to the last `maxLog` entries) so tests can check caching.
 */
export class MemoryPort implements Port {
  readonly memory: Uint8Array;
  readonly base: bigint;
  readonly log: PortAccess[] = [];
  maxLog = 10_000;
  /** Counts of reads and writes since construction. */
  reads = 0;
  writes = 0;

  constructor(size: number | Uint8Array, base = 0n) {
    this.memory = typeof size === 'number' ? new Uint8Array(size) : size;
    this.base = base;
  }

  private offset(address: bigint, length: number): number {
    const off = address - this.base;
    if (off < 0n || off + BigInt(length) > BigInt(this.memory.byteLength) || length < 0) {
      throw new ValueOutOfRangeError(
        'address',
        `0x${address.toString(16)}+${length} is outside the memory 0x${this.base.toString(16)}+${this.memory.byteLength}`,
      );
    }
    return Number(off);
  }

  private record(op: 'read' | 'write', address: bigint, length: number, opts?: PortAccessOptions): void {
    if (op === 'read') this.reads++;
    else this.writes++;
    this.log.push({ op, address, length, register: opts?.register === true });
    if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog);
  }

  async read(address: bigint, length: number, opts?: PortAccessOptions): Promise<Uint8Array> {
    opts?.signal?.throwIfAborted();
    const off = this.offset(address, length);
    this.record('read', address, length, opts);
    return this.memory.slice(off, off + length);
  }

  async write(address: bigint, data: Uint8Array, opts?: PortAccessOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const off = this.offset(address, data.byteLength);
    this.record('write', address, data.byteLength, opts);
    this.memory.set(data, off);
  }

  /** Big-endian 32-bit helpers for tests and simulators. */
  getUint32(address: bigint | number): number {
    const off = this.offset(BigInt(address), 4);
    return new DataView(this.memory.buffer, this.memory.byteOffset + off, 4).getUint32(0, false);
  }

  setUint32(address: bigint | number, value: number): void {
    const off = this.offset(BigInt(address), 4);
    new DataView(this.memory.buffer, this.memory.byteOffset + off, 4).setUint32(0, value >>> 0, false);
  }
}

/**
 * 32-bit register and memory access as GigE Vision (GVCP) offers it: READREG / WRITEREG of one big-endian 32-bit
 * value, READMEM / WRITEMEM of byte blocks. `@cam/gvcp`'s `GvcpClient` has exactly these methods.
 */
export interface RegisterMemoryAccess {
  readRegister(address: number, options?: CallOptions): Promise<number>;
  writeRegister(address: number, value: number, options?: CallOptions): Promise<void>;
  readMemory(address: number, length: number, options?: CallOptions): Promise<Uint8Array>;
  writeMemory(address: number, data: Uint8Array, options?: CallOptions): Promise<void>;
}

/**
 * A {@link Port} over 32-bit register / memory access (a GVCP client):
 * - `register: true` accesses of 4 aligned bytes (legacy schema < 1.1) use readRegister / writeRegister;
 * - other reads use readMemory; writes use writeMemory, widened to whole 32-bit words with a read-modify-write
 *   when the start or length is not a multiple of 4 (WRITEMEM requires word alignment);
 * - addresses at or above 2^32 reject with ValueOutOfRangeError before any traffic.
 *
 * This is the one GVCP Port implementation: `@cam/gvcp`'s `GvcpPort` (what `connectCamera` uses) wraps it.
 */
export function portFromRegisterAccess(access: RegisterMemoryAccess): Port {
  const address32 = (address: bigint, length: number): number => {
    if (address < 0n || address + BigInt(length) > 0x1_0000_0000n)
      throw new ValueOutOfRangeError(
        'address',
        `0x${address.toString(16)}+${length} is outside the 32-bit register space`,
      );
    return Number(address);
  };
  return {
    async read(address: bigint, length: number, opts?: PortAccessOptions): Promise<Uint8Array> {
      const a = address32(address, length);
      if (opts?.register === true && length === 4 && a % 4 === 0) {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, (await access.readRegister(a, opts)) >>> 0, false);
        return out;
      }
      return access.readMemory(a, length, opts);
    },
    async write(address: bigint, data: Uint8Array, opts?: PortAccessOptions): Promise<void> {
      const a = address32(address, data.byteLength);
      if (opts?.register === true && data.byteLength === 4 && a % 4 === 0) {
        await access.writeRegister(a, new DataView(data.buffer, data.byteOffset, 4).getUint32(0, false), opts);
        return;
      }
      const start = a - (a % 4);
      const end = Math.ceil((a + data.byteLength) / 4) * 4;
      if (start === a && end === a + data.byteLength) {
        await access.writeMemory(a, data, opts);
        return;
      }
      const words = await access.readMemory(start, end - start, opts);
      const merged = new Uint8Array(end - start);
      merged.set(words.subarray(0, end - start));
      merged.set(data, a - start);
      await access.writeMemory(start, merged, opts);
    },
  };
}
