// npm run editor: the editors' CLI (src/editor/cli.ts), on their own computers: Linux, macOS or
// Windows. It holds decrypted tips and an unlocked key in memory, so on Linux, where crash handlers
// (apport, systemd-coredump) may keep a dump of a crashed process, it runs with a core limit of 1
// byte: the kernel's "no dump", which those handlers honour too (0 they are given anyway). Elsewhere,
// or without prlimit, it runs as is: macOS keeps no core dumps unless asked.
import { spawnSync } from 'node:child_process';

const cli = [process.execPath, '--import', 'tsx', 'src/editor/cli.ts', ...process.argv.slice(2)];
const limited = process.platform === 'linux' && spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
const [cmd, ...args] = limited ? ['prlimit', '--core=1', '--', ...cli] : cli;
const r = spawnSync(cmd, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
