/**
 * Port nodes: where register nodes read and write (the device, a chunk or an event port).
 */
import type { AccessMode } from '../errors.js';
import { GNode } from './base.js';

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
