package dev.reliablestore.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Several reads answered from one consistent point in time; see {@link ClusterRegistry#read}. */
public final class ReadBatch {

    /** One read of a batch. */
    public sealed interface Read permits ValueRead, ValuesRead, SubkeysRead {
        RegistryPath key();
    }

    /** One value; answered with {@code Optional<VersionedValue>}. */
    public record ValueRead(RegistryPath key, String name) implements Read {
        public ValueRead {
            Objects.requireNonNull(key, "key");
            RegistryPath.checkName(name, "value name");
        }
    }

    /** All values of a key; answered with {@code Optional<Map<String, VersionedValue>>}, empty if the key is absent. */
    public record ValuesRead(RegistryPath key) implements Read {
        public ValuesRead {
            Objects.requireNonNull(key, "key");
        }
    }

    /** The subkey names of a key; answered with {@code Optional<List<String>>}, empty if the key is absent. */
    public record SubkeysRead(RegistryPath key) implements Read {
        public SubkeysRead {
            Objects.requireNonNull(key, "key");
        }
    }

    private final List<Read> reads;

    private ReadBatch(List<Read> reads) {
        this.reads = List.copyOf(reads);
    }

    public static ReadBatch of(List<? extends Read> reads) {
        if (reads.isEmpty()) {
            throw new RegistryArgumentException("a read batch needs at least one read");
        }
        return new ReadBatch(new ArrayList<>(reads));
    }

    public static ReadBatch of(Read... reads) {
        return of(List.of(reads));
    }

    public List<Read> reads() {
        return reads;
    }
}
