package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.clusapi.BatchPlanner.NativeCommand;
import dev.reliablestore.registry.clusapi.BatchPlanner.Role;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;

/**
 * The change history replaying watches read: every changing batch also writes its whole
 * {@link ChangeBatch} (with value data, unlike {@link Journal}) below the reserved key
 * {@link Reserved#HISTORY}, in the same native batch as the change, so it commits atomically with it
 * and lives in the cluster database, the only replicated storage. The records of batches
 * {@code (after, sequence]} are kept; older ones are deleted by later batches (in the same native
 * batch again), by age ({@code feedRetention}), total size ({@code feedHistorySize}) and count
 * ({@code feedHistoryBatches}).
 *
 * <p>Per batch {@code s}, in {@link Reserved#HISTORY}: {@code /<s>} = REG_BINARY header (u32 chunk
 * count, u64 commit time in ms since the epoch, u64 record bytes; little endian) and
 * {@code /<s>/<i>} = chunk i of the record, at most {@link #CHUNK} bytes each (so no value is larger
 * than a user value may be). At the base key: {@link Reserved#FEED_AFTER} (replayableAfter),
 * {@link Reserved#FEED_BYTES} (bytes of the records kept, headers included),
 * {@link Reserved#FEED_OLDEST} (commit time of record after+1; absent when no record is kept).
 *
 * <p>Record: magic {@code "RSH1"}, u64 sequence, u32 count, then per change u8 kind (as
 * {@link Journal}), the key, and for values the name; for a set value also u32 REG type, u32 length
 * and the bytes (strings as u16 length + UTF-16 code units, numbers big endian).
 */
final class FeedHistory {

    static final int CHUNK = RegistryValue.MAX_SIZE;
    static final int HEADER_BYTES = 20;
    /** Records one batch deletes at most, so pruning never makes a native batch unbounded. */
    static final int MAX_PRUNED_PER_BATCH = 4096;
    /** Headers read per read batch while pruning. */
    static final int HEADER_PAGE = 256;

    private static final int MAGIC = 0x52534831; // "RSH1"

    /**
     * The bookkeeping at the base key, read in one isolated read batch with the sequence.
     *
     * @param sequence     {@code /seq}
     * @param after        {@code /feed-after}, or -1 when absent
     * @param bytes        {@code /feed-bytes} (0 when absent)
     * @param oldestMillis {@code /feed-oldest}, or -1 when absent
     */
    record State(long sequence, long after, long bytes, long oldestMillis) {

        /**
         * replayableAfter(): {@code /feed-after}; when absent, the sequence: 0 for a fresh registry, and
         * for one written before the history existed, the sequence it had (nothing older is kept).
         */
        long replayableAfter() {
            return after >= 0 ? after : sequence;
        }
    }

    /**
     * A record's header.
     *
     * @param chunks the number of chunk values
     * @param millis its commit time (the committing process's clock)
     * @param bytes  the record's length
     */
    record Header(int chunks, long millis, long bytes) {

        byte[] encode() {
            return ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(chunks).putLong(millis).putLong(bytes).array();
        }

        static Header decode(byte[] data, long sequence) {
            if (data.length != HEADER_BYTES) {
                throw new RegistryCorruptedException("the history header of batch " + sequence + " (" + Reserved.HISTORY + "\\"
                        + headerName(sequence) + ") has " + data.length + " bytes, not " + HEADER_BYTES + ": written outside ReliableStore");
            }
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            return new Header(b.getInt(), b.getLong(), b.getLong());
        }

        long cost() {
            return bytes + HEADER_BYTES;
        }
    }

    /**
     * The bounds a batch prunes to.
     *
     * @param retentionMillis feedRetention
     * @param maxBytes        feedHistorySize
     * @param maxBatches      feedHistoryBatches
     */
    record Bounds(long retentionMillis, long maxBytes, long maxBatches) {
    }

    private FeedHistory() {
    }

    static String headerName(long sequence) {
        return "/" + sequence;
    }

    static String chunkName(long sequence, int chunk) {
        return "/" + sequence + "/" + chunk;
    }

    // ---- records ---------------------------------------------------------------------------------

    static byte[] encode(long sequence, List<Change> changes) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeLong(sequence);
            out.writeInt(changes.size());
            for (Change c : changes) {
                if (c instanceof Change.KeyCreated k) {
                    out.writeByte(Journal.KEY_CREATED);
                    Journal.string(out, k.key().toString());
                } else if (c instanceof Change.KeyDeleted k) {
                    out.writeByte(Journal.KEY_DELETED);
                    Journal.string(out, k.key().toString());
                } else if (c instanceof Change.ValueSet v) {
                    out.writeByte(Journal.VALUE_SET);
                    Journal.string(out, v.key().toString());
                    Journal.string(out, v.name());
                    RegistryValue value = v.value().value();
                    byte[] data = value.unsafeData();
                    out.writeInt(value.type().windowsCode());
                    out.writeInt(data.length);
                    out.write(data);
                } else if (c instanceof Change.ValueDeleted v) {
                    out.writeByte(Journal.VALUE_DELETED);
                    Journal.string(out, v.key().toString());
                    Journal.string(out, v.name());
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The batch a record holds: every change, the revision of set values being the sequence, as the live feed gives it. */
    static ChangeBatch decode(byte[] record, long expectedSequence) {
        String where = "the history record of batch " + expectedSequence + " (" + Reserved.HISTORY + ")";
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(record));
            if (in.readInt() != MAGIC) {
                throw new RegistryCorruptedException(where + " has no RSH1 header: written outside ReliableStore");
            }
            long sequence = in.readLong();
            if (sequence != expectedSequence) {
                throw new RegistryCorruptedException(where + " is the record of batch " + sequence);
            }
            int n = in.readInt();
            List<Change> changes = new ArrayList<>(Math.min(n, 4096));
            for (int i = 0; i < n; i++) {
                int kind = in.readUnsignedByte();
                RegistryPath key = RegistryPath.parse(Journal.string(in));
                changes.add(switch (kind) {
                    case Journal.KEY_CREATED -> new Change.KeyCreated(key);
                    case Journal.KEY_DELETED -> new Change.KeyDeleted(key);
                    case Journal.VALUE_DELETED -> new Change.ValueDeleted(key, Journal.string(in));
                    case Journal.VALUE_SET -> {
                        String name = Journal.string(in);
                        int type = in.readInt();
                        byte[] data = new byte[in.readInt()];
                        in.readFully(data);
                        yield new Change.ValueSet(key, name, new VersionedValue(RegistryValue.of(ValueType.fromWindowsCode(type), data), sequence));
                    }
                    default -> throw new RegistryCorruptedException(where + ": entry " + i + " has unknown kind " + kind);
                });
            }
            return new ChangeBatch(sequence, changes);
        } catch (IOException | RuntimeException e) {
            if (e instanceof RegistryCorruptedException r) {
                throw r;
            }
            throw new RegistryCorruptedException(where + " cannot be read: " + e.getMessage(), e);
        }
    }

    static List<byte[]> chunks(byte[] record) {
        List<byte[]> out = new ArrayList<>();
        for (int from = 0; from < record.length || out.isEmpty(); from += CHUNK) {
            out.add(Arrays.copyOfRange(record, from, Math.min(record.length, from + CHUNK)));
        }
        return out;
    }

    // ---- what a batch writes and deletes ---------------------------------------------------------

    /**
     * The native commands that add {@code record} (the new batch's, null for a batch that only
     * prunes) and drop what the bounds no longer keep; to run after every other command of the
     * batch (they position the current key themselves). Empty for a pruning batch with nothing to
     * drop. The newest record is never dropped for size or count, only for age.
     *
     * @param headers the header of a kept record by sequence (null when it is missing), read in pages
     */
    static List<NativeCommand> commands(State state, byte[] record, long now, Bounds bounds, LongFunction<Header> headers) {
        long after = state.replayableAfter();
        long bytes = state.after >= 0 ? state.bytes : 0;
        long oldest = after < state.sequence ? (state.oldestMillis >= 0 ? state.oldestMillis : millisOf(headers.apply(after + 1))) : -1;
        long newest = record == null ? state.sequence : state.sequence + 1;
        long cost = record == null ? 0 : (long) record.length + HEADER_BYTES;
        long cutoff = now - bounds.retentionMillis();
        List<NativeCommand> drops = new ArrayList<>();
        int dropped = 0;
        while (after < state.sequence && dropped < MAX_PRUNED_PER_BATCH
                && ((oldest >= 0 && oldest < cutoff)
                || (after + 1 < newest && (bytes + cost > bounds.maxBytes() || newest - after > bounds.maxBatches())))) {
            long seq = after + 1;
            Header h = headers.apply(seq);
            drops.add(command(ClusApiTypes.CLUSREG_DELETE_VALUE, headerName(seq), ClusApiTypes.REG_NONE, null));
            if (h != null) {
                for (int i = 0; i < h.chunks(); i++) {
                    drops.add(command(ClusApiTypes.CLUSREG_DELETE_VALUE, chunkName(seq, i), ClusApiTypes.REG_NONE, null));
                }
                bytes -= h.cost();
            }
            after = seq;
            dropped++;
            oldest = after < state.sequence ? millisOf(headers.apply(after + 1)) : -1;
        }
        if (record == null && dropped == 0) {
            return List.of();
        }
        List<NativeCommand> out = new ArrayList<>();
        out.add(command(ClusApiTypes.CLUSREG_CREATE_KEY, Reserved.HISTORY, 0, null));
        if (record != null) {
            List<byte[]> chunks = chunks(record);
            out.add(command(ClusApiTypes.CLUSREG_SET_VALUE, headerName(newest), ClusApiTypes.REG_BINARY,
                    new Header(chunks.size(), now, record.length).encode()));
            for (int i = 0; i < chunks.size(); i++) {
                out.add(command(ClusApiTypes.CLUSREG_SET_VALUE, chunkName(newest, i), ClusApiTypes.REG_BINARY, chunks.get(i)));
            }
            if (after == state.sequence) {
                oldest = now; // the new record is the only one kept
            }
        }
        out.addAll(drops);
        out.add(command(ClusApiTypes.CLUSREG_CREATE_KEY, "", 0, null));
        out.add(command(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.FEED_AFTER, ClusApiTypes.REG_QWORD, Reserved.qword(after)));
        out.add(command(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.FEED_BYTES, ClusApiTypes.REG_QWORD, Reserved.qword(Math.max(0, bytes + cost))));
        out.add(oldest >= 0
                ? command(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.FEED_OLDEST, ClusApiTypes.REG_QWORD, Reserved.qword(oldest))
                : command(ClusApiTypes.CLUSREG_DELETE_VALUE, Reserved.FEED_OLDEST, ClusApiTypes.REG_NONE, null));
        return out;
    }

    /** A missing record (written by a version without history, or lost) counts as expired: it has nothing to keep. */
    private static long millisOf(Header h) {
        return h == null ? 0 : h.millis();
    }

    private static NativeCommand command(int command, String name, int options, byte[] data) {
        return new NativeCommand(command, name, options, data, -1, Role.HEADER);
    }
}
