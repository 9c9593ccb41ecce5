/**
 * A FORCEIP hook for Linux (`GvcpDeviceOptions.applyIpConfig`): moves the device's address on the interface that
 * holds it with iproute2 (`ip addr del` the old one, `ip addr add` the new one, then the default route), so the
 * simulated camera really answers from its new address afterwards. It needs CAP_NET_ADMIN and changes the host's
 * network: meant for a network namespace made for the simulator (the namespace tests, `cam gige simulate
 * --forceip-hook ip` run under `ip netns exec`), never a workstation's own interface.
 */
import { execFile } from 'node:child_process';
import { ipv4ToU32, listIpv4Interfaces, prefixLength } from '@cam/net-utils';
import type { IpConfig } from './types.js';

/** Each `ip` call may take this long before the hook fails (and FORCEIP is answered with status ERROR). */
const IP_COMMAND_TIMEOUT_MS = 5000;

export interface IpRouteForceIpHookOptions {
  /** The iproute2 binary (default `ip`, found on PATH). */
  ipCommand?: string;
  /** The interface to re-address (default: the one holding the device's previous address). */
  interface?: string;
}

/** Thrown by the hook when it cannot move the address (FORCEIP is then answered with status ERROR). */
export class ForceIpHookError extends Error {
  override readonly name = 'ForceIpHookError';
}

function ip(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: IP_COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error)
        reject(new ForceIpHookError(`${command} ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`));
      else resolve(String(stdout));
    });
  });
}

/**
 * Returns an `applyIpConfig` hook that moves `previous.ip` to `config.ip` on its interface with `ip addr`. The old
 * address goes first: deleting a primary address would take a new secondary on the same subnet with it. A default
 * route that went through the interface is put back (via the new gateway when it is on the new subnet).
 */
export function ipRouteForceIpHook(
  options: IpRouteForceIpHookOptions = {},
): (config: IpConfig, previous: IpConfig) => Promise<void> {
  const command = options.ipCommand ?? 'ip';
  return async (config, previous) => {
    const held = listIpv4Interfaces().find((i) => i.address === previous.ip);
    const dev = options.interface ?? held?.name;
    if (!dev) throw new ForceIpHookError(`no interface holds ${previous.ip}: cannot move it to ${config.ip}`);
    if (held?.internal) throw new ForceIpHookError(`${previous.ip} is a loopback address: it stays where it is`);
    if (config.ip === previous.ip && config.subnetMask === previous.subnetMask && config.gateway === previous.gateway)
      return;
    const hadDefault = (await ip(command, ['-4', 'route', 'show', 'default', 'dev', dev])).trim() !== '';
    if (held && held.name === dev)
      await ip(command, ['addr', 'del', `${held.address}/${held.prefixLength}`, 'dev', dev]);
    const prefix = prefixLength(config.subnetMask);
    await ip(command, ['addr', 'replace', `${config.ip}/${prefix}`, 'dev', dev]);
    const mask = ipv4ToU32(config.subnetMask);
    const gatewayOnSubnet =
      config.gateway !== '0.0.0.0' && (ipv4ToU32(config.gateway) & mask) >>> 0 === (ipv4ToU32(config.ip) & mask) >>> 0;
    if (gatewayOnSubnet) await ip(command, ['route', 'replace', 'default', 'via', config.gateway, 'dev', dev]);
    else if (hadDefault) await ip(command, ['route', 'replace', 'default', 'dev', dev]);
  };
}
