export * from '@cam/net-utils/wire';
export * from './constants.js';
export * from './error-codes.js';
export * from './errors.js';
export * from './packets.js';
export * from './program.js';
export * from './sdk-call.js';
export * from './xml.js';
