import { type AccessContext, type GvcpDevice, GvcpDeviceStatusError } from '@cam/gvcp';
import { ScGvmpRegisterWriteError } from '../codec/errors.js';
import type { ScGvmpDevice } from '../device/device.js';
import type { RegisterRequestContext, ScGvmpRegisterHost } from '../device/register-host.js';

/**
 * @cam/gvcp's `GvcpDevice` as an SC_GVMP register host: registers are defined in its register space (STREAM_STATE
 * and ERR_CODE read-only), a refused write is answered with the GVCP status the handler chose, and the control
 * channel holder is the device's primary application.
 */
export function gvcpRegisterHost(device: GvcpDevice, names: Partial<Record<number, string>> = {}): ScGvmpRegisterHost {
  const context = (ctx: AccessContext): RegisterRequestContext => ({
    source: { address: ctx.address, port: ctx.port },
    fromControlHolder: device.control.isPrimary(ctx),
  });
  return {
    defineRegister(address, handler) {
      device.registers.define({
        address,
        name: names[address] ?? `SC_GVMP 0x${address.toString(16)}`,
        access: 'RW',
        read: (ctx) => handler.read(context(ctx)),
        write: (value, ctx) => {
          try {
            handler.write(value >>> 0, context(ctx));
          } catch (error) {
            if (ScGvmpRegisterWriteError.isInstance(error))
              throw new GvcpDeviceStatusError(error.gvcpStatus, error.message);
            throw error;
          }
          return undefined;
        },
      });
    },
    removeRegister(address) {
      device.registers.undefine(address);
    },
    onControlLost(listener) {
      const onChange = (change: { primary: unknown; reason: string }): void => {
        if (change.reason !== 'granted') listener();
      };
      device.on('controlChange', onChange);
      return () => device.off('controlChange', onChange);
    },
  };
}

/** Plugs an {@link ScGvmpDevice} into a `GvcpDevice`; returns a function that removes it again. */
export function attachToGvcpDevice(scDevice: ScGvmpDevice, gvcpDevice: GvcpDevice): () => void {
  const r = scDevice.registers;
  return scDevice.attach(
    gvcpRegisterHost(gvcpDevice, {
      [r.mcda]: 'SC_GVMP MCDA',
      [r.mcp]: 'SC_GVMP MCP',
      [r.streamStart]: 'SC_GVMP STREAM_START',
      [r.streamState]: 'SC_GVMP STREAM_STATE',
      [r.errCode]: 'SC_GVMP ERR_CODE',
    }),
  );
}
