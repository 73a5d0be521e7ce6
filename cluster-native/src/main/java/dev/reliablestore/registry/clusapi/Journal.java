package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The record every changing batch writes to {@link Reserved#JOURNAL}: its sequence and its effects
 * in order, without value data (the batch notification carries each SET_VALUE's data, in the same
 * order as the journal's value entries). Readers of the batch notification port rebuild the
 * change feed from it, including what the notification cannot say (whether a key was new).
 *
 * <p>Format: magic {@code "RSJ1"}, u64 sequence, u32 count, then per entry u8 kind (1 key created,
 * 2 key deleted, 3 value set, 4 value deleted), the key path and, for value entries, the value
 * name, each as u16 length + UTF-16 code units.
 */
final class Journal {

    static final int KEY_CREATED = 1;
    static final int KEY_DELETED = 2;
    static final int VALUE_SET = 3;
    static final int VALUE_DELETED = 4;

    /**
     * One effect; for VALUE_SET the data comes from the notification.
     *
     * @param kind one of the constants
     * @param key  the key
     * @param name the value name, null for key entries
     */
    record Entry(int kind, RegistryPath key, String name) {
    }

    /**
     * A decoded journal.
     *
     * @param sequence the batch's commit sequence
     * @param entries  its effects in order
     */
    record Decoded(long sequence, List<Entry> entries) {
        long valueSets() {
            return entries.stream().filter(e -> e.kind == VALUE_SET).count();
        }
    }

    private static final int MAGIC = 0x52534A31; // "RSJ1"

    private Journal() {
    }

    static byte[] encode(long sequence, List<Change> changes) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeLong(sequence);
            out.writeInt(changes.size());
            for (Change c : changes) {
                if (c instanceof Change.KeyCreated k) {
                    out.writeByte(KEY_CREATED);
                    string(out, k.key().toString());
                } else if (c instanceof Change.KeyDeleted k) {
                    out.writeByte(KEY_DELETED);
                    string(out, k.key().toString());
                } else if (c instanceof Change.ValueSet v) {
                    out.writeByte(VALUE_SET);
                    string(out, v.key().toString());
                    string(out, v.name());
                } else if (c instanceof Change.ValueDeleted v) {
                    out.writeByte(VALUE_DELETED);
                    string(out, v.key().toString());
                    string(out, v.name());
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Decoded decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data));
            if (in.readInt() != MAGIC) {
                throw new RegistryCorruptedException("the batch journal (" + Reserved.JOURNAL + ") has no RSJ1 header: "
                        + "written outside ReliableStore");
            }
            long sequence = in.readLong();
            int n = in.readInt();
            List<Entry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int kind = in.readUnsignedByte();
                RegistryPath key = RegistryPath.parse(string(in));
                String name = kind == VALUE_SET || kind == VALUE_DELETED ? string(in) : null;
                if (kind < KEY_CREATED || kind > VALUE_DELETED) {
                    throw new RegistryCorruptedException("batch journal entry " + i + " has unknown kind " + kind);
                }
                entries.add(new Entry(kind, key, name));
            }
            return new Decoded(sequence, entries);
        } catch (IOException e) {
            throw new RegistryCorruptedException("the batch journal (" + Reserved.JOURNAL + ") is truncated", e);
        }
    }

    /** u16 length + UTF-16 code units; shared with FeedHistory's records. */
    static void string(DataOutputStream out, String s) throws IOException {
        out.writeShort(s.length());
        out.writeChars(s);
    }

    static String string(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = in.readChar();
        }
        return new String(c);
    }
}
