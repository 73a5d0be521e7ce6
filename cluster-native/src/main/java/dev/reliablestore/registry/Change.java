package dev.reliablestore.registry;

/**
 * One effect of a committed batch, as delivered by the change feed. A batch's changes come in
 * command order, one per effect: {@link KeyCreated} for each key a command created (ancestors
 * first), {@link ValueSet} for every set value (revision = the batch's sequence),
 * {@link ValueDeleted} for a value that existed, {@link KeyDeleted} once for a deleted key that
 * existed (not for its descendants or values). Commands that changed nothing produce no change.
 */
public sealed interface Change permits Change.KeyCreated, Change.KeyDeleted, Change.ValueSet, Change.ValueDeleted {

    RegistryPath key();

    /** A key that did not exist was created. */
    record KeyCreated(RegistryPath key) implements Change {
    }

    /** A key was deleted together with everything below it. */
    record KeyDeleted(RegistryPath key) implements Change {
    }

    /** A value was created or replaced. */
    record ValueSet(RegistryPath key, String name, VersionedValue value) implements Change {
    }

    /** A value that existed was deleted. */
    record ValueDeleted(RegistryPath key, String name) implements Change {
    }
}
