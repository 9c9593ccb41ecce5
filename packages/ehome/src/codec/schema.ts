import { ValueOutOfRangeError } from '@cam/net-utils/wire';
import { FieldTypeError, MissingFieldError } from './errors.js';
import { escapeText, readTree, unescapeText, writeTree, type XmlElement, type XmlNode, type XmlTree } from './xml.js';

/**
 * One field of a message: its element tag, whether it may be absent, and how its value is read from a parsed
 * element and written as XML. The type parameter is the TypeScript type of the value, so message types are
 * inferred from their field tables (one source of truth for the codec and the types).
 */
export interface Field<T, O extends boolean = false> {
  readonly tag: string;
  readonly optional: O;
  readonly shape: Shape;
  /** Reads the value from a present element. */
  read(node: XmlNode, path: string): T;
  /** Appends the element(s) for `value`. */
  write(value: T, path: string, out: string[]): void;
  /** The value when the element is absent, for fields where absence is a value (an empty list). */
  readonly absent?: () => T;
  /** Phantom: never set. */
  readonly __type?: T;
}

// biome-ignore lint/suspicious/noExplicitAny: a table of fields of any value type
export type Fields = { readonly [key: string]: Field<any, boolean> };
type FieldValue<F> = F extends Field<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The object type a field table describes: required fields, and optional ones as `key?:`. */
export type Infer<F extends Fields> = Simplify<
  { -readonly [K in keyof F as F[K] extends Field<unknown, true> ? never : K]: FieldValue<F[K]> } & {
    -readonly [K in keyof F as F[K] extends Field<unknown, true> ? K : never]?: FieldValue<F[K]>;
  }
>;

/** What a value looks like, for documentation and for generating test values. */
export type Shape =
  | { kind: 'string'; min: number; max: number; pattern: RegExp | undefined }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'record'; name: string }
  | { kind: 'list'; item: Shape; max: number }
  | { kind: 'object'; fields: Fields }
  | { kind: 'tree' };

/** A text item: how one element's text becomes a value and back (used for scalars and list items). */
export interface TextCodec<T> {
  readonly expected: string;
  readonly shape: Shape;
  parse(text: string, path: string): T;
  format(value: T, path: string): string;
}

function textOf(node: XmlNode, path: string): string {
  if (typeof node === 'string') return unescapeText(node, path);
  if (Array.isArray(node)) throw new FieldTypeError(path, 'a single element (it appears more than once)');
  throw new FieldTypeError(path, 'text, not child elements');
}

function scalar<T>(tag: string, codec: TextCodec<T>): Field<T> {
  return {
    tag,
    optional: false,
    shape: codec.shape,
    read: (node, path) => codec.parse(textOf(node, path), path),
    write: (value, path, out) => {
      out.push(`<${tag}>${escapeText(codec.format(value, path), path)}</${tag}>`);
    },
  };
}

/** Marks a field as optional (absent on the wire = absent in the object). */
export function optional<T>(field: Field<T>): Field<T, true> {
  return { ...field, optional: true };
}

export function stringCodec(
  options: { max?: number; min?: number; pattern?: RegExp; what?: string } = {},
): TextCodec<string> {
  const max = options.max ?? 255;
  const min = options.min ?? 0;
  const expected = options.what ?? `text of ${min}-${max} characters`;
  const check = (s: string, path: string, encode: boolean): string => {
    if (s.length > max || s.length < min || (options.pattern && !options.pattern.test(s))) {
      if (encode) throw new ValueOutOfRangeError(path, `must be ${expected}`);
      throw new FieldTypeError(path, expected, s);
    }
    return s;
  };
  return {
    expected,
    shape: { kind: 'string', min, max, pattern: options.pattern },
    parse: (text, path) => check(text, path, false),
    format: (value, path) => {
      if (typeof value !== 'string') throw new ValueOutOfRangeError(path, 'must be a string');
      return check(value, path, true);
    },
  };
}

export function intCodec(min: number, max: number): TextCodec<number> {
  const expected = `an integer in ${min}..${max}`;
  return {
    expected,
    shape: { kind: 'int', min, max },
    parse: (text, path) => {
      if (!/^[-+]?\d{1,16}$/.test(text)) throw new FieldTypeError(path, expected, text);
      const v = Number(text);
      if (!Number.isSafeInteger(v) || v < min || v > max) throw new FieldTypeError(path, expected, text);
      return v;
    },
    format: (value, path) => {
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new ValueOutOfRangeError(path, `must be ${expected}, got ${String(value)}`);
      }
      return String(value);
    },
  };
}

/**
 * A 0/1 flag. Public clients write flags as words as often as digits (an EHome 4.0 demo client sends
 * `<DetectPackage>TRUE</DetectPackage>`), so `TRUE|FALSE|true|false|1|0` are all read; `0`/`1` are written.
 */
export const flagCodec: TextCodec<number> = {
  expected: 'a flag: 0, 1, TRUE, FALSE, true or false',
  shape: { kind: 'int', min: 0, max: 1 },
  parse: (text, path) => {
    switch (text) {
      case '1':
      case 'TRUE':
      case 'true':
        return 1;
      case '0':
      case 'FALSE':
      case 'false':
        return 0;
      default:
        throw new FieldTypeError(path, flagCodec.expected, text);
    }
  },
  format: (value, path) => {
    if (value !== 0 && value !== 1) throw new ValueOutOfRangeError(path, `must be 0 or 1, got ${String(value)}`);
    return String(value);
  },
};

export function enumCodec<const V extends readonly string[]>(values: V): TextCodec<V[number]> {
  const expected = `one of ${values.join(', ')}`;
  const set = new Set<string>(values);
  return {
    expected,
    shape: { kind: 'enum', values },
    parse: (text, path) => {
      if (!set.has(text)) throw new FieldTypeError(path, expected, text);
      return text as V[number];
    },
    format: (value, path) => {
      if (!set.has(value)) throw new ValueOutOfRangeError(path, `must be ${expected}`);
      return value;
    },
  };
}

/** EHome times: `YYYY-MM-DD HH:MM:SS` (device local time), kept as text so no time zone is invented. */
export const EHOME_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;
export const timeCodec = stringCodec({ pattern: EHOME_TIME, what: 'a time as YYYY-MM-DD HH:MM:SS', max: 19 });

/** A text field. */
export function str(tag: string, options?: Parameters<typeof stringCodec>[0]): Field<string> {
  return scalar(tag, stringCodec(options));
}
/** An integer field with its inclusive range. */
export function int(tag: string, min: number, max: number): Field<number> {
  return scalar(tag, intCodec(min, max));
}
/** A 0/1 flag field that also reads the words public clients send ({@link flagCodec}). */
export function flag(tag: string): Field<number> {
  return scalar(tag, flagCodec);
}
/** A field holding one of a fixed set of words. */
export function oneOf<const V extends readonly string[]>(tag: string, values: V): Field<V[number]> {
  return scalar(tag, enumCodec(values));
}
/** A `YYYY-MM-DD HH:MM:SS` field. */
export function time(tag: string): Field<string> {
  return scalar(tag, timeCodec);
}
/** A field whose text has its own structure (a RecordedFile line, a CH status). */
export function text<T>(tag: string, codec: TextCodec<T>): Field<T> {
  return scalar(tag, codec);
}

/**
 * A repeated element (`<RecordedFile>` x N), optionally inside a wrapper (`<CHStatus><CH>..</CH></CHStatus>`).
 * At most `max` items on decode and encode; absent or empty means `[]`.
 */
export function list<T>(tag: string, item: TextCodec<T>, max: number, wrapper?: string): Field<T[]> {
  const outer = wrapper ?? tag;
  return {
    tag: outer,
    optional: false,
    shape: { kind: 'list', item: item.shape, max },
    absent: () => [],
    read: (node, path) => {
      let items: XmlNode;
      if (wrapper !== undefined) {
        if (node === '') return [];
        if (typeof node !== 'object' || Array.isArray(node)) throw new FieldTypeError(path, `<${tag}> elements`);
        const inner = node[tag];
        if (inner === undefined) return [];
        items = inner;
      } else items = node;
      const arr = Array.isArray(items) ? items : [items];
      if (arr.length > max) throw new FieldTypeError(path, `at most ${max} <${tag}> elements`, String(arr.length));
      return arr.map((n, i) => item.parse(textOf(n, `${path}.${tag}[${i}]`), `${path}.${tag}[${i}]`));
    },
    write: (value, path, out) => {
      if (!Array.isArray(value)) throw new ValueOutOfRangeError(path, 'must be an array');
      if (value.length > max) throw new ValueOutOfRangeError(path, `at most ${max} items`);
      if (wrapper !== undefined) out.push(`<${wrapper}>`);
      value.forEach((v, i) => {
        const p = `${path}[${i}]`;
        out.push(`<${tag}>${escapeText(item.format(v, p), p)}</${tag}>`);
      });
      if (wrapper !== undefined) out.push(`</${wrapper}>`);
    },
  };
}

/** A nested element with its own fields (`<DeviceStatusXML>`). */
export function object<F extends Fields>(tag: string, fields: F): Field<Infer<F>> {
  return {
    tag,
    optional: false,
    shape: { kind: 'object', fields },
    read: (node, path) => readFields(fields, node, path),
    write: (value, path, out) => {
      out.push(`<${tag}>`);
      writeFields(fields, value, path, out);
      out.push(`</${tag}>`);
    },
  };
}

/** An arbitrary subtree carried as data (`<ConfigXML>`): see {@link XmlTree}. */
export function tree(tag: string): Field<XmlTree> {
  return {
    tag,
    optional: false,
    shape: { kind: 'tree' },
    read: (node, path) => {
      const t = readTree(node, path);
      if (typeof t === 'string') {
        if (t === '') return {};
        throw new FieldTypeError(path, 'child elements, not text', t);
      }
      return t;
    },
    write: (value, path, out) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ValueOutOfRangeError(path, 'must be an object of elements');
      }
      out.push(`<${tag}>`);
      writeTree(value, path, out);
      out.push(`</${tag}>`);
    },
  };
}

/** Reads the fields of a table from an element; unknown child elements are ignored (devices add their own). */
export function readFields<F extends Fields>(fields: F, node: XmlNode, path: string): Infer<F> {
  let el: XmlElement;
  if (node === '') el = {};
  else if (typeof node === 'object' && !Array.isArray(node)) el = node;
  else if (Array.isArray(node)) throw new FieldTypeError(path, 'a single element (it appears more than once)');
  else throw new FieldTypeError(path, 'child elements, not text', node);
  if (Object.hasOwn(el, '#text')) throw new FieldTypeError(path, 'child elements only, not mixed with text');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const f = fields[key]!;
    const p = `${path}.${f.tag}`;
    const child = Object.hasOwn(el, f.tag) ? el[f.tag] : undefined;
    if (child === undefined) {
      if (f.optional) continue;
      // A list may be absent (no items) without being "missing".
      if (f.absent === undefined) throw new MissingFieldError(p);
      out[key] = f.absent();
      continue;
    }
    out[key] = f.read(child, p);
  }
  return out as Infer<F>;
}

/** Writes the fields of a table in table order; a missing required field is a {@link ValueOutOfRangeError}. */
export function writeFields<F extends Fields>(fields: F, value: Infer<F>, path: string, out: string[]): void {
  if (typeof value !== 'object' || value === null) throw new ValueOutOfRangeError(path, 'must be an object');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const f = fields[key]!;
    const x = v[key];
    const p = `${path}.${f.tag}`;
    if (x === undefined) {
      if (f.optional) continue;
      throw new ValueOutOfRangeError(p, 'is required');
    }
    f.write(x, p, out);
  }
}
