import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileType,
  type FileTypeName,
  SDK_PORT,
  SdkClient,
  SdkDevice,
  SdkResultError,
  type UploadProgress,
} from '@cam/sdk-tcp';
import type { Command } from 'commander';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';
import { startProgress } from '../progress.js';
import { registerSdkScreen } from './sdk-screen.js';

interface NetOptions {
  port?: string;
  timeout?: string;
  json?: boolean;
}

function port(options: NetOptions): number {
  const p = options.port === undefined ? SDK_PORT : parseNumber(options.port, 'port');
  if (p > 0xffff) throw new UsageError(`port ${p} is above 65535`);
  return p;
}

function timeout(options: NetOptions, fallback: number): number {
  return options.timeout === undefined ? fallback : parseNumber(options.timeout, 'timeout');
}

function fileType(text: string | undefined): FileTypeName {
  const t = text ?? 'image';
  if (!(t in FileType)) throw new UsageError(`--type must be one of ${Object.keys(FileType).join(', ')}`);
  return t as FileTypeName;
}

/** `cam sdk ...`: Huidu SDK TCP protocol. */
export function registerSdk(program: Command): void {
  const sdk = program.command('sdk').description('Huidu LED controllers (SDK TCP): call, upload, search, simulate');

  sdk
    .command('call')
    .description('connect, negotiate, and call one SDK method (prints the <out> body)')
    .argument('<host>', 'device address')
    .argument('<method>', 'SDK method, e.g. GetDeviceInfo')
    .option('--xml <file>', 'inner XML of <in> from a file, or a whole <sdk> document (guid="##GUID" is filled in)')
    .option('--body <xml>', 'inner XML of <in> given inline')
    .option('--port <n>', `TCP port (default ${SDK_PORT})`)
    .option('--timeout <ms>', 'timeout of connect and call (default 10000)')
    .option('--json', 'print one JSON document')
    .action(async (host: string, method: string, options: NetOptions & { xml?: string; body?: string }) => {
      const json = options.json === true;
      let client: SdkClient | undefined;
      try {
        if (options.xml !== undefined && options.body !== undefined)
          throw new UsageError('give --xml or --body, not both');
        const text = options.xml !== undefined ? await readFile(options.xml, 'utf8') : (options.body ?? '');
        const timeoutMs = timeout(options, 10_000);
        client = await SdkClient.connect(host, { port: port(options), timeoutMs, defaultTimeoutMs: timeoutMs });
        const whole = /<sdk[\s>]/.test(text);
        // In a whole document, guid="##GUID" stands for this session's guid (except for GetIFVersion itself).
        const doc =
          whole && !/method="GetIFVersion"/.test(text)
            ? text.replaceAll('guid="##GUID"', `guid="${client.guid}"`)
            : text;
        const answer = whole ? await client.callRaw(doc) : await client.call(method, text);
        if (json)
          printJson({
            ok: true,
            host,
            port: client.port,
            guid: client.guid,
            method: answer.method,
            result: answer.result,
            body: answer.body,
          });
        else process.stdout.write(`${answer.method}: ${answer.result}\n${answer.body}\n`);
      } catch (error) {
        if (SdkResultError.isInstance(error)) {
          process.exitCode = 1;
          if (json)
            printJson({
              ok: false,
              error: { name: error.name, message: error.message },
              result: error.result,
              xml: error.xml,
            });
          else process.stderr.write(`cam: ${error.name}: ${error.message}\n${error.xml}\n`);
        } else reportError(error, json);
      } finally {
        client?.destroy();
      }
    });

  sdk
    .command('upload')
    .description('upload a file (MD5 checked, resumes from what the device already holds)')
    .argument('<host>', 'device address')
    .argument('<file>', 'local file')
    .option('--type <type>', `file type: ${Object.keys(FileType).join('|')} (default image)`)
    .option('--name <name>', 'name on the device (default: the file name)')
    .option('--md5 <hex>', "the file's MD5 if known (32 hex digits): skips reading the file once to hash it")
    .option('--port <n>', `TCP port (default ${SDK_PORT})`)
    .option('--timeout <ms>', 'timeout of connect and of each step (default 10000)')
    .option('--json', 'print one JSON document')
    .action(
      async (host: string, file: string, options: NetOptions & { type?: string; name?: string; md5?: string }) => {
        const json = options.json === true;
        let client: SdkClient | undefined;
        try {
          const type = fileType(options.type);
          if (options.md5 !== undefined && !/^[0-9a-f]{32}$/i.test(options.md5))
            throw new UsageError(`--md5 must be 32 hex digits, got ${JSON.stringify(options.md5)}`);
          const timeoutMs = timeout(options, 10_000);
          client = await SdkClient.connect(host, { port: port(options), timeoutMs, defaultTimeoutMs: timeoutMs });
          const started = performance.now();
          // a bar with rate and ETA on a terminal, a line a second otherwise, nothing with --json
          let progress: ReturnType<typeof startProgress> | undefined;
          const onProgress = (p: UploadProgress): void => {
            progress ??= startProgress({
              label: `upload ${options.name ?? file}${p.resumedFrom ? ` (resumed at ${p.resumedFrom})` : ''}`,
              total: p.total,
              unit: 'bytes',
              json,
            });
            progress.update(p.sent);
          };
          let result: Awaited<ReturnType<SdkClient['upload']>>;
          try {
            result = await client.upload(file, {
              type,
              onProgress,
              ...(options.name ? { name: options.name } : {}),
              ...(options.md5 ? { md5: options.md5 } : {}),
            });
          } finally {
            progress?.stop();
          }
          const seconds = (performance.now() - started) / 1000;
          if (json) printJson({ ok: true, host, port: client.port, ...result, type, seconds });
          else {
            process.stdout.write(
              `uploaded ${result.name}: ${result.size} bytes, md5 ${result.md5}, ${result.sentBytes} sent` +
                `${result.resumedFrom ? ` (resumed at ${result.resumedFrom})` : ''} in ${seconds.toFixed(2)} s\n`,
            );
          }
        } catch (error) {
          reportError(error, json);
        } finally {
          client?.destroy();
        }
      },
    );

  sdk
    .command('read')
    .description('read a file back from the device (MD5 checked)')
    .argument('<host>', 'device address')
    .argument('<name>', 'file name on the device')
    .option('--out <file>', 'where to write it (default: the name, in the current directory)')
    .option('--port <n>', `TCP port (default ${SDK_PORT})`)
    .option('--timeout <ms>', 'timeout (default 10000)')
    .option('--json', 'print one JSON document')
    .action(async (host: string, name: string, options: NetOptions & { out?: string }) => {
      const json = options.json === true;
      let client: SdkClient | undefined;
      try {
        const timeoutMs = timeout(options, 10_000);
        client = await SdkClient.connect(host, { port: port(options), timeoutMs, defaultTimeoutMs: timeoutMs });
        let progress: ReturnType<typeof startProgress> | undefined;
        let r: Awaited<ReturnType<SdkClient['readFile']>>;
        try {
          r = await client.readFile(name, {
            onProgress: (p) => {
              progress ??= startProgress({ label: `read ${name}`, total: p.total, unit: 'bytes', json });
              progress.update(p.received);
            },
          });
        } finally {
          progress?.stop();
        }
        const out = options.out ?? name;
        await writeFile(out, r.data);
        if (json)
          printJson({ ok: true, host, name, path: out, size: r.data.byteLength, md5: r.md5, fileType: r.fileType });
        else process.stdout.write(`read ${name}: ${r.data.byteLength} bytes, md5 ${r.md5} -> ${out}\n`);
      } catch (error) {
        reportError(error, json);
      } finally {
        client?.destroy();
      }
    });

  sdk
    .command('search')
    .description('find devices with a UDP search ask (default: 255.255.255.255)')
    .option('--address <ip>', 'where to send the ask (a unicast address or a broadcast address)')
    .option('--port <n>', `UDP port (default ${SDK_PORT})`)
    .option('--wait <ms>', 'how long to collect answers (default 1500)')
    .option('--json', 'print one JSON document')
    .action(async (options: NetOptions & { address?: string; wait?: string }) => {
      const json = options.json === true;
      try {
        const waitMs = options.wait === undefined ? 1500 : parseNumber(options.wait, 'wait');
        const found = await SdkClient.search({
          port: port(options),
          waitMs,
          ...(options.address ? { address: options.address } : {}),
        });
        if (json) printJson({ ok: true, devices: found });
        else if (found.length === 0) process.stdout.write('no devices answered\n');
        else
          for (const d of found)
            process.stdout.write(`${d.deviceId}\t${d.address}:${d.port}\tversion 0x${d.version.toString(16)}\n`);
      } catch (error) {
        reportError(error, json);
      }
    });

  sdk
    .command('simulate')
    .description('run a simulated controller (SDK TCP and UDP search) until interrupted')
    .option('--address <ip>', 'address to listen on (default 0.0.0.0)')
    .option('--port <n>', `TCP and UDP port (default ${SDK_PORT}; 0 picks a free one)`)
    .option('--dir <dir>', 'directory for received files (default: a new temporary directory)')
    .option('--device-id <id>', 'device id in search answers (at most 15 bytes)')
    .option('--screen <WxH>', 'LED screen size in pixels (default 128x64)')
    .option(
      '--version-answer-status',
      "answer the version ask with 10 bytes (status included), as the vendor's C# demo needs",
    )
    .option('--exit-after <ms>', 'stop after this long (for scripts and tests)')
    .option('--json', 'print one JSON document describing the running device')
    .action(
      async (
        options: NetOptions & {
          address?: string;
          dir?: string;
          deviceId?: string;
          exitAfter?: string;
          screen?: string;
          versionAnswerStatus?: boolean;
        },
      ) => {
        const json = options.json === true;
        try {
          const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'cam-sdk-sim-')));
          const exitAfter = options.exitAfter === undefined ? undefined : parseNumber(options.exitAfter, 'exit-after');
          if (options.deviceId !== undefined && Buffer.byteLength(options.deviceId, 'latin1') > 15) {
            throw new UsageError('--device-id is at most 15 bytes');
          }
          let screen: { width: number; height: number } | undefined;
          if (options.screen !== undefined) {
            const m = /^(\d{1,5})x(\d{1,5})$/.exec(options.screen);
            if (!m)
              throw new UsageError(`--screen must be WIDTHxHEIGHT, e.g. 128x64, got ${JSON.stringify(options.screen)}`);
            screen = { width: Number(m[1]), height: Number(m[2]) };
          }
          const device = await SdkDevice.start({
            port: port(options),
            dir,
            ...(screen ? { screen } : {}),
            ...(options.versionAnswerStatus ? { versionAnswerWithStatus: true } : {}),
            ...(options.address ? { address: options.address } : {}),
            ...(options.deviceId ? { deviceId: options.deviceId } : {}),
          });
          device.on('call', (c) => process.stderr.write(`call ${c.method} from ${c.remote}\n`));
          device.on('file', (f) => process.stderr.write(`file ${f.name}: ${f.size} bytes, md5 ${f.md5}\n`));
          const info = {
            ok: true,
            address: device.address,
            port: device.port,
            udpPort: device.udpPort,
            dir,
            deviceId: device.deviceId,
            screen: { width: device.controller.width, height: device.controller.height },
          };
          if (json) printJson(info);
          else {
            process.stdout.write(
              `simulated SDK controller ${info.deviceId} on ${info.address}:${info.port} (UDP search on ${info.udpPort}), ${info.screen.width}x${info.screen.height} screen, files in ${dir}\n`,
            );
          }
          await new Promise<void>((resolve) => {
            const timer = exitAfter === undefined ? undefined : setTimeout(stop, exitAfter);
            function stop(): void {
              clearTimeout(timer);
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              resolve();
            }
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          await device.close();
        } catch (error) {
          reportError(error, json);
        }
      },
    );

  registerSdkScreen(sdk);
}
