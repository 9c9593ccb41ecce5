import type { Command } from 'commander';
import { registerGigeSimulate } from './gige-simulate.js';

/** `cam gige ...`: GigE Vision control (GVCP) and streaming (GVSP). */
export function registerGige(program: Command): void {
  const gige = program.command('gige').description('GigE Vision cameras: discover, registers, GenICam, grab, simulate');
  registerGigeSimulate(gige);
}
