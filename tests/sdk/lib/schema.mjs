// Expected shapes of collection/field JSON as PocketBase 0.40 returns them.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of a UTF-8 string, as an unsigned integer. */
export function crc32(str) {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(str, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Auto-generated collection id: `pbc_` + crc32(type + name). */
export const collectionIdFor = (type, name) => `pbc_${crc32(type + name)}`;

/** Auto-generated field id: type + crc32(name). */
export const fieldIdFor = (type, name) => `${type}${crc32(name)}`;

export const SUPERUSERS_ID = 'pbc_3142635823';

// Type-specific option keys with their defaults.
const TYPE_DEFAULTS = {
  text: { autogeneratePattern: '', max: 0, min: 0, pattern: '', primaryKey: false },
  number: { max: null, min: null, onlyInt: false },
  bool: {},
  email: { exceptDomains: [], onlyDomains: [] },
  url: { exceptDomains: [], onlyDomains: [] },
  editor: { convertURLs: false, maxSize: 0 },
  date: { max: '', min: '' },
  autodate: { onCreate: false, onUpdate: false },
  select: { maxSelect: 0, values: [] },
  file: { maxSelect: 0, maxSize: 0, mimeTypes: [], protected: false, thumbs: [] },
  relation: { cascadeDelete: false, collectionId: '', maxSelect: 0, minSelect: 0 },
  json: { maxSize: 0 },
  geoPoint: {},
  password: { cost: 0, max: 0, min: 0, pattern: '' },
};

export const FIELD_TYPES = Object.keys(TYPE_DEFAULTS);

/** The full JSON of a field as returned by the API, with every default option key. */
export function expectedField(type, name, overrides = {}) {
  if (!(type in TYPE_DEFAULTS)) throw new Error(`unknown field type ${type}`);
  const common = { hidden: false, id: fieldIdFor(type, name), name, presentable: false, system: false, type };
  // autodate fields have neither `help` nor `required`
  if (type !== 'autodate') Object.assign(common, { help: '', required: false });
  return { ...common, ...TYPE_DEFAULTS[type], ...overrides };
}

/** The `id` primary key field every base/auth collection starts with. */
export const ID_FIELD = expectedField('text', 'id', {
  autogeneratePattern: '[a-z0-9]{15}',
  max: 15,
  min: 15,
  pattern: '^[a-z0-9]+$',
  primaryKey: true,
  required: true,
  system: true,
});

/** System fields PocketBase appends to auth collections (after the user's fields). */
export const AUTH_SYSTEM_FIELDS = [
  expectedField('password', 'password', { hidden: true, min: 8, required: true, system: true }),
  expectedField('text', 'tokenKey', {
    autogeneratePattern: '[a-zA-Z0-9]{50}', hidden: true, max: 60, min: 30, required: true, system: true,
  }),
  expectedField('email', 'email', { required: true, system: true }),
  expectedField('bool', 'emailVisibility', { system: true }),
  expectedField('bool', 'verified', { system: true }),
];

/** The two unique indexes every auth collection gets. */
export const authIndexes = (collectionId, name) => [
  `CREATE UNIQUE INDEX \`idx_tokenKey_${collectionId}\` ON \`${name}\` (\`tokenKey\`)`,
  `CREATE UNIQUE INDEX \`idx_email_${collectionId}\` ON \`${name}\` (\`email\`) WHERE \`email\` != ''`,
];

/** Index a collection's fields by name. */
export const fieldsByName = (collection) => Object.fromEntries(collection.fields.map((f) => [f.name, f]));
