import { describe, expect, it } from 'vitest';
import {
  compileFormula,
  FormulaEvaluationError,
  FormulaSyntaxError,
  parseFormula,
  printFormula,
} from '../src/index.js';

const f = (src: string, vars: Record<string, number | bigint> = {}): number => {
  const names = Object.keys(vars);
  return compileFormula(src, names, 'float').evaluate(names.map((n) => vars[n] as number | bigint)) as number;
};
const i = (src: string, vars: Record<string, number | bigint> = {}): bigint => {
  const names = Object.keys(vars);
  return compileFormula(src, names, 'int').evaluate(names.map((n) => vars[n] as number | bigint)) as bigint;
};

describe('formula operators (float mode)', () => {
  it.each([
    ['1 + 2', 3],
    ['5 - 7', -2],
    ['6 * 7', 42],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['7.5 % 2', 1.5],
    ['2 ** 10', 1024],
    ['2 ** 3 ** 2', 512],
    ['-2 ** 2', 4],
    ['12 & 10', 8],
    ['12 | 10', 14],
    ['12 ^ 10', 6],
    ['~0', -1],
    ['1 << 4', 16],
    ['256 >> 4', 16],
    ['-16 >> 2', -4],
    ['1 << 64', 1],
    ['3 = 3', 1],
    ['3 = 4', 0],
    ['3 <> 4', 1],
    ['3 <> 3', 0],
    ['2 < 3', 1],
    ['3 < 2', 0],
    ['3 > 2', 1],
    ['2 > 3', 0],
    ['3 <= 3', 1],
    ['4 <= 3', 0],
    ['3 >= 3', 1],
    ['2 >= 3', 0],
    ['1 && 2', 1],
    ['1 && 0', 0],
    ['0 || 0', 0],
    ['0 || 5', 1],
    ['1 ? 10 : 20', 10],
    ['0 ? 10 : 20', 20],
    ['0 ? 1 : 0 ? 2 : 3', 3],
    ['+5', 5],
    ['-(2 + 3)', -5],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['1 + 2 = 3', 1],
    ['1 | 2 & 3', 3],
    ['6 & 3 = 3', 0],
    ['0x10 + 0X0f', 31],
    ['1.5e1 + .5', 15.5],
    ['1e-3 * 1000', 1],
  ])('%s = %d', (src, want) => {
    expect(f(src)).toBe(want);
  });

  it.each([
    ['SGN(-3)', -1],
    ['SGN(0)', 0],
    ['SGN(2.5)', 1],
    ['NEG(4)', -4],
    ['ABS(-4.5)', 4.5],
    ['SQRT(16)', 4],
    ['EXP(0)', 1],
    ['LN(1)', 0],
    ['LG(1000)', 3],
    ['TRUNC(-2.7)', -2],
    ['FLOOR(-2.2)', -3],
    ['CEIL(2.2)', 3],
    ['ROUND(2.5)', 3],
    ['ROUND(-2.5)', -3],
    ['ROUND(2.4)', 2],
    ['ROUND(3.14159, 2)', 3.14],
    ['SIN(0)', 0],
    ['COS(0)', 1],
    ['TAN(0)', 0],
    ['ASIN(1)', Math.PI / 2],
    ['ACOS(1)', 0],
    ['ATAN(1)', Math.PI / 4],
    ['PI', Math.PI],
    ['E', Math.E],
    ['ln(E)', 1],
  ])('%s', (src, want) => {
    expect(f(src)).toBeCloseTo(want, 12);
  });

  it('binds variables by name, bigint or number', () => {
    expect(f('WIDTH * HEIGHT', { WIDTH: 640n, HEIGHT: 480 })).toBe(307200);
    expect(f('FROM / 2', { FROM: 5 })).toBe(2.5);
  });

  it('evaluates && || ?: lazily', () => {
    expect(f('0 && 1 / 0')).toBe(0);
    expect(f('1 || 1 / 0')).toBe(1);
    expect(f('1 ? 2 : 1 / 0')).toBe(2);
  });

  it('throws FormulaEvaluationError on division or remainder by zero and NaN bitwise operands', () => {
    expect(() => f('1 / 0')).toThrow(FormulaEvaluationError);
    expect(() => f('1 % 0')).toThrow(FormulaEvaluationError);
    expect(() => f('SQRT(-1) & 1')).toThrow(FormulaEvaluationError);
  });
});

describe('formula operators (int mode)', () => {
  it.each([
    ['7 / 2', 3n],
    ['-7 / 2', -3n],
    ['-7 % 2', -1n],
    ['2 ** 62', 2n ** 62n],
    ['2 ** 64', 0n],
    ['3 ** 41', BigInt.asIntN(64, 3n ** 41n)],
    ['2 ** -1', 0n],
    ['1 ** -5', 1n],
    ['0x7fffffffffffffff + 1', -(2n ** 63n)],
    ['0xffffffffffffffff', -1n],
    ['1 << 63', -(2n ** 63n)],
    ['-1 >> 70', -1n],
    ['~5', -6n],
    ['5 ^ 3', 6n],
    ['2.9', 2n],
    ['SQRT(17)', 4n],
    ['ROUND(7, 2)', 7n],
    ['ABS(-9)', 9n],
    ['SGN(-9)', -1n],
    ['NEG(9)', -9n],
    ['PI * 2', 6n],
    ['9223372036854775807 * 2', -2n],
  ])('%s = %d', (src, want) => {
    expect(i(src)).toBe(want);
  });

  it('computes the Aravis PayloadSize formula', () => {
    expect(i('WIDTH * HEIGHT * ((PIXELFORMAT>>16)&0xFF) / 8', { WIDTH: 512, HEIGHT: 512, PIXELFORMAT: 17301505 })).toBe(
      262144n,
    );
  });

  it('throws on division by zero and on non-finite conversions', () => {
    expect(() => i('1 / 0')).toThrow(FormulaEvaluationError);
    expect(() => i('5 % 0')).toThrow(FormulaEvaluationError);
    expect(() => i('LN(0)')).toThrow(FormulaEvaluationError);
    expect(() => i('0 ** -1')).toThrow(FormulaEvaluationError);
  });
});

describe('formula syntax', () => {
  it.each([
    ['', 0],
    ['1 +', 3],
    ['(1 + 2', 6],
    ['1 + 2)', 5],
    ['1 $ 2', 2],
    ['FOO(1)', 0],
    ['ROUND(1, 2, 3)', 0],
    ['SIN()', 4],
    ['1 ? 2', 5],
    ['0x', 0],
    ['12abc', 2],
    ['0x1ffffffffffffffff', 0],
    ['99999999999999999999', 0],
    ['1e999', 0],
  ])('rejects %j with an offset', (src, offset) => {
    try {
      parseFormula(src);
      expect.unreachable();
    } catch (e) {
      expect(FormulaSyntaxError.isInstance(e)).toBe(true);
      expect((e as FormulaSyntaxError).offset).toBe(offset);
      expect((e as FormulaSyntaxError).formula).toBe(src);
    }
  });

  it('rejects unknown variables at compile time', () => {
    expect(() => compileFormula('X + Y', ['X'], 'float')).toThrow(/unknown variable 'Y'/);
  });

  it('bounds nesting depth and length', () => {
    expect(() => parseFormula(`${'('.repeat(5000)}1${')'.repeat(5000)}`)).toThrow(FormulaSyntaxError);
    expect(() => parseFormula('1+'.repeat(40_000))).toThrow(/longer than/);
    // A long ternary chain as vendors write it parses fine.
    const chain = `${Array.from({ length: 100 }, (_, k) => `(FROM=${k})?${k}:(`).join('')}0${')'.repeat(100)}`;
    expect(() => parseFormula(chain)).not.toThrow();
  });

  it('prints a canonical form that parses back to the same tree', () => {
    for (const src of ['1+2*3', '-2**2', 'a.b ? 0xffffffffffffffff : 1.0', 'ROUND(x, 2) <> ~y', '1e21 + 5e-7']) {
      const ast = parseFormula(src);
      expect(parseFormula(printFormula(ast))).toEqual(ast);
    }
    expect(printFormula(parseFormula('1+2*3'))).toBe('(1 + (2 * 3))');
  });
});
