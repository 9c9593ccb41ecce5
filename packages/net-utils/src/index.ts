/**
 * `@cam/net-utils`: the pure wire layer (also importable alone as `@cam/net-utils/wire`, for codecs and browsers)
 * plus the Node socket helpers: host interfaces, port pool, stream framing over a Duplex, reads into a user buffer.
 */

export { egressMtu, type Ipv4Interface, interfaceFor, interfaceMtu, listIpv4Interfaces } from './net.js';
export { type PendingRequestOptions, PendingRequests } from './pending-requests.js';
export { type AcquireOptions, type PortLease, PortPool, type PortPoolOptions } from './port-pool.js';
export { type ReadFramesOptions, readFrames } from './stream.js';
export { readIntoUserBuffer, type UserBufferReads } from './user-buffer.js';
export * from './wire.js';
export { SOURCE_WORKER_STARTER, startPackageWorker } from './worker.js';
