/**
 * A real, decodable 8x8 grey baseline JPEG with a comment segment (so each capture is distinct). The Huffman
 * tables hold a single one-bit code each (DC category 0, AC end-of-block), so the whole scan is one byte; it
 * decodes to a uniform mid-grey block. Enough for a simulated camera's pictures to be accepted by any decoder.
 */
export function syntheticJpeg(comment: string): Uint8Array {
  const text = new TextEncoder().encode(comment.slice(0, 512));
  const parts: number[] = [0xff, 0xd8];
  // APP0 JFIF 1.1, no density, no thumbnail
  parts.push(
    0xff,
    0xe0,
    0x00,
    0x10,
    0x4a,
    0x46,
    0x49,
    0x46,
    0x00,
    0x01,
    0x01,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
  );
  // COM
  const comLen = text.length + 2;
  parts.push(0xff, 0xfe, comLen >> 8, comLen & 0xff, ...text);
  // DQT: table 0, 8-bit, all ones
  parts.push(0xff, 0xdb, 0x00, 0x43, 0x00, ...new Array<number>(64).fill(1));
  // SOF0: 8-bit, 8x8, one component (id 1, 1x1 sampling, table 0)
  parts.push(0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00);
  // DHT: DC table 0 and AC table 0, each a single code of length 1 for symbol 0x00
  const counts = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  parts.push(0xff, 0xc4, 0x00, 0x14, 0x00, ...counts, 0x00);
  parts.push(0xff, 0xc4, 0x00, 0x14, 0x10, ...counts, 0x00);
  // SOS: one component, tables 0/0, spectral 0..63
  parts.push(0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00);
  // Scan: DC "0" (difference 0), AC "0" (EOB), padded with ones
  parts.push(0x3f);
  parts.push(0xff, 0xd9);
  return Uint8Array.from(parts);
}
