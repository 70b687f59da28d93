-- gorgias-kafka batch 0a1b2c3d4e5f_8
BEGIN TRANSACTION;
ASSERT (SELECT COUNT(*) FROM `test-project.gorgias._kafka_offsets__tickets` WHERE topic = 'gorgias.tickets' AND `partition` = 0 AND next_offset = 250) = 1 AS 'gorgias-kafka stale offset: gorgias.tickets[0] does not continue at 250';
INSERT INTO `test-project.gorgias.tickets_changelog` (`id`, `subject`, `updated_datetime`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp`, `_deleted_at`, `_deleted_reason`, `_merged_into`)
SELECT `id`, `subject`, `updated_datetime`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp`, `_deleted_at`, `_deleted_reason`, `_merged_into` FROM `test-project.gorgias._stg_tickets_0a1b2c3d4e5f_8`;
MERGE `test-project.gorgias.tickets` T
USING (SELECT * FROM `test-project.gorgias._stg_tickets_0a1b2c3d4e5f_8` R WHERE R.`_deleted_at` IS NULL AND NOT EXISTS (SELECT 1 FROM `test-project.gorgias._deletions` D WHERE D.table_name = 'tickets' AND D.`id` BETWEEN 1001 AND 1999 AND D.`id` = R.`id` AND D.`_deleted_at` >= R.`updated_datetime`) QUALIFY ROW_NUMBER() OVER (PARTITION BY `id` ORDER BY `updated_datetime` DESC, `_kafka_offset` DESC) = 1) S
ON T.`id` = S.`id` AND T.`id` BETWEEN 1001 AND 1999
WHEN MATCHED AND (T.`updated_datetime` IS NULL OR S.`updated_datetime` > T.`updated_datetime`) THEN UPDATE SET `subject` = S.`subject`, `updated_datetime` = S.`updated_datetime`, `_kafka_partition` = S.`_kafka_partition`, `_kafka_offset` = S.`_kafka_offset`, `_kafka_timestamp` = S.`_kafka_timestamp`, `_deleted_at` = S.`_deleted_at`, `_deleted_reason` = S.`_deleted_reason`, `_merged_into` = S.`_merged_into`
WHEN NOT MATCHED THEN INSERT (`id`, `subject`, `updated_datetime`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp`, `_deleted_at`, `_deleted_reason`, `_merged_into`) VALUES (S.`id`, S.`subject`, S.`updated_datetime`, S.`_kafka_partition`, S.`_kafka_offset`, S.`_kafka_timestamp`, S.`_deleted_at`, S.`_deleted_reason`, S.`_merged_into`);
MERGE `test-project.gorgias._deletions` D
USING (SELECT `id`, `_deleted_at`, `_deleted_reason`, `_merged_into`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp` FROM `test-project.gorgias._stg_tickets_0a1b2c3d4e5f_8` WHERE `_deleted_at` IS NOT NULL QUALIFY ROW_NUMBER() OVER (PARTITION BY `id` ORDER BY `_deleted_at` DESC, `_kafka_partition`, `_kafka_offset`) = 1) S
ON D.table_name = 'tickets' AND D.`id` = S.`id`
WHEN MATCHED AND S.`_deleted_at` > D.`_deleted_at` THEN UPDATE SET `_deleted_at` = S.`_deleted_at`, `_deleted_reason` = S.`_deleted_reason`, `_merged_into` = S.`_merged_into`
WHEN NOT MATCHED THEN INSERT (table_name, `id`, `_deleted_at`, `_deleted_reason`, `_merged_into`) VALUES ('tickets', S.`id`, S.`_deleted_at`, S.`_deleted_reason`, S.`_merged_into`);
MERGE `test-project.gorgias.tickets` T
USING (SELECT `id`, `_deleted_at`, `_deleted_reason`, `_merged_into`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp` FROM `test-project.gorgias._stg_tickets_0a1b2c3d4e5f_8` WHERE `_deleted_at` IS NOT NULL QUALIFY ROW_NUMBER() OVER (PARTITION BY `id` ORDER BY `_deleted_at` DESC, `_kafka_partition`, `_kafka_offset`) = 1) S
ON T.`id` = S.`id` AND T.`id` BETWEEN 1001 AND 1999
WHEN MATCHED AND (T.`updated_datetime` IS NULL OR T.`updated_datetime` <= S.`_deleted_at`) AND (T.`_deleted_at` IS NULL OR T.`_deleted_at` < S.`_deleted_at`) THEN UPDATE SET `_deleted_at` = S.`_deleted_at`, `_deleted_reason` = S.`_deleted_reason`, `_merged_into` = S.`_merged_into`, `_kafka_partition` = S.`_kafka_partition`, `_kafka_offset` = S.`_kafka_offset`, `_kafka_timestamp` = S.`_kafka_timestamp`
WHEN NOT MATCHED THEN INSERT (`id`, `_deleted_at`, `_deleted_reason`, `_merged_into`, `_kafka_partition`, `_kafka_offset`, `_kafka_timestamp`) VALUES (S.`id`, S.`_deleted_at`, S.`_deleted_reason`, S.`_merged_into`, S.`_kafka_partition`, S.`_kafka_offset`, S.`_kafka_timestamp`);
MERGE `test-project.gorgias._kafka_offsets__tickets` O
USING (SELECT 'gorgias.tickets' AS topic, 0 AS `partition`, 260 AS next_offset) N
ON O.topic = N.topic AND O.`partition` = N.`partition`
WHEN MATCHED THEN UPDATE SET next_offset = N.next_offset
WHEN NOT MATCHED THEN INSERT (topic, `partition`, next_offset) VALUES (N.topic, N.`partition`, N.next_offset);
COMMIT TRANSACTION;
