SELECT topic, `partition`, next_offset FROM `test-project.gorgias._kafka_offsets__customers`
UNION ALL SELECT topic, `partition`, next_offset FROM `test-project.gorgias._kafka_offsets__tickets`
