/**
 * Turns a formula AST into a closure tree once; evaluating it many times then costs no parsing and no lookups.
 *
 * Two arithmetic modes, as GenICam defines them:
 * - `'float'` (SwissKnife, Converter): IEEE doubles. Bitwise operators and shifts act on the operands truncated to
 *   int64. `%` is the floating remainder (sign of the dividend).
 * - `'int'` (IntSwissKnife, IntConverter): 64-bit two's complement integers (bigint wrapped with `asIntN(64)`);
 *   `/` and `%` truncate toward zero as in C; transcendental functions are computed in double and truncated.
 * In both modes: comparisons and logical operators yield 1 or 0; `&&`, `||` and `?:` evaluate lazily; a shift
 * count is taken modulo 64; division or remainder by zero, and NaN or infinity where an integer is needed, throw
 * {@link FormulaEvaluationError}. Unary minus binds tighter than `**` (`-2**2` is 4), as in Aravis.
 */
import { FormulaEvaluationError } from '../errors.js';
import type { FormulaNode, FunctionName } from './parse.js';
import { formulaIdentifiers, parseFormula } from './parse.js';

export type FormulaMode = 'float' | 'int';
export type FormulaValue = number | bigint;

type FloatFn = (v: readonly FormulaValue[]) => number;
type IntFn = (v: readonly FormulaValue[]) => bigint;

/** A formula parsed and compiled once, evaluated many times. */
export interface CompiledFormula {
  readonly source: string;
  readonly ast: FormulaNode;
  readonly mode: FormulaMode;
  /** Variable names, in the order `evaluate` expects their values. */
  readonly variables: readonly string[];
  /** Evaluates with `values[i]` bound to `variables[i]`. Float mode returns a number, int mode a bigint. */
  evaluate(values: readonly FormulaValue[]): FormulaValue;
}

/** Truncates a double to int64; NaN and infinities are errors. Values beyond int64 wrap like the C cast does on x86-64. */
export function toInt64(x: number): bigint {
  if (!Number.isFinite(x)) throw new FormulaEvaluationError(`cannot convert ${x} to an integer`);
  return BigInt.asIntN(64, BigInt(Math.trunc(x)));
}

/** C `round`: halves go away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function wrap(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

/** Integer power modulo 2^64 by repeated squaring (an int64 exponent needs at most 63 rounds). */
export function intPow(base: bigint, exp: bigint): bigint {
  if (exp < 0n) {
    if (base === 1n) return 1n;
    if (base === -1n) return exp % 2n === 0n ? 1n : -1n;
    if (base === 0n) throw new FormulaEvaluationError('0 raised to a negative power');
    return 0n;
  }
  let result = 1n;
  let b = BigInt.asUintN(64, base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = BigInt.asUintN(64, result * b);
    b = BigInt.asUintN(64, b * b);
    e >>= 1n;
  }
  return BigInt.asIntN(64, result);
}

function shiftCount(x: bigint): bigint {
  return BigInt.asUintN(6, x);
}

const FLOAT_FUNCTIONS: Record<Exclude<FunctionName, 'ROUND'>, (x: number) => number> = {
  SGN: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  NEG: (x) => -x,
  ABS: Math.abs,
  SQRT: Math.sqrt,
  EXP: Math.exp,
  LN: Math.log,
  LG: Math.log10,
  TRUNC: Math.trunc,
  FLOOR: Math.floor,
  CEIL: Math.ceil,
  SIN: Math.sin,
  COS: Math.cos,
  TAN: Math.tan,
  ASIN: Math.asin,
  ACOS: Math.acos,
  ATAN: Math.atan,
};

function compileFloat(node: FormulaNode, vars: readonly string[]): FloatFn {
  switch (node.kind) {
    case 'int': {
      const v = Number(node.value);
      return () => v;
    }
    case 'float': {
      const v = node.value;
      return () => v;
    }
    case 'ident': {
      const i = vars.indexOf(node.name);
      if (i >= 0)
        return (values) => {
          const x = values[i] as FormulaValue;
          return typeof x === 'bigint' ? Number(x) : x;
        };
      const k = constant(node.name);
      return () => k;
    }
    case 'unary': {
      const a = compileFloat(node.arg, vars);
      switch (node.op) {
        case '-':
          return (v) => -a(v);
        case '+':
          return a;
        case '~':
          return (v) => Number(~toInt64(a(v)));
      }
      break;
    }
    case 'ternary': {
      const c = compileFloat(node.cond, vars);
      const t = compileFloat(node.whenTrue, vars);
      const e = compileFloat(node.whenFalse, vars);
      return (v) => (c(v) !== 0 ? t(v) : e(v));
    }
    case 'call': {
      const args = node.args.map((a) => compileFloat(a, vars));
      const a0 = args[0] as FloatFn;
      if (node.fn === 'ROUND') {
        const a1 = args[1];
        if (a1 === undefined) return (v) => roundHalfAway(a0(v));
        return (v) => {
          const scale = 10 ** Number(toInt64(a1(v)));
          return roundHalfAway(a0(v) * scale) / scale;
        };
      }
      const f = FLOAT_FUNCTIONS[node.fn];
      return (v) => f(a0(v));
    }
    case 'binary': {
      const l = compileFloat(node.left, vars);
      const r = compileFloat(node.right, vars);
      switch (node.op) {
        case '+':
          return (v) => l(v) + r(v);
        case '-':
          return (v) => l(v) - r(v);
        case '*':
          return (v) => l(v) * r(v);
        case '/':
          return (v) => {
            const d = r(v);
            if (d === 0) throw new FormulaEvaluationError('division by zero');
            return l(v) / d;
          };
        case '%':
          return (v) => {
            const d = r(v);
            if (d === 0) throw new FormulaEvaluationError('remainder by zero');
            return l(v) % d;
          };
        case '**':
          return (v) => l(v) ** r(v);
        case '&':
          return (v) => Number(toInt64(l(v)) & toInt64(r(v)));
        case '|':
          return (v) => Number(toInt64(l(v)) | toInt64(r(v)));
        case '^':
          return (v) => Number(toInt64(l(v)) ^ toInt64(r(v)));
        case '<<':
          return (v) => Number(wrap(toInt64(l(v)) << shiftCount(toInt64(r(v)))));
        case '>>':
          return (v) => Number(toInt64(l(v)) >> shiftCount(toInt64(r(v))));
        case '=':
          return (v) => (l(v) === r(v) ? 1 : 0);
        case '<>':
          return (v) => (l(v) !== r(v) ? 1 : 0);
        case '<':
          return (v) => (l(v) < r(v) ? 1 : 0);
        case '>':
          return (v) => (l(v) > r(v) ? 1 : 0);
        case '<=':
          return (v) => (l(v) <= r(v) ? 1 : 0);
        case '>=':
          return (v) => (l(v) >= r(v) ? 1 : 0);
        case '&&':
          return (v) => (l(v) !== 0 && r(v) !== 0 ? 1 : 0);
        case '||':
          return (v) => (l(v) !== 0 || r(v) !== 0 ? 1 : 0);
      }
    }
  }
  throw new FormulaEvaluationError(`unsupported formula node ${JSON.stringify(node)}`);
}

function compileInt(node: FormulaNode, vars: readonly string[]): IntFn {
  switch (node.kind) {
    case 'int': {
      const v = node.value;
      return () => v;
    }
    case 'float': {
      const v = toInt64(node.value);
      return () => v;
    }
    case 'ident': {
      const i = vars.indexOf(node.name);
      if (i >= 0)
        return (values) => {
          const x = values[i] as FormulaValue;
          return typeof x === 'bigint' ? x : toInt64(x);
        };
      const k = toInt64(constant(node.name));
      return () => k;
    }
    case 'unary': {
      const a = compileInt(node.arg, vars);
      switch (node.op) {
        case '-':
          return (v) => wrap(-a(v));
        case '+':
          return a;
        case '~':
          return (v) => ~a(v);
      }
      break;
    }
    case 'ternary': {
      const c = compileInt(node.cond, vars);
      const t = compileInt(node.whenTrue, vars);
      const e = compileInt(node.whenFalse, vars);
      return (v) => (c(v) !== 0n ? t(v) : e(v));
    }
    case 'call': {
      const a0 = compileInt(node.args[0] as FormulaNode, vars);
      const a1 = node.args[1] !== undefined ? compileInt(node.args[1], vars) : undefined;
      switch (node.fn) {
        case 'SGN':
          return (v) => {
            const x = a0(v);
            return x > 0n ? 1n : x < 0n ? -1n : 0n;
          };
        case 'NEG':
          return (v) => wrap(-a0(v));
        case 'ABS':
          return (v) => {
            const x = a0(v);
            return wrap(x < 0n ? -x : x);
          };
        case 'TRUNC':
        case 'FLOOR':
        case 'CEIL':
          return a0;
        case 'ROUND':
          // Integers are already whole; the precision argument is still evaluated for its errors.
          if (a1 === undefined) return a0;
          return (v) => {
            a1(v);
            return a0(v);
          };
        default: {
          const f = FLOAT_FUNCTIONS[node.fn];
          return (v) => toInt64(f(Number(a0(v))));
        }
      }
    }
    case 'binary': {
      const l = compileInt(node.left, vars);
      const r = compileInt(node.right, vars);
      switch (node.op) {
        case '+':
          return (v) => wrap(l(v) + r(v));
        case '-':
          return (v) => wrap(l(v) - r(v));
        case '*':
          return (v) => wrap(l(v) * r(v));
        case '/':
          return (v) => {
            const a = l(v);
            const d = r(v);
            if (d === 0n) throw new FormulaEvaluationError('division by zero');
            return wrap(a / d);
          };
        case '%':
          return (v) => {
            const a = l(v);
            const d = r(v);
            if (d === 0n) throw new FormulaEvaluationError('remainder by zero');
            return a % d;
          };
        case '**':
          return (v) => intPow(l(v), r(v));
        case '&':
          return (v) => l(v) & r(v);
        case '|':
          return (v) => l(v) | r(v);
        case '^':
          return (v) => l(v) ^ r(v);
        case '<<':
          return (v) => wrap(l(v) << shiftCount(r(v)));
        case '>>':
          return (v) => l(v) >> shiftCount(r(v));
        case '=':
          return (v) => (l(v) === r(v) ? 1n : 0n);
        case '<>':
          return (v) => (l(v) !== r(v) ? 1n : 0n);
        case '<':
          return (v) => (l(v) < r(v) ? 1n : 0n);
        case '>':
          return (v) => (l(v) > r(v) ? 1n : 0n);
        case '<=':
          return (v) => (l(v) <= r(v) ? 1n : 0n);
        case '>=':
          return (v) => (l(v) >= r(v) ? 1n : 0n);
        case '&&':
          return (v) => (l(v) !== 0n && r(v) !== 0n ? 1n : 0n);
        case '||':
          return (v) => (l(v) !== 0n || r(v) !== 0n ? 1n : 0n);
      }
    }
  }
  throw new FormulaEvaluationError(`unsupported formula node ${JSON.stringify(node)}`);
}

function constant(name: string): number {
  const upper = name.toUpperCase();
  if (upper === 'PI') return Math.PI;
  if (upper === 'E') return Math.E;
  throw new FormulaEvaluationError(`unknown variable '${name}'`);
}

/**
 * Compiles `ast` for `variables`. Identifiers that are not variables must be the constants E or PI (any case),
 * otherwise {@link FormulaEvaluationError} is thrown now rather than at evaluation time.
 */
export function compileAst(
  ast: FormulaNode,
  variables: readonly string[],
  mode: FormulaMode,
  source = '',
): CompiledFormula {
  for (const id of formulaIdentifiers(ast)) {
    if (!variables.includes(id)) constant(id);
  }
  const vars = [...variables];
  const evaluate: (v: readonly FormulaValue[]) => FormulaValue =
    mode === 'int' ? compileInt(ast, vars) : compileFloat(ast, vars);
  return { source, ast, mode, variables: vars, evaluate };
}

/** Parses and compiles in one step. */
export function compileFormula(source: string, variables: readonly string[], mode: FormulaMode): CompiledFormula {
  return compileAst(parseFormula(source), variables, mode, source);
}
