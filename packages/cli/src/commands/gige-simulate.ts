import type { Command } from 'commander';

/** Registers `cam gige simulate` under `gige` (filled in by the device side of @cam/gvcp). */
export function registerGigeSimulate(_gige: Command): void {}
