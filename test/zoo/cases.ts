/**
 * The zoo's cases: small schemas, one family each, as real applications build them. `$P` is the
 * case's unique prefix (for roles, which are cluster-wide). `wrongToday` names why dbdrill's
 * verdict is wrong today; docs/zoo-findings.md gives each root cause and the proposed fix.
 */
import type { ZooCase } from './harness.js';

/** A writer that inserts one row per statement while the backup runs (snapshot consistency). */
const liveWriter: ZooCase['duringBackup'] = async (ctx) => {
  let stopped = false;
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: ctx.url, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  const loop = (async () => {
    while (!stopped) {
      await client.query(
        `WITH o AS (INSERT INTO ledger (amount) VALUES (1) RETURNING id)
         UPDATE totals SET n = n + 1, last_id = (SELECT id FROM o)`,
      );
    }
  })();
  // let it write before the backup starts
  await new Promise((r) => setTimeout(r, 200));
  return async () => {
    stopped = true;
    await loop.catch(() => undefined);
    await client.end().catch(() => undefined);
  };
};

export const ZOO_CASES: ZooCase[] = [
  // ---------------------------------------------------------------- names and quoting
  {
    id: 'names-dotted-schema',
    family: 'names',
    covers: 'a schema and a table whose names contain "."',
    setup: `
      CREATE SCHEMA "acme.prod";
      CREATE TABLE "acme.prod"."orders.2024" (id int PRIMARY KEY, note text);
      INSERT INTO "acme.prod"."orders.2024" SELECT g, 'n' || g FROM generate_series(1, 50) g;
      CREATE INDEX "idx.note" ON "acme.prod"."orders.2024" (note);`,
  },
  {
    id: 'names-dotted-compare-url',
    family: 'names',
    covers: 'compare-url (production counts) with a schema whose name contains "."',
    setup: `
      CREATE SCHEMA "acme.prod";
      CREATE TABLE "acme.prod".items (id int PRIMARY KEY);
      INSERT INTO "acme.prod".items SELECT generate_series(1, 20);`,
    drillArgs: ['--compare-url', '$SOURCE'],
  },
  {
    id: 'names-paren-function',
    family: 'names',
    covers: 'functions whose names contain "(" and ")", overloads',
    setup: `
      CREATE FUNCTION public."calc(v2)"(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
      CREATE FUNCTION public."calc(v2)"(a text) RETURNS text LANGUAGE sql AS 'SELECT a || ''!''';
      CREATE FUNCTION public."odd)name"() RETURNS int LANGUAGE sql AS 'SELECT 1';
      CREATE TABLE t (id int);`,
  },
  {
    id: 'names-mixed-unicode-reserved',
    family: 'names',
    covers: 'mixed case, unicode, reserved words, spaces and double quotes in identifiers',
    setup: `
      CREATE SCHEMA "Sales Ünïcode";
      CREATE TABLE "Sales Ünïcode"."Order" ("select" int PRIMARY KEY, "Größe" text, "from" date, "we""ird" text);
      INSERT INTO "Sales Ünïcode"."Order" VALUES (1, 'groß', '2024-01-01', 'q"q'), (2, '東京', NULL, NULL);
      CREATE TABLE public."user" (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "group" text);
      INSERT INTO public."user" ("group") VALUES ('a'), ('b');
      CREATE VIEW "Sales Ünïcode"."Big Orders" AS SELECT * FROM "Sales Ünïcode"."Order" WHERE "select" > 1;
      COMMENT ON TABLE "Sales Ünïcode"."Order" IS 'Bestellungen — 注文';`,
  },
  // ---------------------------------------------------------------- types and table kinds
  {
    id: 'types-enum-composite-domain',
    family: 'types',
    covers: 'enum, composite, domain with CHECK and NOT NULL, arrays of each',
    setup: `
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE TYPE address AS (street text, zip text);
      CREATE DOMAIN email AS text NOT NULL CHECK (VALUE LIKE '%@%');
      CREATE DOMAIN posint AS int DEFAULT 1 CHECK (VALUE > 0);
      CREATE TABLE people (id int PRIMARY KEY, m mood, moods mood[], home address, homes address[], mail email, n posint);
      INSERT INTO people VALUES
        (1, 'ok', '{sad,happy}', ROW('Main St', '123'), ARRAY[ROW('a','1')::address], 'a@b', 5),
        (2, NULL, '{}', NULL, NULL, 'c@d', 1);`,
  },
  {
    id: 'types-range-json-bytea-arrays',
    family: 'types',
    covers: 'ranges, multiranges, a custom range, json/jsonb, bytea with NULs, 2-D arrays, numerics',
    setup: `
      CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
      CREATE TABLE bag (
        id int PRIMARY KEY, r int4range, mr int4multirange, fr floatrange, ts tstzrange,
        j json, jb jsonb, b bytea, m int[][], n numeric(30, 10), f float8, iv interval, u uuid, inet inet);
      INSERT INTO bag VALUES
        (1, '[1,10)', '{[1,2),[5,7)}', '[1.5,2.5]', '[2024-01-01,2024-02-01)', '{"b":1, "a":[1,2]}', '{"b":1,"a":[1,2]}',
         '\\x00ff00', '{{1,2},{3,4}}', 12345678901234567890.0123456789, 1e-300, '1 year 2 mons', gen_random_uuid(), '10.0.0.1/8'),
        (2, 'empty', '{}', NULL, NULL, 'null', 'null', '', '{}', 'NaN', 'Infinity', '-1 day', NULL, '::1');`,
  },
  {
    id: 'columns-generated-identity',
    family: 'types',
    covers: 'generated stored columns, identity ALWAYS / BY DEFAULT with start and increment, serial',
    setup: `
      CREATE TABLE g (
        id int GENERATED ALWAYS AS IDENTITY (START 100 INCREMENT 5) PRIMARY KEY,
        other bigint GENERATED BY DEFAULT AS IDENTITY,
        s serial,
        price numeric, qty int,
        total numeric GENERATED ALWAYS AS (price * qty) STORED);
      INSERT INTO g (price, qty) SELECT g, g FROM generate_series(1, 30) g;
      INSERT INTO g (other, price, qty) VALUES (9999, 1, 1);`,
  },
  {
    id: 'tables-unlogged-toast-nocolumns',
    family: 'types',
    covers:
      'an unlogged table, large TOASTed values, a table with no columns, CHECK NOT VALID, a deferrable FK',
    setup: `
      CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text);
      INSERT INTO cache SELECT 'k' || g, repeat(md5(g::text), 500) FROM generate_series(1, 20) g;
      CREATE TABLE nothing ();
      INSERT INTO nothing DEFAULT VALUES; INSERT INTO nothing DEFAULT VALUES;
      CREATE TABLE parent (id int PRIMARY KEY);
      CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);
      ALTER TABLE child ADD CONSTRAINT id_small CHECK (id < 2) NOT VALID;
      INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);`,
  },
  // ---------------------------------------------------------------- partitions and inheritance
  {
    id: 'part-range-default-sub',
    family: 'partitions',
    covers: 'range partitions, a default partition, list sub-partitions',
    setup: `
      CREATE TABLE m (id int, day date, region text, PRIMARY KEY (id, day, region)) PARTITION BY RANGE (day);
      CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (region);
      CREATE TABLE m_2024_eu PARTITION OF m_2024 FOR VALUES IN ('eu');
      CREATE TABLE m_2024_other PARTITION OF m_2024 DEFAULT;
      CREATE TABLE m_default PARTITION OF m DEFAULT;
      INSERT INTO m SELECT g, date '2023-12-25' + g, (ARRAY['eu','us','ap'])[1 + g % 3] FROM generate_series(1, 400) g;`,
  },
  {
    id: 'part-list',
    family: 'partitions',
    covers: 'list partitions with several values and NULL, a default partition',
    setup: `
      CREATE TABLE l (id int, kind text) PARTITION BY LIST (kind);
      CREATE TABLE l_ab PARTITION OF l FOR VALUES IN ('a', 'b');
      CREATE TABLE l_null PARTITION OF l FOR VALUES IN (NULL);
      CREATE TABLE l_rest PARTITION OF l DEFAULT;
      INSERT INTO l SELECT g, (ARRAY['a','b','c',NULL])[1 + g % 4] FROM generate_series(1, 200) g;`,
  },
  {
    id: 'part-hash-int',
    family: 'partitions',
    covers: 'hash partitions on an integer key',
    setup: `
      CREATE TABLE h (id int PRIMARY KEY, v text) PARTITION BY HASH (id);
      CREATE TABLE h0 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 0);
      CREATE TABLE h1 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 1);
      CREATE TABLE h2 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 2);
      INSERT INTO h SELECT g, md5(g::text) FROM generate_series(1, 300) g;`,
  },
  {
    id: 'part-hash-enum',
    family: 'partitions',
    covers: 'hash partitions on an enum key (rows move between leaves across clusters)',
    setup: `
      CREATE TYPE color AS ENUM ('c01', 'c02', 'c03', 'c04', 'c05', 'c06', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12',
                                 'c13', 'c14', 'c15', 'c16', 'c17', 'c18', 'c19', 'c20', 'c21', 'c22', 'c23', 'c24');
      CREATE TABLE he (id int, c color) PARTITION BY HASH (c);
      CREATE TABLE he0 PARTITION OF he FOR VALUES WITH (MODULUS 4, REMAINDER 0);
      CREATE TABLE he1 PARTITION OF he FOR VALUES WITH (MODULUS 4, REMAINDER 1);
      CREATE TABLE he2 PARTITION OF he FOR VALUES WITH (MODULUS 4, REMAINDER 2);
      CREATE TABLE he3 PARTITION OF he FOR VALUES WITH (MODULUS 4, REMAINDER 3);
      INSERT INTO he SELECT g, (enum_range(NULL::color))[1 + g % 24] FROM generate_series(1, 240) g;`,
    // An enum label hashes by its OID. Burning a few thousand OIDs first keeps the source's labels
    // apart from the ones the scratch cluster will assign, so the rows really do move.
    pre: () => [
      `DO $$ BEGIN FOR i IN 1..1000 LOOP EXECUTE format('CREATE TEMP TABLE burn%s (a int)', i); END LOOP; END $$`,
    ],
  },
  {
    id: 'part-multilevel-hash',
    family: 'partitions',
    covers: 'range partitions sub-partitioned by hash, an attached partition with its own index',
    setup: `
      CREATE TABLE ev (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE ev_q1 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2024-04-01') PARTITION BY HASH (id);
      CREATE TABLE ev_q1_a PARTITION OF ev_q1 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE ev_q1_b PARTITION OF ev_q1 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      CREATE TABLE ev_q2 (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at));
      ALTER TABLE ev ATTACH PARTITION ev_q2 FOR VALUES FROM ('2024-04-01') TO ('2024-07-01');
      CREATE INDEX ev_at ON ev (at);
      INSERT INTO ev SELECT g, date '2024-01-01' + (g % 180) FROM generate_series(1, 500) g;`,
  },
  {
    id: 'inheritance',
    family: 'partitions',
    covers: 'classic inheritance: rows in the parent and children, an extra column, multiple inheritance',
    setup: `
      CREATE TABLE animal (id int, name text);
      CREATE TABLE dog (barks bool) INHERITS (animal);
      CREATE TABLE pet (owner text);
      CREATE TABLE cat (lives int) INHERITS (animal, pet);
      INSERT INTO animal VALUES (1, 'generic');
      INSERT INTO dog VALUES (2, 'rex', true), (3, 'fido', false);
      INSERT INTO cat VALUES (4, 'tom', 'ann', 9);`,
  },
  // ---------------------------------------------------------------- extensions
  {
    id: 'ext-contrib',
    family: 'extensions',
    covers: 'pgcrypto, hstore, citext, ltree, pg_trgm (GIN index), uuid-ossp, in public',
    setup: `
      CREATE EXTENSION pgcrypto; CREATE EXTENSION hstore; CREATE EXTENSION citext;
      CREATE EXTENSION ltree; CREATE EXTENSION pg_trgm; CREATE EXTENSION "uuid-ossp";
      CREATE TABLE doc (id uuid DEFAULT uuid_generate_v4() PRIMARY KEY, h hstore, e citext UNIQUE, path ltree,
                        body text, secret bytea);
      INSERT INTO doc (h, e, path, body, secret)
        SELECT hstore('k', g::text), 'User' || g || '@X.test', ('top.n' || g)::ltree, 'text ' || g,
               digest('s' || g, 'sha256') FROM generate_series(1, 40) g;
      CREATE INDEX doc_trgm ON doc USING gin (body gin_trgm_ops);
      CREATE INDEX doc_path ON doc USING gist (path);`,
  },
  {
    id: 'ext-other-schema',
    family: 'extensions',
    covers: 'hstore and citext installed in a schema of their own, used from public',
    setup: `
      CREATE SCHEMA ext;
      CREATE EXTENSION hstore SCHEMA ext; CREATE EXTENSION citext SCHEMA ext;
      CREATE TABLE kv (id int PRIMARY KEY, attrs ext.hstore, name ext.citext);
      INSERT INTO kv SELECT g, ext.hstore('a', g::text), 'Name' || g FROM generate_series(1, 25) g;
      CREATE INDEX kv_name ON kv (name);`,
  },
  {
    id: 'casts-operators-fdw-textsearch',
    family: 'extensions',
    covers:
      'a user cast, operator, aggregate, procedure, text search configuration and a file_fdw foreign table',
    setup: `
      CREATE TYPE money2 AS (units bigint);
      CREATE FUNCTION money2_from_int(i int) RETURNS money2 LANGUAGE sql IMMUTABLE AS 'SELECT ROW(i::bigint)::money2';
      CREATE CAST (int AS money2) WITH FUNCTION money2_from_int(int);
      CREATE FUNCTION money2_add(a money2, b money2) RETURNS money2 LANGUAGE sql IMMUTABLE
        AS 'SELECT ROW((a).units + (b).units)::money2';
      CREATE OPERATOR + (LEFTARG = money2, RIGHTARG = money2, FUNCTION = money2_add);
      CREATE AGGREGATE total(money2) (SFUNC = money2_add, STYPE = money2, INITCOND = '(0)');
      CREATE PROCEDURE reset_all() LANGUAGE sql AS 'SELECT 1';
      CREATE TEXT SEARCH CONFIGURATION english_simple (COPY = pg_catalog.english);
      CREATE EXTENSION file_fdw;
      CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
      CREATE FOREIGN TABLE passwd (line text) SERVER files OPTIONS (filename '/etc/hostname');
      CREATE TABLE wallet (id int, amount money2);
      INSERT INTO wallet VALUES (1, 5::money2), (2, 7::money2);`,
  },
  // ---------------------------------------------------------------- roles, grants, RLS
  {
    id: 'roles-grant-only',
    family: 'roles',
    covers: 'create-roles with no-acl=false: a role named only in GRANTs (table and column)',
    pre: (p) => [`CREATE ROLE ${p}_reader NOLOGIN`],
    setup: `
      CREATE TABLE secrets (id int, val text);
      INSERT INTO secrets VALUES (1, 'x');
      GRANT SELECT ON secrets TO $P_reader;
      GRANT UPDATE (val) ON secrets TO $P_reader;`,
    drillArgs: ['--create-roles', '--no-acl=false'],
  },
  {
    id: 'roles-rls-policy',
    family: 'roles',
    covers: 'create-roles: RLS enabled and forced, a policy TO a role named only by the policy',
    pre: (p) => [`CREATE ROLE ${p}_tenant NOLOGIN`],
    setup: `
      CREATE TABLE tenant_data (tenant text, v int);
      INSERT INTO tenant_data VALUES ('a', 1), ('b', 2);
      ALTER TABLE tenant_data ENABLE ROW LEVEL SECURITY;
      ALTER TABLE tenant_data FORCE ROW LEVEL SECURITY;
      CREATE POLICY by_tenant ON tenant_data TO $P_tenant USING (tenant = current_user);
      CREATE POLICY all_read ON tenant_data AS RESTRICTIVE FOR SELECT USING (v > 0);`,
    drillArgs: ['--create-roles'],
  },
  {
    id: 'roles-default-privileges',
    family: 'roles',
    covers: 'create-roles with no-acl=false: ALTER DEFAULT PRIVILEGES for and to roles owning nothing',
    pre: (p) => [`CREATE ROLE ${p}_deployer NOLOGIN`, `CREATE ROLE ${p}_app NOLOGIN`],
    setup: `
      CREATE TABLE t (id int);
      ALTER DEFAULT PRIVILEGES FOR ROLE $P_deployer IN SCHEMA public GRANT SELECT ON TABLES TO $P_app;
      ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO $P_app;`,
    drillArgs: ['--create-roles', '--no-acl=false'],
  },
  {
    id: 'roles-owner-kept',
    family: 'roles',
    covers: 'create-roles with no-owner=false: objects owned by a role are restored with their owner',
    pre: (p) => [`CREATE ROLE ${p}_owner NOLOGIN`],
    setup: `
      CREATE SCHEMA owned AUTHORIZATION $P_owner;
      CREATE TABLE owned.t (id int); ALTER TABLE owned.t OWNER TO $P_owner;
      INSERT INTO owned.t VALUES (1);
      CREATE FUNCTION owned.f() RETURNS int LANGUAGE sql AS 'SELECT 1'; ALTER FUNCTION owned.f() OWNER TO $P_owner;`,
    drillArgs: ['--create-roles', '--no-owner=false'],
  },
  {
    id: 'roles-policy-error-ignored',
    family: 'roles',
    covers: 'a policy TO a role absent from the scratch, its error ignored by ignore-restore-errors',
    pre: (p) => [`CREATE ROLE ${p}_auditor NOLOGIN`],
    setup: `
      CREATE TABLE audit (id int, who text);
      INSERT INTO audit VALUES (1, 'x');
      ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
      CREATE POLICY auditors ON audit FOR SELECT TO $P_auditor USING (true);`,
    drillArgs: ['--ignore-restore-errors', 'role ".*" does not exist # roles are not provisioned in scratch'],
  },
  {
    id: 'roles-defaults-public',
    family: 'roles',
    covers: 'default no-owner/no-acl: grants to PUBLIC and a policy for PUBLIC',
    setup: `
      CREATE TABLE notes (id int, body text);
      INSERT INTO notes VALUES (1, 'hi');
      GRANT SELECT ON notes TO PUBLIC;
      ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
      CREATE POLICY everyone ON notes FOR SELECT USING (id > 0);`,
  },
  // ---------------------------------------------------------------- large objects, matviews
  {
    id: 'large-objects',
    family: 'large objects',
    covers: 'empty, small and 1 MiB large objects, a comment on one, a table referencing them',
    setup: `
      CREATE TABLE files (id int PRIMARY KEY, body oid);
      INSERT INTO files VALUES
        (1, lo_from_bytea(0, '')),
        (2, lo_from_bytea(0, convert_to('hello large object', 'UTF8'))),
        (3, lo_from_bytea(0, decode(repeat(md5('x'), 32768), 'hex')));
      DO $$ BEGIN EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', (SELECT body FROM files WHERE id = 2), 'greeting'); END $$;`,
  },
  {
    id: 'matviews',
    family: 'matviews',
    covers: 'a populated materialized view with an index, one WITH NO DATA, one built on another',
    setup: `
      CREATE TABLE sales (id int, amount numeric);
      INSERT INTO sales SELECT g, g * 1.5 FROM generate_series(1, 100) g;
      CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n, sum(amount) AS s FROM sales;
      CREATE UNIQUE INDEX totals_n ON totals (n);
      CREATE MATERIALIZED VIEW later AS SELECT id FROM sales WITH NO DATA;
      CREATE MATERIALIZED VIEW derived AS SELECT n * 2 AS n2 FROM totals;`,
  },
  // ---------------------------------------------------------------- triggers, rules, event triggers
  {
    id: 'triggers-rules-events',
    family: 'triggers',
    covers: 'row and statement triggers, a disabled trigger, a constraint trigger, a rule, an event trigger',
    setup: `
      CREATE TABLE items (id int PRIMARY KEY, updated timestamptz);
      CREATE TABLE log (msg text);
      CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := '2024-01-01'; RETURN NEW; END $$;
      CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (TG_OP); RETURN NULL; END $$;
      CREATE TRIGGER items_touch BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
      CREATE TRIGGER items_note AFTER DELETE ON items FOR EACH STATEMENT EXECUTE FUNCTION note();
      CREATE TRIGGER items_off AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION note();
      ALTER TABLE items DISABLE TRIGGER items_off;
      CREATE CONSTRAINT TRIGGER items_check AFTER INSERT ON items DEFERRABLE FOR EACH ROW EXECUTE FUNCTION note();
      INSERT INTO items (id) VALUES (1), (2);
      CREATE RULE no_delete_log AS ON DELETE TO log DO INSTEAD NOTHING;
      CREATE FUNCTION ddl_guard() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'ddl'; END $$;
      CREATE EVENT TRIGGER guard ON ddl_command_end WHEN TAG IN ('DROP TABLE') EXECUTE FUNCTION ddl_guard();`,
  },
  // ---------------------------------------------------------------- replication objects
  {
    id: 'publications-subscriptions',
    family: 'replication',
    covers: 'publications (tables, row filter, schema, all tables) and a connect = false subscription',
    pre: (p) => [
      `CREATE SUBSCRIPTION ${p}_sub CONNECTION 'host=127.0.0.1 port=1 dbname=none' PUBLICATION upstream WITH (connect = false)`,
    ],
    setup: `
      CREATE SCHEMA rep;
      CREATE TABLE rep.a (id int PRIMARY KEY, v int);
      CREATE TABLE b (id int PRIMARY KEY);
      INSERT INTO rep.a VALUES (1, 1); INSERT INTO b VALUES (1);
      CREATE PUBLICATION pub_tables FOR TABLE b, rep.a WHERE (v > 0);
      CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA rep;
      CREATE PUBLICATION pub_all FOR ALL TABLES WITH (publish = 'insert');`,
  },
  // ---------------------------------------------------------------- sequences
  {
    id: 'seq-increment-10',
    family: 'sequences',
    covers: 'a column fed by a sequence with INCREMENT 10 (last value within one step of the column)',
    setup: `
      CREATE SEQUENCE ten_seq INCREMENT 10 START 10;
      CREATE TABLE ten (id bigint DEFAULT nextval('ten_seq') PRIMARY KEY, v text);
      ALTER SEQUENCE ten_seq OWNED BY ten.id;
      INSERT INTO ten (v) SELECT 'x' FROM generate_series(1, 5);`,
  },
  {
    id: 'seq-descending',
    family: 'sequences',
    covers: 'a descending sequence (INCREMENT -1) feeding negative ids',
    setup: `
      CREATE SEQUENCE down_seq INCREMENT -1 MINVALUE -1000000 MAXVALUE -1 START -1;
      CREATE TABLE down (id int DEFAULT nextval('down_seq') PRIMARY KEY);
      ALTER SEQUENCE down_seq OWNED BY down.id;
      INSERT INTO down SELECT FROM generate_series(1, 7);`,
  },
  {
    id: 'seq-text-column',
    family: 'sequences',
    covers: 'a sequence owned by a text column (ids like "INV-12")',
    setup: `
      CREATE SEQUENCE inv_seq;
      CREATE TABLE invoice (code text DEFAULT 'INV-' || nextval('inv_seq') PRIMARY KEY);
      ALTER SEQUENCE inv_seq OWNED BY invoice.code;
      INSERT INTO invoice SELECT FROM generate_series(1, 12);`,
  },
  {
    id: 'seq-cycle-bounds-uncalled',
    family: 'sequences',
    covers: 'a cycling sequence past its wrap, an uncalled sequence, an identity with a custom start',
    setup: `
      CREATE SEQUENCE cyc MAXVALUE 5 CYCLE;
      SELECT nextval('cyc') FROM generate_series(1, 7);
      CREATE SEQUENCE fresh START 42;
      CREATE TABLE idt (id int GENERATED BY DEFAULT AS IDENTITY (START 1000) PRIMARY KEY);
      INSERT INTO idt DEFAULT VALUES; INSERT INTO idt DEFAULT VALUES;`,
  },
  {
    id: 'seq-behind-in-source',
    family: 'sequences',
    covers: 'a source whose sequence is already behind its column (an application bug, restored faithfully)',
    setup: `
      CREATE TABLE acct (id serial PRIMARY KEY);
      INSERT INTO acct SELECT generate_series(1, 10);
      INSERT INTO acct VALUES (500);
      SELECT setval('acct_id_seq', 20);`,
  },
  // ---------------------------------------------------------------- tablespaces
  {
    id: 'tablespace',
    family: 'tablespaces',
    covers: 'a table and an index in a non-default tablespace',
    setup: `
      CREATE TABLE spaced (id int PRIMARY KEY USING INDEX TABLESPACE zoo_space, v text) TABLESPACE zoo_space;
      INSERT INTO spaced SELECT g, 'v' FROM generate_series(1, 30) g;`,
  },
  // ---------------------------------------------------------------- encodings and collations
  {
    id: 'enc-sql-ascii-bytes',
    family: 'encodings',
    covers: 'a SQL_ASCII database holding LATIN1 bytes, drilled into a UTF8 scratch database',
    createDb: `TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'`,
    setup: `
      CREATE TABLE legacy (id int, name text);
      INSERT INTO legacy VALUES (1, convert_from('\\x4361666520e9', 'SQL_ASCII')), (2, 'plain');`,
  },
  {
    id: 'enc-latin1',
    family: 'encodings',
    covers: 'a LATIN1 database with accented text, drilled into a UTF8 scratch database',
    createDb: `TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`,
    setup: `
      CREATE TABLE names (id int, n text);
      INSERT INTO names VALUES (1, 'Zoë'), (2, 'Müller'), (3, 'façade');`,
  },
  {
    id: 'icu-database-partitions',
    family: 'encodings',
    covers: 'an ICU-collated database with text range partitions, drilled into a C scratch database',
    createDb: `TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C' LC_CTYPE 'C'`,
    setup: `
      CREATE TABLE words (w text) PARTITION BY RANGE (w);
      CREATE TABLE words_am PARTITION OF words FOR VALUES FROM ('a') TO ('m');
      CREATE TABLE words_mz PARTITION OF words FOR VALUES FROM ('m') TO ('zzz');
      INSERT INTO words VALUES ('apple'), ('Banana'), ('melon'), ('Zebra'), ('kiwi');`,
  },
  {
    id: 'icu-database-plain',
    family: 'encodings',
    covers: 'an ICU-collated database (ordering and unique indexes depend on it), drilled into a C scratch',
    createDb: `TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LC_COLLATE 'C' LC_CTYPE 'C'`,
    setup: `
      CREATE TABLE words (w text PRIMARY KEY);
      INSERT INTO words VALUES ('a'), ('B'), ('ä'), ('Z');`,
  },
  {
    id: 'icu-collation-objects',
    family: 'encodings',
    covers: 'ICU collation objects (nondeterministic, case-insensitive) on columns and indexes',
    setup: `
      CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
      CREATE COLLATION de_phone (provider = icu, locale = 'de-u-co-phonebk');
      CREATE TABLE users (name text COLLATE ci UNIQUE, sortkey text COLLATE de_phone);
      INSERT INTO users VALUES ('Alice', 'Äpfel'), ('bob', 'Zebra');
      CREATE INDEX users_sort ON users (sortkey);`,
  },
  // ---------------------------------------------------------------- live writers, cross-version
  {
    id: 'live-writers',
    family: 'live writes',
    covers: 'a writer inserting and updating in one transaction while the backup runs (snapshot consistency)',
    setup: `
      CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int);
      CREATE TABLE totals (n bigint, last_id bigint);
      INSERT INTO totals VALUES (0, 0);
      CREATE TABLE static (id int); INSERT INTO static SELECT generate_series(1, 100);`,
    duringBackup: liveWriter,
    skipRowsOf: ['public.ledger', 'public.totals'],
    skipSequences: ['public.ledger_id_seq'],
    extraOracle: async (source, copy) => {
      // The copy must be one consistent snapshot: totals agrees with ledger, and ledger is the
      // source's ledger up to that point, row for row.
      const t = (
        await copy.query<{ n: string; last: string }>(
          'SELECT n::text, last_id::text AS last FROM public.totals',
        )
      ).rows[0];
      const l = (
        await copy.query<{ n: string; d: string | null }>(
          `SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS d FROM public.ledger t`,
        )
      ).rows[0];
      const s = (
        await source.query<{ d: string | null }>(
          `SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS d FROM public.ledger t WHERE id <= $1`,
          [t?.last ?? '0'],
        )
      ).rows[0];
      const out: string[] = [];
      if (!t || t.n !== l.n) out.push(`live: totals.n ${t?.n} but ${l.n} ledger rows`);
      if (l.d !== s.d) out.push(`live: ledger is not the source's ledger up to id ${t?.last}`);
      // pg_dump reads sequences outside the snapshot: ahead of the rows is right, behind is not.
      const q = (await copy.query<{ v: string }>('SELECT last_value::text AS v FROM public.ledger_id_seq'))
        .rows[0];
      if (BigInt(q.v) < BigInt(t?.last ?? '0'))
        out.push(`live: ledger_id_seq at ${q.v}, below id ${t?.last}`);
      return out;
    },
  },
  {
    id: 'standby-source',
    family: 'standby',
    covers: 'backup from a hot standby (pg_basebackup -R) of a database with an unlogged table',
    fromStandby: true,
    setup: `
      CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept SELECT generate_series(1, 50);
      CREATE UNLOGGED TABLE scratch (k text); INSERT INTO scratch VALUES ('gone on a standby');`,
    // a standby has no unlogged data: pg_dump there dumps the table empty, legitimately
    skipRowsOf: ['public.scratch'],
  },
  {
    id: 'xver-17-mixed',
    family: 'cross-version',
    covers: 'the source major drilled into PostgreSQL 17: enums, ranges, partitions, identity, extension, LO',
    targetMajor: 17,
    setup: `
      CREATE EXTENSION citext;
      CREATE TYPE st AS ENUM ('new', 'done');
      CREATE TABLE job (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, s st, during tstzrange, who citext, doc oid)
        PARTITION BY RANGE (id);
      CREATE TABLE job_a PARTITION OF job FOR VALUES FROM (1) TO (100);
      CREATE TABLE job_b PARTITION OF job FOR VALUES FROM (100) TO (MAXVALUE);
      INSERT INTO job (s, during, who, doc)
        SELECT 'new', tstzrange('2024-01-01', '2024-01-02'), 'Who' || g, NULL FROM generate_series(1, 150) g;
      UPDATE job SET doc = lo_from_bytea(0, 'doc') WHERE id = 1;
      CREATE VIEW open_jobs AS SELECT id FROM job WHERE s = 'new';`,
  },
  // ---------------------------------------------------------------- tiers
  {
    id: 'tier-schema',
    family: 'tiers',
    covers: 'tier schema: every object, no rows (data, sequences and large objects legitimately absent)',
    tier: 'schema',
    setup: `
      CREATE TABLE a (id serial PRIMARY KEY, b_id int);
      CREATE TABLE b (id int PRIMARY KEY);
      ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;
      INSERT INTO b VALUES (1); INSERT INTO a (b_id) VALUES (1);
      CREATE MATERIALIZED VIEW mv AS SELECT count(*) FROM a;
      SELECT lo_from_bytea(0, 'x');`,
  },
  {
    id: 'tier-sample-leaves',
    family: 'tiers',
    covers: 'tier sample naming plain tables and a leaf partition',
    tier: 'sample',
    sampleTables: ['public.small', 'public.p_1'],
    setup: `
      CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10);
      CREATE TABLE big (id int PRIMARY KEY); INSERT INTO big SELECT generate_series(1, 1000);
      CREATE TABLE p (id int) PARTITION BY RANGE (id);
      CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (100);
      CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (100) TO (200);
      INSERT INTO p SELECT generate_series(0, 199);`,
  },
  {
    id: 'tier-sample-parent',
    family: 'tiers',
    covers: 'tier sample naming a partitioned parent (its leaves are meant)',
    tier: 'sample',
    sampleTables: ['public.p'],
    setup: `
      CREATE TABLE p (id int) PARTITION BY RANGE (id);
      CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (100);
      CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (100) TO (200);
      INSERT INTO p SELECT generate_series(0, 199);`,
  },
  {
    id: 'tier-sample-misspelled',
    family: 'tiers',
    covers: 'tier sample naming a table that does not exist',
    tier: 'sample',
    sampleTables: ['public.custmers'],
    setup: `CREATE TABLE customers (id int); INSERT INTO customers VALUES (1);`,
  },
  {
    id: 'tier-sample-fk',
    family: 'tiers',
    covers: 'tier sample of a child table whose foreign key points at an unsampled parent',
    tier: 'sample',
    sampleTables: ['public.orders'],
    setup: `
      CREATE TABLE customers (id int PRIMARY KEY); INSERT INTO customers SELECT generate_series(1, 5);
      CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);
      INSERT INTO orders SELECT g, 1 + g % 5 FROM generate_series(1, 20) g;`,
  },
];
