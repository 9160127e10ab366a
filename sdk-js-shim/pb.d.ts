// Types of the PocketBase JS hook API as implemented by PocketBun's JS runtime (pb.js).
// Reference it from a hook file with: /// <reference path="../sdk-js-shim/pb.d.ts" />
// Only what is implemented is declared; see shared/spec/hooks-js-api.md for the full API.

declare class ApiError extends Error {
  constructor(status?: number, message?: string, data?: Record<string, any>);
  status: number;
  data: Record<string, any>;
  toJSON(): { data: Record<string, any>; message: string; status: number };
}
declare class BadRequestError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class UnauthorizedError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class ForbiddenError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class NotFoundError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class TooManyRequestsError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class InternalServerError extends ApiError { constructor(message?: string, data?: Record<string, any>); }
declare class ValidationError { constructor(code: string, message: string); code: string; message: string; }

declare class Collection {
  constructor(data?: Record<string, any>);
  id: string;
  name: string;
  type: "base" | "auth" | "view";
  fields: Array<Record<string, any>>;
  [key: string]: any;
  isAuth(): boolean;
  isBase(): boolean;
  isView(): boolean;
  pk(): string;
  lastSavedPK(): string;
  baseFilesPath(): string;
}

declare class Record {
  constructor(collection: Collection | string, data?: { [field: string]: any });
  id: string;
  collection(): Collection;
  isNew(): boolean;
  get(field: string): any;
  set(field: string, value: any): void;
  load(data: { [field: string]: any }): void;
  getString(field: string): string;
  getInt(field: string): number;
  getInt64(field: string): number;
  getFloat(field: string): number;
  getBool(field: string): boolean;
  getStringSlice(field: string): string[];
  email(): string;
  setEmail(email: string): void;
  verified(): boolean;
  setVerified(v: boolean): void;
  setPassword(password: string): void;
  isSuperuser(): boolean;
  fieldsData(): { [field: string]: any };
  /** The API view (hidden fields and a non-visible email left out; the expand as the expanded
   * records' API views). Used by JSON.stringify. */
  publicExport(): { [field: string]: any };
  /** Leaves fields out of the API response (in `onRecordEnrich`). */
  hide(...fields: string[]): Record;
  unhide(...fields: string[]): Record;
  /** Accepted for compatibility: every key set on a record is exported. */
  withCustomData(on: boolean): Record;
  /** The record as it was when the hook started. */
  original(): Record;
  expand(): { [relation: string]: any };
  setExpand(expand: { [relation: string]: any }): void;
  // record.js
  /** A copy: same collection, values, expand and new/stored state. */
  clone(): Record;
  /** A copy with the field values only (no expand, no unsaved password). */
  fresh(): Record;
  getRaw(field: string): any;
  setRaw(field: string, value: any): void;
  /** Sets the value only when the collection has the field; returns the field or null. */
  setIfFieldExists(field: string, value: any): any;
  /** The zero DateTime for an empty value. */
  getDateTime(field: string): DateTime;
  getGeoPoint(field: string): { lon: number; lat: number };
  unmarshalJSONField(field: string, target: object): object;
  emailVisibility(): boolean;
  setEmailVisibility(v: boolean): void;
  /** Sets a random 30 characters password and returns it. */
  setRandomPassword(): string;
  pk(): string;
  lastSavedPK(): string;
  markAsNew(): void;
  markAsNotNew(): void;
  baseFilesPath(): string;
  expandedOne(relation: string): Record | null;
  expandedAll(relation: string): Record[];
  mergeExpand(expand: { [relation: string]: Record | Record[] }): void;
  /** The email in the API view regardless of emailVisibility. */
  ignoreEmailVisibility(on: boolean): void;
  /** Values set on the record that are not fields of its collection. */
  customData(): { [key: string]: any };
  /** The tags its hooks fire with: [collection name, collection id]. */
  hookTags(): string[];
  // auth.js (stored auth records; tokens are the API's)
  newAuthToken(): string;
  /** Not refreshable; `durationNs` 0 = the collection's auth token duration. */
  newStaticAuthToken(durationNs: number): string;
  newFileToken(): string;
  newVerificationToken(): string;
  newPasswordResetToken(): string;
  newEmailChangeToken(newEmail: string): string;
  /** A new random token key (saved with the record): the tokens issued before stop working. */
  refreshTokenKey(): void;
  setTokenKey(key: string): void;
  /** Only a key set on this object (stored keys are not handed to plugins). */
  tokenKey(): string;
  /** Checks an unsaved `setPassword` value, else the stored hash. */
  validatePassword(password: string): boolean;
}

/** PocketBase's types.DateTime (UTC; text "2006-01-02 15:04:05.000Z"). `new DateTime()` and
 * `new DateTime("")` are now. Durations are Go's (nanoseconds). */
declare class DateTime {
  constructor(value?: string | number | Date | DateTime);
  isZero(): boolean;
  unix(): number;
  string(): string;
  time(): Date;
  add(ns: number): DateTime;
  sub(other: DateTime): number;
  addDate(years: number, months: number, days: number): DateTime;
  after(other: DateTime): boolean;
  before(other: DateTime): boolean;
  equal(other: DateTime): boolean;
  compare(other: DateTime): number;
}

declare class Middleware {
  constructor(fn: (e: RequestEvent) => any, priority?: number, id?: string);
}

interface QueryValues {
  get(key: string): string;
  has(key: string): boolean;
  values(key: string): string[];
}

interface RequestInfo {
  auth: Record | null;
  body: { [key: string]: any };
  query: { [key: string]: string };
  /** lower-case, snake_case names */
  headers: { [key: string]: string };
  method: string;
  context: string;
}

interface RequestEvent {
  app: typeof $app;
  request: {
    method: string;
    host: string;
    remoteAddr: string;
    url: { path: string; rawQuery: string; query(): QueryValues; string(): string };
    header: {
      get(name: string): string;
      values(name: string): string[];
      /** in a routerUse middleware before `e.next()`: changes the request the handler gets */
      set(name: string, value: string): void;
      add(name: string, value: string): void;
      del(name: string): void;
    };
    pathValue(name: string): string;
  };
  response: { header(): { set(k: string, v: string): void; add(k: string, v: string): void; get(k: string): string } };
  auth: Record | null;
  hasSuperuserAuth(): boolean;
  realIP(): string;
  remoteIP(): string;
  requestInfo(): RequestInfo;
  /** The body (JSON or form) into an object, or into a DynamicModel's own keys (typed like its shape). */
  bindBody<T extends object>(target: T): T;
  /** Adds a Set-Cookie header (Go's Cookie.String()). */
  setCookie(cookie: Cookie | Partial<Cookie>): void;
  /** Always false: PocketBun serves plain HTTP (TLS ends at a proxy). */
  isTLS(): boolean;
  getAll(): { [key: string]: any };
  setAll(values: { [key: string]: any }): void;
  written(): boolean;
  /** The response status once written (0 before); in a routerUse middleware after `e.next()`: the handler's. */
  status(): number;
  json(status: number, data: any): void;
  string(status: number, text: string): void;
  html(status: number, html: string): void;
  xml(status: number, xml: string): void;
  blob(status: number, contentType: string, bytes: number[] | string): void;
  noContent(status?: number): void;
  redirect(status: number, url: string): void;
  badRequestError(message?: string, data?: any): ApiError;
  notFoundError(message?: string, data?: any): ApiError;
  forbiddenError(message?: string, data?: any): ApiError;
  unauthorizedError(message?: string, data?: any): ApiError;
  tooManyRequestsError(message?: string, data?: any): ApiError;
  internalServerError(message?: string, data?: any): ApiError;
  error(status: number, message?: string, data?: any): ApiError;
  get(key: string): any;
  set(key: string, value: any): void;
  next(): any;
}

interface DbQuery {
  /** `{:name}` placeholders are bound parameters; `{{table}}` / `[[column]]` are quoted. */
  bind(params: { [name: string]: any }): DbQuery;
  execute(): { rowsAffected(): number; lastInsertId(): number };
  /** Fills `target` (e.g. `arrayOf(new DynamicModel({...}))`, rows converted to the shape). */
  all(target?: any[]): Array<{ [column: string]: any }>;
  /** Throws "sql: no rows in result set" when there is no row. */
  one(target?: object): { [column: string]: any };
}

declare const $app: App;

declare const $apis: {
  requireAuth(...collections: string[]): (e: RequestEvent) => any;
  requireSuperuserAuth(): (e: RequestEvent) => any;
  requireGuestOnly(): (e: RequestEvent) => any;
  /** Superusers, or the auth record whose id is the path parameter (default `id`). */
  requireSuperuserOrOwnerAuth(ownerIdPathParam?: string): (e: RequestEvent) => any;
  /** Prepares records for `e.json` as the request's requester sees them: `?expand` plus
   * `defaultExpands` with the view rules, email and hidden fields per requester
   * (PocketBun does not run onRecordEnrich here). */
  enrichRecord(e: RequestEvent, record: Record, ...defaultExpands: string[]): void;
  enrichRecords(e: RequestEvent, records: Record[], ...defaultExpands: string[]): void;
  /** Answers `{token, record, meta?}` like a sign-in. PocketBun skips the API's extra sign-in
   * steps (authRule, MFA, auth alerts, onRecordAuthRequest, expand). */
  recordAuthResponse(e: RequestEvent, record: Record, authMethod: string, meta?: any): void;
  /** Accepted for compatibility (a pass-through). */
  skipSuccessActivityLog(): (e: RequestEvent) => any;
};

declare function routerAdd(
  method: string,
  path: string,
  handler: (e: RequestEvent) => any,
  ...middlewares: Array<((e: RequestEvent) => any) | Middleware>
): void;

/** Global middlewares around every request (built-in APIs, static files, routes); lower
 * priorities run first. A middleware may answer itself, throw, or call `e.next()`. */
declare function routerUse(...middlewares: Array<((e: RequestEvent) => any) | Middleware>): void;

/** Every hook handler gets `e.next()`: call it to run the remaining handlers and the default
 * action; not calling it stops the chain; throwing aborts with that error. `tags` are
 * collection names or ids (none = every collection). */
interface HookEvent { app: typeof $app; next(): void; }
type Hook<E> = (handler: (e: E) => any, ...tags: string[]) => void;

interface RecordModelEvent extends HookEvent { record: Record; type: "create" | "update" | "delete"; context: string; }
interface RecordErrorEvent extends RecordModelEvent { error: ApiError; }

/** Record model hooks: fire for every record write (API, `$app.save/delete`, auth flows).
 * The Execute hooks wrap the write (PocketBun runs them around the transaction, not in it). */
declare const onRecordValidate: Hook<RecordModelEvent>;
declare const onRecordCreate: Hook<RecordModelEvent>;
declare const onRecordCreateExecute: Hook<RecordModelEvent>;
declare const onRecordAfterCreateSuccess: Hook<RecordModelEvent>;
declare const onRecordAfterCreateError: Hook<RecordErrorEvent>;
declare const onRecordUpdate: Hook<RecordModelEvent>;
declare const onRecordUpdateExecute: Hook<RecordModelEvent>;
declare const onRecordAfterUpdateSuccess: Hook<RecordModelEvent>;
declare const onRecordAfterUpdateError: Hook<RecordErrorEvent>;
declare const onRecordDelete: Hook<RecordModelEvent>;
declare const onRecordDeleteExecute: Hook<RecordModelEvent>;
declare const onRecordAfterDeleteSuccess: Hook<RecordModelEvent>;
declare const onRecordAfterDeleteError: Hook<RecordErrorEvent>;

/** Before a record is sent by the records API (list, view, create, update). */
declare const onRecordEnrich: Hook<HookEvent & { record: Record; requestInfo: RequestInfo }>;

/** Records API request hooks. */
declare const onRecordsListRequest: Hook<RequestEvent & { collection: Collection; records: Record[];
  result: { page: number; perPage: number; totalItems: number; totalPages: number; items: Record[] } }>;
declare const onRecordViewRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordCreateRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordUpdateRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordDeleteRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;

/** Every successful sign-in (password, OTP, OAuth2) and auth refresh, before the response:
 * `e.token`, `e.record` and `e.meta` may be changed. */
declare const onRecordAuthRequest: Hook<RequestEvent & { collection: Collection; record: Record; token: string;
  meta: any; authMethod: string }>;

/** Per-method auth request hooks: they fire after the form was validated and the record
 * found, around the endpoint's action (sign-ins: around the auth response, so before
 * `onRecordAuthRequest`). Fields may be changed before `e.next()`. */
declare const onRecordAuthWithPasswordRequest: Hook<RequestEvent & { collection: Collection; record: Record | null;
  identity: string; identityField: string; password: string }>;
declare const onRecordAuthRefreshRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordAuthWithOTPRequest: Hook<RequestEvent & { collection: Collection; record: Record; otp: any }>;
/** (`oAuth2User` is spelled as PocketBase exposes Go's `OAuth2User`.) */
declare const onRecordAuthWithOAuth2Request: Hook<RequestEvent & { collection: Collection; record: Record | null;
  providerName: string; oAuth2User: any; createData: { [k: string]: any }; isNewRecord: boolean }>;
declare const onRecordRequestOTPRequest: Hook<RequestEvent & { collection: Collection; record: Record | null; password: string }>;
declare const onRecordRequestPasswordResetRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordConfirmPasswordResetRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordRequestVerificationRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordConfirmVerificationRequest: Hook<RequestEvent & { collection: Collection; record: Record }>;
declare const onRecordRequestEmailChangeRequest: Hook<RequestEvent & { collection: Collection; record: Record; newEmail: string }>;
declare const onRecordConfirmEmailChangeRequest: Hook<RequestEvent & { collection: Collection; record: Record; newEmail: string }>;

interface MailAddress { address: string; name?: string }
/** A mail (`$app.newMailClient().send(message)`); attachments map file names to text or bytes. */
declare class MailerMessage {
  constructor(data?: Partial<MailerMessage>);
  from: MailAddress; to: MailAddress[]; cc: MailAddress[]; bcc: MailAddress[];
  subject: string; html: string; text: string; headers: { [name: string]: string };
  attachments: { [filename: string]: string | number[] | Uint8Array | ArrayBuffer };
  inlineAttachments: { [filename: string]: string | number[] | Uint8Array | ArrayBuffer };
}

/** Mailer hooks: `e.message` may be changed before `e.next()`; not calling it cancels the mail. */
declare const onMailerSend: Hook<HookEvent & { message: MailerMessage }>;
declare const onMailerRecordVerificationSend: Hook<HookEvent & { record: Record; message: MailerMessage; meta: any }>;
declare const onMailerRecordPasswordResetSend: Hook<HookEvent & { record: Record; message: MailerMessage; meta: any }>;
declare const onMailerRecordEmailChangeSend: Hook<HookEvent & { record: Record; message: MailerMessage; meta: any }>;
declare const onMailerRecordOTPSend: Hook<HookEvent & { record: Record; message: MailerMessage; meta: any }>;
declare const onMailerRecordAuthAlertSend: Hook<HookEvent & { record: Record; message: MailerMessage; meta: any }>;

/** File hooks (tagged with the record's collection). */
declare const onFileDownloadRequest: Hook<RequestEvent & { collection: Collection; record: Record; fileField: any;
  servedPath: string; servedName: string; thumbError: string | null }>;
declare const onFileTokenRequest: Hook<RequestEvent & { collection: Collection; record: Record; token: string }>;

/** The auth emails of a saved record (through the mailer hooks). */
declare const $mails: {
  sendRecordVerification(app: App, record: Record): void;
  sendRecordPasswordReset(app: App, record: Record): void;
  sendRecordChangeEmail(app: App, record: Record, newEmail: string): void;
  sendRecordOTP(app: App, record: Record, otpId: string, password: string): void;
  sendRecordAuthAlert(app: App, record: Record, info: string): void;
};

/** Listed in `GET /api/crons` and run by `POST /api/crons/{id}`; the host does not
 * schedule jobs on their expression yet. Only jobs added while the hook files load count. */
declare function cronAdd(id: string, expression: string, handler: () => void): void;
declare function cronRemove(id: string): void;

// ---- generic model hooks: run inside the typed record/collection hooks, e.model is the
// Record or Collection (tableName() tells which).
interface ModelEvent extends HookEvent { model: Record | Collection; type: "validate" | "create" | "update" | "delete"; context: string }
interface ModelErrorEvent extends ModelEvent { error: ApiError }
declare const onModelValidate: Hook<ModelEvent>;
declare const onModelCreate: Hook<ModelEvent>;
declare const onModelCreateExecute: Hook<ModelEvent>;
declare const onModelAfterCreateSuccess: Hook<ModelEvent>;
declare const onModelAfterCreateError: Hook<ModelErrorEvent>;
declare const onModelUpdate: Hook<ModelEvent>;
declare const onModelUpdateExecute: Hook<ModelEvent>;
declare const onModelAfterUpdateSuccess: Hook<ModelEvent>;
declare const onModelAfterUpdateError: Hook<ModelErrorEvent>;
declare const onModelDelete: Hook<ModelEvent>;
declare const onModelDeleteExecute: Hook<ModelEvent>;
declare const onModelAfterDeleteSuccess: Hook<ModelEvent>;
declare const onModelAfterDeleteError: Hook<ModelErrorEvent>;

interface CollectionModelEvent extends HookEvent { collection: Collection; type: "create" | "update" | "delete" | "validate"; context: string; }
interface CollectionErrorEvent extends CollectionModelEvent { error: ApiError; }

/** Collection model hooks: fire for every collection write (API, `$app.save/delete`,
 * imports without the validate hook, migrations); tags are collection names or ids. The
 * Execute hooks wrap the write (in an import, the whole import transaction). */
declare const onCollectionValidate: Hook<CollectionModelEvent>;
declare const onCollectionCreate: Hook<CollectionModelEvent>;
declare const onCollectionCreateExecute: Hook<CollectionModelEvent>;
declare const onCollectionAfterCreateSuccess: Hook<CollectionModelEvent>;
declare const onCollectionAfterCreateError: Hook<CollectionErrorEvent>;
declare const onCollectionUpdate: Hook<CollectionModelEvent>;
declare const onCollectionUpdateExecute: Hook<CollectionModelEvent>;
declare const onCollectionAfterUpdateSuccess: Hook<CollectionModelEvent>;
declare const onCollectionAfterUpdateError: Hook<CollectionErrorEvent>;
declare const onCollectionDelete: Hook<CollectionModelEvent>;
declare const onCollectionDeleteExecute: Hook<CollectionModelEvent>;
declare const onCollectionAfterDeleteSuccess: Hook<CollectionModelEvent>;
declare const onCollectionAfterDeleteError: Hook<CollectionErrorEvent>;

/** Collections API request hooks (untagged). */
declare const onCollectionsListRequest: Hook<RequestEvent & { collections: Collection[];
  result: { page: number; perPage: number; totalItems: number; totalPages: number; items: Collection[] } }>;
declare const onCollectionViewRequest: Hook<RequestEvent & { collection: Collection }>;
declare const onCollectionCreateRequest: Hook<RequestEvent & { collection: Collection }>;
declare const onCollectionUpdateRequest: Hook<RequestEvent & { collection: Collection }>;
declare const onCollectionDeleteRequest: Hook<RequestEvent & { collection: Collection }>;
/** `collectionsData` may be changed; like PocketBase, the submitted `deleteMissing` is used. */
declare const onCollectionsImportRequest: Hook<RequestEvent & { collectionsData: any[]; deleteMissing: boolean }>;

/** Settings API request hooks: `e.settings` (list) and `e.newSettings` (update) may be
 * changed before `e.next()`; secrets are visible to handlers, never in responses. */
declare const onSettingsListRequest: Hook<RequestEvent & { settings: any }>;
declare const onSettingsUpdateRequest: Hook<RequestEvent & { oldSettings: any; newSettings: any }>;
/** After the settings were loaded (at start) or saved. */
declare const onSettingsReload: Hook<HookEvent>;
// ---- realtime hooks (e.client is PocketBase's subscriptions.Client; durations in ns).
// PocketBun difference: the connect hook's e.next() returns once the stream is set up.
interface SubscriptionOptions { query: { [k: string]: string }; headers: { [k: string]: string } }
interface RealtimeClient {
  id(): string;
  subscriptions(...prefixes: string[]): { [key: string]: SubscriptionOptions };
  subscribe(...subs: string[]): void;
  unsubscribe(...subs: string[]): void;
  hasSubscription(sub: string): boolean;
  get(key: string): any;
  set(key: string, value: any): void;
  unset(key: string): void;
  discard(): void;
  isDiscarded(): boolean;
  send(message: SubscriptionMessage): void;
}
declare class SubscriptionMessage { constructor(m: { name: string; data: string | number[] }); name: string; data: string | number[]; }
declare const onRealtimeConnectRequest: Hook<RequestEvent & { client: RealtimeClient; idleTimeout: number; maxTimeout: number }>;
declare const onRealtimeSubscribeRequest: Hook<RequestEvent & { client: RealtimeClient; subscriptions: string[] }>;
declare const onRealtimeMessageSend: Hook<RequestEvent & { client: RealtimeClient; message: { name: string; data: string | number[] } }>;

// ---- conversion helpers (Go byte slices are number arrays in JS)
declare function toString(value: any, maxBytes?: number): string;
declare function toBytes(value: any, maxBytes?: number): number[];
declare function readerToString(value: any, maxBytes?: number): string;

// ---------------------------------------------------------------- app.js

/** `$app` (and the `txApp` of `runInTransaction`). Failures throw Go-like errors: a miss
 * is "sql: no rows in result set" (a 404 when uncaught), anything else a 400 when uncaught. */
interface App {
  findCollectionByNameOrId(nameOrId: string): Collection;
  findCachedCollectionByNameOrId(nameOrId: string): Collection;
  findAllCollections(...types: string[]): Collection[];
  hasTable(name: string): boolean;
  tableColumns(name: string): string[];
  findRecordById(collection: string | Collection, id: string): Record;
  findRecordsByIds(collection: string | Collection, ids: string[], ...exprs: DbxExpression[]): Record[];
  findAllRecords(collection: string | Collection, ...exprs: DbxExpression[]): Record[];
  findFirstRecordByData(collection: string | Collection, field: string, value: any): Record;
  findRecordsByFilter(collection: string | Collection, filter: string, sort?: string, limit?: number, offset?: number, params?: { [name: string]: any }): Record[];
  findFirstRecordByFilter(collection: string | Collection, filter: string, params?: { [name: string]: any }): Record;
  countRecords(collection: string | Collection, ...exprs: DbxExpression[]): number;
  findAuthRecordByEmail(collection: string | Collection, email: string): Record;
  save(record: Record): void;
  saveNoValidate(record: Record): void;
  validate(record: Record): void;
  delete(record: Record): void;
  db(): DbBuilder;
  nonconcurrentDB(): DbBuilder;
  concurrentDB(): DbBuilder;
  /** A select of the collection's rows; `all(arrayOf(new Record))` / `one(new Record)` load
   * full records (in row order), DynamicModel targets get the rows. */
  recordQuery(collection: string | Collection): SelectQuery;
  /** The auth record of a valid token (any type unless `types` are given: "auth", "file",
   * "verification", "passwordReset", "emailChange"). */
  findAuthRecordByToken(token: string, ...types: string[]): Record;
  /** With filters: each gets the record query (`(q) => { q.andWhere(...) }`). */
  findRecordById(collection: string | Collection, id: string, ...optFilters: ((q: SelectQuery) => void | Error)[]): Record;
  /** Attaches the relations (`author`, `comments_via_post.user`) of the stored record(s),
   * without view rules; returns the failed expands (`{}`). A custom fetch function is ignored. */
  expandRecord(record: Record, expands: string[], fetchFn?: any): { [path: string]: Error };
  expandRecords(records: Record[], expands: string[], fetchFn?: any): { [path: string]: Error };
  /** A no-op: PocketBun's settings are always the stored ones. */
  reloadSettings(): void;
  /** Records of the system auth collections (`_externalAuths`, `_mfas`, `_otps`,
   * `_authOrigins`) of a record or collection, oldest first; deleteAll* go through `delete`. */
  findAllExternalAuthsByRecord(record: Record): Record[];
  findAllExternalAuthsByCollection(collection: Collection): Record[];
  findAllMFAsByRecord(record: Record): Record[];
  findAllMFAsByCollection(collection: Collection): Record[];
  findAllOTPsByRecord(record: Record): Record[];
  findAllOTPsByCollection(collection: Collection): Record[];
  findAllAuthOriginsByRecord(record: Record): Record[];
  findAllAuthOriginsByCollection(collection: Collection): Record[];
  deleteAllExternalAuthsByRecord(record: Record): void;
  deleteAllMFAsByRecord(record: Record): void;
  deleteAllOTPsByRecord(record: Record): void;
  deleteAllAuthOriginsByRecord(record: Record): void;
  /** Deletes every record through `delete` (hooks fire). */
  truncateCollection(collection: Collection): void;
  isCollectionNameUnique(name: string, ...excludeIds: string[]): boolean;
  deleteTable(name: string): void;
  vacuum(): void;
  /** The live settings with their secrets (`JSON.stringify` leaves the secrets out). */
  settings(): Settings;
  /** Also `save(settings)`: validates (PocketBase's errors), stores and reloads the settings
   * like `PATCH /api/settings` (fires `onSettingsReload`); joins an open transaction. */
  save(settings: Settings): void;
  store(): { get(k: string): any; set(k: string, v: any): void; has(k: string): boolean; remove(k: string): void; getOrSet(k: string, fn: () => any): any };
  logger(): { debug(msg: string, ...kv: any[]): void; info(msg: string, ...kv: any[]): void; warn(msg: string, ...kv: any[]): void; error(msg: string, ...kv: any[]): void };
  isDev(): boolean;
  isTransactional(): boolean;
  /** Every write made in `fn` (through `txApp` or `$app`: the instance's calls all join the
   * open transaction) commits together, or rolls back when `fn` throws. Nested calls run in
   * the outer transaction. Do not call `e.next()` inside one. */
  runInTransaction(fn: (txApp: App) => void): void;
  newMailClient(): { send(message: MailerMessage): void };
}

interface DbxExpression { build(params: { [name: string]: any }): string }

/** dbx's builder (query.js): raw queries and select/insert/update/delete builders; every
 * statement joins an open transaction. `{{table}}` and `[[column]]` are quoted. */
interface DbBuilder {
  newQuery(sql: string): DbQuery;
  select(...columns: string[]): SelectQuery;
  insert(table: string, values: { [column: string]: any }): { execute(): { rowsAffected(): number } };
  update(table: string, values: { [column: string]: any }, where?: DbxExpression): { execute(): { rowsAffected(): number } };
  delete(table: string, where?: DbxExpression): { execute(): { rowsAffected(): number } };
}

interface SelectQuery {
  select(...columns: string[]): SelectQuery;
  andSelect(...columns: string[]): SelectQuery;
  distinct(on?: boolean): SelectQuery;
  from(...tables: string[]): SelectQuery;
  where(e: DbxExpression): SelectQuery;
  andWhere(e: DbxExpression): SelectQuery;
  orWhere(e: DbxExpression): SelectQuery;
  innerJoin(table: string, on: DbxExpression): SelectQuery;
  leftJoin(table: string, on: DbxExpression): SelectQuery;
  rightJoin(table: string, on: DbxExpression): SelectQuery;
  groupBy(...columns: string[]): SelectQuery;
  andGroupBy(...columns: string[]): SelectQuery;
  having(e: DbxExpression): SelectQuery;
  andHaving(e: DbxExpression): SelectQuery;
  orHaving(e: DbxExpression): SelectQuery;
  orderBy(...columns: string[]): SelectQuery;
  andOrderBy(...columns: string[]): SelectQuery;
  limit(n: number): SelectQuery;
  offset(n: number): SelectQuery;
  bind(params: { [name: string]: any }): SelectQuery;
  andBind(params: { [name: string]: any }): SelectQuery;
  build(): SelectQuery;
  getSQL(): string;
  all(target?: any[]): any[];
  /** Throws "sql: no rows in result set" when nothing matches. */
  one(target?: any): any;
  column(target?: any[]): any[];
  row(): any[];
}

declare const $dbx: {
  exp(sql: string, params?: { [name: string]: any }): DbxExpression;
  hashExp(values: { [column: string]: any }): DbxExpression;
  not(e: DbxExpression): DbxExpression;
  and(...e: DbxExpression[]): DbxExpression;
  or(...e: DbxExpression[]): DbxExpression;
  in(column: string, ...values: any[]): DbxExpression;
  notIn(column: string, ...values: any[]): DbxExpression;
  like(column: string, ...values: string[]): DbxExpression;
  notLike(column: string, ...values: string[]): DbxExpression;
  orLike(column: string, ...values: string[]): DbxExpression;
  orNotLike(column: string, ...values: string[]): DbxExpression;
  exists(e: DbxExpression): DbxExpression;
  notExists(e: DbxExpression): DbxExpression;
  between(column: string, from: any, to: any): DbxExpression;
  notBetween(column: string, from: any, to: any): DbxExpression;
};

declare class DynamicModel { constructor(shape: { [field: string]: any }); [field: string]: any; }
declare function arrayOf<T>(model: T): T[];

interface MailerAddress { address: string; name?: string }
/** cc, bcc, headers and attachments are not supported by PocketBun yet (send throws). */
declare class MailerMessage {
  constructor(data?: Partial<MailerMessage>);
  from: MailerAddress;
  to: MailerAddress[];
  cc: MailerAddress[];
  bcc: MailerAddress[];
  subject: string;
  html: string;
  text: string;
  headers: { [name: string]: string };
  attachments: { [name: string]: any };
}

// ---------------------------------------------------------------- security.js

declare const $security: {
  md5(text: string): string;
  sha256(text: string): string;
  sha512(text: string): string;
  hs256(text: string, secret: string): string;
  hs512(text: string, secret: string): string;
  /** Constant-time comparison. */
  equal(a: string, b: string): boolean;
  randomString(length: number): string;
  randomStringWithAlphabet(length: number, alphabet: string): string;
  pseudorandomString(length: number): string;
  pseudorandomStringWithAlphabet(length: number, alphabet: string): string;
  /** HS256 token with `exp` = now + secDuration. */
  createJWT(payload: { [claim: string]: any }, signingKey: string, secDuration: number): string;
  parseJWT(token: string, verificationKey: string): { [claim: string]: any };
  parseUnverifiedJWT(token: string): { [claim: string]: any };
  /** AES-256-GCM with a 32-character key; base64(nonce + ciphertext), as PocketBase. */
  encrypt(data: string, key: string): string;
  decrypt(cipherText: string, key: string): string;
};

// ---------------------------------------------------------------- http.js

/** Outgoing HTTP. The server may restrict the hosts with POCKETBUN_HTTP_ALLOW. */
declare const $http: {
  send(config: {
    url: string;
    method?: string;
    body?: string;
    /** Legacy: sent as a JSON body. */
    data?: { [key: string]: any };
    headers?: { [name: string]: string };
    /** Seconds, default 120. */
    timeout?: number;
  }): {
    statusCode: number;
    headers: { [name: string]: string[] };
    cookies: { [name: string]: { name: string; value: string; path: string; domain: string; maxAge: number; secure: boolean; httpOnly: boolean; raw: string } };
    body: number[];
    raw: string;
    json: any;
  };
};

// ---------------------------------------------------------------- os.js

/** goja_nodejs' process object: only `env`. */
declare const process: { env: { [name: string]: string | undefined } };
/** The hooks dir as `require` sees it ("/pb_hooks"). */
declare const __hooks: string;
/** CommonJS modules (`.js`/`.json`) from pb_hooks: `require(`${__hooks}/utils.js`)`. */
declare function require(path: string): any;
/** Only `getenv` works; the process and file APIs throw "… is not available in the PocketBun sandbox". */
declare const $os: {
  getenv(name: string): string;
  args: string[];
  exec(...args: any[]): never;
  cmd(...args: any[]): never;
  readFile(...args: any[]): never;
  writeFile(...args: any[]): never;
  readDir(...args: any[]): never;
  mkdir(...args: any[]): never;
  mkdirAll(...args: any[]): never;
  remove(...args: any[]): never;
  removeAll(...args: any[]): never;
  rename(...args: any[]): never;
  stat(...args: any[]): never;
  exit(...args: any[]): never;
};

// ---------------------------------------------------------------- template.js

interface Template { render(data?: any): string }
/** Go html/template subset: {{.x}}, if/else if/else, range/else, with, define/template/block,
 * trim markers, functions raw len not eq ne lt le gt ge and or index print. Files are read
 * from pb_hooks (`.html`, `.tmpl`, `.txt`). */
declare const $template: {
  loadFiles(...paths: string[]): Template;
  loadString(...texts: string[]): Template;
  addFuncs(funcs: { [name: string]: (...args: any[]) => any }): typeof $template;
};

/** App lifecycle (run once per `serve`): onBootstrap after the app opened its data (throwing
 * aborts the start), onServe before the server accepts requests (`e.server.addr`; a PocketBun
 * extension: PocketBase's JS runtime has no onServe), onTerminate on SIGTERM/interrupt before
 * the graceful shutdown. */
declare const onBootstrap: Hook<HookEvent>;
declare const onServe: Hook<HookEvent & { server: { addr: string } }>;
declare const onTerminate: Hook<HookEvent & { isRestart: boolean }>;
/** Around `POST /api/batch`: `e.batch` are the sub-requests (changes apply). */
declare const onBatchRequest: Hook<RequestEvent & { batch: Array<{ method: string; url: string; headers: { [k: string]: string }; body: { [k: string]: any } }> }>;

// ---------------------------------------------------------------- settings.js

/** PocketBase's settings model (camelCase fields as in `GET /api/settings`, secrets included). */
interface Settings {
  meta: { appName: string; appURL: string; senderName: string; senderAddress: string; hideControls: boolean; [k: string]: any };
  smtp: { enabled: boolean; host: string; port: number; username: string; password?: string; authMethod: string; tls: boolean; localName: string };
  s3: { enabled: boolean; bucket: string; region: string; endpoint: string; accessKey: string; secret?: string; forcePathStyle: boolean };
  backups: { cron: string; cronMaxKeep: number; s3: Settings["s3"] };
  batch: { enabled: boolean; maxRequests: number; timeout: number; maxBodySize: number };
  rateLimits: { enabled: boolean; excludedIPs: string[]; rules: { label: string; audience: string; duration: number; maxRequests: number }[] };
  trustedProxy: { headers: string[]; useLeftmostIP: boolean };
  logs: { maxDays: number; minLevel: number; logIP: boolean; logAuthId: boolean; [k: string]: any };
  superuserIPs: string[];
  tableName(): string;
  pk(): string;
  isNew(): boolean;
  clone(): Settings;
  merge(other: Settings | { [k: string]: any }): void;
  string(): string;
}

/** Blocks the handler for `ms` milliseconds (not the server). A sleep past the call's time
 * limit (`POCKETBUN_PLUGIN_TIMEOUT_MS`) ends the call like any over-time call (a 500). */
declare function sleep(ms: number): void;

// ---------------------------------------------------------------- extras.js

/** Go's http.Cookie; `sameSite`: 1 default, 2 Lax, 3 Strict, 4 None. */
declare class Cookie {
  constructor(data?: Partial<Cookie>);
  name: string; value: string; path: string; domain: string; expires: DateTime | Date | string | null;
  maxAge: number; secure: boolean; httpOnly: boolean; sameSite: number;
  string(): string;
}

/** Go's path/filepath on slash paths. glob/walk/walkDir throw (no file system in the hooks). */
declare const $filepath: {
  base(p: string): string; clean(p: string): string; dir(p: string): string; ext(p: string): string;
  join(...parts: string[]): string; split(p: string): [string, string]; splitList(p: string): string[];
  isAbs(p: string): boolean; fromSlash(p: string): string; toSlash(p: string): string;
  match(pattern: string, name: string): boolean; rel(base: string, target: string): string;
  glob(pattern: string): never; walk(root: string, fn: any): never; walkDir(root: string, fn: any): never;
};

/** DynamicModel shape values for nullable columns (NULL stays null). */
declare function nullString(): string | null;
declare function nullInt(): number | null;
declare function nullFloat(): number | null;
declare function nullBool(): boolean | null;
declare function nullArray(): any[] | null;
declare function nullObject(): { [k: string]: any } | null;
