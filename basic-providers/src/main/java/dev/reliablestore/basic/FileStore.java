package dev.reliablestore.basic;

import dev.reliablestore.spi.DurableFiles;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A store of the file provider (see {@link FileProvider}). A document is
 * {@code {"format":1,"type":…,"id":…,"version":…,"entity":{…}}}; reads need no lock because a
 * document is only ever replaced by an atomic rename.
 */
final class FileStore<T> extends AbstractEntityStore<T> {

    private final FileStoreFactory factory;
    private final Path dir;
    private final EntityBytes<T> codec;
    private final boolean jsonCodec;

    FileStore(FileStoreFactory factory, String typeName, Path dir, EntityBytes<T> codec, boolean jsonCodec, Executor async) {
        super(typeName, async);
        this.factory = factory;
        this.dir = dir;
        this.codec = codec;
        this.jsonCodec = jsonCodec;
    }

    private record Document(String id, long version, byte[] entity, Path file) {
    }

    private Path file(String id) {
        return dir.resolve(FileNames.encode(id) + FileStoreFactory.DOC_SUFFIX);
    }

    // ---- reading -----------------------------------------------------------------------------

    /** The document of the id, or null; checks that the file really holds this type and id. */
    private Document read(String id) throws IOException {
        Document doc = read(file(id));
        if (doc != null && !doc.id().equals(id)) {
            throw new DataIntegrityException("file " + doc.file() + " should hold " + typeName() + "/" + id
                    + " but holds id \"" + doc.id() + "\"");
        }
        return doc;
    }

    private Document read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (DocumentChecksum.has(bytes)) {
            DocumentChecksum.verify(bytes, file);
        } else if (factory.checksumsRequired()) {
            throw new DataIntegrityException("file " + file + " has no CRC32C, but every document of this directory"
                    + " has one since it was created or upgraded (" + FileStoreFactory.FORMAT_MARKER + "): it is damaged"
                    + " or was written by something else");
        }
        int format = -1;
        String type = null;
        String id = null;
        long version = -1;
        byte[] entity = null;
        // streamed rather than read as a tree, so that the entity's bytes reach its codec untouched
        // (a tree turns 12.30 into 12.3, and 1E+400 into an infinite double)
        try (JsonParser p = FileStoreFactory.FRAME.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new DataIntegrityException("file " + file + " is not a valid document (empty or not a JSON object)");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "format" -> format = value == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : -1;
                    case "type" -> type = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "id" -> id = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "version" -> version = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
                    case "entity" -> {
                        int from = (int) p.currentTokenLocation().getByteOffset();
                        p.skipChildren();
                        p.finishToken(); // a string's end is not read until asked: without this its copy is one quote
                        entity = Arrays.copyOfRange(bytes, from, (int) p.currentLocation().getByteOffset());
                    }
                    case "entityBase64" -> entity = value == JsonToken.VALUE_STRING ? p.getBinaryValue() : null;
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new DataIntegrityException("file " + file + " is not a valid document (not one JSON object)");
            }
        } catch (JsonProcessingException e) {
            // no cause: Jackson's message may quote the document's text (an entity's content) into logs
            long at = e.getLocation() == null ? -1 : e.getLocation().getByteOffset();
            throw new DataIntegrityException("file " + file + " is not a valid document ("
                    + e.getClass().getSimpleName() + " at byte " + at + ")");
        }
        if (format != FileStoreFactory.FORMAT) {
            throw new DataIntegrityException("file " + file + " has document format " + format
                    + "; this version reads format " + FileStoreFactory.FORMAT);
        }
        if (!typeName().equals(type)) {
            throw new DataIntegrityException("file " + file + " should hold type " + typeName() + " but holds type " + type);
        }
        if (version < 1 || id == null || entity == null) {
            throw new DataIntegrityException("file " + file + " lacks a valid id, version (" + version + ") or entity");
        }
        return new Document(id, version, entity, file);
    }

    private Versioned<T> decode(Document doc) {
        return new Versioned<>(doc.id(), codec.decode(doc.id(), doc.entity(), "file " + doc.file()), doc.version());
    }

    private List<Path> documents() throws IOException {
        return FileStoreFactory.list(dir, p -> {
            String name = p.getFileName().toString();
            return !name.startsWith(".") && name.endsWith(FileStoreFactory.DOC_SUFFIX);
        }, Integer.MAX_VALUE);
    }

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        return io("read", id, () -> Optional.ofNullable(read(id)).map(this::decode));
    }

    /** Whether the document's file is there: it is not read, so a damaged one exists (its get fails). */
    @Override
    protected boolean doExists(String id) {
        return io("check", id, () -> {
            // Files.isRegularFile answers false when looking fails: an entity that is there would read as absent
            BasicFileAttributes attributes = FileStoreFactory.attributesIfThere(file(id));
            return attributes != null && attributes.isRegularFile();
        });
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        return io("list", null, () -> {
            List<Versioned<T>> all = new ArrayList<>();
            for (Path file : documents()) {
                Document doc = read(file);
                if (doc == null) {
                    continue; // deleted since the listing
                }
                if (!file(doc.id()).getFileName().equals(file.getFileName())) {
                    // a copy under another name (a file restored or copied by hand) would be listed twice
                    throw new DataIntegrityException("file " + file + " should hold the entity its name says but holds id \""
                            + doc.id() + "\", whose file is " + file(doc.id()).getFileName());
                }
                Versioned<T> v = decode(doc);
                if (filter == null || filter.test(v.value())) {
                    all.add(v);
                }
            }
            all.sort(Comparator.comparing(Versioned::id));
            return all;
        });
    }

    @Override
    protected long doCount(Predicate<? super T> filter) {
        if (filter != null) {
            return super.doCount(filter);
        }
        return io("count", null, () -> (long) documents().size());
    }

    // ---- writing -----------------------------------------------------------------------------

    private byte[] document(String id, long version, byte[] entityJson) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(entityJson.length + 128);
        out.write(("{\"format\":" + FileStoreFactory.FORMAT + ",\"type\":").getBytes(StandardCharsets.US_ASCII));
        out.write(FileStoreFactory.FRAME.writeValueAsBytes(typeName()));
        out.write(",\"id\":".getBytes(StandardCharsets.US_ASCII));
        out.write(FileStoreFactory.FRAME.writeValueAsBytes(id));
        out.write((",\"version\":" + version).getBytes(StandardCharsets.US_ASCII));
        if (jsonCodec && FileStoreFactory.isStandardJson(entityJson)) {
            out.write(",\"entity\":".getBytes(StandardCharsets.US_ASCII));
            out.write(entityJson);
        } else {
            out.write(",\"entityBase64\":".getBytes(StandardCharsets.US_ASCII));
            out.write(FileStoreFactory.FRAME.writeValueAsBytes(entityJson));
        }
        return DocumentChecksum.append(out.toByteArray());
    }

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        return saveEncoded(id, codec.encode(id, entity), expectedVersion); // size checked before any lock or I/O
    }

    @Override
    protected LongSupplier takeForSave(String id, T entity, long expectedVersion) {
        byte[] json = codec.encode(id, entity); // on the caller's thread: a later change of its object is not saved
        return () -> saveEncoded(id, json, expectedVersion);
    }

    private long saveEncoded(String id, byte[] json, long expectedVersion) {
        ReentrantLock stripe = factory.stripe(typeName(), id);
        return io("save", id, () -> {
            stripe.lock();
            try {
                factory.requireWritable("save of " + typeName() + "/" + id);
                Document current = read(id);
                long actual = current == null ? Versioned.ABSENT : current.version();
                if (expectedVersion != ANY_VERSION && expectedVersion != actual) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, actual);
                }
                Path typeDir = factory.typeDir(typeName());
                DurableFiles.writeAndRename(file(id), typeDir.resolve(FileStoreFactory.TEMP_PREFIX + UUID.randomUUID()),
                        document(id, actual + 1, json));
                flushApplied("save of " + typeName() + "/" + id, typeDir);
                return actual + 1;
            } finally {
                stripe.unlock();
            }
        });
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        ReentrantLock stripe = factory.stripe(typeName(), id);
        return io("delete", id, () -> {
            stripe.lock();
            try {
                factory.requireWritable("delete of " + typeName() + "/" + id);
                Document current = read(id);
                long actual = current == null ? Versioned.ABSENT : current.version();
                if (expectedVersion != ANY_VERSION && expectedVersion != actual) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, actual);
                }
                if (current == null) {
                    return false;
                }
                Files.delete(current.file());
                flushApplied("delete of " + typeName() + "/" + id, dir);
                return true;
            } finally {
                stripe.unlock();
            }
        });
    }

    @Override
    protected long doClear() {
        return io("clear", null, () -> {
            List<ReentrantLock> locks = factory.lockAllStripes();
            try {
                factory.requireWritable("clear of " + typeName());
                long removed = 0;
                try {
                    for (Path file : documents()) {
                        if (Files.deleteIfExists(file)) {
                            removed++;
                        }
                    }
                } catch (IOException e) {
                    if (removed == 0) {
                        throw e;
                    }
                    // readers no longer see what went: flushed, a crash does not bring it back
                    IOException flushFailed = null;
                    try {
                        DurableFiles.syncDirectory(dir);
                    } catch (IOException again) {
                        flushFailed = again;
                    }
                    StoreUnavailableException failed = new StoreUnavailableException("file store " + typeName() + ": clear removed "
                            + removed + " " + typeName() + " entities in " + dir + " and then failed: " + e + "; the others are still there; "
                            + (flushFailed == null ? "the removals are flushed to the disk"
                                    : "flushing the removals to the disk failed too (" + flushFailed + "), so a crash may bring some back"),
                            e, true);
                    if (flushFailed != null) {
                        failed.addSuppressed(flushFailed);
                    }
                    throw failed;
                }
                if (removed > 0) {
                    flushApplied("clear of " + removed + " " + typeName() + " entities", dir);
                }
                return removed;
            } finally {
                FileStoreFactory.unlock(locks);
            }
        });
    }

    /**
     * The batch protocol: (1) every document is written to a {@code .batch-} temporary file and
     * flushed, and the folder is flushed; (2) the journal naming each temporary file and its
     * target is written, renamed into {@code .batches} atomically and that folder flushed — the
     * commit point (for a crash of the process, the rename alone is); (3) the temporary files are
     * renamed onto their targets; (4) the journal is removed. A crash before (2) leaves only
     * temporary files, removed on open; a crash after it is rolled forward on open.
     */
    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        return saveEncodedBatch(encode(entities)); // size checks first
    }

    @Override
    protected Supplier<Map<String, Long>> takeForBatch(Map<String, T> entities) {
        Map<String, byte[]> encoded = encode(entities); // on the caller's thread, as takeForSave
        return () -> saveEncodedBatch(encoded);
    }

    private Map<String, byte[]> encode(Map<String, T> entities) {
        Map<String, byte[]> encoded = new LinkedHashMap<>();
        entities.forEach((id, e) -> encoded.put(id, codec.encode(id, e)));
        return encoded;
    }

    private Map<String, Long> saveEncodedBatch(Map<String, byte[]> encoded) {
        return io("save a batch of " + encoded.size() + " entities", null, () -> {
            List<ReentrantLock> locks = factory.lockStripes(typeName(), encoded.keySet());
            try {
                factory.requireWritable("save of a batch of " + encoded.size() + " " + typeName() + " entities");
                Path typeDir = factory.typeDir(typeName());
                String batchId = factory.nextBatchId();
                Map<String, Long> versions = new LinkedHashMap<>();
                List<String[]> renames = new ArrayList<>();
                List<Path> temps = new ArrayList<>();
                Path journal;
                boolean committing = false;
                // made before the journal's step: after an Error there, making them may fail as it did
                String mayHaveCommitted = mayHaveRenamedReason(encoded.size(), factory.journal(batchId));
                String notApplied = notAppliedReason(encoded.size(), factory.journal(batchId));
                try {
                    int n = 0;
                    for (Map.Entry<String, byte[]> e : encoded.entrySet()) {
                        Document current = read(e.getKey());
                        long version = (current == null ? Versioned.ABSENT : current.version()) + 1;
                        String tempName = FileStoreFactory.BATCH_TEMP_PREFIX + batchId + "-" + n++;
                        Path temp = typeDir.resolve(tempName);
                        temps.add(temp);
                        factory.batchDocumentWrite.write(temp, document(e.getKey(), version, e.getValue()));
                        renames.add(new String[] {tempName, file(e.getKey()).getFileName().toString()});
                        versions.put(e.getKey(), version);
                    }
                    DurableFiles.syncDirectory(typeDir);
                    committing = true; // from here on the journal may be renamed into place, and the batch then may happen
                    journal = factory.commitJournal(batchId, typeDir.getFileName().toString(), renames);
                } catch (IOException | RuntimeException e) {
                    if (committing) {
                        Path renamed = factory.journal(batchId);
                        Boolean there = factory.journalThere(renamed);
                        if (there == null || there) { // there, or it cannot be told: the rename may have happened
                            throw renamedNotFlushed(encoded.size(), renamed, there != null, e);
                        }
                    }
                    for (Path temp : temps) {
                        Files.deleteIfExists(temp);
                    }
                    throw e;
                } catch (Error e) {
                    if (committing) {
                        // not looked into further (that may fail as well): the batch may happen, and a later write of one
                        // of its entities would be overwritten by it at the next open
                        throw stopWritesAfter(e, mayHaveCommitted);
                    }
                    throw e; // no journal, so the batch did not happen: the next open removes its temporary files
                }
                try {
                    factory.rollForward(journal);
                } catch (IOException | RuntimeException e) {
                    throw committedNotApplied(encoded.size(), journal, e);
                } catch (Error e) {
                    throw stopWritesAfter(e, notApplied);
                }
                return versions;
            } finally {
                FileStoreFactory.unlock(locks);
            }
        });
    }

    // ---- plumbing ----------------------------------------------------------------------------

    private String notAppliedReason(int entities, Path journal) {
        return "a batch of " + entities + " " + typeName() + " entities committed (journal " + journal + ") but not applied";
    }

    private String mayHaveRenamedReason(int entities, Path journal) {
        return "a batch of " + entities + " " + typeName() + " entities whose journal " + journal + " may have been renamed into place";
    }

    /**
     * Stops writes after an Error past a batch's journal step, and returns it to be thrown as it is. The
     * reason was made beforehand: if adding the Error to it fails (out of memory again), it is used alone.
     */
    private Error stopWritesAfter(Error e, String reason) {
        try {
            factory.stopWrites(reason + " when " + e + " was thrown");
        } catch (Error again) {
            factory.stopWrites(reason);
        }
        return e;
    }

    /** A batch past its commit point and not applied: writes stop until reopening, which finishes it. */
    private PersistenceException committedNotApplied(int entities, Path journal, Exception e) {
        factory.stopWrites(notAppliedReason(entities, journal));
        return new PersistenceException("the batch of " + entities + " " + typeName() + " entities is committed (journal " + journal
                + ") but applying it failed: " + e + "; it is completed when the directory is next opened, and until then this factory"
                + " refuses writes (a later write of one of its entities would be overwritten then)", e, true);
    }

    /**
     * A batch whose journal was renamed into place (or may have been) without its folder being flushed.
     * The next open finishes it only if the rename is still there by then, which a machine crash or a
     * power loss before that open can undo (closing the factory flushes nothing): it is not committed,
     * and its outcome is known only by reading.
     */
    private PersistenceException renamedNotFlushed(int entities, Path journal, boolean renamed, Exception e) {
        String batch = "batch of " + entities + " " + typeName() + " entities";
        factory.stopWrites(renamed ? "a " + batch + " whose journal " + journal + " was renamed into place but not flushed"
                : mayHaveRenamedReason(entities, journal) + " (whether it is there cannot be told)");
        return new PersistenceException("the " + batch + " may or may not happen: its journal " + journal
                + (renamed ? " was renamed into place but its directory could not be flushed: "
                        : " may have been renamed into place (whether it is there cannot be told), and then this failed: ") + e
                + ". The next open of the directory completes the batch if the rename is still there by then: closing this factory"
                + " or a crash of this process does not undo it, but nothing flushes it before that open (closing does not), so a"
                + " crash of the machine or a power loss before the next open may take it, and the batch is then lost."
                + " Until the directory is opened again this factory refuses writes (a later write of one of its entities would be"
                + " overwritten then); open it again and read the batch's entities to learn whether it happened", e, true);
    }

    /**
     * Flushes a directory after a change that reads already see. If that fails the change is not
     * undone (readers may have seen it) but may not survive a crash: the error says so, with
     * {@code outcomeUnknown()} true, rather than reading as "not written".
     */
    private void flushApplied(String change, Path directory) {
        try {
            DurableFiles.syncDirectory(directory);
        } catch (IOException e) {
            throw new StoreUnavailableException("file store " + typeName() + ": the " + change + " is applied (reads see it) but"
                    + " flushing " + directory + " to the disk failed: " + e + "; it may not survive a crash", e, true);
        }
    }

    private interface IoCall<R> {
        R call() throws IOException;
    }

    private <R> R io(String what, String id, IoCall<R> body) {
        return factory.call(describe(), () -> {
            try {
                return body.call();
            } catch (IOException e) {
                throw new StoreUnavailableException("file store " + typeName() + ": cannot " + what
                        + (id == null ? "" : " " + typeName() + "/" + id) + " in " + dir + ": " + e, e);
            } catch (UncheckedIOException e) {
                throw new StoreUnavailableException("file store " + typeName() + ": cannot " + what + " in " + dir
                        + ": " + e.getCause(), e.getCause());
            }
        });
    }

    @Override
    protected boolean isOwnerClosed() {
        return factory.isClosed();
    }

    @Override
    protected void doClose() {
        // the files and locks belong to the factory
    }

    @Override
    protected String describe() {
        return "file store " + typeName() + " in " + factory.root();
    }

    @Override
    public String toString() {
        return describe();
    }
}
