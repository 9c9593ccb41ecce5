/**
 * Integer nodes.
 */
import type { AccessMode } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, INT64_MAX, INT64_MIN, IntLike, numToBigint, parseIntLiteral } from './base.js';
import { ValueSource } from './value-source.js';

export class IntegerNode extends IntLike {
  readonly type = 'Integer' as const;
  private readonly source: ValueSource<bigint>;
  private readonly min = this.prop('Min');
  private readonly max = this.prop('Max');
  private readonly inc = this.prop('Inc');

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    this.source = new ValueSource<bigint>(this, els, (t) => parseIntLiteral(t, this.name, 'Value'));
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return this.source.access(ctx);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    enter(ctx, this);
    try {
      const p = await this.source.current(ctx);
      if ('ref' in p) return numToBigint(await this.target(p).readNumeric(ctx), this.name);
      return this.source.locals.get(p) ?? 0n;
    } finally {
      ctx.depth--;
    }
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      await this.checkRange(v, ctx);
      const p = await this.source.current(ctx);
      if ('ref' in p) await this.target(p).writeInt(v, ctx);
      else this.source.locals.set(p, v);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    if (this.min !== undefined) return this.propInt(this.min, ctx, 'Min');
    return (await this.source.singleTarget?.intMin(ctx)) ?? INT64_MIN;
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    if (this.max !== undefined) return this.propInt(this.max, ctx, 'Max');
    return (await this.source.singleTarget?.intMax(ctx)) ?? INT64_MAX;
  }
  override async intInc(ctx: Ctx): Promise<bigint> {
    if (this.inc !== undefined) {
      const inc = await this.propInt(this.inc, ctx, 'Inc');
      return inc > 0n ? inc : 1n;
    }
    return (await this.source.singleTarget?.intInc(ctx)) ?? 1n;
  }
}
