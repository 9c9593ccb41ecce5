import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { ACK_CODE_FOR, decodeCommand, encodeAck, type GvcpAck, type GvcpCommand } from '../src/index.js';

/** What a scripted peer handler may do with one command. */
export interface PeerContext {
  /** Sends an ack to the command's sender (optionally after `delayMs`). */
  reply(ack: GvcpAck, delayMs?: number): void;
  /** Sends raw bytes to the sender. */
  raw(bytes: Uint8Array, delayMs?: number): void;
  rinfo: RemoteInfo;
  /** How many times this req_id was seen (1 on first sight). */
  seen: number;
}

/**
 * A scripted GVCP peer on 127.0.0.1 (port 0): each decoded command goes to `handler`; timers it starts are
 * cleared on close. Records every command it received.
 */
export class FakePeer {
  readonly received: GvcpCommand[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly seen = new Map<number, number>();
  handler: (cmd: GvcpCommand, ctx: PeerContext) => void;

  private constructor(
    readonly socket: Socket,
    handler: (cmd: GvcpCommand, ctx: PeerContext) => void,
  ) {
    this.handler = handler;
    socket.on('message', (msg, rinfo) => {
      let cmd: GvcpCommand;
      try {
        cmd = decodeCommand(msg);
      } catch {
        return;
      }
      this.received.push(cmd);
      const seen = (this.seen.get(cmd.reqId) ?? 0) + 1;
      this.seen.set(cmd.reqId, seen);
      const send = (bytes: Uint8Array, delayMs = 0): void => {
        if (delayMs <= 0) {
          socket.send(bytes, rinfo.port, rinfo.address);
          return;
        }
        const t = setTimeout(() => {
          this.timers.delete(t);
          socket.send(bytes, rinfo.port, rinfo.address);
        }, delayMs);
        this.timers.add(t);
      };
      this.handler(cmd, { reply: (ack, d) => send(encodeAck(ack), d), raw: send, rinfo, seen });
    });
  }

  static start(handler: (cmd: GvcpCommand, ctx: PeerContext) => void): Promise<FakePeer> {
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve(new FakePeer(socket, handler)));
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends bytes to an address (for device-initiated traffic such as events). */
  sendTo(bytes: Uint8Array, port: number, address = '127.0.0.1'): void {
    this.socket.send(bytes, port, address);
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * A minimal register/memory model answering READREG/WRITEREG/READMEM/WRITEMEM, for driving the client.
 * `capabilities` is served at 0x0934.
 */
export function memoryHandler(memory: Map<number, number>, capabilities = 0) {
  memory.set(0x0934, capabilities);
  const word = (a: number): number => memory.get(a) ?? 0;
  return (cmd: GvcpCommand, ctx: PeerContext): void => {
    switch (cmd.type) {
      case 'readreg':
        ctx.reply({ type: 'readreg', ackId: cmd.reqId, status: 0, values: cmd.addresses.map(word) });
        break;
      case 'writereg':
        for (const w of cmd.writes) memory.set(w.address, w.value);
        ctx.reply({ type: 'writereg', ackId: cmd.reqId, status: 0, index: cmd.writes.length });
        break;
      case 'readmem': {
        const data = new Uint8Array(cmd.count);
        const view = new DataView(data.buffer);
        for (let i = 0; i < cmd.count; i += 4) view.setUint32(i, word(cmd.address + i));
        ctx.reply({ type: 'readmem', ackId: cmd.reqId, status: 0, address: cmd.address, data });
        break;
      }
      case 'writemem': {
        const view = new DataView(cmd.data.buffer, cmd.data.byteOffset, cmd.data.byteLength);
        for (let i = 0; i < cmd.data.byteLength; i += 4) memory.set(cmd.address + i, view.getUint32(i));
        ctx.reply({ type: 'writemem', ackId: cmd.reqId, status: 0, index: cmd.data.byteLength });
        break;
      }
      default:
        ctx.reply({
          type: 'error',
          ackCode: ACK_CODE_FOR[cmd.type],
          ackId: cmd.reqId,
          status: 0x8001,
          payload: new Uint8Array(0),
        });
    }
  };
}

/** Stores bytes into a word memory map (big-endian words, zero-padded). */
export function storeBytes(memory: Map<number, number>, address: number, bytes: Uint8Array): void {
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.byteLength; i += 4) memory.set(address + i, view.getUint32(i));
}
