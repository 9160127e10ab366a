// dbx's query builders on `$app.db()` (select/insert/update/delete next to `newQuery`) and
// `$app.recordQuery(collection)`, whose `all()`/`one()` load full Record objects. The SQL
// is built here (with `{:name}` placeholders the host binds) and runs through the `db`
// imports, so it joins an open transaction like every other `$app` call. Builds on
// app.js's internals (`__pbi`).
(function (global) {
  "use strict";

  const pbi = global.__pbi;
  const { host, Expression, bindValue, quoteNames, shaped, recordsByIds, dao, collectionOf, DaoError, NO_ROWS } = pbi;
  const { $app, Record, DynamicModel } = global;

  function quoteIdent(name) {
    return name === "*" ? "*" : "`" + name.replace(/`/g, "``") + "`";
  }

  // dbx's QuoteColumnName: `a.b` -> `a`.`b`, `x AS y` -> `x` AS `y`; expressions (anything
  // with parentheses, spaces or placeholders) are left as they are
  function quoteColumn(col) {
    const s = String(col).trim();
    const m = /^([\w.*]+)(?:\s+(?:as\s+)?(\w+))?$/i.exec(s);
    if (!m) return quoteNames(s);
    const name = m[1].split(".").map(quoteIdent).join(".");
    return m[2] ? name + " AS " + quoteIdent(m[2]) : name;
  }

  function quoteOrder(col) {
    const m = /^([\w.]+)(\s+(?:asc|desc))?$/i.exec(String(col).trim());
    if (!m) return quoteNames(String(col));
    return m[1].split(".").map(quoteIdent).join(".") + (m[2] ? " " + m[2].trim().toUpperCase() : "");
  }

  function render(expr, params) {
    if (expr == null) return "";
    if (expr instanceof Expression) return expr.build(params);
    return quoteNames(String(expr));
  }

  function conditions(list, params) {
    let sql = "";
    for (const { op, expr } of list) {
      const part = render(expr, params);
      if (!part) continue;
      sql = sql ? "(" + sql + ") " + op + " (" + part + ")" : part;
    }
    return sql;
  }

  // Fills `target` from `rows` as dbx scans: arrays are replaced by one item per row
  // (shaped like their `arrayOf` template), objects take the first row.
  function scanAll(target, rows, toRecords) {
    if (!Array.isArray(target)) return;
    const tpl = target.__template;
    target.length = 0;
    if (tpl instanceof Record) for (const r of toRecords()) target.push(r);
    else for (const r of rows) target.push(tpl instanceof DynamicModel ? shaped(tpl.__shape, r) : r);
  }

  function scanOne(target, row) {
    if (target instanceof DynamicModel) Object.assign(target, shaped(target.__shape, row));
    else if (target && typeof target === "object") Object.assign(target, row);
  }

  class SelectQuery {
    constructor(columns) {
      this.__select = columns.slice();
      this.__distinct = false;
      this.__from = [];
      this.__joins = [];
      this.__where = [];
      this.__groupBy = [];
      this.__having = [];
      this.__orderBy = [];
      this.__limit = -1;
      this.__offset = -1;
      this.__params = {};
      this.__collection = null; // set by recordQuery
    }
    select(...cols) { this.__select = cols; return this; }
    andSelect(...cols) { this.__select = this.__select.concat(cols); return this; }
    distinct(v) { this.__distinct = v === undefined ? true : !!v; return this; }
    from(...tables) { this.__from = tables; return this; }
    where(e) { this.__where = e ? [{ op: "AND", expr: e }] : []; return this; }
    andWhere(e) { if (e) this.__where.push({ op: "AND", expr: e }); return this; }
    orWhere(e) { if (e) this.__where.push({ op: "OR", expr: e }); return this; }
    innerJoin(table, on) { this.__joins.push(["INNER JOIN", table, on]); return this; }
    leftJoin(table, on) { this.__joins.push(["LEFT JOIN", table, on]); return this; }
    rightJoin(table, on) { this.__joins.push(["RIGHT JOIN", table, on]); return this; }
    join(type, table, on) { this.__joins.push([String(type), table, on]); return this; }
    groupBy(...cols) { this.__groupBy = cols; return this; }
    andGroupBy(...cols) { this.__groupBy = this.__groupBy.concat(cols); return this; }
    having(e) { this.__having = e ? [{ op: "AND", expr: e }] : []; return this; }
    andHaving(e) { if (e) this.__having.push({ op: "AND", expr: e }); return this; }
    orHaving(e) { if (e) this.__having.push({ op: "OR", expr: e }); return this; }
    orderBy(...cols) { this.__orderBy = cols; return this; }
    andOrderBy(...cols) { this.__orderBy = this.__orderBy.concat(cols); return this; }
    limit(n) { this.__limit = Number(n); return this; }
    offset(n) { this.__offset = Number(n); return this; }
    bind(p) { this.__params = Object.assign({}, p || {}); return this; }
    andBind(p) { Object.assign(this.__params, p || {}); return this; }

    // -> [sql, params]
    __sql() {
      const params = Object.assign({}, this.__params);
      const cols = this.__select.length ? this.__select.map(quoteColumn).join(", ") : "*";
      let sql = "SELECT " + (this.__distinct ? "DISTINCT " : "") + cols;
      if (this.__from.length) sql += " FROM " + this.__from.map(quoteColumn).join(", ");
      for (const [kind, table, on] of this.__joins) {
        sql += " " + kind + " " + quoteColumn(table);
        const cond = render(on, params);
        if (cond) sql += " ON " + cond;
      }
      const where = conditions(this.__where, params);
      if (where) sql += " WHERE " + where;
      if (this.__groupBy.length) sql += " GROUP BY " + this.__groupBy.map(quoteColumn).join(", ");
      const having = conditions(this.__having, params);
      if (having) sql += " HAVING " + having;
      if (this.__orderBy.length) sql += " ORDER BY " + this.__orderBy.map(quoteOrder).join(", ");
      if (this.__limit >= 0) sql += " LIMIT " + Math.trunc(this.__limit);
      if (this.__offset > 0) sql += (this.__limit >= 0 ? "" : " LIMIT -1") + " OFFSET " + Math.trunc(this.__offset);
      return [quoteNames(sql), params];
    }
    __rows() {
      const [sql, params] = this.__sql();
      return JSON.parse(dao(host.dbQuery, sql, params));
    }
    // the records of the selected rows (recordQuery), in row order
    __records(rows) {
      return recordsByIds(this.__collection.name, rows.map((r) => r.id));
    }
    build() { return this; }
    getSQL() { return this.__sql()[0]; }
    all(target) {
      const rows = this.__rows();
      const records = () => this.__records(rows);
      if (this.__collection && Array.isArray(target) && !(target.__template instanceof DynamicModel)) {
        const list = records();
        target.length = 0;
        for (const r of list) target.push(r);
        return list;
      }
      scanAll(target, rows, records);
      return rows;
    }
    one(target) {
      const saved = this.__limit;
      this.__limit = 1;
      let rows;
      try { rows = this.__rows(); } finally { this.__limit = saved; }
      if (!rows.length) throw new DaoError(NO_ROWS, 404);
      if (this.__collection && (target instanceof Record || target === undefined)) {
        const [found] = this.__records(rows);
        if (!found) throw new DaoError(NO_ROWS, 404);
        if (target instanceof Record) {
          target.__collection = found.__collection;
          target.__collectionRef = found.__collectionRef;
          target.__refresh(Object.assign({ collectionId: found.__collectionRef }, found.__data));
          return target;
        }
        return found;
      }
      scanOne(target, rows[0]);
      return rows[0];
    }
    // the first column of every row
    column(target) {
      const values = this.__rows().map((r) => r[Object.keys(r)[0]]);
      if (Array.isArray(target)) { target.length = 0; for (const v of values) target.push(v); }
      return values;
    }
    // the first row's values, in column order
    row() {
      const rows = this.__rows();
      if (!rows.length) throw new DaoError(NO_ROWS, 404);
      return Object.values(rows[0]);
    }
  }

  function exec(sql, params) {
    const n = dao(host.dbExec, quoteNames(sql), params);
    return { rowsAffected: () => n, lastInsertId: () => 0 };
  }

  function writeQuery(build) {
    return {
      execute() { const params = {}; return exec(build(params), params); },
      build() { return this; },
    };
  }

  function whereClause(where, params) {
    const cond = render(where, params);
    return cond ? " WHERE " + cond : "";
  }

  function builder(base) {
    return Object.assign({}, base, {
      select: (...cols) => new SelectQuery(cols),
      insert: (table, cols) => writeQuery((p) => {
        const keys = Object.keys(cols || {});
        return "INSERT INTO " + quoteColumn(table) + " (" + keys.map(quoteIdent).join(", ") + ") VALUES (" +
          keys.map((k) => bindValue(p, cols[k])).join(", ") + ")";
      }),
      update: (table, cols, where) => writeQuery((p) => {
        const sets = Object.keys(cols || {}).map((k) => quoteIdent(k) + "=" + bindValue(p, cols[k]));
        return "UPDATE " + quoteColumn(table) + " SET " + sets.join(", ") + whereClause(where, p);
      }),
      delete: (table, where) => writeQuery((p) => "DELETE FROM " + quoteColumn(table) + whereClause(where, p)),
    });
  }

  const baseDb = $app.db;
  Object.assign($app, {
    db() { return builder(baseDb.call(this)); },
    nonconcurrentDB() { return this.db(); },
    concurrentDB() { return this.db(); },
    // PocketBase's RecordQuery: a select of the collection's rows whose all()/one() load
    // Record objects (or scan into DynamicModels)
    recordQuery(collection) {
      const c = collectionOf(collection);
      const q = new SelectQuery(["{{" + c.name + "}}.*"]).from(c.name);
      q.__collection = c;
      return q;
    },
  });
})(globalThis);
