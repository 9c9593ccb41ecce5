/**
 * Converter and IntConverter nodes (FormulaTo / FormulaFrom between a value and its register).
 */
import { type AccessMode, FormulaEvaluationError, GenicamXmlError } from '../errors.js';
import type { CompiledFormula, FormulaMode, FormulaValue } from '../formula/compile.js';
import type { XmlElement } from '../xml/tree.js';
import {
  type Ctx,
  type Engine,
  enter,
  FLOAT_MAX,
  floatToInt,
  GNode,
  INT64_MAX,
  INT64_MIN,
  numToBigint,
  numToFloat,
} from './base.js';
import { compileIn, evaluate, FormulaInputs, gatherValues } from './formula-inputs.js';

abstract class ConverterBase extends GNode {
  protected readonly inputs: FormulaInputs;
  readonly formulaTo: CompiledFormula;
  readonly formulaFrom: CompiledFormula;
  readonly valueRef: string;
  readonly slope: string;
  protected abstract readonly mode: FormulaMode;
  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const el = els[0] as XmlElement;
    // Both Converter and IntConverter compute in doubles (as Aravis does: IntConverter formulas routinely scale
    // by constants such as 0.1); an IntConverter rounds the result to an integer.
    const mode: FormulaMode = 'float';
    this.inputs = new FormulaInputs(this, el, mode, ['FROM', 'TO']);
    const to = this.text('FormulaTo');
    const from = this.text('FormulaFrom');
    const v = this.text('pValue');
    if (to === undefined || from === undefined || v === undefined)
      throw new GenicamXmlError('Converter needs FormulaTo, FormulaFrom and pValue', { node: this.name });
    const names = [
      ...this.inputs.vars.map((x) => x.name),
      ...this.inputs.constants.map((c) => c.name),
      ...this.inputs.expressions.map((e) => e.name),
    ];
    // FormulaTo maps the user value FROM to the device value; FormulaFrom maps the device value TO back.
    this.formulaTo = compileIn(this, to, ['FROM', 'TO', ...names], mode);
    this.formulaFrom = compileIn(this, from, ['FROM', 'TO', ...names], mode);
    this.valueRef = v;
    this.slope = this.text('Slope') ?? 'Automatic';
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return this.engine.node(this.valueRef, this.name).access(ctx);
  }
  protected async fromDevice(device: FormulaValue, ctx: Ctx): Promise<FormulaValue> {
    const values = await gatherValues(this, this.inputs, [0, device], this.mode, ctx);
    return evaluate(this, this.formulaFrom, values, this.mode);
  }
  protected async convertRead(ctx: Ctx): Promise<FormulaValue> {
    enter(ctx, this);
    try {
      const device = await this.engine.node(this.valueRef, this.name).readNumeric(ctx);
      return await this.fromDevice(device, ctx);
    } finally {
      ctx.depth--;
    }
  }
  protected async convertWrite(user: FormulaValue, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const target = this.engine.node(this.valueRef, this.name);
      const values = await gatherValues(this, this.inputs, [user, 0], this.mode, ctx);
      const device = evaluate(this, this.formulaTo, values, this.mode);
      await target.writeNumeric(device, ctx);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  /** The user-side range: the device range mapped through FormulaFrom, ordered (the slope may be decreasing). */
  protected async range(ctx: Ctx): Promise<[FormulaValue, FormulaValue] | undefined> {
    const target = this.engine.node(this.valueRef, this.name);
    let lo: FormulaValue;
    let hi: FormulaValue;
    if (target.iface === 'IFloat') {
      lo = await target.floatMin(ctx);
      hi = await target.floatMax(ctx);
      if (lo === -FLOAT_MAX || hi === FLOAT_MAX) return undefined;
    } else {
      lo = await target.intMin(ctx);
      hi = await target.intMax(ctx);
      if (lo === INT64_MIN || hi === INT64_MAX) return undefined;
    }
    try {
      const a = await this.fromDevice(lo, ctx);
      const b = await this.fromDevice(hi, ctx);
      return a <= b ? [a, b] : [b, a];
    } catch (e) {
      if (FormulaEvaluationError.isInstance(e)) return undefined;
      throw e;
    }
  }
}

export class ConverterNode extends ConverterBase {
  readonly type = 'Converter' as const;
  readonly iface = 'IFloat' as const;
  protected readonly mode = 'float' as const;
  override async readNumeric(ctx: Ctx): Promise<FormulaValue> {
    return this.readFloat(ctx);
  }
  override async writeNumeric(v: FormulaValue, ctx: Ctx): Promise<void> {
    await this.writeFloat(numToFloat(v), ctx);
  }
  override async readFloat(ctx: Ctx): Promise<number> {
    return numToFloat(await this.convertRead(ctx));
  }
  override async writeFloat(v: number, ctx: Ctx): Promise<void> {
    await this.convertWrite(v, ctx);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return floatToInt(await this.readFloat(ctx), this.name);
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    await this.writeFloat(Number(v), ctx);
  }
  override async floatMin(ctx: Ctx): Promise<number> {
    const r = await this.range(ctx);
    return r !== undefined ? numToFloat(r[0]) : -FLOAT_MAX;
  }
  override async floatMax(ctx: Ctx): Promise<number> {
    const r = await this.range(ctx);
    return r !== undefined ? numToFloat(r[1]) : FLOAT_MAX;
  }
}

export class IntConverterNode extends ConverterBase {
  readonly type = 'IntConverter' as const;
  readonly iface = 'IInteger' as const;
  protected readonly mode = 'float' as const;
  override async readInt(ctx: Ctx): Promise<bigint> {
    return numToBigint(await this.convertRead(ctx), this.name);
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    await this.convertWrite(Number(v), ctx);
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    const r = await this.range(ctx);
    return r !== undefined ? numToBigint(r[0], this.name) : INT64_MIN;
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    const r = await this.range(ctx);
    return r !== undefined ? numToBigint(r[1], this.name) : INT64_MAX;
  }
}
