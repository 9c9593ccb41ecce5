/**
 * GenApi node types. Each node reads its properties from one XML element (a StructEntry also from its StructReg)
 * once at load; values flow through `p*` references at access time, asynchronously, because any of them may end
 * in a register read through the Port.
 */
import {
  type AccessMode,
  FeatureTypeError,
  FormulaEvaluationError,
  GenicamError,
  GenicamXmlError,
  InvalidValueError,
  OutOfRangeError,
} from './errors.js';
import { type CompiledFormula, compileFormula, type FormulaMode, type FormulaValue } from './formula/compile.js';
import type { PortAccessOptions } from './port.js';
import type { XmlElement } from './xml/tree.js';

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
export interface Engine {
  node(name: string, from: string): GNode;
  readRegister(reg: RegisterNode, address: bigint, length: number, ctx: Ctx): Promise<Uint8Array>;
  writeRegister(reg: RegisterNode, address: bigint, data: Uint8Array, ctx: Ctx): Promise<void>;
  markWritten(node: GNode): void;
  /** Records a problem in the XML that loading tolerates. */
  warn(node: string, message: string): void;
  /** True when 4-byte accesses of `reg` follow the legacy GigE Vision mechanism (schema < 1.1, device port). */
  legacyRegister(reg: RegisterNode): boolean;
  /** False for a chunk or event data port with no data attached yet (its registers are then NA). */
  portHasData(portName: string): boolean;
  readonly maxRegisterLength: number;
}

/** A property given literally or through a reference to another node. */
export type Prop = { readonly lit: string } | { readonly ref: string };

const INT_LITERALS = new WeakMap<Prop, bigint>();
const FLOAT_LITERALS = new WeakMap<Prop, number>();

function enter(ctx: Ctx, node: GNode): void {
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

function floatToInt(x: number, node: string): bigint {
  if (!Number.isFinite(x)) throw new GenicamError(`node '${node}': cannot use ${x} as an integer`);
  // Nearest integer, halves away from zero (C `llround`): truncation would turn 2.9999999999999996 into 2.
  return BigInt(x < 0 ? -Math.round(-x) : Math.round(x));
}

function numToBigint(v: FormulaValue, node: string): bigint {
  return typeof v === 'bigint' ? v : floatToInt(v, node);
}

function numToFloat(v: FormulaValue): number {
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
abstract class IntLike extends GNode {
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

// ---------------------------------------------------------------------------------------------------------------
// Category, Port

export class CategoryNode extends GNode {
  readonly type = 'Category' as const;
  readonly iface = 'ICategory' as const;
  get features(): string[] {
    return this.texts('pFeature');
  }
}

export class PortNode extends GNode {
  readonly type = 'Port' as const;
  readonly iface = 'IPort' as const;
  get chunkId(): string | undefined {
    return this.text('ChunkID');
  }
  get eventId(): string | undefined {
    return this.text('EventID');
  }
  protected override async baseAccess(): Promise<AccessMode> {
    return 'RW';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Integer, Float, Boolean, Command, String

/**
 * Where an Integer / Float takes its value: one Value / pValue, or (with pIndex) the ValueIndexed / pValueIndexed
 * whose Index equals the index node's value, else ValueDefault / pValueDefault. Literal values live in `locals`
 * so that writing them works like a device-less register.
 */
class ValueSource<T extends bigint | number> {
  readonly single: Prop | undefined;
  readonly index: string | undefined;
  readonly indexed: readonly { readonly at: bigint; readonly value: Prop }[];
  readonly fallback: Prop | undefined;
  readonly locals = new Map<Prop, T>();

  constructor(
    private readonly owner: GNode,
    els: readonly XmlElement[],
    parse: (text: string) => T,
  ) {
    const el = els[0] as XmlElement;
    const find = (tag: string): XmlElement | undefined => el.children.find((c) => c.tag === tag);
    const pv = find('pValue');
    const v = find('Value');
    this.single = pv !== undefined ? { ref: pv.text } : v !== undefined ? { lit: v.text } : undefined;
    this.index = find('pIndex')?.text;
    const indexed: { at: bigint; value: Prop }[] = [];
    for (const c of el.children) {
      if (c.tag !== 'ValueIndexed' && c.tag !== 'pValueIndexed') continue;
      const at = c.attrs.Index;
      if (at === undefined) throw new GenicamXmlError(`${c.tag} without Index`, { node: owner.name });
      indexed.push({
        at: parseIntLiteral(at, owner.name, 'Index'),
        value: c.tag === 'pValueIndexed' ? { ref: c.text } : { lit: c.text },
      });
    }
    this.indexed = indexed;
    const pd = find('pValueDefault');
    const d = find('ValueDefault');
    this.fallback = pd !== undefined ? { ref: pd.text } : d !== undefined ? { lit: d.text } : undefined;
    if (
      this.single === undefined &&
      (this.index === undefined || (indexed.length === 0 && this.fallback === undefined))
    )
      throw new GenicamXmlError(`${el.tag} without Value, pValue or pIndex with indexed values`, { node: owner.name });
    for (const p of [this.single, this.fallback, ...indexed.map((x) => x.value)]) {
      if (p !== undefined && 'lit' in p) this.locals.set(p, parse(p.lit));
    }
  }

  /** The value property that applies now. */
  async current(ctx: Ctx): Promise<Prop> {
    if (this.single !== undefined) return this.single;
    const idx = numToBigint(
      await this.owner.engine.node(this.index as string, this.owner.name).readNumeric(ctx),
      this.owner.name,
    );
    const hit = this.indexed.find((x) => x.at === idx);
    if (hit !== undefined) return hit.value;
    if (this.fallback !== undefined) return this.fallback;
    throw new InvalidValueError(this.owner.name, `no value for index ${idx}`);
  }

  /** The node behind a pValue, when the value is a single reference (used for default range and access). */
  get singleTarget(): GNode | undefined {
    return this.single !== undefined && 'ref' in this.single
      ? this.owner.engine.node(this.single.ref, this.owner.name)
      : undefined;
  }

  async access(ctx: Ctx): Promise<AccessMode> {
    if (this.single === undefined) {
      // Indexed values: access of the selected value (literal ones are read-write locals).
      const p = await this.current(ctx);
      return 'ref' in p ? this.owner.engine.node(p.ref, this.owner.name).access(ctx) : 'RW';
    }
    const t = this.singleTarget;
    return t !== undefined ? t.access(ctx) : 'RW';
  }
}

export class IntegerNode extends IntLike {
  readonly type = 'Integer' as const;
  private readonly source: ValueSource<bigint>;
  private readonly min = this.prop('Min');
  private readonly max = this.prop('Max');
  private readonly inc = this.prop('Inc');

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    this.source = new ValueSource<bigint>(this, els, (t) => parseIntLiteral(t, this.name, 'Value'));
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return this.source.access(ctx);
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    enter(ctx, this);
    try {
      const p = await this.source.current(ctx);
      if ('ref' in p) return numToBigint(await this.target(p).readNumeric(ctx), this.name);
      return this.source.locals.get(p) ?? 0n;
    } finally {
      ctx.depth--;
    }
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      await this.checkRange(v, ctx);
      const p = await this.source.current(ctx);
      if ('ref' in p) await this.target(p).writeInt(v, ctx);
      else this.source.locals.set(p, v);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    if (this.min !== undefined) return this.propInt(this.min, ctx, 'Min');
    return (await this.source.singleTarget?.intMin(ctx)) ?? INT64_MIN;
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    if (this.max !== undefined) return this.propInt(this.max, ctx, 'Max');
    return (await this.source.singleTarget?.intMax(ctx)) ?? INT64_MAX;
  }
  override async intInc(ctx: Ctx): Promise<bigint> {
    if (this.inc !== undefined) {
      const inc = await this.propInt(this.inc, ctx, 'Inc');
      return inc > 0n ? inc : 1n;
    }
    return (await this.source.singleTarget?.intInc(ctx)) ?? 1n;
  }
}

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

export class BooleanNode extends GNode {
  readonly type = 'Boolean' as const;
  readonly iface = 'IBoolean' as const;
  private readonly value: Prop;
  private local: bigint | undefined;
  readonly onValue: bigint;
  readonly offValue: bigint;

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const v = this.prop('Value');
    if (v === undefined) throw new GenicamXmlError('Boolean without Value or pValue', { node: this.name });
    this.value = v;
    const on = this.text('OnValue');
    const off = this.text('OffValue');
    this.onValue = on !== undefined ? parseIntLiteral(on, this.name, 'OnValue') : 1n;
    this.offValue = off !== undefined ? parseIntLiteral(off, this.name, 'OffValue') : 0n;
    if ('lit' in v) {
      const t = v.lit.trim().toLowerCase();
      this.local =
        t === 'true' ? this.onValue : t === 'false' ? this.offValue : parseIntLiteral(v.lit, this.name, 'Value');
    }
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return 'ref' in this.value ? this.target(this.value).access(ctx) : 'RW';
  }
  async readBool(ctx: Ctx): Promise<boolean> {
    enter(ctx, this);
    try {
      const raw =
        'ref' in this.value ? numToBigint(await this.target(this.value).readNumeric(ctx), this.name) : this.local;
      return raw === this.onValue;
    } finally {
      ctx.depth--;
    }
  }
  async writeBool(b: boolean, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const raw = b ? this.onValue : this.offValue;
      if ('ref' in this.value) await this.target(this.value).writeInt(raw, ctx);
      else this.local = raw;
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    return (await this.readBool(ctx)) ? 1n : 0n;
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    if (v !== 0n && v !== 1n) throw new OutOfRangeError(this.name, publicInt(v), 0, 1);
    await this.writeBool(v === 1n, ctx);
  }
  override async intMin(): Promise<bigint> {
    return 0n;
  }
  override async intMax(): Promise<bigint> {
    return 1n;
  }
}

export class CommandNode extends GNode {
  readonly type = 'Command' as const;
  readonly iface = 'ICommand' as const;
  private readonly value: Prop;
  private readonly commandValue: Prop;

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const v = this.prop('Value');
    if (v === undefined) throw new GenicamXmlError('Command without Value or pValue', { node: this.name });
    this.value = v;
    if ('lit' in v) parseIntLiteral(v.lit, this.name, 'Value');
    this.commandValue = this.prop('CommandValue') ?? { lit: '1' };
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return 'ref' in this.value ? this.target(this.value).access(ctx) : 'WO';
  }
  async execute(ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const cmd = await this.propInt(this.commandValue, ctx, 'CommandValue');
      // A Command with a literal Value has nothing to write to; executing it only notifies invalidation.
      if ('ref' in this.value) await this.target(this.value).writeInt(cmd, ctx);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  /** True once the device has finished: the value no longer reads as the command value (or cannot be read). */
  async isDone(ctx: Ctx): Promise<boolean> {
    if ('lit' in this.value) return true;
    const target = this.target(this.value);
    const mode = await target.access(ctx);
    if (mode !== 'RO' && mode !== 'RW') return true;
    const cmd = await this.propInt(this.commandValue, ctx, 'CommandValue');
    return numToBigint(await target.readNumeric(ctx), this.name) !== cmd;
  }
}

export class StringNode extends GNode {
  readonly type = 'String' as const;
  readonly iface = 'IString' as const;
  private readonly value: Prop;
  private local: string;

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const v = this.prop('Value');
    if (v === undefined) throw new GenicamXmlError('String without Value or pValue', { node: this.name });
    this.value = v;
    this.local = 'lit' in v ? v.lit : '';
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return 'ref' in this.value ? this.target(this.value).access(ctx) : 'RW';
  }
  override async readString(ctx: Ctx): Promise<string> {
    enter(ctx, this);
    try {
      return 'ref' in this.value ? await this.target(this.value).readString(ctx) : this.local;
    } finally {
      ctx.depth--;
    }
  }
  override async writeString(v: string, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      if ('ref' in this.value) await this.target(this.value).writeString(v, ctx);
      else this.local = v;
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Enumeration

export class EnumEntryNode extends GNode {
  readonly type = 'EnumEntry' as const;
  readonly iface = 'IEnumEntry' as const;
  readonly value: bigint;
  readonly numericValue: number | undefined;
  readonly symbolic: string;
  constructor(els: readonly XmlElement[], engine: Engine, enumeration: string) {
    super(els, engine);
    const v = this.text('Value');
    if (v === undefined) throw new GenicamXmlError(`EnumEntry of '${enumeration}' without Value`, { node: this.name });
    this.value = parseIntLiteral(v, this.name, 'Value');
    const nv = this.text('NumericValue');
    this.numericValue = nv !== undefined ? parseFloatLiteral(nv, this.name, 'NumericValue') : undefined;
    this.symbolic = this.text('Symbolic') ?? this.name;
  }
  protected override async baseAccess(): Promise<AccessMode> {
    return 'RO';
  }
  /** Selectable now: implemented and available. */
  async selectable(ctx: Ctx): Promise<boolean> {
    const a = await this.access(ctx);
    return a !== 'NA' && a !== 'NI';
  }
  override async readInt(): Promise<bigint> {
    return this.value;
  }
}

export class EnumerationNode extends GNode {
  readonly type = 'Enumeration' as const;
  readonly iface = 'IEnumeration' as const;
  readonly entries: readonly EnumEntryNode[];
  private readonly value: Prop;
  private local: bigint | undefined;

  constructor(els: readonly XmlElement[], engine: Engine) {
    super(els, engine);
    const v = this.prop('Value');
    if (v === undefined) throw new GenicamXmlError('Enumeration without Value or pValue', { node: this.name });
    this.value = v;
    if ('lit' in v) this.local = parseIntLiteral(v.lit, this.name, 'Value');
    const el = els[0] as XmlElement;
    this.entries = el.children
      .filter((c) => c.tag === 'EnumEntry')
      .map((c) => {
        // Entry names are qualified by GenApi as EnumEntry_<Enumeration>_<Name>; we keep the XML Name as is.
        return new EnumEntryNode([c], engine, this.name);
      });
  }
  protected override async baseAccess(ctx: Ctx): Promise<AccessMode> {
    return 'ref' in this.value ? this.target(this.value).access(ctx) : 'RW';
  }
  entry(name: string): EnumEntryNode | undefined {
    return this.entries.find((e) => e.name === name || e.symbolic === name);
  }
  async selectableNames(ctx: Ctx): Promise<string[]> {
    const out: string[] = [];
    for (const e of this.entries) if (await e.selectable(ctx)) out.push(e.symbolic);
    return out;
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    enter(ctx, this);
    try {
      if ('ref' in this.value) return numToBigint(await this.target(this.value).readNumeric(ctx), this.name);
      return this.local ?? 0n;
    } finally {
      ctx.depth--;
    }
  }
  async readEntry(ctx: Ctx): Promise<EnumEntryNode> {
    const v = await this.readInt(ctx);
    const e = this.entries.find((x) => x.value === v);
    if (e === undefined) throw new InvalidValueError(this.name, `the device value ${v} matches no entry`);
    return e;
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    const e = this.entries.find((x) => x.value === v);
    if (e === undefined)
      throw new InvalidValueError(this.name, `${v} is not the value of an entry`, await this.selectableNames(ctx));
    await this.writeEntry(e, ctx);
  }
  async writeEntryName(name: string, ctx: Ctx): Promise<void> {
    const e = this.entry(name);
    if (e === undefined)
      throw new InvalidValueError(this.name, `'${name}' is not an entry`, await this.selectableNames(ctx));
    await this.writeEntry(e, ctx);
  }
  private async writeEntry(e: EnumEntryNode, ctx: Ctx): Promise<void> {
    if (!(await e.selectable(ctx)))
      throw new InvalidValueError(
        this.name,
        `entry '${e.symbolic}' is not available now`,
        await this.selectableNames(ctx),
      );
    enter(ctx, this);
    try {
      if ('ref' in this.value) await this.target(this.value).writeInt(e.value, ctx);
      else this.local = e.value;
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  override async readString(ctx: Ctx): Promise<string> {
    return (await this.readEntry(ctx)).symbolic;
  }
  override async writeString(v: string, ctx: Ctx): Promise<void> {
    await this.writeEntryName(v, ctx);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Registers

interface IndexSpec {
  readonly index: string;
  readonly offset: Prop | undefined;
}

/** Everything with an address, a length and a port: Register, IntReg, MaskedIntReg, FloatReg, StringReg, StructEntry. */
export abstract class RegisterNode extends GNode {
  readonly addressParts: readonly Prop[];
  readonly addressKnives: readonly SwissKnifeBase[];
  readonly indexes: readonly IndexSpec[];
  readonly lengthProp: Prop;
  readonly accessMode: AccessMode;
  readonly portName: string;
  readonly cachable: Cachable;
  readonly endianness: Endianness;

  constructor(els: readonly XmlElement[], engine: Engine, name?: string) {
    super(els, engine, name);
    const parts: Prop[] = [];
    const knives: SwissKnifeBase[] = [];
    const indexes: IndexSpec[] = [];
    // Address parts are additive; they come from the first element that has any (the StructReg for entries).
    const owner =
      els.find((el) =>
        el.children.some((c) => c.tag === 'Address' || c.tag === 'pAddress' || c.tag === 'IntSwissKnife'),
      ) ?? (els[0] as XmlElement);
    for (const c of owner.children) {
      if (c.tag === 'Address') parts.push({ lit: c.text });
      else if (c.tag === 'pAddress') parts.push({ ref: c.text });
      else if (c.tag === 'IntSwissKnife')
        knives.push(new IntSwissKnifeNode([c], engine, c.attrs.Name ?? `${this.name}.Address${knives.length}`));
      else if (c.tag === 'pIndex') {
        const off =
          c.attrs.pOffset !== undefined
            ? { ref: c.attrs.pOffset }
            : c.attrs.Offset !== undefined
              ? { lit: c.attrs.Offset }
              : undefined;
        indexes.push({ index: c.text, offset: off });
      }
    }
    this.addressParts = parts;
    this.addressKnives = knives;
    this.indexes = indexes;
    this.lengthProp = this.prop('Length') ?? { lit: '4' };
    const am = this.text('AccessMode');
    this.accessMode = (am !== undefined ? this.accessLiteral(am, 'AccessMode', 'RO') : undefined) ?? 'RO';
    // A register without pPort is only an error when it is accessed (as in Aravis), so such files still load.
    this.portName = this.text('pPort') ?? '';
    const cache = this.text('Cachable');
    this.cachable = cache === 'NoCache' || cache === 'WriteAround' ? cache : 'WriteThrough';
    this.endianness = this.text('Endianess') === 'BigEndian' ? 'BigEndian' : 'LittleEndian';
  }
  protected override async baseAccess(): Promise<AccessMode> {
    return this.engine.portHasData(this.portName) ? this.accessMode : 'NA';
  }
  async address(ctx: Ctx): Promise<bigint> {
    let a = 0n;
    for (const p of this.addressParts) a += await this.propInt(p, ctx, 'Address');
    for (const k of this.addressKnives) a += await k.readInt(ctx);
    if (this.indexes.length > 0) {
      const len = BigInt(await this.length(ctx));
      for (const ix of this.indexes) {
        const off = ix.offset !== undefined ? await this.propInt(ix.offset, ctx, 'Offset') : len;
        a += numToBigint(await this.engine.node(ix.index, this.name).readNumeric(ctx), this.name) * off;
      }
    }
    return BigInt.asUintN(64, a);
  }
  async length(ctx: Ctx): Promise<number> {
    const n = await this.propInt(this.lengthProp, ctx, 'Length');
    if (n < 1n || n > BigInt(this.engine.maxRegisterLength))
      throw new GenicamError(
        `register '${this.name}' has length ${n}; allowed 1..${this.engine.maxRegisterLength} bytes`,
      );
    return Number(n);
  }
  async readBytes(ctx: Ctx): Promise<Uint8Array> {
    enter(ctx, this);
    try {
      const address = await this.address(ctx);
      const length = await this.length(ctx);
      return await this.engine.readRegister(this, address, length, ctx);
    } finally {
      ctx.depth--;
    }
  }
  async writeBytes(data: Uint8Array, ctx: Ctx): Promise<void> {
    enter(ctx, this);
    try {
      const address = await this.address(ctx);
      const length = await this.length(ctx);
      if (data.byteLength !== length)
        throw new InvalidValueError(this.name, `${data.byteLength} bytes given, the register is ${length} bytes`);
      await this.engine.writeRegister(this, address, data, ctx);
      this.engine.markWritten(this);
    } finally {
      ctx.depth--;
    }
  }
  /** Byte order used to decode numbers: legacy GigE (schema < 1.1) 4-byte registers are big-endian. */
  protected littleEndian(length: number): boolean {
    if (length === 4 && this.engine.legacyRegister(this)) return false;
    return this.endianness === 'LittleEndian';
  }
}

export class RawRegisterNode extends RegisterNode {
  readonly type = 'Register' as const;
  readonly iface = 'IRegister' as const;
}

function decodeUnsigned(bytes: Uint8Array, little: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = little ? bytes[bytes.length - 1 - i] : bytes[i];
    v = (v << 8n) | BigInt(b as number);
  }
  return v;
}

function encodeUnsigned(v: bigint, length: number, little: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let x = BigInt.asUintN(length * 8, v);
  for (let i = 0; i < length; i++) {
    out[little ? i : length - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export class IntRegNode extends RegisterNode {
  readonly type: NodeType = 'IntReg';
  readonly iface = 'IInteger' as const;
  readonly sign: Sign;
  constructor(els: readonly XmlElement[], engine: Engine, name?: string) {
    super(els, engine, name);
    this.sign = this.text('Sign') === 'Signed' ? 'Signed' : 'Unsigned';
  }
  protected async bits(ctx: Ctx): Promise<{ lsb: number; width: number; length: number }> {
    const length = await this.length(ctx);
    if (length > 8) throw new GenicamError(`integer register '${this.name}' is ${length} bytes; at most 8 allowed`);
    return { lsb: 0, width: length * 8, length };
  }
  override async readInt(ctx: Ctx): Promise<bigint> {
    const { lsb, width, length } = await this.bits(ctx);
    const bytes = await this.readBytes(ctx);
    const raw = decodeUnsigned(bytes.subarray(0, length), this.littleEndian(length));
    const field = BigInt.asUintN(width, raw >> BigInt(lsb));
    return this.sign === 'Signed' ? BigInt.asIntN(width, field) : field;
  }
  override async writeInt(v: bigint, ctx: Ctx): Promise<void> {
    const { lsb, width, length } = await this.bits(ctx);
    const min = await this.intMin(ctx);
    const max = await this.intMax(ctx);
    if (v < min || v > max) throw new OutOfRangeError(this.name, publicInt(v), publicInt(min), publicInt(max));
    const little = this.littleEndian(length);
    let raw = BigInt.asUintN(width, v) << BigInt(lsb);
    if (width < length * 8) {
      // Read-modify-write: keep the bits outside the field (a write-only register contributes zeros).
      const mask = ((1n << BigInt(width)) - 1n) << BigInt(lsb);
      if (this.accessMode !== 'WO') {
        const current = decodeUnsigned(await this.readBytes(ctx), little);
        raw |= current & ~mask;
      }
    }
    await this.writeBytes(encodeUnsigned(raw, length, little), ctx);
  }
  override async intMin(ctx: Ctx): Promise<bigint> {
    const { width } = await this.bits(ctx);
    return this.sign === 'Signed' ? -(1n << BigInt(width - 1)) : 0n;
  }
  override async intMax(ctx: Ctx): Promise<bigint> {
    const { width } = await this.bits(ctx);
    return this.sign === 'Signed' ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  }
}

/** MaskedIntReg and StructEntry: a bit field [LSB..MSB] (or one Bit) of a register. */
export class MaskedIntRegNode extends IntRegNode {
  override readonly type: NodeType;
  private readonly lsbBit: number;
  private readonly msbBit: number;
  constructor(els: readonly XmlElement[], engine: Engine, type: 'MaskedIntReg' | 'StructEntry' = 'MaskedIntReg') {
    super(els, engine);
    this.type = type;
    const bit = this.text('Bit');
    const lsb = this.text('LSB') ?? bit;
    const msb = this.text('MSB') ?? bit;
    if (lsb === undefined || msb === undefined)
      throw new GenicamXmlError(`${type} needs LSB and MSB, or Bit`, { node: this.name });
    this.lsbBit = Number(parseIntLiteral(lsb, this.name, 'LSB'));
    this.msbBit = Number(parseIntLiteral(msb, this.name, 'MSB'));
    if (this.lsbBit < 0 || this.msbBit < 0 || this.lsbBit > 63 || this.msbBit > 63)
      throw new GenicamXmlError('LSB/MSB outside 0..63', { node: this.name });
  }
  get lsb(): number {
    return this.lsbBit;
  }
  get msb(): number {
    return this.msbBit;
  }
  protected override async bits(ctx: Ctx): Promise<{ lsb: number; width: number; length: number }> {
    const length = await this.length(ctx);
    if (length > 8) throw new GenicamError(`bit-field register '${this.name}' is ${length} bytes; at most 8 allowed`);
    // Little-endian registers number bits from the least significant; big-endian ones from the most significant.
    let lo = this.lsbBit;
    let hi = this.msbBit;
    if (this.endianness === 'BigEndian') {
      lo = length * 8 - 1 - this.lsbBit;
      hi = length * 8 - 1 - this.msbBit;
    }
    if (hi < lo || lo < 0 || hi >= length * 8)
      throw new GenicamError(
        `bit field LSB ${this.lsbBit} / MSB ${this.msbBit} of '${this.name}' does not fit a ${length}-byte ${this.endianness} register`,
      );
    return { lsb: lo, width: hi - lo + 1, length };
  }
}

export class FloatRegNode extends RegisterNode {
  readonly type = 'FloatReg' as const;
  readonly iface = 'IFloat' as const;
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
  override async readFloat(ctx: Ctx): Promise<number> {
    const bytes = await this.readBytes(ctx);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = this.littleEndian(bytes.length);
    if (bytes.length === 4) return dv.getFloat32(0, little);
    if (bytes.length === 8) return dv.getFloat64(0, little);
    throw new GenicamError(`FloatReg '${this.name}' is ${bytes.length} bytes; 4 or 8 allowed`);
  }
  override async writeFloat(v: number, ctx: Ctx): Promise<void> {
    const length = await this.length(ctx);
    const out = new Uint8Array(length);
    const dv = new DataView(out.buffer);
    const little = this.littleEndian(length);
    if (length === 4) dv.setFloat32(0, v, little);
    else if (length === 8) dv.setFloat64(0, v, little);
    else throw new GenicamError(`FloatReg '${this.name}' is ${length} bytes; 4 or 8 allowed`);
    await this.writeBytes(out, ctx);
  }
  override async floatMin(): Promise<number> {
    return -FLOAT_MAX;
  }
  override async floatMax(): Promise<number> {
    return FLOAT_MAX;
  }
}

export class StringRegNode extends RegisterNode {
  readonly type = 'StringReg' as const;
  readonly iface = 'IString' as const;
  override async readString(ctx: Ctx): Promise<string> {
    const bytes = await this.readBytes(ctx);
    const end = bytes.indexOf(0);
    return new TextDecoder('utf-8').decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  }
  override async writeString(v: string, ctx: Ctx): Promise<void> {
    const length = await this.length(ctx);
    const enc = new TextEncoder().encode(v);
    if (enc.length > length)
      throw new InvalidValueError(this.name, `string of ${enc.length} bytes does not fit the ${length}-byte register`);
    const out = new Uint8Array(length);
    out.set(enc);
    await this.writeBytes(out, ctx);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SwissKnife, Converter

interface Variable {
  readonly name: string;
  readonly node: string;
}

/** Named inputs common to SwissKnife and Converter: pVariable, Constant, Expression. */
class FormulaInputs {
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

function compileIn(owner: GNode, src: string, vars: readonly string[], mode: FormulaMode): CompiledFormula {
  try {
    return compileFormula(src, vars, mode);
  } catch (cause) {
    if (GenicamError.isInstance(cause))
      throw new GenicamXmlError(`bad formula: ${cause.message}`, { node: owner.name }, { cause });
    throw cause;
  }
}

async function gatherValues(
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

function evaluate(owner: GNode, f: CompiledFormula, values: readonly FormulaValue[], _mode: FormulaMode): FormulaValue {
  try {
    return f.evaluate(values);
  } catch (cause) {
    if (GenicamError.isInstance(cause)) {
      throw new FormulaEvaluationError(`node '${owner.name}': ${cause.message} in "${f.source}"`, { cause });
    }
    throw cause;
  }
}

abstract class SwissKnifeBase extends GNode {
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
