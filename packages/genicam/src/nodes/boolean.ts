/**
 * Boolean nodes (OnValue / OffValue over an integer).
 */
import { type AccessMode, GenicamXmlError, OutOfRangeError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, GNode, numToBigint, type Prop, parseIntLiteral, publicInt } from './base.js';

export class BooleanNode extends GNode {
  readonly type = 'Boolean' as const;
  readonly iface = 'IBoolean' as const;
  private readonly value: Prop;
  private local: bigint | undefined;
  readonly onValue: bigint;
  readonly offValue: bigint;

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const v = this.prop('Value');
    if (v === undefined) throw new GenicamXmlError('Boolean without Value or pValue', { node: this.name });
    this.value = v;
    const on = this.text('OnValue');
    const off = this.text('OffValue');
    this.onValue = on !== undefined ? parseIntLiteral(on, this.name, 'OnValue') : 1n;
    this.offValue = off !== undefined ? parseIntLiteral(off, this.name, 'OffValue') : 0n;
    if ('lit' in v) {
      const t = v.lit.trim().toLowerCase();
      this.local =
        t === 'true' ? this.onValue : t === 'false' ? this.offValue : parseIntLiteral(v.lit, this.name, 'Value');
    }
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return 'ref' in this.value ? this.target(this.value).access(ctx) : 'RW';
  }
  async readBool(ctx: Ctx): Promise<boolean> {
    enter(ctx, this);
    try {
      const raw =
        'ref' in this.value ? numToBigint(await this.target(this.value).readNumeric(ctx), this.name) : this.local;
      return raw === this.onValue;
    } finally {
      ctx.depth--;
    }
  }
  async writeBool(b: boolean, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const raw = b ? this.onValue : this.offValue;
      if ('ref' in this.value) await this.target(this.value).writeInt(raw, ctx);
      else this.local = raw;
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return (await this.readBool(ctx)) ? 1n : 0n;
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    if (v !== 0n && v !== 1n) throw new OutOfRangeError(this.name, publicInt(v), 0, 1);
    await this.writeBool(v === 1n, ctx);
  }
  override async intMin(): Promise<bigint> {
    return 0n;
  }
  override async intMax(): Promise<bigint> {
    return 1n;
  }
}
