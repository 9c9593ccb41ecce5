export * from './api/index.js';
export * from './codec/index.js';
export * from './device/index.js';
export * from './platform/index.js';
export * from './platform/media/index.js';
export * from './store/index.js';
