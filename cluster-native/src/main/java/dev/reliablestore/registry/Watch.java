package dev.reliablestore.registry;

/** A registered change listener; closing it stops delivery. */
public interface Watch extends Subscription {

    /** The subtree watched. */
    RegistryPath subtree();

    /**
     * The commit sequence at registration: every batch with a larger sequence that touches the
     * subtree is delivered (or covered by a resync signal).
     */
    long startSequence();

    @Override
    void close();
}
