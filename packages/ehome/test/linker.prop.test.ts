import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type EhomeEvent, EventQueue, MediaLinker, type StoredMedia } from '../src/index.js';

type AlarmEvent = Extract<EhomeEvent, { type: 'alarm' }>;

const media = (kind: 'picture' | 'video', id: string, deviceId = 'd1'): StoredMedia => ({
  kind,
  deviceId,
  id,
  path: `/data/${id}`,
  size: 10,
  channel: 1,
  receivedAt: 0,
});
const alarm = (picIds: string[], videoId?: string) => ({
  deviceId: 'd1',
  channel: 1,
  alarmType: 'MOTION',
  alarmTime: '2026-01-01 00:00:00',
  picIds,
  ...(videoId === undefined ? {} : { videoId }),
});

describe('MediaLinker', () => {
  const scenario = fc
    .tuple(fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9]{1,8}$/), { maxLength: 8 }), fc.boolean())
    .chain(([picIds, withVideo]) => {
      const steps = [...picIds.map((id) => `p:${id}`), ...(withVideo ? ['v:vid'] : []), 'alarm'];
      return fc.tuple(
        fc.constant(picIds),
        fc.constant(withVideo),
        fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }),
      );
    });

  test.prop([scenario])('links an alarm to all its media whatever the arrival order', ([picIds, withVideo, order]) => {
    const emitted: AlarmEvent[] = [];
    const linker = new MediaLinker(30_000, 1000, (e) => emitted.push(e));
    for (const step of order) {
      if (step === 'alarm') linker.onAlarm('d1', alarm(picIds, withVideo ? 'vid' : undefined), 0);
      else linker.onMedia(media(step.startsWith('p:') ? 'picture' : 'video', step.slice(2)), 0);
    }
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.complete).toBe(true);
    expect(emitted[0]!.missing).toEqual([]);
    expect(emitted[0]!.pictures.map((p) => p.id)).toEqual(picIds);
    expect(emitted[0]!.video?.id).toBe(withVideo ? 'vid' : undefined);
    expect(linker.sizes).toEqual({ pendingAlarms: 0, orphanMedia: 0, captures: 0 });
  });

  it('reports missing media after the link timeout and forgets stale uploads', () => {
    const emitted: AlarmEvent[] = [];
    const linker = new MediaLinker(1000, 1000, (e) => emitted.push(e));
    linker.onMedia(media('picture', 'stale'), 0);
    linker.onAlarm('d1', alarm(['a', 'b'], 'v'), 0);
    linker.onMedia(media('picture', 'a'), 10);
    linker.sweep(999);
    expect(emitted).toEqual([]);
    linker.sweep(1000);
    expect(emitted[0]).toMatchObject({ complete: false, missing: ['b', 'v'] });
    expect(emitted[0]!.pictures.map((p) => p.id)).toEqual(['a']);
    expect(linker.sizes).toEqual({ pendingAlarms: 0, orphanMedia: 0, captures: 0 });
    // A late upload of b is now just an orphan, not attached to the reported alarm.
    expect(linker.onMedia(media('picture', 'b'), 1001)).toBe('none');
  });

  it('keeps media of different devices apart', () => {
    const emitted: AlarmEvent[] = [];
    const linker = new MediaLinker(1000, 1000, (e) => emitted.push(e));
    linker.onMedia(media('picture', 'p1', 'other'), 0);
    linker.onAlarm('d1', alarm(['p1']), 0);
    expect(emitted).toEqual([]);
    linker.onMedia(media('picture', 'p1', 'd1'), 0);
    expect(emitted[0]!.pictures[0]!.deviceId).toBe('d1');
  });

  it('bounds the media waiting for an alarm', () => {
    const linker = new MediaLinker(60_000, 10, () => {});
    for (let i = 0; i < 100; i++) linker.onMedia(media('picture', `p${i}`), 0);
    expect(linker.sizes.orphanMedia).toBe(10);
  });
});

describe('EventQueue', () => {
  it('drops the oldest events of a slow consumer and counts them', async () => {
    let closed = false;
    const q = new EventQueue<number>(3, () => {
      closed = true;
    });
    for (let i = 0; i < 10; i++) q.push(i);
    expect(q.dropped).toBe(7);
    const got: number[] = [];
    q.end();
    for await (const v of q) got.push(v);
    expect(got).toEqual([7, 8, 9]);
    expect(closed).toBe(true);
  });

  it('rejects a waiting consumer when its signal fires', async () => {
    const ac = new AbortController();
    const q = new EventQueue<number>(3, () => {}, ac.signal);
    const next = q.next();
    ac.abort(new Error('stop'));
    await expect(next).rejects.toThrow('stop');
  });
});
