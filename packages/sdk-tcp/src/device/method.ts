/**
 * The contract between the SDK device's dispatcher (device.ts) and the code that answers vendor methods
 * (controller.ts, user handlers): what a handler gets and what it answers. Its own file so both sides import it
 * and not each other.
 */

/** What a method handler gets. */
export interface SdkMethodRequest {
  method: string;
  /** Inner XML of `<in>`. */
  body: string;
  guid: string;
  /** Remote address of the host. */
  remote: string;
}

/** A handler's answer: the inner XML of `<out>` (result kSuccess), or a result name with an optional body. */
export type SdkMethodResult = string | { result?: string; body?: string };
export type SdkMethodHandler = (request: SdkMethodRequest) => SdkMethodResult | Promise<SdkMethodResult>;
