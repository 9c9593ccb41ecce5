import type { CallOptions } from '@cam/net-utils';

/**
 * The register access the host side needs from a GVCP client (structurally what @cam/gvcp's `GvcpClient`
 * implements: 32-bit ReadReg/WriteReg). A refused write rejects (with the GVCP status in the error).
 */
export interface ScGvmpRegisterAccess {
  readRegister(address: number, options?: CallOptions): Promise<number>;
  writeRegister(address: number, value: number, options?: CallOptions): Promise<void>;
}

/** A camera to stream from: its IPv4 address (the only peer the host accepts) and its registers. */
export interface ScGvmpCamera {
  address: string;
  registers: ScGvmpRegisterAccess;
}

/** A camera, or a GVCP client that knows its device's address (as @cam/gvcp's `GvcpClient` does). */
export type ScGvmpCameraLike = ScGvmpCamera | (ScGvmpRegisterAccess & { readonly address: string });

/** The {@link ScGvmpCamera} form of a camera or client. */
export function toCamera(camera: ScGvmpCameraLike): ScGvmpCamera {
  if ('registers' in camera) return camera;
  return { address: camera.address, registers: camera };
}
