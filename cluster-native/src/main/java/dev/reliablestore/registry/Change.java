package dev.reliablestore.registry;

/** One effect of a committed batch, as delivered by the change feed. */
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
