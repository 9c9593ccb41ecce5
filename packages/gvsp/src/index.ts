export * from './codec/constants.js';
export * from './codec/packet.js';
export * from './codec/packet-resend.js';
export * from './codec/pixel-format.js';
