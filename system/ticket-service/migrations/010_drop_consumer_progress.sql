-- The hold sweep reads how far the saga's results are consumed from Kafka itself (end offsets against the group's
-- committed offsets, docs/saga.md), not from what each instance reported about its own consumer: a consumer that
-- was down, rebalancing or restarting reported nothing, and so looked caught up.
DROP TABLE consumer_progress;
