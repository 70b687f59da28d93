// Package bigquerysink is the BigQuery destination of the sink runner: it writes each
// batch of Gorgias records, with its Kafka offsets, into BigQuery exactly once.
//
// # Tables (dataset default "gorgias")
//
//   - <entity>: the latest version of each object (MERGE on id; an older or equal
//     version never replaces a stored one), clustered on id. The MERGE adds the
//     constant filter "id BETWEEN <batch min> AND <batch max>" so BigQuery prunes
//     blocks. It is not time-partitioned: a MERGE prunes partitions only through a
//     constant filter on the partitioning column, which for created_datetime would be
//     correct only if Gorgias never changed or omitted it — not something a sink can
//     rely on.
//   - <entity>_changelog: every version, append-only, partitioned by day on
//     _kafka_timestamp and clustered on id. BigQuery always keeps it: it costs one
//     INSERT ... SELECT per batch, which scans only the small staging table.
//   - _deletions: table_name, id, _deleted_at, _deleted_reason, _merged_into: the
//     latest deletion of each id of each entity table, clustered on (table_name, id),
//     its unenforced primary key. See "Deletions" below.
//   - _kafka_offsets__<entity>: topic, partition, next_offset. One per entity, so
//     consumers that own different entities never abort each other's transactions.
//   - _stg_<entity>_<run>_<batch>: the staging table of one batch, dropped after the
//     commit and expiring after 24h if a crash leaves it behind.
//
// Entity and changelog tables end with the Kafka columns (_kafka_partition,
// _kafka_offset, _kafka_timestamp), then the deletion columns (_deleted_at,
// _deleted_reason, _merged_into; NULL on a live row), then any column added later.
//
// Types mirror the DuckDB sink: nested records are RECORD, arrays REPEATED, free-form
// JSON text JSON, timestamps TIMESTAMP; every field is NULLABLE (arrays REPEATED).
//
// # Protocol: stage, then one transaction per batch
//
// Of the two protocols in the project's BigQuery reference, the sink uses "stage, then a
// multi-statement transaction", because the other (atomic load jobs with offsets derived
// from the data) is append-only — it cannot keep the latest-version table the sink
// contract requires — has no fencing of a zombie consumer, and spends the target
// table's daily modification quota on every batch. For each batch:
//
//  1. For each entity with records, create the batch's staging table and load the rows
//     into it with one load job (newline-delimited JSON, WRITE_TRUNCATE) under the job
//     ID gk_<staging table>_load_a<n>. Deletions are staged rows too (see below).
//  2. Run one query job, gk_<run>_<batch>_commit_a<n>, holding one transaction: ASSERT
//     that each partition's stored next offset equals the batch's first offset (or that
//     none is stored), INSERT the staged rows into the changelog, apply the deletions
//     (two MERGEs, only when the batch has some), MERGE the newest version of each id
//     into the entity table, MERGE the new next offsets, COMMIT.
//  3. Drop the staging tables (best effort; they expire anyway).
//
// # Deletions
//
// A deletion (a tombstone, sink.Record.Delete) is staged in the same table and load as
// the versions, as a row holding only the id, the deletion columns and the Kafka
// columns; a staged row is a deletion when its _deleted_at is set. The changelog gets
// it as it is. When the batch has deletions of an entity, the transaction then takes
// the latest deletion of each id among them and
//
//   - MERGEs it into _deletions (table_name = the entity table), replacing only an
//     older deletion;
//   - MERGEs it into the entity table where the row's version is NULL or not newer than
//     the deletion and no deletion as late is marked already: sink.SoftDelete sets the
//     deletion and Kafka columns (the fields keep the last version's values) and
//     inserts a row of only the id, deletion and Kafka columns for an id without a row;
//     sink.HardDelete DELETEs the row.
//
// The versions' MERGE then leaves out every version that _deletions holds a deletion of
// its id at or after (an anti-join on the clustered _deletions, bounded by the batch's
// ids), so a replay of older history never brings a deleted object back, while a newer
// version is stored as usual and clears the deletion columns. Reset deletes the
// entities' rows from _deletions too. Deletions add no job: a batch still makes one
// load per entity and one query. _deletions is shared by the entities (as the contract
// names it), so only batches with deletions of different entities, committed at the
// same moment by different consumers, can abort one another; the aborted one is run
// again like any concurrent-update abort.
//
// # Why this is exactly once
//
//   - Rows and offsets change in one BigQuery transaction: after any crash either the
//     batch's rows and its offsets are stored, or neither. The runner seeks each
//     assigned partition to the stored offset, so a crash re-reads exactly what was not
//     committed.
//   - A lost reply: a job is resubmitted under the same ID; a 409 "duplicate" means the
//     first submission arrived, and the sink looks the job up (jobs.get) and waits for
//     its outcome instead of running it twice. A new attempt (a_<n+1>) is made only when
//     the job is known to have failed, i.e. did nothing.
//   - A retry of a whole batch after a crash or a rebalance, or a zombie consumer that
//     lost its partitions: the ASSERTs refuse a batch that does not continue the stored
//     offsets (sink.ErrStaleOffset), and BigQuery aborts one of two concurrent
//     transactions on the same table, so two writers can never both commit the same
//     range. Staging tables are private to one batch, so nothing staged by one writer
//     is ever committed by another.
//   - Retried load jobs write WRITE_TRUNCATE into the batch's own staging table, so a
//     load that ran twice still stages each record once.
//
// # Quotas
//
// Loads go to a fresh staging table per batch, so the per-table limit on table
// modifications (about 1,500 a day) is never approached: each staging table is
// modified once, and DML does not count. With sink.batch_max_wait "auto" (one minute
// for BigQuery) an idle-to-moderate stream makes at most 1,440 batches a day: at most
// 4 loads and one query per batch, 7,200 jobs a day, against about 100,000 load jobs
// per project per day. A backfill closes batches on sink.batch_max_records (5,000)
// instead, so a million records make about 200 batches. Mutating DML on one table runs
// 2 at a time with 20 queued; a sink commits serially, so one consumer uses one slot.
//
// # Retries
//
// 5xx, backendError, rateLimitExceeded, internalError, lost connections, "Transaction
// is aborted due to concurrent update" and 404s right after a table was created are
// retried with jittered exponential back-off (Config.Retry), on top of the Go client's
// own retries of calls without media. A 412 on tables.patch re-reads the table and
// merges again.
package bigquerysink
