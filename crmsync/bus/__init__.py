"""Event-bus intake and publishing over faststream: Redis Streams, RabbitMQ, NATS JetStream
and Kafka. ``intake`` stores a batch (no broker in sight); ``pipeline`` runs it with the
ack-after-commit rule; ``adapters`` speak each broker; ``publisher`` drains the
outbound-event outbox. docs/bus.md says what is guaranteed.
"""
