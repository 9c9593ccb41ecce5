/**
 * Register nodes: raw Register, IntReg, MaskedIntReg, FloatReg, StringReg, with their address arithmetic (Address,
 * pAddress, IntSwissKnife addresses, pIndex) and byte order.
 */
import { type AccessMode, GenicamError, GenicamXmlError, InvalidValueError, OutOfRangeError } from '../errors.js';
import type { FormulaValue } from '../formula/compile.js';
import type { XmlElement } from '../xml/tree.js';
import {
  type Cachable,
  type Ctx,
  type Endianness,
  type Engine,
  enter,
  FLOAT_MAX,
  floatToInt,
  GNode,
  type NodeType,
  numToBigint,
  numToFloat,
  type Prop,
  parseIntLiteral,
  publicInt,
  type Sign,
} from './base.js';
import { IntSwissKnifeNode, type SwissKnifeBase } from './swiss-knife.js';

interface IndexSpec {
  readonly index: string;
  readonly offset: Prop | undefined;
}

/** Everything with an address, a length and a port: Register, IntReg, MaskedIntReg, FloatReg, StringReg, StructEntry. */
export abstract class RegisterNode extends GNode {
  readonly addressParts: readonly Prop[];
  readonly addressKnives: readonly SwissKnifeBase[];
  readonly indexes: readonly IndexSpec[];
  readonly lengthProp: Prop;
  readonly accessMode: AccessMode;
  readonly portName: string;
  readonly cachable: Cachable;
  readonly endianness: Endianness;

  constructor(els: readonly XmlElement[], engine: Engine, name?: string) {
    super(els, engine, name);
    const parts: Prop[] = [];
    const knives: SwissKnifeBase[] = [];
    const indexes: IndexSpec[] = [];
    // Address parts are additive; they come from the first element that has any (the StructReg for entries).
    const owner =
      els.find((el) =>
        el.children.some((c) => c.tag === 'Address' || c.tag === 'pAddress' || c.tag === 'IntSwissKnife'),
      ) ?? (els[0] as XmlElement);
    for (const c of owner.children) {
      if (c.tag === 'Address') parts.push({ lit: c.text });
      else if (c.tag === 'pAddress') parts.push({ ref: c.text });
      else if (c.tag === 'IntSwissKnife')
        knives.push(new IntSwissKnifeNode([c], engine, c.attrs.Name ?? `${this.name}.Address${knives.length}`));
      else if (c.tag === 'pIndex') {
        const off =
          c.attrs.pOffset !== undefined
            ? { ref: c.attrs.pOffset }
            : c.attrs.Offset !== undefined
              ? { lit: c.attrs.Offset }
              : undefined;
        indexes.push({ index: c.text, offset: off });
      }
    }
    this.addressParts = parts;
    this.addressKnives = knives;
    this.indexes = indexes;
    this.lengthProp = this.prop('Length') ?? { lit: '4' };
    const am = this.text('AccessMode');
    this.accessMode = (am !== undefined ? this.accessLiteral(am, 'AccessMode', 'RO') : undefined) ?? 'RO';
    // A register without pPort is only an error when it is accessed (as in Aravis), so such files still load.
    this.portName = this.text('pPort') ?? '';
    const cache = this.text('Cachable');
    this.cachable = cache === 'NoCache' || cache === 'WriteAround' ? cache : 'WriteThrough';
    this.endianness = this.text('Endianess') === 'BigEndian' ? 'BigEndian' : 'LittleEndian';
  }
  protected override async baseAccess(): Promise<AccessMode> {
    return this.engine.portHasData(this.portName) ? this.accessMode : 'NA';
  }
  async address(ctx: Ctx): Promise<bigint> {
    let a = 0n;
    for (const p of this.addressParts) a += await this.propInt(p, ctx, 'Address');
    for (const k of this.addressKnives) a += await k.readInt(ctx);
    if (this.indexes.length > 0) {
      const len = BigInt(await this.length(ctx));
      for (const ix of this.indexes) {
        const off = ix.offset !== undefined ? await this.propInt(ix.offset, ctx, 'Offset') : len;
        a += numToBigint(await this.engine.node(ix.index, this.name).readNumeric(ctx), this.name) * off;
      }
    }
    return BigInt.asUintN(64, a);
  }
  async length(ctx: Ctx): Promise<number> {
    const n = await this.propInt(this.lengthProp, ctx, 'Length');
    if (n < 1n || n > BigInt(this.engine.maxRegisterLength))
      throw new GenicamError(
        `register '${this.name}' has length ${n}; allowed 1..${this.engine.maxRegisterLength} bytes`,
      );
    return Number(n);
  }
  async readBytes(ctx: Ctx): Promise<Uint8Array> {
    enter(ctx, this);
    try {
      const address = await this.address(ctx);
      const length = await this.length(ctx);
      return await this.engine.readRegister(this, address, length, ctx);
    } finally {
      ctx.depth--;
    }
  }
  async writeBytes(data: Uint8Array, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const address = await this.address(ctx);
      const length = await this.length(ctx);
      if (data.byteLength !== length)
        throw new InvalidValueError(this.name, `${data.byteLength} bytes given, the register is ${length} bytes`);
      await this.engine.writeRegister(this, address, data, ctx);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  /** Byte order used to decode numbers: legacy GigE (schema < 1.1) 4-byte registers are big-endian. */
  protected littleEndian(length: number): boolean {
    if (length === 4 && this.engine.legacyRegister(this)) return false;
    return this.endianness === 'LittleEndian';
  }
}

export class RawRegisterNode extends RegisterNode {
  readonly type = 'Register' as const;
  readonly iface = 'IRegister' as const;
}

function decodeUnsigned(bytes: Uint8Array, little: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = little ? bytes[bytes.length - 1 - i] : bytes[i];
    v = (v << 8n) | BigInt(b as number);
  }
  return v;
}

function encodeUnsigned(v: bigint, length: number, little: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let x = BigInt.asUintN(length * 8, v);
  for (let i = 0; i < length; i++) {
    out[little ? i : length - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export class IntRegNode extends RegisterNode {
  readonly type: NodeType = 'IntReg';
  readonly iface = 'IInteger' as const;
  readonly sign: Sign;
  constructor(els: readonly XmlElement[], engine: Engine, name?: string) {
    super(els, engine, name);
    this.sign = this.text('Sign') === 'Signed' ? 'Signed' : 'Unsigned';
  }
  protected async bits(ctx: Ctx): Promise<{ lsb: number; width: number; length: number }> {
    const length = await this.length(ctx);
    if (length > 8) throw new GenicamError(`integer register '${this.name}' is ${length} bytes; at most 8 allowed`);
    return { lsb: 0, width: length * 8, length };
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    const { lsb, width, length } = await this.bits(ctx);
    const bytes = await this.readBytes(ctx);
    const raw = decodeUnsigned(bytes.subarray(0, length), this.littleEndian(length));
    const field = BigInt.asUintN(width, raw >> BigInt(lsb));
    return this.sign === 'Signed' ? BigInt.asIntN(width, field) : field;
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    const { lsb, width, length } = await this.bits(ctx);
    const min = await this.intMin(ctx);
    const max = await this.intMax(ctx);
    if (v < min || v > max) throw new OutOfRangeError(this.name, publicInt(v), publicInt(min), publicInt(max));
    const little = this.littleEndian(length);
    let raw = BigInt.asUintN(width, v) << BigInt(lsb);
    if (width < length * 8) {
      // Read-modify-write: keep the bits outside the field (a write-only register contributes zeros).
      const mask = ((1n << BigInt(width)) - 1n) << BigInt(lsb);
      if (this.accessMode !== 'WO') {
        const current = decodeUnsigned(await this.readBytes(ctx), little);
        raw |= current & ~mask;
      }
    }
    await this.writeBytes(encodeUnsigned(raw, length, little), ctx);
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    const { width } = await this.bits(ctx);
    return this.sign === 'Signed' ? -(1n << BigInt(width - 1)) : 0n;
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    const { width } = await this.bits(ctx);
    return this.sign === 'Signed' ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  }
}

/** MaskedIntReg and StructEntry: a bit field [LSB..MSB] (or one Bit) of a register. */
export class MaskedIntRegNode extends IntRegNode {
  override readonly type: NodeType;
  private readonly lsbBit: number;
  private readonly msbBit: number;
  constructor(els: readonly XmlElement[], engine: Engine, type: 'MaskedIntReg' | 'StructEntry' = 'MaskedIntReg') {
    super(els, engine);
    this.type = type;
    const bit = this.text('Bit');
    const lsb = this.text('LSB') ?? bit;
    const msb = this.text('MSB') ?? bit;
    if (lsb === undefined || msb === undefined)
      throw new GenicamXmlError(`${type} needs LSB and MSB, or Bit`, { node: this.name });
    this.lsbBit = Number(parseIntLiteral(lsb, this.name, 'LSB'));
    this.msbBit = Number(parseIntLiteral(msb, this.name, 'MSB'));
    if (this.lsbBit < 0 || this.msbBit < 0 || this.lsbBit > 63 || this.msbBit > 63)
      throw new GenicamXmlError('LSB/MSB outside 0..63', { node: this.name });
  }
  get lsb(): number {
    return this.lsbBit;
  }
  get msb(): number {
    return this.msbBit;
  }
  protected override async bits(ctx: Ctx): Promise<{ lsb: number; width: number; length: number }> {
    const length = await this.length(ctx);
    if (length > 8) throw new GenicamError(`bit-field register '${this.name}' is ${length} bytes; at most 8 allowed`);
    // Little-endian registers number bits from the least significant; big-endian ones from the most significant.
    let lo = this.lsbBit;
    let hi = this.msbBit;
    if (this.endianness === 'BigEndian') {
      lo = length * 8 - 1 - this.lsbBit;
      hi = length * 8 - 1 - this.msbBit;
    }
    if (hi < lo || lo < 0 || hi >= length * 8)
      throw new GenicamError(
        `bit field LSB ${this.lsbBit} / MSB ${this.msbBit} of '${this.name}' does not fit a ${length}-byte ${this.endianness} register`,
      );
    return { lsb: lo, width: hi - lo + 1, length };
  }
}

export class FloatRegNode extends RegisterNode {
  readonly type = 'FloatReg' as const;
  readonly iface = 'IFloat' as const;
  override async readNumeric(ctx: Ctx): Promise<FormulaValue> {
    return this.readFloat(ctx);
  }
  override async writeNumeric(v: FormulaValue, ctx: Ctx): Promise<void> {
    await this.writeFloat(numToFloat(v), ctx);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return floatToInt(await this.readFloat(ctx), this.name);
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    await this.writeFloat(Number(v), ctx);
  }
  override async readFloat(ctx: Ctx): Promise<number> {
    const bytes = await this.readBytes(ctx);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = this.littleEndian(bytes.length);
    if (bytes.length === 4) return dv.getFloat32(0, little);
    if (bytes.length === 8) return dv.getFloat64(0, little);
    throw new GenicamError(`FloatReg '${this.name}' is ${bytes.length} bytes; 4 or 8 allowed`);
  }
  override async writeFloat(v: number, ctx: Ctx): Promise<void> {
    const length = await this.length(ctx);
    const out = new Uint8Array(length);
    const dv = new DataView(out.buffer);
    const little = this.littleEndian(length);
    if (length === 4) dv.setFloat32(0, v, little);
    else if (length === 8) dv.setFloat64(0, v, little);
    else throw new GenicamError(`FloatReg '${this.name}' is ${length} bytes; 4 or 8 allowed`);
    await this.writeBytes(out, ctx);
  }
  override async floatMin(): Promise<number> {
    return -FLOAT_MAX;
  }
  override async floatMax(): Promise<number> {
    return FLOAT_MAX;
  }
}

export class StringRegNode extends RegisterNode {
  readonly type = 'StringReg' as const;
  readonly iface = 'IString' as const;
  override async readString(ctx: Ctx): Promise<string> {
    const bytes = await this.readBytes(ctx);
    const end = bytes.indexOf(0);
    return new TextDecoder('utf-8').decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  }
  override async writeString(v: string, ctx: Ctx): Promise<void> {
    const length = await this.length(ctx);
    const enc = new TextEncoder().encode(v);
    if (enc.length > length)
      throw new InvalidValueError(this.name, `string of ${enc.length} bytes does not fit the ${length}-byte register`);
    const out = new Uint8Array(length);
    out.set(enc);
    await this.writeBytes(out, ctx);
  }
}
