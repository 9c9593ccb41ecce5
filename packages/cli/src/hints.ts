import { WireError } from '@cam/net-utils';

/** Fields a hint may look at; every one optional, read without trusting the error's class. */
interface ErrorFacts {
  name?: unknown;
  code?: unknown;
  statusName?: unknown;
  address?: unknown;
  command?: unknown;
  operation?: unknown;
  syscall?: unknown;
  path?: unknown;
  port?: unknown;
  feature?: unknown;
  suggestions?: unknown;
}

const CCP = 0x0a00;

/**
 * One line telling a person what to do about a common failure (the README's troubleshooting, brought to the
 * terminal), or undefined when there is nothing better to say than the message.
 */
export function hintFor(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorFacts;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = e.code;
  if (code === 'EADDRINUSE') {
    const port = typeof e.port === 'number' ? ` ${e.port}` : '';
    return `port${port} is taken by another process (another cam or camera tool?): stop it, or pick another port with --port (0 = any free port)`;
  }
  if (code === 'EADDRNOTAVAIL')
    return 'that address is not one of this machine\'s interfaces: use an address from "ip -4 addr", or 0.0.0.0';
  if (code === 'EACCES' && e.syscall === 'bind')
    return 'ports below 1024 need root: use a port above 1023 (--port), or run with the needed privilege';
  if (code === 'ENOENT') {
    const path = typeof e.path === 'string' ? ` "${e.path}"` : '';
    return `no such file or directory${path}: check the path (relative paths start from ${cwd()})`;
  }
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: check the file or directory permissions';
  if (code === 'EISDIR') return 'that is a directory: give a file name';
  if (code === 'ENOSPC') return 'the disk is full: free space or write somewhere else (--out / -o)';
  if (code === 'ECONNREFUSED')
    return 'nothing listens at that address and port: check the address, the port (--port) and that the device or server runs';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return 'no route to that address: check the address and that this machine has an interface on its subnet';
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return 'the peer closed the connection: check that it still runs and try again';
  if (name === 'GvcpStatusError' && e.statusName === 'ACCESS_DENIED') {
    if (e.address === CCP)
      return 'another application holds control of this camera (CCP register 0x0a00): close it (viewer, arv-tool, other cam), or wait for its heartbeat timeout to expire';
    return 'the camera refused access: take control first (writes need it), or the register is read-only';
  }
  if (name === 'GvcpStatusError' && e.statusName === 'INVALID_ADDRESS')
    return 'the camera has no register at that address: check it against "cam gige describe" or the camera manual';
  if (name === 'GvcpStatusError' && e.statusName === 'WRITE_PROTECT')
    return 'that register is read-only on this camera';
  if (name === 'GvcpStatusError' && e.statusName === 'BUSY')
    return 'the camera is busy: try again in a moment (or stop acquisition first)';
  if (name === 'ControlLostError')
    return 'the camera stopped accepting our heartbeat: check the link, or another application took control (switchover)';
  if (name === 'TimeoutError')
    return 'no answer in time: check the address (cam gige discover --address IP, cam sdk search), that the device is powered and on this subnet, the port (--port), and that no firewall drops UDP; raise --timeout for a slow link';
  if (name === 'UnknownFeatureNameError' && Array.isArray(e.suggestions) && e.suggestions.length > 0)
    return `did you mean ${e.suggestions.map((s) => String(s)).join(', ')}? (cam gige features IP lists them all)`;
  if (name === 'UnknownFeatureError' || name === 'UnknownFeatureNameError')
    return 'list the camera\'s features with "cam gige features IP"';
  if (name === 'NotWritableError' || name === 'NotAvailableError')
    return 'the feature is locked right now: many are while acquisition runs (stop it) or depend on another feature (cam gige describe IP NAME)';
  if (name === 'InvalidValueError' || name === 'ValueOutOfRangeError')
    return 'see the allowed range and entries with "cam gige describe IP NAME"';
  if (name === 'GenicamFetchError' || name === 'GenicamXmlError')
    return "the camera's GenICam XML could not be used: registers still work by address (cam gige read IP 0x...)";
  if (WireError.isInstance(error) && (name === 'MalformedError' || name === 'TruncatedError'))
    return 'the peer sent bytes that are not the protocol: check that the port belongs to the device you meant';
  return undefined;
}

function cwd(): string {
  try {
    return process.cwd();
  } catch {
    return 'the current directory';
  }
}
