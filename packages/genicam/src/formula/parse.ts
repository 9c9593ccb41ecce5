/**
 * GenICam SwissKnife / Converter formula syntax: a hand-written lexer and precedence-climbing parser producing an
 * immutable AST, and a printer whose output parses back to the same AST. Pure: no I/O, no `eval`.
 *
 * Precedence, lowest first (as in the GenICam standard and Aravis's evaluator):
 *   ?: (right)  ||  &&  |  ^  &  = <>  < > <= >=  << >>  + -  * / %  ** (right)  unary - + ~  function call
 */
import { FormulaSyntaxError } from '../errors.js';

/** Binary operators, spelled as GenICam spells them. */
export const BINARY_OPERATORS = [
  '||',
  '&&',
  '|',
  '^',
  '&',
  '=',
  '<>',
  '<',
  '>',
  '<=',
  '>=',
  '<<',
  '>>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

export const UNARY_OPERATORS = ['-', '+', '~'] as const;
export type UnaryOperator = (typeof UNARY_OPERATORS)[number];

/** Functions and their argument counts (ROUND takes an optional precision). */
export const FUNCTIONS = {
  SGN: [1, 1],
  NEG: [1, 1],
  ABS: [1, 1],
  SQRT: [1, 1],
  EXP: [1, 1],
  LN: [1, 1],
  LG: [1, 1],
  TRUNC: [1, 1],
  FLOOR: [1, 1],
  CEIL: [1, 1],
  ROUND: [1, 2],
  SIN: [1, 1],
  COS: [1, 1],
  TAN: [1, 1],
  ASIN: [1, 1],
  ACOS: [1, 1],
  ATAN: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;
export type FunctionName = keyof typeof FUNCTIONS;

export type FormulaNode =
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'unary'; readonly op: UnaryOperator; readonly arg: FormulaNode }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: FormulaNode; readonly right: FormulaNode }
  | {
      readonly kind: 'ternary';
      readonly cond: FormulaNode;
      readonly whenTrue: FormulaNode;
      readonly whenFalse: FormulaNode;
    }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly FormulaNode[] };

/** Longest formula accepted, in characters. */
export const MAX_FORMULA_LENGTH = 65_536;
/** Deepest nesting accepted (parentheses, operators); keeps recursion bounded. */
export const MAX_FORMULA_DEPTH = 2000;

const BINARY_PRECEDENCE: Record<BinaryOperator, number> = {
  '||': 10,
  '&&': 20,
  '|': 40,
  '^': 50,
  '&': 60,
  '=': 70,
  '<>': 70,
  '<': 80,
  '>': 80,
  '<=': 80,
  '>=': 80,
  '<<': 90,
  '>>': 90,
  '+': 100,
  '-': 100,
  '*': 110,
  '/': 110,
  '%': 110,
  '**': 120,
};
const TERNARY_PRECEDENCE = 5;

type Token =
  | { t: 'int'; v: bigint; pos: number }
  | { t: 'float'; v: number; pos: number }
  | { t: 'ident'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

// Longest first so that '**' wins over '*', '<=' over '<', and so on.
const OPERATOR_SPELLINGS = [
  '**',
  '<<',
  '>>',
  '<=',
  '>=',
  '<>',
  '||',
  '&&',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '~',
  '=',
  '<',
  '>',
  '(',
  ')',
  '?',
  ':',
  ',',
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 46; // '.' appears in names such as `Selector.Entry`
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      const start = i;
      if (c === 48 && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
        i += 2;
        const hexStart = i;
        while (i < src.length && /[0-9a-fA-F]/.test(src[i] as string)) i++;
        if (i === hexStart) throw new FormulaSyntaxError(src, start, 'hexadecimal literal without digits');
        if (i - hexStart > 16) throw new FormulaSyntaxError(src, start, 'hexadecimal literal wider than 64 bits');
        out.push({ t: 'int', v: BigInt.asIntN(64, BigInt(`0x${src.slice(hexStart, i)}`)), pos: start });
      } else {
        let isFloat = false;
        while (isDigit(src.charCodeAt(i))) i++;
        if (src[i] === '.') {
          isFloat = true;
          i++;
          while (isDigit(src.charCodeAt(i))) i++;
        }
        if (src[i] === 'e' || src[i] === 'E') {
          let j = i + 1;
          if (src[j] === '+' || src[j] === '-') j++;
          if (isDigit(src.charCodeAt(j))) {
            isFloat = true;
            i = j;
            while (isDigit(src.charCodeAt(i))) i++;
          }
        }
        const text = src.slice(start, i);
        if (isFloat) {
          const v = Number(text);
          if (!Number.isFinite(v)) throw new FormulaSyntaxError(src, start, `number ${text} overflows a double`);
          out.push({ t: 'float', v, pos: start });
        } else {
          const v = BigInt(text);
          if (v > 0xffff_ffff_ffff_ffffn)
            throw new FormulaSyntaxError(src, start, `integer ${text} wider than 64 bits`);
          out.push({ t: 'int', v: BigInt.asIntN(64, v), pos: start });
        }
      }
      if (isIdentStart(src.charCodeAt(i)))
        throw new FormulaSyntaxError(src, i, `unexpected character '${src[i]}' after a number`);
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      while (i < src.length && isIdentPart(src.charCodeAt(i))) i++;
      out.push({ t: 'ident', v: src.slice(start, i), pos: start });
      continue;
    }
    const op = OPERATOR_SPELLINGS.find((s) => src.startsWith(s, i));
    if (op === undefined) throw new FormulaSyntaxError(src, i, `unexpected character '${src[i]}'`);
    out.push({ t: 'op', v: op, pos: i });
    i += op.length;
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

function isBinary(op: string): op is BinaryOperator {
  return Object.hasOwn(BINARY_PRECEDENCE, op);
}

/** Parses a GenICam formula. Throws {@link FormulaSyntaxError} with the offset of the problem. */
export function parseFormula(src: string): FormulaNode {
  if (src.length > MAX_FORMULA_LENGTH)
    throw new FormulaSyntaxError(src, MAX_FORMULA_LENGTH, `formula longer than ${MAX_FORMULA_LENGTH} characters`);
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token => tokens[p] as Token;
  const next = (): Token => tokens[p++] as Token;
  const expectOp = (v: string): void => {
    const t = next();
    if (t.t !== 'op' || t.v !== v) throw new FormulaSyntaxError(src, t.pos, `expected '${v}'`);
  };

  const expr = (minPrec: number, depth: number): FormulaNode => {
    if (depth > MAX_FORMULA_DEPTH) throw new FormulaSyntaxError(src, peek().pos, 'formula nested too deeply');
    let left = unary(depth + 1);
    for (;;) {
      const t = peek();
      if (t.t !== 'op') break;
      if (t.v === '?') {
        if (TERNARY_PRECEDENCE < minPrec) break;
        next();
        const then = expr(TERNARY_PRECEDENCE, depth + 1);
        expectOp(':');
        const otherwise = expr(TERNARY_PRECEDENCE, depth + 1);
        left = { kind: 'ternary', cond: left, whenTrue: then, whenFalse: otherwise };
        continue;
      }
      if (!isBinary(t.v)) break;
      const prec = BINARY_PRECEDENCE[t.v];
      if (prec < minPrec) break;
      next();
      const rightAssoc = t.v === '**';
      const right = expr(rightAssoc ? prec : prec + 1, depth + 1);
      left = { kind: 'binary', op: t.v, left, right };
    }
    return left;
  };

  const unary = (depth: number): FormulaNode => {
    if (depth > MAX_FORMULA_DEPTH) throw new FormulaSyntaxError(src, peek().pos, 'formula nested too deeply');
    const t = peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+' || t.v === '~')) {
      next();
      return { kind: 'unary', op: t.v, arg: unary(depth + 1) };
    }
    return primary(depth + 1);
  };

  const primary = (depth: number): FormulaNode => {
    const t = next();
    switch (t.t) {
      case 'int':
        return { kind: 'int', value: t.v };
      case 'float':
        return { kind: 'float', value: t.v };
      case 'ident': {
        const after = peek();
        if (after.t === 'op' && after.v === '(') {
          const upper = t.v.toUpperCase();
          if (!Object.hasOwn(FUNCTIONS, upper)) throw new FormulaSyntaxError(src, t.pos, `unknown function '${t.v}'`);
          const fn = upper as FunctionName;
          next();
          const args: FormulaNode[] = [expr(0, depth + 1)];
          for (;;) {
            const sep = peek();
            if (sep.t === 'op' && sep.v === ',') {
              next();
              args.push(expr(0, depth + 1));
              continue;
            }
            break;
          }
          expectOp(')');
          const [lo, hi] = FUNCTIONS[fn];
          if (args.length < lo || args.length > hi)
            throw new FormulaSyntaxError(
              src,
              t.pos,
              `${fn} takes ${lo === hi ? lo : `${lo} or ${hi}`} argument(s), got ${args.length}`,
            );
          return { kind: 'call', fn, args };
        }
        return { kind: 'ident', name: t.v };
      }
      case 'op':
        if (t.v === '(') {
          const inner = expr(0, depth + 1);
          expectOp(')');
          return inner;
        }
        throw new FormulaSyntaxError(src, t.pos, `unexpected '${t.v}'`);
      case 'end':
        throw new FormulaSyntaxError(src, t.pos, 'unexpected end of formula');
    }
  };

  const ast = expr(0, 0);
  const rest = peek();
  if (rest.t !== 'end') throw new FormulaSyntaxError(src, rest.pos, 'unexpected text after the formula');
  return ast;
}

/** Prints an AST as a formula that {@link parseFormula} turns back into the same AST (fully parenthesised). */
export function printFormula(node: FormulaNode): string {
  switch (node.kind) {
    case 'int':
      // Negative literals only arise from 64-bit hex wrap-around; print them as hex so they stay literals.
      return node.value >= 0n ? node.value.toString() : `0x${BigInt.asUintN(64, node.value).toString(16)}`;
    case 'float': {
      const s = String(node.value);
      return /[.e]/.test(s) ? s : `${s}.0`;
    }
    case 'ident':
      return node.name;
    case 'unary':
      return `${node.op}(${printFormula(node.arg)})`;
    case 'binary':
      return `(${printFormula(node.left)} ${node.op} ${printFormula(node.right)})`;
    case 'ternary':
      return `(${printFormula(node.cond)} ? ${printFormula(node.whenTrue)} : ${printFormula(node.whenFalse)})`;
    case 'call':
      return `${node.fn}(${node.args.map(printFormula).join(', ')})`;
  }
}

/** Identifiers a formula mentions (variables and the constants E and PI), in first-use order. */
export function formulaIdentifiers(node: FormulaNode, out: string[] = []): string[] {
  switch (node.kind) {
    case 'ident':
      if (!out.includes(node.name)) out.push(node.name);
      break;
    case 'unary':
      formulaIdentifiers(node.arg, out);
      break;
    case 'binary':
      formulaIdentifiers(node.left, out);
      formulaIdentifiers(node.right, out);
      break;
    case 'ternary':
      formulaIdentifiers(node.cond, out);
      formulaIdentifiers(node.whenTrue, out);
      formulaIdentifiers(node.whenFalse, out);
      break;
    case 'call':
      for (const a of node.args) formulaIdentifiers(a, out);
      break;
    default:
      break;
  }
  return out;
}
