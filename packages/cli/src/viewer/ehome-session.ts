/**
 * An EHome platform the viewer shows: `cam ehome serve`'s HTTP API (or any with the same routes), reached from the
 * server so its bearer token never goes to the browser. Only the calls the view needs are passed on, each to a
 * fixed path with checked parameters.
 */
export class EhomeSession {
  readonly kind = 'ehome';
  private readonly base: URL;

  private constructor(
    readonly id: string,
    base: URL,
    private readonly token: string | undefined,
  ) {
    this.base = base;
  }

  /** Checks the platform answers `/api/devices`; resolves with the session. */
  static async open(id: string, url: string, token?: string): Promise<EhomeSession> {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new TypeError(`platform URL "${url}" is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new TypeError(`platform URL "${url}" is not http(s)`);
    if (base.username || base.password) throw new TypeError('put the platform token in --ehome-token, not the URL');
    base.pathname = base.pathname.replace(/\/*$/, '/');
    base.search = '';
    base.hash = '';
    const session = new EhomeSession(id, base, token);
    const r = await session.call('api/devices', new URLSearchParams(), AbortSignal.timeout(10_000));
    if (!r.ok) throw new Error(`the platform at ${base.href} answered ${r.status} to /api/devices`);
    await r.body?.cancel();
    return session;
  }

  get address(): string {
    return this.base.href;
  }

  info(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, address: this.base.href, streaming: false };
  }

  stats(): Record<string, unknown> {
    return { platform: this.base.href };
  }

  /** One call to the platform; the answer's body is passed on as it streams. */
  async call(path: string, query: URLSearchParams, signal: AbortSignal): Promise<Response> {
    const url = new URL(path, this.base);
    url.search = query.toString();
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return fetch(url, { headers, signal, redirect: 'error' });
  }

  async close(): Promise<void> {}
}
