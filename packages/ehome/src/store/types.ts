import type { EhomeEventType } from '../platform/events.js';
import type { DeviceSession } from '../platform/registry.js';

/** One event as the store keeps it: an increasing id, when, what, which device, and its JSON body. */
export interface StoredEvent {
  id: number;
  /** Milliseconds since the epoch when the platform saw it. */
  at: number;
  type: EhomeEventType;
  deviceId: string | undefined;
  /** The event as the API serves it (media referenced by `/api/pictures/{id}`). */
  body: Record<string, unknown>;
}

/** An event to append. */
export interface NewEvent {
  at: number;
  type: EhomeEventType;
  deviceId: string | undefined;
  body: Record<string, unknown>;
}

/** Filters of {@link EhomeStore.queryEvents}. */
export interface EventQuery {
  type?: string;
  deviceId?: string;
  /** Inclusive bounds on `at` (ms since the epoch). */
  from?: number;
  to?: number;
  /** Only events with an id greater than this (paging: the `next` of the previous page). */
  after?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** A stored picture or video (the bytes are a file on the node that received it). */
export interface MediaRecord {
  id: number;
  nodeId: string;
  deviceId: string;
  kind: 'picture' | 'video';
  /** PicID / VideoId the device gave. */
  mediaId: string;
  path: string;
  size: number;
  channel: number | undefined;
  receivedAt: number;
}

/** A device session as the store knows it, with the platform process (node) that holds it. */
export interface SessionRecord {
  session: DeviceSession;
  nodeId: string;
  /** Registered and not logged out / timed out, on a node that is alive. */
  online: boolean;
}

/** A platform process sharing the store. */
export interface NodeRecord {
  nodeId: string;
  /** Base URL of its HTTP API (requests for its devices are forwarded there), when it serves one. */
  apiUrl: string | undefined;
  startedAt: number;
  seenAt: number;
  alive: boolean;
}

/** One platform -> device request, as the command history keeps it. */
export interface CommandRecord {
  at: number;
  deviceId: string;
  command: string;
  /** The device's status, or undefined when it did not answer. */
  status: number | undefined;
  durationMs: number;
  error: string | undefined;
}

/**
 * What is kept, enforced by {@link EhomeStore.enforceRetention} (the platform runs it every minute): events,
 * commands and media older than `days`; the oldest stored pictures/videos of this node beyond `maxMediaBytes`;
 * the oldest events beyond `maxEvents`.
 */
export interface RetentionPolicy {
  days?: number;
  maxMediaBytes?: number;
  maxEvents?: number;
}

/** What one retention run removed. `paths` are this node's media files whose rows went (the caller deletes them). */
export interface RetentionResult {
  events: number;
  commands: number;
  media: number;
  paths: { path: string; size: number }[];
}

/**
 * The platform's durable store: device sessions, events (alarms among them), pictures and videos (metadata), and
 * command history. Every write resolves once it is committed, so a caller that acknowledges after `await` never
 * acknowledges what a crash can lose. Implemented by the embedded store (PGlite), PostgreSQL, and memory.
 */
export interface EhomeStore extends AsyncDisposable {
  readonly kind: 'memory' | 'embedded' | 'postgres';
  /** This process's id among the nodes sharing the store. */
  readonly nodeId: string;
  /** Schema version after migrations. */
  readonly schemaVersion: number;
  appendEvent(event: NewEvent): Promise<number>;
  /**
   * Appends an alarm once: a second call with the same `dedupeKey` (a device resending an alarm whose answer was
   * lost, even across a platform restart) returns the first one's id with `duplicate: true`.
   */
  appendAlarm(event: NewEvent, dedupeKey: string): Promise<{ id: number; duplicate: boolean }>;
  updateEvent(id: number, body: Record<string, unknown>): Promise<void>;
  /** The newest event's id (0 when none): where a live stream starts. */
  latestEventId(): Promise<number>;
  queryEvents(query: EventQuery): Promise<{ events: StoredEvent[]; next: number | null }>;
  addMedia(media: Omit<MediaRecord, 'id' | 'nodeId'>): Promise<number>;
  media(id: number): Promise<MediaRecord | undefined>;
  putSession(session: DeviceSession, online: boolean): Promise<void>;
  /** Refreshes `lastSeen` of many sessions of this node in one write. */
  touchSessions(seen: { deviceId: string; lastSeen: number }[]): Promise<void>;
  sessions(): Promise<SessionRecord[]>;
  session(deviceId: string): Promise<SessionRecord | undefined>;
  addCommand(command: CommandRecord): Promise<void>;
  commands(deviceId: string, limit?: number): Promise<CommandRecord[]>;
  /** Announces this node (and its API URL) and keeps it alive; call every few seconds. */
  heartbeat(apiUrl: string | undefined): Promise<void>;
  nodes(): Promise<NodeRecord[]>;
  /** Calls `listener` after events were committed, by this node or (PostgreSQL) another; returns unsubscribe. */
  subscribe(listener: () => void): () => void;
  enforceRetention(policy: RetentionPolicy, now?: number): Promise<RetentionResult>;
  close(): Promise<void>;
}

/** A node not heard from for this long is dead: its sessions are offline, its devices cannot be reached. */
export const NODE_DEAD_AFTER_MS = 20_000;
