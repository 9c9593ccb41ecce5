import { type Command, Help, type Option } from 'commander';
import { UsageError } from './output.js';

/**
 * Examples shown under each command's help, by command path. Kept here, in one table, so every command (whoever
 * owns its file) gets an Examples section in the same style; a test checks that no leaf command lacks one.
 */
export const EXAMPLES: Record<string, string[]> = {
  'gige discover': ['cam gige discover --address 192.168.1.20', 'cam gige discover --interface 192.168.1.2 --json'],
  'gige info': ['cam gige info 192.168.1.20', 'cam gige info 127.0.0.1 --port 3957 --json'],
  'gige read': ['cam gige read 192.168.1.20 0x0934 Width PixelFormat'],
  'gige write': [
    'cam gige write 192.168.1.20 Width=640 Height=480 PixelFormat=Mono12',
    'cam gige write 192.168.1.20 0x0938=3000',
  ],
  'gige exec': ['cam gige exec 192.168.1.20 TriggerSoftware', 'cam gige exec 192.168.1.20 AcquisitionStart'],
  'gige features': [
    'cam gige features 192.168.1.20',
    'cam gige features 192.168.1.20 --filter "Exposure*" --access RW',
  ],
  'gige describe': ['cam gige describe 192.168.1.20 Width ExposureTime', 'cam gige describe 192.168.1.20 --json'],
  'gige readmem': ['cam gige readmem 192.168.1.20 0x0048 32', 'cam gige readmem 192.168.1.20 0x10000 4096 -o dump.bin'],
  'gige genicam': ['cam gige genicam 192.168.1.20 -o camera.xml'],
  'gige forceip': ['cam gige forceip --mac 00:11:22:33:44:55 --ip 10.0.0.20 --mask 255.0.0.0'],
  'gige simulate': [
    'cam gige simulate --address 127.0.0.1 --port 0',
    'cam gige simulate --pixel-format BayerRG8 --fps 30',
    'ip netns exec cam0 cam gige simulate --forceip-hook ip --path-mtu egress',
  ],
  'gige grab': [
    'cam gige grab 192.168.1.20 --frames 10 --out shots',
    'cam gige grab 10.0.0.20 --set ExposureTime=5000 --trigger software',
    'cam gige grab 192.168.1.20 --format raw --out raw   # .raw + .json sidecar',
  ],
  'gige stream': [
    'cam gige stream 192.168.1.20 --seconds 10',
    'cam gige stream 192.168.1.20 --seconds 0 -o - | ffplay -',
    'cam gige stream 192.168.1.20 --trigger software:5 --set Width=640',
  ],
  'genicam check': [
    'cam genicam check camera.xml',
    'cam genicam check *.xml *.zip --json',
    'cam genicam check camera.xml --aravis   # aravis-tools-cli; 127.0.0.1:3956',
  ],
  'gvsp decode': ['cam gvsp decode capture.pcapng', 'cam gvsp decode capture.pcap --port 50010 --json'],
  'gvsp send': ['cam gvsp send 127.0.0.1:50010 --frames 100 --loss-ratio 0.01'],
  'gvsp receive': ['cam gvsp receive --port 50010 --frames 100'],
  'scgvmp grab': [
    'cam scgvmp grab 192.168.1.30 --frames 10 --out frames',
    'cam scgvmp grab 192.168.1.30 --frames 100 -o - | ffplay -',
  ],
  'scgvmp simulate': ['cam scgvmp simulate --address 127.0.0.1 --port 0 --fps 15'],
  'ehome serve': [
    'cam ehome serve --port 7660 --data ./ehome-data --retention-days 30',
    'cam ehome serve --store postgres://cam@db/cam --api-address 10.0.0.5 \\\n      --token "$TOKEN" --api-url http://10.0.0.5:7680',
  ],
  'ehome device': ['cam ehome device --server 127.0.0.1:7660 --id DEV0001 --count 3'],
  'ehome preview': ['cam ehome preview --id DEV0001 --seconds 10 -o live.h264'],
  'ehome playback': ['cam ehome playback --id DEV0001 \\\n      --start 2024-01-01T08:00:00 --end 2024-01-01T08:05:00'],
  'ehome download': ['cam ehome download --id DEV0001 -o rec.ps'],
  'ehome devices': ['cam ehome devices', 'cam ehome devices --platform http://10.0.0.5:7680 --token "$TOKEN" --json'],
  'ehome events': ['cam ehome events --type alarm --device DEV0001 --limit 20', 'cam ehome events --after 1200 --json'],
  'ehome capture': ['cam ehome capture --id DEV0001 -o now.jpg'],
  'ehome ptz': [
    'cam ehome ptz --id DEV0001 --command LEFT --speed 3',
    'cam ehome ptz --id DEV0001 --command LEFT --action Stop',
  ],
  'ehome config': ['cam ehome config --id DEV0001 --name GetServerInfo --json'],
  'ehome records': ['cam ehome records --id DEV0001 --from 2024-01-01T00:00 --to 2024-01-02T00:00'],
  'sdk program send': ['cam sdk program send 192.168.1.50 program.json'],
  'sdk screen': ['cam sdk screen 192.168.1.50 off', 'cam sdk screen 192.168.1.50 on'],
  'sdk luminance': [
    'cam sdk luminance 192.168.1.50 60',
    'cam sdk luminance 192.168.1.50 --schedule 07:00:00=80,20:00:00=30',
  ],
  'sdk time': ['cam sdk time 192.168.1.50', 'cam sdk time 192.168.1.50 --set now'],
  'sdk files': ['cam sdk files 192.168.1.50', 'cam sdk files 192.168.1.50 --delete old.bmp'],
  'sdk snapshot': ['cam sdk snapshot 127.0.0.1 --port 10001 --out screen.png'],
  'sdk call': ['cam sdk call 192.168.1.50 GetDeviceInfo'],
  'sdk upload': ['cam sdk upload 192.168.1.50 logo.bmp --type image'],
  'sdk read': ['cam sdk read 192.168.1.50 logo.bmp'],
  'sdk search': ['cam sdk search --address 192.168.1.50'],
  'sdk simulate': ['cam sdk simulate --port 0 --dir ./controller'],
  view: [
    'cam view --gige 192.168.1.20',
    'cam view --scgvmp 192.168.1.30',
    'cam view --ehome http://127.0.0.1:7680',
    'cam view --sdk 192.168.1.50',
    'cam view --address 0.0.0.0 --port 8080   # prints a URL with a token',
  ],
  demo: ['cam demo', 'cam demo --only gige,scgvmp --json'],
  completion: ['cam completion bash > /etc/bash_completion.d/cam', 'cam completion zsh > ~/.zfunc/_cam'],
  help: ['cam help gige grab'],
};

/** The words of a command's path below the program (`gige grab`). */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * One help style for every command: defaults as `(default: X)` (never JSON-quoted), whatever way the option gave
 * them; long lines wrapped to the terminal (commander's own width: the terminal's columns, else 80).
 */
class CamHelp extends Help {
  override optionDescription(option: Option): string {
    // hand-written "(default 3956)" in a description becomes "(default: 3956)"
    const own = option.description.replace(/\(default ([^:)][^)]*)\)/g, '(default: $1)');
    if (option.defaultValue === undefined || option.negate || /\(default:/.test(own)) return own;
    const shown =
      option.defaultValueDescription ??
      (typeof option.defaultValue === 'string' ? option.defaultValue : JSON.stringify(option.defaultValue));
    if (typeof option.defaultValue === 'boolean') return own;
    return `${own} (default: ${shown})`;
  }
}

/** Applies the help style and the Examples sections to a whole command tree, and adds `cam help <command...>`. */
export function finishHelp(program: Command): void {
  const walk = (cmd: Command): void => {
    cmd.createHelp = () => Object.assign(new CamHelp(), cmd.configureHelp());
    const path = commandPath(cmd);
    const examples = EXAMPLES[path];
    if (examples) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    for (const sub of cmd.commands) walk(sub);
  };
  program.helpCommand(false);
  program
    .command('help')
    .description('show help for a command: cam help gige grab')
    .argument('[command...]', 'the command words')
    .action((words: string[]) => {
      let target: Command = program;
      for (const w of words) {
        const next = target.commands.find((c) => c.name() === w || c.aliases().includes(w));
        if (!next) {
          // an unknown word is a usage error (exit 2) with the help of what is known so far
          target.outputHelp({ error: true });
          throw new UsageError(`unknown command "${words.join(' ')}"`);
        }
        target = next;
      }
      target.outputHelp();
    });
  walk(program);
}
