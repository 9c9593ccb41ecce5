import { writeFile } from 'node:fs/promises';
import type { FeatureDescription, FeatureReading, FeatureValue, NodeMap } from '@cam/genicam';
import {
  BootstrapRegister,
  BootstrapStringSize,
  connectCamera,
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
import { fetchOptionsFrom, type GenicamFetchCliOptions, genicamFetchOptions } from '../device-trust.js';
import { jsonReplacer, parseNumber, printJson, reportError, terminalSafe, UsageError } from '../output.js';
import { registerGigeSimulate } from './gige-simulate.js';
import { registerGigeStream } from './gige-stream.js';

interface NetOptions extends GenicamFetchCliOptions {
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

/**
 * Connects, loads the device's GenICam node map (over GVCP) and runs `fn`; `control` takes control privilege
 * first (needed for writes), otherwise the camera is opened read-only.
 */
async function withNodeMap<T>(
  address: string,
  opts: NetOptions,
  control: boolean,
  fn: (map: NodeMap, c: GvcpClient) => Promise<T>,
): Promise<T> {
  const tryTimeoutMs = opts.timeout === undefined ? undefined : parseNumber(opts.timeout, 'timeout');
  const camera = await connectCamera(ip(address), {
    port: port(opts),
    control: control ? {} : false,
    ...(tryTimeoutMs === undefined ? {} : { tryTimeoutMs }),
    ...fetchOptionsFrom(opts),
  });
  try {
    return await fn(camera.nodeMap, camera.client);
  } finally {
    if (control) await camera.client.releaseControl().catch(() => {});
    await camera.close();
  }
}

/** One assignment of `cam gige write`. */
type Step = { kind: 'register'; address: number; value: number } | { kind: 'feature'; feature: string; text: string };

/** A register address (starts with a digit: `0x..` or decimal) rather than a GenICam feature name. */
function isAddress(text: string): boolean {
  return /^[0-9]/.test(text.trim());
}

/** A feature value for a person: bytes as hex, everything else as text. */
function showValue(v: FeatureValue | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : String(jsonReplacer('', v));
}

function net(cmd: Command): Command {
  return genicamFetchOptions(cmd)
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

/** One line of `cam gige features`: indented by category depth, `Type: Name = value` like arv-tool. */
function featureLine(r: FeatureReading): string {
  const indent = '    '.repeat(r.depth);
  if (r.interface === 'ICategory') return `${indent}Category: ${r.name}`;
  const head = `${indent}${r.type}: ${r.name}`;
  if (r.error) return `${head} (error: ${r.error.message})`;
  if (r.value !== undefined) return `${head} = ${showValue(r.value)}`;
  return r.access === undefined || r.interface === 'ICommand' ? head : `${head} (${r.access})`;
}

/** `cam gige describe` for a person: one `key: value` line per property. */
function describeText(d: FeatureDescription): string {
  const lines = [`${d.name}`];
  for (const [key, value] of Object.entries(d)) {
    if (key === 'name' || value === undefined) continue;
    let text: string;
    if (key === 'entries') {
      text = (value as FeatureDescription['entries'] & object)
        .map((e) => `${e.name}=${e.value}${e.available ? '' : ' (unavailable)'}`)
        .join(', ');
    } else if (key === 'address') text = `0x${(value as bigint).toString(16)}`;
    else if (Array.isArray(value)) text = value.join(', ');
    else text = showValue(value as FeatureValue);
    lines.push(`  ${key.padEnd(16)} ${text}`);
  }
  return `${lines.join('\n')}\n`;
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
        for (const d of devices) process.stdout.write(`${terminalSafe(deviceLine(d))}\n`);
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
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(18)} ${terminalSafe(v)}\n`);
    }),
  );

  net(
    gige
      .command('read')
      .description('read 32-bit registers (hex 0x.. or decimal addresses) or GenICam features by name')
      .argument('<ip>')
      .argument('<addr-or-feature...>'),
  ).action(
    action(async (address: string, targets: string[], opts: NetOptions) => {
      const addresses = targets.filter(isAddress).map((a) => parseNumber(a, 'address'));
      const names = targets.filter((t) => !isAddress(t));
      const read = async (c: GvcpClient, map?: NodeMap) => {
        const values = addresses.length > 0 ? await c.readRegisters(addresses) : [];
        const features: { name: string; value: FeatureValue }[] = [];
        for (const name of names) features.push({ name, value: await (map as NodeMap).get(name) });
        return { registers: addresses.map((a, i) => ({ address: a, value: values[i] ?? 0 })), features };
      };
      const { registers, features } =
        names.length === 0
          ? await withClient(address, opts, (c) => read(c))
          : await withNodeMap(address, opts, false, (map, c) => read(c, map));
      if (opts.json) {
        printJson({ ok: true, registers, ...(names.length > 0 ? { features } : {}) });
        return;
      }
      for (const t of targets) {
        if (isAddress(t)) {
          const r = registers.find((x) => x.address === parseNumber(t, 'address'));
          if (r) process.stdout.write(`${hex32(r.address)} = ${hex32(r.value)} (${r.value})\n`);
        } else {
          const f = features.find((x) => x.name === t);
          if (f) process.stdout.write(`${terminalSafe(`${f.name} = ${showValue(f.value)}`)}\n`);
        }
      }
    }),
  );

  net(
    gige
      .command('write')
      .description(
        'write 32-bit registers ADDR=VALUE (hex or decimal) or GenICam features Name=VALUE, in order; takes control first unless --no-control',
      )
      .argument('<ip>')
      .argument('<assignments...>')
      .option('--no-control', 'do not take control privilege (CCP) before writing'),
  ).action(
    action(async (address: string, assignments: string[], opts: NetOptions & { control: boolean }) => {
      const steps = assignments.map((s): Step => {
        const eq = s.indexOf('=');
        if (eq <= 0) throw new UsageError(`"${s}" is not ADDR=VALUE or Feature=VALUE`);
        const key = s.slice(0, eq);
        const text = s.slice(eq + 1);
        if (!isAddress(key)) return { kind: 'feature', feature: key, text };
        const value = parseNumber(text, 'value');
        if (value > 0xffffffff) throw new UsageError(`value "${text}" does not fit 32 bits`);
        return { kind: 'register', address: parseNumber(key, 'address'), value };
      });
      const writes = steps.filter((w) => w.kind === 'register').map((w) => ({ address: w.address, value: w.value }));
      const features: { name: string; value: FeatureValue }[] = [];
      if (writes.length === steps.length) {
        await withClient(address, opts, async (c) => {
          if (opts.control) await c.takeControl();
          await c.writeRegisters(writes);
        });
      } else {
        // the node map checks access, range and entry names; what it reads back is what the device kept
        await withNodeMap(address, opts, opts.control, async (map, c) => {
          for (const w of steps) {
            if (w.kind === 'register') await c.writeRegister(w.address, w.value);
            else {
              await map.set(w.feature, w.text);
              features.push({ name: w.feature, value: await map.get(w.feature) });
            }
          }
        });
      }
      if (opts.json) {
        printJson({ ok: true, written: writes, ...(features.length > 0 ? { features } : {}) });
        return;
      }
      for (const w of steps) {
        if (w.kind === 'register') process.stdout.write(`${hex32(w.address)} <- ${hex32(w.value)} (${w.value})\n`);
        else
          process.stdout.write(
            `${terminalSafe(`${w.feature} <- ${showValue(features.find((f) => f.name === w.feature)?.value)}`)}\n`,
          );
      }
    }),
  );

  net(
    gige
      .command('features')
      .description('list the GenICam features by category with their values (like arv-tool values)')
      .argument('<ip>')
      .option('--root <category>', 'walk from this category (default Root)'),
  ).action(
    action(async (address: string, opts: NetOptions & { root?: string }) => {
      const readings = await withNodeMap(address, opts, false, (map) => map.values(opts.root));
      if (opts.json) {
        printJson({ ok: true, features: readings });
        return;
      }
      for (const r of readings) process.stdout.write(`${terminalSafe(featureLine(r))}\n`);
    }),
  );

  net(
    gige
      .command('describe')
      .description('describe GenICam features: type, access, range, unit, entries, register, value')
      .argument('<ip>')
      .argument('<feature...>'),
  ).action(
    action(async (address: string, names: string[], opts: NetOptions) => {
      const descriptions = await withNodeMap(address, opts, false, async (map) => {
        const out: FeatureDescription[] = [];
        for (const name of names) out.push(await map.describe(name));
        return out;
      });
      if (opts.json) {
        printJson({ ok: true, features: descriptions });
        return;
      }
      process.stdout.write(terminalSafe(descriptions.map(describeText).join('\n'), true));
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
      const file = await withClient(address, opts, (c) => fetchGenicamXml(c, fetchOptionsFrom(opts)));
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
          `${terminalSafe(file.url)} -> ${opts.output} (${file.xml.length} characters${file.zipped ? ', unzipped' : ''})\n`,
        );
        return;
      }
      const xml = terminalSafe(file.xml, true);
      process.stdout.write(xml.endsWith('\n') ? xml : `${xml}\n`);
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
