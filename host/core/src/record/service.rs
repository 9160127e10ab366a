//! Record use cases behind the REST API: list, view, create, update, delete with API rules,
//! file uploads and the auth-collection form rules.

use rusqlite::Connection;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;

use super::expand::{expand_records, ExpandTree};
use super::hooked::{self, RecordWrite};
use super::persist;
use super::query::{ListResult, RecordQuery};
use super::rules::RequestInfo;
use crate::query::{CompiledQuery, QueryCompiler};
use super::validate::validate_record;
use super::values::{to_sql, to_string_list};
use super::write::{apply_values, attach_uploads, check_auth_form, prepare_insert, prepare_update, resolve_modifiers, WriteAccess};
use super::{Record, Visibility};
use crate::app::App;
use crate::db::quote_ident;
use crate::error::{ApiError, ApiResult};
use crate::files::{self, FileMeta, FileStorage, InputFile};
use crate::model::{Collection, FieldType, RuleKind};
use crate::schema_cache::Schema;

pub const SUPERUSERS_ONLY: &str = "Only superusers can perform this action.";
const CREATE_FAILED: &str = "Failed to create record.";
const UPDATE_FAILED: &str = "Failed to update record.";

#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub page: i64,
    pub per_page: i64,
    pub sort: String,
    pub filter: String,
    pub skip_total: bool,
}

/// A create/update request: the body fields and the uploaded files by form key
/// (`docs`, `docs+`, `+docs`).
#[derive(Debug, Clone, Default)]
pub struct WriteInput {
    pub body: Map<String, Value>,
    pub files: Vec<(String, Vec<InputFile>)>,
}

impl WriteInput {
    pub fn from_body(body: Map<String, Value>) -> Self {
        Self { body, files: vec![] }
    }
}

/// The rule for an action, or 403 when it is locked (superusers bypass rules entirely).
fn rule_for<'c>(c: &'c Collection, kind: RuleKind, req: &RequestInfo) -> ApiResult<Option<&'c str>> {
    if req.is_superuser() {
        return Ok(None);
    }
    match c.rule(kind) {
        None => Err(ApiError::forbidden(SUPERUSERS_ONLY)),
        Some(r) if r.trim().is_empty() => Ok(None),
        Some(r) => Ok(Some(r)),
    }
}

fn bad_filter(e: pocketbun_filter::FilterError) -> ApiError {
    tracing::debug!("filter error: {e}");
    ApiError::bad_request("")
}

/// Adds the compiled joins, conditions, order and values to a query.
pub(crate) fn apply_compiled(q: &mut RecordQuery, compiled: CompiledQuery) {
    q.conditions.extend(compiled.conditions);
    q.joins.extend(compiled.joins);
    q.order_by.extend(compiled.order_by);
    q.params.extend(compiled.params);
}

/// Adds an API rule: rules may reference hidden fields.
pub(crate) fn add_rule_condition(q: &mut RecordQuery, schema: &Schema, c: &Collection, req: &RequestInfo, src: &str, prefix: &str) -> ApiResult<()> {
    let mut qc = QueryCompiler::new(schema, c, req, prefix);
    qc.add_rule(src).map_err(bad_filter)?;
    apply_compiled(q, qc.finish().map_err(bad_filter)?);
    Ok(())
}

/// Visibility of one record for the requester.
pub fn visibility_for(req: &RequestInfo, rec: &Record) -> Visibility {
    let superuser = req.is_superuser();
    // PocketBase matches the owner by id only
    let owner = req.auth.as_ref().map(|a| a.id() == rec.id()).unwrap_or(false);
    Visibility { superuser, owner }
}

pub fn record_json(req: &RequestInfo, rec: &Record) -> Value {
    rec.to_json(visibility_for(req, rec))
}

/// Ids of `records` the requester manages through the collection's manageRule (their
/// emails are shown regardless of `emailVisibility`).
fn managed_ids(conn: &Connection, schema: &Schema, c: &Arc<Collection>, req: &RequestInfo, ids: &[String]) -> ApiResult<HashSet<String>> {
    let Some(rule) = c.rule(RuleKind::Manage).filter(|r| !r.trim().is_empty()) else { return Ok(HashSet::new()) };
    if !c.is_auth() || req.auth.is_none() || ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut q = RecordQuery { per_page: ids.len() as i64, skip_total: true, ..Default::default() };
    let marks: Vec<String> = ids.iter().map(|id| q.params.bind(id.clone())).collect();
    q.conditions.push(format!("{}.`id` IN ({})", quote_ident(&c.name), marks.join(",")));
    if add_rule_condition(&mut q, schema, c, req, rule, "m").is_err() {
        return Ok(HashSet::new());
    }
    Ok(q.run(conn, c)?.items.iter().map(|r| r.id().to_string()).collect())
}

pub(crate) fn mark_managed(conn: &Connection, schema: &Schema, c: &Arc<Collection>, req: &RequestInfo, records: &mut [Record]) -> ApiResult<()> {
    if req.is_superuser() || !c.is_auth() {
        return Ok(());
    }
    let ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
    let managed = managed_ids(conn, schema, c, req, &ids)?;
    for r in records.iter_mut() {
        r.ignore_email_visibility = managed.contains(r.id());
    }
    Ok(())
}

pub async fn list(app: &App, c: Arc<Collection>, req: RequestInfo, p: ListParams) -> ApiResult<ListResult> {
    let rule = rule_for(&c, RuleKind::List, &req)?.map(str::to_string);
    if !req.is_superuser() {
        for src in [&p.filter, &p.sort] {
            if let Some(field) = ["@collection.", "@request."].into_iter().find(|f| src.contains(f)) {
                return Err(ApiError::forbidden(format!("Only superusers can filter by {field}")));
            }
        }
    }
    let mut q = RecordQuery { page: p.page, per_page: p.per_page, skip_total: p.skip_total, ..Default::default() };
    let schema = app.schema();
    let mut qc = QueryCompiler::new(&schema, &c, &req, "f");
    if let Some(rule) = &rule {
        qc.add_rule(rule).map_err(bad_filter)?;
    }
    // hidden fields are searchable only by superusers
    qc.set_allow_hidden(req.is_superuser());
    if !p.filter.trim().is_empty() {
        qc.add_filter(&p.filter).map_err(bad_filter)?;
    }
    if !p.sort.trim().is_empty() {
        qc.add_sort(&p.sort).map_err(bad_filter)?;
    }
    apply_compiled(&mut q, qc.finish().map_err(bad_filter)?);
    app.data
        .read(move |conn| {
            let mut res = q.run(conn, &c)?;
            mark_managed(conn, &schema, &c, &req, &mut res.items)?;
            expand_from_query(conn, &schema, &req, &mut res.items);
            Ok(res)
        })
        .await
}

/// Fetches one record with the given rule applied (None when missing or filtered out).
fn find_with_rule_on(conn: &Connection, schema: &Schema, c: &Arc<Collection>, req: &RequestInfo, id: &str, rule: Option<&str>) -> ApiResult<Option<Record>> {
    let mut q = RecordQuery::default();
    let p = q.params.bind(id.to_string());
    q.conditions.push(format!("{}.`id` = {p}", quote_ident(&c.name)));
    if let Some(rule) = rule {
        add_rule_condition(&mut q, schema, c, req, rule, "r")?;
    }
    q.first(conn, c)
}

pub async fn view(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str) -> ApiResult<Record> {
    let rule = rule_for(&c, RuleKind::View, &req)?.map(str::to_string);
    let (schema, id) = (app.schema(), id.to_string());
    app.data
        .read(move |conn| {
            let rec = find_with_rule_on(conn, &schema, &c, &req, &id, rule.as_deref())?.ok_or_else(|| ApiError::not_found(""))?;
            let mut records = [rec];
            mark_managed(conn, &schema, &c, &req, &mut records)?;
            expand_from_query(conn, &schema, &req, &mut records);
            let [rec] = records;
            Ok(rec)
        })
        .await
}

/// Applies the request's `?expand=` (if any) to records about to be returned.
fn expand_from_query(conn: &Connection, schema: &Schema, req: &RequestInfo, records: &mut [Record]) {
    let param = req.query.get("expand").and_then(Value::as_str).unwrap_or_default();
    let tree = ExpandTree::parse(param);
    if !tree.is_empty() {
        expand_records(conn, schema, req, records, &tree);
    }
}

/// Applies `?expand=` (if any) to one record being returned (writes, auth responses).
pub async fn expand_for_response(app: &App, req: RequestInfo, rec: Record) -> ApiResult<Record> {
    if req.query.get("expand").and_then(Value::as_str).unwrap_or_default().is_empty() {
        return Ok(rec);
    }
    let schema = app.schema();
    app.data
        .read(move |conn| {
            let mut records = [rec];
            expand_from_query(conn, &schema, &req, &mut records);
            let [rec] = records;
            Ok(rec)
        })
        .await
}

/// Response enrichment after a write: email visibility for managers and `?expand=`.
async fn enrich_written(app: &App, req: RequestInfo, rec: Record, manager: bool) -> ApiResult<Record> {
    expand_for_response(app, req, as_written(rec, manager)).await
}

/// [`enrich_written`] on the caller's connection.
pub(crate) fn enrich_on(conn: &Connection, schema: &Schema, req: &RequestInfo, rec: Record, manager: bool) -> Record {
    let mut records = [as_written(rec, manager)];
    expand_from_query(conn, schema, req, &mut records);
    let [rec] = records;
    rec
}

/// The record as stored by a write, for the response.
fn as_written(mut rec: Record, manager: bool) -> Record {
    rec.mark_stored();
    rec.plain_passwords.clear();
    rec.ignore_email_visibility = manager;
    rec
}

fn base_access(req: &RequestInfo) -> WriteAccess {
    let su = req.is_superuser();
    WriteAccess { superuser: su, manager: su }
}

/// Evaluates a rule against a record that is not stored yet: the record's values are
/// exposed through a CTE named like a renamed copy of the collection (so `@collection`
/// references to the real table still work), as PocketBase does.
fn unsaved_record_matches(conn: &Connection, schema: &Schema, rec: &Record, req: &RequestInfo, rule: &str) -> ApiResult<bool> {
    snapshot_matches(conn, schema, rec, req, rule, SnapshotExpr::Rule).map_err(|e| {
        tracing::debug!("rule error: {e}");
        ApiError::bad_request(CREATE_FAILED)
    })
}

/// How an expression checked against a record snapshot is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotExpr {
    /// An API rule: hidden fields allowed, no length limit.
    Rule,
    /// A client filter (realtime `options.filter`): length limit; hidden fields only for superusers.
    Filter { allow_hidden: bool },
}

/// Whether a record snapshot that need not be stored (a record about to be created, or one
/// just deleted) matches `src`: its values are exposed through a one-row CTE aliased like the
/// collection, so `@collection` references to the real table keep working.
pub fn snapshot_matches(conn: &Connection, schema: &Schema, rec: &Record, req: &RequestInfo, src: &str, kind: SnapshotExpr) -> Result<bool, String> {
    let cte = format!("{}__pb_snapshot__{}", rec.collection.name, crate::util::random_string(6, crate::util::LOWER_ALPHANUMERIC));
    let mut qc = QueryCompiler::new(schema, &rec.collection, req, "r").with_base_alias(&cte, &cte);
    let added = match kind {
        SnapshotExpr::Rule => qc.add_rule(src),
        SnapshotExpr::Filter { allow_hidden } => {
            qc.set_allow_hidden(allow_hidden);
            qc.add_filter(src)
        }
    };
    let compiled = added.and_then(|_| qc.finish()).map_err(|e| e.to_string())?;
    let mut params = compiled.params;
    let mut selects = vec![];
    for (i, f) in rec.collection.fields.iter().enumerate() {
        let name = format!(":__pb_snapshot__{i}");
        selects.push(format!("{name} AS {}", quote_ident(&f.name)));
        params.push(name, to_sql(f, rec.get(&f.name)));
    }
    let table = quote_ident(&cte);
    let sql = format!(
        "WITH {table} AS (SELECT {}) SELECT 1 FROM {table} {table} {} WHERE {} LIMIT 1",
        selects.join(", "),
        compiled.joins.join(" "),
        compiled.conditions.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND ")
    );
    let refs = params.as_refs();
    let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
    Ok(stmt.exists(refs.as_slice()).unwrap_or(false))
}

/// Whether `rec` (stored) matches `rule` for the requester.
fn stored_record_matches(conn: &Connection, schema: &Schema, rec: &Record, req: &RequestInfo, rule: &str) -> bool {
    let mut q = RecordQuery::default();
    let p = q.params.bind(rec.id().to_string());
    q.conditions.push(format!("{}.`id` = {p}", quote_ident(&rec.collection.name)));
    if add_rule_condition(&mut q, schema, &rec.collection, req, rule, "m").is_err() {
        return false;
    }
    matches!(q.first(conn, &rec.collection), Ok(Some(_)))
}

fn manage_rule(c: &Collection, req: &RequestInfo) -> Option<String> {
    if !c.is_auth() || req.auth.is_none() {
        return None;
    }
    c.rule(RuleKind::Manage).filter(|r| !r.trim().is_empty()).map(str::to_string)
}

/// A create request applied to a new record, before any database access.
pub(crate) struct CreateDraft {
    pub rec: Record,
    pub req: RequestInfo,
    body: Map<String, Value>,
    pub access: WriteAccess,
    rule: Option<String>,
    /// OAuth2 sign-ups get a random password unless one was submitted; it is hashed by the
    /// caller (its plain-value validators are skipped, as in PocketBase).
    random_password: Option<String>,
}

pub(crate) fn draft_create(c: Arc<Collection>, mut req: RequestInfo, input: WriteInput) -> ApiResult<CreateDraft> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(&c, RuleKind::Create, &req)?.map(str::to_string);
    let mut rec = Record::new(c.clone());
    let mut body = input.body;
    let random_password = (req.context == "oauth2" && c.is_auth() && !body.contains_key("password"))
        .then(|| crate::util::random_string(30, crate::util::ALPHANUMERIC));
    if let Some(p) = &random_password {
        body.insert("password".into(), Value::String(p.clone()));
        body.insert("passwordConfirm".into(), Value::String(p.clone()));
    }
    attach_uploads(&mut rec, &mut body, input.files);
    req.body = resolve_modifiers(&rec, &body);
    let access = base_access(&req);
    apply_values(&mut rec, &body, access);
    if random_password.is_some() {
        rec.plain_passwords.shift_remove("password");
    }
    Ok(CreateDraft { rec, req, body, access, rule, random_password })
}

fn password_field_cost(c: &Collection) -> u32 {
    c.field("password").map(|f| u32::try_from(f.opt_i64("cost")).unwrap_or(0)).unwrap_or(0)
}

/// Checks the create rule (and the manage rule, for the auth form) against the unsaved record.
pub(crate) fn check_create_access(conn: &Connection, schema: &Schema, d: &mut CreateDraft) -> ApiResult<()> {
    if d.req.is_superuser() {
        return Ok(());
    }
    // rules see the record as submitted, with a placeholder id and verified unset
    let mut dummy = d.rec.clone();
    if dummy.id().is_empty() {
        dummy.values.insert("id".into(), Value::String(format!("__temp_id__{}", crate::util::random_string(6, crate::util::LOWER_ALPHANUMERIC))));
    }
    if d.rec.collection.is_auth() {
        dummy.values.insert("verified".into(), Value::Bool(false));
    }
    if let Some(rule) = &d.rule {
        if !unsaved_record_matches(conn, schema, &dummy, &d.req, rule)? {
            return Err(ApiError::bad_request(CREATE_FAILED));
        }
    }
    if let Some(m) = manage_rule(&d.rec.collection, &d.req) {
        d.access.manager = unsaved_record_matches(conn, schema, &dummy, &d.req, &m).unwrap_or(false);
    }
    Ok(())
}

/// A step run in a create's transaction once the record row is written.
pub type AfterInsert = Box<dyn FnOnce(&rusqlite::Transaction, &Record) -> ApiResult<()> + Send>;

/// Steps of a create that belong to the record's own transaction (the OAuth2 sign-up creates
/// the user and its `_externalAuths` link atomically).
#[derive(Default)]
pub struct CreateSteps {
    /// Adjusts the final record right before it is validated and inserted.
    pub before_insert: Option<Box<dyn FnOnce(&mut Record) + Send>>,
    /// Runs in the insert's transaction once the record row is written; an error rolls the
    /// whole create back (and removes its uploaded files).
    pub after_insert: Option<AfterInsert>,
}

pub async fn create(app: &App, c: Arc<Collection>, req: RequestInfo, input: WriteInput) -> ApiResult<Record> {
    create_with(app, c, req, input, CreateSteps::default()).await
}

pub async fn create_with(app: &App, c: Arc<Collection>, req: RequestInfo, input: WriteInput, steps: CreateSteps) -> ApiResult<Record> {
    let mut d = draft_create(c, req, input)?;
    if let Some(p) = d.random_password.take() {
        // hashed now instead of by hash_passwords, so the plain-value validators never see it
        let hash = crate::auth::hasher::hash(p, password_field_cost(&d.rec.collection)).await?;
        d.rec.values.insert("password".into(), Value::String(hash));
    }
    if !d.req.is_superuser() {
        let schema = app.schema();
        d = app
            .data
            .read(move |conn| {
                check_create_access(conn, &schema, &mut d)?;
                Ok(d)
            })
            .await?;
    }
    let CreateDraft { mut rec, req, body, access, .. } = d;
    check_auth_form(&rec, &body, access).into_result(CREATE_FAILED)?;
    super::write::hash_passwords(&mut rec).await?;
    prepare_insert(&mut rec);
    if let Some(adjust) = steps.before_insert {
        adjust(&mut rec);
    }
    let after_insert = steps.after_insert;
    let (db, schema, storage) = (app.data.clone(), app.schema(), files::storage(app));
    let make_write = move |validate: bool| -> RecordWrite {
        Box::new(move |rec| {
            Box::pin(async move {
                db.write(move |conn| {
                    if validate {
                        validate_record(conn, &schema, &rec).into_result(CREATE_FAILED)?;
                    }
                    check_auth_id_unique(conn, &schema, &rec)?;
                    save_with_files(conn, storage.as_ref(), &rec, |tx| {
                        persist::insert(tx, &rec)?;
                        remove_installer_superuser(tx, &rec)?;
                        match after_insert {
                            Some(step) => step(tx, &rec),
                            None => Ok(()),
                        }
                    })?;
                    Ok(rec)
                })
                .await
            })
        })
    };
    let saved = hooked::save_in(app, rec, make_write, Default::default()).await?;
    enrich_written(app, req, saved, access.manager).await
}

/// The batch flavour of [`create`]: every step on the caller's transaction, passwords hashed
/// in place; the new files are uploaded and listed in `uploaded` for the caller's cleanup.
pub(crate) fn create_on(
    conn: &Connection,
    schema: &Schema,
    storage: &dyn FileStorage,
    c: Arc<Collection>,
    req: RequestInfo,
    input: WriteInput,
    files: &mut BatchFiles,
) -> ApiResult<Record> {
    let w = draft_create_on(conn, schema, c, req, input)?;
    let rec = insert_on(conn, schema, storage, w.rec, files, true)?;
    Ok(enrich_on(conn, schema, &w.req, rec, w.access.manager))
}

/// A batch write prepared on the caller's transaction: the record to store, the sub-request
/// as rules see it, the requester's rights.
pub(crate) struct PreparedWrite {
    pub rec: Record,
    pub req: RequestInfo,
    pub access: WriteAccess,
}

/// The checks and preparation of a batch create, up to the record to insert.
pub(crate) fn draft_create_on(conn: &Connection, schema: &Schema, c: Arc<Collection>, req: RequestInfo, input: WriteInput) -> ApiResult<PreparedWrite> {
    let mut d = draft_create(c, req, input)?;
    if let Some(p) = d.random_password.take() {
        let hash = crate::auth::password::hash(&p, password_field_cost(&d.rec.collection));
        d.rec.values.insert("password".into(), Value::String(hash));
    }
    check_create_access(conn, schema, &mut d)?;
    let CreateDraft { mut rec, req, body, access, .. } = d;
    check_auth_form(&rec, &body, access).into_result(CREATE_FAILED)?;
    super::write::hash_passwords_blocking(&mut rec);
    prepare_insert(&mut rec);
    Ok(PreparedWrite { rec, req, access })
}

/// Validates (unless the model hooks' validate stage already did) and inserts a batch
/// create on the caller's transaction.
pub(crate) fn insert_on(conn: &Connection, schema: &Schema, storage: &dyn FileStorage, mut rec: Record, files: &mut BatchFiles, validate: bool) -> ApiResult<Record> {
    if validate {
        validate_record(conn, schema, &rec).into_result(CREATE_FAILED)?;
    }
    check_auth_id_unique(conn, schema, &rec)?;
    let names = upload_files(storage, &rec)?;
    files.uploaded.push((rec.clone(), names));
    persist::insert(conn, &rec)?;
    remove_installer_superuser(conn, &rec)?;
    rec.mark_stored();
    Ok(rec)
}

/// Auth record ids are kept unique across all auth collections (a loose guard against rules
/// that compare ids of different auth collections).
fn check_auth_id_unique(conn: &Connection, schema: &Schema, rec: &Record) -> ApiResult<()> {
    if !rec.collection.is_auth() {
        return Ok(());
    }
    for other in schema.collections.iter().filter(|o| o.is_auth() && o.id != rec.collection.id) {
        if persist::find_by_id(conn, other, rec.id())?.is_some() {
            let mut errs = crate::error::ValidationErrors::new();
            errs.add("id", crate::error::FieldError::new("validation_invalid_auth_id", "Invalid or duplicated auth record id."));
            return Err(ApiError::validation(if rec.is_new() { CREATE_FAILED } else { UPDATE_FAILED }, errs));
        }
    }
    Ok(())
}

/// Stores the record's new files, runs the DB write in a transaction and cleans up: new files
/// are removed again when the write fails.
fn save_with_files(
    conn: &mut Connection,
    storage: &dyn FileStorage,
    rec: &Record,
    write: impl FnOnce(&rusqlite::Transaction) -> ApiResult<()>,
) -> ApiResult<()> {
    let uploaded = upload_files(storage, rec)?;
    let result = (|| {
        let tx = conn.transaction()?;
        write(&tx)?;
        tx.commit()?;
        Ok(())
    })();
    if result.is_err() {
        discard_uploads(conn, storage, rec, &uploaded);
    }
    result
}

/// Removes the files uploaded for `rec` by a write that was rolled back.
pub(crate) fn discard_uploads(conn: &Connection, storage: &dyn FileStorage, rec: &Record, uploaded: &[String]) {
    if uploaded.is_empty() {
        return;
    }
    let dir_is_ours = rec.is_new() && matches!(persist::find_by_id(conn, &rec.collection, rec.id()), Ok(None));
    if dir_is_ours {
        // nothing else can live in a record directory that was never committed
        let _ = storage.delete_prefix(&files::record_dir(&rec.collection.id, rec.id()));
    } else {
        delete_files(storage, &rec.collection.id, rec.id(), uploaded);
    }
}

pub(crate) fn upload_files(storage: &dyn FileStorage, rec: &Record) -> ApiResult<Vec<String>> {
    let mut done = vec![];
    for u in &rec.uploads {
        let key = files::record_file_key(&rec.collection.id, rec.id(), &u.name);
        let meta = FileMeta { content_type: u.content_type.clone(), original_name: truncate_bytes(&u.original_name, 255) };
        if let Err(e) = storage.upload(&key, &u.content, &meta) {
            tracing::warn!("file upload failed for {key}: {e}");
            delete_files(storage, &rec.collection.id, rec.id(), &done);
            return Err(ApiError::bad_request(if rec.is_new() { CREATE_FAILED } else { UPDATE_FAILED }));
        }
        done.push(u.name.clone());
    }
    Ok(done)
}

fn truncate_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Best-effort removal of record files and their thumbnails (failures are only logged: the
/// database is already the source of truth).
fn delete_files(storage: &dyn FileStorage, collection_id: &str, record_id: &str, names: &[String]) {
    for name in names.iter().filter(|n| !n.is_empty() && !n.contains(['/', '\\'])) {
        let key = files::record_file_key(collection_id, record_id, name);
        if let Err(e) = storage.delete(&key) {
            tracing::warn!("failed to delete file {key}: {e}");
        }
        let thumbs = files::record_file_key(collection_id, record_id, &format!("thumbs_{name}/"));
        let _ = storage.delete_prefix(&thumbs);
    }
}

/// Names that were in a file field before the update and are not anymore.
fn removed_file_names(rec: &Record) -> Vec<String> {
    let mut removed = vec![];
    for f in rec.collection.fields.iter().filter(|f| f.kind == FieldType::File) {
        let now = to_string_list(rec.get(&f.name));
        removed.extend(to_string_list(rec.original(&f.name)).into_iter().filter(|n| !now.contains(n)));
    }
    removed
}

/// An update request applied to the stored record, before the write.
pub(crate) struct UpdateDraft {
    pub rec: Record,
    pub req: RequestInfo,
    body: Map<String, Value>,
    pub access: WriteAccess,
}

/// Loads the record (404 when missing or filtered out by the update rule) and applies the
/// request to it.
pub(crate) fn draft_update(conn: &Connection, schema: &Schema, c: Arc<Collection>, mut req: RequestInfo, id: &str, input: WriteInput) -> ApiResult<UpdateDraft> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(&c, RuleKind::Update, &req)?.map(str::to_string);
    // fetched first without the rule: modifiers resolve against the stored values
    let stored = find_with_rule_on(conn, schema, &c, &req, id, None)?.ok_or_else(|| ApiError::not_found(""))?;
    let mut body = input.body;
    let mut probe = stored.clone();
    attach_uploads(&mut probe, &mut body, input.files);
    req.body = resolve_modifiers(&stored, &body);
    let mut rec = find_with_rule_on(conn, schema, &c, &req, id, rule.as_deref())?.ok_or_else(|| ApiError::not_found(""))?;
    rec.uploads = probe.uploads;
    let mut access = base_access(&req);
    apply_values(&mut rec, &body, access);
    if !access.manager {
        if let Some(m) = manage_rule(&c, &req) {
            access.manager = stored_record_matches(conn, schema, &stored, &req, &m);
        }
    }
    Ok(UpdateDraft { rec, req, body, access })
}

pub async fn update(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str, input: WriteInput) -> ApiResult<Record> {
    let (schema, id) = (app.schema(), id.to_string());
    let UpdateDraft { mut rec, req, body, access } = app.data.read(move |conn| draft_update(conn, &schema, c, req, &id, input)).await?;
    check_auth_form(&rec, &body, access).into_result(UPDATE_FAILED)?;
    super::write::hash_passwords(&mut rec).await?;
    prepare_update(&mut rec);
    let (db, schema, storage) = (app.data.clone(), app.schema(), files::storage(app));
    let make_write = move |validate: bool| -> RecordWrite {
        Box::new(move |rec| {
            Box::pin(async move {
                db.write(move |conn| {
                    if validate {
                        validate_record(conn, &schema, &rec).into_result(UPDATE_FAILED)?;
                    }
                    save_with_files(conn, storage.as_ref(), &rec, |tx| persist::update(tx, &rec))?;
                    delete_files(storage.as_ref(), &rec.collection.id, rec.id(), &removed_file_names(&rec));
                    Ok(rec)
                })
                .await
            })
        })
    };
    let saved = hooked::save_in(app, rec, make_write, Default::default()).await?;
    enrich_written(app, req, saved, access.manager).await
}

/// The batch flavour of [`update`] (see [`create_on`]); the files the update replaced are
/// returned in `removed` for deletion after the commit.
pub(crate) fn update_on(
    conn: &Connection,
    schema: &Schema,
    storage: &dyn FileStorage,
    c: Arc<Collection>,
    req: RequestInfo,
    id: &str,
    input: WriteInput,
    files: &mut BatchFiles,
) -> ApiResult<Record> {
    let w = draft_update_on(conn, schema, c, req, id, input)?;
    let rec = store_update_on(conn, schema, storage, w.rec, files, true)?;
    Ok(enrich_on(conn, schema, &w.req, rec, w.access.manager))
}

/// The checks and preparation of a batch update, up to the record to store.
pub(crate) fn draft_update_on(conn: &Connection, schema: &Schema, c: Arc<Collection>, req: RequestInfo, id: &str, input: WriteInput) -> ApiResult<PreparedWrite> {
    let UpdateDraft { mut rec, req, body, access } = draft_update(conn, schema, c, req, id, input)?;
    check_auth_form(&rec, &body, access).into_result(UPDATE_FAILED)?;
    super::write::hash_passwords_blocking(&mut rec);
    prepare_update(&mut rec);
    Ok(PreparedWrite { rec, req, access })
}

/// Validates (see [`insert_on`]) and stores a batch update on the caller's transaction.
pub(crate) fn store_update_on(conn: &Connection, schema: &Schema, storage: &dyn FileStorage, mut rec: Record, files: &mut BatchFiles, validate: bool) -> ApiResult<Record> {
    if validate {
        validate_record(conn, schema, &rec).into_result(UPDATE_FAILED)?;
    }
    let names = upload_files(storage, &rec)?;
    files.uploaded.push((rec.clone(), names));
    persist::update(conn, &rec)?;
    files.removed.push((rec.collection.id.clone(), rec.id().to_string(), removed_file_names(&rec)));
    rec.mark_stored();
    Ok(rec)
}

/// Files touched by a batch: the uploads (removed again on rollback) and the files and
/// record directories to delete once it committed.
#[derive(Default)]
pub(crate) struct BatchFiles {
    pub uploaded: Vec<(Record, Vec<String>)>,
    /// (collectionId, recordId, file names) replaced or removed by updates.
    pub removed: Vec<(String, String, Vec<String>)>,
    /// (collectionId, recordId) of deleted records.
    pub deleted: Vec<(String, String)>,
}

impl BatchFiles {
    /// After a rollback: removes every uploaded file.
    pub fn discard(&self, conn: &Connection, storage: &dyn FileStorage) {
        for (rec, names) in &self.uploaded {
            discard_uploads(conn, storage, rec, names);
        }
    }

    /// After the commit: removes the files the writes replaced or orphaned.
    pub fn finish(&self, schema: &Schema, storage: &dyn FileStorage) {
        for (collection_id, record_id, names) in &self.removed {
            delete_files(storage, collection_id, record_id, names);
        }
        delete_record_dirs(storage, schema, &self.deleted);
    }
}

/// The record a delete removes (404 when missing or filtered out by the delete rule).
pub(crate) fn find_for_delete(conn: &Connection, schema: &Schema, c: &Arc<Collection>, req: &RequestInfo, id: &str) -> ApiResult<Record> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(c, RuleKind::Delete, req)?;
    find_with_rule_on(conn, schema, c, req, id, rule)?.ok_or_else(|| ApiError::not_found(""))
}

/// Deletes a record with its cascade inside the caller's transaction, listing the deleted
/// records for the removal of their files after the commit.
fn delete_checked(conn: &Connection, schema: &Schema, rec: &Record, deleted: &mut Vec<(String, String)>) -> ApiResult<()> {
    ensure_not_last_superuser(conn, rec)?;
    persist::delete_collecting(conn, schema, rec, 0, deleted)
}

pub async fn delete(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str) -> ApiResult<()> {
    let (schema, id2) = (app.schema(), id.to_string());
    let rec = app.data.read(move |conn| find_for_delete(conn, &schema, &c, &req, &id2)).await?;
    let (db, schema, storage) = (app.data.clone(), app.schema(), files::storage(app));
    let write: RecordWrite = Box::new(move |rec| {
        Box::pin(async move {
            db.write(move |conn| {
                let mut deleted = vec![];
                let tx = conn.transaction()?;
                delete_checked(&tx, &schema, &rec, &mut deleted)?;
                tx.commit()?;
                delete_record_dirs(storage.as_ref(), &schema, &deleted);
                Ok(rec)
            })
            .await
        })
    });
    hooked::delete(app, rec, write).await.map(|_| ())
}

/// The batch flavour of [`delete`] (see [`create_on`]).
pub(crate) fn delete_on(conn: &Connection, schema: &Schema, c: Arc<Collection>, req: &RequestInfo, id: &str, files: &mut BatchFiles) -> ApiResult<()> {
    let rec = find_for_delete(conn, schema, &c, req, id)?;
    remove_on(conn, schema, &rec, files)
}

/// Deletes a batch's record with its cascade on the caller's transaction.
pub(crate) fn remove_on(conn: &Connection, schema: &Schema, rec: &Record, files: &mut BatchFiles) -> ApiResult<()> {
    delete_checked(conn, schema, rec, &mut files.deleted)
}

/// The placeholder superuser of a fresh install goes away once a real one exists.
fn remove_installer_superuser(tx: &Connection, rec: &Record) -> ApiResult<()> {
    if rec.collection.is_superusers() && rec.get_str("email") != crate::superusers::INSTALLER_EMAIL {
        tx.execute("DELETE FROM `_superusers` WHERE email = ?1", [crate::superusers::INSTALLER_EMAIL])?;
    }
    Ok(())
}

fn ensure_not_last_superuser(tx: &Connection, rec: &Record) -> ApiResult<()> {
    if !rec.collection.is_superusers() {
        return Ok(());
    }
    let total: i64 = tx.query_row("SELECT count(*) FROM `_superusers`", [], |r| r.get(0))?;
    if total <= 1 {
        return Err(ApiError::bad_request("You can't delete the only existing superuser."));
    }
    Ok(())
}

/// Removes the storage directories of deleted records whose collection has file fields.
fn delete_record_dirs(storage: &dyn FileStorage, schema: &Schema, deleted: &[(String, String)]) {
    for (collection_id, record_id) in deleted {
        let has_files = schema.find(collection_id).map(|c| c.fields.iter().any(|f| f.kind == FieldType::File)).unwrap_or(true);
        if has_files {
            if let Err(e) = storage.delete_prefix(&files::record_dir(collection_id, record_id)) {
                tracing::warn!("failed to delete files of {collection_id}/{record_id}: {e}");
            }
        }
    }
}

/// Whether the requester may access a stored record under `rule` (None: superusers only,
/// "": everyone), PocketBase's `CanAccessRecord`.
pub async fn can_access(app: &App, rec: Arc<Record>, req: RequestInfo, rule: Option<String>) -> bool {
    if req.is_superuser() {
        return true;
    }
    match rule {
        None => false,
        Some(r) if r.trim().is_empty() => true,
        Some(r) => {
            let schema = app.schema();
            app.data.read(move |conn| Ok(stored_record_matches(conn, &schema, &rec, &req, &r))).await.unwrap_or(false)
        }
    }
}
