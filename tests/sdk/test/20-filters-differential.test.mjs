// Differential test of the filter/rule language: the same dataset is created on the real
// PocketBase (the oracle) and on the server under test, then every filter expression of
// lib/filter-cases.mjs is run on both and the answers must be identical:
//   * superuser lists: getList(1, 200, {filter, sort}) → HTTP status; for 200 the ordered ids and
//     totalItems; for errors the status and the error envelope,
//   * the same for a subset as a guest and as a regular user (collection listRules with
//     @request.auth and relations, joined-collection listRules, hidden fields, email visibility),
//   * API-rule scenarios (list/view/create/update/delete on collections whose rules use relations,
//     back-relations, @collection, @request.body/query/headers/auth and modifiers).
// Nothing here encodes an expected answer: PocketBase's answer is the expectation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { ClientResponseError } from 'pocketbase';
import { adminClient, client } from '../lib/client.mjs';
import {
  RULE_STEPS, SEED_STEPS, SEEDED_COLLECTIONS, SUPERUSER_CASES, USER_CASES, USERS,
} from '../lib/filter-cases.mjs';
import {
  pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer,
} from '../lib/server.mjs';

const POCKETBASE = pocketbaseBin();
const POCKETBUN = pocketbunBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping filter differential tests: ${SKIP}`);

const VOLATILE = ['created', 'updated', 'collectionId']; // collectionId is deterministic but kept out of diffs

/** Per-server state: {name, server, seed: {step name → outcome}, clients: {admin, guest, alice, …}}. */
const ref = { name: 'PocketBase' };
const sut = { name: 'PocketBun' };

/** Agreement counters per section, printed at the end. */
const tally = {};
function count(section, ok) {
  tally[section] ??= { agree: 0, total: 0 };
  tally[section].total += 1;
  if (ok) tally[section].agree += 1;
}

/** Starts a server, seeds it (recording each step's outcome) and signs the users in. */
async function setUp(side, bin) {
  side.server = await startServer({ bin });
  const admin = await adminClient(side.server.url);
  side.seed = {};
  for (const seedStep of SEED_STEPS) side.seed[seedStep.name] = await seedStep.run(admin);
  side.clients = { admin, guest: client(side.server.url) };
  side.loginErrors = {};
  for (const [name, user] of Object.entries(USERS)) {
    const pb = client(side.server.url);
    try {
      await pb.collection('authors').authWithPassword(user.email, user.password);
      side.clients[name] = pb;
    } catch (err) {
      side.loginErrors[name] = `${name} could not sign in on ${side.name}: ${err.status} ${JSON.stringify(err.response)}`;
    }
  }
}

/** The SDK client of `as`; a failed sign-in fails the calling test with its reason. */
function clientOf(side, as) {
  const pb = side.clients[as];
  if (!pb) throw new Error(side.loginErrors[as] ?? `no client ${as}`);
  return pb;
}

const strip = (record) => {
  const copy = { ...record };
  for (const key of VOLATILE) delete copy[key];
  return copy;
};

/** Turns an SDK failure into a comparable value; rethrows anything that is not an HTTP error. */
function failure(err) {
  if (!(err instanceof ClientResponseError) || !err.status) throw err;
  return { status: err.status, error: err.response };
}

/** A list call → {status, totalItems, ids} or {status, error}. */
async function list(side, as, { coll, filter = '', sort = 'id', query = {}, headers }) {
  try {
    const res = await clientOf(side, as).collection(coll).getList(1, 200, { filter, sort, ...query, headers });
    return { status: 200, totalItems: res.totalItems, ids: res.items.map((r) => r.id) };
  } catch (err) {
    return failure(err);
  }
}

/** One rule-scenario step → a comparable outcome. */
async function step(side, { as, op, coll, id, body, ...rest }) {
  if (op === 'list') {
    const res = await list(side, as, { coll, ...rest });
    if (res.status !== 200 || as !== 'admin') return res;
    // the final superuser listing compares the stored records too
    const records = await side.clients.admin.collection(coll).getFullList({ sort: 'id' });
    return { ...res, records: records.map(strip) };
  }
  const records = clientOf(side, as).collection(coll);
  try {
    if (op === 'view') return { status: 200, record: strip(await records.getOne(id)) };
    if (op === 'create') return { status: 200, record: strip(await records.create(body)) };
    if (op === 'update') return { status: 200, record: strip(await records.update(id, body)) };
    if (op === 'delete') return { status: 204, deleted: await records.delete(id) };
  } catch (err) {
    return failure(err);
  }
  throw new Error(`unknown op ${op}`);
}

const show = (value) => JSON.stringify(value);
const title = (text, max = 150) => {
  const flat = text.replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat;
};

/** Runs the same call on both servers and requires identical outcomes. */
async function differential(section, describeCall, call) {
  let expected;
  let actual;
  try {
    [expected, actual] = await Promise.all([call(ref), call(sut)]);
  } catch (err) {
    count(section, false);
    throw err;
  }
  count(section, isDeepStrictEqual(actual, expected));
  assert.deepEqual(actual, expected, `${describeCall}\n  PocketBase: ${show(expected)}\n  PocketBun:  ${show(actual)}`);
}

describe('filter language: PocketBase vs the server under test', { skip: SKIP }, () => {
  before(async () => {
    await Promise.all([setUp(ref, POCKETBASE), setUp(sut, POCKETBUN)]);
  });

  after(async () => {
    await Promise.all([ref.server?.stop(), sut.server?.stop()]);
    const sections = Object.entries(tally);
    const all = sections.reduce((acc, [, t]) => ({ agree: acc.agree + t.agree, total: acc.total + t.total }), { agree: 0, total: 0 });
    const parts = sections.map(([name, t]) => `${name} ${t.agree}/${t.total}`).join(', ');
    console.log(`filter differential summary: ${all.agree}/${all.total} agree (${parts}) — ${POCKETBUN} vs ${POCKETBASE}`);
  });

  describe('seeding (the same API calls on both servers)', () => {
    for (const seedStep of SEED_STEPS) {
      const { name } = seedStep;
      it(title(name), () => differential('seed', name, async (side) => side.seed[name]));
    }
    for (const coll of SEEDED_COLLECTIONS) {
      it(`the ${coll} records are identical`, () => differential('seed', `${coll} records`,
        async (side) => (await side.clients.admin.collection(coll).getFullList({ sort: 'id' })).map(strip)));
    }
  });

  describe('superuser filters', () => {
    for (const c of SUPERUSER_CASES) {
      const name = `[${c.coll}${c.sort ? ` sort=${c.sort}` : ''}] ${c.filter}`;
      it(title(name), () => differential('superuser', name, (side) => list(side, 'admin', c)));
    }
  });

  for (const as of ['guest', 'bob']) {
    describe(`${as} filters (collection rules apply)`, () => {
      for (const c of USER_CASES) {
        const name = `[${c.coll} as ${as}${c.sort ? ` sort=${c.sort}` : ''}] ${c.filter}`;
        it(title(name), () => differential(as, name, (side) => list(side, as, c)));
      }
    });
  }

  describe('API rule scenarios (sequential)', () => {
    for (const s of RULE_STEPS) {
      it(title(s.name), () => differential('rules', s.name, (side) => step(side, s)));
    }
  });
});
