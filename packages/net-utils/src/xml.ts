import { FrameTooLargeError, MalformedError } from './errors.js';

/**
 * The one hardened XML reader of @cam (GenICam description files, EHome signals, Huidu SDK documents). Linear in its
 * input: it moves forward with bounded searches or one character at a time and uses no regular expression, so no
 * input makes it backtrack (fast-xml-parser, used before, spent seconds on 2 MiB documents of repeated start tags,
 * issue #22). It checks the well-formedness rules that matter: names, quoted attributes without `<`, unique attribute
 * names, only the five predefined entities and numeric references, balanced tags, one root, closed comments, CDATA
 * and PIs.
 *
 * The policy, the same for every caller:
 * - any DOCTYPE, ENTITY or other `<!` declaration is refused ({@link XmlDeclarationError}): no DTD, no entity
 *   expansion, no billion laughs, no external entities;
 * - a reference to anything but the five predefined entities and numeric character references is refused
 *   ({@link XmlEntityRefError});
 * - one size cap ({@link XmlReadOptions.maxLength}, default {@link XML_DEFAULTS}) checked before reading, one depth
 *   cap ({@link XmlReadOptions.maxDepth}) and one element-count cap ({@link XmlReadOptions.maxElements}); each is
 *   configurable per call, the defaults are the policy.
 * Elements deeper than `keepDepth` are checked but not kept, so memory stays bounded by what the caller asked for.
 * Pure: no `node:` import, no dependency; runs in browsers.
 */

/** The default limits of {@link readXmlDocument} and {@link readXmlFragment}. */
export const XML_DEFAULTS = {
  /** Largest document, in UTF-16 code units (characters); GenICam files of large cameras reach a few MiB. */
  maxLength: 16 * 1024 * 1024,
  /** Deepest element nesting. */
  maxDepth: 64,
  /** Most elements kept. */
  maxElements: 100_000,
} as const;

/** A `<!DOCTYPE`, `<!ENTITY` or other markup declaration: refused, never expanded. */
export class XmlDeclarationError extends MalformedError {
  static override readonly errorName: string = 'XmlDeclarationError';
}

/** A reference to an entity other than the five predefined ones: refused, never expanded. */
export class XmlEntityRefError extends MalformedError {
  static override readonly errorName: string = 'XmlEntityRefError';
  /** The entity's name. */
  readonly entity: string;

  constructor(offset: number, entity: string) {
    super(offset, `XML: unknown entity "&${shown(entity)};" (only the predefined five and character references)`);
    this.entity = entity;
  }
}

/** One element: name, attributes (values unescaped), kept children, and where its content lies in the source. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Offset of the `<` of its start tag. */
  start: number;
  /** Offset after the `>` that ends it (its end tag, or its start tag when empty `<a/>`). */
  end: number;
  /** Source offsets of its content (between `>` and `</`); equal for an empty element. */
  contentStart: number;
  contentEnd: number;
}

export interface XmlReadOptions {
  /** Elements at this depth or deeper are checked but not kept in `children` (default: keep all). */
  keepDepth?: number;
  /** Most elements kept (default {@link XML_DEFAULTS}); more -> FrameTooLargeError. */
  maxElements?: number;
  /** Deepest nesting accepted (default {@link XML_DEFAULTS}); deeper -> MalformedError. */
  maxDepth?: number;
  /** Longest input in characters (default {@link XML_DEFAULTS}); longer -> FrameTooLargeError before reading. */
  maxLength?: number;
}

const MAX_NAME_IN_MESSAGE = 40;

function shown(name: string): string {
  return name.length > MAX_NAME_IN_MESSAGE ? `${name.slice(0, MAX_NAME_IN_MESSAGE)}…` : name;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0xc0;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Resolves the five predefined entities and numeric references in `s[from, to)`; anything else after `&` is a
 * MalformedError (offsets are into `s`).
 */
export function unescapeXml(s: string, from = 0, to = s.length): string {
  let amp = indexIn(s, 0x26, from, to);
  if (amp < 0) return s.slice(from, to);
  let out = '';
  let i = from;
  while (amp >= 0) {
    out += s.slice(i, amp);
    const semi = indexIn(s, 0x3b, amp + 1, Math.min(to, amp + 11));
    if (semi < 0) throw new MalformedError(amp, 'XML: "&" that starts no reference');
    const ref = s.slice(amp + 1, semi);
    const named = PREDEFINED[ref];
    if (named !== undefined) out += named;
    else if (ref.charCodeAt(0) === 0x23 /* # */) {
      const hex = ref.charCodeAt(1) === 0x78; /* x */
      const digits = ref.slice(hex ? 2 : 1);
      let cp = 0;
      for (let k = 0; k < digits.length; k++) {
        const d = hexDigit(digits.charCodeAt(k));
        if (d < 0 || (!hex && d > 9)) throw new MalformedError(amp, 'XML: bad character reference');
        cp = cp * (hex ? 16 : 10) + d;
      }
      if (digits.length === 0 || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw new MalformedError(amp, 'XML: character reference out of range');
      }
      out += String.fromCodePoint(cp);
    } else throw new XmlEntityRefError(amp, ref);
    i = semi + 1;
    amp = indexIn(s, 0x26, i, to);
  }
  return out + s.slice(i, to);
}

/**
 * The first `c` in `s[from, to)`, or -1. Unlike `indexOf` it never looks past `to`: searching the rest of a 2 MiB
 * document for each of its 200 000 elements is what makes a reader quadratic.
 */
function indexIn(s: string, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === c) return i;
  return -1;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Checks character data: no `<` (callers stop there) and every `&` a valid reference. */
function checkText(s: string, from: number, to: number): void {
  let amp = indexIn(s, 0x26, from, to);
  while (amp >= 0) {
    const semi = indexIn(s, 0x3b, amp + 1, Math.min(to, amp + 11));
    if (semi < 0) throw new MalformedError(amp, 'XML: "&" that starts no reference');
    // The common named references are checked without building a string.
    const len = semi - amp - 1;
    const known =
      (len === 3 && s.startsWith('amp', amp + 1)) ||
      (len === 2 && (s.startsWith('lt', amp + 1) || s.startsWith('gt', amp + 1))) ||
      (len === 4 && (s.startsWith('quot', amp + 1) || s.startsWith('apos', amp + 1)));
    if (!known) unescapeXml(s, amp, semi + 1);
    amp = indexIn(s, 0x26, semi + 1, to);
  }
}

class Reader {
  i = 0;
  kept = 0;
  constructor(
    readonly s: string,
    readonly keepDepth: number,
    readonly maxElements: number,
    readonly maxDepth: number,
  ) {}

  fail(message: string, at = this.i): never {
    throw new MalformedError(at, `XML is not well-formed: ${message}`);
  }

  name(): string {
    const s = this.s;
    const a = this.i;
    if (a >= s.length || !isNameStart(s.charCodeAt(a))) this.fail('a name was expected');
    let j = a + 1;
    while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
    this.i = j;
    return s.slice(a, j);
  }

  spaces(): number {
    const a = this.i;
    while (this.i < this.s.length && isSpace(this.s.charCodeAt(this.i))) this.i++;
    return this.i - a;
  }

  /** Skips `<!--…-->`, `<?…?>`; rejects DOCTYPE/ENTITY; returns false when not at one of those. */
  misc(inContent: boolean): boolean {
    const s = this.s;
    const i = this.i;
    if (s.startsWith('<!--', i)) {
      const k = s.indexOf('-->', i + 4);
      if (k < 0) this.fail('comment not closed', i);
      this.i = k + 3;
      return true;
    }
    if (s.startsWith('<?', i)) {
      const k = s.indexOf('?>', i + 2);
      if (k < 0) this.fail('processing instruction not closed', i);
      this.i = k + 2;
      return true;
    }
    if (inContent && s.startsWith('<![CDATA[', i)) {
      const k = s.indexOf(']]>', i + 9);
      if (k < 0) this.fail('CDATA section not closed', i);
      this.i = k + 3;
      return true;
    }
    if (s.startsWith('<!', i)) {
      throw new XmlDeclarationError(
        i,
        'XML: a DOCTYPE or ENTITY declaration (any <! declaration) is refused, never expanded',
      );
    }
    return false;
  }

  /** Reads one element starting at `<` (iteratively: depth never grows the JS stack). */
  element(depth0: number): XmlElement {
    const s = this.s;
    const stack: { el: XmlElement | null; name: string }[] = [];
    let root: XmlElement | null = null;
    for (;;) {
      // At '<' of a start tag.
      const lt = this.i;
      this.i++;
      const name = this.name();
      const depth = depth0 + stack.length;
      if (stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, lt);
      const keep = depth < this.keepDepth;
      const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
      let selfClosing = false;
      for (;;) {
        const sp = this.spaces();
        const c = s.charCodeAt(this.i);
        if (c === 0x3e /* > */) {
          this.i++;
          break;
        }
        if (c === 0x2f /* / */) {
          if (s.charCodeAt(this.i + 1) !== 0x3e) this.fail(`"/" not followed by ">" in <${shown(name)}>`);
          this.i += 2;
          selfClosing = true;
          break;
        }
        if (this.i >= s.length) this.fail(`start tag <${shown(name)}> not closed`, lt);
        if (sp === 0) this.fail(`space expected before an attribute of <${shown(name)}>`);
        const at = this.i;
        const an = this.name();
        this.spaces();
        if (s.charCodeAt(this.i) !== 0x3d /* = */) this.fail(`attribute ${shown(an)} has no "=value"`);
        this.i++;
        this.spaces();
        const q = s.charCodeAt(this.i);
        if (q !== 0x22 && q !== 0x27) this.fail(`attribute ${shown(an)} value is not quoted`);
        const end = s.indexOf(q === 0x22 ? '"' : "'", this.i + 1);
        if (end < 0) this.fail(`attribute ${shown(an)} value not closed`);
        const lt2 = indexIn(s, 0x3c, this.i + 1, end);
        if (lt2 >= 0) this.fail(`"<" in the value of attribute ${shown(an)}`, lt2);
        if (an in attributes) this.fail(`attribute ${shown(an)} repeated`, at);
        const value = unescapeXml(s, this.i + 1, end);
        if (keep) attributes[an] = value;
        else attributes[an] = '';
        this.i = end + 1;
      }
      let el: XmlElement | null = null;
      if (keep) {
        if (++this.kept > this.maxElements) {
          throw new FrameTooLargeError(this.kept, this.maxElements, 'XML elements');
        }
        el = { name, attributes, children: [], start: lt, end: this.i, contentStart: this.i, contentEnd: this.i };
        const parent = stack.at(-1)?.el;
        if (parent) parent.children.push(el);
        root ??= el;
      } else if (stack.length === 0) {
        // The caller always keeps depth0 (keepDepth > depth0); this is for type safety.
        el = { name, attributes, children: [], start: lt, end: this.i, contentStart: this.i, contentEnd: this.i };
        root ??= el;
      }
      if (!selfClosing) stack.push({ el, name });
      // Content until the next start tag, or end tags that close elements.
      for (;;) {
        if (stack.length === 0) return root!;
        const lt3 = s.indexOf('<', this.i);
        if (lt3 < 0) this.fail(`<${shown(stack.at(-1)!.name)}> not closed`, this.s.length);
        checkText(s, this.i, lt3);
        this.i = lt3;
        if (s.startsWith('</', lt3)) {
          this.i = lt3 + 2;
          const en = this.name();
          this.spaces();
          if (s.charCodeAt(this.i) !== 0x3e) this.fail(`end tag </${shown(en)}> not closed`, lt3);
          this.i++;
          const top = stack.pop()!;
          if (top.name !== en) this.fail(`</${shown(en)}> closes <${shown(top.name)}>`, lt3);
          if (top.el) {
            top.el.contentEnd = lt3;
            top.el.end = this.i;
          }
          continue;
        }
        if (this.misc(true)) continue;
        break; // another start tag
      }
    }
  }
}

function reader(s: string, options: XmlReadOptions): Reader {
  const maxLength = options.maxLength ?? XML_DEFAULTS.maxLength;
  if (s.length > maxLength) throw new FrameTooLargeError(s.length, maxLength, 'XML document (characters)');
  return new Reader(
    s,
    options.keepDepth ?? Number.POSITIVE_INFINITY,
    options.maxElements ?? XML_DEFAULTS.maxElements,
    options.maxDepth ?? XML_DEFAULTS.maxDepth,
  );
}

/**
 * Reads a whole document: an optional declaration, comments and PIs, exactly one root element, then only comments,
 * PIs and white space. A leading byte-order mark is skipped.
 */
export function readXmlDocument(s: string, options: XmlReadOptions = {}): XmlElement {
  const r = reader(s, { ...options, keepDepth: Math.max(1, options.keepDepth ?? Number.POSITIVE_INFINITY) });
  if (s.charCodeAt(0) === 0xfeff) r.i = 1;
  for (;;) {
    r.spaces();
    if (r.i >= s.length) r.fail('no root element');
    if (s.charCodeAt(r.i) !== 0x3c) r.fail('text outside the root element');
    if (!r.misc(false)) break;
  }
  const root = r.element(0);
  for (;;) {
    r.spaces();
    if (r.i >= s.length) return root;
    if (s.charCodeAt(r.i) !== 0x3c || !r.misc(false)) r.fail('content after the root element');
  }
}

/**
 * Reads element content (a body): text, CDATA, comments and any number of elements; returns the top-level elements.
 * The same checks as a document, without the one-root rule.
 */
export function readXmlFragment(s: string, options: XmlReadOptions = {}): XmlElement[] {
  const r = reader(s, options);
  const out: XmlElement[] = [];
  const keepTop = (options.keepDepth ?? Number.POSITIVE_INFINITY) > 0;
  for (;;) {
    const lt = s.indexOf('<', r.i);
    checkText(s, r.i, lt < 0 ? s.length : lt);
    if (lt < 0) return out;
    r.i = lt;
    if (s.startsWith('</', lt)) r.fail('end tag without a start tag', lt);
    if (r.misc(true)) continue;
    const el = r.element(0);
    if (keepTop) out.push(el);
  }
}

/** The text content of an element (CDATA kept verbatim, references resolved, child elements' text included). */
export function elementText(source: string, el: XmlElement): string {
  return textIn(source, el.contentStart, el.contentEnd);
}

/**
 * The character data directly inside an element, its children's text left out (CDATA kept verbatim, references
 * resolved). The element's children must have been kept (read without a `keepDepth` that cuts them).
 */
export function ownText(source: string, el: XmlElement): string {
  if (el.children.length === 0) return textIn(source, el.contentStart, el.contentEnd);
  let out = '';
  let i = el.contentStart;
  for (const child of el.children) {
    out += textIn(source, i, child.start);
    i = child.end;
  }
  return out + textIn(source, i, el.contentEnd);
}

/** Text of `source[from, end)`: references resolved, CDATA verbatim, comments, PIs and tags skipped. */
function textIn(source: string, from: number, end: number): string {
  let out = '';
  let i = from;
  while (i < end) {
    const lt = source.indexOf('<', i);
    const stop = lt < 0 || lt > end ? end : lt;
    out += unescapeXml(source, i, stop);
    if (stop === end) break;
    if (source.startsWith('<![CDATA[', stop)) {
      const k = source.indexOf(']]>', stop + 9);
      out += source.slice(stop + 9, k);
      i = k + 3;
    } else if (source.startsWith('<!--', stop)) i = source.indexOf('-->', stop + 4) + 3;
    else if (source.startsWith('<?', stop)) i = source.indexOf('?>', stop + 2) + 2;
    else i = tagEnd(source, stop + 1); // tags: their text is read as we go
  }
  return out;
}

/** Offset after the `>` that ends the tag starting before `from` (quoted attribute values may hold `>`). */
function tagEnd(s: string, from: number): number {
  let i = from;
  for (;;) {
    const c = s.charCodeAt(i);
    if (Number.isNaN(c)) return s.length;
    if (c === 0x3e) return i + 1;
    if (c === 0x22 || c === 0x27) {
      const k = s.indexOf(c === 0x22 ? '"' : "'", i + 1);
      if (k < 0) return s.length;
      i = k + 1;
    } else i++;
  }
}

/** Depth-first: the first element named `name` among `elements` and their kept descendants. */
export function findElement(elements: readonly XmlElement[], name: string): XmlElement | undefined {
  const stack = [...elements].reverse();
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.name === name) return e;
    for (let k = e.children.length - 1; k >= 0; k--) stack.push(e.children[k]!);
  }
  return undefined;
}
