import { ProtocolError } from '@cam/net-utils';

/** The device is not registered (never was, or went offline): nothing can be sent to it. */
export class DeviceOfflineError extends ProtocolError {
  static override readonly errorName: string = 'DeviceOfflineError';
  readonly deviceId: string;

  constructor(deviceId: string, what = 'is not online') {
    super(`device ${JSON.stringify(deviceId)} ${what}`);
    this.deviceId = deviceId;
  }
}

/** The device answered a request with a non-2xx `<Status>`; `code` is the status, `description` its text. */
export class DeviceStatusError extends ProtocolError {
  static override readonly errorName: string = 'DeviceStatusError';
  readonly deviceId: string;
  readonly command: string;
  readonly description: string;

  constructor(deviceId: string, command: string, status: number, description: string) {
    super(`device ${JSON.stringify(deviceId)} answered ${command} with ${status} ${description}`, status);
    this.deviceId = deviceId;
    this.command = command;
    this.description = description;
  }
}
