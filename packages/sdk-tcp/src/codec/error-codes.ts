/**
 * HErrorCode: the vendor's u16 status / error codes. Codes 0..33 agree in every vendor source; from 34 on the
 * numbering depends on the SDK version, so the table is versioned:
 *
 * - `'hcatnet'`: HCatNet `HStruct.h` (newest C++ SDK): inserts kDownloadingFile (34) and kProcessing (35),
 *   so kInvalidGUID is 45, and adds kUsbNotInsert.
 * - `'classic'`: the older SDK enumeration (as in KryQ/node-huidu-sdk `SdkConstants.ts`): kInvalidGUID is 43.
 *
 * XML answers carry the NAME (`result="kInvalidGUID"`), which is unambiguous; prefer names.
 */

const COMMON = [
  'kSuccess',
  'kWriteFinish',
  'kProcessError',
  'kVersionTooLow',
  'kDeviceOccupa',
  'kFileOccupa',
  'kReadFileExcessive',
  'kInvalidPacketLen',
  'kInvalidParam',
  'kNotSpaceToSave',
  'kCreateFileFailed',
  'kWriteFileFailed',
  'kReadFileFailed',
  'kInvalidFileData',
  'kFileContentError',
  'kOpenFileFailed',
  'kSeekFileFailed',
  'kRenameFailed',
  'kFileNotFound',
  'kFileNotFinish',
  'kXmlCmdTooLong',
  'kInvalidXmlIndex',
  'kParseXmlFailed',
  'kInvalidMethod',
  'kMemoryFailed',
  'kSystemError',
  'kUnsupportVideo',
  'kNotMediaFile',
  'kParseVideoFailed',
  'kUnsupportFrameRate',
  'kUnsupportResolution',
  'kUnsupportFormat',
  'kUnsupportDuration',
  'kDownloadFileFailed',
] as const;

const LATER = [
  'kScreenNodeIsNull',
  'kNodeExist',
  'kNodeNotExist',
  'kPluginNotExist',
  'kCheckLicenseFailed',
  'kNotFoundWifiModule',
  'kTestWifiUnsuccessful',
  'kRunningError',
  'kUnsupportMethod',
  'kInvalidGUID',
  'kFirmwareFormatError',
  'kTagNotFound',
  'kAttrNotFound',
  'kCreateTagFailed',
  'kUnsupportDeviceType',
  'kPermissionDenied',
  'kPasswdTooSimple',
] as const;

const HCATNET = [
  ...COMMON,
  'kDownloadingFile',
  'kProcessing',
  ...LATER,
  'kUsbNotInsert',
  'kDelayRespond',
  'kShortlyReturn',
] as const;
const CLASSIC = [...COMMON, ...LATER, 'kDelayRespond', 'kShortlyReturn'] as const;

/** Every error-code name of any table version. */
export type HErrorCodeName = (typeof HCATNET)[number];
/** Versions of the error-code table. */
export type HErrorCodeTable = 'hcatnet' | 'classic';
export const DEFAULT_ERROR_TABLE: HErrorCodeTable = 'hcatnet';

const TABLES: Record<HErrorCodeTable, readonly HErrorCodeName[]> = { hcatnet: HCATNET, classic: CLASSIC };

/** The codes every table agrees on (0..33), by name. */
export const HErrorCode = Object.fromEntries(COMMON.map((n, i) => [n, i])) as {
  readonly [K in (typeof COMMON)[number]]: number;
};

/** Numeric value of `name` in `table`; undefined when that table has no such name. */
export function errorCodeValue(name: string, table: HErrorCodeTable = DEFAULT_ERROR_TABLE): number | undefined {
  const i = (TABLES[table] as readonly string[]).indexOf(name);
  return i < 0 ? undefined : i;
}

/** Name of `code` in `table`; undefined for a code outside the table. */
export function errorCodeName(code: number, table: HErrorCodeTable = DEFAULT_ERROR_TABLE): HErrorCodeName | undefined {
  return TABLES[table][code];
}

/** True when `name` is an error-code name of some table. */
export function isErrorCodeName(name: string): name is HErrorCodeName {
  return (HCATNET as readonly string[]).includes(name);
}

/** `kInvalidGUID (45)`, or `code 77` when the table has no name for it: for messages. */
export function describeErrorCode(code: number, table: HErrorCodeTable = DEFAULT_ERROR_TABLE): string {
  const name = errorCodeName(code, table);
  return name === undefined ? `code ${code}` : `${name} (${code})`;
}

/** All entries of a table, for documentation and tests. */
export function errorCodeTable(table: HErrorCodeTable = DEFAULT_ERROR_TABLE): readonly HErrorCodeName[] {
  return TABLES[table];
}
