// Pure codec: bytes <-> typed GVCP messages, status codes, bootstrap register map, GenICam URLs.
export * from './codec/index.js';
