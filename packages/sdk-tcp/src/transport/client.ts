import { createHash, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { open, stat } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { basename } from 'node:path';
import {
  type CallOptions,
  copyBytes,
  deadlineSignal,
  FrameTooLargeError,
  MalformedError,
  ProtocolError,
  raceSignal,
  TimeoutError,
  throwIfAborted,
  WireError,
} from '@cam/net-utils';
import {
  FileType,
  type FileTypeName,
  GUID_PLACEHOLDER,
  HEARTBEAT_IDLE_MS,
  MAX_FILE_CONTENT_CHUNK,
  SDK_PORT,
  TcpVersion,
} from '../codec/constants.js';
import { DEFAULT_ERROR_TABLE, HErrorCode, type HErrorCodeTable } from '../codec/error-codes.js';
import {
  ConnectionClosedError,
  FileTransferError,
  SdkErrorAnswerError,
  SdkResultError,
  VersionNegotiationError,
  VersionTooLowError,
} from '../codec/errors.js';
import { decodeSearchDatagram, encodePacket, encodeSearchDatagram, type SdkPacket } from '../codec/packets.js';
import { encodeSdkCall, SdkCallAssembler, SdkPacketDecoder } from '../codec/sdk-call.js';
import { buildSdkRequest, decodeXmlText, escapeXmlAttribute, parseSdkXml, type SdkResponse } from '../codec/xml.js';
import { Md5Cache, md5File, packFileContent } from './files.js';

/** Options of {@link SdkClient.connect}. */
export interface SdkClientOptions extends CallOptions {
  /** TCP port (10001). */
  port?: number;
  /**
   * Where the MD5 of uploaded files is remembered (see {@link Md5Cache}): default `Md5Cache.shared`, so uploading
   * an unchanged file again does not read and hash it again; `false` hashes every upload.
   */
  md5Cache?: Md5Cache | false;
  /** Transport version offered (`LOCAL_TCP_VERSION`), default 0x1000009. */
  version?: number;
  /** Lowest transport version the client accepts in the answer, default 0x1000005. */
  minVersion?: number;
  /** `<version value>` sent with GetIFVersion, default "1000000". */
  sdkVersion?: string;
  /** XML bytes per SDK call packet: 9204 (default, `9 * 1024 - 12`) or 9200 (vendor C++). */
  chunkSize?: number;
  /** Error-code table for naming numeric codes (see README). */
  errorTable?: HErrorCodeTable;
  /** Send a heartbeat after this long without sending anything (30 s). */
  heartbeatIdleMs?: number;
  /** Largest file `readFile` accepts (checked before allocating), default 256 MiB. */
  maxReadFileSize?: number;
  /** Default timeout of each call, upload step and read, default 10 s. */
  defaultTimeoutMs?: number;
}

/** Answer of an SDK call. */
export interface SdkCallResult extends SdkResponse {
  /** The whole answer document. */
  xml: string;
}

/** Progress of an upload. */
export interface UploadProgress {
  /** Bytes of the file the device holds so far (resumed bytes included). */
  sent: number;
  total: number;
  /** Where this transfer started (the device's existSize). */
  resumedFrom: number;
}

/** Progress of a file read back from the device. */
export interface ReadProgress {
  /** Bytes received so far. */
  received: number;
  /** The file's size, as the device announced it. */
  total: number;
}

export interface UploadOptions extends CallOptions {
  /** Name on the device; default the file's base name. */
  name?: string;
  /** File type (default image). */
  type?: FileTypeName | number;
  /** MD5 (32 hex) if already known; computed otherwise. */
  md5?: string;
  /** Called after every batch of content packets handed to the socket. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadResult {
  name: string;
  size: number;
  md5: string;
  /** existSize the device reported: the bytes not sent again. */
  resumedFrom: number;
  /** Content bytes sent in this transfer. */
  sentBytes: number;
}

export interface ReadFileResult {
  name: string;
  data: Uint8Array;
  md5: string;
  fileType: number;
}

export interface SearchOptions extends CallOptions {
  /** Where to send the search ask: 127.0.0.1 in tests, a directed broadcast on a LAN (default 255.255.255.255). */
  address?: string;
  port?: number;
  version?: number;
  /** How long to collect answers (default 1500 ms, or timeoutMs). */
  waitMs?: number;
}

export interface SearchAnswer {
  address: string;
  port: number;
  deviceId: string;
  version: number;
  data: Uint8Array;
}

type Waiter = {
  handle: (p: SdkPacket) => boolean;
  fail: (error: Error) => void;
};

const BATCH_BYTES = 64 * MAX_FILE_CONTENT_CHUNK;
/** Packets held while no operation waits (a read-back's content can follow its answer in one TCP chunk). */
const MAX_INBOX = 8192;

/**
 * Host side (上位机) of the SDK TCP protocol: one TCP connection, transport version negotiation, GetIFVersion for the
 * guid, then XML calls and file transfers, one at a time (an SDK call asked for during a file transfer waits for the
 * transfer to end: the protocol forbids interleaving them).
 *
 * Above 500 lines on purpose: handshake, calls, uploads, read-backs and the heartbeat all go through the one
 * exclusive exchange queue and the one packet inbox (`expect`) of the connection; the codec (packets, call
 * assembly, XML) is already apart in ../codec/. Not split further for this reason.
 */
export class SdkClient implements AsyncDisposable {
  readonly host: string;
  readonly port: number;
  private readonly socket: Socket;
  private readonly options: SdkClientOptions;
  private readonly decoder = new SdkPacketDecoder();
  private readonly assembler = new SdkCallAssembler();
  private waiter: Waiter | null = null;
  private readonly inbox: SdkPacket[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closedError: Error | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSendAt = Date.now();
  /** Set when the device answered kErrorAnswer: it is back in the just-connected state. */
  private needsHandshake = true;
  private _guid = '';
  private _version = 0;
  /** Counters, for diagnostics. */
  readonly stats = { heartbeatsSent: 0, unexpectedPackets: 0, gpsPackets: 0, heartbeatAsksIgnored: 0 };
  private lastHeartbeatAnswer = Number.NEGATIVE_INFINITY;

  private constructor(socket: Socket, host: string, port: number, options: SdkClientOptions) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.options = options;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new ConnectionClosedError(`connection to ${host}:${port} closed`)));
  }

  /** Connects, negotiates the transport version and obtains the guid. */
  static async connect(host: string, options: SdkClientOptions = {}): Promise<SdkClient> {
    const port = options.port ?? SDK_PORT;
    using deadline = deadlineSignal(
      { signal: options.signal, timeoutMs: options.timeoutMs ?? options.defaultTimeoutMs ?? 10_000 },
      `connect to ${host}:${port}`,
    );
    throwIfAborted(deadline.signal);
    const socket = netConnect({ host, port });
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    try {
      await raceSignal(connected, deadline.signal);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    const client = new SdkClient(socket, host, port, options);
    try {
      await client.exclusive(() => client.handshake(deadline.signal), deadline.signal);
    } catch (error) {
      client.destroy();
      throw error;
    }
    return client;
  }

  /** The guid GetIFVersion returned; sent in every later request. */
  get guid(): string {
    return this._guid;
  }

  /** The transport version agreed on. */
  get version(): number {
    return this._version;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /**
   * Calls `method` with `xmlBody` (the inner XML of `<in>`), or sends a whole document when given one string that
   * starts with `<` (sent verbatim). Rejects with {@link SdkResultError} when `result` is not kSuccess.
   */
  call(method: string, xmlBody?: string, options?: CallOptions): Promise<SdkCallResult>;
  call(xml: string, options?: CallOptions): Promise<SdkCallResult>;
  call(first: string, second?: string | CallOptions, third?: CallOptions): Promise<SdkCallResult> {
    if (first.trimStart().startsWith('<')) {
      return this.callRaw(first, typeof second === 'object' ? second : {});
    }
    const body = typeof second === 'string' ? second : '';
    const options = (typeof second === 'object' ? second : third) ?? {};
    return this.run(`SDK call ${first}`, options, (signal) => this.doCall(first, body, signal));
  }

  /** Sends one whole SDK document verbatim and returns the parsed answer. */
  callRaw(xml: string, options: CallOptions = {}): Promise<SdkCallResult> {
    return this.run('SDK call', options, async (signal) => {
      const answer = await this.exchangeXml(new TextEncoder().encode(xml), signal);
      const env = parseSdkXml(answer);
      if (env.kind !== 'out') throw new MalformedError(0, 'the device answered with an <in> element');
      const result: SdkCallResult = {
        guid: env.guid,
        method: env.method,
        result: env.result,
        body: env.body,
        xml: answer,
      };
      if (env.result !== 'kSuccess') throw new SdkResultError(env.method, env.result, answer);
      return result;
    });
  }

  /**
   * Uploads a file (a path or bytes): kFileStartAsk with MD5 and size, content from the device's existSize (resume),
   * kFileEndAsk. Aborting mid-content closes the connection (the device keeps the partial file for a resume).
   */
  upload(source: string | Uint8Array, options: UploadOptions = {}): Promise<UploadResult> {
    return this.run(
      'upload',
      { signal: options.signal, timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY },
      (signal) => this.doUpload(source, options, signal),
    );
  }

  /**
   * Uploads several files as one list: kFileListStartAsk (count, total size, session id), each file as in
   * {@link upload}, then kFileListEndAsk. Nothing else runs on the connection meanwhile.
   */
  uploadFiles(
    files: readonly { source: string | Uint8Array; name?: string; type?: FileTypeName | number; md5?: string }[],
    options: CallOptions & { sessionId?: string; onProgress?: (file: number, progress: UploadProgress) => void } = {},
  ): Promise<UploadResult[]> {
    return this.run(
      'upload files',
      { signal: options.signal, timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY },
      async (signal) => {
        let totalSize = 0;
        for (const f of files)
          totalSize += typeof f.source === 'string' ? (await stat(f.source)).size : f.source.byteLength;
        const sessionId = options.sessionId ?? randomUUID();
        this.send(encodePacket({ type: 'kFileListStartAsk', fileCount: files.length, totalSize, sessionId }));
        const start = await this.expect(signal, 'file list start', (p) =>
          p.type === 'kFileListStartAnswer' ? p : undefined,
        );
        if (start.status !== 0) throw new FileTransferError('file list start', start.status, this.table);
        const results: UploadResult[] = [];
        for (const [i, f] of files.entries()) {
          const onProgress = options.onProgress;
          results.push(
            await this.doUpload(
              f.source,
              {
                ...(f.name !== undefined ? { name: f.name } : {}),
                ...(f.type !== undefined ? { type: f.type } : {}),
                ...(f.md5 !== undefined ? { md5: f.md5 } : {}),
                ...(onProgress ? { onProgress: (p: UploadProgress) => onProgress(i, p) } : {}),
              },
              signal,
            ),
          );
        }
        this.send(encodePacket({ type: 'kFileListEndAsk' }));
        const end = await this.expect(signal, 'file list end', (p) =>
          p.type === 'kFileListEndAnswer' ? p : undefined,
        );
        if (end.status !== 0) throw new FileTransferError('file list end', end.status, this.table);
        return results;
      },
    );
  }

  /**
   * Reads a file back from the device (kReadFileAsk), checking its MD5. `onProgress` is called as content arrives,
   * with the bytes received so far and the size the device announced.
   */
  readFile(
    name: string,
    options: CallOptions & { onProgress?: (progress: ReadProgress) => void } = {},
  ): Promise<ReadFileResult> {
    const limits = { signal: options.signal, timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY };
    return this.run(`read file ${name}`, limits, (signal) => this.doReadFile(name, signal, options.onProgress));
  }

  /** Sends a heartbeat now (normally automatic after 30 s of not sending). */
  heartbeat(): void {
    this.sendHeartbeat();
  }

  /** Closes the connection; pending operations reject with ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.closedError) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await closed;
    clearTimeout(timer);
  }

  /** Destroys the connection at once. */
  destroy(error?: Error): void {
    this.fail(error ?? new ConnectionClosedError('connection closed by the client'));
    this.socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Finds devices: one kSearchDeviceAsk datagram, answers collected for `waitMs`. */
  static async search(options: SearchOptions = {}): Promise<SearchAnswer[]> {
    const address = options.address ?? '255.255.255.255';
    const port = options.port ?? SDK_PORT;
    const waitMs = options.waitMs ?? options.timeoutMs ?? 1500;
    throwIfAborted(options.signal);
    const socket = createSocket('udp4');
    const answers: SearchAnswer[] = [];
    const seen = new Set<string>();
    socket.on('message', (msg, rinfo) => {
      try {
        const d = decodeSearchDatagram(msg);
        if (d.type !== 'kSearchDeviceAnswer') return;
        const key = `${rinfo.address}:${rinfo.port}:${d.deviceId}`;
        if (seen.has(key) || answers.length >= 4096) return;
        seen.add(key);
        answers.push({
          address: rinfo.address,
          port: rinfo.port,
          deviceId: d.deviceId,
          version: d.version,
          data: copyBytes(d.data),
        });
      } catch {
        // Not a search answer: ignored (anything may arrive on a broadcast port).
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, () => resolve());
      });
      socket.setBroadcast(true);
      const ask = encodeSearchDatagram({ type: 'kSearchDeviceAsk', version: options.version ?? TcpVersion.v7 });
      await new Promise<void>((resolve, reject) => socket.send(ask, port, address, (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
      throwIfAborted(options.signal);
    } finally {
      socket.close();
    }
    return answers;
  }

  // ---- internals ----

  /** Longest wait for the next packet inside a file transfer. */
  private get stepTimeoutMs(): number {
    return this.options.defaultTimeoutMs ?? 10_000;
  }

  private get table(): HErrorCodeTable {
    return this.options.errorTable ?? DEFAULT_ERROR_TABLE;
  }

  /** Runs `fn` after every earlier operation, with a deadline; renegotiates first when the device was reset. */
  private run<T>(what: string, options: CallOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 10_000;
    return this.exclusive(async () => {
      using deadline = deadlineSignal({ signal: options.signal, timeoutMs }, what);
      if (this.needsHandshake) await this.handshake(deadline.signal);
      return await fn(deadline.signal);
    }, options.signal);
  }

  private exclusive<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const previous = this.queue;
    const mine = (async () => {
      await raceSignal(
        previous.then(
          () => undefined,
          () => undefined,
        ),
        signal,
      );
      if (this.closedError) throw this.closedError;
      return await fn();
    })();
    this.queue = mine.then(
      () => undefined,
      () => undefined,
    );
    return mine;
  }

  private async handshake(signal: AbortSignal): Promise<void> {
    const offered = this.options.version ?? TcpVersion.v9;
    const minVersion = this.options.minVersion ?? TcpVersion.v5;
    this.send(encodePacket({ type: 'kSDKServiceAsk', version: offered }));
    let answer: number;
    try {
      answer = await this.expect(signal, 'transport version negotiation', (p) =>
        p.type === 'kSDKServiceAnswer' ? p : undefined,
      ).then((p) => {
        if (p.status !== undefined && p.status !== 0) {
          throw new SdkErrorAnswerError(p.status, 'transport version negotiation', this.table);
        }
        return p.version;
      });
    } catch (error) {
      if (SdkErrorAnswerError.isInstance(error) && error.code === HErrorCode.kVersionTooLow) {
        const e = new VersionTooLowError(
          HErrorCode.kVersionTooLow,
          `transport version 0x${offered.toString(16)}`,
          this.table,
        );
        this.destroy(e);
        throw e;
      }
      if (SdkErrorAnswerError.isInstance(error)) this.destroy(error);
      throw error;
    }
    if (answer > offered || answer < minVersion) {
      const e = new VersionNegotiationError(
        offered,
        answer,
        answer > offered ? 'higher than offered' : `below the lowest supported 0x${minVersion.toString(16)}`,
      );
      this.destroy(e);
      throw e;
    }
    this._version = answer;
    const xml = buildSdkRequest({
      guid: GUID_PLACEHOLDER,
      method: 'GetIFVersion',
      body: `<version value="${escapeXmlAttribute(this.options.sdkVersion ?? '1000000')}"/>`,
    });
    const text = await this.exchangeXml(new TextEncoder().encode(xml), signal);
    const env = parseSdkXml(text);
    if (env.kind !== 'out' || env.method !== 'GetIFVersion') {
      throw new ProtocolError(`GetIFVersion was answered by ${env.kind} ${env.method}`);
    }
    if (env.result !== 'kSuccess') throw new SdkResultError('GetIFVersion', env.result, text);
    if (env.guid === '' || env.guid === GUID_PLACEHOLDER)
      throw new ProtocolError('GetIFVersion answer carries no guid');
    this._guid = env.guid;
    this.needsHandshake = false;
  }

  private async doCall(method: string, body: string, signal: AbortSignal): Promise<SdkCallResult> {
    const xml = buildSdkRequest({ guid: this._guid, method, body });
    const answer = await this.exchangeXml(new TextEncoder().encode(xml), signal);
    const env = parseSdkXml(answer);
    if (env.kind !== 'out') throw new MalformedError(0, 'the device answered with an <in> element');
    if (env.method !== method) throw new ProtocolError(`asked ${method}, the device answered ${env.method}`);
    if (env.result !== 'kSuccess') throw new SdkResultError(method, env.result, answer);
    return { guid: env.guid, method: env.method, result: env.result, body: env.body, xml: answer };
  }

  /** Sends one XML document in chunks and reassembles the answer. */
  private async exchangeXml(xml: Uint8Array, signal: AbortSignal): Promise<string> {
    const chunkSize = this.options.chunkSize;
    this.send(encodeSdkCall(xml, 'kSDKCmdAsk', chunkSize === undefined ? {} : { chunkSize }));
    this.assembler.reset();
    const whole = await this.expect(signal, 'SDK call', (p) => {
      if (p.type !== 'kSDKCmdAnswer') return undefined;
      try {
        return this.assembler.push(p);
      } catch (error) {
        // A broken answer leaves the stream out of step: close.
        this.destroy(error as Error);
        throw error;
      }
    });
    return decodeXmlText(whole);
  }

  private async doUpload(
    source: string | Uint8Array,
    options: UploadOptions,
    signal: AbortSignal,
  ): Promise<UploadResult> {
    const isPath = typeof source === 'string';
    const size = isPath ? (await stat(source)).size : source.byteLength;
    const cache = this.options.md5Cache ?? Md5Cache.shared;
    const md5 = (
      options.md5 ??
      (isPath
        ? cache
          ? await cache.md5(source, { signal })
          : await md5File(source, { signal })
        : createHash('md5').update(source).digest('hex'))
    ).toLowerCase();
    const name = options.name ?? (isPath ? basename(source) : 'upload.bin');
    const typeOpt = options.type ?? 'image';
    const fileType = typeof typeOpt === 'number' ? typeOpt : FileType[typeOpt];
    this.send(encodePacket({ type: 'kFileStartAsk', md5, size, fileType, name }));
    const stepMs = this.stepTimeoutMs;
    const start = await this.expect(
      signal,
      'file start',
      (p) => (p.type === 'kFileStartAnswer' ? p : undefined),
      stepMs,
    );
    if (start.status === HErrorCode.kWriteFinish) {
      options.onProgress?.({ sent: size, total: size, resumedFrom: size });
      return { name, size, md5, resumedFrom: size, sentBytes: 0 };
    }
    if (start.status !== 0) throw new FileTransferError('file start', start.status, this.table);
    const from = start.existSize;
    if (from > size) throw new ProtocolError(`device reports existSize ${from} beyond the file size ${size}`);
    options.onProgress?.({ sent: from, total: size, resumedFrom: from });
    let offset = from;
    const onAbort = (): void => this.destroy(new ConnectionClosedError('upload aborted; connection closed'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (isPath) {
        const fh = await open(source, 'r');
        try {
          // Two blocks: the next read runs while the previous block goes out.
          let block = new Uint8Array(BATCH_BYTES);
          let spare = new Uint8Array(BATCH_BYTES);
          const readAt = (buf: Uint8Array, at: number) => fh.read(buf, 0, Math.min(BATCH_BYTES, size - at), at);
          let pending = offset < size ? readAt(block, offset) : null;
          while (pending) {
            throwIfAborted(signal);
            const { bytesRead } = await pending;
            if (bytesRead <= 0) throw new ProtocolError(`file ${source} shrank while uploading`);
            const packets = packFileContent(block.subarray(0, bytesRead));
            offset += bytesRead;
            [block, spare] = [spare, block];
            pending = offset < size ? readAt(block, offset) : null;
            await this.sendWithBackpressure(packets, signal);
            options.onProgress?.({ sent: offset, total: size, resumedFrom: from });
          }
        } finally {
          await fh.close();
        }
      } else {
        while (offset < size) {
          throwIfAborted(signal);
          const n = Math.min(BATCH_BYTES, size - offset);
          await this.sendWithBackpressure(packFileContent(source.subarray(offset, offset + n)), signal);
          offset += n;
          options.onProgress?.({ sent: offset, total: size, resumedFrom: from });
        }
      }
      this.send(encodePacket({ type: 'kFileEndAsk' }));
      const end = await this.expect(signal, 'file end', (p) => (p.type === 'kFileEndAnswer' ? p : undefined), stepMs);
      if (end.status !== 0) {
        // The device refused the content (an MD5 mismatch, typically): do not trust a remembered hash of this file.
        if (isPath && cache && options.md5 === undefined) await cache.forget(source);
        throw new FileTransferError('file end', end.status, this.table);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return { name, size, md5, resumedFrom: from, sentBytes: size - from };
  }

  private async doReadFile(
    name: string,
    signal: AbortSignal,
    onProgress: ((progress: ReadProgress) => void) | undefined,
  ): Promise<ReadFileResult> {
    const limit = this.options.maxReadFileSize ?? 256 * 1024 * 1024;
    this.send(encodePacket({ type: 'kReadFileAsk', name }));
    const head = await this.expect(
      signal,
      'read file',
      (p) => (p.type === 'kReadFileAnswer' ? p : undefined),
      this.stepTimeoutMs,
    );
    if (head.status !== 0) throw new FileTransferError(`read file ${name}`, head.status, this.table);
    if (head.size > limit) {
      const e = new FrameTooLargeError(head.size, limit, `file ${name}`);
      this.destroy(e);
      throw e;
    }
    const data = new Uint8Array(head.size);
    let filled = 0;
    await this.expect(
      signal,
      'read file content',
      (p) => {
        if (p.type === 'kFileContentAsk') {
          if (filled + p.data.byteLength > data.byteLength) {
            const e = new FrameTooLargeError(filled + p.data.byteLength, data.byteLength, `content of ${name}`);
            this.destroy(e);
            throw e;
          }
          data.set(p.data, filled);
          filled += p.data.byteLength;
          onProgress?.({ received: filled, total: data.byteLength });
          return undefined;
        }
        return p.type === 'kFileEndAsk' ? true : undefined;
      },
      this.stepTimeoutMs,
    );
    const md5 = createHash('md5').update(data).digest('hex');
    const ok = filled === head.size && md5 === head.md5.toLowerCase();
    this.send(encodePacket({ type: 'kFileEndAnswer', status: ok ? 0 : HErrorCode.kFileContentError }));
    if (!ok)
      throw new FileTransferError(`read file ${name} (MD5 or size mismatch)`, HErrorCode.kFileContentError, this.table);
    return { name, data, md5, fileType: head.fileType };
  }

  /**
   * Waits for the packet `pick` accepts (returns non-undefined). kErrorAnswer rejects (the device is then in the
   * just-connected state, so the next operation renegotiates).
   */
  private expect<T>(
    signal: AbortSignal,
    what: string,
    pick: (p: SdkPacket) => T | undefined,
    idleMs?: number,
  ): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<T>((resolve, reject) => {
      // Inside a file transfer a silent device would otherwise be waited for forever: give up after `idleMs`
      // without a packet, and close (the transfer cannot be resumed on this connection).
      const idle =
        idleMs === undefined
          ? undefined
          : setTimeout(() => {
              cleanup();
              const e = new TimeoutError(`${what} (no packet from the device)`, idleMs);
              reject(e);
              this.destroy(e);
            }, idleMs);
      const cleanup = (): void => {
        if (idle !== undefined) clearTimeout(idle);
        signal.removeEventListener('abort', onAbort);
        if (this.waiter === waiter) this.waiter = null;
      };
      const onAbort = (): void => {
        cleanup();
        // The answer may still arrive later and would be mistaken for the next one: start over on this connection.
        this.needsHandshake = true;
        reject(signal.reason instanceof Error ? signal.reason : new ConnectionClosedError(`${what} aborted`));
      };
      const waiter: Waiter = {
        handle: (p) => {
          idle?.refresh();
          if (p.type === 'kErrorAnswer') {
            this.needsHandshake = true;
            cleanup();
            reject(new SdkErrorAnswerError(p.code, what, this.table));
            return true;
          }
          let v: T | undefined;
          try {
            v = pick(p);
          } catch (error) {
            cleanup();
            reject(error);
            return true;
          }
          if (v === undefined) return false;
          cleanup();
          resolve(v);
          return true;
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = waiter;
      // Packets that arrived before this waiter (in the same TCP chunk as the previous answer) come first.
      while (this.inbox.length > 0 && this.waiter === waiter) {
        waiter.handle(this.inbox.shift()!);
      }
    });
  }

  private onData(chunk: Buffer): void {
    let packets: SdkPacket[];
    try {
      packets = this.decoder.push(chunk);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    for (const p of packets) {
      switch (p.type) {
        case 'kTcpHeartbeatAsk': {
          // Answered at most once a second: a device asking in a loop gets no loop partner (issue #19).
          const t = Date.now();
          if (t - this.lastHeartbeatAnswer >= 1000) {
            this.lastHeartbeatAnswer = t;
            this.send(encodePacket({ type: 'kTcpHeartbeatAnswer' }));
          } else this.stats.heartbeatAsksIgnored++;
          continue;
        }
        case 'kTcpHeartbeatAnswer':
          continue;
        case 'kGPSInfoAnswer':
          this.stats.gpsPackets++;
          continue;
      }
      const w = this.waiter;
      if (w) {
        w.handle(p);
        continue;
      }
      if (p.type === 'kErrorAnswer') {
        this.needsHandshake = true;
        this.stats.unexpectedPackets++;
        continue;
      }
      // No one waits yet (the previous answer's promise is still settling): keep it for the next waiter.
      if (this.inbox.length >= MAX_INBOX) {
        this.destroy(new ProtocolError(`more than ${MAX_INBOX} unsolicited packets from the device`));
        return;
      }
      this.inbox.push(p);
    }
  }

  private send(bytes: Uint8Array): boolean {
    if (this.closedError) throw this.closedError;
    this.lastSendAt = Date.now();
    this.armHeartbeat();
    return this.socket.write(bytes);
  }

  private async sendWithBackpressure(bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    if (this.send(bytes)) return;
    const stepMs = this.stepTimeoutMs;
    await raceSignal(
      new Promise<void>((resolve, reject) => {
        // A device that stops reading would stall the upload forever: give up after a step timeout.
        const timer = setTimeout(() => {
          const e = new TimeoutError('upload (the device stopped reading)', stepMs);
          this.destroy(e);
        }, stepMs);
        const onDrain = (): void => {
          clearTimeout(timer);
          this.socket.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          clearTimeout(timer);
          this.socket.off('drain', onDrain);
          reject(this.closedError ?? new ConnectionClosedError('connection closed during upload'));
        };
        this.socket.once('drain', onDrain);
        this.socket.once('close', onClose);
      }),
      signal,
    );
  }

  private sendHeartbeat(): void {
    if (this.closedError) return;
    this.stats.heartbeatsSent++;
    this.send(encodePacket({ type: 'kTcpHeartbeatAsk' }));
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer !== undefined || this.closedError) return;
    const idle = this.options.heartbeatIdleMs ?? HEARTBEAT_IDLE_MS;
    const tick = (): void => {
      this.heartbeatTimer = undefined;
      if (this.closedError) return;
      const quiet = Date.now() - this.lastSendAt;
      if (quiet >= idle) this.sendHeartbeat();
      else {
        this.heartbeatTimer = setTimeout(tick, idle - quiet);
        this.heartbeatTimer.unref?.();
      }
    };
    this.heartbeatTimer = setTimeout(tick, idle);
    this.heartbeatTimer.unref?.();
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = WireError.isInstance(error) ? error : new ConnectionClosedError(error.message, { cause: error });
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    const w = this.waiter;
    this.waiter = null;
    w?.fail(this.closedError);
  }
}
