import { writeFile } from 'node:fs/promises';
import type { FeatureDescription, FeatureEntry, FeatureValue, NodeMap } from '@cam/genicam';
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
import {
  applySteps,
  describeBrief,
  featureNames,
  featureStep,
  type PlannedWrite,
  planWrite,
  resolveFeature,
  showValue,
  suggestNames,
  type WriteResult,
  type WriteStep,
} from '../features.js';
import { action, parseNumber, printJson, terminalSafe, UsageError } from '../output.js';
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

/** A register address (starts with a digit: `0x..` or decimal) rather than a GenICam feature name. */
function isAddress(text: string): boolean {
  return /^[0-9]/.test(text.trim());
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

/** One row of `cam gige features`: the walk's entry with its description (access, range, unit) or the error. */
interface FeatureRow {
  entry: FeatureEntry;
  description?: FeatureDescription;
  error?: Error;
}

/**
 * One line of `cam gige features`: indented by category depth, `Type: Name = value [RW] min..max unit` like
 * arv-tool values.
 */
function featureLine(r: FeatureRow, indented: boolean): string {
  const indent = indented ? '    '.repeat(r.entry.depth) : '';
  if (r.entry.interface === 'ICategory') return `${indent}Category: ${r.entry.name}`;
  const head = `${indent}${r.entry.type}: ${r.entry.name}`;
  if (r.error) return `${head} (error: ${r.error.message})`;
  const d = r.description;
  if (!d) return head;
  const value = d.value !== undefined ? ` = ${showValue(d.value)}` : '';
  return `${head}${value} ${describeBrief(d)}`;
}

/** `--filter` text: a case-insensitive substring, or a glob with `*` and `?`. */
function nameFilter(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  if (!/[*?]/.test(pattern)) {
    const p = pattern.toLowerCase();
    return (name) => name.toLowerCase().includes(p);
  }
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
    'i',
  );
  return (name) => re.test(name);
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
        for (const name of names) resolveFeature(map as NodeMap, name); // every name known before any read
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
        'write 32-bit registers ADDR=VALUE (hex or decimal) or GenICam features Name=VALUE, in order, after checking every one (name, access, range) first; takes control first unless --no-control',
      )
      .argument('<ip>')
      .argument('<assignments...>')
      .option('--no-control', 'do not take control privilege (CCP) before writing'),
  ).action(
    action(async (address: string, assignments: string[], opts: NetOptions & { control: boolean }) => {
      type Parsed = { address: number; value: number } | { feature: string; text: string };
      const parsed = assignments.map((s): Parsed => {
        const eq = s.indexOf('=');
        if (eq <= 0) throw new UsageError(`"${s}" is not ADDR=VALUE or Feature=VALUE`);
        const key = s.slice(0, eq);
        const text = s.slice(eq + 1);
        if (!isAddress(key)) return { feature: key, text };
        const value = parseNumber(text, 'value');
        if (value > 0xffffffff) throw new UsageError(`value "${text}" does not fit 32 bits`);
        return { address: parseNumber(key, 'address'), value };
      });
      const registerStep = (c: GvcpClient, w: { address: number; value: number }): WriteStep<WriteResult> => ({
        label: `${hex32(w.address)}=${hex32(w.value)}`,
        run: async () => {
          await c.writeRegister(w.address, w.value);
          return { name: hex32(w.address), value: w.value };
        },
      });
      let results: WriteResult[];
      if (parsed.every((p) => 'address' in p)) {
        results = await withClient(address, opts, async (c) => {
          if (opts.control) await c.takeControl();
          return applySteps(parsed.map((p) => registerStep(c, p as { address: number; value: number })));
        });
      } else {
        results = await withNodeMap(address, opts, opts.control, async (map, c) => {
          // all or nothing: every name resolved and every value checked against the camera before the first write
          const steps: WriteStep<WriteResult>[] = [];
          const plans: PlannedWrite[] = [];
          for (const p of parsed) if ('feature' in p) plans.push(await planWrite(map, p.feature, p.text));
          let k = 0;
          for (const p of parsed) steps.push('feature' in p ? featureStep(map, plans[k++]!) : registerStep(c, p));
          return applySteps(steps);
        });
      }
      const registers = parsed.flatMap((p) => ('address' in p ? [{ address: p.address, value: p.value }] : []));
      const features = results.filter((r) => !r.name.startsWith('0x'));
      if (opts.json) {
        printJson({ ok: true, written: registers, ...(features.length > 0 ? { features } : {}) });
        return;
      }
      for (const [i, p] of parsed.entries()) {
        const r = results[i];
        if ('address' in p) process.stdout.write(`${hex32(p.address)} <- ${hex32(p.value)} (${p.value})\n`);
        else if (r?.executed) process.stdout.write(`${p.feature} executed\n`);
        else process.stdout.write(`${terminalSafe(`${p.feature} <- ${showValue(r?.value)}`)}\n`);
      }
    }),
  );

  net(
    gige
      .command('exec')
      .description(
        'execute GenICam command features (AcquisitionStart, TriggerSoftware, ...), in order; takes control first',
      )
      .argument('<ip>')
      .argument('<command...>', 'Command feature names'),
  ).action(
    action(async (address: string, commands: string[], opts: NetOptions) => {
      const results = await withNodeMap(address, opts, true, async (map) => {
        const plans: PlannedWrite[] = [];
        for (const name of commands) {
          resolveFeature(map, name);
          if (map.typeOf(name) !== 'Command') {
            const near = suggestNames(
              name,
              featureNames(map).filter((n) => map.typeOf(n) === 'Command'),
            );
            throw new UsageError(
              `${name} is a ${map.typeOf(name)}, not a command${near.length > 0 ? ` (commands like it: ${near.join(', ')})` : ''}; set values with cam gige write`,
            );
          }
          plans.push(await planWrite(map, name, '1'));
        }
        return applySteps(plans.map((p) => featureStep(map, p)));
      });
      if (opts.json) {
        printJson({ ok: true, executed: results.map((r) => r.name) });
        return;
      }
      for (const r of results) process.stdout.write(`${r.name} executed\n`);
    }),
  );

  net(
    gige
      .command('features')
      .description('list the GenICam features by category with value, access, range and unit (like arv-tool values)')
      .argument('<ip>')
      .option('--root <category>', 'walk from this category (default: Root)')
      .option('--filter <pattern>', 'only features whose name contains this text, or matches a glob (Gain*, *Offset?)')
      .option('--access <modes>', 'only features with these access modes, comma-separated (RW,RO,WO,NA,NI)')
      .option('--names', 'names only, no values (no reads beyond the XML)'),
  ).action(
    action(
      async (
        address: string,
        opts: NetOptions & { root?: string; filter?: string; access?: string; names?: boolean },
      ) => {
        const match = nameFilter(opts.filter);
        const modes = opts.access?.split(',').map((m) => m.trim().toUpperCase());
        if (modes?.some((m) => !['RW', 'RO', 'WO', 'NA', 'NI'].includes(m)))
          throw new UsageError(`--access "${opts.access}" is not a list of RW, RO, WO, NA, NI`);
        const filtering = opts.filter !== undefined || modes !== undefined;
        const rows = await withNodeMap(address, opts, false, async (map) => {
          if (opts.root !== undefined) resolveFeature(map, opts.root);
          const out: FeatureRow[] = [];
          for (const entry of map.features(opts.root)) {
            if (entry.interface === 'ICategory') {
              if (!filtering) out.push({ entry });
              continue;
            }
            if (!match(entry.name)) continue;
            if (opts.names) {
              out.push({ entry });
              continue;
            }
            try {
              const description = await map.describe(entry.name);
              if (modes && !modes.includes(description.access)) continue;
              out.push({ entry, description });
            } catch (e) {
              if (modes) continue;
              out.push({ entry, error: e instanceof Error ? e : new Error(String(e)) });
            }
          }
          return out;
        });
        if (opts.json) {
          printJson({
            ok: true,
            features: rows.map((r) => ({
              ...r.entry,
              ...(r.description
                ? {
                    access: r.description.access,
                    ...(r.description.value === undefined ? {} : { value: r.description.value }),
                    ...(r.description.unit ? { unit: r.description.unit } : {}),
                    ...(r.description.min === undefined ? {} : { min: r.description.min }),
                    ...(r.description.max === undefined ? {} : { max: r.description.max }),
                    ...(r.description.inc === undefined ? {} : { inc: r.description.inc }),
                    ...(r.description.entries
                      ? { entries: r.description.entries.filter((e) => e.available).map((e) => e.name) }
                      : {}),
                  }
                : {}),
              ...(r.error ? { error: { name: r.error.name, message: r.error.message } } : {}),
            })),
          });
          return;
        }
        if (rows.length === 0) process.stderr.write('no feature matches\n');
        for (const r of rows) process.stdout.write(`${terminalSafe(featureLine(r, !filtering))}\n`);
      },
    ),
  );

  net(
    gige
      .command('describe')
      .description(
        'describe GenICam features (all of them when no name is given): type, access, range, unit, entries, register, value',
      )
      .argument('<ip>')
      .argument('[feature...]'),
  ).action(
    action(async (address: string, names: string[], opts: NetOptions) => {
      const descriptions = await withNodeMap(address, opts, false, async (map) => {
        const wanted =
          names.length > 0
            ? names
            : map
                .features()
                .filter((f) => f.interface !== 'ICategory')
                .map((f) => f.name);
        for (const name of wanted) resolveFeature(map, name);
        const out: (FeatureDescription | { name: string; error: { name: string; message: string } })[] = [];
        for (const name of wanted) {
          try {
            out.push(await map.describe(name));
          } catch (e) {
            // one named feature failing is the answer; while describing all, one failure must not hide the rest
            if (names.length > 0) throw e;
            const err = e instanceof Error ? e : new Error(String(e));
            out.push({ name, error: { name: err.name, message: err.message } });
          }
        }
        return out;
      });
      if (opts.json) {
        printJson({ ok: true, features: descriptions });
        return;
      }
      process.stdout.write(
        terminalSafe(
          descriptions
            .map((d) => ('error' in d ? `${d.name}\n  error            ${d.error.message}\n` : describeText(d)))
            .join('\n'),
          true,
        ),
      );
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
