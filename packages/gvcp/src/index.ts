// Pure codec: bytes <-> typed GVCP messages, status codes, bootstrap register map, GenICam URLs.
export * from './codec/index.js';
export * from './device/index.js';
// fflate (zip) is an optional peer dependency; this error names it when a zipped GenICam file needs it.
export { FflateMissingError } from './fflate.js';
// `RegisterAccess` is the host's register/memory access interface (GvcpClient implements it); the explicit export
// wins over the device's access-mode type of the same name, which stays reachable inside the device module.
export type { RegisterAccess } from './transport/index.js';
// Host role: client, discovery, FORCEIP, message channel, actions, GenICam download.
export * from './transport/index.js';
