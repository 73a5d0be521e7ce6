package dev.reliablestore.registry;

/** A registered listener; closing it stops delivery. Idempotent. */
public interface Subscription extends AutoCloseable {

    @Override
    void close();
}
