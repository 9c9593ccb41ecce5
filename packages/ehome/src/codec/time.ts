import { ValueOutOfRangeError } from '@cam/net-utils/wire';
import { EHOME_TIME } from './schema.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Formats a date as EHome's `YYYY-MM-DD HH:MM:SS`, in UTC unless `utcOffsetMinutes` says otherwise. */
export function formatEhomeTime(date: Date, utcOffsetMinutes = 0): string {
  const d = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Parses `YYYY-MM-DD HH:MM:SS` as a time `utcOffsetMinutes` ahead of UTC (default UTC). */
export function parseEhomeTime(text: string, utcOffsetMinutes = 0): Date {
  if (!EHOME_TIME.test(text))
    throw new ValueOutOfRangeError('time', `${JSON.stringify(text)} is not YYYY-MM-DD HH:MM:SS`);
  const ms = Date.UTC(
    Number(text.slice(0, 4)),
    Number(text.slice(5, 7)) - 1,
    Number(text.slice(8, 10)),
    Number(text.slice(11, 13)),
    Number(text.slice(14, 16)),
    Number(text.slice(17, 19)),
  );
  return new Date(ms - utcOffsetMinutes * 60_000);
}
