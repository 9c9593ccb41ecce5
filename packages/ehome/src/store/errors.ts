import { WireError } from '@cam/net-utils';

/** The store failed or refused a write (its write queue is full); nothing was committed. */
export class StoreError extends WireError {
  static override readonly errorName: string = 'StoreError';
}
