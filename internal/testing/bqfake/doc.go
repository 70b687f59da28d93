// Package bqfake is an in-process fake of the BigQuery REST API (v2) with BigQuery's
// semantics where an exactly-once sink depends on them. The real
// cloud.google.com/go/bigquery client talks to it over HTTP (an httptest server on
// 127.0.0.1, see Server.ClientOptions). SQL really runs: query jobs execute on an
// embedded in-memory DuckDB after a small GoogleSQL → DuckDB translation. Each
// dataset is a DuckDB schema and each table the DuckDB table "dataset"."table"
// (Server.DB gives direct access for assertions).
//
// # REST surface
//
//   - datasets.insert (409 duplicate), datasets.get (404 notFound), datasets.delete.
//   - tables.insert (409 duplicate), tables.get (with numRows), tables.patch/update
//     (If-Match etag, else 412 conditionNotMet; a schema may only add NULLABLE or
//     REPEATED fields, also inside RECORDs, or relax REQUIRED to NULLABLE; anything
//     else is 400 invalid), tables.delete, tabledata.list. The etag changes on every
//     metadata change (not on data changes). timePartitioning, clustering and
//     expirationTime are kept as metadata only.
//   - jobs.insert: query jobs, and load jobs uploaded with uploadType=multipart or
//     uploadType=resumable (start → Location; chunks answered 200 with
//     X-Http-Status-Code-Override: 308 and Range; the final chunk creates the job; a
//     retried final chunk replays the first answer). Job IDs are unique per project:
//     a second insert answers 409 duplicate "Already Exists: Job p:LOC.id" (for
//     uploads after the body was read). Jobs run synchronously inside the insert and
//     are answered DONE.
//   - jobs.get (a location that does not match answers 404), jobs.getQueryResults
//     (paging by maxResults/startIndex/pageToken; TIMESTAMP as microseconds when
//     formatOptions.useInt64Timestamp=true; a failed job answers as an HTTP error
//     carrying its errorResult, like BigQuery), jobs.query (synchronous; a repeated
//     requestId returns the job it created before).
//   - Errors are {"error":{"code","message","errors":[{"reason","message"}]}}.
//
// # Loads
//
// Only NEWLINE_DELIMITED_JSON. WRITE_APPEND (default), WRITE_TRUNCATE (with a schema,
// the table is replaced), WRITE_EMPTY; CREATE_IF_NEEDED (needs a schema) and
// CREATE_NEVER; schemaUpdateOptions ALLOW_FIELD_ADDITION / ALLOW_FIELD_RELAXATION.
// Every line is parsed strictly against the schema: an unknown field (unless
// ignoreUnknownValues), a value of the wrong type, or NULL in a REQUIRED field fails
// the whole job (reason invalid) and nothing is written. Rows go through a DuckDB
// Appender in one transaction. JSON columns take any JSON value, stored as its text.
// TIMESTAMP takes RFC 3339, "YYYY-MM-DD HH:MM:SS[.ffffff][ UTC|±HH:MM]" and numbers
// (epoch seconds). REPEATED null loads as an empty array.
//
// # Scripts and transactions
//
// A script is split on semicolons outside strings, identifiers and comments; each
// query job runs on its own DuckDB connection (temp tables die with the job). The
// result of a script is its last statement if that is a SELECT. BEGIN [TRANSACTION]
// … COMMIT [TRANSACTION] / ROLLBACK [TRANSACTION] is all-or-nothing; a script that
// ends inside a transaction rolls it back; any error rolls back and fails the job
// with reason invalidQuery and DuckDB's message (a table that does not exist: 404
// notFound, "Not found: Table p:d.t was not found in location US", as BigQuery). DDL on permanent tables is refused
// inside a transaction. Table-level conflicts follow BigQuery: while a transaction
// has mutated table T (INSERT, UPDATE, DELETE, MERGE, TRUNCATE), another
// transaction that mutates T is aborted with reason invalidQuery and "Transaction is
// aborted due to concurrent update against table p:d.t."; a DML statement outside a
// transaction waits (is queued) until T is free. Server.SetStatementHook lets tests
// pause a script between statements to build such overlaps; a job paused there
// holds its HTTP request open.
//
// # GoogleSQL → DuckDB translation
//
//   - `project.dataset.table`, `dataset.table`, dataset.table, `a`.`b` → "dataset"."table";
//     `col` → "col"; a leading project is dropped from paths of three or more parts.
//   - "double-quoted", r'raw' and triple-quoted strings → '…'; b'bytes' → from_hex(…);
//     comments (--, #, /* */) are dropped.
//   - BEGIN [TRANSACTION] → BEGIN TRANSACTION; COMMIT/ROLLBACK [TRANSACTION] → COMMIT/ROLLBACK.
//   - ASSERT cond [AS 'msg'] → SELECT CASE WHEN (cond) IS NOT TRUE THEN error('msg') END;
//     a failed assertion fails the job with reason invalidQuery and message msg
//     (default "Assertion failed: cond").
//   - INSERT t → INSERT INTO t; DELETE t → DELETE FROM t; MERGE t → MERGE INTO t;
//     MERGE's INSERT ROW → INSERT (DuckDB inserts the source row).
//   - SELECT * EXCEPT (a, b) → SELECT * EXCLUDE (a, b); SAFE_CAST → TRY_CAST.
//   - Types inside CAST and CREATE TABLE column lists: INT64→BIGINT, FLOAT64→DOUBLE,
//     STRING→VARCHAR, BOOL→BOOLEAN, BYTES→BLOB, NUMERIC→DECIMAL(38,9),
//     BIGNUMERIC→DECIMAL(38,18), TIMESTAMP→TIMESTAMPTZ, DATETIME→TIMESTAMP,
//     ARRAY<T>→T[], STRUCT<a T>→STRUCT(a T).
//   - Typed literals TIMESTAMP/DATETIME/DATE/TIME/JSON/NUMERIC '…' → CAST('…' AS …).
//   - CURRENT_TIMESTAMP() / CURRENT_DATE() → CURRENT_TIMESTAMP / CURRENT_DATE;
//     CURRENT_DATETIME() → CAST(CURRENT_TIMESTAMP AS TIMESTAMP);
//     GENERATE_UUID() → CAST(gen_random_uuid() AS VARCHAR).
//   - x IN UNNEST(arr) → x IN (SELECT UNNEST(arr)); arr[OFFSET(i)] → arr[(i)+1];
//     arr[ORDINAL(i)] → arr[(i)]; SAFE.f(…) → f(…).
//   - PARTITION BY, CLUSTER BY and OPTIONS(…) of CREATE TABLE are dropped.
//   - Query parameters @name and ? are inlined as typed literals (INT64, FLOAT64,
//     BOOL, STRING, BYTES, TIMESTAMP, DATE, DATETIME, NUMERIC, JSON, ARRAY and STRUCT
//     of those; NULL as CAST(NULL AS T)).
//
// QUALIFY, GREATEST, COALESCE, ROW_NUMBER() OVER, CREATE TEMP TABLE … AS, IF, IFNULL
// work in DuckDB unchanged. DuckDB's session time zone is UTC.
//
// # What the real Go client (v1.86.2) does against it
//
//   - Retries by itself, with a 1 s initial back-off: reads (datasets/tables get,
//     getQueryResults, tabledata.list), tables.insert, tables.patch, tables.delete
//     and jobs.insert of query jobs, on 5xx and the reasons backendError and
//     rateLimitExceeded (jobs also jobRateLimitExceeded, internalError). It does not
//     retry datasets.insert, nor a multipart load (its data is an io.Reader); the
//     resumable uploader retries a chunk (the final one included) on 5xx.
//   - A retry after work that was done turns into a different error: 409 duplicate
//     for tables.insert and jobs.insert, 412 conditionNotMet for a patch with an etag.
//   - A lost reply (connection closed) surfaces as a plain transport error ("…: EOF"),
//     never retried.
//   - Loads are resumable when the data is at least the chunk size; set
//     Loader.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(n)} (rounded up
//     to 256 KiB) to force it in tests.
//   - Job.Wait on a query job polls getQueryResults, which answers a failed job with
//     an HTTP error: Wait returns that error (not status.Err()). For a failure with a
//     retried reason (backendError, e.g. FaultJobFails) Wait retries until its context
//     ends; Job.Status returns the job's errorResult at once.
//   - TIMESTAMP values travel as microseconds (the client always asks for
//     useInt64Timestamp) and decode to time.Time in UTC; JSON columns decode to their
//     JSON text as a string; NUMERIC to *big.Rat; DATE to civil.Date.
//
// # Faults
//
// Server.Inject adds faults matched by operation (and optionally table) with
// Skip/Times counters: 503 before the work, a lost reply or a 503 after the work,
// 403 rateLimitExceeded, 404 right after a table is created, and jobs that fail.
package bqfake
