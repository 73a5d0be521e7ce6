package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where everything lives below the chroot, and how names and values are written into znodes.
 *
 * <pre>
 * {chroot}/data                     the registry's root key
 * {chroot}/data/{seg}/{seg}         a key: one znode per path segment (data: empty)
 * {chroot}/data/{seg}/={name}       a value of that key: '=' + the encoded name; data = header + wire bytes
 * {chroot}/seq                      touched by every multi that changes something: mzxid and data give the newest sequence
 * {chroot}/log/{bucket}/{entry}     the change log: one entry per changing batch (czxid and data give the batch's sequence)
 * {chroot}/feed-horizon             the highest sequence the log's garbage collection may have dropped (only grows)
 * {chroot}/cluster/members/{node}   ephemeral, one per open registry
 * {chroot}/cluster/election         the LeaderLatch of the primary
 * {chroot}/faults/{id}              health faults
 * </pre>
 *
 * Segment and value names are escaped so that every legal registry name is a legal znode name and
 * a key child can never be mistaken for a value child: {@code %}, {@code =}, surrogates, private
 * use and U+FFF0..U+FFFF characters become {@code %XXXX} (UTF-16 code unit in hex), and the names
 * {@code .} and {@code ..} are escaped as a whole.
 */
final class ZnodeLayout {

    static final String VALUE_PREFIX = "=";
    private static final byte VALUE_FORMAT = 1;
    /** A value written by the {@code sub}-th batch of a coalesced multi: format, sub, then as format 1. */
    private static final byte VALUE_FORMAT_SUB = 2;
    private static final byte LOG_BATCH = 1;
    private static final byte LOG_FENCE = 2;
    /** A log entry of the {@code sub}-th batch of a coalesced multi: format, sub, then as a batch entry. */
    private static final byte LOG_BATCH_SUB = 3;
    /** Bits of a sequence below the zxid: the batch's index in its multi. */
    static final int SUB_BITS = 8;
    /** Batches one multi can carry. */
    static final int MAX_SUBS = 1 << SUB_BITS;
    private static final byte FAULT_FORMAT = 1;
    private static final byte HORIZON_FORMAT = 1;

    final String chroot;
    final String data;
    final String seq;
    final String log;
    /** The replayable history starts after the sequence it holds: raised before log entries are deleted, never lowered. */
    final String feedHorizon;
    final String members;
    final String election;
    final String faults;
    /** Bounds the cache of escaped key paths; a miss only costs the escaping. */
    private static final int MAX_CACHED_KEY_PATHS = 4096;
    private final ConcurrentHashMap<RegistryPath, String> keyPaths = new ConcurrentHashMap<>();
    /** Never created: a check on it always fails, which ends a multi that proves a condition false. */
    final String absentSentinel;

    ZnodeLayout(String chroot) {
        this.chroot = chroot;
        this.data = chroot + "/data";
        this.seq = chroot + "/seq";
        this.log = chroot + "/log";
        this.feedHorizon = chroot + "/feed-horizon";
        this.members = chroot + "/cluster/members";
        this.election = chroot + "/cluster/election";
        this.faults = chroot + "/faults";
        this.absentSentinel = chroot + "/never-created";
    }

    String keyPath(RegistryPath key) {
        if (key.isRoot()) {
            return data;
        }
        // every commit and read names the same few keys (a type's, its versions', the locks'): escape them once
        String cached = keyPaths.get(key);
        if (cached != null) {
            return cached;
        }
        String path = escapedKeyPath(key);
        if (keyPaths.size() >= MAX_CACHED_KEY_PATHS) {
            keyPaths.clear();
        }
        keyPaths.put(key, path);
        return path;
    }

    private String escapedKeyPath(RegistryPath key) {
        StringBuilder sb = new StringBuilder(data.length() + key.length() + 16).append(data);
        for (String s : key.segments()) {
            sb.append('/');
            escape(s, sb);
        }
        return sb.toString();
    }

    String valuePath(RegistryPath key, String name) {
        StringBuilder sb = new StringBuilder(keyPath(key)).append('/').append(VALUE_PREFIX);
        escape(name, sb);
        return sb.toString();
    }

    static boolean isValueChild(String child) {
        return child.startsWith(VALUE_PREFIX);
    }

    static String escape(String name) {
        if (isPlain(name)) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name.length() + 8);
        escape(name, sb);
        return sb.toString();
    }

    /** Whether the name is its own escaped form (almost every name: a batch escapes hundreds). */
    private static boolean isPlain(String name) {
        if (name.equals(".") || name.equals("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (needsEscape(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean needsEscape(char c) {
        return c == '%' || c == '=' || c >= '\ud800' && c <= '\uf8ff' || c >= '\ufff0';
    }

    private static void escape(String name, StringBuilder out) {
        if (isPlain(name)) {
            out.append(name);
            return;
        }
        if (name.equals(".") || name.equals("..")) {
            for (int i = 0; i < name.length(); i++) {
                out.append("%002E");
            }
            return;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (needsEscape(c)) {
                out.append('%').append(String.format("%04X", (int) c));
            } else {
                out.append(c);
            }
        }
    }

    static String unescape(String znodeName) {
        if (znodeName.indexOf('%') < 0) {
            return znodeName;
        }
        StringBuilder sb = new StringBuilder(znodeName.length());
        for (int i = 0; i < znodeName.length(); i++) {
            char c = znodeName.charAt(i);
            if (c == '%' && i + 4 < znodeName.length()) {
                sb.append((char) Integer.parseInt(znodeName.substring(i + 1, i + 5), 16));
                i += 4;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    // ---- sequences -----------------------------------------------------------------------------

    /**
     * The commit sequence of the {@code sub}-th batch of the multi that got {@code zxid}: several
     * batches may share one multi, and so one zxid, yet need distinct, increasing sequences.
     */
    static long sequence(long zxid, int sub) {
        if (zxid >>> (63 - SUB_BITS) != 0) {
            throw new RegistryCorruptedException("zxid " + Long.toHexString(zxid) + " is beyond what a registry sequence can encode (leader epoch above 2^23)");
        }
        return zxid << SUB_BITS | sub;
    }

    /** The data of {@code seq} after a multi whose last batch is the {@code sub}-th. */
    static byte[] seqData(int sub) {
        return sub == 0 ? new byte[0] : new byte[] {(byte) sub};
    }

    /** The sub of {@code seq}'s data. */
    static int seqSub(byte[] data) {
        return data == null || data.length == 0 ? 0 : data[0] & 0xFF;
    }

    /** The sequence {@code seq} stands for (the newest committed batch). */
    static long seqSequence(org.apache.zookeeper.data.Stat stat, byte[] data) {
        return sequence(stat.getMzxid(), seqSub(data));
    }

    // ---- values --------------------------------------------------------------------------------

    /** Value znode data: format byte, REG_* type code, then the wire bytes. The revision is the znode's mzxid. */
    static byte[] encodeValue(RegistryValue value) {
        byte[] wire = value.unsafeData();
        byte[] out = new byte[wire.length + 2];
        out[0] = VALUE_FORMAT;
        out[1] = (byte) value.type().windowsCode();
        System.arraycopy(wire, 0, out, 2, wire.length);
        return out;
    }

    /** The revision of a value znode: its mzxid and, for a batch of a coalesced multi, its index there. */
    static long revision(String znode, org.apache.zookeeper.data.Stat stat, byte[] stored) {
        return sequence(stat.getMzxid(), stored != null && stored.length >= 3 && stored[0] == VALUE_FORMAT_SUB ? stored[1] & 0xFF : 0);
    }

    /** Marks a value's (or, with {@code logEntry}, a log entry's) bytes as the {@code sub}-th batch's of a multi; null if they are not such bytes. */
    static byte[] withSub(byte[] stored, int sub, boolean logEntry) {
        if (stored == null || stored.length < 2 || stored[0] != (logEntry ? LOG_BATCH : VALUE_FORMAT)) {
            return null;
        }
        byte[] out = new byte[stored.length + 1];
        out[0] = logEntry ? LOG_BATCH_SUB : VALUE_FORMAT_SUB;
        out[1] = (byte) sub;
        System.arraycopy(stored, 1, out, 2, stored.length - 1);
        return out;
    }

    /** Stored value bytes without a batch index (as a lone batch writes them), for comparing bytes. */
    static byte[] withoutSub(byte[] stored) {
        if (stored == null || stored.length < 3 || stored[0] != VALUE_FORMAT_SUB) {
            return stored;
        }
        byte[] plain = new byte[stored.length - 1];
        plain[0] = VALUE_FORMAT;
        System.arraycopy(stored, 2, plain, 1, stored.length - 2);
        return plain;
    }

    static RegistryValue decodeValue(String znode, byte[] stored) {
        stored = withoutSub(stored);
        if (stored == null || stored.length < 2 || stored[0] != VALUE_FORMAT) {
            throw new RegistryCorruptedException("znode " + znode + " does not hold a registry value (format "
                    + (stored == null || stored.length == 0 ? "missing" : String.valueOf(stored[0])) + ", " + (stored == null ? 0 : stored.length) + " bytes)");
        }
        ValueType type;
        try {
            type = ValueType.fromWindowsCode(stored[1]);
        } catch (RuntimeException e) {
            throw new RegistryCorruptedException("znode " + znode + " holds an unknown value type code " + stored[1], e);
        }
        byte[] wire = new byte[stored.length - 2];
        System.arraycopy(stored, 2, wire, 0, wire.length);
        try {
            return RegistryValue.of(type, wire);
        } catch (RuntimeException e) {
            throw new RegistryCorruptedException("znode " + znode + " holds a malformed " + type + " value: " + e.getMessage(), e);
        }
    }

    // ---- change log entries --------------------------------------------------------------------

    /** A log entry of a committed batch; ValueSet revisions are not stored (they are the entry's czxid). */
    static byte[] encodeLogEntry(List<Change> changes) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(LOG_BATCH);
            out.writeInt(changes.size());
            for (Change c : changes) {
                writePath(out, c.key());
                if (c instanceof Change.KeyCreated) {
                    out.writeByte(1);
                } else if (c instanceof Change.KeyDeleted) {
                    out.writeByte(2);
                } else if (c instanceof Change.ValueSet s) {
                    out.writeByte(3);
                    out.writeUTF(s.name());
                    out.writeByte(s.value().value().type().windowsCode());
                    byte[] wire = s.value().value().unsafeData();
                    out.writeInt(wire.length);
                    out.write(wire);
                } else if (c instanceof Change.ValueDeleted d) {
                    out.writeByte(4);
                    out.writeUTF(d.name());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The exact size {@link #encodeLogEntry} will produce, without building it. */
    static long logEntrySize(List<Change> changes) {
        long size = 5;
        for (Change c : changes) {
            size += pathSize(c.key()) + 1;
            if (c instanceof Change.ValueSet s) {
                size += utfSize(s.name()) + 1 + 4 + s.value().value().size();
            } else if (c instanceof Change.ValueDeleted d) {
                size += utfSize(d.name());
            }
        }
        return size;
    }

    static byte[] fenceEntry() {
        return new byte[] {LOG_FENCE};
    }

    static boolean isFence(byte[] entry) {
        return entry != null && entry.length == 1 && entry[0] == LOG_FENCE;
    }

    /** The sequence of the batch whose log entry this is (czxid and, in a coalesced multi, the batch's index there). */
    static long logEntrySequence(org.apache.zookeeper.data.Stat stat, byte[] entry) {
        return sequence(stat.getCzxid(), entry != null && entry.length >= 2 && entry[0] == LOG_BATCH_SUB ? entry[1] & 0xFF : 0);
    }

    /** Decodes a log entry; null for a fence. */
    static List<Change> decodeLogEntry(String znode, byte[] entry, long sequence) {
        if (isFence(entry)) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            byte format = in.readByte();
            if (format == LOG_BATCH_SUB) {
                in.readByte();
            } else if (format != LOG_BATCH) {
                throw new RegistryCorruptedException("change-log entry " + znode + " has an unknown format");
            }
            int n = in.readInt();
            List<Change> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                RegistryPath key = readPath(in);
                int kind = in.readByte();
                switch (kind) {
                    case 1 -> out.add(new Change.KeyCreated(key));
                    case 2 -> out.add(new Change.KeyDeleted(key));
                    case 3 -> {
                        String name = in.readUTF();
                        ValueType type = ValueType.fromWindowsCode(in.readByte());
                        byte[] wire = new byte[in.readInt()];
                        in.readFully(wire);
                        out.add(new Change.ValueSet(key, name, new VersionedValue(RegistryValue.trusted(type, wire), sequence)));
                    }
                    case 4 -> out.add(new Change.ValueDeleted(key, in.readUTF()));
                    default -> throw new RegistryCorruptedException("change-log entry " + znode + " has unknown change kind " + kind);
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            if (e instanceof RegistryCorruptedException rce) {
                throw rce;
            }
            throw new RegistryCorruptedException("change-log entry " + znode + " is truncated or malformed", e);
        }
    }

    private static void writePath(DataOutputStream out, RegistryPath path) throws IOException {
        out.writeByte(path.depth());
        for (String s : path.segments()) {
            out.writeUTF(s);
        }
    }

    private static long pathSize(RegistryPath path) {
        long size = 1;
        for (String s : path.segments()) {
            size += utfSize(s);
        }
        return size;
    }

    private static RegistryPath readPath(DataInputStream in) throws IOException {
        int depth = in.readUnsignedByte();
        List<String> segments = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            segments.add(in.readUTF());
        }
        return RegistryPath.of(segments);
    }

    /** Bytes of {@link DataOutputStream#writeUTF} (modified UTF-8 plus the 2-byte length). */
    static long utfSize(String s) {
        long size = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            size += c >= 0x0001 && c <= 0x007F ? 1 : c > 0x07FF ? 3 : 2;
        }
        return size;
    }

    // ---- the feed's horizon ----------------------------------------------------------------------

    /** Data of {@code feed-horizon}: format byte, then the sequence (8 bytes, big-endian). */
    static byte[] encodeHorizon(long sequence) {
        byte[] out = new byte[9];
        out[0] = HORIZON_FORMAT;
        for (int i = 0; i < 8; i++) {
            out[1 + i] = (byte) (sequence >>> (56 - 8 * i));
        }
        return out;
    }

    /** The sequence in {@code feed-horizon}'s data; 0 for no data (nothing was ever dropped). */
    static long decodeHorizon(String znode, byte[] data) {
        if (data == null || data.length == 0) {
            return 0;
        }
        if (data.length != 9 || data[0] != HORIZON_FORMAT) {
            throw new RegistryCorruptedException("znode " + znode + " does not hold a change-feed horizon (" + data.length + " bytes)");
        }
        long sequence = 0;
        for (int i = 1; i < 9; i++) {
            sequence = sequence << 8 | (data[i] & 0xFF);
        }
        return sequence;
    }

    // ---- health faults -------------------------------------------------------------------------

    static byte[] encodeFault(HealthFault f) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FAULT_FORMAT);
            out.writeUTF(f.id());
            out.writeInt(f.errorType());
            out.writeInt(f.errorCode());
            byte[] description = f.description().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeInt(description.length);
            out.write(description);
            out.writeUTF(f.provider());
            out.writeInt(f.flags());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static HealthFault decodeFault(String znode, byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readByte() != FAULT_FORMAT) {
                throw new RegistryCorruptedException("health fault " + znode + " has an unknown format");
            }
            String id = in.readUTF();
            int type = in.readInt();
            int code = in.readInt();
            byte[] description = new byte[in.readInt()];
            in.readFully(description);
            return new HealthFault(id, type, code, new String(description, java.nio.charset.StandardCharsets.UTF_8), in.readUTF(), in.readInt());
        } catch (IOException | RuntimeException e) {
            if (e instanceof RegistryCorruptedException rce) {
                throw rce;
            }
            throw new RegistryCorruptedException("health fault " + znode + " is truncated or malformed", e);
        }
    }
}
