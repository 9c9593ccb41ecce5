/**
 * Command nodes (CommandValue written to pValue; pIsDone from reading it back).
 */
import { type AccessMode, GenicamXmlError } from '../errors.js';
import type { XmlElement } from '../xml/tree.js';
import { type Ctx, type Engine, enter, GNode, numToBigint, type Prop, parseIntLiteral } from './base.js';

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
