/**
 * String nodes (value held in the node map, not a register).
 */
import { type AccessMode, GenicamXmlError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, GNode, type Prop } from './base.js';

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
