package dev.reliablestore.basic;

import dev.reliablestore.spi.DurableFiles;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.codec.CodecMismatchException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * One open file-store directory: the process-exclusive lock on it, the per-id lock stripes that
 * make a version check and its write one step, the batch journal, and crash recovery on open.
 *
 * <pre>
 * &lt;directory&gt;/.reliablestore.lock          held (OS file lock) while a factory has the directory open
 * &lt;directory&gt;/.batches/&lt;batch&gt;.journal      a committed batch whose renames may not all be done yet
 * &lt;directory&gt;/&lt;type&gt;/&lt;id&gt;.json             one document per entity (names: {@link FileNames})
 * &lt;directory&gt;/&lt;type&gt;/.tmp-* and .batch-*   temporary files, removed on open unless a journal needs them
 * </pre>
 */
final class FileStoreFactory implements StoreFactory {

    static final String LOCK_FILE = ".reliablestore.lock";
    static final String BATCH_DIR = ".batches";
    static final String JOURNAL_SUFFIX = ".journal";
    static final String DOC_SUFFIX = ".json";
    static final String TEMP_PREFIX = ".tmp-";
    static final String BATCH_TEMP_PREFIX = ".batch-";
    static final int FORMAT = 1;
    /** In each type folder: the id of the codec its documents were written with (absent: written before ids, Jackson JSON). */
    static final String CODEC_FILE = ".codec";
    /**
     * Present once every document of the directory carries a CRC32C (a new directory starts so); from
     * then on a document without one is damage, not a legacy file.
     */
    static final String FORMAT_MARKER = ".reliablestore.format";
    static final byte[] FORMAT_MARKER_TEXT = "{\"documentChecksums\":\"crc32c\"}\n".getBytes(StandardCharsets.US_ASCII);
    private static final int STRIPES = 1024;
    /**
     * The directories this process has open, by real path, each with the claim of its factory. The
     * OS lock is a POSIX record lock, which belongs to the process and goes with the close of any
     * descriptor of the file: a refused second open that opened the lock file and closed it would
     * unlock the directory for other processes. So a second open is refused here, before the file.
     */
    private static final ConcurrentHashMap<Path, Object> OPEN = new ConcurrentHashMap<>();
    /**
     * Lock-file channels whose {@code tryLock} met a lock other code of this process holds (closing one
     * would drop that lock), by the file's identity (device and inode), reused by the next open of
     * that same file; an open channel keeps its inode from being reused.
     */
    private static final ConcurrentHashMap<Object, java.util.Queue<FileChannel>> PARKED = new ConcurrentHashMap<>();

    private final Path root;
    private final Path batches;
    /**
     * Documents and journals are JSON whatever the entity codec; this mapper reads and writes their
     * frame. Its reads have no depth or length limit of their own: the entity inside a frame is
     * skipped, never parsed, and was bounded by its codec when written. The default codec's limits
     * here would make the deepest value it writes (one level more once framed), or a number a
     * codec of the user's own allows, an acknowledged write that no longer reads.
     */
    static final ObjectMapper FRAME = JsonMapper.builder(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxDocumentLength(-1)
                    .maxNestingDepth(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .build())
            .build()).build();

    /**
     * Whether {@code bytes} are one value of standard JSON in UTF-8 without a byte-order mark, which the document
     * frame can hold as it is. A JSON codec over a mapper or encoder of the user's own may write more (NaN as a
     * bare token, YAML, Smile, a BOM, UTF-16): embedded, the document would no longer parse, so such an entity is
     * stored as {@code entityBase64} instead.
     */
    static boolean isStandardJson(byte[] bytes) {
        // A parser of these bytes alone guesses their encoding (skips a BOM, reads UTF-16 and UTF-32), but
        // embedded they are read as part of the document, which is UTF-8. Without a BOM or NUL the guess is
        // UTF-8 too, so the parse below decides as the document's reader will; valid UTF-8 keeps the file
        // JSON (RFC 8259) for other readers as well.
        if (startsWithUtf8Bom(bytes) || containsNul(bytes) || !isValidUtf8(bytes)) {
            return false;
        }
        try (com.fasterxml.jackson.core.JsonParser p = FRAME.createParser(bytes)) {
            if (p.nextToken() == null) {
                return false;
            }
            p.skipChildren();
            return p.nextToken() == null;
        } catch (IOException notJson) {
            return false;
        }
    }

    private static boolean startsWithUtf8Bom(byte[] bytes) {
        return bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF;
    }

    private static boolean containsNul(byte[] bytes) {
        for (byte b : bytes) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean isValidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input, never replaces it
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(4096); // a chunk, reused: an entity may be large
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return false;
            }
            if (result.isUnderflow()) {
                return true;
            }
            out.clear();
        }
    }

    private final EntityCodec codec;
    private final long maxEntityBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Path openKey;
    private final Object openClaim;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Set<Path> createdTypeDirs = ConcurrentHashMap.newKeySet();
    private final AsyncExecutor async;
    private final AtomicLong batchCounter = new AtomicLong();
    /** Calls hold the read side; close takes the write side, so it waits for calls in flight. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile boolean closed;
    private volatile boolean checksumsRequired;
    /** Why writes stopped (a batch left committed but not applied), or null. */
    private volatile String writesStoppedBecause;

    /** One rename of {@link #rollForward}; a step that can fail after a batch's commit point, replaced by a test to fail it. */
    interface RollForwardRename {
        void rename(Path temp, Path target) throws IOException;
    }

    volatile RollForwardRename rollForwardRename = DurableFiles::rename;

    private FileStoreFactory(Path root, EntityCodec codec, long maxEntityBytes, FileChannel lockChannel, FileLock lock, Path openKey,
                             Object openClaim) {
        this.root = root;
        this.openKey = openKey;
        this.openClaim = openClaim;
        this.batches = root.resolve(BATCH_DIR);
        this.codec = codec;
        this.maxEntityBytes = maxEntityBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.async = new AsyncExecutor("file");
    }

    static FileStoreFactory open(Path root, EntityCodec codec, long maxEntityBytes, boolean upgrade) {
        BasicFileAttributes existing;
        try {
            existing = attributesIfThere(root);
        } catch (IOException e) {
            // not a misconfiguration: it may be a directory, and the disk may answer the next open
            throw new StoreUnavailableException("cannot open file store directory " + root + ": " + e, e);
        }
        if (existing != null && !existing.isDirectory()) {
            throw new ConfigurationException(FileProvider.DIRECTORY + " " + root + " exists and is not a directory");
        }
        Path key;
        try {
            DurableFiles.createDirectories(root);
            key = root.toRealPath();
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot open file store directory " + root + ": " + e, e);
        }
        Object claim = new Object();
        if (OPEN.putIfAbsent(key, claim) != null) {
            throw new StoreUnavailableException("file store directory " + root + " is already open in this process;"
                    + " open it once and take every store from that one factory");
        }
        boolean opened = false;
        try {
            FileStoreFactory factory = open(root, codec, maxEntityBytes, upgrade, key, claim);
            opened = true;
            return factory;
        } finally {
            if (!opened) {
                OPEN.remove(key, claim);
            }
        }
    }

    private static FileStoreFactory open(Path root, EntityCodec codec, long maxEntityBytes, boolean upgrade, Path key, Object claim) {
        FileChannel channel = null;
        try {
            Object identity = identity(root.resolve(LOCK_FILE));
            java.util.Queue<FileChannel> parked = identity == null ? null : PARKED.get(identity);
            channel = parked == null ? null : parked.poll();
            if (channel == null) {
                channel = FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                identity = identity(root.resolve(LOCK_FILE)); // the file just opened, unless it was replaced in between
            }
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                // not a factory (those are in OPEN): other code of this process (another class loader, the application)
                // locked the file, and closing this channel would drop its lock: it is parked for the next open of that file
                if (identity != null) { // none: Windows, where a lock belongs to its handle and closing this one drops no other
                    PARKED.computeIfAbsent(identity, k -> new java.util.concurrent.ConcurrentLinkedQueue<>()).add(channel);
                    channel = null;
                }
                throw new StoreUnavailableException("cannot lock " + root.resolve(LOCK_FILE) + ": other code in this process holds a lock on it");
            }
            if (lock == null) {
                throw new StoreUnavailableException("file store directory " + root + " is in use by another process ("
                        + holder(channel) + " holds " + root.resolve(LOCK_FILE) + "); only one process at a time may"
                        + " open a file store directory");
            }
            byte[] me = ("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(me), 0);
            FileStoreFactory factory = new FileStoreFactory(root, codec, maxEntityBytes, channel, lock, key, claim);
            try {
                factory.recover();
                factory.checkFormat(upgrade);
            } catch (RuntimeException | IOException e) {
                factory.close();
                throw e;
            }
            return factory;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StoreUnavailableException("cannot open file store directory " + root + ": " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(64);
            channel.read(buf, 0);
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
            return text.isEmpty() ? "a process" : text;
        } catch (IOException e) {
            return "a process";
        }
    }

    /** A file's identity ({@code fileKey}), or null when it does not exist or the file system has none. */
    private static Object identity(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the open failed already; that failure is the one to report
            }
        }
    }

    // ---- recovery ----------------------------------------------------------------------------

    /** Rolls committed batches forward, then removes what interrupted writes left behind. */
    private void recover() throws IOException {
        DurableFiles.createDirectories(batches); // flushed into the root also when it existed: once per open
        for (Path journal : sortedChildren(batches)) {
            String name = journal.getFileName().toString();
            if (name.endsWith(JOURNAL_SUFFIX)) {
                rollForward(journal);
            } else {
                Files.deleteIfExists(journal); // a journal never committed: its batch did not happen
            }
        }
        boolean rootChanged = false;
        for (Path dir : sortedChildren(root)) {
            if (dir.getFileName().toString().startsWith(TEMP_PREFIX) && Files.isRegularFile(dir, LinkOption.NOFOLLOW_LINKS)) {
                // the format marker's temporary file, left by a crash while it was written: its next write would meet it
                Files.deleteIfExists(dir);
                rootChanged = true;
                continue;
            }
            if (!isTypeFolderName(dir) || !Files.isDirectory(dir)) {
                continue; // another's folder (lost+found) is none of the provider's business, nor are its files
            }
            boolean removed = false;
            for (Path file : sortedChildren(dir)) {
                String name = file.getFileName().toString();
                if (name.startsWith(TEMP_PREFIX) || name.startsWith(BATCH_TEMP_PREFIX)) {
                    Files.deleteIfExists(file);
                    removed = true;
                }
            }
            if (removed) {
                DurableFiles.syncDirectory(dir);
            }
        }
        if (rootChanged) {
            DurableFiles.syncDirectory(root);
        }
    }

    /**
     * Reads the format marker; a directory without one and without any type folder is new and gets
     * it at once; {@code upgrade} adds a checksum to every document that lacks one, then the marker.
     */
    private void checkFormat(boolean upgrade) throws IOException {
        Path marker = root.resolve(FORMAT_MARKER);
        boolean marked;
        try {
            marked = isThere(marker);
        } catch (IOException e) {
            // taken for absent, it would open the directory as one written before checksums, reading documents without one
            throw new IOException("cannot tell whether the format marker " + marker + " is there: " + e, e);
        }
        if (marked) {
            if (!java.util.Arrays.equals(Files.readAllBytes(marker), FORMAT_MARKER_TEXT)) {
                throw new DataIntegrityException("format marker " + marker + " is not one this version writes ("
                        + new String(FORMAT_MARKER_TEXT, StandardCharsets.US_ASCII).strip() + ")");
            }
            checksumsRequired = true;
            return;
        }
        List<Path> typeDirs = new ArrayList<>();
        for (Path dir : sortedChildren(root)) {
            if (!isTypeFolderName(dir)) {
                continue; // a mounted disk's lost+found does not make a new directory an old one
            }
            // a folder missed here could have the directory taken for a new one and marked, its documents then damage
            BasicFileAttributes attributes = attributesIfThere(dir);
            if (attributes != null && attributes.isDirectory()) {
                typeDirs.add(dir);
            }
        }
        if (!typeDirs.isEmpty() && !upgrade) {
            return; // written before checksums: read as it is until upgraded
        }
        // every document is checked before any is rewritten: a damaged one stops the upgrade with the directory as it was
        for (Path dir : typeDirs) {
            for (Path file : documents(dir)) {
                withChecksum(file);
            }
        }
        for (Path dir : typeDirs) {
            boolean changed = false;
            for (Path file : documents(dir)) {
                byte[] upgraded = withChecksum(file);
                if (upgraded != null) {
                    DurableFiles.replaceAtomically(dir, file, dir.resolve(TEMP_PREFIX + java.util.UUID.randomUUID()), upgraded);
                    changed = true;
                }
            }
            if (changed) {
                DurableFiles.syncDirectory(dir);
            }
        }
        DurableFiles.replaceAtomically(root, marker, root.resolve(TEMP_PREFIX + "format"), FORMAT_MARKER_TEXT);
        checksumsRequired = true;
    }

    private static boolean isTypeFolderName(Path dir) {
        return FileNames.isEncoded(dir.getFileName().toString());
    }

    /** See {@link FileProvider#typeNames(Path)}. */
    static List<String> typeNames(Path root) throws IOException {
        List<String> names = new ArrayList<>();
        for (Path dir : sortedChildren(root)) {
            if (!isTypeFolderName(dir) || !Files.isDirectory(dir)) {
                continue; // a type folder linked to another disk is one, as for the stores
            }
            String name = FileNames.decode(dir.getFileName().toString());
            if (name == null) {
                name = typeOfADocument(dir); // a hashed name: the documents carry the type
            }
            if (name != null) {
                names.add(name);
            }
        }
        names.sort(null);
        return names;
    }

    /**
     * The type the first readable document of a hashed folder names, if that name hashes to the folder's
     * (a misplaced or damaged document names another); null when none does.
     */
    private static String typeOfADocument(Path dir) throws IOException {
        for (Path file : documents(dir)) {
            String type = typeNamedIn(file);
            if (type != null && FileNames.encode(type).equals(dir.getFileName().toString())) {
                return type;
            }
        }
        return null;
    }

    /** The {@code "type"} member of a document, or null when it has none or cannot be read. */
    private static String typeNamedIn(Path file) throws IOException {
        try (JsonParser p = FRAME.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("type")) {
                    return value == JsonToken.VALUE_STRING ? p.getText() : null;
                }
                p.skipChildren();
            }
            return null;
        } catch (JsonProcessingException | java.nio.file.NoSuchFileException | java.io.FileNotFoundException unreadable) {
            return null; // damaged, or deleted since the listing (no lock is taken): another document may tell
        }
    }

    private static List<Path> documents(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path file : sortedChildren(dir)) {
            String name = file.getFileName().toString();
            if (!name.startsWith(".") && name.endsWith(DOC_SUFFIX)) {
                files.add(file);
            }
        }
        return files;
    }

    /** The document of {@code file} with a checksum added, or null when it has a sound one already. */
    private static byte[] withChecksum(Path file) throws IOException {
        byte[] doc = Files.readAllBytes(file);
        if (DocumentChecksum.has(doc)) {
            DocumentChecksum.verify(doc, file);
            return null;
        }
        checkWellFormed(doc, file); // only a well-formed document is vouched for with a checksum
        return DocumentChecksum.append(DocumentChecksum.withoutEnd(doc, file));
    }

    /** Whether every document must carry a checksum (the directory has its format marker). */
    boolean checksumsRequired() {
        return checksumsRequired;
    }

    private static List<Path> sortedChildren(Path dir) throws IOException {
        List<Path> children = list(dir, entry -> true, Integer.MAX_VALUE);
        children.sort(null);
        return children;
    }

    /** Opens a directory's listing; replaced by a test to make reading a listing fail, as a failing disk does. */
    interface DirectoryOpener {
        DirectoryStream<Path> open(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException;
    }

    static volatile DirectoryOpener directoryOpener = Files::newDirectoryStream;

    /**
     * Up to {@code limit} entries of {@code dir} that pass {@code filter}, in the file system's order;
     * none when {@code dir} does not exist. Every listing of the provider goes through here.
     */
    static List<Path> list(Path dir, DirectoryStream.Filter<? super Path> filter, int limit) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = directoryOpener.open(dir, filter)) {
            for (java.util.Iterator<Path> it = stream.iterator(); entries.size() < limit && it.hasNext(); ) {
                entries.add(it.next());
            }
        } catch (NoSuchFileException e) {
            return entries;
        } catch (java.nio.file.DirectoryIteratorException e) {
            // the iterator's unchecked wrapper of a read error: as an IOException it reaches the callers' mapping to
            // StoreUnavailableException instead of escaping as an error that is not a PersistenceException; it names
            // the folder since the callers' messages name only the store or the directory being opened
            throw new IOException("cannot read the listing of " + dir + ": " + e.getCause(), e.getCause());
        }
        return entries;
    }

    /**
     * Checks that {@code doc} is one well-formed JSON object, read token by token: a tree of an entity
     * nested deeper than any limit would take a stack frame per level.
     */
    private static void checkWellFormed(byte[] doc, Path file) {
        String problem;
        try (JsonParser p = FRAME.createParser(doc)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                problem = "not a JSON object";
            } else {
                p.skipChildren();
                problem = p.nextToken() != null ? "more than one JSON value" : null;
            }
        } catch (IOException e) {
            // the parser's own message may quote the document's text: its kind and place name the damage, and it
            // is no cause, which logs would print
            long at = e instanceof JsonProcessingException j && j.getLocation() != null
                    ? j.getLocation().getByteOffset() : -1;
            throw new DataIntegrityException(notUpgradable(file, e.getClass().getSimpleName() + " at byte " + at));
        }
        if (problem != null) {
            throw new DataIntegrityException(notUpgradable(file, problem));
        }
    }

    private static String notUpgradable(Path file, String problem) {
        return "file " + file + " is not a valid document (" + problem + "), so it cannot be given a checksum;"
                + " repair or remove it, then open with " + FileProvider.UPGRADE_FORMAT + "=true again";
    }

    /** Finishes the renames of a committed batch (those not done yet) and removes its journal. */
    void rollForward(Path journal) throws IOException {
        JsonNode node;
        try {
            node = FRAME.readTree(Files.readAllBytes(journal));
        } catch (IOException e) {
            throw new DataIntegrityException("batch journal " + journal + " cannot be read (" + e.getMessage()
                    + "); it was committed, so it is left for inspection rather than guessed at", e);
        }
        if (node == null || node.path("format").asInt() != FORMAT || !node.path("entries").isArray()) {
            throw new DataIntegrityException("batch journal " + journal + " is not a format-" + FORMAT + " journal");
        }
        Set<Path> dirs = new LinkedHashSet<>();
        for (JsonNode e : node.get("entries")) {
            Path dir = root.resolve(plainName(journal, e.path("dir").asText()));
            Path temp = dir.resolve(plainName(journal, e.path("temp").asText()));
            Path target = dir.resolve(plainName(journal, e.path("target").asText()));
            boolean pending;
            try {
                // absent: an earlier roll-forward, stopped before it removed the journal, renamed it already. A failed
                // check is not that: taken for it, the rename would be skipped, the journal removed, and the file then
                // deleted as litter by an open, leaving the batch torn
                pending = isThere(temp);
            } catch (IOException cannotTell) {
                throw new IOException("cannot tell whether " + temp + " of committed batch journal " + journal
                        + " is still to be renamed onto " + target + " (" + cannotTell + "); the journal is kept, and an"
                        + " open of the directory completes the batch", cannotTell);
            }
            if (pending) {
                rollForwardRename.rename(temp, target);
            }
            dirs.add(dir);
        }
        for (Path dir : dirs) {
            DurableFiles.syncDirectory(dir);
        }
        Files.delete(journal);
        DurableFiles.syncDirectory(batches);
    }

    private static String plainName(Path journal, String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")) {
            throw new DataIntegrityException("batch journal " + journal + " names \"" + name + "\", which is not a plain file name");
        }
        return name;
    }

    /** Writes and commits a batch's journal: once this returns, the batch happens even after a crash. */
    Path commitJournal(String batchId, String typeDir, List<String[]> tempAndTarget) throws IOException {
        ObjectNode node = FRAME.createObjectNode();
        node.put("format", FORMAT);
        ArrayNode entries = node.putArray("entries");
        for (String[] pair : tempAndTarget) {
            entries.addObject().put("dir", typeDir).put("temp", pair[0]).put("target", pair[1]);
        }
        Path journal = journal(batchId);
        Path temp = batches.resolve(batchId + JOURNAL_SUFFIX + ".tmp");
        DurableFiles.writeAndRename(journal, temp, FRAME.writeValueAsBytes(node));
        journalFlush.flush(batches); // until this returns, a machine crash or power loss can undo the rename
        return journal;
    }

    /** The flush of {@code .batches} after a journal's rename; replaced by a test to fail it. */
    interface DirectoryFlush {
        void flush(Path dir) throws IOException;
    }

    volatile DirectoryFlush journalFlush = DurableFiles::syncDirectory;

    /** The write of one of a batch's temporary documents; replaced by a test to fail it. */
    interface DocumentWrite {
        void write(Path file, byte[] bytes) throws IOException;
    }

    volatile DocumentWrite batchDocumentWrite = DurableFiles::writeNew;

    /**
     * Reads a file's attributes ({@code NoSuchFileException}: it is absent); replaced by a test to fail it, as a
     * failing disk does. Static, since roll-forward also runs inside an open, before a test could reach the factory.
     */
    interface FileStat {
        BasicFileAttributes stat(Path file) throws IOException;
    }

    static volatile FileStat fileStat = file -> Files.readAttributes(file, BasicFileAttributes.class);

    Path journal(String batchId) {
        return batches.resolve(batchId + JOURNAL_SUFFIX);
    }

    /** Whether {@code file} is there: false only when it is absent; an IOException when looking failed, so that cannot be told. */
    static boolean isThere(Path file) throws IOException {
        return attributesIfThere(file) != null;
    }

    /**
     * The attributes of {@code file} (links followed): null only when it is absent; an IOException when looking failed.
     * {@code Files.exists}, {@code isDirectory} and {@code isRegularFile} answer false then, as if it were absent.
     */
    static BasicFileAttributes attributesIfThere(Path file) throws IOException {
        try {
            return fileStat.stat(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Whether {@code journal} is there; {@code null} when that cannot be told, because looking failed. */
    Boolean journalThere(Path journal) {
        try {
            return isThere(journal);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Stops writes after a batch was left committed but not (or not known to be) applied: a later
     * write of one of its entities would be overwritten by the batch when the next open rolls it
     * forward. Reads go on; closing and opening the factory again finishes the batch.
     */
    void stopWrites(String because) {
        if (writesStoppedBecause == null) {
            writesStoppedBecause = because;
        }
    }

    /** @throws PersistenceException writes stopped (see {@link #stopWrites}) */
    void requireWritable(String what) {
        String because = writesStoppedBecause;
        if (because != null) {
            throw new PersistenceException(what + " was refused: file store " + root + " stopped accepting writes after " + because
                    + "; close the factory and open it again (the open finishes that batch)");
        }
    }

    String nextBatchId() {
        return Long.toHexString(System.currentTimeMillis()) + "-" + Long.toHexString(batchCounter.incrementAndGet())
                + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
    }

    // ---- shared state for the stores -----------------------------------------------------------

    Path root() {
        return root;
    }

    /**
     * The folder of a type, made durable in the root once per factory before any write in it
     * returns: also when it existed (an earlier process may have crashed before flushing its entry),
     * and under a lock, so that a thread finding the folder another one just made waits for that
     * flush rather than acknowledge a save whose folder a power loss could still take.
     */
    Path typeDir(String typeName) throws IOException {
        Path dir = root.resolve(FileNames.encode(typeName));
        if (!createdTypeDirs.contains(dir)) {
            synchronized (createdTypeDirs) {
                if (!createdTypeDirs.contains(dir)) {
                    try {
                        Files.createDirectory(dir);
                    } catch (FileAlreadyExistsException existing) {
                        // made before: flushed below all the same
                    }
                    DurableFiles.syncDirectory(root);
                    if (!isThere(dir.resolve(CODEC_FILE))) { // a failed look is not "none": the save fails, the next one looks again
                        DurableFiles.replaceAtomically(dir, dir.resolve(CODEC_FILE), dir.resolve(TEMP_PREFIX + UUID.randomUUID()),
                                (codec.id() + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                    createdTypeDirs.add(dir); // only once flushed: a failed flush is tried again by the next write
                }
            }
        }
        return dir;
    }

    ReentrantLock stripe(String typeName, String id) {
        return stripes[stripeIndex(typeName, id)];
    }

    private static int stripeIndex(String typeName, String id) {
        int h = typeName.hashCode() * 31 + id.hashCode();
        return (h ^ (h >>> 16)) & (STRIPES - 1);
    }

    /** The stripes of the ids, in index order (so two batches never lock in opposite orders), locked. */
    List<ReentrantLock> lockStripes(String typeName, Collection<String> ids) {
        TreeSet<Integer> indexes = new TreeSet<>();
        for (String id : ids) {
            indexes.add(stripeIndex(typeName, id));
        }
        List<ReentrantLock> locked = new ArrayList<>(indexes.size());
        for (int i : indexes) {
            stripes[i].lock();
            locked.add(stripes[i]);
        }
        return locked;
    }

    List<ReentrantLock> lockAllStripes() {
        for (ReentrantLock s : stripes) {
            s.lock();
        }
        return List.of(stripes);
    }

    static void unlock(List<ReentrantLock> locks) {
        for (int i = locks.size() - 1; i >= 0; i--) {
            locks.get(i).unlock();
        }
    }

    /** Runs a store call unless the factory is closed; close waits for calls in flight. */
    <R> R call(String what, Supplier<R> body) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new StoreClosedException(what);
            }
            return body.get();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public String providerName() {
        return FileProvider.NAME;
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        EntityIds.requireValidTypeName(typeName);
        if (closed) {
            throw new StoreClosedException(toString());
        }
        Path dir = root.resolve(FileNames.encode(typeName));
        checkCodec(typeName, dir);
        return new FileStore<>(this, typeName, dir,
                new EntityBytes<>(typeName, codec.forType(type), maxEntityBytes), codec.isJson(), async);
    }

    private static boolean holdsDocuments(Path dir) throws IOException {
        try {
            return !list(dir, f -> {
                String name = f.getFileName().toString();
                return name.endsWith(DOC_SUFFIX) && !name.startsWith(".");
            }, 1).isEmpty();
        } catch (java.nio.file.NotDirectoryException absent) {
            return false;
        }
    }

    /** Refuses to open a type whose documents another codec wrote: they would be misread, not read. */
    private void checkCodec(String typeName, Path dir) {
        String written;
        try {
            Path file = dir.resolve(CODEC_FILE);
            if (isThere(file)) { // a failed look taken for absent would have another codec's documents read as jackson-json's
                written = Files.readString(file, StandardCharsets.UTF_8).strip();
            } else if (holdsDocuments(dir)) {
                written = JacksonEntityCodec.ID; // the only codec before codec ids were recorded
            } else {
                return; // new, or left by a first save that failed before its codec was recorded: nothing to misread
            }
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot read the codec id of type " + typeName + " in " + dir + ": " + e, e);
        }
        if (!written.equals(codec.id())) {
            throw new CodecMismatchException(written, codec.id(), "type " + typeName + " in " + dir + " was written with codec \""
                    + written + "\", but this factory encodes with \"" + codec.id() + "\"; open it with the codec it was written with");
        }
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
        async.shutdown();
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        } finally {
            closeQuietly(lockChannel);
            OPEN.remove(openKey, openClaim); // after the lock: a new factory of this process may open the file now
        }
    }

    @Override
    public String toString() {
        return "file store factory on " + root;
    }
}
