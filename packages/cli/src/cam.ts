#!/usr/bin/env node
import { main } from './main.js';

// a reader that went away (cam ... | head) is not a failure of the command: later writes just go nowhere
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cam: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
