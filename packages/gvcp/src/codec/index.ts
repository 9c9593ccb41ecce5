export * from './constants.js';
export * from './device-info.js';
export * from './messages.js';
export * from './pixel-format.js';
export * from './registers.js';
export * from './url.js';
