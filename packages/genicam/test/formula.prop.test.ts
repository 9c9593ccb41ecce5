import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  BINARY_OPERATORS,
  compileFormula,
  FormulaEvaluationError,
  type FormulaNode,
  FUNCTIONS,
  type FunctionName,
  parseFormula,
  printFormula,
  UNARY_OPERATORS,
} from '../src/index.js';

const VARS = ['A', 'B', 'C'] as const;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

const { node: astArb } = fc.letrec<{ node: FormulaNode; leaf: FormulaNode }>((tie) => ({
  leaf: fc.oneof(
    fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((value) => ({ kind: 'int' as const, value })),
    fc.integer({ min: 0, max: 300 }).map((n) => ({ kind: 'int' as const, value: BigInt(n) })),
    fc
      .double({ min: 0, noNaN: true, noDefaultInfinity: true })
      .filter((v) => !Object.is(v, -0))
      .map((value) => ({ kind: 'float' as const, value })),
    fc.constantFrom(...VARS, 'PI', 'E').map((name) => ({ kind: 'ident' as const, name })),
  ),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom(...UNARY_OPERATORS), arg: tie('node') }),
    fc.record({
      kind: fc.constant('binary' as const),
      op: fc.constantFrom(...BINARY_OPERATORS),
      left: tie('node'),
      right: tie('node'),
    }),
    fc.record({
      kind: fc.constant('ternary' as const),
      cond: tie('node'),
      whenTrue: tie('node'),
      whenFalse: tie('node'),
    }),
    fc
      .constantFrom(...FUNCTION_NAMES)
      .chain((fn) =>
        fc
          .array(tie('node'), { minLength: FUNCTIONS[fn][0], maxLength: FUNCTIONS[fn][1] })
          .map((args) => ({ kind: 'call' as const, fn, args })),
      ),
  ),
})) as unknown as { node: fc.Arbitrary<FormulaNode> };

// ---- reference evaluator: a plain recursive interpreter of the documented semantics ----
class RefError extends Error {}
const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const toI = (x: number): bigint => {
  if (!Number.isFinite(x)) throw new RefError('non-finite');
  return i64(BigInt(Math.trunc(x)));
};
const cRound = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));
const MATH: Record<string, (x: number) => number> = {
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

function refFloat(n: FormulaNode, env: Record<string, number>): number {
  switch (n.kind) {
    case 'int':
      return Number(n.value);
    case 'float':
      return n.value;
    case 'ident':
      return n.name === 'PI' ? Math.PI : n.name === 'E' ? Math.E : (env[n.name] as number);
    case 'unary': {
      const a = refFloat(n.arg, env);
      return n.op === '-' ? -a : n.op === '+' ? a : Number(~toI(a));
    }
    case 'ternary':
      return refFloat(n.cond, env) !== 0 ? refFloat(n.whenTrue, env) : refFloat(n.whenFalse, env);
    case 'call': {
      const a = refFloat(n.args[0] as FormulaNode, env);
      if (n.fn === 'ROUND') {
        if (n.args.length === 1) return cRound(a);
        const s = 10 ** Number(toI(refFloat(n.args[1] as FormulaNode, env)));
        return cRound(a * s) / s;
      }
      return (MATH[n.fn] as (x: number) => number)(a);
    }
    case 'binary': {
      if (n.op === '&&') return refFloat(n.left, env) !== 0 && refFloat(n.right, env) !== 0 ? 1 : 0;
      if (n.op === '||') return refFloat(n.left, env) !== 0 || refFloat(n.right, env) !== 0 ? 1 : 0;
      const a = refFloat(n.left, env);
      const b = refFloat(n.right, env);
      switch (n.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0) throw new RefError('div');
          return a / b;
        case '%':
          if (b === 0) throw new RefError('mod');
          return a % b;
        case '**':
          return a ** b;
        case '&':
          return Number(toI(a) & toI(b));
        case '|':
          return Number(toI(a) | toI(b));
        case '^':
          return Number(toI(a) ^ toI(b));
        case '<<':
          return Number(i64(toI(a) << (toI(b) & 63n)));
        case '>>':
          return Number(toI(a) >> (toI(b) & 63n));
        case '=':
          return a === b ? 1 : 0;
        case '<>':
          return a !== b ? 1 : 0;
        case '<':
          return a < b ? 1 : 0;
        case '>':
          return a > b ? 1 : 0;
        case '<=':
          return a <= b ? 1 : 0;
        case '>=':
          return a >= b ? 1 : 0;
      }
    }
  }
  throw new Error('unreachable');
}

function refPow(a: bigint, b: bigint): bigint {
  if (b < 0n) {
    if (a === 1n) return 1n;
    if (a === -1n) return b % 2n === 0n ? 1n : -1n;
    if (a === 0n) throw new RefError('pow');
    return 0n;
  }
  // Exact for small exponents; otherwise by the identity a^b mod 2^64 through square-and-multiply on 2^64.
  let r = 1n;
  let base = BigInt.asUintN(64, a);
  for (let e = b; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * base) % 2n ** 64n;
    base = (base * base) % 2n ** 64n;
  }
  return i64(r);
}

function refInt(n: FormulaNode, env: Record<string, bigint>): bigint {
  switch (n.kind) {
    case 'int':
      return n.value;
    case 'float':
      return toI(n.value);
    case 'ident':
      return n.name === 'PI' ? 3n : n.name === 'E' ? 2n : (env[n.name] as bigint);
    case 'unary': {
      const a = refInt(n.arg, env);
      return n.op === '-' ? i64(-a) : n.op === '+' ? a : ~a;
    }
    case 'ternary':
      return refInt(n.cond, env) !== 0n ? refInt(n.whenTrue, env) : refInt(n.whenFalse, env);
    case 'call': {
      const a = refInt(n.args[0] as FormulaNode, env);
      switch (n.fn) {
        case 'SGN':
          return a > 0n ? 1n : a < 0n ? -1n : 0n;
        case 'NEG':
          return i64(-a);
        case 'ABS':
          return i64(a < 0n ? -a : a);
        case 'TRUNC':
        case 'FLOOR':
        case 'CEIL':
          return a;
        case 'ROUND':
          if (n.args.length === 2) refInt(n.args[1] as FormulaNode, env);
          return a;
        default:
          return toI((MATH[n.fn] as (x: number) => number)(Number(a)));
      }
    }
    case 'binary': {
      if (n.op === '&&') return refInt(n.left, env) !== 0n && refInt(n.right, env) !== 0n ? 1n : 0n;
      if (n.op === '||') return refInt(n.left, env) !== 0n || refInt(n.right, env) !== 0n ? 1n : 0n;
      const a = refInt(n.left, env);
      const b = refInt(n.right, env);
      switch (n.op) {
        case '+':
          return i64(a + b);
        case '-':
          return i64(a - b);
        case '*':
          return i64(a * b);
        case '/':
          if (b === 0n) throw new RefError('div');
          return i64(a / b);
        case '%':
          if (b === 0n) throw new RefError('mod');
          return a % b;
        case '**':
          return refPow(a, b);
        case '&':
          return a & b;
        case '|':
          return a | b;
        case '^':
          return a ^ b;
        case '<<':
          return i64(a << (b & 63n));
        case '>>':
          return a >> (b & 63n);
        case '=':
          return a === b ? 1n : 0n;
        case '<>':
          return a !== b ? 1n : 0n;
        case '<':
          return a < b ? 1n : 0n;
        case '>':
          return a > b ? 1n : 0n;
        case '<=':
          return a <= b ? 1n : 0n;
        case '>=':
          return a >= b ? 1n : 0n;
      }
    }
  }
  throw new Error('unreachable');
}

function outcome<T>(fn: () => T): { ok: T } | { error: 'eval' } {
  try {
    return { ok: fn() };
  } catch (e) {
    if (e instanceof RefError || FormulaEvaluationError.isInstance(e)) return { error: 'eval' };
    throw e;
  }
}

describe('formula properties', () => {
  test.prop([astArb], { numRuns: 500 })('parse(print(ast)) equals ast', (ast) => {
    expect(parseFormula(printFormula(ast))).toEqual(ast);
  });

  test.prop([fc.string({ maxLength: 60 })], { numRuns: 2000 })('any text parses or throws FormulaSyntaxError', (s) => {
    try {
      const ast = parseFormula(s);
      expect(parseFormula(printFormula(ast))).toEqual(ast);
    } catch (e) {
      expect((e as Error).name).toBe('FormulaSyntaxError');
    }
  });

  test.prop([astArb, fc.tuple(fc.double(), fc.double(), fc.integer())], { numRuns: 500 })(
    'float mode matches the reference evaluator',
    (ast, [a, b, c]) => {
      const compiled = compileFormula(printFormula(ast), VARS, 'float');
      const got = outcome(() => compiled.evaluate([a, b, c]) as number);
      const want = outcome(() => refFloat(ast, { A: a, B: b, C: c }));
      if ('ok' in got && 'ok' in want) {
        expect(Number.isNaN(got.ok) ? Number.isNaN(want.ok) : Object.is(got.ok, want.ok)).toBe(true);
      } else {
        expect(got).toEqual(want);
      }
    },
  );

  test.prop([astArb, fc.tuple(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), fc.bigInt(-100n, 100n), fc.bigInt(0n, 70n))], {
    numRuns: 500,
  })('int mode matches the reference evaluator', (ast, [a, b, c]) => {
    const compiled = compileFormula(printFormula(ast), VARS, 'int');
    const got = outcome(() => compiled.evaluate([a, b, c]) as bigint);
    const want = outcome(() => refInt(ast, { A: a, B: b, C: c }));
    expect(got).toEqual(want);
  });
});
