import type { Command } from 'commander';

/** `cam gige ...`: GigE Vision control (GVCP) and streaming (GVSP). */
export function registerGige(program: Command): void {
  program.command('gige').description('GigE Vision cameras: discover, registers, GenICam, grab, simulate');
}
