/**
 * Float nodes.
 */
import type { AccessMode } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, FLOAT_MAX, FloatLike, numToFloat, parseFloatLiteral } from './base.js';
import { ValueSource } from './value-source.js';

export class FloatNode extends FloatLike {
  readonly type = 'Float' as const;
  private readonly source: ValueSource<number>;
  private readonly min = this.prop('Min');
  private readonly max = this.prop('Max');
  private readonly inc = this.prop('Inc');

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    this.source = new ValueSource<number>(this, els, (t) => parseFloatLiteral(t, this.name, 'Value'));
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return this.source.access(ctx);
  }
  override async readFloat(ctx: Ctx): Promise<number> {
    enter(ctx, this);
    try {
      const p = await this.source.current(ctx);
      if ('ref' in p) return numToFloat(await this.target(p).readNumeric(ctx));
      return this.source.locals.get(p) ?? 0;
    } finally {
      ctx.depth--;
    }
  }
  override async writeFloat(v: number, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      await this.checkRange(v, ctx);
      const p = await this.source.current(ctx);
      if ('ref' in p) await this.target(p).writeNumeric(v, ctx);
      else this.source.locals.set(p, v);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async floatMin(ctx: Ctx): Promise<number> {
    if (this.min !== undefined) return this.propFloat(this.min, ctx, 'Min');
    return (await this.source.singleTarget?.floatMin(ctx)) ?? -FLOAT_MAX;
  }
  override async floatMax(ctx: Ctx): Promise<number> {
    if (this.max !== undefined) return this.propFloat(this.max, ctx, 'Max');
    return (await this.source.singleTarget?.floatMax(ctx)) ?? FLOAT_MAX;
  }
  override async floatInc(ctx: Ctx): Promise<number | undefined> {
    return this.inc !== undefined ? this.propFloat(this.inc, ctx, 'Inc') : undefined;
  }
}
