#!/usr/bin/env node
import { reportError } from './output.js';
import { createProgram } from './program.js';

const program = createProgram();
program.parseAsync(process.argv).catch((error: unknown) => {
  reportError(error, process.argv.includes('--json'));
});
