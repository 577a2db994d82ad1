"""The benchmark: arpulse against the raw Kafka client, peers and its own logic (`make bench`)."""
