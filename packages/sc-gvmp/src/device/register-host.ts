/**
 * The minimal register-host interface the device side needs from a GVCP device: define registers with read and
 * write handlers, and tell for each request whether it comes from the holder of the control channel privilege
 * (CCP). `adaptGvcpDevice` maps @cam/gvcp's GvcpDevice onto it; tests use in-memory implementations.
 */

/** Who sent a register request. */
export interface RegisterRequestContext {
  /** The GVCP client's address, when known. */
  source?: { address: string; port: number } | undefined;
  /** True when the sender holds the control channel privilege (exclusive or control access). */
  fromControlHolder: boolean;
}

/** Handlers of one 32-bit register. A write refuses by throwing `ScGvmpRegisterWriteError` (its GVCP status). */
export interface ScGvmpRegisterHandler {
  read(context: RegisterRequestContext): number;
  write(value: number, context: RegisterRequestContext): void;
}

/** Something that serves 32-bit registers by address (a GVCP device). */
export interface ScGvmpRegisterHost {
  defineRegister(address: number, handler: ScGvmpRegisterHandler): void;
  /** Removes a register defined earlier (optional: hosts without it keep the handlers until they close). */
  removeRegister?(address: number): void;
  /**
   * Calls `listener` whenever the control channel holder loses or gives up control (released, heartbeat timeout,
   * taken over); returns an unsubscribe function. Optional: used for the "session expired" half of ERR_NO_SESSION.
   */
  onControlLost?(listener: () => void): () => void;
}
