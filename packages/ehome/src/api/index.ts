export {
  type ApiDevice,
  ApiError,
  type ApiErrorCode,
  ApiErrorCodes,
  DEFAULT_API_PORT,
  EhomeHttpApi,
  type EhomeHttpApiOptions,
} from './http-api.js';
export { openApiDocument } from './openapi.js';
