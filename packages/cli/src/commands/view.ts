import { isIpv4 } from '@cam/net-utils';
import type { Command } from 'commander';
import { interruptSignal } from '../interrupt.js';
import { action, parseNumber, UsageError } from '../output.js';
import { ViewerServer } from '../viewer/server.js';

interface ViewOptions {
  gige?: string;
  gigePort?: string;
  scgvmp?: string;
  scgvmpPort?: string;
  ehome?: string;
  sdk?: string;
  sdkPort?: string;
  ehomeToken?: string;
  address?: string;
  port?: string;
  token?: string;
  recordDir?: string;
  packetSize?: string;
  json?: boolean;
}

/** Registers `cam view`: a local web viewer for cameras, until Ctrl-C. */
export function registerView(program: Command): void {
  program
    .command('view')
    .description('live web viewer for cameras and LED controllers in a browser (until Ctrl-C)')
    .option('--gige <ip>', 'open this GigE Vision camera at once')
    .option('--gige-port <n>', "the camera's GVCP port (default: 3956)")
    .option('--scgvmp <ip>', 'open this smart camera (SC_GVMP JPEG stream) at once')
    .option('--scgvmp-port <n>', "the smart camera's GVCP port (default: 3956)")
    .option('--sdk <ip>', 'open this Huidu LED controller (SDK over TCP) at once')
    .option('--sdk-port <n>', "the controller's TCP port (default: 10001)")
    .option('--ehome <url>', "open this EHome platform's HTTP API (cam ehome serve) at once")
    .option('--ehome-token <token>', "the platform's bearer token (kept on the server, not sent to the browser)")
    .option('--address <ip>', 'address to serve on (default: 127.0.0.1; elsewhere a token is required)')
    .option('--port <n>', 'TCP port to serve on (default: 0, any free port)')
    .option('--token <text>', 'access token in the URL (default: random when not on loopback)')
    .option('--packet-size <bytes>', 'largest GVSP packet to negotiate with GigE cameras (576..9000; default: 1500)')
    .option('--record-dir <dir>', 'where recordings are written (default: .)')
    .option('--json', 'print one JSON line with the URL once serving')
    .action(
      action(async (opts: ViewOptions) => {
        const host = opts.address ?? '127.0.0.1';
        if (!isIpv4(host)) throw new UsageError(`address "${host}" is not an IPv4 address`);
        const port = opts.port === undefined ? 0 : parseNumber(opts.port, 'port');
        if (port > 0xffff) throw new UsageError(`port ${port} is not in 0..65535`);
        const devices: { kind: 'gige' | 'scgvmp' | 'sdk'; address: string; port: number | undefined }[] = [];
        for (const [kind, address, portText] of [
          ['gige', opts.gige, opts.gigePort],
          ['scgvmp', opts.scgvmp, opts.scgvmpPort],
          ['sdk', opts.sdk, opts.sdkPort],
        ] as const) {
          if (address === undefined) {
            if (portText !== undefined) throw new UsageError(`--${kind}-port needs --${kind}`);
            continue;
          }
          if (!isIpv4(address)) throw new UsageError(`--${kind} "${address}" is not an IPv4 address`);
          const p = portText === undefined ? undefined : parseNumber(portText, `--${kind}-port`);
          if (p !== undefined && (p < 1 || p > 0xffff)) throw new UsageError(`--${kind}-port ${p} is not in 1..65535`);
          devices.push({ kind, address, port: p });
        }
        if (opts.ehome !== undefined) {
          let u: URL | undefined;
          try {
            u = new URL(opts.ehome);
          } catch {
            u = undefined;
          }
          if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
            throw new UsageError(`--ehome "${opts.ehome}" is not an http(s) URL`);
        } else if (opts.ehomeToken !== undefined) throw new UsageError('--ehome-token needs --ehome');
        if (opts.token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(opts.token))
          throw new UsageError('--token must be 16..128 of A-Z a-z 0-9 _ -');
        const packetSize = opts.packetSize === undefined ? undefined : parseNumber(opts.packetSize, 'packet size');
        if (packetSize !== undefined && (packetSize < 576 || packetSize > 9000))
          throw new UsageError(`packet size ${packetSize} is not in 576..9000`);
        using interrupt = interruptSignal();
        const server = new ViewerServer({
          host,
          port,
          recordDir: opts.recordDir ?? '.',
          ...(packetSize === undefined ? {} : { packetSize }),
          ...(opts.token === undefined ? {} : { token: opts.token }),
        });
        try {
          const url = await server.listen();
          const opened: { kind: string; address: string; url: string }[] = [];
          for (const d of devices) {
            const session = await server.open(d.kind, d.address, d.port);
            opened.push({ kind: d.kind, address: d.address, url: `${url}#/${d.kind}/${session.id}` });
          }
          if (opts.ehome !== undefined) {
            const session = await server.open('ehome', opts.ehome, undefined, opts.ehomeToken);
            opened.push({ kind: 'ehome', address: opts.ehome, url: `${url}#/ehome/${session.id}` });
          }
          const open = opened[0]?.url;
          if (opts.json)
            process.stdout.write(`${JSON.stringify({ ok: true, url, ...(open ? { open } : {}), devices: opened })}\n`);
          else {
            process.stdout.write(`cam view serving on ${url}\n`);
            for (const o of opened) process.stdout.write(`${o.kind} ${o.address}: ${o.url}\n`);
            process.stdout.write('Ctrl-C to stop\n');
          }
          await new Promise<void>((resolve) => {
            if (interrupt.signal.aborted) resolve();
            else interrupt.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        } finally {
          await server.close();
        }
      }),
    );
}
