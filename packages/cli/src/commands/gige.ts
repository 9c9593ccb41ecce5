import { writeFile } from 'node:fs/promises';
import {
  BootstrapRegister,
  BootstrapStringSize,
  type DiscoveredDevice,
  discover,
  fetchGenicamXml,
  forceIp,
  GVCP_PORT,
  GvcpCapability,
  GvcpClient,
  parseDeviceMode,
  statusName,
  urlFromRegister,
} from '@cam/gvcp';
import { isIpv4, macToBytes } from '@cam/net-utils';
import type { Command } from 'commander';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';
import { registerGigeSimulate } from './gige-simulate.js';
import { registerGigeStream } from './gige-stream.js';

interface NetOptions {
  json?: boolean;
  port?: string;
  timeout?: string;
}

function port(opts: NetOptions): number {
  const p = opts.port === undefined ? GVCP_PORT : parseNumber(opts.port, 'port');
  if (p < 1 || p > 0xffff) throw new UsageError(`port ${p} is not in 1..65535`);
  return p;
}

function ip(text: string, what = 'address'): string {
  if (!isIpv4(text)) throw new UsageError(`${what} "${text}" is not an IPv4 address`);
  return text;
}

function timeout(opts: NetOptions, fallback: number): number {
  return opts.timeout === undefined ? fallback : parseNumber(opts.timeout, 'timeout');
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

/** Runs an action, reporting errors (JSON or text) and setting the exit code. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const json = Boolean((cmd.opts() as NetOptions).json);
    try {
      await fn(...args);
    } catch (e) {
      reportError(e, json);
    }
  };
}

async function withClient<T>(address: string, opts: NetOptions, fn: (c: GvcpClient) => Promise<T>): Promise<T> {
  const tryTimeoutMs = opts.timeout === undefined ? undefined : parseNumber(opts.timeout, 'timeout');
  const client = await GvcpClient.connect(ip(address), {
    port: port(opts),
    ...(tryTimeoutMs === undefined ? {} : { tryTimeoutMs }),
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function net(cmd: Command): Command {
  return cmd
    .option('--port <n>', `device GVCP port (default ${GVCP_PORT})`)
    .option('--timeout <ms>', 'per-try acknowledge timeout in ms (default 500)')
    .option('--json', 'print one JSON document');
}

/** Names of the GVCP capability bits that are set (register 0x0934). */
function capabilityNames(value: number): string[] {
  return Object.entries(GvcpCapability)
    .filter(([, mask]) => (value & mask) >>> 0 !== 0)
    .map(([name]) => name);
}

function deviceLine(d: DiscoveredDevice): string {
  const name = d.userDefinedName ? ` "${d.userDefinedName}"` : '';
  return `${d.address.padEnd(15)} ${d.mac}  ${d.manufacturerName} ${d.modelName}  serial ${d.serialNumber || '-'}${name}  via ${d.interfaceAddress || '?'}`;
}

/** `cam gige ...`: GigE Vision control (GVCP) and streaming (GVSP). */
export function registerGige(program: Command): void {
  const gige = program.command('gige').description('GigE Vision cameras: discover, registers, GenICam, grab, simulate');

  gige
    .command('discover')
    .description('find GigE Vision devices (broadcast on every interface, one interface, or unicast to one address)')
    .option('--address <ip>', 'unicast DISCOVERY to this device only (works on loopback)')
    .option('--interface <ip>', 'broadcast from this host interface only')
    .option('--timeout <ms>', 'how long to collect replies (default 1000)')
    .option('--port <n>', `device GVCP port (default ${GVCP_PORT})`)
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: NetOptions & { address?: string; interface?: string }) => {
        const devices = await discover({
          port: port(opts),
          timeoutMs: timeout(opts, 1000),
          ...(opts.address === undefined ? {} : { address: ip(opts.address) }),
          ...(opts.interface === undefined ? {} : { interface: ip(opts.interface, 'interface') }),
        });
        if (opts.json) {
          printJson({ ok: true, devices });
          return;
        }
        if (devices.length === 0) process.stdout.write('no GigE Vision device answered\n');
        for (const d of devices) process.stdout.write(`${deviceLine(d)}\n`);
      }),
    );

  net(
    gige.command('info').description('identity, network settings and capabilities of a device').argument('<ip>'),
  ).action(
    action(async (address: string, opts: NetOptions) => {
      const info = await withClient(address, opts, async (c) => {
        const device = await c.deviceInfo();
        const [capabilities, heartbeatTimeout, streamChannels, messageChannels, ccp] = await c.readRegisters([
          BootstrapRegister.GVCP_CAPABILITY,
          BootstrapRegister.HEARTBEAT_TIMEOUT,
          BootstrapRegister.NUMBER_OF_STREAM_CHANNELS,
          BootstrapRegister.NUMBER_OF_MESSAGE_CHANNELS,
          BootstrapRegister.CCP,
        ]);
        const url = urlFromRegister(await c.readMemory(BootstrapRegister.FIRST_URL, BootstrapStringSize.FIRST_URL));
        return {
          ...device,
          specVersion: `${device.specVersionMajor}.${device.specVersionMinor}`,
          mode: parseDeviceMode(device.deviceMode),
          gvcpCapability: capabilities ?? 0,
          gvcpCapabilities: capabilityNames(capabilities ?? 0),
          heartbeatTimeoutMs: heartbeatTimeout ?? 0,
          streamChannels: streamChannels ?? 0,
          messageChannels: messageChannels ?? 0,
          ccp: ccp ?? 0,
          genicamUrl: url,
        };
      });
      if (opts.json) {
        printJson({ ok: true, address, device: info });
        return;
      }
      const rows: [string, string][] = [
        ['manufacturer', info.manufacturerName],
        ['model', info.modelName],
        ['version', info.deviceVersion],
        ['manufacturer info', info.manufacturerInfo],
        ['serial', info.serialNumber],
        ['user name', info.userDefinedName],
        ['MAC', info.mac],
        ['IP', `${info.ip} / ${info.subnetMask} gw ${info.defaultGateway}`],
        ['GigE Vision', info.specVersion],
        ['GVCP capability', `${hex32(info.gvcpCapability)} ${info.gvcpCapabilities.join(' ')}`.trimEnd()],
        ['heartbeat timeout', `${info.heartbeatTimeoutMs} ms`],
        ['stream channels', String(info.streamChannels)],
        ['message channels', String(info.messageChannels)],
        ['CCP', hex32(info.ccp)],
        ['GenICam URL', info.genicamUrl],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(18)} ${v}\n`);
    }),
  );

  net(
    gige
      .command('read')
      .description('read 32-bit registers (hex 0x.. or decimal addresses)')
      .argument('<ip>')
      .argument('<addr...>'),
  ).action(
    action(async (address: string, addrs: string[], opts: NetOptions) => {
      const addresses = addrs.map((a) => parseNumber(a, 'address'));
      const values = await withClient(address, opts, (c) => c.readRegisters(addresses));
      const registers = addresses.map((a, i) => ({ address: a, value: values[i] ?? 0 }));
      if (opts.json) {
        printJson({ ok: true, registers });
        return;
      }
      for (const r of registers) process.stdout.write(`${hex32(r.address)} = ${hex32(r.value)} (${r.value})\n`);
    }),
  );

  net(
    gige
      .command('write')
      .description('write 32-bit registers: ADDR=VALUE (hex or decimal); takes control first unless --no-control')
      .argument('<ip>')
      .argument('<assignments...>')
      .option('--no-control', 'do not take control privilege (CCP) before writing'),
  ).action(
    action(async (address: string, assignments: string[], opts: NetOptions & { control: boolean }) => {
      const writes = assignments.map((s) => {
        const eq = s.indexOf('=');
        if (eq <= 0) throw new UsageError(`"${s}" is not ADDR=VALUE`);
        const value = parseNumber(s.slice(eq + 1), 'value');
        if (value > 0xffffffff) throw new UsageError(`value "${s.slice(eq + 1)}" does not fit 32 bits`);
        return { address: parseNumber(s.slice(0, eq), 'address'), value };
      });
      await withClient(address, opts, async (c) => {
        if (opts.control) await c.takeControl();
        await c.writeRegisters(writes);
      });
      if (opts.json) {
        printJson({ ok: true, written: writes });
        return;
      }
      for (const w of writes) process.stdout.write(`${hex32(w.address)} <- ${hex32(w.value)} (${w.value})\n`);
    }),
  );

  net(
    gige
      .command('readmem')
      .description('read device memory (READMEM, any length)')
      .argument('<ip>')
      .argument('<addr>')
      .argument('<len>')
      .option('-o, --output <file>', 'write the bytes to a file instead of a hex dump'),
  ).action(
    action(async (address: string, addrText: string, lenText: string, opts: NetOptions & { output?: string }) => {
      const addr = parseNumber(addrText, 'address');
      const len = parseNumber(lenText, 'length');
      if (len > 16 * 1024 * 1024) throw new UsageError('length above 16 MiB');
      const data = await withClient(address, opts, (c) => c.readMemory(addr, len));
      if (opts.output) await writeFile(opts.output, data);
      if (opts.json) {
        printJson({
          ok: true,
          address: addr,
          length: data.byteLength,
          ...(opts.output ? { file: opts.output } : { data }),
        });
        return;
      }
      if (opts.output) {
        process.stdout.write(`${data.byteLength} bytes from ${hex32(addr)} written to ${opts.output}\n`);
        return;
      }
      for (let i = 0; i < data.byteLength; i += 16) {
        const row = data.subarray(i, i + 16);
        const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
        const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
        process.stdout.write(`${hex32(addr + i)}  ${hex.padEnd(47)}  ${text}\n`);
      }
    }),
  );

  net(
    gige
      .command('genicam')
      .description('download the GenICam XML (URL register 0x0200, then 0x0400; Local/File/http; unzips .zip)')
      .argument('<ip>')
      .option('-o, --output <file>', 'write the XML to a file'),
  ).action(
    action(async (address: string, opts: NetOptions & { output?: string }) => {
      const file = await withClient(address, opts, (c) => fetchGenicamXml(c));
      if (opts.output) await writeFile(opts.output, file.xml);
      if (opts.json) {
        printJson({
          ok: true,
          url: file.url,
          urlRegister: file.urlRegister,
          schemaVersion: file.schemaVersion ?? null,
          zipped: file.zipped,
          storedBytes: file.raw.byteLength,
          ...(opts.output ? { file: opts.output } : { xml: file.xml }),
        });
        return;
      }
      if (opts.output) {
        process.stdout.write(
          `${file.url} -> ${opts.output} (${file.xml.length} characters${file.zipped ? ', unzipped' : ''})\n`,
        );
        return;
      }
      process.stdout.write(file.xml.endsWith('\n') ? file.xml : `${file.xml}\n`);
    }),
  );

  gige
    .command('forceip')
    .description('assign an IP address to a device by MAC (FORCEIP, broadcast; not persistent)')
    .requiredOption('--mac <mac>', 'MAC address of the device (aa:bb:cc:dd:ee:ff)')
    .requiredOption('--ip <ip>', 'new IP address')
    .requiredOption('--mask <mask>', 'new subnet mask')
    .option('--gateway <ip>', 'new default gateway', '0.0.0.0')
    .option('--interface <ip>', 'broadcast from this host interface only')
    .option('--address <ip>', 'send unicast to this address instead of broadcasting')
    .option('--timeout <ms>', 'how long to wait for FORCEIP_ACK (default 1000)')
    .option('--port <n>', `device GVCP port (default ${GVCP_PORT})`)
    .option('--json', 'print one JSON document')
    .action(
      action(
        async (
          opts: NetOptions & {
            mac: string;
            ip: string;
            mask: string;
            gateway: string;
            interface?: string;
            address?: string;
          },
        ) => {
          try {
            macToBytes(opts.mac);
          } catch {
            throw new UsageError(`--mac "${opts.mac}" is not a MAC address like 00:11:22:aa:bb:cc`);
          }
          const result = await forceIp({
            mac: opts.mac,
            ip: ip(opts.ip, '--ip'),
            mask: ip(opts.mask, '--mask'),
            gateway: ip(opts.gateway, '--gateway'),
            port: port(opts),
            timeoutMs: timeout(opts, 1000),
            ...(opts.interface === undefined ? {} : { interface: ip(opts.interface, '--interface') }),
            ...(opts.address === undefined ? {} : { address: ip(opts.address, '--address') }),
          });
          const ok = result.acknowledged && result.status === 0;
          if (!ok) process.exitCode = 1;
          if (opts.json) {
            printJson({
              ok,
              ...result,
              ...(result.status === undefined ? {} : { statusName: statusName(result.status) }),
            });
            return;
          }
          if (!result.acknowledged) process.stderr.write(`cam: no FORCEIP_ACK from ${opts.mac}\n`);
          else
            process.stdout.write(
              `${opts.mac} -> ${opts.ip}/${opts.mask}: ${statusName(result.status ?? 0)} (ack from ${result.from ?? '?'})\n`,
            );
        },
      ),
    );

  registerGigeSimulate(gige);
  registerGigeStream(gige);
}
