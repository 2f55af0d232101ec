// ESM entry point of sfcrm: the same objects as the CommonJS entry (lib/index.js).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sfcrm = require('./index.js');

export const {
  Client,
  Config,
  MemoryStore,
  FileStore,
  SealedStore,
  ExportIterator,
  paginator,
  version,
  errorKinds,
  convertError,
  SfcrmError,
  InvalidArgumentError,
  ConfigError,
  MissingForwardUrlError,
  ForwardUrlNotAllowedError,
  UnknownExportTypeError,
  InvalidIdentifierError,
  InvalidStateError,
  NotConnectedError,
  OAuthError,
  ReconnectRequiredError,
  SessionExpiredError,
  RateLimitedError,
  ApiError,
  ProtocolError,
  NetworkError,
  TimeoutError,
  StoreError,
  StoreConflictError,
  IoError,
  CancelledError,
  InternalError,
} = sfcrm;
export default sfcrm;
