package dev.reliablestore.registry;

import java.util.Objects;

/**
 * One command of a {@link WriteBatch}: a {@link Mutation} or a {@link Condition}. Commands run in
 * order; a condition is checked against the state left by the commands before it in the same
 * batch. If any condition is false, nothing of the batch is applied. Printing a command never
 * prints value bytes.
 */
public sealed interface BatchCommand permits BatchCommand.Mutation, BatchCommand.Condition {

    /** The key the command is about. */
    RegistryPath key();

    /** The name of the value the command is about, or null when it is about a key. */
    default String valueName() {
        if (this instanceof SetValue c) {
            return c.name();
        } else if (this instanceof DeleteValue c) {
            return c.name();
        } else if (this instanceof ValueExists c) {
            return c.name();
        } else if (this instanceof ValueAbsent c) {
            return c.name();
        } else if (this instanceof ValueEquals c) {
            return c.name();
        } else if (this instanceof RevisionEquals c) {
            return c.name();
        }
        return null;
    }

    /** A command that changes the tree. */
    sealed interface Mutation extends BatchCommand permits CreateKey, SetValue, DeleteValue, DeleteKey {
    }

    /** A command that changes nothing and fails the batch when false. */
    sealed interface Condition extends BatchCommand
            permits ValueExists, ValueAbsent, ValueEquals, RevisionEquals, KeyExists, KeyAbsent {
    }

    /** Creates the key and any missing ancestors; does nothing if it exists. */
    record CreateKey(RegistryPath key) implements Mutation {
        public CreateKey {
            Objects.requireNonNull(key, "key");
            if (key.isRoot()) {
                throw new RegistryArgumentException("the root key always exists and cannot be created");
            }
        }
    }

    /** Creates or replaces the value; creates the key and its ancestors when missing. */
    record SetValue(RegistryPath key, String name, RegistryValue value) implements Mutation {
        public SetValue {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** Deletes the value; does nothing if it is missing. */
    record DeleteValue(RegistryPath key, String name) implements Mutation {
        public DeleteValue {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
        }
    }

    /** Deletes the key with all its values and subkeys, recursively; does nothing if it is missing. */
    record DeleteKey(RegistryPath key) implements Mutation {
        public DeleteKey {
            Objects.requireNonNull(key, "key");
            if (key.isRoot()) {
                throw new RegistryArgumentException("the root key cannot be deleted; delete its subkeys instead");
            }
        }
    }

    record ValueExists(RegistryPath key, String name) implements Condition {
        public ValueExists {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
        }
    }

    record ValueAbsent(RegistryPath key, String name) implements Condition {
        public ValueAbsent {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
        }
    }

    /** The value exists and has this type and these bytes. */
    record ValueEquals(RegistryPath key, String name, RegistryValue expected) implements Condition {
        public ValueEquals {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
            Objects.requireNonNull(expected, "expected");
        }
    }

    /** The value exists and its revision is this one. */
    record RevisionEquals(RegistryPath key, String name, long revision) implements Condition {
        public RevisionEquals {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
            if (revision <= 0) {
                throw new RegistryArgumentException("an expected revision must be positive, got " + revision
                        + "; use ValueAbsent to require that a value does not exist");
            }
        }
    }

    record KeyExists(RegistryPath key) implements Condition {
        public KeyExists {
            Objects.requireNonNull(key, "key");
        }
    }

    record KeyAbsent(RegistryPath key) implements Condition {
        public KeyAbsent {
            Objects.requireNonNull(key, "key");
        }
    }
}
