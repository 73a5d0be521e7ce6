package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Wtf8;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Snapshot files {@code snapshot-<sequence>.snap}: the whole tree and the health faults as of one
 * sequence. Written to {@code snapshot-<sequence>.tmp}, forced, renamed, and the directory forced,
 * so a snapshot file either is complete or does not exist under its final name.
 *
 * <pre>
 * "RSSNAP01" sequence:int64 faultCount:int32 fault* node "RSSNAPEN" crc:int32   (CRC32C of all before it)
 * node  := valueCount:int32 (name type:int8 revision:int64 len:int32 bytes)* childCount:int32 (name node)*
 * name  := len:uint16 wtf8     fault := name errorType:int32 errorCode:int32 text text flags:int32
 * </pre>
 */
final class SnapshotFiles {

    private static final Pattern SNAPSHOT = Pattern.compile("snapshot-(\\d{20})\\.snap");
    private static final byte[] HEAD = "RSSNAP01".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TAIL = "RSSNAPEN".getBytes(StandardCharsets.US_ASCII);

    private SnapshotFiles() {
    }

    static Path path(Path dir, long sequence) {
        return dir.resolve(String.format(Locale.ROOT, "snapshot-%020d.snap", sequence));
    }

    static long sequenceOf(Path file) {
        Matcher m = SNAPSHOT.matcher(file.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Snapshot files of {@code dir}, oldest first. */
    static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(f -> sequenceOf(f) >= 0).forEach(out::add);
        }
        out.sort((a, b) -> Long.compare(sequenceOf(a), sequenceOf(b)));
        return out;
    }

    /**
     * Writes the state durably; returns the final file. On failure the partial {@code .tmp} is
     * deleted: on a full disk it would keep the room the log needs.
     */
    static Path write(Path dir, ChannelFactory channels, TreeState state) throws IOException {
        Path target = path(dir, state.sequence());
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            writeTmp(tmp, channels, state);
            channels.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException notDeleted) {
                e.addSuppressed(notDeleted);
            }
            throw e;
        }
        channels.syncDirectory(dir);
        return target;
    }

    private static void writeTmp(Path tmp, ChannelFactory channels, TreeState state) throws IOException {
        try (FileChannel ch = channels.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(nonClosing(Channels.newOutputStream(ch)), 1 << 16), new CRC32C());
            DataOutputStream out = new DataOutputStream(checked);
            out.write(HEAD);
            out.writeLong(state.sequence());
            out.writeInt(PersistentSortedMap.size(state.faults()));
            IOException[] failure = new IOException[1];
            PersistentSortedMap.forEach(state.faults(), (id, f) -> {
                try {
                    writeName(out, id);
                    out.writeInt(f.errorType());
                    out.writeInt(f.errorCode());
                    writeText(out, f.description());
                    writeText(out, f.provider());
                    out.writeInt(f.flags());
                } catch (IOException e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            writeNode(out, state.root());
            out.write(TAIL);
            out.flush();
            int crc = (int) checked.getChecksum().getValue();
            out.writeInt(crc);
            out.flush();
            ch.force(true);
        }
    }

    private static void writeNode(DataOutputStream out, KeyNode node) throws IOException {
        out.writeInt(PersistentSortedMap.size(node.values));
        List<IOException> failure = new ArrayList<>(1);
        PersistentSortedMap.forEach(node.values, (name, vv) -> {
            if (!failure.isEmpty()) {
                return;
            }
            try {
                writeName(out, name);
                out.writeByte(vv.value().type().windowsCode());
                out.writeLong(vv.revision());
                byte[] data = vv.value().unsafeData();
                out.writeInt(data.length);
                out.write(data);
            } catch (IOException e) {
                failure.add(e);
            }
        });
        out.writeInt(PersistentSortedMap.size(node.children));
        PersistentSortedMap.forEach(node.children, (name, child) -> {
            if (!failure.isEmpty()) {
                return;
            }
            try {
                writeName(out, name);
                writeNode(out, child);
            } catch (IOException e) {
                failure.add(e);
            }
        });
        if (!failure.isEmpty()) {
            throw failure.get(0);
        }
    }

    /**
     * Reads a snapshot, checking its checksum. The checksum covers the whole file, so a mismatch
     * says which bytes it covers, not where they changed; when parsing stops first, the checksum is
     * computed over the file to tell damage from a file written that way.
     *
     * @throws RegistryCorruptedException naming the file, what was found and where
     */
    static TreeState read(Path file) throws IOException {
        CountingInputStream counting = new CountingInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
        CheckedInputStream checked = new CheckedInputStream(counting, new CRC32C());
        try (DataInputStream in = new DataInputStream(checked)) {
            expect(in, HEAD);
            long sequence = in.readLong();
            int faultCount = in.readInt();
            if (faultCount < 0) {
                throw new Unreadable("negative fault count");
            }
            PersistentSortedMap.Node<HealthFault> faults = null;
            for (int i = 0; i < faultCount; i++) {
                String id = readName(in);
                HealthFault f = new HealthFault(id, in.readInt(), in.readInt(), readText(in), readText(in), in.readInt());
                faults = PersistentSortedMap.put(faults, id, f);
            }
            KeyNode root = readNode(in, 0);
            expect(in, TAIL);
            long crcAt = counting.count;
            int computed = (int) checked.getChecksum().getValue();
            int stored = in.readInt();
            if (computed != stored) {
                throw new RegistryCorruptedException("snapshot " + file + " is damaged: its CRC32C checksum over bytes 0.." + (crcAt - 1)
                        + " does not match the one stored at offset " + crcAt + " (which of those bytes changed is not known);"
                        + " refusing to open (nothing was discarded)");
            }
            if (in.read() != -1) {
                throw new RegistryCorruptedException("snapshot " + file + " is damaged: it goes on after its checksum (offset " + crcAt
                        + "), to " + Files.size(file) + " bytes; refusing to open (nothing was discarded)");
            }
            return new TreeState(root, sequence, faults);
        } catch (RegistryCorruptedException e) {
            throw e;
        } catch (Unreadable e) {
            throw unreadable(file, counting.count, e.getMessage(), null);
        } catch (IOException | RuntimeException e) {
            throw unreadable(file, counting.count, e.toString(), e);
        }
    }

    /** Parsing stopped at {@code offset}: whether the file's checksum still matches tells damage from a file written so. */
    private static RegistryCorruptedException unreadable(Path file, long offset, String what, Throwable cause) {
        String checksum;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 4) {
                checksum = "it is only " + size + " bytes long";
            } else {
                CRC32C crc = new CRC32C();
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16);
                for (long at = 0; at < size - 4; ) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), size - 4 - at));
                    int n = ch.read(buf, at);
                    if (n < 0) {
                        throw new IOException("unexpected end of file at " + at);
                    }
                    buf.flip();
                    crc.update(buf);
                    at += n;
                }
                java.nio.ByteBuffer stored = java.nio.ByteBuffer.allocate(4);
                while (stored.hasRemaining()) {
                    if (ch.read(stored, size - 4 + stored.position()) < 0) {
                        throw new IOException("unexpected end of file at " + (size - 4 + stored.position()));
                    }
                }
                boolean matches = (int) crc.getValue() == stored.getInt(0);
                checksum = matches ? null : "its CRC32C checksum over bytes 0.." + (size - 5) + " does not match the one stored at offset "
                        + (size - 4) + " (its last 4 bytes)";
            }
        } catch (IOException e) {
            checksum = "its checksum could not be computed (" + e + ")";
        }
        String message = checksum == null
                ? "snapshot " + file + " cannot be read at offset " + offset + " (" + what + "), although its CRC32C checksum matches:"
                        + " it was written that way (a format this version does not read, or a bug)"
                : "snapshot " + file + " is damaged: " + checksum + "; reading it stopped at offset " + offset + " (" + what + ")";
        return new RegistryCorruptedException(message + "; refusing to open (nothing was discarded)", cause);
    }

    /** A structural check failed while parsing. */
    private static final class Unreadable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unreadable(String what) {
            super(what, null, false, false);
        }
    }

    private static KeyNode readNode(DataInputStream in, int depth) throws IOException {
        if (depth > 32) {
            throw new Unreadable("tree deeper than 32 keys");
        }
        int valueCount = in.readInt();
        if (valueCount < 0) {
            throw new Unreadable("negative value count");
        }
        List<String> names = new ArrayList<>(Math.min(valueCount, 1024));
        List<VersionedValue> values = new ArrayList<>(Math.min(valueCount, 1024));
        for (int i = 0; i < valueCount; i++) {
            names.add(readName(in));
            ValueType type = ValueType.fromWindowsCode(in.readUnsignedByte());
            long revision = in.readLong();
            int len = in.readInt();
            if (len < 0 || len > RegistryValue.MAX_SIZE) {
                throw new Unreadable("impossible value length " + len);
            }
            byte[] data = new byte[len];
            in.readFully(data);
            values.add(new VersionedValue(RegistryValue.of(type, data), revision));
        }
        int childCount = in.readInt();
        if (childCount < 0) {
            throw new Unreadable("negative subkey count");
        }
        List<String> childNames = new ArrayList<>(Math.min(childCount, 1024));
        List<KeyNode> children = new ArrayList<>(Math.min(childCount, 1024));
        for (int i = 0; i < childCount; i++) {
            childNames.add(readName(in));
            children.add(readNode(in, depth + 1));
        }
        requireSorted(names);
        requireSorted(childNames);
        return new KeyNode(PersistentSortedMap.fromSorted(childNames, children), PersistentSortedMap.fromSorted(names, values));
    }

    private static void requireSorted(List<String> names) {
        for (int i = 1; i < names.size(); i++) {
            if (names.get(i - 1).compareTo(names.get(i)) >= 0) {
                throw new Unreadable("names out of order");
            }
        }
    }

    private static void expect(DataInputStream in, byte[] marker) throws IOException {
        byte[] got = new byte[marker.length];
        in.readFully(got);
        if (!java.util.Arrays.equals(got, marker)) {
            throw new Unreadable("missing marker " + new String(marker, StandardCharsets.US_ASCII));
        }
    }

    private static void writeName(DataOutputStream out, String s) throws IOException {
        byte[] b = Wtf8.encode(s);
        out.writeShort(b.length);
        out.write(b);
    }

    private static String readName(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readUnsignedShort()];
        in.readFully(b);
        return Wtf8.decode(b);
    }

    private static void writeText(DataOutputStream out, String s) throws IOException {
        byte[] b = Wtf8.encode(s);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readText(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > 64 * 1024 * 1024) {
            throw new Unreadable("impossible text length " + len);
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return Wtf8.decode(b);
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    private static final class CountingInputStream extends FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
