import { timingSafeEqual } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { TimeoutError } from '@cam/net-utils';
import { type EhomeRequestOf, Status } from '../codec/index.js';
import type { EhomeEvent } from './events.js';
import type { DeviceRegistry, DeviceSession } from './registry.js';
import type { EhomeServerOptions, EhomeServerStats } from './server-options.js';

/** What {@link RegisterAdmission} needs of the platform. */
export interface AdmissionHost {
  registry: DeviceRegistry;
  stats: EhomeServerStats;
  options: EhomeServerOptions;
  closed(): boolean;
  /** Asks the session's current address something (resolves on any answer, rejects on timeout). */
  probe(session: DeviceSession, ms: number): Promise<unknown>;
  /** Answers a REGISTER with a refusal status. */
  answer(req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo, status: number, reason: string): void;
  publish(e: EhomeEvent): void;
  log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
  /** Takes a held REGISTER through admission again (its claim was freed). */
  retry(req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo): void;
}

/** A REGISTER for an online DeviceID from another address, held while the session's address is probed. */
interface Claim {
  address: string;
  port: number;
  /**
   * `probing` while the old address is asked; `free` once it stayed silent (the claim wins until `until`);
   * `refused` once it answered (further claims are refused without a new probe until `until`).
   */
  state: 'probing' | 'free' | 'refused';
  until: number;
  /** The latest held REGISTER, answered when the probe frees the DeviceID. */
  held: { req: EhomeRequestOf<'REGISTER'>; rinfo: RemoteInfo } | undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * Who may register (one role of the platform, apart from its sockets): the per-source REGISTER rate, the allowlist
 * and passwords, the session caps (in total and per source address), and session safety (a REGISTER for an online
 * DeviceID from another address is held while the old address is probed).
 */
export class RegisterAdmission {
  private readonly allowlist: Set<string> | undefined;
  private readonly passwords: Map<string, string> | undefined;
  private readonly claims = new Map<string, Claim>();
  private readonly registerBuckets = new Map<string, { tokens: number; at: number }>();
  /** Online sessions per source address (for `maxSessionsPerSource`). */
  private readonly sessionsBySource = new Map<string, number>();

  constructor(private readonly host: AdmissionHost) {
    const options = host.options;
    if (options.allowlist) this.allowlist = new Set(options.allowlist);
    if (options.passwords) {
      this.passwords =
        options.passwords instanceof Map ? new Map(options.passwords) : new Map(Object.entries(options.passwords));
    }
  }

  /** True when an allowlist or passwords are configured. */
  get accessControl(): boolean {
    return this.allowlist !== undefined || this.passwords !== undefined;
  }

  /** A session went away: its claim (if any) is forgotten. */
  forget(deviceId: string): void {
    this.claims.delete(deviceId);
  }

  /**
   * Whether a REGISTER may be accepted now. When not, it was answered (refused), held (a probe runs) or dropped
   * (throttled) here.
   */
  admit(req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo): boolean {
    const p = req.params;
    if (!this.registerAllowed(rinfo.address)) {
      this.host.stats.registersThrottled++;
      return false;
    }
    const refuse = (status: number, reason: string): void => {
      this.host.stats.refused++;
      this.host.log('warn', 'register refused', {
        deviceId: p.deviceId,
        address: rinfo.address,
        port: rinfo.port,
        reason,
      });
      this.host.publish({
        type: 'refused',
        deviceId: p.deviceId,
        address: rinfo.address,
        port: rinfo.port,
        status,
        reason,
      });
      this.host.answer(req, rinfo, status, reason);
    };
    if (this.allowlist && !this.allowlist.has(p.deviceId)) {
      refuse(Status.FORBIDDEN, 'device not allowed');
      return false;
    }
    const expected = this.passwords?.get(p.deviceId);
    if (expected !== undefined && !safeEqual(expected, p.password ?? '')) {
      refuse(Status.UNAUTHORIZED, 'wrong password');
      return false;
    }
    const current = this.host.registry.get(p.deviceId);
    if (!current && this.host.registry.size >= (this.host.options.maxSessions ?? 65_536)) {
      this.host.stats.sessionsRefused++;
      refuse(503, 'platform full: too many devices online');
      return false;
    }
    if (
      !current &&
      (this.sessionsBySource.get(rinfo.address) ?? 0) >= (this.host.options.maxSessionsPerSource ?? 4096)
    ) {
      this.host.stats.sessionsRefused++;
      refuse(503, 'too many devices online from this address');
      return false;
    }
    // Session safety: an online DeviceID moves to another address at once only when its password proves the
    // claim; otherwise the claim is held until the current address stops answering.
    if (
      current &&
      (current.address !== rinfo.address || current.port !== rinfo.port) &&
      expected === undefined &&
      !this.claimWins(current, req, rinfo)
    ) {
      return false;
    }
    this.claims.delete(p.deviceId);
    return true;
  }

  /** Online sessions from `address` changed by `delta`. */
  countSource(address: string, delta: number): void {
    const n = (this.sessionsBySource.get(address) ?? 0) + delta;
    if (n <= 0) this.sessionsBySource.delete(address);
    else this.sessionsBySource.set(address, n);
  }

  /** Spends one REGISTER token of the source address; false when its bucket is empty. */
  private registerAllowed(address: string): boolean {
    const rate = this.host.options.registerRate ?? { perSecond: 100, burst: 1000 };
    const now = Date.now();
    let b = this.registerBuckets.get(address);
    if (!b) {
      // Bounded: the oldest source is forgotten first (a forgotten source starts with a full bucket again).
      if (this.registerBuckets.size >= 10_000) {
        const oldest = this.registerBuckets.keys().next().value;
        if (oldest !== undefined) this.registerBuckets.delete(oldest);
      }
      b = { tokens: rate.burst, at: now };
      this.registerBuckets.set(address, b);
    }
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Whether a REGISTER for online `session` from another address may take the session now. The first such
   * REGISTER starts a probe of the session's address (a GETDEVICEWORKSTATUS, resent); while it runs further
   * REGISTERs are held unanswered. An answer from the old address means the device is there: the claim is refused
   * (403). Silence means the device left that address (NAT rebinding, a restart on a new port): the held REGISTER
   * is answered and the session moves.
   */
  private claimWins(session: DeviceSession, req: EhomeRequestOf<'REGISTER'>, rinfo: RemoteInfo): boolean {
    const deviceId = session.deviceId;
    const now = Date.now();
    const claim = this.claims.get(deviceId);
    if (claim?.state === 'refused' && now <= claim.until) {
      // The device answered a probe a moment ago: refuse at once, so claims cannot keep it probed.
      this.host.stats.refused++;
      this.host.answer(req, rinfo, Status.FORBIDDEN, 'DeviceID is online at another address');
      return false;
    }
    if (claim && claim.address === rinfo.address && claim.port === rinfo.port) {
      if (claim.state === 'free' && now <= claim.until) return true;
      if (claim.state === 'probing') {
        claim.held = { req, rinfo };
        this.host.stats.registersHeld++;
        return false;
      }
    } else if (claim?.state === 'probing') {
      // Another claimant while one is probed: not answered (it retries; the probe decides for the first).
      this.host.stats.registersHeld++;
      return false;
    }
    const probeMs = this.host.options.takeoverProbeMs ?? 3000;
    const fresh: Claim = {
      address: rinfo.address,
      port: rinfo.port,
      state: 'probing',
      until: now + probeMs,
      held: { req, rinfo },
    };
    this.claims.set(deviceId, fresh);
    this.host.stats.registersHeld++;
    this.host.log('warn', 'REGISTER from another address held: probing the registered one', {
      deviceId,
      registered: `${session.address}:${session.port}`,
      from: `${rinfo.address}:${rinfo.port}`,
    });
    this.probeSession(session, probeMs).then(
      (alive) => {
        if (this.host.closed() || this.claims.get(deviceId) !== fresh) return;
        const held = fresh.held;
        if (alive) {
          fresh.state = 'refused';
          fresh.until = Date.now() + probeMs;
          fresh.held = undefined;
          this.host.stats.refused++;
          const reason = 'DeviceID is online at another address';
          this.host.publish({
            type: 'refused',
            deviceId,
            address: fresh.address,
            port: fresh.port,
            status: Status.FORBIDDEN,
            reason,
          });
          if (held) {
            this.host.answer(held.req, held.rinfo, Status.FORBIDDEN, reason);
          }
          return;
        }
        fresh.state = 'free';
        fresh.until = Date.now() + 30_000;
        fresh.held = undefined;
        if (held) this.host.retry(held.req, held.rinfo);
      },
      () => {},
    );
    return false;
  }

  /** True when the device at the session's address answers a GETDEVICEWORKSTATUS within `ms` (any status). */
  private async probeSession(session: DeviceSession, ms: number): Promise<boolean> {
    try {
      await this.host.probe(session, ms);
      return true;
    } catch (e) {
      // Timed out: nobody answers there any more. Any other failure (too many outstanding requests, closing) proves
      // nothing, so the claim is refused while the session is still there: claims must not win by overloading us.
      if (TimeoutError.isInstance(e)) return false;
      return this.host.registry.get(session.deviceId) === session;
    }
  }
}
