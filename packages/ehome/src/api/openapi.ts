/** The OpenAPI 3.1 description of {@link EhomeHttpApi}, served at `GET /api/openapi.json`. */

const error = { $ref: '#/components/responses/Error' };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'DeviceID' };
const q = (name: string, description: string, type = 'string') => ({
  name,
  in: 'query',
  required: false,
  schema: { type },
  description,
});
const range = [
  q('from', 'start: ISO 8601, epoch ms or YYYY-MM-DD HH:MM:SS (device time as UTC)'),
  q('to', 'end, same forms'),
];
const ok = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = { 400: error, 404: error, 409: error, 502: error, 504: error };

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: '@cam/ehome platform API',
      version: '1',
      description:
        'Devices, commands, live media and events of an EHome platform. Errors are {"error":{"code","message"}} with a stable code.',
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/api/devices': {
        get: {
          summary: 'Devices seen since start',
          responses: { 200: ok('devices', { type: 'array', items: { $ref: '#/components/schemas/Device' } }) },
        },
      },
      '/api/devices/{id}': {
        get: {
          parameters: [id],
          responses: { 200: ok('device', { $ref: '#/components/schemas/Device' }), 404: error },
        },
      },
      '/api/devices/{id}/capture': {
        post: {
          summary: 'Take and store a picture',
          parameters: [id],
          requestBody: {
            content: {
              'application/json': { schema: { type: 'object', properties: { channel: { type: 'integer' } } } },
            },
          },
          responses: {
            200: ok('picture', {
              type: 'object',
              properties: { picId: { type: 'string' }, size: { type: 'integer' }, url: { type: 'string' } },
            }),
            ...errors,
          },
        },
      },
      '/api/devices/{id}/ptz': {
        post: {
          parameters: [id],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['command'],
                  properties: {
                    command: { type: 'string' },
                    action: { enum: ['Start', 'Stop'] },
                    speed: { type: 'integer', minimum: 1, maximum: 7 },
                    channel: { type: 'integer' },
                  },
                },
              },
            },
          },
          responses: { 200: ok('done'), ...errors },
        },
      },
      '/api/devices/{id}/config/{name}': {
        get: {
          parameters: [id, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: ok('ConfigXML as a JSON tree'), ...errors },
        },
        put: {
          parameters: [id, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { 200: ok('done'), ...errors },
        },
      },
      '/api/devices/{id}/reboot': { post: { parameters: [id], responses: { 202: ok('accepted'), ...errors } } },
      '/api/devices/{id}/upgrade': {
        post: {
          parameters: [id],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['url'],
                  properties: {
                    url: { type: 'string' },
                    sha256: { type: 'string' },
                    version: { type: 'string' },
                    fileSize: { type: 'integer' },
                  },
                },
              },
            },
          },
          responses: { 200: ok('final UPGRADESTATUS report'), ...errors },
        },
      },
      '/api/devices/{id}/records': {
        get: {
          parameters: [id, ...range, q('channel', 'channel', 'integer')],
          responses: { 200: ok('recordings', { type: 'array' }), ...errors },
        },
      },
      '/api/devices/{id}/commands': {
        get: {
          summary: 'Command history of the device, newest first (command, status, durationMs, error)',
          parameters: [id, q('limit', '1..1000 (default 100)', 'integer')],
          responses: { 200: ok('commands', { type: 'array' }), ...errors },
        },
      },
      '/api/devices/{id}/preview': {
        get: {
          summary: 'Live video as a chunked body: H.264 Annex B, or fragmented MP4 (one segment per frame)',
          parameters: [
            id,
            q('seconds', 'duration (default 10)', 'integer'),
            q('channel', 'channel', 'integer'),
            q('stream', 'main|sub|third'),
            q('format', 'h264 (default) or mp4'),
          ],
          responses: {
            200: { description: 'H.264 or fMP4', content: { 'video/h264': {}, 'video/mp4': {} } },
            ...errors,
          },
        },
      },
      '/api/devices/{id}/playback': {
        get: {
          parameters: [
            id,
            ...range,
            q('seconds', 'longest duration', 'integer'),
            q('channel', 'channel', 'integer'),
            q('format', 'h264 (default) or mp4 (one segment per GOP)'),
          ],
          responses: {
            200: { description: 'H.264 or fMP4', content: { 'video/h264': {}, 'video/mp4': {} } },
            ...errors,
          },
        },
      },
      '/api/devices/{id}/download': {
        get: {
          parameters: [id, q('file', 'recording name (or from/to)'), ...range, q('channel', 'channel', 'integer')],
          responses: { 200: { description: 'MPEG-PS', content: { 'video/mp2p': {} } }, ...errors },
        },
      },
      '/api/events': {
        get: {
          summary: 'Events, oldest first, paged by `after`',
          parameters: [
            q('type', 'event type'),
            q('device', 'DeviceID'),
            ...range,
            q('after', 'id of the last event seen', 'integer'),
            q('limit', '1..1000 (default 100)', 'integer'),
          ],
          responses: {
            200: ok('a page', {
              type: 'object',
              properties: { events: { type: 'array' }, next: { type: ['integer', 'null'] } },
            }),
            400: error,
          },
        },
      },
      '/api/events/stream': {
        get: {
          summary: 'Live events (Server-Sent Events)',
          parameters: [q('type', 'event type'), q('device', 'DeviceID')],
          responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': {} } }, 503: error },
        },
      },
      '/api/pictures/{id}': {
        get: {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: error },
        },
      },
      '/api/openapi.json': { get: { responses: { 200: ok('this document') } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Device: {
          type: 'object',
          properties: {
            deviceId: { type: 'string' },
            online: { type: 'boolean' },
            address: { type: 'string' },
            port: { type: 'integer' },
            firmware: { type: 'string' },
            version: { type: 'string' },
            lastSeen: { type: 'string', format: 'date-time' },
            registeredAt: { type: 'string', format: 'date-time' },
          },
        },
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
      responses: {
        Error: {
          description: 'error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
