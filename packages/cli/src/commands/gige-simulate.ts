import { GVCP_PORT, GvcpDevice, type GvcpDeviceOptions, PixelFormat } from '@cam/gvcp';
import { isIpv4, macToBytes } from '@cam/net-utils';
import type { Command } from 'commander';
import { parseNumber, reportError, UsageError } from '../output.js';

interface SimulateOptions {
  address?: string;
  port?: string;
  serial?: string;
  mac?: string;
  model?: string;
  pixelFormat?: string;
  json?: boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function deviceOptions(opts: SimulateOptions): GvcpDeviceOptions {
  const options: GvcpDeviceOptions = {};
  if (opts.address !== undefined) {
    if (!isIpv4(opts.address)) throw new UsageError(`address "${opts.address}" is not an IPv4 address`);
    options.address = opts.address;
  }
  options.port = opts.port === undefined ? GVCP_PORT : parseNumber(opts.port, 'port');
  if (options.port > 0xffff) throw new UsageError(`port ${options.port} is not in 0..65535`);
  if (opts.serial !== undefined) {
    if (new TextEncoder().encode(opts.serial).byteLength > 15)
      throw new UsageError('serial number is longer than 15 bytes');
    options.serialNumber = opts.serial;
  }
  if (opts.mac !== undefined) {
    try {
      macToBytes(opts.mac);
    } catch {
      throw new UsageError(`MAC "${opts.mac}" is not like 02:11:22:33:44:55`);
    }
    options.mac = opts.mac;
  }
  if (opts.model !== undefined) {
    if (new TextEncoder().encode(opts.model).byteLength > 31)
      throw new UsageError('model name is longer than 31 bytes');
    options.modelName = opts.model;
  }
  if (opts.pixelFormat !== undefined) {
    if (!(opts.pixelFormat in PixelFormat)) {
      throw new UsageError(`pixel format "${opts.pixelFormat}" is not one of ${Object.keys(PixelFormat).join(', ')}`);
    }
    options.pixelFormat = opts.pixelFormat as keyof typeof PixelFormat;
  }
  return options;
}

/** Registers `cam gige simulate`: a simulated GigE Vision camera (GVCP) that runs until SIGINT / SIGTERM. */
export function registerGigeSimulate(gige: Command): void {
  gige
    .command('simulate')
    .description('run a simulated GigE Vision camera (GVCP on UDP) until stopped with Ctrl-C / SIGTERM')
    .option('--address <ip>', 'address to listen on (default 0.0.0.0: every interface, answers broadcasts)')
    .option('--port <n>', `UDP port (default ${GVCP_PORT}; 0 = any free port)`)
    .option('--serial <s>', 'serial number (at most 15 bytes)')
    .option('--mac <mac>', 'MAC address (default derived from the serial number)')
    .option('--model <name>', 'model name')
    .option('--pixel-format <name>', 'initial PixelFormat (Mono8, Mono16, RGB8Packed, BayerRG8, ...)')
    .option('--json', 'print one JSON line with address, port, serial and MAC once listening')
    .action(async (opts: SimulateOptions) => {
      const json = opts.json === true;
      let device: GvcpDevice | undefined;
      try {
        device = new GvcpDevice(deviceOptions(opts));
        const stopped = untilStopped();
        const where = await device.listen();
        const info = { address: where.address, port: where.port, serial: device.serialNumber, mac: device.mac };
        if (json) {
          // One JSON document, on one line, so a caller can read it as soon as it appears.
          process.stdout.write(`${JSON.stringify({ ok: true, ...info })}\n`);
        } else {
          process.stdout.write(
            `GigE Vision camera simulator listening on ${info.address}:${info.port} (serial ${info.serial}, MAC ${info.mac}); Ctrl-C to stop\n`,
          );
          device.on('controlChange', (c) => {
            const who = c.primary ? ` ${c.primary.address}:${c.primary.port} (${c.primary.privilege})` : '';
            process.stdout.write(`control ${c.reason}${who}\n`);
          });
          device.on('forceIp', (c) =>
            process.stdout.write(`FORCEIP: now ${c.ip}/${c.subnetMask} gateway ${c.gateway}\n`),
          );
        }
        const signal = await stopped;
        const stats = device.stats;
        await device.close();
        if (!json) {
          process.stdout.write(
            `stopped (${signal}): ${stats.commandsExecuted} commands, ${stats.acksSent} acks, ${stats.badDatagrams} bad datagrams\n`,
          );
        }
      } catch (error) {
        await device?.close();
        reportError(error, json);
      }
    });
}
