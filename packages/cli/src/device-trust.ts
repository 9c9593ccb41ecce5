import type { FetchGenicamOptions } from '@cam/gvcp';
import type { Command } from 'commander';
import { parseNumber } from './output.js';

/** Options of commands that download a device's GenICam XML (the device chooses the URL). */
export interface GenicamFetchCliOptions {
  allowFileUrls?: string[];
  maxXmlBytes?: string;
  fetchTimeout?: string;
}

/** Adds `--allow-file-urls DIR`, `--max-xml-bytes N` and `--fetch-timeout MS` to a command that downloads a device's GenICam XML. */
export function genicamFetchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--allow-file-urls <dir>',
      "follow a device's File: GenICam URL only into this directory (repeatable; default: File: URLs refused)",
      (dir: string, dirs: string[] | undefined) => [...(dirs ?? []), dir],
    )
    .option('--max-xml-bytes <n>', "largest GenICam file read on the device's say-so (default 33554432)")
    .option('--fetch-timeout <ms>', 'longest time the GenICam file download may take (default 30000)');
}

/** The library options for {@link genicamFetchOptions}' flags. */
export function fetchOptionsFrom(opts: GenicamFetchCliOptions): FetchGenicamOptions {
  return {
    ...(opts.allowFileUrls?.length ? { allowFileUrlsIn: opts.allowFileUrls } : {}),
    ...(opts.maxXmlBytes === undefined ? {} : { maxBytes: parseNumber(opts.maxXmlBytes, 'max-xml-bytes') }),
    ...(opts.fetchTimeout === undefined ? {} : { fetchTimeoutMs: parseNumber(opts.fetchTimeout, 'fetch-timeout') }),
  };
}
