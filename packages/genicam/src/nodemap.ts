import { AbortError, type CallOptions, copyBytes, TruncatedError, ValueOutOfRangeError } from '@cam/net-utils/wire';
import { decodeChunks } from './chunk.js';
import {
  type AccessMode,
  DeviceReportedError,
  FeatureTypeError,
  GenicamError,
  GenicamXmlError,
  InvalidValueError,
  NotAvailableError,
  NotReadableError,
  NotWritableError,
  PortAccessError,
  UnknownFeatureError,
} from './errors.js';
import {
  BooleanNode,
  type Cachable,
  CategoryNode,
  CommandNode,
  ConverterNode,
  type Ctx,
  type Endianness,
  type Engine,
  EnumEntryNode,
  EnumerationNode,
  FloatLike,
  FloatNode,
  FloatRegNode,
  type GNode,
  IntConverterNode,
  IntegerNode,
  IntRegNode,
  IntSwissKnifeNode,
  MaskedIntRegNode,
  type NodeInterface,
  type NodeType,
  PortNode,
  publicInt,
  RawRegisterNode,
  RegisterNode,
  type RegisterRef,
  type Sign,
  StringNode,
  StringRegNode,
  SwissKnifeNode,
  type Visibility,
} from './nodes/index.js';
import type { Port, PortAccessOptions } from './port.js';
import { parseXml, type XmlElement } from './xml/tree.js';

export interface NodeMapOptions {
  /** Cache register values per Cachable / pInvalidator (default true). Turn off to read the device every time. */
  cache?: boolean | undefined;
  /**
   * Legacy GigE Vision endianness (schema < 1.1): 4-byte accesses become register accesses and decode big-endian.
   * `'auto'` (default) enables it when the XML's schema version is below 1.1.
   */
  legacyEndianness?: 'auto' | boolean | undefined;
  /** Ports by Port node name, for XML with several ports; the `port` argument serves every other Port node. */
  ports?: Readonly<Record<string, Port>> | undefined;
  /** Largest register the map will read or write, in bytes (default 1 MiB). */
  maxRegisterLength?: number | undefined;
}

/** A value `get` returns: integers as numbers when exact (bigint beyond 2^53), enumerations as entry names. */
export type FeatureValue = number | bigint | boolean | string | Uint8Array;
/** A value `set` accepts. */
export type FeatureInput = number | bigint | boolean | string | Uint8Array;

/** A p* element naming a node the XML does not define ({@link NodeMap.danglingReferences}). */
export interface DanglingReference {
  /** The node whose XML holds the reference. */
  readonly node: string;
  /** The element, e.g. `pValue`. */
  readonly element: string;
  /** The name it refers to. */
  readonly target: string;
}

export interface SchemaVersion {
  readonly major: number;
  readonly minor: number;
  readonly subMinor: number;
}

export interface EnumEntryDescription {
  readonly name: string;
  readonly value: number | bigint;
  readonly displayName: string;
  readonly description?: string;
  readonly available: boolean;
}

/** What `describe` reports about a feature. Live properties (access, range, entries) are read from the device. */
export interface FeatureDescription {
  readonly name: string;
  readonly type: NodeType;
  readonly interface: NodeInterface;
  readonly displayName: string;
  readonly description?: string;
  readonly toolTip?: string;
  readonly namespace?: 'Standard' | 'Custom';
  readonly visibility: Visibility;
  readonly access: AccessMode;
  readonly unit?: string;
  readonly representation?: string;
  readonly min?: number | bigint;
  readonly max?: number | bigint;
  readonly inc?: number | bigint;
  readonly entries?: readonly EnumEntryDescription[];
  readonly features?: readonly string[];
  readonly selected?: readonly string[];
  /** pAlias: a node with the same meaning. */
  readonly alias?: string;
  /** pValueCopy: nodes written with the same value. */
  readonly valueCopies?: readonly string[];
  readonly address?: bigint;
  readonly length?: number;
  readonly formula?: string;
  /** Registers: caching policy, byte order, sign and bit field as the XML gives them. */
  readonly cachable?: Cachable;
  readonly endianness?: Endianness;
  readonly sign?: Sign;
  readonly lsb?: number;
  readonly msb?: number;
  readonly pollingTime?: number;
  /** Floats: how to display the value. */
  readonly displayNotation?: string;
  readonly displayPrecision?: number;
  readonly value?: FeatureValue;
}

/** One line of the category walk. */
export interface FeatureEntry {
  readonly name: string;
  readonly type: NodeType;
  readonly interface: NodeInterface;
  /** 0 for the root category. */
  readonly depth: number;
  /** The category listing this feature (undefined for the root). */
  readonly category: string | undefined;
  readonly visibility: Visibility;
}

/** One feature with its value or the typed error reading it gave. */
export interface FeatureReading extends FeatureEntry {
  readonly access: AccessMode | undefined;
  readonly value?: FeatureValue;
  readonly error?: Error;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

interface CacheEntry {
  readonly address: bigint;
  readonly length: number;
  readonly bytes: Uint8Array;
  /** When it was stored (performance.now()), for PollingTime. */
  readonly at: number;
}

const NODE_FACTORIES: Record<string, (els: XmlElement[], engine: Engine) => GNode> = {
  Category: (e, g) => new CategoryNode(e, g),
  Integer: (e, g) => new IntegerNode(e, g),
  Float: (e, g) => new FloatNode(e, g),
  Boolean: (e, g) => new BooleanNode(e, g),
  Command: (e, g) => new CommandNode(e, g),
  String: (e, g) => new StringNode(e, g),
  Enumeration: (e, g) => new EnumerationNode(e, g),
  Register: (e, g) => new RawRegisterNode(e, g),
  IntReg: (e, g) => new IntRegNode(e, g),
  MaskedIntReg: (e, g) => new MaskedIntRegNode(e, g),
  FloatReg: (e, g) => new FloatRegNode(e, g),
  StringReg: (e, g) => new StringRegNode(e, g),
  Converter: (e, g) => new ConverterNode(e, g),
  IntConverter: (e, g) => new IntConverterNode(e, g),
  SwissKnife: (e, g) => new SwissKnifeNode(e, g),
  IntSwissKnife: (e, g) => new IntSwissKnifeNode(e, g),
  Port: (e, g) => new PortNode(e, g),
};

/** Elements of a RegisterDescription that are not nodes. */
const NON_NODE_TAGS = new Set(['Group', 'StructReg']);

/**
 * A GenICam node map: the features a GenApi XML file describes, read and written through a {@link Port}.
 *
 * ```ts
 * const map = await NodeMap.load(xml, port);
 * await map.set('Width', 640);
 * await map.set('PixelFormat', 'Mono8');
 * console.log(await map.get('PayloadSize'));
 * ```
 *
 * Above 500 lines on purpose: it is the engine every node calls back into (register reads and writes through the
 * ports, the register cache with its invalidators and polling times, chunk and event ports) and the typed feature
 * API on top (get / set / execute / describe); the node families themselves live in ./nodes/.
 */
export class NodeMap {
  readonly schemaVersion: SchemaVersion;
  readonly vendorName: string;
  readonly modelName: string;
  readonly legacyEndianness: boolean;
  /** Node types present in the XML that this library does not implement, by node name. */
  readonly unsupported: ReadonlyMap<string, string>;
  /** Problems in the XML that loading tolerated (unknown AccessMode spellings, ...), one line each. */
  readonly warnings: string[] = [];
  private readonly nodes = new Map<string, GNode>();
  private readonly invalidatedBy = new Map<string, RegisterNode[]>();
  /** Registers read for a node with PollingTime: their cached bytes expire after the shortest such time (ms). */
  private readonly pollingTimes = new Map<RegisterRef, number>();
  private readonly cache = new Map<RegisterRef, Map<string, CacheEntry>>();
  private cacheOn: boolean;
  private hits = 0;
  private misses = 0;
  private readonly engine: Engine;
  private readonly defaultPort: Port;
  private readonly ports: Readonly<Record<string, Port>>;
  /** Ports of chunk and event data, as the last attachChunkData / attachEventData set them. */
  private readonly dataPorts = new Map<string, Port>();

  private constructor(root: XmlElement, port: Port, options: NodeMapOptions) {
    if (root.tag !== 'RegisterDescription')
      throw new GenicamXmlError(`document element is <${root.tag}>, expected <RegisterDescription>`);
    this.schemaVersion = schemaVersionOf(root);
    this.vendorName = root.attrs.VendorName ?? '';
    this.modelName = root.attrs.ModelName ?? '';
    const legacy = options.legacyEndianness ?? 'auto';
    this.legacyEndianness =
      legacy === 'auto'
        ? this.schemaVersion.major < 1 || (this.schemaVersion.major === 1 && this.schemaVersion.minor < 1)
        : legacy;
    this.cacheOn = options.cache ?? true;
    this.defaultPort = port;
    this.ports = options.ports ?? {};
    const maxRegisterLength = options.maxRegisterLength ?? 1024 * 1024;
    this.engine = {
      node: (name, from) => this.resolve(name, from),
      readRegister: (reg, address, length, ctx) => this.readRegister(reg, address, length, ctx),
      writeRegister: (reg, address, data, ctx) => this.writeRegister(reg, address, data, ctx),
      markWritten: (node) => this.markWritten(node),
      warn: (node, message) => {
        if (this.warnings.length < 1000) this.warnings.push(`${node}: ${message}`);
      },
      legacyRegister: (reg) => this.legacyRegister(reg),
      portHasData: (name) => {
        const port = this.nodes.get(name);
        if (!(port instanceof PortNode) || (port.chunkId === undefined && port.eventId === undefined)) return true;
        return this.ports[name] !== undefined || this.dataPorts.has(name);
      },
      maxRegisterLength,
    };
    const unsupported = new Map<string, string>();
    const add = (node: GNode): void => {
      if (this.nodes.has(node.name)) throw new GenicamXmlError('duplicate node name', { node: node.name });
      this.nodes.set(node.name, node);
    };
    const walk = (parent: XmlElement): void => {
      for (const el of parent.children) {
        if (el.tag === 'Group') {
          walk(el);
          continue;
        }
        if (el.tag === 'StructReg') {
          for (const entry of el.children) {
            if (entry.tag === 'StructEntry') add(new MaskedIntRegNode([entry, el], this.engine, 'StructEntry'));
          }
          continue;
        }
        const factory = NODE_FACTORIES[el.tag];
        if (factory !== undefined) {
          const node = factory([el], this.engine);
          add(node);
          if (node instanceof EnumerationNode) {
            // GenApi names entries EnumEntry_<Enumeration>_<Entry>; p* references use that name.
            for (const e of node.entries) this.nodes.set(`EnumEntry_${node.name}_${e.name}`, e);
          }
        } else if (!NON_NODE_TAGS.has(el.tag) && el.attrs.Name !== undefined) {
          unsupported.set(el.attrs.Name, el.tag);
        }
      }
    };
    walk(root);
    this.unsupported = unsupported;
    for (const node of this.nodes.values()) {
      if (!(node instanceof RegisterNode)) continue;
      for (const inv of node.invalidators) {
        const list = this.invalidatedBy.get(inv) ?? [];
        list.push(node);
        this.invalidatedBy.set(inv, list);
      }
    }
    for (const node of this.nodes.values()) {
      // A selector's write changes what its selected features read, whatever register they read through.
      if (node.selected.length > 0) {
        const list = this.invalidatedBy.get(node.name) ?? [];
        for (const f of node.selected) list.push(...this.registersBehind(f));
        this.invalidatedBy.set(node.name, list);
      }
      if (node.pollingTime !== undefined && node.pollingTime >= 0) {
        for (const reg of this.registersBehind(node.name)) {
          const before = this.pollingTimes.get(reg);
          this.pollingTimes.set(reg, before === undefined ? node.pollingTime : Math.min(before, node.pollingTime));
        }
      }
    }
  }

  /** Every register a node's value is read through (its p* references followed, bounded by the node count). */
  private registersBehind(name: string): RegisterNode[] {
    const seen = new Set<string>();
    const regs: RegisterNode[] = [];
    const todo = [name];
    while (todo.length > 0 && seen.size <= this.nodes.size) {
      const n = todo.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const node = this.nodes.get(n);
      if (node === undefined) continue;
      if (node instanceof RegisterNode) regs.push(node);
      todo.push(...node.dependencies());
    }
    return regs;
  }

  /**
   * Parses GenApi XML (schema 1.0 or 1.1; text or UTF-8 bytes; entity expansion off) into a node map bound to
   * `port`. Throws {@link GenicamXmlError} for malformed XML, unknown document elements, bad literals or formulas.
   */
  static async load(xml: string | Uint8Array, port: Port, options: NodeMapOptions = {}): Promise<NodeMap> {
    return new NodeMap(parseXml(xml), port, options);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Lookup

  /** True when a node of that name exists. */
  has(name: string): boolean {
    return this.nodes.has(name);
  }

  /** Every node name (features and helper nodes), in document order. */
  names(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * References to nodes the XML does not define: every p* element (pValue, pFeature, pSelected, pVariable, pPort,
   * ...) of every node whose text names no node. GenApi refuses such a file; this node map loads it and fails only
   * when the reference is followed, so a checker asks here. Enumeration entries are reported under their
   * enumeration; references to nodes of unsupported types are not dangling (see {@link NodeMap.unsupported}).
   */
  danglingReferences(): DanglingReference[] {
    const out: DanglingReference[] = [];
    for (const [name, node] of this.nodes) {
      if (node instanceof EnumEntryNode) continue; // listed under its enumeration (its XML is inside it)
      for (const ref of node.references()) {
        if (!this.nodes.has(ref.target) && !this.unsupported.has(ref.target))
          out.push({ node: name, element: ref.tag, target: ref.target });
      }
    }
    return out;
  }

  /** The GenApi node type of `name`. */
  typeOf(name: string): NodeType {
    return this.lookup(name).type;
  }

  private lookup(name: string): GNode {
    const n = this.nodes.get(name);
    if (n !== undefined) return n;
    const tag = this.unsupported.get(name);
    if (tag !== undefined) throw new FeatureTypeError(name, tag, 'is a node type this library does not implement');
    throw new UnknownFeatureError(name);
  }

  private resolve(name: string, from: string): GNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new GenicamXmlError(`reference to unknown node '${name}'`, { node: from });
    return n;
  }

  private ctx(feature: string, opts: CallOptions | undefined): Ctx {
    const o: PortAccessOptions = {};
    if (opts?.signal !== undefined) o.signal = opts.signal;
    if (opts?.timeoutMs !== undefined) o.timeoutMs = opts.timeoutMs;
    return { feature, opts: o, depth: 0 };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Values

  /** The feature's access mode now (RO, WO, RW, NA or NI). */
  async accessMode(name: string, opts?: CallOptions): Promise<AccessMode> {
    return this.lookup(name).access(this.ctx(name, opts));
  }

  private async checkReadable(node: GNode, ctx: Ctx): Promise<AccessMode> {
    const mode = await node.access(ctx);
    if (mode === 'NA' || mode === 'NI') throw new NotAvailableError(node.name, mode);
    if (mode === 'WO') throw new NotReadableError(node.name, mode);
    return mode;
  }

  private async checkWritable(node: GNode, ctx: Ctx): Promise<void> {
    const mode = await node.access(ctx);
    if (mode === 'NA' || mode === 'NI') throw new NotAvailableError(node.name, mode);
    if (mode === 'RO') throw new NotWritableError(node.name, mode);
  }

  /**
   * Reads a feature: integers as numbers (bigint beyond 2^53), floats as numbers, booleans, strings, enumeration
   * entry names, raw registers as bytes.
   */
  async get(name: string, opts?: CallOptions): Promise<FeatureValue> {
    const node = this.lookup(name);
    const ctx = this.ctx(name, opts);
    await this.checkReadable(node, ctx);
    const value = await this.readValue(node, ctx);
    await this.checkDeviceError(node, ctx);
    return value;
  }

  /** pError: after an access, a non-zero error enumeration fails it with the entry that names the error. */
  private async checkDeviceError(node: GNode, ctx: Ctx): Promise<void> {
    if (node.errorNode === undefined) return;
    const err = this.resolve(node.errorNode, node.name);
    const code = await err.readInt(ctx);
    if (code === 0n) return;
    let what = `error ${code}`;
    if (err instanceof EnumerationNode) {
      const entry = err.entries.find((e) => e.value === code);
      if (entry !== undefined) what = `${entry.name}${entry.description ? `: ${entry.description}` : ''}`;
    }
    throw new DeviceReportedError(node.name, code, what);
  }

  private async readValue(node: GNode, ctx: Ctx): Promise<FeatureValue> {
    switch (node.iface) {
      case 'IInteger':
        return publicInt(await node.readInt(ctx));
      case 'IFloat':
        return node.readFloat(ctx);
      case 'IBoolean':
        return (node as BooleanNode).readBool(ctx);
      case 'IString':
      case 'IEnumeration':
        return node.readString(ctx);
      case 'IRegister':
        return copyBytes(await (node as RegisterNode).readBytes(ctx));
      default:
        throw new FeatureTypeError(node.name, node.type, 'has no value to read');
    }
  }

  /** Reads an integer feature exactly, as a bigint. */
  async getInteger(name: string, opts?: CallOptions): Promise<bigint> {
    const node = this.lookup(name);
    const ctx = this.ctx(name, opts);
    await this.checkReadable(node, ctx);
    if (node.iface !== 'IInteger' && node.iface !== 'IEnumeration' && node.iface !== 'IBoolean')
      throw new FeatureTypeError(name, node.type, 'is not an integer');
    return node.readInt(ctx);
  }

  /**
   * Writes a feature: numbers or bigints for integers and floats (numeric strings are accepted too), entry names
   * (or entry values) for enumerations, booleans for Boolean, text for strings, bytes for raw registers. Checks
   * access and range first; errors name the feature.
   */
  async set(name: string, value: FeatureInput, opts?: CallOptions): Promise<void> {
    const node = this.lookup(name);
    await this.setValue(node, value, opts);
    await this.checkDeviceError(node, this.ctx(name, opts));
    // pValueCopy: the same value goes to each copy (a feature mirrored elsewhere, as GenApi does)
    for (const copy of node.valueCopies) await this.set(copy, value, opts);
  }

  private async setValue(node: GNode, value: FeatureInput, opts?: CallOptions): Promise<void> {
    const name = node.name;
    const ctx = this.ctx(name, opts);
    switch (node.iface) {
      case 'IInteger': {
        const v = toBigInt(name, value);
        await this.checkWritable(node, ctx);
        return node.writeInt(v, ctx);
      }
      case 'IFloat': {
        const v = toFloat(name, value);
        await this.checkWritable(node, ctx);
        return node.writeFloat(v, ctx);
      }
      case 'IBoolean': {
        const v = toBool(name, value);
        await this.checkWritable(node, ctx);
        return (node as BooleanNode).writeBool(v, ctx);
      }
      case 'IEnumeration': {
        await this.checkWritable(node, ctx);
        const en = node as EnumerationNode;
        if (typeof value === 'string') {
          if (en.entry(value) === undefined && /^(0x[0-9a-f]+|-?[0-9]+)$/i.test(value.trim()))
            return en.writeInt(toBigInt(name, value), ctx);
          return en.writeEntryName(value, ctx);
        }
        if (typeof value === 'number' || typeof value === 'bigint') return en.writeInt(toBigInt(name, value), ctx);
        throw new InvalidValueError(
          name,
          `expected an entry name, got ${describeInput(value)}`,
          await en.selectableNames(ctx),
        );
      }
      case 'IString': {
        if (typeof value !== 'string')
          throw new InvalidValueError(name, `expected a string, got ${describeInput(value)}`);
        await this.checkWritable(node, ctx);
        return node.writeString(value, ctx);
      }
      case 'IRegister': {
        if (!(value instanceof Uint8Array))
          throw new InvalidValueError(name, `expected bytes, got ${describeInput(value)}`);
        await this.checkWritable(node, ctx);
        return (node as RegisterNode).writeBytes(value, ctx);
      }
      case 'ICommand':
        throw new FeatureTypeError(name, node.type, 'is a command; use execute()');
      default:
        throw new FeatureTypeError(name, node.type, 'cannot be set');
    }
  }

  /** Executes a Command feature (writes its CommandValue). */
  async execute(name: string, opts?: CallOptions): Promise<void> {
    const node = this.lookup(name);
    if (!(node instanceof CommandNode)) throw new FeatureTypeError(name, node.type, 'is not a command');
    const ctx = this.ctx(name, opts);
    await this.checkWritable(node, ctx);
    await node.execute(ctx);
  }

  /** For a Command: true once the device reports it finished (always true for write-only commands). */
  async isDone(name: string, opts?: CallOptions): Promise<boolean> {
    const node = this.lookup(name);
    if (!(node instanceof CommandNode)) throw new FeatureTypeError(name, node.type, 'is not a command');
    return node.isDone(this.ctx(name, opts));
  }

  /** Describes a feature: type, access, range, unit, entries, documentation. Reads live properties. */
  async describe(name: string, opts?: CallOptions): Promise<FeatureDescription> {
    const node = this.lookup(name);
    const ctx = this.ctx(name, opts);
    const access = await node.access(ctx);
    const d: Record<string, unknown> = {
      name: node.name,
      type: node.type,
      interface: node.iface,
      displayName: node.displayName,
      visibility: node.visibility,
      access,
    };
    if (node.description !== undefined) d.description = node.description;
    if (node.toolTip !== undefined) d.toolTip = node.toolTip;
    if (node.namespace !== undefined) d.namespace = node.namespace;
    if (node.unit !== undefined) d.unit = node.unit;
    if (node.representation !== undefined) d.representation = node.representation;
    if (node.selected.length > 0) d.selected = [...node.selected];
    if (node.alias !== undefined) d.alias = node.alias;
    if (node.pollingTime !== undefined) d.pollingTime = node.pollingTime;
    if (node.valueCopies.length > 0) d.valueCopies = [...node.valueCopies];
    const live = access !== 'NA' && access !== 'NI';
    if (live && node.iface === 'IInteger') {
      d.min = publicInt(await node.intMin(ctx));
      d.max = publicInt(await node.intMax(ctx));
      d.inc = publicInt(await node.intInc(ctx));
    } else if (live && node.iface === 'IFloat') {
      d.min = await node.floatMin(ctx);
      d.max = await node.floatMax(ctx);
      const inc = await node.floatInc(ctx);
      if (inc !== undefined) d.inc = inc;
    }
    if (node instanceof EnumerationNode) {
      const entries: EnumEntryDescription[] = [];
      for (const e of node.entries) {
        const a = await e.access(ctx);
        if (a === 'NI') continue;
        entries.push({
          name: e.symbolic,
          value: publicInt(e.value),
          displayName: e.displayName,
          ...(e.description !== undefined ? { description: e.description } : {}),
          available: a !== 'NA',
        });
      }
      d.entries = entries;
    }
    if (node instanceof CategoryNode) d.features = node.features;
    if (node instanceof RegisterNode) {
      if (live) {
        d.address = await node.address(ctx);
        d.length = await node.length(ctx);
      }
      d.cachable = node.cachable;
      d.endianness = node.endianness;
      if (node instanceof IntRegNode) d.sign = node.sign;
      if (node instanceof MaskedIntRegNode) {
        d.lsb = node.lsb;
        d.msb = node.msb;
      }
    }
    if (node instanceof FloatLike) {
      if (node.displayNotation !== undefined) d.displayNotation = node.displayNotation;
      if (node.displayPrecision !== undefined) d.displayPrecision = node.displayPrecision;
    }
    if (node instanceof SwissKnifeNode || node instanceof IntSwissKnifeNode) d.formula = node.formula.source;
    if (live && (access === 'RO' || access === 'RW') && node.iface !== 'ICategory' && node.iface !== 'IPort') {
      try {
        d.value = await this.readValue(node, ctx);
      } catch (error) {
        // The description stays useful when the current value cannot be read; get() reports the error.
        if (AbortError.isInstance(error) || opts?.signal?.aborted) throw error;
      }
    }
    return d as unknown as FeatureDescription;
  }

  /**
   * Walks the category tree from `root` (default: the category named "Root", else every category no other
   * category lists), depth first, in XML order. Pure: no device access. Dangling pFeature names are skipped.
   */
  features(root?: string): FeatureEntry[] {
    const out: FeatureEntry[] = [];
    const seen = new Set<string>();
    const visit = (name: string, depth: number, category: string | undefined): void => {
      const node = this.nodes.get(name);
      if (node === undefined || seen.has(name) || depth > 32) return;
      seen.add(name);
      out.push({ name, type: node.type, interface: node.iface, depth, category, visibility: node.visibility });
      if (node instanceof CategoryNode) for (const f of node.features) visit(f, depth + 1, name);
    };
    if (root !== undefined) {
      this.lookup(root);
      visit(root, 0, undefined);
    } else if (this.nodes.get('Root') instanceof CategoryNode) {
      visit('Root', 0, undefined);
    } else {
      const listed = new Set<string>();
      for (const n of this.nodes.values()) if (n instanceof CategoryNode) for (const f of n.features) listed.add(f);
      for (const n of this.nodes.values())
        if (n instanceof CategoryNode && !listed.has(n.name)) visit(n.name, 0, undefined);
    }
    return out;
  }

  /** Every feature of the category walk with its value (or the typed error), like `arv-tool values`. */
  async values(root?: string, opts?: CallOptions): Promise<FeatureReading[]> {
    const out: FeatureReading[] = [];
    for (const f of this.features(root)) {
      const node = this.lookup(f.name);
      if (node.iface === 'ICategory' || node.iface === 'ICommand' || node.iface === 'IPort') {
        out.push({ ...f, access: undefined });
        continue;
      }
      const ctx = this.ctx(f.name, opts);
      let access: AccessMode | undefined;
      try {
        access = await node.access(ctx);
        if (access === 'RO' || access === 'RW') out.push({ ...f, access, value: await this.readValue(node, ctx) });
        else out.push({ ...f, access });
      } catch (error) {
        if (AbortError.isInstance(error)) throw error;
        out.push({ ...f, access, error: error as Error });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Register cache

  /** Whether register values are cached. Turning the cache off also empties it. */
  get cacheEnabled(): boolean {
    return this.cacheOn;
  }
  set cacheEnabled(on: boolean) {
    this.cacheOn = on;
    if (!on) this.cache.clear();
  }

  /**
   * Chunk adapter: makes the chunk data of one frame (GigE Vision layout, walked back from the end: see
   * `decodeChunks`) what the XML's chunk Port nodes read, by ChunkID, so `ChunkTimestamp` and the like read from this
   * frame until the next call. Chunks the frame lacks make their features NotAvailable. Returns the ChunkIDs found.
   */
  attachChunkData(chunkData: Uint8Array): number[] {
    const chunks = decodeChunks(chunkData);
    const byId = new Map(chunks.map((c) => [c.id, c.data]));
    this.attachData((port) => port.chunkId, byId);
    return chunks.map((c) => c.id);
  }

  /** Event adapter: the data of an EVENTDATA with `eventId` becomes what the Port node with that EventID reads. */
  attachEventData(eventId: number, data: Uint8Array): void {
    this.attachData((port) => port.eventId, new Map([[eventId, data]]), true);
  }

  private attachData(
    idOf: (port: PortNode) => string | undefined,
    byId: ReadonlyMap<number, Uint8Array>,
    keepOthers = false,
  ): void {
    for (const node of this.nodes.values()) {
      if (!(node instanceof PortNode)) continue;
      const text = idOf(node);
      if (text === undefined) continue;
      const id = Number.parseInt(text.replace(/^0x/i, ''), 16);
      const data = byId.get(id);
      if (data === undefined) {
        if (!keepOthers) this.dataPorts.delete(node.name);
        if (keepOthers) continue;
      } else {
        this.dataPorts.set(node.name, bytesPort(node.name, copyBytes(data)));
      }
      // values read from the previous frame or event must not be served again
      for (const reg of this.cache.keys()) if (reg.portName === node.name) this.cache.delete(reg);
    }
  }

  /** Forgets every cached register value (for example after the device was reset behind our back). */
  invalidateCache(): void {
    this.cache.clear();
  }

  cacheStats(): CacheStats {
    let entries = 0;
    for (const m of this.cache.values()) entries += m.size;
    return { hits: this.hits, misses: this.misses, entries };
  }

  private portFor(reg: RegisterRef): Port {
    if (reg.portName === '') throw new GenicamXmlError('register without pPort', { node: reg.name });
    const explicit = this.ports[reg.portName] ?? this.dataPorts.get(reg.portName);
    if (explicit !== undefined) return explicit;
    const node = this.nodes.get(reg.portName);
    if (!(node instanceof PortNode))
      throw new GenicamXmlError(`pPort '${reg.portName}' is not a Port node`, { node: reg.name });
    if (node.chunkId !== undefined || node.eventId !== undefined)
      throw new NotAvailableError(reg.name, 'NA', {
        cause: new GenicamError(`port '${reg.portName}' carries chunk or event data; pass it in options.ports`),
      });
    return this.defaultPort;
  }

  /** Legacy endianness applies to the device's own port, never to chunk or event data ports. */
  private legacyRegister(reg: RegisterRef): boolean {
    if (!this.legacyEndianness) return false;
    const node = this.nodes.get(reg.portName);
    return !(node instanceof PortNode && (node.chunkId !== undefined || node.eventId !== undefined));
  }

  private portOpts(reg: RegisterRef, ctx: Ctx, length: number): PortAccessOptions {
    return length === 4 && this.legacyRegister(reg) ? { ...ctx.opts, register: true } : ctx.opts;
  }

  private async readRegister(reg: RegisterRef, address: bigint, length: number, ctx: Ctx): Promise<Uint8Array> {
    const useCache = this.cacheOn && reg.cachable !== 'NoCache';
    const key = `${address}:${length}`;
    if (useCache) {
      const hit = this.cache.get(reg)?.get(key);
      const poll = this.pollingTimes.get(reg);
      if (hit !== undefined && (poll === undefined || performance.now() - hit.at < poll)) {
        this.hits++;
        return hit.bytes;
      }
      this.misses++;
    }
    const port = this.portFor(reg);
    let bytes: Uint8Array;
    try {
      bytes = await port.read(address, length, this.portOpts(reg, ctx, length));
    } catch (cause) {
      if (AbortError.isInstance(cause) || ctx.opts.signal?.aborted) throw cause;
      throw new PortAccessError(ctx.feature, 'read', address, length, { cause });
    }
    if (!(bytes instanceof Uint8Array) || bytes.byteLength !== length) {
      const got = bytes instanceof Uint8Array ? bytes.byteLength : 0;
      throw new PortAccessError(ctx.feature, 'read', address, length, {
        cause: new TruncatedError(0, length, got, `register '${reg.name}'`),
      });
    }
    if (useCache) this.store(reg, address, length, copyBytes(bytes));
    return bytes;
  }

  private store(reg: RegisterRef, address: bigint, length: number, bytes: Uint8Array): void {
    let m = this.cache.get(reg);
    if (m === undefined) {
      m = new Map();
      this.cache.set(reg, m);
    }
    m.set(`${address}:${length}`, { address, length, bytes, at: performance.now() });
  }

  private async writeRegister(reg: RegisterRef, address: bigint, data: Uint8Array, ctx: Ctx): Promise<void> {
    const port = this.portFor(reg);
    const length = data.byteLength;
    try {
      await port.write(address, data, this.portOpts(reg, ctx, length));
    } catch (cause) {
      this.dropOverlapping(address, length);
      if (AbortError.isInstance(cause) || ctx.opts.signal?.aborted) throw cause;
      throw new PortAccessError(ctx.feature, 'write', address, length, { cause });
    }
    // Any cached view of these bytes (another node over the same address) is stale now.
    this.dropOverlapping(address, length);
    if (this.cacheOn && reg.cachable === 'WriteThrough') this.store(reg, address, length, copyBytes(data));
  }

  private dropOverlapping(address: bigint, length: number): void {
    const end = address + BigInt(length);
    for (const m of this.cache.values()) {
      for (const [k, e] of m) if (e.address < end && address < e.address + BigInt(e.length)) m.delete(k);
    }
  }

  private markWritten(node: GNode): void {
    const regs = this.invalidatedBy.get(node.name);
    if (regs === undefined) return;
    for (const r of regs) this.cache.delete(r);
  }
}

function schemaVersionOf(root: XmlElement): SchemaVersion {
  const num = (s: string | undefined): number | undefined => {
    if (s === undefined || !/^\d{1,4}$/.test(s.trim())) return undefined;
    return Number(s);
  };
  const major = num(root.attrs.SchemaMajorVersion);
  const minor = num(root.attrs.SchemaMinorVersion);
  const sub = num(root.attrs.SchemaSubMinorVersion);
  if (major !== undefined && minor !== undefined) return { major, minor, subMinor: sub ?? 0 };
  const ns = /Version_(\d+)_(\d+)/.exec(root.attrs.xmlns ?? '');
  if (ns !== null) return { major: Number(ns[1]), minor: Number(ns[2]), subMinor: 0 };
  return { major: 1, minor: 0, subMinor: 0 };
}

function describeInput(v: FeatureInput): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return `${typeof v} ${String(v)}`;
}

function toBigInt(name: string, v: FeatureInput): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new InvalidValueError(name, `${v} is not an integer`);
    return BigInt(v);
  }
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  }
  throw new InvalidValueError(name, `expected an integer, got ${describeInput(v)}`);
}

function toFloat(name: string, v: FeatureInput): number {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) throw new InvalidValueError(name, 'NaN is not a value');
    return v;
  }
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new InvalidValueError(name, `expected a number, got ${describeInput(v)}`);
}

function toBool(name: string, v: FeatureInput): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 1n || v === 'true' || v === '1') return true;
  if (v === 0 || v === 0n || v === 'false' || v === '0') return false;
  throw new InvalidValueError(name, `expected a boolean, got ${describeInput(v)}`);
}

/** A read-only Port over chunk or event bytes (addresses are offsets into them). */
function bytesPort(name: string, bytes: Uint8Array): Port {
  return {
    async read(address: bigint, length: number): Promise<Uint8Array> {
      const start = Number(address);
      if (address < 0n || start + length > bytes.byteLength)
        throw new TruncatedError(start, length, bytes.byteLength - start, `data of port ${name}`);
      return bytes.slice(start, start + length);
    },
    async write(): Promise<void> {
      throw new ValueOutOfRangeError(name, 'chunk and event data are read-only');
    },
  };
}
