package dev.reliablestore.cluster.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.Wtf8;
import dev.reliablestore.spi.DurableFiles;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/**
 * The backup file format (version 1):
 *
 * <pre>
 * "RSBACKUP"   8 bytes  magic
 * format       2 bytes  big-endian, 1
 * compression  1 byte   1 = deflate
 * body                  deflate stream of:
 *     metadata   int length + UTF-8 JSON: format, source, root, sequence, created, producer, keys, values,
 *                entities per type, contentSha256 (see {@link RegistrySnapshot#contentDigest()})
 *     records    1 = key:   int length + UTF-8 path relative to the root ("" = the root itself)
 *                2 = value: name (int length + UTF-8), int type (Windows REG_* code), int length, bytes
 *                           (a value belongs to the key record before it)
 *                0 = end:   int keys, long values (a check that nothing was lost)
 * SHA-256     32 bytes  over every byte before it
 * </pre>
 *
 * Values are copied raw (type and wire bytes), so encrypted values stay encrypted and are bound to
 * the same root when restored. Reading checks the checksum over the whole file before parsing
 * anything.
 */
public final class BackupFile {

    private static final ObjectMapper MAPPER = JsonMapper.builder().build();
    static final byte[] MAGIC = "RSBACKUP".getBytes(StandardCharsets.US_ASCII);
    /** The format this version writes and reads. */
    public static final int FORMAT = 1;
    static final int DEFLATE = 1;
    static final int HEADER = MAGIC.length + 3;
    static final int CHECKSUM = 32;
    private static final int MAX_NAME_BYTES = 16 * 1024;
    private static final int MAX_METADATA_BYTES = 1 << 20;

    /** A backup read back: its metadata and snapshot. */
    public record Contents(JsonNode metadata, RegistrySnapshot snapshot) {
        /** The registry the backup was taken from. */
        public String source() {
            return metadata.path("source").asText();
        }

        public RegistryPath root() {
            return snapshot.root();
        }
    }

    private BackupFile() {
    }

    /**
     * Writes the snapshot to {@code file} atomically: a temporary file in the same folder, flushed to
     * disk, then renamed over the target.
     *
     * @param source   the registry URI the snapshot was taken from
     * @param producer who wrote the file, e.g. {@code reliablestore 0.1.0} or {@code scheduled backup on node1}
     * @return the SHA-256 of the file (its last 32 bytes), hex
     * @throws IOException also when the file would be larger than {@link #read} can load (about 2 GiB): then nothing is written
     */
    public static String write(Path file, RegistrySnapshot snapshot, String source, String producer) throws IOException {
        return write(file, snapshot, source, producer, MAX_FILE_BYTES);
    }

    /** {@link #write(Path, RegistrySnapshot, String, String)}, refusing a file larger than {@code maxFileBytes}. */
    static String write(Path file, RegistrySnapshot snapshot, String source, String producer, long maxFileBytes) throws IOException {
        Map<String, Object> metadata = new java.util.LinkedHashMap<>();
        metadata.put("format", FORMAT);
        metadata.put("source", source);
        metadata.put("root", snapshot.root().toString());
        snapshot.storeId().ifPresent(id -> metadata.put("storeId", id));
        metadata.put("sequence", snapshot.sequence());
        metadata.put("created", java.time.Instant.now().toString());
        metadata.put("producer", producer);
        metadata.put("keys", snapshot.keys().size());
        metadata.put("values", snapshot.valueCount());
        metadata.put("entities", snapshot.entityCounts());
        metadata.put("contentSha256", snapshot.contentDigest());
        return write(file, snapshot, metadata, maxFileBytes);
    }

    /** The largest file {@link #read} loads: what one byte array holds. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private static String write(Path file, RegistrySnapshot snapshot, Map<String, Object> metadata, long maxFileBytes) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        DurableFiles.createDirectories(dir); // a new backup folder is flushed into its parent, or a power loss takes it
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        byte[] sum;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                MessageDigest digest = sha256();
                OutputStream raw = java.nio.channels.Channels.newOutputStream(channel);
                DigestOutputStream summed = new DigestOutputStream(new java.io.BufferedOutputStream(raw, 1 << 16), digest);
                summed.write(MAGIC);
                summed.write(FORMAT >>> 8);
                summed.write(FORMAT);
                summed.write(DEFLATE);
                Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
                try {
                    DeflaterOutputStream zip = new DeflaterOutputStream(new NonClosing(summed), deflater, 1 << 16);
                    DataOutputStream out = new DataOutputStream(zip);
                    writeBytes(out, MAPPER.writeValueAsBytes(metadata));
                    int keys = 0;
                    long values = 0;
                    for (Map.Entry<RegistryPath, SortedMap<String, RegistryValue>> k : snapshot.keys().entrySet()) {
                        out.writeByte(1);
                        writeBytes(out, Wtf8.encode(k.getKey().toString()));
                        keys++;
                        for (Map.Entry<String, RegistryValue> v : k.getValue().entrySet()) {
                            out.writeByte(2);
                            writeBytes(out, Wtf8.encode(v.getKey())); // a name with an unpaired surrogate stays itself
                            out.writeInt(v.getValue().type().windowsCode());
                            writeBytes(out, v.getValue().unsafeData());
                            values++;
                        }
                    }
                    out.writeByte(0);
                    out.writeInt(keys);
                    out.writeLong(values);
                    out.flush();
                    zip.finish();
                } finally {
                    deflater.end();
                }
                summed.flush();
                sum = digest.digest();
                raw.write(sum);
                raw.flush();
                if (channel.size() > maxFileBytes) {
                    // read() loads the file whole: a larger one could never be restored, so it is no backup (and must not
                    // count as one, or a scheduled run's retention would delete restorable ones for it)
                    throw new IOException("the backup would take " + channel.size() + " bytes; a backup is read whole, at most "
                            + maxFileBytes + " bytes, so this one could not be restored; nothing was written");
                }
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        // an I/O error here fails the backup (a scheduled run then prunes nothing): the rename may not be durable
        DurableFiles.syncDirectory(dir);
        return HexFormat.of().formatHex(sum);
    }

    /**
     * Reads a backup, checking magic, format and the checksum over the whole file before anything
     * else is parsed.
     *
     * @throws BackupFormatException naming the file and what is wrong with it
     */
    public static Contents read(Path file) {
        try {
            return readWhole(file);
        } catch (OutOfMemoryError tooMuch) {
            // a backup over 2 GiB (the file is read whole), or values that inflate past the heap (a damaged or hostile
            // file; its checksum is no secret): a one-line refusal, nothing restored, instead of an Error escaping
            long size;
            try {
                size = Files.size(file);
            } catch (IOException | RuntimeException e) {
                size = -1;
            }
            throw new BackupFormatException("backup " + file + (size < 0 ? "" : " (" + size + " bytes)") + " holds more than this JVM can"
                    + " load (" + tooMuch.getMessage() + "; heap limit " + Runtime.getRuntime().maxMemory() + " bytes, a file at most "
                    + MAX_FILE_BYTES + " bytes): nothing was restored; a larger -Xmx helps unless the file is over that size");
        }
    }

    private static Contents readWhole(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BackupFormatException("cannot read backup " + file + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        if (all.length < HEADER + CHECKSUM) {
            throw new BackupFormatException("backup " + file + " is not a ReliableStore backup (no RSBACKUP header)");
        }
        requireMagicAndFormat(file, all);
        MessageDigest digest = sha256();
        digest.update(all, 0, all.length - CHECKSUM);
        if (!MessageDigest.isEqual(digest.digest(), Arrays.copyOfRange(all, all.length - CHECKSUM, all.length))) {
            throw new BackupFormatException("backup " + file + " is corrupt: its SHA-256 checksum does not match its contents "
                    + "(the file was truncated or altered); nothing was restored");
        }
        if (all[MAGIC.length + 2] != DEFLATE) {
            throw new BackupFormatException("backup " + file + " uses compression " + all[MAGIC.length + 2] + "; this tool reads deflate (1)");
        }
        try (DataInputStream in = new DataInputStream(new InflaterInputStream(
                new ByteArrayInputStream(all, HEADER, all.length - HEADER - CHECKSUM), new java.util.zip.Inflater(), 1 << 16))) {
            JsonNode metadata = MAPPER.readTree(readBytes(in, MAX_METADATA_BYTES));
            RegistryPath root = RegistryPath.parse(metadata.path("root").asText());
            long sequence = metadata.path("sequence").asLong();
            SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
            SortedMap<String, RegistryValue> current = null;
            long values = 0;
            for (; ; ) {
                int tag = in.readUnsignedByte();
                if (tag == 0) {
                    int expectedKeys = in.readInt();
                    long expectedValues = in.readLong();
                    if (expectedKeys != keys.size() || expectedValues != values) {
                        throw new IOException("it lists " + expectedKeys + " keys and " + expectedValues + " values but holds "
                                + keys.size() + " and " + values);
                    }
                    break;
                }
                if (tag == 1) {
                    RegistryPath key = RegistryPath.parse(Wtf8.decode(readBytes(in, MAX_NAME_BYTES)));
                    current = new TreeMap<>();
                    if (keys.put(key, current) != null) {
                        throw new IOException("key " + key + " appears twice");
                    }
                } else if (tag == 2) {
                    if (current == null) {
                        throw new IOException("a value comes before any key");
                    }
                    String name = Wtf8.decode(readBytes(in, MAX_NAME_BYTES));
                    ValueType type = ValueType.fromWindowsCode(in.readInt());
                    current.put(name, RegistryValue.of(type, readBytes(in, RegistryValue.MAX_SIZE)));
                    values++;
                } else {
                    throw new IOException("unknown record " + tag);
                }
            }
            if (in.read() != -1) {
                throw new IOException("data follows the end record");
            }
            SortedMap<RegistryPath, SortedMap<String, RegistryValue>> frozen = new TreeMap<>();
            keys.forEach((k, v) -> frozen.put(k, Collections.unmodifiableSortedMap(v)));
            return new Contents(metadata, new RegistrySnapshot(root, sequence, Collections.unmodifiableSortedMap(frozen)));
        } catch (EOFException e) {
            throw new BackupFormatException("backup " + file + " is corrupt: it ends early");
        } catch (IOException | RegistryException | IllegalArgumentException e) {
            String why = e instanceof ZipException || e.getCause() instanceof DataFormatException ? "its compressed body is damaged"
                    : e.getMessage();
            throw new BackupFormatException("backup " + file + " is corrupt: " + why);
        }
    }

    /**
     * Reads only a backup's metadata (the start of its body), without checking the checksum over the
     * whole file: enough to tell whose backup a file is, not that it is intact.
     *
     * @throws BackupFormatException when the file is not a backup of this format or cannot be read
     */
    static JsonNode readMetadata(Path file) {
        try (java.io.InputStream raw = Files.newInputStream(file)) {
            byte[] header = raw.readNBytes(HEADER);
            if (header.length < HEADER) {
                throw new BackupFormatException("backup " + file + " is not a ReliableStore backup (no RSBACKUP header)");
            }
            requireMagicAndFormat(file, header);
            if (header[MAGIC.length + 2] != DEFLATE) {
                throw new BackupFormatException("backup " + file + " uses compression " + header[MAGIC.length + 2] + "; this tool reads deflate (1)");
            }
            DataInputStream in = new DataInputStream(new InflaterInputStream(raw, new java.util.zip.Inflater(), 1 << 12));
            return MAPPER.readTree(readBytes(in, MAX_METADATA_BYTES));
        } catch (IOException e) {
            throw new BackupFormatException("cannot read the metadata of backup " + file + " (" + e + ")");
        }
    }

    /** The magic and the format version at the start of {@code bytes} (at least {@link #HEADER} of them). */
    private static void requireMagicAndFormat(Path file, byte[] bytes) {
        if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new BackupFormatException("backup " + file + " is not a ReliableStore backup (no RSBACKUP header)");
        }
        int format = ((bytes[MAGIC.length] & 0xff) << 8) | (bytes[MAGIC.length + 1] & 0xff);
        if (format != FORMAT) {
            throw new BackupFormatException("backup " + file + " has format " + format + "; this tool reads format " + FORMAT);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in, int max) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > max) {
            throw new IOException("a length of " + n + " bytes is out of range (limit " + max + ")");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** Keeps the deflater's finish() from closing the file stream under it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
