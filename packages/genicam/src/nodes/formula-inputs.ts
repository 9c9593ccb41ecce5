/**
 * What SwissKnife and Converter formulas share: their variables (pVariable) and the compile/evaluate wrappers that
 * name the owning node in errors.
 */
import { FormulaEvaluationError, GenicamError, GenicamXmlError } from '../errors.js';
import { type CompiledFormula, compileFormula, type FormulaMode, type FormulaValue } from '../formula/compile.js';
import { parseFormula } from '../formula/parse.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type GNode, parseFloatLiteral } from './base.js';

interface Variable {
  readonly name: string;
  readonly node: string;
}

/** Named inputs common to SwissKnife and Converter: pVariable, Constant, Expression. */
export class FormulaInputs {
  readonly vars: readonly Variable[];
  readonly constants: readonly { name: string; value: number }[];
  readonly expressions: readonly { name: string; formula: CompiledFormula }[];
  constructor(owner: GNode, el: XmlElement, mode: FormulaMode, reserved: readonly string[]) {
    const vars: Variable[] = [];
    const constants: { name: string; value: number }[] = [];
    const expressions: { name: string; formula: CompiledFormula }[] = [];
    for (const c of el.children) {
      const n = c.attrs.Name;
      if (c.tag === 'pVariable') {
        if (n === undefined) throw new GenicamXmlError('pVariable without a Name attribute', { node: owner.name });
        vars.push({ name: n, node: c.text });
      } else if (c.tag === 'Constant') {
        if (n === undefined) throw new GenicamXmlError('Constant without a Name attribute', { node: owner.name });
        constants.push({ name: n, value: parseFloatLiteral(c.text, owner.name, 'Constant') });
      }
    }
    const known = [...reserved, ...vars.map((v) => v.name), ...constants.map((c) => c.name)];
    for (const c of el.children) {
      if (c.tag !== 'Expression') continue;
      const n = c.attrs.Name;
      if (n === undefined) throw new GenicamXmlError('Expression without a Name attribute', { node: owner.name });
      expressions.push({ name: n, formula: compileIn(owner, c.text, known, mode) });
      known.push(n);
    }
    this.vars = vars;
    this.constants = constants;
    this.expressions = expressions;
  }
}

/**
 * Compiles a node's formula. A formula that parses but names a variable the node does not declare (a vendor slip
 * seen in real files, e.g. one of three pVariable names misspelt) does not fail the whole file: the load records a
 * warning and reading that node fails with {@link FormulaEvaluationError}, as in Aravis. Syntax errors still fail.
 */
export function compileIn(owner: GNode, src: string, vars: readonly string[], mode: FormulaMode): CompiledFormula {
  try {
    return compileFormula(src, vars, mode);
  } catch (cause) {
    if (cause instanceof FormulaEvaluationError && cause.message.startsWith('unknown variable')) {
      const ast = parseFormula(src); // it parsed inside compileFormula: the unknown identifier is the only fault
      const message = `node '${owner.name}': ${cause.message} in "${src}"`;
      owner.engine.warn(owner.name, `formula uses an ${cause.message}; reading it fails`);
      return {
        source: src,
        ast,
        mode,
        variables: [...vars],
        evaluate: () => {
          throw new FormulaEvaluationError(message);
        },
      };
    }
    if (GenicamError.isInstance(cause))
      throw new GenicamXmlError(`bad formula: ${cause.message}`, { node: owner.name }, { cause });
    throw cause;
  }
}

export async function gatherValues(
  owner: GNode,
  inputs: FormulaInputs,
  reservedValues: readonly FormulaValue[],
  mode: FormulaMode,
  ctx: Ctx,
): Promise<FormulaValue[]> {
  const values: FormulaValue[] = [...reservedValues];
  for (const v of inputs.vars) values.push(await owner.engine.node(v.node, owner.name).readNumeric(ctx));
  for (const c of inputs.constants) values.push(c.value);
  for (const e of inputs.expressions) values.push(evaluate(owner, e.formula, values, mode));
  return values;
}

export function evaluate(
  owner: GNode,
  f: CompiledFormula,
  values: readonly FormulaValue[],
  _mode: FormulaMode,
): FormulaValue {
  try {
    return f.evaluate(values);
  } catch (cause) {
    if (GenicamError.isInstance(cause)) {
      throw new FormulaEvaluationError(`node '${owner.name}': ${cause.message} in "${f.source}"`, { cause });
    }
    throw cause;
  }
}
