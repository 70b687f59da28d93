-- gorgias-kafka reset
BEGIN TRANSACTION;
DELETE FROM `test-project.gorgias.tickets` WHERE TRUE;
DELETE FROM `test-project.gorgias.tickets_changelog` WHERE TRUE;
DELETE FROM `test-project.gorgias._kafka_offsets__tickets` WHERE TRUE;
DELETE FROM `test-project.gorgias._deletions` WHERE table_name = 'tickets';
INSERT INTO `test-project.gorgias._kafka_offsets__tickets` (topic, `partition`, next_offset) VALUES ('gorgias.tickets', 0, 12);
COMMIT TRANSACTION;
