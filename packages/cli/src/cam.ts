#!/usr/bin/env node
// Ctrl-C while the modules load ends with the contract's 130 (main takes over once it runs)
const early = (): void => process.exit(130);
process.once('SIGINT', early);

// a reader that went away (cam ... | head) is not a failure of the command: later writes just go nowhere
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });

const { main } = await import('./main.js');
process.off('SIGINT', early);
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cam: ${String(error)}\n`);
    process.exitCode = 1;
  },
);

export {};
