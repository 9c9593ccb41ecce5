/**
 * Enumeration nodes and their EnumEntry children.
 */
import { type AccessMode, GenicamXmlError, InvalidValueError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import {
  type Ctx,
  type Engine,
  enter,
  GNode,
  numToBigint,
  type Prop,
  parseFloatLiteral,
  parseIntLiteral,
} from './base.js';

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
