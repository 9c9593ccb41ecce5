/**
 * Where an Integer or Float node takes its value (Value / pValue, or indexed by pIndex), shared by integer.ts and
 * float.ts.
 */
import { type AccessMode, GenicamXmlError, InvalidValueError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type GNode, numToBigint, type Prop, parseIntLiteral } from './base.js';

/**
 * Where an Integer / Float takes its value: one Value / pValue, or (with pIndex) the ValueIndexed / pValueIndexed
 * whose Index equals the index node's value, else ValueDefault / pValueDefault. Literal values live in `locals`
 * so that writing them works like a device-less register.
 */
export class ValueSource<T extends bigint | number> {
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
