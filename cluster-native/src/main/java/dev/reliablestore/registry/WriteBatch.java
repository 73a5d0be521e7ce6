package dev.reliablestore.registry;

import java.util.ArrayList;
import java.util.List;

/**
 * An ordered list of commands committed atomically: every command applies, on every replica and in
 * the same order relative to other batches, or none does. Build one with {@link #builder()}.
 *
 * <p>{@link #encodedSize()} estimates the bytes a backend must ship for the batch (names as UTF-16
 * plus value bytes plus a fixed overhead per command); backends check it against
 * {@link RegistryLimits#maxBatchBytes()}.
 */
public final class WriteBatch {

    /** Bytes counted for each command on top of its names and data. */
    public static final int COMMAND_OVERHEAD = 16;

    private final List<BatchCommand> commands;
    private final long encodedSize;

    private WriteBatch(List<BatchCommand> commands) {
        this.commands = List.copyOf(commands);
        long size = 0;
        for (BatchCommand c : commands) {
            size += COMMAND_OVERHEAD + 2L * c.key().length();
            if (c instanceof BatchCommand.SetValue s) {
                size += 2L * s.name().length() + s.value().size();
            } else if (c instanceof BatchCommand.ValueEquals e) {
                size += 2L * e.name().length() + e.expected().size();
            } else if (c instanceof BatchCommand.DeleteValue d) {
                size += 2L * d.name().length();
            } else if (c instanceof BatchCommand.ValueExists v) {
                size += 2L * v.name().length();
            } else if (c instanceof BatchCommand.ValueAbsent v) {
                size += 2L * v.name().length();
            } else if (c instanceof BatchCommand.RevisionEquals r) {
                size += 2L * r.name().length() + 8;
            }
        }
        this.encodedSize = size;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A batch of the given commands, in order. */
    public static WriteBatch of(List<? extends BatchCommand> commands) {
        Builder b = builder();
        commands.forEach(b::add);
        return b.build();
    }

    public List<BatchCommand> commands() {
        return commands;
    }

    public int size() {
        return commands.size();
    }

    public long encodedSize() {
        return encodedSize;
    }

    /** Whether any command is a mutation (a batch of conditions only changes nothing). */
    public boolean hasMutations() {
        for (BatchCommand c : commands) {
            if (c instanceof BatchCommand.Mutation) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "WriteBatch" + commands;
    }

    /** Collects commands in order. */
    public static final class Builder {

        private final List<BatchCommand> commands = new ArrayList<>();

        private Builder() {
        }

        public Builder add(BatchCommand command) {
            commands.add(java.util.Objects.requireNonNull(command, "command"));
            return this;
        }

        public Builder createKey(RegistryPath key) {
            return add(new BatchCommand.CreateKey(key));
        }

        public Builder setValue(RegistryPath key, String name, RegistryValue value) {
            return add(new BatchCommand.SetValue(key, name, value));
        }

        public Builder deleteValue(RegistryPath key, String name) {
            return add(new BatchCommand.DeleteValue(key, name));
        }

        public Builder deleteKey(RegistryPath key) {
            return add(new BatchCommand.DeleteKey(key));
        }

        public Builder requireValueExists(RegistryPath key, String name) {
            return add(new BatchCommand.ValueExists(key, name));
        }

        public Builder requireValueAbsent(RegistryPath key, String name) {
            return add(new BatchCommand.ValueAbsent(key, name));
        }

        public Builder requireValueEquals(RegistryPath key, String name, RegistryValue expected) {
            return add(new BatchCommand.ValueEquals(key, name, expected));
        }

        public Builder requireRevision(RegistryPath key, String name, long revision) {
            return add(new BatchCommand.RevisionEquals(key, name, revision));
        }

        public Builder requireKeyExists(RegistryPath key) {
            return add(new BatchCommand.KeyExists(key));
        }

        public Builder requireKeyAbsent(RegistryPath key) {
            return add(new BatchCommand.KeyAbsent(key));
        }

        public int size() {
            return commands.size();
        }

        /**
         * @throws RegistryArgumentException when the batch is empty
         */
        public WriteBatch build() {
            if (commands.isEmpty()) {
                throw new RegistryArgumentException("a write batch needs at least one command");
            }
            return new WriteBatch(commands);
        }
    }
}
