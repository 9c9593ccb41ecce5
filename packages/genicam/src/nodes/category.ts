/**
 * Category nodes: named groups of features (pFeature).
 */
import { GNode } from './base.js';

export class CategoryNode extends GNode {
  readonly type = 'Category' as const;
  readonly iface = 'ICategory' as const;
  get features(): string[] {
    return this.texts('pFeature');
  }
}
