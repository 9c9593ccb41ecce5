import { type CamErrorOptions, WireError } from '@cam/net-utils/wire';

/** Base of every error raised by the GenICam node map. */
export class GenicamError extends WireError {
  static override readonly errorName: string = 'GenicamError';
}

/** The XML is not well-formed, is not a GenApi RegisterDescription, or describes an impossible node graph. */
export class GenicamXmlError extends GenicamError {
  static override readonly errorName: string = 'GenicamXmlError';
  /** 1-based line of the problem, when the XML parser reported one. */
  readonly line: number | undefined;
  /** 1-based column of the problem, when the XML parser reported one. */
  readonly column: number | undefined;
  /** The node the problem is in, when it is in one. */
  readonly node: string | undefined;

  constructor(
    detail: string,
    where: { line?: number | undefined; column?: number | undefined; node?: string | undefined } = {},
    options?: CamErrorOptions,
  ) {
    const at =
      where.node !== undefined
        ? ` (node '${where.node}')`
        : where.line !== undefined
          ? ` (line ${where.line}${where.column !== undefined ? `, column ${where.column}` : ''})`
          : '';
    super(`invalid GenICam XML${at}: ${detail}`, options);
    this.line = where.line;
    this.column = where.column;
    this.node = where.node;
  }
}

/** A SwissKnife / Converter formula does not parse. */
export class FormulaSyntaxError extends GenicamError {
  static override readonly errorName: string = 'FormulaSyntaxError';
  readonly formula: string;
  /** Character offset of the problem in `formula`. */
  readonly offset: number;

  constructor(formula: string, offset: number, detail: string, options?: CamErrorOptions) {
    const shown = formula.length > 120 ? `${formula.slice(0, 117)}...` : formula;
    super(`formula syntax error at offset ${offset}: ${detail} in "${shown}"`, options);
    this.formula = formula;
    this.offset = offset;
  }
}

/** A formula parsed but cannot be evaluated with these inputs (division by zero, unknown variable, NaN to integer). */
export class FormulaEvaluationError extends GenicamError {
  static override readonly errorName: string = 'FormulaEvaluationError';
}

/** Base of errors about one feature; `.feature` names it. */
export class FeatureError extends GenicamError {
  static override readonly errorName: string = 'FeatureError';
  readonly feature: string;

  constructor(feature: string, message: string, options?: CamErrorOptions) {
    super(message, options);
    this.feature = feature;
  }
}

/** No node of that name exists in the node map. */
export class UnknownFeatureError extends FeatureError {
  static override readonly errorName: string = 'UnknownFeatureError';

  constructor(feature: string, options?: CamErrorOptions) {
    super(feature, `unknown feature '${feature}'`, options);
  }
}

/** GenICam access modes: read-only, write-only, read-write, not available, not implemented. */
export type AccessMode = 'RO' | 'WO' | 'RW' | 'NA' | 'NI';

/** The feature exists but its access mode does not allow writing. */
export class NotWritableError extends FeatureError {
  static override readonly errorName: string = 'NotWritableError';
  readonly access: AccessMode;

  constructor(feature: string, access: AccessMode, options?: CamErrorOptions) {
    super(feature, `feature '${feature}' is not writable (access mode ${access})`, options);
    this.access = access;
  }
}

/** The feature exists but its access mode does not allow reading. */
export class NotReadableError extends FeatureError {
  static override readonly errorName: string = 'NotReadableError';
  readonly access: AccessMode;

  constructor(feature: string, access: AccessMode, options?: CamErrorOptions) {
    super(feature, `feature '${feature}' is not readable (access mode ${access})`, options);
    this.access = access;
  }
}

/** The feature is not available now (pIsAvailable = 0) or not implemented on this device (pIsImplemented = 0). */
export class NotAvailableError extends FeatureError {
  static override readonly errorName: string = 'NotAvailableError';
  readonly access: 'NA' | 'NI';

  constructor(feature: string, access: 'NA' | 'NI', options?: CamErrorOptions) {
    super(
      feature,
      access === 'NI'
        ? `feature '${feature}' is not implemented on this device`
        : `feature '${feature}' is not available in the current device state`,
      options,
    );
    this.access = access;
  }
}

/** A numeric value outside the feature's [min, max] or off its increment grid. */
export class OutOfRangeError extends FeatureError {
  static override readonly errorName: string = 'OutOfRangeError';
  readonly value: number | bigint;
  readonly min: number | bigint;
  readonly max: number | bigint;
  /** The increment when the value is off the grid min + k * inc. */
  readonly inc: number | bigint | undefined;

  constructor(
    feature: string,
    value: number | bigint,
    min: number | bigint,
    max: number | bigint,
    inc?: number | bigint,
    options?: CamErrorOptions,
  ) {
    const grid = inc !== undefined ? ` in steps of ${inc} from ${min}` : '';
    super(feature, `value ${value} for feature '${feature}' is out of range: allowed [${min}, ${max}]${grid}`, options);
    this.value = value;
    this.min = min;
    this.max = max;
    this.inc = inc;
  }
}

/** A value of the wrong kind for the feature (text for an integer, an unknown enumeration entry, too long a string). */
export class InvalidValueError extends FeatureError {
  static override readonly errorName: string = 'InvalidValueError';
  /** For enumerations: the entry names that may be set now. */
  readonly allowed: readonly string[] | undefined;

  constructor(feature: string, detail: string, allowed?: readonly string[], options?: CamErrorOptions) {
    super(
      feature,
      `invalid value for feature '${feature}': ${detail}${allowed !== undefined ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      options,
    );
    this.allowed = allowed;
  }
}

/** The operation does not apply to this kind of node (execute on an Integer, get on a Category). */
export class FeatureTypeError extends FeatureError {
  static override readonly errorName: string = 'FeatureTypeError';
  readonly nodeType: string;

  constructor(feature: string, nodeType: string, detail: string, options?: CamErrorOptions) {
    super(feature, `feature '${feature}' (${nodeType}) ${detail}`, options);
    this.nodeType = nodeType;
  }
}

/** Reading or writing the device through the Port failed; `.cause` holds the transport's error. */
export class PortAccessError extends FeatureError {
  static override readonly errorName: string = 'PortAccessError';
  readonly address: bigint;
  readonly length: number;

  constructor(feature: string, op: 'read' | 'write', address: bigint, length: number, options?: CamErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      feature,
      `${op} of ${length} bytes at 0x${address.toString(16)} for feature '${feature}' failed${why}`,
      options,
    );
    this.address = address;
    this.length = length;
  }
}

/** The device reported an error for an access through the node's pError enumeration (a non-zero value). */
export class DeviceReportedError extends FeatureError {
  static override readonly errorName: string = 'DeviceReportedError';
  /** The error enumeration's value. */
  readonly code: bigint;

  constructor(feature: string, code: bigint, what: string, options?: CamErrorOptions) {
    super(feature, `device reports ${what}`, options);
    this.code = code;
  }
}
