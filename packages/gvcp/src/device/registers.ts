import { copyBytes, ValueOutOfRangeError } from '@cam/net-utils';
import { GvcpStatus } from '../codec/constants.js';
import { GvcpDeviceStatusError } from './errors.js';

/** Who may read and write a register over the wire (local access through {@link RegisterSpace.set} ignores it). */
export type RegisterAccessMode = 'RO' | 'WO' | 'RW';

/** The application a register access comes from. */
export interface AccessContext {
  /** Sender IPv4 address. */
  address: string;
  /** Sender UDP port. */
  port: number;
}

type MaybePromise<T> = T | Promise<T>;

/** A 32-bit register (GigE Vision registers are 32-bit, big-endian, 4-byte aligned). */
export interface RegisterDefinition {
  /** Byte address, a multiple of 4. */
  address: number;
  /** Always 4 for a register (blocks of other sizes: {@link RegisterSpace.defineBlock}). */
  length?: 4;
  /** Name used in messages and in {@link RegisterSpace.list}. */
  name?: string;
  /** Default `'RW'`. */
  access?: RegisterAccessMode;
  /** Stored value at start (default 0). */
  initial?: number;
  /**
   * Computes the value of a read (instead of the stored value). Throw {@link GvcpDeviceStatusError} to answer with a
   * status; a slow (async) handler makes the device send PENDING_ACK when that is enabled.
   */
  read?: (ctx: AccessContext) => MaybePromise<number>;
  /**
   * Runs before a write is stored. Return a number to store that instead (for example a masked value), nothing to
   * store the written value; throw {@link GvcpDeviceStatusError} to refuse it.
   */
  write?: (value: number, ctx: AccessContext) => MaybePromise<number | undefined>;
  /** Replace any registers or blocks this one overlaps instead of throwing. */
  override?: boolean;
}

/** A block of bytes (strings, URLs, a file) read with READMEM and written with WRITEMEM or 4 bytes at a time. */
export interface BlockDefinition {
  /** Byte address, a multiple of 4. */
  address: number;
  /** Size in bytes, a multiple of 4. */
  length: number;
  name?: string;
  /** Default `'RW'`. */
  access?: RegisterAccessMode;
  /** Initial content (copied; must fit the block). */
  initial?: Uint8Array;
  /** Computes `length` bytes from `offset` inside the block (instead of the stored bytes). */
  read?: (offset: number, length: number, ctx: AccessContext) => MaybePromise<Uint8Array>;
  /** Runs before bytes are stored at `offset`; throw {@link GvcpDeviceStatusError} to refuse. */
  write?: (offset: number, bytes: Uint8Array, ctx: AccessContext) => MaybePromise<void>;
  override?: boolean;
}

/** A listener told about every successful remote write of a register. */
export type WriteListener = (value: number, ctx: AccessContext) => void;

interface Region {
  readonly address: number;
  readonly end: number;
  readonly name: string;
  readonly access: RegisterAccessMode;
  readonly kind: 'register' | 'block';
  readonly store: Uint8Array;
  readonly view: DataView;
  readonly readRegister: RegisterDefinition['read'];
  readonly writeRegister: RegisterDefinition['write'];
  readonly readBlock: BlockDefinition['read'];
  readonly writeBlock: BlockDefinition['write'];
}

/** Largest block one definition may allocate (the address space is 32-bit, memory is not). */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;

/** Summary of one defined register or block. */
export interface RegisterInfo {
  address: number;
  length: number;
  name: string;
  access: RegisterAccessMode;
  kind: 'register' | 'block';
}

/**
 * The device's address space: 32-bit registers and byte blocks, each with optional handlers. Remote accesses go
 * through {@link readRegister} / {@link writeRegister} / {@link readMemory} / {@link writeMemory}, which check
 * alignment, mapping and access mode and answer with GVCP statuses ({@link GvcpDeviceStatusError}); local accesses
 * ({@link get}, {@link set}) read and write the stored values directly.
 */
export class RegisterSpace {
  /** Sorted by address, never overlapping. */
  readonly #regions: Region[] = [];
  readonly #listeners = new Map<number, Set<WriteListener>>();

  /** Defines a 32-bit register. Throws {@link ValueOutOfRangeError} for a bad address or an overlap. */
  define(def: RegisterDefinition): RegisterInfo {
    if (def.length !== undefined && def.length !== 4) {
      throw new ValueOutOfRangeError(
        def.name ?? 'register',
        `a register is 4 bytes (${String(def.length)} given): use defineBlock`,
      );
    }
    checkAddress(def.address, 4, def.name);
    const store = new Uint8Array(4);
    const region: Region = {
      address: def.address,
      end: def.address + 4,
      name: def.name ?? `0x${def.address.toString(16).padStart(4, '0')}`,
      access: def.access ?? 'RW',
      kind: 'register',
      store,
      view: new DataView(store.buffer),
      readRegister: def.read,
      writeRegister: def.write,
      readBlock: undefined,
      writeBlock: undefined,
    };
    if (def.initial !== undefined) region.view.setUint32(0, toU32(def.initial, region.name));
    this.#insert(region, def.override === true);
    return info(region);
  }

  /** Defines a block of bytes. Throws {@link ValueOutOfRangeError} for a bad address or size, or an overlap. */
  defineBlock(def: BlockDefinition): RegisterInfo {
    checkAddress(def.address, def.length, def.name);
    if (def.length > MAX_BLOCK_LENGTH) {
      throw new ValueOutOfRangeError(def.name ?? 'block', `${def.length} bytes exceed ${MAX_BLOCK_LENGTH}`);
    }
    const store = new Uint8Array(def.length);
    if (def.initial) {
      if (def.initial.byteLength > def.length) {
        throw new ValueOutOfRangeError(
          def.name ?? 'block',
          `initial content of ${def.initial.byteLength} bytes does not fit ${def.length}`,
        );
      }
      store.set(def.initial);
    }
    const region: Region = {
      address: def.address,
      end: def.address + def.length,
      name: def.name ?? `0x${def.address.toString(16).padStart(4, '0')}`,
      access: def.access ?? 'RW',
      kind: 'block',
      store,
      view: new DataView(store.buffer),
      readRegister: undefined,
      writeRegister: undefined,
      readBlock: def.read,
      writeBlock: def.write,
    };
    this.#insert(region, def.override === true);
    return info(region);
  }

  /** Removes the register or block that starts at `address`; true when there was one. */
  undefine(address: number): boolean {
    const i = this.#indexAt(address);
    if (i < 0 || this.#regions[i]!.address !== address) return false;
    this.#regions.splice(i, 1);
    return true;
  }

  /** The register or block covering `address`, if any. */
  lookup(address: number): RegisterInfo | undefined {
    const i = this.#indexAt(address);
    return i < 0 ? undefined : info(this.#regions[i]!);
  }

  /** Every defined register and block, by address. */
  list(): RegisterInfo[] {
    return this.#regions.map(info);
  }

  /** Calls `listener` after every successful remote write of the register at `address`; returns an unsubscribe. */
  onWrite(address: number, listener: WriteListener): () => void {
    let set = this.#listeners.get(address);
    if (!set) {
      set = new Set();
      this.#listeners.set(address, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Stored 32-bit value at `address` (local access: no handler, no access check). Throws when unmapped. */
  get(address: number): number {
    const r = this.#regionFor(address, 4);
    return r.view.getUint32(address - r.address);
  }

  /** Stores a 32-bit value at `address` (local access: no handler, no listener, no access check). */
  set(address: number, value: number): void {
    const r = this.#regionFor(address, 4);
    if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
      throw new ValueOutOfRangeError(r.name, `${value} is not a 32-bit value`);
    }
    r.view.setUint32(address - r.address, value >>> 0);
  }

  /** Stored bytes (a copy), local access. */
  getBytes(address: number, length: number): Uint8Array {
    const r = this.#regionFor(address, length);
    return r.store.slice(address - r.address, address - r.address + length);
  }

  /** Stores bytes, local access. */
  setBytes(address: number, bytes: Uint8Array): void {
    const r = this.#regionFor(address, bytes.byteLength);
    r.store.set(bytes, address - r.address);
  }

  /** A NUL-padded string field (local access). */
  getString(address: number, size: number): string {
    const b = this.getBytes(address, size);
    const end = b.indexOf(0);
    return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
  }

  /** Stores `value` NUL-padded in a `size`-byte field, keeping one NUL; throws when it does not fit. */
  setString(address: number, size: number, value: string): void {
    const bytes = new TextEncoder().encode(value);
    if (bytes.byteLength > size - 1) {
      throw new ValueOutOfRangeError(
        'string',
        `"${value}" needs ${bytes.byteLength} bytes, the field holds ${size - 1}`,
      );
    }
    const field = new Uint8Array(size);
    field.set(bytes);
    this.setBytes(address, field);
  }

  /** Remote read of one 32-bit register (READREG). Throws {@link GvcpDeviceStatusError}. */
  async readRegister(address: number, ctx: AccessContext): Promise<number> {
    const r = this.#remote(address, 4);
    if (r.access === 'WO') throw new GvcpDeviceStatusError(GvcpStatus.INVALID_ADDRESS, `${r.name} is write-only`);
    const offset = address - r.address;
    if (r.readRegister) return toU32(await r.readRegister(ctx), r.name);
    if (r.readBlock) {
      const bytes = await r.readBlock(offset, 4, ctx);
      return blockWord(bytes, r.name);
    }
    return r.view.getUint32(offset);
  }

  /** Remote write of one 32-bit register (WRITEREG). Throws {@link GvcpDeviceStatusError}. */
  async writeRegister(address: number, value: number, ctx: AccessContext): Promise<void> {
    const r = this.#remote(address, 4);
    if (r.access === 'RO') throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, `${r.name} is read-only`);
    const offset = address - r.address;
    if (r.kind === 'register') {
      const replaced = r.writeRegister ? await r.writeRegister(value, ctx) : undefined;
      r.view.setUint32(offset, typeof replaced === 'number' ? toU32(replaced, r.name) : value);
    } else {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value);
      if (r.writeBlock) await r.writeBlock(offset, bytes, ctx);
      r.store.set(bytes, offset);
    }
    this.#notify(address, value, ctx);
  }

  /** Remote read of `count` bytes (READMEM), possibly across several registers and blocks. */
  async readMemory(address: number, count: number, ctx: AccessContext): Promise<Uint8Array> {
    checkRemote(address, count);
    const out = new Uint8Array(count);
    let cursor = address;
    const end = address + count;
    while (cursor < end) {
      const r = this.#remote(cursor, 4);
      if (r.access === 'WO') throw new GvcpDeviceStatusError(GvcpStatus.INVALID_ADDRESS, `${r.name} is write-only`);
      const offset = cursor - r.address;
      const n = Math.min(end, r.end) - cursor;
      let chunk: Uint8Array;
      if (r.readRegister) {
        chunk = new Uint8Array(4);
        new DataView(chunk.buffer).setUint32(0, toU32(await r.readRegister(ctx), r.name));
      } else if (r.readBlock) {
        chunk = await r.readBlock(offset, n, ctx);
        if (chunk.byteLength !== n) {
          throw new GvcpDeviceStatusError(
            GvcpStatus.ERROR,
            `${r.name} read handler returned ${chunk.byteLength} bytes, not ${n}`,
          );
        }
      } else {
        chunk = r.store.subarray(offset, offset + n);
      }
      out.set(chunk.subarray(0, n), cursor - address);
      cursor += n;
    }
    return out;
  }

  /**
   * Remote write of bytes (WRITEMEM). Stops at the first register or block that refuses and throws a
   * {@link GvcpDeviceStatusError} whose `written` says how many bytes were stored before it.
   */
  async writeMemory(address: number, bytes: Uint8Array, ctx: AccessContext): Promise<number> {
    checkRemote(address, bytes.byteLength);
    let cursor = address;
    const end = address + bytes.byteLength;
    while (cursor < end) {
      try {
        const r = this.#remote(cursor, 4);
        if (r.access === 'RO') throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, `${r.name} is read-only`);
        const offset = cursor - r.address;
        const n = Math.min(end, r.end) - cursor;
        const chunk = bytes.subarray(cursor - address, cursor - address + n);
        if (r.kind === 'register') {
          await this.writeRegister(cursor, new DataView(chunk.buffer, chunk.byteOffset, 4).getUint32(0), ctx);
        } else {
          if (r.writeBlock) await r.writeBlock(offset, copyBytes(chunk), ctx);
          r.store.set(chunk, offset);
          for (let a = cursor; a < cursor + n; a += 4) {
            if (this.#listeners.has(a)) this.#notify(a, r.view.getUint32(a - r.address), ctx);
          }
        }
        cursor += n;
      } catch (error) {
        throw new PartialWriteError(error, cursor - address);
      }
    }
    return bytes.byteLength;
  }

  #notify(address: number, value: number, ctx: AccessContext): void {
    const set = this.#listeners.get(address);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(value, ctx);
      } catch {
        // A listener's bug must not turn a completed write into a failed command.
      }
    }
  }

  #remote(address: number, length: number): Region {
    checkRemote(address, length);
    const i = this.#indexAt(address);
    if (i < 0) {
      throw new GvcpDeviceStatusError(
        GvcpStatus.INVALID_ADDRESS,
        `no register at 0x${address.toString(16).padStart(8, '0')}`,
      );
    }
    return this.#regions[i]!;
  }

  #regionFor(address: number, length: number): Region {
    const i = this.#indexAt(address);
    const r = i < 0 ? undefined : this.#regions[i];
    if (!r || address + length > r.end) {
      throw new ValueOutOfRangeError(
        'register',
        `0x${address.toString(16)} (+${length}) is not inside one defined register or block`,
      );
    }
    return r;
  }

  /** Index of the region covering `address`, or -1. */
  #indexAt(address: number): number {
    let lo = 0;
    let hi = this.#regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.#regions[mid]!;
      if (address < r.address) hi = mid - 1;
      else if (address >= r.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  #insert(region: Region, override: boolean): void {
    const overlapping = this.#regions.filter((r) => r.address < region.end && region.address < r.end);
    if (overlapping.length > 0) {
      if (!override) {
        throw new ValueOutOfRangeError(
          region.name,
          `0x${region.address.toString(16)}..0x${(region.end - 1).toString(16)} overlaps ${overlapping.map((r) => r.name).join(', ')}`,
        );
      }
      for (const r of overlapping) this.#regions.splice(this.#regions.indexOf(r), 1);
    }
    let i = 0;
    while (i < this.#regions.length && this.#regions[i]!.address < region.address) i++;
    this.#regions.splice(i, 0, region);
  }
}

/** A WRITEMEM that failed part-way: `written` bytes were stored before `status` stopped it. */
export class PartialWriteError extends GvcpDeviceStatusError {
  static override readonly errorName: string = 'PartialWriteError';
  readonly written: number;

  constructor(cause: unknown, written: number) {
    const status = GvcpDeviceStatusError.isInstance(cause) ? cause.status : GvcpStatus.ERROR;
    super(status, cause instanceof Error ? cause.message : String(cause));
    this.written = written;
  }
}

function info(r: Region): RegisterInfo {
  return { address: r.address, length: r.end - r.address, name: r.name, access: r.access, kind: r.kind };
}

function checkAddress(address: number, length: number, name = 'register'): void {
  if (!Number.isInteger(address) || address < 0 || address % 4 !== 0 || address > 0xfffffffc) {
    throw new ValueOutOfRangeError(name, `address ${address} is not a 4-byte aligned 32-bit address`);
  }
  if (!Number.isInteger(length) || length <= 0 || length % 4 !== 0 || address + length > 0x1_0000_0000) {
    throw new ValueOutOfRangeError(name, `length ${length} is not a positive multiple of 4 inside the address space`);
  }
}

function checkRemote(address: number, length: number): void {
  if (address % 4 !== 0) {
    throw new GvcpDeviceStatusError(
      GvcpStatus.BAD_ALIGNMENT,
      `address 0x${address.toString(16)} is not 4-byte aligned`,
    );
  }
  if (length <= 0 || length % 4 !== 0) {
    throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `length ${length} is not a positive multiple of 4`);
  }
  if (address + length > 0x1_0000_0000) {
    throw new GvcpDeviceStatusError(GvcpStatus.INVALID_ADDRESS, 'access runs past the end of the address space');
  }
}

function toU32(value: number, name: string): number {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
    throw new GvcpDeviceStatusError(GvcpStatus.ERROR, `${name}: ${value} is not a 32-bit value`);
  }
  return value >>> 0;
}

function blockWord(bytes: Uint8Array, name: string): number {
  if (bytes.byteLength !== 4)
    throw new GvcpDeviceStatusError(GvcpStatus.ERROR, `${name} read handler returned ${bytes.byteLength} bytes, not 4`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}
