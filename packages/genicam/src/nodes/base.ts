/**
 * The base of every GenApi node: the node types, the evaluation context and engine contract, literal parsing, and
 * GNode with its integer-like and float-like bases. Each node reads its properties from one XML element once at
 * load; values flow through `p*` references at access time, asynchronously, because any of them may end in a
 * register read through the Port.
 */
import {
  type AccessMode,
  FeatureTypeError,
  GenicamError,
  GenicamXmlError,
  InvalidValueError,
  OutOfRangeError,
} from '../errors.js';
import type { FormulaValue } from '../formula/compile.js';
import type { PortAccessOptions } from '../port.js';
import type { XmlElement } from '../xml/tree.js';

export const NODE_TYPES = [
  'Category',
  'Integer',
  'Float',
  'Boolean',
  'Command',
  'String',
  'Enumeration',
  'EnumEntry',
  'Register',
  'IntReg',
  'MaskedIntReg',
  'FloatReg',
  'StringReg',
  'StructEntry',
  'Converter',
  'IntConverter',
  'SwissKnife',
  'IntSwissKnife',
  'Port',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The GenApi interface a node implements. */
export type NodeInterface =
  | 'IInteger'
  | 'IFloat'
  | 'IBoolean'
  | 'ICommand'
  | 'IString'
  | 'IEnumeration'
  | 'IRegister'
  | 'ICategory'
  | 'IPort'
  | 'IEnumEntry';

export type Visibility = 'Beginner' | 'Expert' | 'Guru' | 'Invisible';
export type Cachable = 'NoCache' | 'WriteThrough' | 'WriteAround';
export type Endianness = 'LittleEndian' | 'BigEndian';
export type Sign = 'Signed' | 'Unsigned';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** Default float bounds (GenApi uses +-DBL_MAX). */
export const FLOAT_MAX = Number.MAX_VALUE;

/** Per-call context: the feature the user asked for (errors name it), the call options and a depth guard. */
export interface Ctx {
  readonly feature: string;
  readonly opts: PortAccessOptions;
  depth: number;
}

/** Deepest chain of node references followed in one access; deeper means a reference cycle. */
export const MAX_REFERENCE_DEPTH = 64;

/** What nodes need from the node map that owns them. */
/** A register node as the engine (the node map) sees it; RegisterNode (register.ts) is one. */
export interface RegisterRef extends GNode {
  readonly portName: string;
  readonly cachable: Cachable;
}

export interface Engine {
  node(name: string, from: string): GNode;
  readRegister(reg: RegisterRef, address: bigint, length: number, ctx: Ctx): Promise<Uint8Array>;
  writeRegister(reg: RegisterRef, address: bigint, data: Uint8Array, ctx: Ctx): Promise<void>;
  markWritten(node: GNode): void;
  /** Records a problem in the XML that loading tolerates. */
  warn(node: string, message: string): void;
  /** True when 4-byte accesses of `reg` follow the legacy GigE Vision mechanism (schema < 1.1, device port). */
  legacyRegister(reg: RegisterRef): boolean;
  /** False for a chunk or event data port with no data attached yet (its registers are then NA). */
  portHasData(portName: string): boolean;
  readonly maxRegisterLength: number;
}

/** A property given literally or through a reference to another node. */
export type Prop = { readonly lit: string } | { readonly ref: string };

const INT_LITERALS = new WeakMap<Prop, bigint>();
const FLOAT_LITERALS = new WeakMap<Prop, number>();

export function enter(ctx: Ctx, node: GNode): void {
  if (++ctx.depth > MAX_REFERENCE_DEPTH)
    throw new GenicamXmlError(`node references nested deeper than ${MAX_REFERENCE_DEPTH} (a reference cycle?)`, {
      node: node.name,
    });
}

/** Parses a GenApi integer literal: decimal or 0x hex, optionally signed. */
export function parseIntLiteral(text: string, node: string, what: string): bigint {
  const t = text.trim();
  if (/^[+-]?(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(t)) {
    const neg = t.startsWith('-');
    const body = t.replace(/^[+-]/, '');
    const v = BigInt(body);
    const r = neg ? -v : v;
    if (r >= INT64_MIN && r <= 2n ** 64n - 1n) return BigInt.asIntN(64, r);
  }
  throw new GenicamXmlError(`${what} '${text}' is not an integer`, { node });
}

/** Parses a GenApi float literal (also accepts INF/-INF and NaN spellings some vendors use). */
export function parseFloatLiteral(text: string, node: string, what: string): number {
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Number.POSITIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[+-]?(0x[0-9a-fA-F]{1,16})$/.test(t)) return Number(parseIntLiteral(t, node, what));
  const v = Number(t);
  if (t.length === 0 || Number.isNaN(v)) throw new GenicamXmlError(`${what} '${text}' is not a number`, { node });
  return v;
}

/** Integers leave the API as numbers when exact, as bigints otherwise. */
export function publicInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export function floatToInt(x: number, node: string): bigint {
  if (!Number.isFinite(x)) throw new GenicamError(`node '${node}': cannot use ${x} as an integer`);
  // Nearest integer, halves away from zero (C `llround`): truncation would turn 2.9999999999999996 into 2.
  return BigInt(x < 0 ? -Math.round(-x) : Math.round(x));
}

export function numToBigint(v: FormulaValue, node: string): bigint {
  return typeof v === 'bigint' ? v : floatToInt(v, node);
}

export function numToFloat(v: FormulaValue): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

function intersectAccess(a: AccessMode, b: AccessMode): AccessMode {
  if (a === 'NI' || b === 'NI') return 'NI';
  if (a === 'NA' || b === 'NA') return 'NA';
  const r = a !== 'WO' && b !== 'WO';
  const w = a !== 'RO' && b !== 'RO';
  return r && w ? 'RW' : r ? 'RO' : w ? 'WO' : 'NA';
}

/** p* elements that do not feed a node's value: what the node affects, or what only describes it. */
const NOT_DEPENDENCIES = new Set(['pSelected', 'pInvalidator', 'pFeature', 'pValueCopy', 'pAlias', 'pError', 'pPort']);

/** Base of every node: identity, documentation, availability and the value interface (unsupported by default). */
export abstract class GNode {
  abstract readonly type: NodeType;
  abstract readonly iface: NodeInterface;
  readonly name: string;
  readonly namespace: 'Standard' | 'Custom' | undefined;
  readonly displayName: string;
  readonly toolTip: string | undefined;
  readonly description: string | undefined;
  readonly visibility: Visibility;
  readonly imposedAccess: AccessMode | undefined;
  readonly isImplemented: Prop | undefined;
  readonly isAvailable: Prop | undefined;
  readonly isLocked: Prop | undefined;
  readonly invalidators: readonly string[];
  readonly selected: readonly string[];
  /** Elements searched for properties, first hit wins (a StructEntry, then its StructReg). */
  protected readonly els: readonly XmlElement[];

  constructor(
    els: readonly XmlElement[],
    readonly engine: Engine,
    name?: string,
  ) {
    this.els = els;
    const el = els[0] as XmlElement;
    this.name = name ?? el.attrs.Name ?? '';
    if (this.name === '') throw new GenicamXmlError(`<${el.tag}> without a Name attribute`);
    const ns = el.attrs.NameSpace;
    this.namespace = ns === 'Standard' || ns === 'Custom' ? ns : undefined;
    this.displayName = this.text('DisplayName') ?? this.name;
    this.toolTip = this.text('ToolTip');
    this.description = this.text('Description');
    const vis = this.text('Visibility');
    this.visibility = vis === 'Expert' || vis === 'Guru' || vis === 'Invisible' ? vis : 'Beginner';
    const imposed = this.text('ImposedAccessMode');
    this.imposedAccess =
      imposed !== undefined ? this.accessLiteral(imposed, 'ImposedAccessMode', undefined) : undefined;
    this.isImplemented = this.ref('pIsImplemented');
    this.isAvailable = this.ref('pIsAvailable');
    this.isLocked = this.ref('pIsLocked');
    this.invalidators = this.texts('pInvalidator');
    this.selected = this.texts('pSelected');
    this.valueCopies = this.texts('pValueCopy');
    this.alias = this.text('pAlias');
    this.errorNode = this.text('pError');
    const poll = this.text('PollingTime');
    this.pollingTime = poll !== undefined && Number.isFinite(Number(poll)) ? Number(poll) : undefined;
  }

  /** pValueCopy: nodes that get the same value whenever this one is written. */
  readonly valueCopies: readonly string[];
  /** pAlias: another node with the same meaning (informational). */
  readonly alias: string | undefined;
  /** pError: an enumeration that says, when not 0, what went wrong with the last access. */
  readonly errorNode: string | undefined;
  /** PollingTime, ms: how long a value read through this node may be served from the cache. */
  readonly pollingTime: number | undefined;

  /** Names of the nodes this node's value, address or availability is computed from (its p* references). */
  dependencies(): string[] {
    const out: string[] = [];
    for (const el of this.els) {
      for (const c of el.children) {
        if (c.text === '' || !/^p[A-Z]/.test(c.tag) || NOT_DEPENDENCIES.has(c.tag)) continue;
        out.push(c.text);
      }
    }
    return out;
  }

  /**
   * Every node-name reference in this node's XML (each p* element at any depth, e.g. pValue, pFeature, a pVariable
   * of a SwissKnife, pAddress inside an IntSwissKnife address), in document order, without duplicates.
   */
  references(): { tag: string; target: string }[] {
    const out: { tag: string; target: string }[] = [];
    const seen = new Set<string>();
    const visit = (el: XmlElement, depth: number): void => {
      for (const c of el.children) {
        if (/^p[A-Z]/.test(c.tag) && c.text !== '' && c.children.length === 0) {
          const key = `${c.tag}\0${c.text}`;
          if (!seen.has(key)) {
            seen.add(key);
            out.push({ tag: c.tag, target: c.text.trim() });
          }
        }
        // a StructEntry's second element is its StructReg: its other entries are other nodes, not this one's
        if (depth < 8 && c.tag !== 'StructEntry') visit(c, depth + 1);
      }
    };
    const first = this.els[0] as XmlElement;
    visit(first, 0);
    for (const el of this.els.slice(1)) visit(el, 0);
    return out;
  }

  // ---- property helpers ----
  protected child(tag: string): XmlElement | undefined {
    for (const el of this.els) {
      const c = el.children.find((x) => x.tag === tag);
      if (c !== undefined) return c;
    }
    return undefined;
  }
  protected text(tag: string): string | undefined {
    return this.child(tag)?.text;
  }
  protected texts(tag: string): string[] {
    const out: string[] = [];
    for (const el of this.els) for (const c of el.children) if (c.tag === tag && c.text !== '') out.push(c.text);
    return out;
  }
  protected ref(pTag: string): Prop | undefined {
    const t = this.text(pTag);
    return t !== undefined && t !== '' ? { ref: t } : undefined;
  }
  /** `lit` or `pLit` (e.g. Min / pMin). The pointer wins when both are given, as in GenApi. */
  protected prop(tag: string): Prop | undefined {
    const p = this.ref(`p${tag}`);
    if (p !== undefined) return p;
    const t = this.text(tag);
    return t !== undefined ? { lit: t } : undefined;
  }
  /** Unknown spellings fall back to `fallback` with a load warning (Aravis is as lenient), so such files load. */
  protected accessLiteral(text: string, what: string, fallback: AccessMode | undefined): AccessMode | undefined {
    if (text === 'RO' || text === 'WO' || text === 'RW' || text === 'NA' || text === 'NI') return text;
    this.engine.warn(this.name, `${what} '${text}' is not RO, WO, RW, NA or NI; using ${fallback ?? 'none'}`);
    return fallback;
  }
  protected target(p: { ref: string }): GNode {
    return this.engine.node(p.ref, this.name);
  }

  // ---- evaluation of properties ----
  protected async propInt(p: Prop, ctx: Ctx, what: string): Promise<bigint> {
    if ('lit' in p) {
      // Literals are parsed once; hot paths (address, length) read them on every access.
      let v = INT_LITERALS.get(p);
      if (v === undefined) {
        v = parseIntLiteral(p.lit, this.name, what);
        INT_LITERALS.set(p, v);
      }
      return v;
    }
    return numToBigint(await this.target(p).readNumeric(ctx), p.ref);
  }
  protected async propFloat(p: Prop, ctx: Ctx, what: string): Promise<number> {
    if ('lit' in p) {
      let v = FLOAT_LITERALS.get(p);
      if (v === undefined) {
        v = parseFloatLiteral(p.lit, this.name, what);
        FLOAT_LITERALS.set(p, v);
      }
      return v;
    }
    return numToFloat(await this.target(p).readNumeric(ctx));
  }
  protected async propBool(p: Prop, ctx: Ctx): Promise<boolean> {
    return (await this.propInt(p, ctx, 'flag')) !== 0n;
  }

  /** The access mode this node type has by itself (before availability, lock and imposed mode). */
  protected async baseAccess(_ctx: Ctx): Promise<AccessMode> {
    return 'RO';
  }

  /** The effective access mode: NI / NA from pIsImplemented / pIsAvailable, then lock and ImposedAccessMode. */
  async access(ctx: Ctx): Promise<AccessMode> {
    enter(ctx, this);
    try {
      if (this.isImplemented !== undefined && !(await this.propBool(this.isImplemented, ctx))) return 'NI';
      if (this.isAvailable !== undefined && !(await this.propBool(this.isAvailable, ctx))) return 'NA';
      let mode = await this.baseAccess(ctx);
      if (this.isLocked !== undefined && (mode === 'RW' || mode === 'WO') && (await this.propBool(this.isLocked, ctx)))
        mode = mode === 'RW' ? 'RO' : 'NA';
      if (this.imposedAccess !== undefined) mode = intersectAccess(mode, this.imposedAccess);
      return mode;
    } finally {
      ctx.depth--;
    }
  }

  protected unsupported(what: string): never {
    throw new FeatureTypeError(this.name, this.type, `does not support ${what}`);
  }

  /** The value as a formula / p* operand: integer-like nodes give a bigint, float-like nodes a number. */
  async readNumeric(ctx: Ctx): Promise<FormulaValue> {
    return this.readInt(ctx);
  }
  /** Writes a numeric operand (from a Converter or Command), converting to this node's kind. */
  async writeNumeric(v: FormulaValue, ctx: Ctx): Promise<void> {
    await this.writeInt(numToBigint(v, this.name), ctx);
  }
  async readInt(_ctx: Ctx): Promise<bigint> {
    return this.unsupported('integer values');
  }
  async writeInt(_v: bigint, _ctx: Ctx): Promise<void> {
    this.unsupported('integer values');
  }
  async intMin(_ctx: Ctx): Promise<bigint> {
    return INT64_MIN;
  }
  async intMax(_ctx: Ctx): Promise<bigint> {
    return INT64_MAX;
  }
  async intInc(_ctx: Ctx): Promise<bigint> {
    return 1n;
  }
  async floatMin(ctx: Ctx): Promise<number> {
    const v = await this.intMin(ctx);
    return v === INT64_MIN ? -FLOAT_MAX : Number(v);
  }
  async floatMax(ctx: Ctx): Promise<number> {
    const v = await this.intMax(ctx);
    return v === INT64_MAX ? FLOAT_MAX : Number(v);
  }
  async floatInc(_ctx: Ctx): Promise<number | undefined> {
    return undefined;
  }
  async readFloat(ctx: Ctx): Promise<number> {
    return Number(await this.readInt(ctx));
  }
  async writeFloat(v: number, ctx: Ctx): Promise<void> {
    await this.writeInt(floatToInt(v, this.name), ctx);
  }
  async readString(_ctx: Ctx): Promise<string> {
    return this.unsupported('string values');
  }
  async writeString(_v: string, _ctx: Ctx): Promise<void> {
    this.unsupported('string values');
  }
  /** Metadata for describe(): unit and representation where the node has them. */
  get unit(): string | undefined {
    return this.text('Unit');
  }
  get representation(): string | undefined {
    return this.text('Representation');
  }
}

/** Integer-like behaviour shared by nodes whose value is an int64. */
export abstract class IntLike extends GNode {
  readonly iface: NodeInterface = 'IInteger';
  /** Range check every write against [min, max] and the increment grid. */
  protected async checkRange(v: bigint, ctx: Ctx): Promise<void> {
    const min = await this.intMin(ctx);
    const max = await this.intMax(ctx);
    if (v < min || v > max) throw new OutOfRangeError(this.name, publicInt(v), publicInt(min), publicInt(max));
    const inc = await this.intInc(ctx);
    if (inc > 1n && (v - min) % inc !== 0n)
      throw new OutOfRangeError(this.name, publicInt(v), publicInt(min), publicInt(max), publicInt(inc));
  }
}

export abstract class FloatLike extends GNode {
  readonly iface: NodeInterface = 'IFloat';
  override async readNumeric(ctx: Ctx): Promise<FormulaValue> {
    return this.readFloat(ctx);
  }
  override async writeNumeric(v: FormulaValue, ctx: Ctx): Promise<void> {
    await this.writeFloat(numToFloat(v), ctx);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return floatToInt(await this.readFloat(ctx), this.name);
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    await this.writeFloat(Number(v), ctx);
  }
  override async floatMin(_ctx: Ctx): Promise<number> {
    return -FLOAT_MAX;
  }
  override async floatMax(_ctx: Ctx): Promise<number> {
    return FLOAT_MAX;
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    const v = await this.floatMin(ctx);
    return v <= -9.223372036854776e18 ? INT64_MIN : BigInt(Math.ceil(v));
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    const v = await this.floatMax(ctx);
    return v >= 9.223372036854776e18 ? INT64_MAX : BigInt(Math.floor(v));
  }
  protected async checkRange(v: number, ctx: Ctx): Promise<void> {
    if (Number.isNaN(v)) throw new InvalidValueError(this.name, 'NaN is not a value');
    const min = await this.floatMin(ctx);
    const max = await this.floatMax(ctx);
    if (v < min || v > max) throw new OutOfRangeError(this.name, v, min, max);
  }
  get displayNotation(): string | undefined {
    return this.text('DisplayNotation');
  }
  get displayPrecision(): number | undefined {
    const t = this.text('DisplayPrecision');
    return t !== undefined ? Number(t) : undefined;
  }
}
