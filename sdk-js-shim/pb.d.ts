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
  /** The API view (hidden fields and a non-visible email left out). Used by JSON.stringify. */
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
    header: { get(name: string): string; values(name: string): string[] };
    pathValue(name: string): string;
  };
  response: { header(): { set(k: string, v: string): void; add(k: string, v: string): void; get(k: string): string } };
  auth: Record | null;
  hasSuperuserAuth(): boolean;
  realIP(): string;
  remoteIP(): string;
  requestInfo(): RequestInfo;
  written(): boolean;
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
  bind(params: { [name: string]: any }): DbQuery;
  execute(): { rowsAffected(): number };
  all(target?: any[]): Array<{ [column: string]: any }>;
  one(target?: object): { [column: string]: any };
}

declare const $app: {
  findRecordById(collection: string | Collection, id: string): Record;
  findRecordsByFilter(collection: string | Collection, filter: string, sort?: string, limit?: number, offset?: number, params?: { [name: string]: any }): Record[];
  findFirstRecordByFilter(collection: string | Collection, filter: string, params?: { [name: string]: any }): Record;
  findFirstRecordByData(collection: string | Collection, field: string, value: any): Record;
  findCollectionByNameOrId(nameOrId: string): Collection;
  save(record: Record): void;
  delete(record: Record): void;
  /** `{:name}` placeholders are bound parameters. */
  db(): { newQuery(sql: string): DbQuery };
  settings(): { [key: string]: any };
  store(): { get(k: string): any; set(k: string, v: any): void; has(k: string): boolean; remove(k: string): void; getOrSet(k: string, fn: () => any): any };
  logger(): { debug(msg: string, ...kv: any[]): void; info(msg: string, ...kv: any[]): void; warn(msg: string, ...kv: any[]): void; error(msg: string, ...kv: any[]): void };
};

declare const $apis: {
  requireAuth(...collections: string[]): (e: RequestEvent) => any;
  requireSuperuserAuth(): (e: RequestEvent) => any;
  requireGuestOnly(): (e: RequestEvent) => any;
};

declare function routerAdd(
  method: string,
  path: string,
  handler: (e: RequestEvent) => any,
  ...middlewares: Array<((e: RequestEvent) => any) | Middleware>
): void;

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

/** Listed in `GET /api/crons` and run by `POST /api/crons/{id}`; the host does not
 * schedule jobs on their expression yet. Only jobs added while the hook files load count. */
declare function cronAdd(id: string, expression: string, handler: () => void): void;
declare function cronRemove(id: string): void;
