/**
 * SwissKnife and IntSwissKnife nodes (a formula over other nodes, read-only).
 */
import { type AccessMode, GenicamXmlError } from '../errors.js';
import type { CompiledFormula, FormulaMode, FormulaValue } from '../formula/compile.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, FLOAT_MAX, floatToInt, GNode, numToBigint, numToFloat } from './base.js';
import { compileIn, evaluate, FormulaInputs, gatherValues } from './formula-inputs.js';

export abstract class SwissKnifeBase extends GNode {
  protected readonly inputs: FormulaInputs;
  readonly formula: CompiledFormula;
  protected abstract readonly mode: FormulaMode;
  constructor(els: readonly XmlElement[], engine: Engine, mode: FormulaMode, name?: string) {
    super(els, engine, name);
    const el = els[0] as XmlElement;
    this.inputs = new FormulaInputs(this, el, mode, []);
    const src = this.text('Formula');
    if (src === undefined) throw new GenicamXmlError('SwissKnife without Formula', { node: this.name });
    const names = [
      ...this.inputs.vars.map((v) => v.name),
      ...this.inputs.constants.map((c) => c.name),
      ...this.inputs.expressions.map((e) => e.name),
    ];
    this.formula = compileIn(this, src, names, mode);
  }
  protected override async baseAccess(): Promise<AccessMode> {
    return 'RO';
  }
  protected async compute(ctx: Ctx): Promise<FormulaValue> {
    enter(ctx, this);
    try {
      const values = await gatherValues(this, this.inputs, [], this.mode, ctx);
      return evaluate(this, this.formula, values, this.mode);
    } finally {
      ctx.depth--;
    }
  }
}

export class SwissKnifeNode extends SwissKnifeBase {
  readonly type = 'SwissKnife' as const;
  readonly iface = 'IFloat' as const;
  protected readonly mode = 'float' as const;
  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine, 'float');
  }
  override async readNumeric(ctx: Ctx): Promise<FormulaValue> {
    return this.readFloat(ctx);
  }
  override async readFloat(ctx: Ctx): Promise<number> {
    return numToFloat(await this.compute(ctx));
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return floatToInt(await this.readFloat(ctx), this.name);
  }
  override async floatMin(): Promise<number> {
    return -FLOAT_MAX;
  }
  override async floatMax(): Promise<number> {
    return FLOAT_MAX;
  }
}

export class IntSwissKnifeNode extends SwissKnifeBase {
  readonly type = 'IntSwissKnife' as const;
  readonly iface = 'IInteger' as const;
  protected readonly mode = 'int' as const;
  constructor(els: readonly XmlElement[], engine: Engine, name?: string) {
    super(els, engine, 'int', name);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return numToBigint(await this.compute(ctx), this.name);
  }
}
