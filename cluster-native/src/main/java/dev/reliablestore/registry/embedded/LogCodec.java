package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Wtf8;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The write-ahead log's record format.
 *
 * <pre>
 * frame   := magic:int32 length:int32 crc:int32 payload[length]      (big-endian)
 *            crc = CRC32C over the 4 length bytes and the payload
 * payload := type:int8 sequence:int64 body
 * BATCH   body := count:int32 mutation*                  (written by versions before the replaying feed)
 *   mutation := 1 path                       create key
 *             | 2 path name type:int8 len:int32 bytes   set value (type = REG_* code)
 *             | 3 path name                  delete value
 *             | 4 path                       delete key
 * CHANGES body := count:int32 effect*                    (the batch's ChangeBatch, exactly)
 *   effect   := 1 path created:int8          the last `created` keys of path were created (path itself the last)
 *             | 2 path created:int8 name type:int8 len:int32 bytes   as 1 (created may be 0), then the value set
 *             | 3 path name                  a value that existed deleted
 *             | 4 path                       a key that existed deleted
 * FAULT_PUT    body := id errorType:int32 errorCode:int32 text(description) text(provider) flags:int32
 * FAULT_REMOVE body := id
 * path    := depth:int8 name*      name := len:uint16 wtf8[len]      text := len:int32 wtf8[len]
 * </pre>
 * Every record carries its own commit sequence; sequences in the log are contiguous.
 *
 * <p>A CHANGES record holds what the batch did rather than what it asked: commands that changed
 * nothing are left out and every key a command created is counted, so the record decodes to the
 * batch's {@link Change}s without the tree it was applied to (the replaying feed reads the log
 * that way), and applying those changes as mutations gives the same tree as the commands did.
 * Created keys are a count, not paths: a deep path created whole would otherwise be written once
 * per level.
 */
final class LogCodec {

    static final int MAGIC = 0x52534C47; // "RSLG"
    static final int HEADER_BYTES = 12;
    /** Sanity bound on one record (a batch is at most 16 MiB counted as UTF-16; UTF-8 names can be 1.5 × longer). */
    static final int MAX_RECORD_BYTES = 64 * 1024 * 1024;

    static final byte BATCH = 1;
    static final byte FAULT_PUT = 2;
    static final byte FAULT_REMOVE = 3;
    static final byte CHANGES = 4;

    private static final byte CREATE_KEY = 1;
    private static final byte SET_VALUE = 2;
    private static final byte DELETE_VALUE = 3;
    private static final byte DELETE_KEY = 4;

    private LogCodec() {
    }

    /** A growable byte array that frames records in place (no copy of the payload). */
    static final class RecordBuffer {
        private static final int INITIAL = 64 * 1024;
        private byte[] buf = new byte[INITIAL];
        private int size;
        private int frameStart = -1;
        private final CRC32C crc = new CRC32C();

        int size() {
            return size;
        }

        byte[] array() {
            return buf;
        }

        /** Empties the buffer, giving back memory a very large batch made it take. */
        void reset() {
            size = 0;
            if (buf.length > 4 * 1024 * 1024) {
                buf = new byte[INITIAL];
            }
        }

        /** Forgets everything after {@code mark} (a record that failed to encode). */
        void truncate(int mark) {
            size = mark;
            frameStart = -1;
        }

        void beginFrame() {
            frameStart = size;
            ensure(HEADER_BYTES);
            size += HEADER_BYTES;
        }

        void endFrame() {
            int length = size - frameStart - HEADER_BYTES;
            writeInt(buf, frameStart, MAGIC);
            writeInt(buf, frameStart + 4, length);
            crc.reset();
            crc.update(buf, frameStart + 4, 4);
            crc.update(buf, frameStart + HEADER_BYTES, length);
            writeInt(buf, frameStart + 8, (int) crc.getValue());
            frameStart = -1;
        }

        private void ensure(int more) {
            if (size + more > buf.length) {
                long want = Math.max((long) buf.length * 2, (long) size + more);
                if (want > Integer.MAX_VALUE - 16) {
                    throw new IllegalStateException("log buffer would exceed 2 GiB");
                }
                buf = Arrays.copyOf(buf, (int) want);
            }
        }

        void putByte(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        void putInt(int v) {
            ensure(4);
            writeInt(buf, size, v);
            size += 4;
        }

        void putLong(long v) {
            putInt((int) (v >>> 32));
            putInt((int) v);
        }

        void putBytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        /** A name of at most 255 UTF-16 units: 2-byte length, then {@link Wtf8} (ASCII fast path, no allocation). */
        void putName(String s) {
            int n = s.length();
            boolean ascii = true;
            for (int i = 0; i < n; i++) {
                if (s.charAt(i) >= 0x80) {
                    ascii = false;
                    break;
                }
            }
            if (ascii) {
                ensure(2 + n);
                buf[size++] = (byte) (n >>> 8);
                buf[size++] = (byte) n;
                for (int i = 0; i < n; i++) {
                    buf[size++] = (byte) s.charAt(i);
                }
            } else {
                byte[] encoded = Wtf8.encode(s);
                ensure(2 + encoded.length);
                buf[size++] = (byte) (encoded.length >>> 8);
                buf[size++] = (byte) encoded.length;
                putBytes(encoded);
            }
        }

        void putText(String s) {
            byte[] encoded = Wtf8.encode(s);
            putInt(encoded.length);
            putBytes(encoded);
        }

        void putPath(RegistryPath p) {
            List<String> segments = p.segments();
            putByte(segments.size());
            for (int i = 0, n = segments.size(); i < n; i++) {
                putName(segments.get(i));
            }
        }
    }

    static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    /** Appends one framed BATCH record holding the batch's mutations (conditions held; they are not logged). */
    static void encodeBatch(RecordBuffer out, long sequence, List<BatchCommand> commands) {
        out.beginFrame();
        out.putByte(BATCH);
        out.putLong(sequence);
        int countAt = out.size();
        out.putInt(0);
        int count = 0;
        for (int i = 0, n = commands.size(); i < n; i++) {
            BatchCommand c = commands.get(i);
            if (c instanceof BatchCommand.SetValue s) {
                out.putByte(SET_VALUE);
                out.putPath(s.key());
                out.putName(s.name());
                out.putByte(s.value().type().windowsCode());
                byte[] data = s.value().unsafeData();
                out.putInt(data.length);
                out.putBytes(data);
            } else if (c instanceof BatchCommand.CreateKey k) {
                out.putByte(CREATE_KEY);
                out.putPath(k.key());
            } else if (c instanceof BatchCommand.DeleteValue d) {
                out.putByte(DELETE_VALUE);
                out.putPath(d.key());
                out.putName(d.name());
            } else if (c instanceof BatchCommand.DeleteKey d) {
                out.putByte(DELETE_KEY);
                out.putPath(d.key());
            } else {
                continue;
            }
            count++;
        }
        writeInt(out.array(), countAt, count);
        out.endFrame();
    }

    /**
     * Appends one framed CHANGES record: {@code changes} as {@link TreeOps#apply} computed them
     * (created keys ancestors first, each run of them followed by the value set at its last key, if any).
     */
    static void encodeChanges(RecordBuffer out, long sequence, List<Change> changes) {
        out.beginFrame();
        out.putByte(CHANGES);
        out.putLong(sequence);
        int countAt = out.size();
        out.putInt(0);
        int count = 0;
        RegistryPath run = null; // the last key of the run of created keys not yet written
        int created = 0;
        for (int i = 0, n = changes.size(); i < n; i++) {
            Change c = changes.get(i);
            if (c instanceof Change.KeyCreated k) {
                if (run != null && !k.key().isRoot() && k.key().parent().equals(run)) {
                    run = k.key();
                    created++;
                    continue;
                }
                if (run != null) {
                    out.putByte(CREATE_KEY);
                    out.putPath(run);
                    out.putByte(created);
                    count++;
                }
                run = k.key();
                created = 1;
                continue;
            }
            if (run != null && !(c instanceof Change.ValueSet s && s.key().equals(run))) {
                out.putByte(CREATE_KEY);
                out.putPath(run);
                out.putByte(created);
                count++;
                run = null;
                created = 0;
            }
            if (c instanceof Change.ValueSet s) {
                out.putByte(SET_VALUE);
                out.putPath(s.key());
                out.putByte(run == null ? 0 : created);
                out.putName(s.name());
                out.putByte(s.value().value().type().windowsCode());
                byte[] data = s.value().value().unsafeData();
                out.putInt(data.length);
                out.putBytes(data);
            } else if (c instanceof Change.ValueDeleted d) {
                out.putByte(DELETE_VALUE);
                out.putPath(d.key());
                out.putName(d.name());
            } else if (c instanceof Change.KeyDeleted d) {
                out.putByte(DELETE_KEY);
                out.putPath(d.key());
            }
            run = null;
            created = 0;
            count++;
        }
        if (run != null) {
            out.putByte(CREATE_KEY);
            out.putPath(run);
            out.putByte(created);
            count++;
        }
        writeInt(out.array(), countAt, count);
        out.endFrame();
    }

    static void encodeFaultPut(RecordBuffer out, long sequence, HealthFault f) {
        out.beginFrame();
        out.putByte(FAULT_PUT);
        out.putLong(sequence);
        out.putName(f.id());
        out.putInt(f.errorType());
        out.putInt(f.errorCode());
        out.putText(f.description());
        out.putText(f.provider());
        out.putInt(f.flags());
        out.endFrame();
    }

    static void encodeFaultRemove(RecordBuffer out, long sequence, String id) {
        out.beginFrame();
        out.putByte(FAULT_REMOVE);
        out.putLong(sequence);
        out.putName(id);
        out.endFrame();
    }

    /**
     * A decoded record. Exactly one of {@code mutations}, {@code fault}, {@code removedFaultId} is
     * set; {@code changes} too for a CHANGES record (the batch's change feed entry), null for the
     * others (a BATCH record's changes depend on the tree it was applied to).
     */
    record LogRecord(long sequence, List<BatchCommand> mutations, HealthFault fault, String removedFaultId, List<Change> changes) {
    }

    /**
     * Decodes a payload whose CRC has been checked.
     *
     * @throws IllegalArgumentException when it does not follow the format
     */
    static LogRecord decode(byte[] payload, int offset, int length) {
        ByteBuffer in = ByteBuffer.wrap(payload, offset, length);
        try {
            byte type = in.get();
            long sequence = in.getLong();
            LogRecord r;
            switch (type) {
                case BATCH -> {
                    int count = in.getInt();
                    if (count < 0 || count > length) {
                        throw new IllegalArgumentException("mutation count " + count + " is impossible");
                    }
                    List<BatchCommand> mutations = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        byte op = in.get();
                        RegistryPath path = readPath(in);
                        switch (op) {
                            case CREATE_KEY -> mutations.add(new BatchCommand.CreateKey(path));
                            case DELETE_KEY -> mutations.add(new BatchCommand.DeleteKey(path));
                            case DELETE_VALUE -> mutations.add(new BatchCommand.DeleteValue(path, readName(in)));
                            case SET_VALUE -> {
                                String name = readName(in);
                                mutations.add(new BatchCommand.SetValue(path, name, readValue(in)));
                            }
                            default -> throw new IllegalArgumentException("unknown mutation code " + op);
                        }
                    }
                    r = new LogRecord(sequence, mutations, null, null, null);
                }
                case CHANGES -> {
                    int count = in.getInt();
                    if (count < 0 || count > length) {
                        throw new IllegalArgumentException("effect count " + count + " is impossible");
                    }
                    List<Change> changes = new ArrayList<>(count + 4);
                    List<BatchCommand> mutations = new ArrayList<>(count + 4);
                    for (int i = 0; i < count; i++) {
                        byte op = in.get();
                        RegistryPath path = readPath(in);
                        switch (op) {
                            case CREATE_KEY -> created(path, in.get() & 0xff, changes, mutations);
                            case SET_VALUE -> {
                                created(path, in.get() & 0xff, changes, mutations);
                                String name = readName(in);
                                RegistryValue value = readValue(in);
                                changes.add(new Change.ValueSet(path, name, new VersionedValue(value, sequence)));
                                mutations.add(new BatchCommand.SetValue(path, name, value));
                            }
                            case DELETE_VALUE -> {
                                String name = readName(in);
                                changes.add(new Change.ValueDeleted(path, name));
                                mutations.add(new BatchCommand.DeleteValue(path, name));
                            }
                            case DELETE_KEY -> {
                                changes.add(new Change.KeyDeleted(path));
                                mutations.add(new BatchCommand.DeleteKey(path));
                            }
                            default -> throw new IllegalArgumentException("unknown effect code " + op);
                        }
                    }
                    r = new LogRecord(sequence, mutations, null, null, changes);
                }
                case FAULT_PUT -> {
                    String id = readName(in);
                    int errorType = in.getInt();
                    int errorCode = in.getInt();
                    String description = readText(in);
                    String provider = readText(in);
                    int flags = in.getInt();
                    r = new LogRecord(sequence, null, new HealthFault(id, errorType, errorCode, description, provider, flags), null, null);
                }
                case FAULT_REMOVE -> r = new LogRecord(sequence, null, null, readName(in), null);
                default -> throw new IllegalArgumentException("unknown record type " + type);
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " unexpected bytes after the record");
            }
            return r;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("record ends early");
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The last {@code created} keys of {@code path}, ancestors first, as changes and as the mutation that recreates them. */
    private static void created(RegistryPath path, int created, List<Change> changes, List<BatchCommand> mutations) {
        int depth = path.segments().size();
        if (created > depth) {
            throw new IllegalArgumentException(created + " keys created on a path of depth " + depth);
        }
        for (int d = depth - created + 1; d <= depth; d++) {
            changes.add(new Change.KeyCreated(d == depth ? path : RegistryPath.of(path.segments().subList(0, d))));
        }
        if (created > 0) {
            mutations.add(new BatchCommand.CreateKey(path));
        }
    }

    /** type:int8 len:int32 bytes, as SET_VALUE writes them in both record types. */
    private static RegistryValue readValue(ByteBuffer in) {
        ValueType vt = ValueType.fromWindowsCode(in.get() & 0xff);
        int len = in.getInt();
        if (len < 0 || len > RegistryValue.MAX_SIZE) {
            throw new IllegalArgumentException("value length " + len + " is impossible");
        }
        byte[] data = new byte[len];
        in.get(data);
        return RegistryValue.of(vt, data);
    }

    private static RegistryPath readPath(ByteBuffer in) {
        int depth = in.get() & 0xff;
        if (depth > RegistryPath.MAX_DEPTH) {
            throw new IllegalArgumentException("path depth " + depth + " is impossible");
        }
        String[] segments = new String[depth];
        for (int i = 0; i < depth; i++) {
            segments[i] = readName(in);
        }
        return RegistryPath.of(segments);
    }

    private static String readName(ByteBuffer in) {
        int len = in.getShort() & 0xffff;
        byte[] b = new byte[len];
        in.get(b);
        return Wtf8.decode(b);
    }

    private static String readText(ByteBuffer in) {
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw new IllegalArgumentException("text length " + len + " is impossible");
        }
        byte[] b = new byte[len];
        in.get(b);
        return Wtf8.decode(b);
    }

    /** CRC32C of the 4 length bytes at {@code at + 4} and the payload after the header. */
    static int frameCrc(byte[] b, int frameStart, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b, frameStart + 4, 4);
        crc.update(b, frameStart + HEADER_BYTES, length);
        return (int) crc.getValue();
    }
}
