// Child process of bench/media.ts: connects to the given ports on 127.0.0.1 and writes the same prepared stream to
// each as fast as TCP allows, then closes. argv: <file with the stream bytes> <port>...
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [file, ...ports] = process.argv.slice(2);
const bytes = readFileSync(file!);
const CHUNK = 64 * 1024;

await Promise.all(
  ports.map(
    (p) =>
      new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: Number(p) }, () => {
          let o = 0;
          const pump = (): void => {
            while (o < bytes.length) {
              const end = Math.min(bytes.length, o + CHUNK);
              const ok = s.write(bytes.subarray(o, end));
              o = end;
              if (!ok) {
                s.once('drain', pump);
                return;
              }
            }
            s.end(resolve);
          };
          pump();
        });
        s.on('error', reject);
      }),
  ),
);
