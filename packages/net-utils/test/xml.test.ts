import { describe, expect, it } from 'vitest';
import {
  elementText,
  FrameTooLargeError,
  MalformedError,
  ownText,
  readXmlDocument,
  XML_DEFAULTS,
  XmlDeclarationError,
  XmlEntityRefError,
} from '../src/wire.js';

/**
 * The one XML policy of @cam (issue #15): DTDs and entity declarations refused, only the predefined entities and
 * character references, one size cap, one depth cap, one element cap, each configurable per call. GenICam, EHome and
 * the Huidu SDK all read XML through this reader; their own tests check their wrappers.
 */
const nest = (depth: number): string => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;

describe('the wire XML policy', () => {
  it('refuses any DOCTYPE or ENTITY declaration without expanding it', () => {
    const lol = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;">]><r>&l2;</r>';
    expect(() => readXmlDocument(lol)).toThrow(XmlDeclarationError);
    expect(() => readXmlDocument('<r><!ENTITY x SYSTEM "file:///etc/passwd"></r>')).toThrow(XmlDeclarationError);
    expect(XmlDeclarationError.isInstance(catchError(() => readXmlDocument(lol)))).toBe(true);
    expect(MalformedError.isInstance(catchError(() => readXmlDocument(lol)))).toBe(true);
  });

  it('resolves the five predefined entities and character references, refuses any other reference', () => {
    const root = readXmlDocument('<r a="&quot;x&apos;">&lt;&gt;&amp;&#65;&#x42;</r>');
    expect(root.attributes.a).toBe(`"x'`);
    expect(elementText('<r a="&quot;x&apos;">&lt;&gt;&amp;&#65;&#x42;</r>', root)).toBe('<>&AB');
    const e = catchError(() => readXmlDocument('<r>&xxe;</r>'));
    expect(XmlEntityRefError.isInstance(e)).toBe(true);
    expect((e as XmlEntityRefError).entity).toBe('xxe');
  });

  it('caps the size before reading, by default and per call', () => {
    expect(() => readXmlDocument(`<r>${'x'.repeat(100)}</r>`, { maxLength: 50 })).toThrow(FrameTooLargeError);
    const big = `<r>${' '.repeat(XML_DEFAULTS.maxLength)}</r>`;
    expect(() => readXmlDocument(big)).toThrow(FrameTooLargeError);
    expect(readXmlDocument(big, { maxLength: big.length }).name).toBe('r');
  });

  it('caps the depth, by default and per call', () => {
    expect(readXmlDocument(nest(XML_DEFAULTS.maxDepth)).name).toBe('a');
    expect(() => readXmlDocument(nest(XML_DEFAULTS.maxDepth + 1))).toThrow(/deeper than 64/);
    expect(() => readXmlDocument(nest(13), { maxDepth: 12 })).toThrow(MalformedError);
    expect(readXmlDocument(nest(200), { maxDepth: 200 }).name).toBe('a');
  });

  it('caps the number of elements kept', () => {
    expect(() => readXmlDocument(`<r>${'<e/>'.repeat(10)}</r>`, { maxElements: 10 })).toThrow(FrameTooLargeError);
    expect(readXmlDocument(`<r>${'<e/>'.repeat(9)}</r>`, { maxElements: 10 }).children).toHaveLength(9);
  });

  it('tells own text from descendants text, and where each element ends', () => {
    const src = '<r> a <b>in b</b><!-- c --> z<![CDATA[<y>]]><e/></r>';
    const root = readXmlDocument(src);
    expect(ownText(src, root)).toBe(' a  z<y>');
    expect(elementText(src, root)).toBe(' a in b z<y>');
    const [b, e] = root.children;
    expect(src.slice(b!.start, b!.end)).toBe('<b>in b</b>');
    expect(src.slice(e!.start, e!.end)).toBe('<e/>');
    expect(root.end).toBe(src.length);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
