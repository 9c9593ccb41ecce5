import { MemoryPort, NodeMap, type NodeMapOptions } from '../src/index.js';

/** Wraps node XML in a RegisterDescription with a Port named Device. */
export function doc(body: string, schema: '1.0' | '1.1' = '1.1'): string {
  const [major, minor] = schema.split('.');
  return `<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription ModelName="Test" VendorName="cam" SchemaMajorVersion="${major}" SchemaMinorVersion="${minor}"
  SchemaSubMinorVersion="0" xmlns="http://www.genicam.org/GenApi/Version_${major}_${minor}">
${body}
<Port Name="Device"/>
</RegisterDescription>`;
}

/** A map over `body` with a fresh 4 KiB in-memory port. */
export async function mapOf(
  body: string,
  options: NodeMapOptions & { schema?: '1.0' | '1.1'; size?: number } = {},
): Promise<{ map: NodeMap; port: MemoryPort }> {
  const port = new MemoryPort(options.size ?? 4096);
  const map = await NodeMap.load(doc(body, options.schema), port, options);
  return { map, port };
}

/** An IntReg at `address` (hex string), 4 bytes unless given. */
export function intReg(name: string, address: number, extra = '', length = 4): string {
  return `<IntReg Name="${name}"><Address>0x${address.toString(16)}</Address><Length>${length}</Length>
    <AccessMode>RW</AccessMode><pPort>Device</pPort>${extra}</IntReg>`;
}
