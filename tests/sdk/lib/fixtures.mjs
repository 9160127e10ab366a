// Collections shared by several test files.
import { collectionIdFor } from './schema.mjs';

export const PUBLIC_RULES = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };

export const TAGS = 'tags';
export const TAGS_ID = collectionIdFor('base', TAGS);

/** A base collection with one field of every type (plus single/multi variants). */
export const ITEMS = 'items';
export const ITEMS_ID = collectionIdFor('base', ITEMS);
export const itemsCollection = (extra = {}) => ({
  name: ITEMS,
  ...PUBLIC_RULES,
  fields: [
    { name: 'title', type: 'text', required: true },
    { name: 'code', type: 'text', autogeneratePattern: '[A-Z]{4}' },
    { name: 'num', type: 'number' },
    { name: 'count', type: 'number', onlyInt: true, max: 100 },
    { name: 'flag', type: 'bool' },
    { name: 'mail', type: 'email' },
    { name: 'site', type: 'url' },
    { name: 'body', type: 'editor' },
    { name: 'due', type: 'date' },
    { name: 'status', type: 'select', values: ['draft', 'published', 'archived'] },
    { name: 'labels', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
    { name: 'doc', type: 'file' },
    { name: 'docs', type: 'file', maxSelect: 5 },
    { name: 'tag', type: 'relation', collectionId: TAGS_ID, maxSelect: 1 },
    { name: 'tagz', type: 'relation', collectionId: TAGS_ID, maxSelect: 5 },
    { name: 'data', type: 'json' },
    { name: 'loc', type: 'geoPoint' },
    { name: 'secret', type: 'password' },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  ...extra,
});

/** The value of every `items` field on a record created with only a title. */
export const ITEM_ZERO_VALUES = {
  code: '', // overwritten by autogenerate: checked separately
  num: 0,
  count: 0,
  flag: false,
  mail: '',
  site: '',
  body: '',
  due: '',
  status: '',
  labels: [],
  doc: '',
  docs: [],
  tag: '',
  tagz: [],
  data: null,
  loc: { lon: 0, lat: 0 },
  secret: '',
};

/** Creates `tags` (public) and `items`; returns the created tag records {t1, t2, t3}. */
export async function createTagsAndItems(pb) {
  await pb.collections.create({ name: TAGS, ...PUBLIC_RULES, fields: [{ name: 'name', type: 'text' }] });
  await pb.collections.create(itemsCollection());
  const tags = {};
  for (const name of ['t1', 't2', 't3']) tags[name] = await pb.collection(TAGS).create({ name });
  return tags;
}

/** Drops volatile keys (dates) so two record JSONs can be compared. */
export function withoutDates(record, keys = ['created', 'updated']) {
  const copy = { ...record };
  for (const k of keys) delete copy[k];
  return copy;
}
